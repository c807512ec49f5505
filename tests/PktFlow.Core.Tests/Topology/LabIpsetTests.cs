using PktFlow.Topology.Lab;
using PktFlow.Tests.Topology.Snapshot;

namespace PktFlow.Tests.Topology;

/// <summary>ipset in lab scripts and snapshots: the namespace's sets, and the lines ipset and iptables refuse.</summary>
public class LabIpsetTests
{
    private const string Restore = """
        ip netns add c
        ip netns exec c ipset restore <<'EOF'
        create allow hash:net family inet hashsize 1024 maxelem 65536
        add allow 10.0.0.0/24
        add allow 10.0.0.0/30 nomatch
        EOF
        ip netns exec c ipset create svc hash:ip,port comment
        ip netns exec c ipset add svc 10.0.0.2,udp:53 comment "dns"
        """;

    [Fact]
    public void SetsArePerNamespace()
    {
        var t = LabLoader.Load(Restore, "lab.sh");
        var c = t.Namespace("c")!;
        Assert.Equal(["allow", "svc"], c.IpSets.Select(s => s.Name));
        Assert.Equal(2, c.IpSets[0].Elements.Count);
        Assert.Equal("dns", c.IpSets[1].Elements.Single().Comment);
        Assert.Empty(t.Host.IpSets);
        Assert.DoesNotContain(t.Warnings, w => w.Contains("ipset"));
    }

    [Fact]
    public void ARestoreErrorNamesTheLineOfTheHereDocument()
    {
        var e = Assert.Throws<LabException>(() => LabLoader.Load(Restore.Replace("add allow 10.0.0.0/30 nomatch", "add allow 10.0.0.0/24"), "lab.sh"));
        Assert.Equal(5, e.Line);
        Assert.Contains("Error in line 3: Element cannot be added to the set: it's already added", e.Message);
    }

    [Fact]
    public void ARuleNamingASetOfAnotherNamespaceIsRefusedAtItsLine()
    {
        var lab = Restore + "\niptables -A FORWARD -m set --match-set allow src -j ACCEPT\n";
        var e = Assert.Throws<LabException>(() => LabLoader.Load(lab, "lab.sh"));
        Assert.Equal(9, e.Line);
        Assert.Contains("Set allow doesn't exist.", e.Message);
        var ok = LabLoader.Load(Restore + "\nip netns exec c iptables -A FORWARD -m set --match-set allow src -j ACCEPT\n", "lab.sh");
        Assert.Contains(ok.Namespace("c")!.Nft!.AllRules, r => r.Text.StartsWith("xt match set") && r.Unsupported is null);
    }

    [Fact]
    public void JumpToSetIsNamedUnsupported()
    {
        var lab = Restore + "\nip netns exec c iptables -A FORWARD -j SET --add-set allow src\n";
        // refused by default, naming the line; kept and marked unsupported with -AllowUnsupported
        var e = Assert.Throws<LabException>(() => LabLoader.Load(lab, "lab.sh"));
        Assert.Contains("unsupported: -j SET", e.Message);
        var t = LabLoader.Load(lab, "lab.sh", new PktFlow.Topology.TopologyLoadOptions { AllowUnsupported = true });
        Assert.Contains(t.Namespace("c")!.Nft!.AllRules, r => r.Unsupported?.Contains("unsupported: -j SET") == true);
    }

    [Fact]
    public void ASnapshotReadsIpsetSave()
    {
        using var s = new TempSnapshot();
        s.Write("pfsnap-c/ipset.txt", """
            create allow hash:net family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x6c34424a
            add allow 10.0.0.0/8
            add allow 10.1.0.0/16 nomatch
            create names list:set size 8
            add names allow

            """);
        var c = s.Load().Namespace("pfsnap-c")!;
        Assert.Equal(-1, c.IpSets.Single().Test(PktFlow.Wire.IpAddr.Parse("10.1.2.3"), 0, 0, default));
        Assert.Contains("pfsnap-c/ipset.txt:4: create names list:set size 8 (unsupported: ipset type 'list:set'", string.Join("\n", c.Unmodelled));
        Assert.DoesNotContain(c.Unmodelled, l => l.Contains("ipset.txt:5"));
    }

    [Fact]
    public void ASnapshotSetHalfLoadedIsLeftOut()
    {
        using var s = new TempSnapshot();
        s.Write("pfsnap-c/ipset.txt", """
            create allow hash:ip family inet hashsize 1024 maxelem 65536
            add allow 10.0.0.1
            add allow 10.0.0.2 skbmark 0x1
            add allow 10.0.0.3
            create other hash:ip family inet
            add other 10.0.0.9

            """);
        var c = s.Load().Namespace("pfsnap-c")!;
        Assert.Equal("other", c.IpSets.Single().Name); // not a set holding 10.0.0.1 only
        Assert.Contains(c.Unmodelled, l => l.StartsWith("pfsnap-c/ipset.txt:3: add allow 10.0.0.2 skbmark 0x1 (", StringComparison.Ordinal));
    }
}
