using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.LoadBalancer;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Tunnel;

/// <summary>ipip and FOU/GUE receive on a host: decapsulation into the tunnel device and ip_rcv again with it as iif.</summary>
public class TunnelReceiveTests
{
    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 10.1.0.1/24 dev eth0
        ip addr add 10.100.0.10/32 dev lo
        ip link add ipip1 type ipip local 10.1.0.1 remote 10.1.0.254
        ip link set ipip1 up
        ip fou add port 6080 gue
        ip fou add port 5555 ipproto 4
        socat -u TCP4-LISTEN:80,fork OPEN:/dev/null &
        """;

    private static readonly IpAddr Host = IpAddr.Parse("10.1.0.1"), Vip = IpAddr.Parse("10.100.0.10"), Client = IpAddr.Parse("198.51.100.7");

    private static byte[] Inner(ushort dport = 80) => FrameBuilder.Ipv4(Client, Vip, 6, FrameBuilder.Tcp(Client, Vip, 40000, dport));

    private static PacketTrace Run(string lab, byte[] network)
    {
        var engine = new DatapathEngine(LabLoader.Load(lab, "t.lab"));
        var f = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:01:01"), MacAddress.Parse("02:00:00:00:01:02"), 0x0800, network);
        return engine.Process(new CaptureFrame(1, 0, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }

    private static byte[] Ipip(string from, byte[] inner) => FrameBuilder.Ipv4(IpAddr.Parse(from), Host, IpProtocol.IpIp, inner);
    private static byte[] Udp(string from, ushort dport, byte[] payload) =>
        FrameBuilder.Ipv4(IpAddr.Parse(from), Host, IpProtocol.Udp, LbEncap.Gue(IpAddr.Parse(from), Host, 1234, dport, payload, false).AsSpan(20));

    [Fact]
    public void IpipFromTheConfiguredRemoteIsReceivedOnTheTunnelDevice()
    {
        var t = Run(Lab, Ipip("10.1.0.254", Inner()));
        Assert.True(t.Fate == Fate.Delivered, string.Join("\n", t.Path));
        Assert.Equal("tcp_v4_rcv", t.Reason);
        Assert.Contains(t.Path, e => e.Function == "ipip_rcv" && e.Detail == "ip_tunnel_lookup: ipip1 (local 10.1.0.1 remote 10.1.0.254)");
        Assert.Contains(t.Path, e => e.Function == "ip_rcv_core" && e.Device == "ipip1" && e.Detail!.Contains("198.51.100.7 > 10.100.0.10"));
        Assert.Equal("ipip1", t.Path[^1].Device);
    }

    [Fact]
    public void IpipFromAnotherRemoteFindsNoTunnelWhileTunl0IsDown()
    {
        var t = Run(Lab, Ipip("10.1.0.77", Inner()));
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.Equal("tunnel4_rcv", t.Path[^1].Function);
        Assert.Equal("NOT_SPECIFIED", t.Reason);
        Assert.Contains("ICMP destination unreachable, port unreachable (code 3), to 10.1.0.77", t.Generated);
        // With the fallback up, it takes them.
        var up = Run(Lab + "\nip link set tunl0 up\n", Ipip("10.1.0.77", Inner()));
        Assert.Equal(Fate.Delivered, up.Fate);
        Assert.Contains(up.Path, e => e.Function == "ipip_rcv" && e.Detail!.Contains("tunl0 (the fallback tunnel, any/any)"));
    }

    [Fact]
    public void AnExternalTunnelTakesWhatNoOtherMatches()
    {
        var t = Run(Lab + "\nip link add ext0 type ipip external\nip link set ext0 up\nip link set tunl0 up\n", Ipip("10.1.0.77", Inner()));
        Assert.Contains(t.Path, e => e.Function == "ipip_rcv" && e.Detail!.Contains("ext0 (external"));
        Assert.Equal(Fate.Delivered, t.Fate);
    }

    [Fact]
    public void WithoutTheIpipModuleProtocolFourIsUnknown()
    {
        var t = Run("ip link set eth0 address 02:00:00:00:01:01\nip link set eth0 up\nip addr add 10.1.0.1/24 dev eth0\n", Ipip("10.1.0.254", Inner()));
        Assert.Equal("IP_NOPROTO", t.Reason);
        Assert.Contains("ICMP protocol unreachable to 10.1.0.254", t.Generated);
    }

    [Fact]
    public void GueVariantOneToTheFouPortIsDecapsulatedThroughIpip()
    {
        var t = Run(Lab, Udp("10.1.0.254", 6080, Inner()));
        Assert.True(t.Fate == Fate.Delivered, string.Join("\n", t.Path));
        var fns = t.Path.Select(e => e.Function).ToList();
        Assert.True(fns.IndexOf("gue_udp_recv") < fns.IndexOf("tunnel4_rcv") || !fns.Contains("tunnel4_rcv"));
        Assert.Contains(t.Path, e => e.Function == "gue_udp_recv" && e.Detail!.Contains("variant 1 (direct IPv4), resubmitted as IP protocol 4"));
        Assert.Contains(t.Path, e => e.Function == "ip_tunnel_rcv" && e.Device == "ipip1");
    }

    [Fact]
    public void GueVariantZeroHeaderIsPulled()
    {
        var inner = Inner();
        var gue = new byte[4 + inner.Length];
        gue[1] = IpProtocol.IpIp; // variant 0, no extensions, proto 4
        inner.CopyTo(gue, 4);
        var outer = FrameBuilder.Ipv4(IpAddr.Parse("10.1.0.254"), Host, IpProtocol.Udp, FrameBuilder.UdpWithPayload(IpAddr.Parse("10.1.0.254"), Host, 1234, 6080, gue));
        var t = Run(Lab, outer);
        Assert.Equal(Fate.Delivered, t.Fate);
        Assert.Contains(t.Path, e => e.Function == "gue_udp_recv" && e.Detail!.Contains("GUE header (4 bytes) pulled, resubmitted as IP protocol 4"));
        gue[0] = 0x20; // a control message
        var control = Run(Lab, FrameBuilder.Ipv4(IpAddr.Parse("10.1.0.254"), Host, IpProtocol.Udp, FrameBuilder.UdpWithPayload(IpAddr.Parse("10.1.0.254"), Host, 1234, 6080, gue)));
        Assert.Equal(Fate.Dropped, control.Fate);
        Assert.Contains("control message", control.Path[^1].Detail);
    }

    [Fact]
    public void GueForAProtocolWithoutHandlerIsUnknownToIpAfterThePull()
    {
        // gue_udp_recv resubmits protocol 47; with no GRE handler ip_protocol_deliver_rcu drops it
        // (IP_NOPROTO) and answers protocol unreachable (the 6.12 recording lb-ipip-fou-decap, frame 17-18).
        var gue = new byte[28];
        gue[1] = 47;
        var t = Run(Lab, FrameBuilder.Ipv4(IpAddr.Parse("10.1.0.254"), Host, IpProtocol.Udp, FrameBuilder.UdpWithPayload(IpAddr.Parse("10.1.0.254"), Host, 1234, 6080, gue)));
        Assert.Contains(t.Path, e => e.Function == "gue_udp_recv" && e.Detail!.Contains("resubmitted as IP protocol 47"));
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.Equal("IP_NOPROTO", t.Reason);
        Assert.Contains("ICMP protocol unreachable to 10.1.0.254", t.Generated);
    }

    [Fact]
    public void DirectFouHandsThePayloadToItsProtocol()
    {
        var t = Run(Lab, FrameBuilder.Ipv4(IpAddr.Parse("10.1.0.254"), Host, IpProtocol.Udp, FrameBuilder.UdpWithPayload(IpAddr.Parse("10.1.0.254"), Host, 1234, 5555, Inner())));
        Assert.Equal(Fate.Delivered, t.Fate);
        Assert.Contains(t.Path, e => e.Function == "fou_udp_recv");
    }

    [Fact]
    public void GueToAPortWithoutFouIsAnOrdinaryClosedUdpPort()
    {
        var t = Run(Lab, Udp("10.1.0.254", 6081, Inner()));
        Assert.Equal("NO_SOCKET", t.Reason);
        Assert.DoesNotContain(t.Path, e => e.Function == "gue_udp_recv");
    }

    [Fact]
    public void TheLabMakesTunl0InEveryNamespaceOnceIpipIsLoaded()
    {
        var topo = LabLoader.Load("ip netns add a\nip link add t1 type ipip remote 192.0.2.1\nip netns add b\n", "t.lab");
        foreach (var ns in topo.Namespaces)
        {
            var tunl0 = ns.Device("tunl0");
            Assert.NotNull(tunl0);
            Assert.False(tunl0!.IsUp);
            Assert.Equal(DeviceKind.Ipip, tunl0.Kind);
        }
        Assert.Equal(IpAddr.Parse("192.0.2.1"), topo.Host.Device("t1")!.Tunnel!.Remote);
        Assert.Null(topo.Namespace("a")!.Device("t1"));
    }

    [Theory]
    [InlineData("ip link add t1 type ipip", "already exists")] // same parameters as tunl0
    [InlineData("ip link add t1 type ipip external local 10.0.0.1", "an external ipip tunnel takes no local/remote address")]
    [InlineData("ip link add t1 type ipip remote 10.0.0.1 bogus", "unknown ipip option")]
    [InlineData("ip fou add port 6080", "exactly one of 'gue' or 'ipproto P'")]
    [InlineData("ip fou add port 6080 gue\nip fou add port 6080 gue", "fou port 6080 already exists")]
    [InlineData("ip fou add port 6080 gue peer 10.0.0.1 peer_port 1", "is not modelled")]
    public void LabErrorsNameTheCommand(string lab, string expected)
    {
        var e = Assert.Throws<LabException>(() => LabLoader.Load(lab, "t.lab"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void TheLoadBalancersGuePacketsAreDecapsulatedByTheBackend()
    {
        const string lab = """
            ip link set eth0 address 02:00:00:00:01:01
            ip link set eth0 up
            ip addr add 10.1.0.1/24 dev eth0
            ip addr add 10.100.0.10/32 dev lo
            ip link add tun0 type ipip external
            ip link set tun0 up
            ip fou add port 6080 gue
            socat -u TCP4-LISTEN:80,fork OPEN:/dev/null &
            """;
        var cfg = LoadBalancerConfigReader.Parse("""
            { "source": "10.1.0.254", "vips": [ { "address": "10.100.0.10", "port": 80, "mode": "gue", "backends": [ { "address": "10.1.0.1", "at": "host/eth0" } ] } ] }
            """, "lb.json");
        var engine = new DatapathEngine(LabLoader.Load(lab, "t.lab")) { LoadBalancer = new Balancer(cfg) };
        var f = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:fe:01"), MacAddress.Parse("02:00:00:00:01:02"), 0x0800, Inner());
        var t = engine.Process(new CaptureFrame(1, 0, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("eth0"));
        Assert.True(t.Fate == Fate.Delivered, string.Join("\n", t.Path));
        var order = new[] { "lb_schedule_maglev", "lb_xmit_gue", "udp_rcv", "gue_udp_recv", "ipip_rcv", "ip_tunnel_rcv", "tcp_v4_rcv" };
        var fns = t.Path.Select(e => e.Function).ToList();
        Assert.Equal(order, fns.Where(order.Contains).ToArray());
    }
}
