using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Macvlan;

/// <summary>macvlan_handle_frame and macvlan_queue_xmit: who gets a frame on a lower device with macvlans.</summary>
public class MacvlanDatapathTests
{
    private static readonly MacAddress Eth0 = MacAddress.Parse("02:00:00:00:00:01"), Client = MacAddress.Parse("02:00:00:00:00:64"),
        Mv1 = MacAddress.Parse("02:42:0a:00:00:02"), Mv2 = MacAddress.Parse("02:42:0a:00:00:03"), Mv3 = MacAddress.Parse("02:42:0a:00:00:04");
    private static readonly IpAddr Host = IpAddr.Parse("10.0.0.1"), C1 = IpAddr.Parse("10.0.0.2"), C2 = IpAddr.Parse("10.0.0.3"), Peer = IpAddr.Parse("10.0.0.100");

    /// <summary>c1/mv1 in <paramref name="mode1"/>, c2/mv2 in <paramref name="mode2"/>, both on the host's eth0 (10.0.0.1), client0 on the wire.</summary>
    private static string Lab(string mode1 = "bridge", string mode2 = "bridge", string extra = "") => $"""
        ip netns add client0
        ip netns add c1
        ip netns add c2
        ip link add eth0 address 02:00:00:00:00:01 type veth peer name eth0 address 02:00:00:00:00:64 netns client0
        ip addr add 10.0.0.1/24 dev eth0
        ip link set eth0 up
        ip -n client0 addr add 10.0.0.100/24 dev eth0
        ip -n client0 link set eth0 up
        ip link add mv1 link eth0 address 02:42:0a:00:00:02 type macvlan mode {mode1}
        ip link add mv2 link eth0 address 02:42:0a:00:00:03 type macvlan mode {mode2}
        ip link set mv1 netns c1
        ip link set mv2 netns c2
        ip -n c1 addr add 10.0.0.2/24 dev mv1
        ip -n c1 link set mv1 up
        ip -n c2 addr add 10.0.0.3/24 dev mv2
        ip -n c2 link set mv2 up
        {extra}
        """;

    private static PacketTrace Run(string lab, byte[] frame)
    {
        var engine = new DatapathEngine(LabLoader.Load(lab, "t.lab"));
        return engine.Process(new CaptureFrame(1, 0, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame), "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }

    private static byte[] Ping(MacAddress dstMac, MacAddress srcMac, IpAddr src, IpAddr dst) =>
        FrameBuilder.Ethernet(dstMac, srcMac, EtherTypes.Ipv4, FrameBuilder.Ipv4(src, dst, IpProtocol.Icmp, FrameBuilder.IcmpEcho(7, 1)));

    private static byte[] WhoHas(MacAddress srcMac, IpAddr src, IpAddr target) =>
        FrameBuilder.Ethernet(MacAddress.Broadcast, srcMac, EtherTypes.Arp, FrameBuilder.Arp(1, srcMac, src, MacAddress.Zero, target));

    private static string Text(PacketTrace t) => string.Join("\n", t.Path);

    [Fact]
    public void UnicastToAMacvlanGoesAnotherRoundOnItInItsNamespace()
    {
        var t = Run(Lab(), Ping(Mv1, Client, Peer, C1));
        Assert.Contains(t.Path, e => e.Function == "macvlan_handle_frame" && e.Namespace == "host" && e.Detail!.Contains("RX_HANDLER_ANOTHER"));
        Assert.Contains(t.Path, e => e.Function == "ip_rcv_core" && e.Namespace == "c1" && e.Device == "mv1");
        Assert.Equal("c1", t.Path[^1].Namespace);
        Assert.Contains(t.Generated, g => g.Contains("echo reply", StringComparison.Ordinal));
    }

    [Fact]
    public void AMacvlanThatIsDownIsNotInThePortAndTheLowerStackDropsTheFrame()
    {
        var t = Run(Lab(extra: "ip -n c1 link set mv1 down"), Ping(Mv1, Client, Peer, C1));
        Assert.Contains(t.Path, e => e.Function == "macvlan_handle_frame" && e.Detail!.Contains("RX_HANDLER_PASS"));
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.Equal("OTHERHOST", t.Reason);
        Assert.Equal("host", t.Path[^1].Namespace);
    }

    [Fact]
    public void ABroadcastIsFollowedToTheNamespaceOwningItsTarget()
    {
        var toC2 = Run(Lab(), WhoHas(Client, Peer, C2));
        Assert.Contains(toC2.Path, e => e.Function == "macvlan_broadcast_enqueue" && e.Detail!.Contains("c1/mv1, c2/mv2") && e.Detail.Contains("follows the copy to c2/mv2"));
        Assert.Equal("c2", toC2.Path[^1].Namespace);
        Assert.Contains(toC2.Generated, g => g.Contains("is-at 02:42:0a:00:00:03", StringComparison.Ordinal));
        // the host's own address: the original, in eth0's own stack
        var toHost = Run(Lab(), WhoHas(Client, Peer, Host));
        Assert.Contains(toHost.Path, e => e.Function == "macvlan_broadcast_enqueue" && e.Detail!.Contains("follows the original"));
        Assert.Equal("host", toHost.Path[^1].Namespace);
    }

    [Fact]
    public void InObserveModeEachFrameComingBackPairsWithItsOwnSightingLeaving()
    {
        // c1 (vepa) sends two frames before a hairpin switch returns the first: the first still pairs
        var engine = new DatapathEngine(LabLoader.Load(Lab("vepa", "vepa", "ip -n c1 neigh add 10.0.0.3 lladdr 02:42:0a:00:00:03 dev mv1 nud permanent"), "t.lab")) { Mode = ReplayMode.Observe };
        var at = engine.ResolveInjectionPoint("eth0");
        PacketTrace Seen(long n, long us, byte[] f) => engine.Process(new CaptureFrame(n, us * 1000, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", at);
        byte[] first = Ping(Mv2, Mv1, C1, C2), second = WhoHas(Mv1, C1, Peer);
        Assert.Equal("c1", Seen(1, 0, first).Path[0].Namespace);
        Assert.Equal("c1", Seen(2, 10, second).Path[0].Namespace);
        var back = Seen(3, 20, first);
        Assert.Contains(back.Notes, n => n.Contains("hairpin mode sent it back"));
        Assert.Equal("host", back.Path[0].Namespace);
        // paired once: the same bytes a third time leave again (a new sighting)
        Assert.DoesNotContain(Seen(4, 30, first).Notes, n => n.Contains("hairpin mode"));
    }

    [Theory]
    [InlineData("bridge", "bridge", "c2")]   // handed over inside the host
    [InlineData("private", "bridge", "client0")]
    [InlineData("vepa", "bridge", "client0")]
    [InlineData("bridge", "private", "client0")] // only to another bridge-mode macvlan
    public void WhatAMacvlanSendsToASiblingDependsOnBothModes(string mode1, string mode2, string endsIn)
    {
        // c1 knows c2's MAC (only bridge mode would resolve it: see the neighbour test)
        var t = Run(Lab(mode1, mode2, "ip -n c1 neigh add 10.0.0.3 lladdr 02:42:0a:00:00:03 dev mv1 nud permanent"), Ping(Mv2, Mv1, C1, C2)); // seen on eth0 with mv1's MAC: traced from c1
        Assert.Equal("c1", t.Path[0].Namespace);
        Assert.True(t.Path.Any(e => e.Stage == "MacvlanQueueXmit"), Text(t));
        Assert.Equal(endsIn, t.Path[^1].Namespace);
        if (endsIn == "c2")
        {
            Assert.Contains(t.Path, e => e.Function == "macvlan_queue_xmit" && e.Detail!.Contains("dev_forward_skb to host/eth0"));
            Assert.Contains(t.Path, e => e.Function == "eth_type_trans" && e.Namespace == "host" && e.Detail!.Contains("OTHERHOST"));
        }
        else Assert.Equal("OTHERHOST", t.Reason); // the client's stack: not its MAC
    }

    [Theory]
    [InlineData("bridge", "bridge", true)]
    [InlineData("private", "bridge", false)]
    [InlineData("bridge", "vepa", false)]
    public void OnlyBridgeModeSiblingsAnswerEachOthersArp(string mode1, string mode2, bool resolves)
    {
        var t = Run(Lab(mode1, mode2), Ping(Mv2, Mv1, C1, C2));
        var neigh = t.Path.First(e => e.Stage is "NeighOutput" or "NeighResolve");
        Assert.True(resolves ? neigh.Detail!.Contains("a bridge-mode macvlan on eth0 too") : neigh.Detail!.Contains("no address 10.0.0.3 behind eth0"), Text(t));
    }

    [Fact]
    public void ABridgeModeBroadcastReachesTheSiblingOwningTheTarget()
    {
        var t = Run(Lab(), WhoHas(Mv1, C1, C2));
        Assert.Contains(t.Path, e => e.Function == "macvlan_broadcast" && e.Detail!.Contains("follows the copy to c2/mv2"));
        Assert.Equal("c2", t.Path[^1].Namespace);
        var priv = Run(Lab("private"), WhoHas(Mv1, C1, C2));
        Assert.Equal("client0", priv.Path[^1].Namespace);
    }

    [Fact]
    public void TheHostCannotReachItsMacvlansAndTheTraceSaysWhy()
    {
        var arp = Run(Lab(), WhoHas(Eth0, Host, C1));
        Assert.True(arp.Path.Any(e => e.Stage == "MacvlanLowerXmit" && e.Detail!.Contains("does not reach its macvlans c1/mv1, c2/mv2")), Text(arp));
        Assert.Equal("client0", arp.Path[^1].Namespace);
        // the ping's ARP is never answered: the segment behind eth0 is the wire's
        var ping = Run(Lab(), Ping(Mv1, Eth0, Host, C1));
        Assert.True(ping.Path.Any(e => e.Stage == "NeighResolve" && e.Detail!.Contains("no address 10.0.0.2 behind eth0")), Text(ping));
        // even with c1's MAC known, the frame leaves by the wire
        var known = Run(Lab(extra: "ip neigh add 10.0.0.2 lladdr 02:42:0a:00:00:02 dev eth0 nud permanent"), Ping(Mv1, Eth0, Host, C1));
        Assert.True(known.Path.Any(e => e.Stage == "MacvlanLowerXmit" && e.Detail!.Contains("is c1/mv1's")), Text(known));
        Assert.Equal("client0", known.Path[^1].Namespace);
        // and c1's request for the host's address leaves by the wire
        var back = Run(Lab(), WhoHas(Mv1, C1, Host));
        Assert.Contains(back.Path, e => e.Function == "dev_queue_xmit" && e.Stage == "MacvlanQueueXmit" && e.Detail!.Contains("never gets this"));
        Assert.Equal("client0", back.Path[^1].Namespace);
    }

    [Fact]
    public void ASourceModeMacvlanTakesFramesFromItsListedSenders()
    {
        var lab = Lab(extra: "ip link add mv3 link eth0 address 02:42:0a:00:00:04 type macvlan mode source macaddr add 02:00:00:00:00:64\nip addr add 10.0.0.9/24 dev mv3\nip link set mv3 up");
        var t = Run(lab, Ping(Mv3, Client, Peer, IpAddr.Parse("10.0.0.9")));
        Assert.Contains(t.Path, e => e.Function == "macvlan_forward_source" && e.Detail!.Contains("host/mv3"));
        Assert.Contains(t.Path, e => e.Device == "mv3" && e.Function == "ip_rcv_core");
        // a sender it does not list: nothing for it, the lower device's stack drops the frame
        var other = Run(lab, Ping(Mv3, MacAddress.Parse("02:00:00:00:00:99"), Peer, IpAddr.Parse("10.0.0.9")));
        Assert.DoesNotContain(other.Path, e => e.Device == "mv3");
        Assert.Equal("OTHERHOST", other.Reason);
    }
}
