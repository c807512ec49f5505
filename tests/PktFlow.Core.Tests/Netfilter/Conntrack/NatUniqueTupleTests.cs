using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// get_unique_tuple / nf_nat_l4proto_unique_tuple: masquerade keeps the port while the reply tuple is
/// unused; a colliding flow gets a random port from the kernel's range (drawn from the replay's seed).
/// The lab is tests/scenarios/nat-port-collision's router; frames are injected on its LAN ports.
/// </summary>
public class NatUniqueTupleTests
{
    private static string Lab(string masquerade = "masquerade") => File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "scenarios", "nat-port-collision", "lab.sh"))
        .Replace("oifname \"wan0\" masquerade", $"oifname \"wan0\" {masquerade}");

    static readonly IpAddr A = IpAddr.Parse("10.1.0.10"), B = IpAddr.Parse("10.1.0.11"), Srv = IpAddr.Parse("203.0.113.53");
    static readonly MacAddress Router = MacAddress.Parse("02:00:00:00:01:01");
    private long _n;

    private PacketTrace Send(DatapathEngine engine, IpAddr from, byte[] l3)
    {
        var (mac, port) = from == A ? ("02:00:00:00:0a:02", "eth-a") : ("02:00:00:00:0b:02", "eth-b");
        var frame = FrameBuilder.Ethernet(Router, MacAddress.Parse(mac), EtherTypes.Ipv4, l3);
        _n++;
        return engine.Process(new CaptureFrame(_n, _n * 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame), "t.pcap", engine.ResolveInjectionPoint(port));
    }

    private PacketTrace Udp(DatapathEngine e, IpAddr from, ushort sport, ushort dport = 53) =>
        Send(e, from, FrameBuilder.Ipv4(from, Srv, IpProtocol.Udp, FrameBuilder.Udp(from, Srv, sport, dport)));

    private static string Setup(PacketTrace t) => Assert.Single(t.Path, e => e.Stage == "NfNatSetupInfo").Detail!;

    private static ushort NatPort(DatapathEngine e, IpAddr from, ushort sport, ushort dport = 53) =>
        e.States.Single(s => s.Name == "host").Conntrack.Entries.Single(x => x.Original.Source == from && x.Original.SourcePort == sport && x.Original.DestinationPort == dport).Reply.DestinationPort;

    [Fact]
    public void TheFirstFlowKeepsItsPortTheCollidingOneGetsARandomPortFromTheUpperRange()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab(), "n.lab"));
        var first = Udp(engine, A, 5000);
        Assert.Equal(Fate.Delivered, first.Fate); // on into srv
        Assert.Contains("port 5000 kept", Setup(first));
        var second = Udp(engine, B, 5000);
        Assert.Equal(Fate.Delivered, second.Fate);
        Assert.Contains("port 5000 is taken", Setup(second));
        Assert.Contains("random port (get_random_u16 offset into 1024-65535", Setup(second));
        ushort chosen = NatPort(engine, B, 5000);
        Assert.InRange(chosen, 1024, 65535);
        Assert.NotEqual(5000, chosen);
        Assert.Equal(5000, NatPort(engine, A, 5000));
        Assert.Contains(second.Path, e => e.Stage == "NfNatManip" && e.Detail!.Contains($"port 5000 -> {chosen}"));

        // the same seed picks the same port; another seed (almost surely) another
        var again = new DatapathEngine(LabLoader.Load(Lab(), "n.lab"));
        Udp(again, A, 5000); Udp(again, B, 5000);
        Assert.Equal(chosen, NatPort(again, B, 5000));
        var other = new DatapathEngine(LabLoader.Load(Lab(), "n.lab")) { Seed = 7 };
        Udp(other, A, 5000); Udp(other, B, 5000);
        Assert.NotEqual(chosen, NatPort(other, B, 5000));

        // find_appropriate_src: b's next flow from port 5000 reuses its mapping
        Udp(engine, B, 5000, dport: 54);
        Assert.Equal(chosen, NatPort(engine, B, 5000, 54));
    }

    [Theory]
    [InlineData(700, 600, 1023)]
    [InlineData(100, 1, 511)]
    public void ALowPortIsRemappedWithinItsBand(ushort sport, int lo, int hi)
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab(), "n.lab"));
        Udp(engine, A, sport);
        var t = Udp(engine, B, sport);
        Assert.Contains($"offset into {lo}-{hi}", Setup(t));
        Assert.InRange(NatPort(engine, B, sport), lo, hi);
    }

    [Fact]
    public void FullyRandomPicksARandomPortEvenForTheFirstFlow()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab("masquerade fully-random"), "n.lab"));
        var t = Udp(engine, A, 5000);
        Assert.Contains("fully-random: the kernel always picks a random port", Setup(t));
    }

    [Fact]
    public void ACollidingEchoIdentifierIsRemappedAndTheReplyMappedBack()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab(), "n.lab"));
        byte[] Echo(IpAddr from) => FrameBuilder.Ipv4(from, Srv, IpProtocol.Icmp, FrameBuilder.IcmpEcho(1234, 1));
        Assert.Contains("ICMP id 1234 kept", Setup(Send(engine, A, Echo(A))));
        var t = Send(engine, B, Echo(B));
        Assert.Contains("offset into 0-65535", Setup(t));
        var entry = engine.States.Single(s => s.Name == "host").Conntrack.Entries.Single(x => x.Original.IsIcmp && x.Original.Source == B);
        Assert.NotEqual(1234, entry.Reply.IcmpId);
        Assert.Contains(t.Path, e => e.Stage == "NfNatManip" && e.Detail!.Contains($"ICMP id 1234 -> {entry.Reply.IcmpId}"));
    }

    /// <summary>
    /// Get-PktFlowConntrack lists NATed entries as conntrack -L does: the original tuple as sent, the
    /// reply tuple towards the NAT address. Expected lines: conntrack -L (v1.4.7, Linux 6.18) on a
    /// masquerading router after the same packets (a UDP datagram, an answered echo request, GRE);
    /// timeouts are pinned by <see cref="KernelRecordedTests"/>.
    /// </summary>
    [Fact]
    public void NatedEntriesAreListedAsConntrackListsThem()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab(), "n.lab"));
        Udp(engine, A, 5000);
        Send(engine, A, FrameBuilder.Ipv4(A, Srv, IpProtocol.Icmp, FrameBuilder.IcmpEcho(25721, 1)));
        Send(engine, A, CtPackets.Gre(A, Srv));
        var host = engine.States.Single(s => s.Name == "host");
        var lines = PktFlow.Netfilter.NfStateListing.Conntrack(host).Select(l => System.Text.RegularExpressions.Regex.Replace(l.Line, @"^(\S+\s+\d+) \d+ ", "$1 T ")).ToArray();
        Assert.Equal(
        [
            "udp      17 T src=10.1.0.10 dst=203.0.113.53 sport=5000 dport=53 [UNREPLIED] src=203.0.113.53 dst=203.0.113.1 sport=53 dport=5000 mark=0 use=1",
            "icmp     1 T src=10.1.0.10 dst=203.0.113.53 type=8 code=0 id=25721 src=203.0.113.53 dst=203.0.113.1 type=0 code=0 id=25721 mark=0 use=1",
            "gre      47 T src=10.1.0.10 dst=203.0.113.53 srckey=0x0 dstkey=0x0 [UNREPLIED] src=203.0.113.53 dst=203.0.113.1 srckey=0x0 dstkey=0x0 mark=0 use=1",
        ], lines);
    }

    /// <summary>
    /// nf_nat_icmp_reply_translation: the server's port unreachable for a masqueraded flow comes back to
    /// the NAT address; the router makes both the outer destination and the quoted source the sender's
    /// own, as the kernel did in tests/scenarios/ct-other-protocols.
    /// </summary>
    [Fact]
    public void AnIcmpErrorAboutAMasqueradedFlowIsTranslatedInsideAndOut()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab(), "n.lab"));
        var t = Udp(engine, A, 5000, dport: 9); // srv listens on 53 only
        var error = Assert.Single(t.GeneratedTraces, c => c.Summary.Contains("port 9 unreachable"));
        var step = Assert.Single(error.Path, e => e.Stage == "NfNatIcmpReplyTranslation");
        Assert.Equal("host", step.Namespace);
        Assert.Contains("outer destination 203.0.113.1 -> 10.1.0.10, quoted source 203.0.113.1 -> 10.1.0.10", step.Detail);
        Assert.Equal(Fate.Delivered, error.Fate);
        Assert.Equal("a", error.Path[^1].Namespace);
    }

    /// <summary>Observe mode: when the kernel had to pick a random port and the capture shows the packet
    /// leaving with it, the binding takes that port (if free and in range) instead of the model's draw.</summary>
    [Fact]
    public void ThePortTheCaptureShowsTheKernelPickedIsAdopted()
    {
        var table = new PktFlow.Netfilter.Conntrack.ConntrackTable();
        IpAddr nat = IpAddr.Parse("203.0.113.1");
        var holder = table.In(FrameBuilder.Ipv4(nat, Srv, IpProtocol.Udp, FrameBuilder.Udp(nat, Srv, 5000, 53)), false, 1).Entry!;
        Assert.True(table.Confirm(holder));
        var ct = table.In(FrameBuilder.Ipv4(B, Srv, IpProtocol.Udp, FrameBuilder.Udp(B, Srv, 5000, 53)), false, 2).Entry!;
        var masquerade = new PktFlow.Netfilter.Nftables.NatAction("masquerade", null, null, null, "masquerade");
        var seen = new PktFlow.Netfilter.Conntrack.ConntrackTuple(nat, Srv, IpProtocol.Udp, 61206, 53);
        var (tuple, how) = PktFlow.Netfilter.NfNatUniqueTuple.Choose(table, new PktFlow.Netfilter.Nftables.NftState(1, "host"), ct, (nat, nat), masquerade, source: true, observed: seen);
        Assert.Equal(seen, tuple);
        Assert.Contains("the capture shows the one it picked, 61206", how);
        // a port outside the kernel's band for this source port is not one it could have picked: drawn instead
        var low = seen with { SourcePort = 700 };
        (tuple, how) = PktFlow.Netfilter.NfNatUniqueTuple.Choose(table, new PktFlow.Netfilter.Nftables.NftState(1, "host"), ct, (nat, nat), masquerade, source: true, observed: low);
        Assert.NotEqual(low, tuple);
        Assert.InRange(tuple.SourcePort, 1024, 65535);
        Assert.DoesNotContain("adopts", how);
    }

    [Fact]
    public void AnAddressRange_TheAddressFindBestIpPicks_ASourceAlreadyInRangeKept()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab("snat to 198.51.100.1-198.51.100.40"), "n.lab"));
        var t = Udp(engine, A, 5000);
        var orig = new PktFlow.Netfilter.Conntrack.ConntrackTuple(A, Srv, IpProtocol.Udp, 5000, 53);
        var best = PktFlow.Netfilter.NfNatRange.FindBestIp(orig, IpAddr.Parse("198.51.100.1"), IpAddr.Parse("198.51.100.40"), persistent: false, source: true, zone: 0);
        Assert.Contains($"address {best} of 198.51.100.1-198.51.100.40 (find_best_ips_proto)", Setup(t));
        Assert.Contains(t.Path, e => e.Stage == "NfNatManip" && e.Detail!.Contains($"source 10.1.0.10 -> {best}"));

        // get_unique_tuple: a source inside the range with an unused tuple stays as it is
        var inside = new DatapathEngine(LabLoader.Load(Lab("snat to 10.1.0.5-10.1.0.20"), "n.lab"));
        var kept = Udp(inside, A, 5001);
        Assert.Contains("the original tuple is in range and unused", Setup(kept));
        Assert.DoesNotContain(kept.Path, e => e.Stage == "NfNatManip");
    }
}
