using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Netfilter;
using PktFlow.Testing;
using static PktFlow.Tests.Netfilter.Conntrack.CtPackets;

namespace PktFlow.Tests.Judge;

public class ConntrackJudgeTests
{
    private const string Udp5000 = "src=10.99.1.1 dst=10.99.2.1 sport=5000 dport=53";
    private const string Udp5000R = "src=10.99.2.1 dst=10.99.1.1 sport=53 dport=5000";

    private static List<ConntrackListing> ModelWith(params byte[][] packets) => ModelWith(false, packets);

    private static List<ConntrackListing> ModelWith(bool acct, params byte[][] packets)
    {
        var st = new NamespaceState(name: "host", conntrack: new PktFlow.Netfilter.Conntrack.ConntrackSettings { Acct = acct });
        foreach (var p in packets) st.Conntrack.Pass(p, Sec(1));
        return NfStateListing.Conntrack(st).ToList();
    }

    private static KernelConntrack Kernel(string original, string reply, uint mark = 0, string proto = "udp", params string[] flags) =>
        new("host", proto, null, original, reply, flags.Length == 0 ? ["UNREPLIED"] : flags, mark);

    [Fact]
    public void AnEntryOnBothSidesAgrees()
    {
        var j = ConntrackJudge.Compare([Kernel(Udp5000, Udp5000R)], ModelWith(Udp(A, C, 5000, 53)), new HashSet<string>());
        Assert.Equal((1, 1), (j.Agreed, j.Total));
        Assert.Empty(j.Differences);
    }

    [Fact]
    public void AKernelEntryWhosePacketsAreOnTheCaptureIsJudgedEvenWhenTheModelLacksIt()
    {
        var onWire = new HashSet<string> { "udp " + Udp5000R };
        var j = ConntrackJudge.Compare([Kernel(Udp5000, Udp5000R)], ModelWith(), onWire);
        Assert.Equal((0, 1), (j.Agreed, j.Total));
        Assert.Contains("not in the model's table", Assert.Single(j.Differences));
        Assert.Empty(j.NotJudged);
    }

    [Fact]
    public void AKernelEntryWithNoPacketOnTheCaptureIsNotJudged()
    {
        var igmp = Kernel("src=172.17.0.1 dst=224.0.0.22", "src=224.0.0.22 dst=172.17.0.1", proto: "unknown");
        var j = ConntrackJudge.Compare([igmp], ModelWith(), new HashSet<string> { "udp " + Udp5000 });
        Assert.Equal((0, 0), (j.Agreed, j.Total));
        Assert.Empty(j.Differences);
        Assert.Contains("no packet of it crossed the capture point", Assert.Single(j.NotJudged));
    }

    [Fact]
    public void ModelOnlyEntriesAreAlwaysJudged()
    {
        var j = ConntrackJudge.Compare([], ModelWith(Udp(A, C, 5000, 53)), new HashSet<string>());
        Assert.Equal((0, 1), (j.Agreed, j.Total));
        Assert.Contains("only in the model's table", Assert.Single(j.Differences));
    }

    [Fact]
    public void MarkAndZoneAreCompared()
    {
        var marked = ConntrackJudge.Compare([Kernel(Udp5000, Udp5000R, mark: 7)], ModelWith(Udp(A, C, 5000, 53)));
        Assert.Contains("mark kernel 7, model 0", Assert.Single(marked.Differences));
        var zoned = ConntrackJudge.Compare([Kernel(Udp5000, Udp5000R) with { Zone = 3 }], ModelWith(Udp(A, C, 5000, 53)));
        Assert.Equal(0, zoned.Agreed);
        Assert.Equal(2, zoned.Differences.Count); // zone 3 only in the kernel, zone 0 only in the model
    }

    [Fact]
    public void AccountingIsComparedWhereEitherSideListsIt()
    {
        var udp = Udp(A, C, 5000, 53); // 20 + 8 + 4 bytes
        var counted = Kernel(Udp5000, Udp5000R) with { Acct = new KernelCtAcct(2, 64, 0, 0) };
        Assert.Equal(1, ConntrackJudge.Compare([counted], ModelWith(true, udp, udp)).Agreed);
        Assert.Contains("accounting kernel packets=2 bytes=64 / packets=0 bytes=0, model packets=1 bytes=32 / packets=0 bytes=0",
            Assert.Single(ConntrackJudge.Compare([counted], ModelWith(true, udp)).Differences));
        Assert.Contains("accounting kernel packets=2 bytes=64 / packets=0 bytes=0, model none", Assert.Single(ConntrackJudge.Compare([counted], ModelWith(false, udp, udp)).Differences));
        Assert.Contains("accounting kernel none, model", Assert.Single(ConntrackJudge.Compare([Kernel(Udp5000, Udp5000R)], ModelWith(true, udp)).Differences));
    }

    [Fact]
    public void TheModelIsAgedToWhenTheKernelListedItsTable()
    {
        // the model's UDP entry is made at 1 s (30 s unreplied: it expires at 31 s)
        var listed = new Dictionary<string, long> { ["host"] = Sec(20.5) };
        var agrees = ConntrackJudge.Compare([Kernel(Udp5000, Udp5000R) with { Timeout = 10 }], ModelWith(Udp(A, C, 5000, 53)), null, listed);
        Assert.Equal(1, agrees.Agreed);
        var differs = ConntrackJudge.Compare([Kernel(Udp5000, Udp5000R) with { Timeout = 100 }], ModelWith(Udp(A, C, 5000, 53)), null, listed);
        Assert.Contains("timeout kernel 100 s, model 10 s", Assert.Single(differs.Differences));
        // listed after the entry expired: the model holds nothing any more, as the kernel would not
        var gone = ConntrackJudge.Compare([], ModelWith(Udp(A, C, 5000, 53)), null, new Dictionary<string, long> { ["host"] = Sec(31.5) });
        Assert.Equal((0, 0), (gone.Agreed, gone.Total));
        // under a second left: conntrack -L prints timeout 0 for an entry that has not expired yet (the
        // dump leaves out expired ones: iptables-ct-zone-mark's first zone-orig entry), and it is judged
        var last = ConntrackJudge.Compare([Kernel(Udp5000, Udp5000R) with { Timeout = 0 }], ModelWith(Udp(A, C, 5000, 53)), null, new Dictionary<string, long> { ["host"] = Sec(30.4) });
        Assert.Equal((1, 1), (last.Agreed, last.Total));
        // a recording without the moment of the listing compares no timeouts
        Assert.Equal(1, ConntrackJudge.Compare([Kernel(Udp5000, Udp5000R) with { Timeout = 100 }], ModelWith(Udp(A, C, 5000, 53))).Agreed);
    }

    [Fact]
    public void TheCaptureGivesTheTuplesOfBothDirectionsAfterNat()
    {
        // nat-port-collision is captured outside the masquerade: every kernel entry's reply tuple (to the
        // NAT address, with the port or identifier the kernel picked for the colliding flows) is on the
        // capture, even for UDP that was never answered; the senders' own addresses are not
        var dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", "nat-port-collision");
        var tuples = ConntrackJudge.TuplesOnWire(Path.Combine(dir, "wire.pcap"));
        var nated = KernelRecord.Load(Path.Combine(dir, "kernel.json")).Conntrack.Where(k => k.Proto is "udp" or "icmp").ToList();
        Assert.Equal(4, nated.Count);
        Assert.All(nated, k => Assert.Contains($"{k.Proto} {k.Reply}", tuples));
        Assert.Contains(nated, k => k.Proto == "udp" && !k.Reply.Contains("dport=5000")); // a remapped port among them
        Assert.DoesNotContain(tuples, t => t.Contains("10.1.0.10"));
    }
}
