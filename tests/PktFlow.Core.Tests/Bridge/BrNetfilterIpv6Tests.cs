using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Topology.Lab;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Bridge;

/// <summary>
/// br_netfilter's IPv6 DNAT re-routing (br_nf_pre_routing_finish_ipv6) and its ARP forward hook
/// (br_nf_forward_arp), on the setup measured on 6.18: a bridge br0 (2001:db8::fe) with h1 and h2 behind
/// port1 and port2, bridge-nf-call-ip6tables=1, forwarding off, an ip6 nat DNAT of 2001:db8::4 to h2.
/// The kernel kept the DNATed echo request bridged: br0 solicited 2001:db8::2, the answer came back
/// through port2, and the request went to h2 alone.
/// </summary>
public class BrNetfilterIpv6Tests
{
    private const string Lab = """
        ip netns add h1
        ip netns add h2
        ip link add br0 address 02:00:00:00:00:fe type bridge
        ip link set br0 up
        ip addr add 2001:db8::fe/64 dev br0 nodad
        ip link add port1 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns h1
        ip link add port2 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns h2
        ip link set port1 master br0
        ip link set port2 master br0
        ip link set port1 up
        ip link set port2 up
        ip -n h1 addr add 2001:db8::1/64 dev eth0 nodad
        ip -n h1 addr add 10.9.0.1/24 dev eth0
        ip -n h1 link set eth0 up
        ip -n h2 addr add 2001:db8::2/64 dev eth0 nodad
        ip -n h2 addr add 10.9.0.2/24 dev eth0
        ip -n h2 link set eth0 up
        sysctl -w net.bridge.bridge-nf-call-ip6tables=1
        """;

    private static readonly MacAddress H1 = MacAddress.Parse("02:00:00:00:01:02"), H2 = MacAddress.Parse("02:00:00:00:02:02");

    private static string Dnat(string to) => Lab + $$"""

        nft -f - <<'NFT'
        table ip6 n {
            chain pre { type nat hook prerouting priority dstnat; ip6 daddr 2001:db8::4 dnat to {{to}}; }
        }
        NFT
        """;

    private static PacketTrace Send(string lab, byte[] frame, string port = "port1")
    {
        var engine = new DatapathEngine(LabLoader.Load(lab, "br6.lab"));
        return engine.Process(new CaptureFrame(1, 0, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame), "t.pcap", engine.ResolveInjectionPoint(port));
    }

    private static byte[] Echo(string dst) =>
        Ether(H2, H1, EtherTypes.Ipv6, Ipv6("2001:db8::1", dst, IpProtocol.Icmpv6, Icmpv6("2001:db8::1", dst, 128, 0, 7u << 16 | 1, Bytes(8))));

    private static string Dump(PacketTrace t) => string.Join("\n", t.Path) + $"\n=> {t.Fate} {t.Reason}";

    [Fact]
    public void TheBridgeInfoOfAPacketIsAValue_NoAllocationPerBridgedPacket()
    {
        // nf_bridge_alloc per bridged packet and the physout update must not allocate
        var skb = new NfBridgeInfo("port1", null);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var moved = skb with { PhysOut = "port2" };
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        Assert.Equal("port2", moved.PhysOut);
        Assert.True(typeof(NfBridgeInfo).IsValueType);
    }

    [Fact]
    public void ADnatToANeighbourOnTheBridgeStaysBridgedAfterASolicitation()
    {
        var t = Send(Dnat("2001:db8::2"), Echo("2001:db8::4"));
        var finish = Assert.Single(t.Path, e => e.Function == "br_nf_pre_routing_finish_bridge");
        Assert.Contains("DNAT 2001:db8::4 -> 2001:db8::2, routed back out of br0: stays bridged, destination MAC 02:00:00:00:02:02", finish.Detail);
        var slow = Assert.Single(t.Path, e => e.Function == "br_nf_pre_routing_finish_bridge_slow");
        Assert.Contains("sends a neighbour solicitation for 2001:db8::2", slow.Detail);
        Assert.DoesNotContain(t.Path, e => e.Function == "br_flood");
        Assert.Equal("h2", t.Path[^1].Namespace);
    }

    [Fact]
    public void ADnatToTheBridgesOwnAddressGoesUpToTheHost()
    {
        var t = Send(Dnat("2001:db8::fe"), Echo("2001:db8::4"));
        var up = Assert.Single(t.Path, e => e.Function == "br_nf_pre_routing_finish_ipv6");
        Assert.Contains("up to the host, destination MAC 02:00:00:00:00:fe", up.Detail);
        Assert.Contains(t.Path, e => e.Function == "ip_sabotage_in");
        Assert.Equal(Fate.Delivered, t.Fate);
    }

    [Fact]
    public void ADnatToAnAddressWithoutARouteIsFreed()
    {
        var t = Send(Dnat("2001:db9::9"), Echo("2001:db8::4"));
        Assert.Equal(Fate.Dropped, t.Fate);
        var drop = t.Path[^1];
        Assert.True(drop.Function == "br_nf_pre_routing_finish_ipv6", Dump(t));
        Assert.Contains("no route", drop.Detail);
    }

    [Fact]
    public void WithoutDnatNothingIsRoutedAgain()
    {
        var t = Send(Dnat("2001:db8::2"), Echo("2001:db8::2"));
        Assert.DoesNotContain(t.Path, e => e.Function is "br_nf_pre_routing_finish_ipv6" or "br_nf_pre_routing_finish_bridge");
        Assert.Equal("h2", t.Path[^1].Namespace);
    }

    // measured: an arp input/output chain on br0's host counts the same with bridge-nf-call-arptables 1 or 0
    [Theory]
    [InlineData("1", true)]
    [InlineData("0", false)]
    public void ABridgedArpFramePassesNfArpForwardOnlyWithTheSysctl(string on, bool passes)
    {
        var reply = Ether(H1, H2, EtherTypes.Arp, Arp(2, H2, "10.9.0.2", H1, "10.9.0.1"));
        var lab = Lab + $"\nsysctl -w net.bridge.bridge-nf-call-arptables={on}\n";
        var engine = new DatapathEngine(LabLoader.Load(lab, "br6.lab"));
        // the reply's destination must be known to the FDB, else it is flooded (still forwarded, through the hook too)
        var request = Ether(MacAddress.Broadcast, H1, EtherTypes.Arp, Arp(1, H1, "10.9.0.1", MacAddress.Zero, "10.9.0.2"));
        engine.Process(new CaptureFrame(1, 0, LinkType.Ethernet, 0, null, request.Length, request.Length, 24, request), "t.pcap", engine.ResolveInjectionPoint("port1"));
        var t = engine.Process(new CaptureFrame(2, 1000, LinkType.Ethernet, 0, null, reply.Length, reply.Length, 24, reply), "t.pcap", engine.ResolveInjectionPoint("port2"));
        Assert.Equal(passes, t.Path.Any(e => e.Function == "br_nf_forward_arp"));
        Assert.Equal("h1", t.Path[^1].Namespace);
    }
}
