using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Macvlan;

/// <summary>
/// Observe mode on a lower device with vepa macvlans and a hairpin switch the lab models (as
/// tests/scenarios/macvlan-vepa): each frame is seen leaving, then coming back.
/// </summary>
public class MacvlanObserveTests
{
    // the recorded scenario's lab, c1 knowing c2's MAC and c2 counting what its conntrack sees
    private static readonly string SwitchLab = File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "scenarios", "macvlan-vepa", "lab.sh")) + """

        ip -n c1 neigh add 10.0.0.3 lladdr 02:42:0a:00:00:03 dev mv1 nud permanent
        ip netns exec c2 sysctl -w net.netfilter.nf_conntrack_acct=1
        ip netns exec c2 nft add table inet t
        ip netns exec c2 nft add chain inet t input '{ type filter hook input priority 0; policy accept; }'
        ip netns exec c2 nft add rule inet t input ct state new counter

        """;

    private static readonly MacAddress Mv1 = MacAddress.Parse("02:42:0a:00:00:02"), Mv2 = MacAddress.Parse("02:42:0a:00:00:03"), Client = MacAddress.Parse("02:00:00:00:00:64");

    private static byte[] Ping(MacAddress dst, MacAddress src, string from, string to, ushort id) =>
        FrameBuilder.Ethernet(dst, src, EtherTypes.Ipv4, FrameBuilder.Ipv4(IpAddr.Parse(from), IpAddr.Parse(to), IpProtocol.Icmp, FrameBuilder.IcmpEcho(id, 1)));

    private static (DatapathEngine Engine, Func<long, long, byte[], PacketTrace> Seen) Observe()
    {
        var engine = new DatapathEngine(LabLoader.Load(SwitchLab, "t.lab")) { Mode = ReplayMode.Observe };
        var at = engine.ResolveInjectionPoint("eth0");
        return (engine, (n, us, f) => engine.Process(new CaptureFrame(n, us * 1000, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", at));
    }

    private static global::PktFlow.Netfilter.Conntrack.ConntrackEntry C2Entry(DatapathEngine engine) =>
        engine.StateOf(engine.Topology.Namespace("c2")!).Conntrack.Entries.Single(e => e.Original.Protocol == IpProtocol.Icmp && e.Original.Source == IpAddr.Parse("10.0.0.2"));

    [Fact]
    public void AFrameTheModelBroughtBackThroughTheSwitchIsNotWalkedTwiceThroughTheSibling()
    {
        var (engine, seen) = Observe();
        // c2 talks first: the switch learns mv2's MAC on sw0, so c1's ping to c2 is hairpinned alone (no flood)
        seen(1, 0, Ping(Client, Mv2, "10.0.0.3", "10.0.0.100", 8));
        var leaving = seen(2, 100_000, Ping(Mv2, Mv1, "10.0.0.2", "10.0.0.3", 7));
        Assert.Equal("c2", leaving.Path[^1].Namespace);
        Assert.Contains(leaving.Path, e => e.Namespace == "switch" && e.Function == "br_forward" || e.Detail?.Contains("sw0 -> sw0") == true);
        Assert.Equal(1ul, C2Entry(engine).OriginalPackets);
        var back = seen(3, 100_020, Ping(Mv2, Mv1, "10.0.0.2", "10.0.0.3", 7));
        Assert.Contains(back.Notes, n => n.Contains("already brought it back", StringComparison.Ordinal));
        Assert.Equal((leaving.Fate, "c2"), (back.Fate, back.Path[^1].Namespace));
        // walked once through c2: its conntrack counted one packet (the old heuristic walked it again: 2)
        Assert.Equal(1ul, C2Entry(engine).OriginalPackets);
    }

    [Fact]
    public void AFrameTheModelFloodedElsewhereIsWalkedWhenItComesBack()
    {
        var (engine, seen) = Observe();
        // the switch knows no mv2 yet: it floods, the model follows the copy to the client, and the
        // hairpin copy is received on eth0 only when the capture shows it coming back
        var leaving = seen(1, 0, Ping(Mv2, Mv1, "10.0.0.2", "10.0.0.3", 7));
        Assert.Equal("client", leaving.Path[^1].Namespace);
        Assert.Empty(engine.StateOf(engine.Topology.Namespace("c2")!).Conntrack.Entries);
        var back = seen(2, 20, Ping(Mv2, Mv1, "10.0.0.2", "10.0.0.3", 7));
        Assert.Contains(back.Notes, n => n.Contains("hairpin mode sent it back, and eth0 receives it", StringComparison.Ordinal));
        Assert.Equal("host", back.Path[0].Namespace);
        Assert.Equal("c2", back.Path[^1].Namespace);
        Assert.Equal(1ul, C2Entry(engine).OriginalPackets);
    }
}
