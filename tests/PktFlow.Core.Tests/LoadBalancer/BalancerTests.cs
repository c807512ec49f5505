using System.Buffers.Binary;
using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.LoadBalancer;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.LoadBalancer;

/// <summary>The load balancer on packets: flow table, health, NAT both ways, DSR, encapsulation, and the engine around it.</summary>
public class BalancerTests
{
    internal const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 10.1.0.1/24 dev eth0
        sysctl -w net.ipv4.ip_forward=1
        ip netns add b1
        ip netns add b2
        ip link add veth-b1 address 02:00:00:00:0b:01 type veth peer name eth0 netns b1 address 02:00:00:00:0b:11
        ip link add veth-b2 address 02:00:00:00:0b:02 type veth peer name eth0 netns b2 address 02:00:00:00:0b:22
        ip link set veth-b1 up
        ip link set veth-b2 up
        ip addr add 10.2.1.1/24 dev veth-b1
        ip addr add 10.2.2.1/24 dev veth-b2
        ip -n b1 link set lo up
        ip -n b1 link set eth0 up
        ip -n b1 addr add 10.2.1.2/24 dev eth0
        ip -n b1 addr add 10.100.0.10/32 dev lo
        ip -n b1 route add default via 10.2.1.1
        ip -n b2 link set lo up
        ip -n b2 link set eth0 up
        ip -n b2 addr add 10.2.2.2/24 dev eth0
        ip -n b2 addr add 10.100.0.10/32 dev lo
        ip -n b2 route add default via 10.2.2.1
        ip netns exec b1 timeout 60 socat -u TCP4-LISTEN:8080,fork OPEN:/dev/null &
        ip netns exec b2 timeout 60 socat -u TCP4-LISTEN:8080,fork OPEN:/dev/null &
        ip netns exec b1 timeout 60 socat -u TCP4-LISTEN:80,fork OPEN:/dev/null &
        ip netns exec b2 timeout 60 socat -u TCP4-LISTEN:80,fork OPEN:/dev/null &
        """;

    internal static readonly IpAddr Vip = IpAddr.Parse("10.100.0.10");
    private static readonly MacAddress ClientMac = MacAddress.Parse("02:00:00:00:01:02");
    private static readonly MacAddress LbMac = MacAddress.Parse("02:00:00:00:fe:01");

    private static LoadBalancerConfig Config(string mode, string scheduler = "rr", string extra = "") => LoadBalancerConfigReader.Parse($$"""
        { "source": "10.1.0.254", "idleTimeout": 10,
          "vips": [ { "address": "10.100.0.10", "protocol": "tcp", "port": 80, "scheduler": "{{scheduler}}", "mode": "{{mode}}",
            "backends": [
              { "name": "b1", "address": "10.2.1.2", "port": 8080, "at": "b1/eth0" },
              { "name": "b2", "address": "10.2.2.2", "port": 8080, "at": "b2/eth0" } ]{{extra}} } ] }
        """, "lb.json");

    private sealed class Rig
    {
        public readonly DatapathEngine Engine;
        public readonly InjectionPoint At;
        public Rig(LoadBalancerConfig cfg)
        {
            Engine = new DatapathEngine(LabLoader.Load(Lab, "lb.lab")) { LoadBalancer = new Balancer(cfg) };
            Engine.LoadBalancer!.Validate(Engine.ResolveInjectionPoint);
            At = Engine.ResolveInjectionPoint("eth0");
        }

        public PacketTrace Send(byte[] frame, long frameNo = 1, double seconds = 0) =>
            Engine.Process(new CaptureFrame(frameNo, (long)(seconds * 1e9), LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame), "t.pcap", At);

        /// <summary>The balancer alone on a frame: returns the skb as it leaves it.</summary>
        public (LbOutcome, SkBuff, InjectionPoint, TraceBuilder) Balance(byte[] frame, double seconds = 0)
        {
            var skb = new SkBuff(frame) { Netns = At.Namespace, Dev = At.Device, Engine = Engine, TimestampNs = (long)(seconds * 1e9), MacHeader = 0, NetworkHeader = 14, Protocol = EtherTypes.Ipv4 };
            var t = new TraceBuilder();
            var outcome = Engine.LoadBalancer!.Receive(skb, t, 1, At, Engine.ResolveInjectionPoint, out var target);
            return (outcome, skb, target, t);
        }
    }

    private static byte[] ClientTcp(string client, ushort sport, byte flags = 0x02, ushort dport = 80, int payload = 0)
    {
        var s = IpAddr.Parse(client);
        return FrameBuilder.Ethernet(LbMac, ClientMac, 0x0800, FrameBuilder.Ipv4(s, Vip, 6, FrameBuilder.Tcp(s, Vip, sport, dport, flags, payload: payload)));
    }

    [Fact]
    public void NatRewritesTheDestinationAndTheBackendsSocketGetsIt()
    {
        var rig = new Rig(Config("nat"));
        var t = rig.Send(ClientTcp("198.51.100.7", 40000));
        Assert.True(t.Fate == Fate.Delivered, string.Join("\n", t.Path));
        Assert.Equal("tcp_v4_rcv", t.Reason); // tcp_v4_rcv checks the TCP checksum: the rewrite kept it right
        var lb = t.Path.Where(e => e.Namespace == "lb").ToList();
        Assert.Equal(new[] { "LbSchedule", "LbXmit" }, lb.Select(e => e.Stage));
        Assert.Contains("round robin", lb[0].Detail);
        Assert.Contains("b1 (10.2.1.2:8080)", lb[0].Detail);
        Assert.Contains("10.100.0.10:80 -> 10.2.1.2:8080", lb[1].Detail);
        Assert.Equal("b1", t.Path[^1].Namespace);
        Assert.Contains(t.Path, e => e.Namespace == "b1" && e.Function == "eth_type_trans" && e.Detail!.StartsWith("pkt_type HOST"));
    }

    [Fact]
    public void NatChecksumsVerifyInBothDirections()
    {
        var rig = new Rig(Config("nat"));
        var (outcome, skb, target, _) = rig.Balance(ClientTcp("198.51.100.7", 40000, payload: 11));
        Assert.Equal(LbOutcome.Redirected, outcome);
        Assert.Equal("b1/eth0", target.ToString());
        Assert.True(Ipv4Header.TryParse(skb.Network, out var ip, out _));
        Assert.True(ip.HeaderChecksumValid);
        Assert.Equal(IpAddr.Parse("10.2.1.2"), ip.Destination);
        Assert.True(TcpHeader.TryParse(ip.Payload, out var tcp, out _));
        Assert.Equal(8080, tcp.DestinationPort);
        Assert.True(Checksum.TransportValid(ip.Source, ip.Destination, IpProtocol.Tcp, ip.Payload));
        Assert.Equal(MacAddress.Parse("02:00:00:00:0b:11"), MacAddress.Read(skb.Data)); // b1's eth0
        Assert.Equal(LbMac, MacAddress.Read(skb.Data[6..]));

        // The backend's reply passes back through: its source becomes the VIP again.
        var b1 = IpAddr.Parse("10.2.1.2"); var client = IpAddr.Parse("198.51.100.7");
        var reply = FrameBuilder.Ethernet(LbMac, MacAddress.Parse("02:00:00:00:0b:11"), 0x0800,
            FrameBuilder.Ipv4(b1, client, 6, FrameBuilder.Tcp(b1, client, 8080, 40000, 0x12, payload: 5)));
        var (back, rskb, _, rt) = rig.Balance(reply);
        Assert.Equal(LbOutcome.Ended, back);
        Assert.Equal(Fate.Forwarded, rt.Fate);
        Assert.True(Ipv4Header.TryParse(rskb.Network, out var rip, out _));
        Assert.True(rip.HeaderChecksumValid);
        Assert.Equal(Vip, rip.Source);
        Assert.True(TcpHeader.TryParse(rip.Payload, out var rtcp, out _));
        Assert.Equal(80, rtcp.SourcePort);
        Assert.True(Checksum.TransportValid(rip.Source, rip.Destination, IpProtocol.Tcp, rip.Payload));
        Assert.Contains("10.2.1.2:8080 -> 10.100.0.10:80", rt.Path[^1].Detail);
    }

    [Fact]
    public void NatKeepsAnOffloadedChecksumAPseudoHeaderSum()
    {
        // Captured on the sender, the TCP checksum field holds only the pseudo-header sum (CHECKSUM_PARTIAL);
        // after NAT it must be the pseudo-header sum of the new addresses, as inet_proto_csum_replace4 keeps it.
        var frame = ClientTcp("198.51.100.7", 40000, payload: 7);
        var client = IpAddr.Parse("198.51.100.7");
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14 + 20 + 16), Checksum.Fold(Checksum.PseudoHeader(client, Vip, 6, 27)));
        var (_, skb, _, _) = new Rig(Config("nat")).Balance(frame);
        Assert.True(Ipv4Header.TryParse(skb.Network, out var ip, out _));
        Assert.Equal(Checksum.Fold(Checksum.PseudoHeader(client, IpAddr.Parse("10.2.1.2"), 6, 27)), BinaryPrimitives.ReadUInt16BigEndian(ip.Payload[16..]));
        Assert.True(ip.HeaderChecksumValid);
    }

    [Fact]
    public void ReplyThroughTheEngineEndsAtTheLoadBalancer()
    {
        var rig = new Rig(Config("nat"));
        rig.Send(ClientTcp("198.51.100.7", 40000));
        var b1 = IpAddr.Parse("10.2.1.2"); var client = IpAddr.Parse("198.51.100.7");
        var t = rig.Send(FrameBuilder.Ethernet(LbMac, ClientMac, 0x0800, FrameBuilder.Ipv4(b1, client, 6, FrameBuilder.Tcp(b1, client, 8080, 40000, 0x12))), 2);
        Assert.Equal(Fate.Forwarded, t.Fate);
        Assert.Equal("lb/tcp 10.100.0.10:80", t.Egress);
        Assert.Equal("LbReverseNat", t.Path[^1].Stage);
    }

    [Fact]
    public void DsrRewritesOnlyTheDestinationMac()
    {
        var rig = new Rig(Config("dsr"));
        var frame = ClientTcp("198.51.100.7", 40000, payload: 3);
        var (outcome, skb, target, _) = rig.Balance(frame);
        Assert.Equal(LbOutcome.Redirected, outcome);
        var after = skb.Data.ToArray();
        Assert.Equal(MacAddress.Parse("02:00:00:00:0b:11"), MacAddress.Read(after));
        Assert.Equal(frame[6..], after[6..]); // source MAC, EtherType and the whole IP packet unchanged
        // The backend holds the VIP on lo, so its socket on port 80 gets it.
        var t = new Rig(Config("dsr")).Send(frame);
        Assert.True(t.Fate == Fate.Delivered, string.Join("\n", t.Path));
        Assert.Contains(t.Path, e => e.Namespace == "b1" && e.Function == "tcp_v4_rcv");
    }

    [Fact]
    public void FlowsStickToTheirBackendAndDownBackendsGetNoNewFlows()
    {
        var rig = new Rig(Config("nat", extra: """, "health": [ { "after": 5, "backend": "b1", "state": "down" }, { "after": 8, "backend": "b1", "state": "up" } ]"""));
        Assert.Equal("b1", rig.Send(ClientTcp("198.51.100.7", 40000), 1, 0).Path[^1].Namespace);
        Assert.Equal("b2", rig.Send(ClientTcp("198.51.100.7", 40001), 2, 1).Path[^1].Namespace);
        var again = rig.Send(ClientTcp("198.51.100.7", 40000, 0x10), 3, 2);
        Assert.Equal("b1", again.Path[^1].Namespace);
        Assert.Contains("sticks to b1", again.Path.First(e => e.Stage == "LbSchedule").Detail);
        // At +5 s b1 goes down: its live flow is re-scheduled to b2, and the trace says so.
        var moved = rig.Send(ClientTcp("198.51.100.7", 40000, 0x10), 4, 6);
        Assert.Contains(moved.Path, e => e.Stage == "LbHealth" && e.Detail!.Contains("b1 (10.2.1.2:8080) marked down"));
        Assert.Contains("backend b1 (10.2.1.2:8080) is down: flow re-scheduled", moved.Path.First(e => e.Stage == "LbSchedule").Detail);
        Assert.Equal("b2", moved.Path[^1].Namespace);
        Assert.Equal("b2", rig.Send(ClientTcp("198.51.100.8", 40002), 5, 6.5).Path[^1].Namespace);
        // Back up at +8 s: the moved flow stays on b2 (it is sticky there now).
        Assert.Equal("b2", rig.Send(ClientTcp("198.51.100.7", 40000, 0x10), 6, 9).Path[^1].Namespace);
    }

    [Fact]
    public void NoBackendUpDropsAtTheLoadBalancer()
    {
        var cfg = LoadBalancerConfigReader.Parse("""
            { "vips": [ { "address": "10.100.0.10", "port": 80, "backends": [ { "address": "10.2.1.2", "state": "down", "at": "b1/eth0" } ] } ] }
            """, "lb.json");
        var t = new Rig(cfg).Send(ClientTcp("198.51.100.7", 40000));
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.Equal("load balancer: no backend up for tcp 10.100.0.10:80", t.Reason);
        Assert.Equal(Verdict.Drop, t.Path[^1].Verdict);
    }

    [Fact]
    public void WeightedLeastConnectionsCountsFlowsUntilFinOrIdleTimeout()
    {
        var rig = new Rig(Config("nat", "wlc"));
        Assert.Equal("b1", rig.Send(ClientTcp("198.51.100.1", 1), 1, 0).Path[^1].Namespace);
        Assert.Equal("b2", rig.Send(ClientTcp("198.51.100.2", 2), 2, 0).Path[^1].Namespace);
        // The first flow ends with a FIN: b1 has 0 live connections, b2 has 1, so b1 gets the next one.
        rig.Send(ClientTcp("198.51.100.1", 1, 0x11), 3, 1);
        var t = rig.Send(ClientTcp("198.51.100.3", 3), 4, 1);
        Assert.Equal("b1", t.Path[^1].Namespace);
        Assert.Contains("b1 0/1, b2 1/1", t.Path.First(e => e.Stage == "LbSchedule").Detail);
        // 20 s later (idle timeout 10 s) nothing is live: a tie, the first backend.
        var late = rig.Send(ClientTcp("198.51.100.4", 4), 5, 21);
        Assert.Contains("b1 0/1, b2 0/1", late.Path.First(e => e.Stage == "LbSchedule").Detail);
    }

    [Fact]
    public void TheFlowTableForgetsIdleFlowsByCaptureTimeAndKeepsLiveOnes()
    {
        var rig = new Rig(Config("nat", "maglev"));
        for (int i = 0; i < 50; i++) rig.Balance(ClientTcp("198.51.100.1", (ushort)(1000 + i)), seconds: i * 0.1);
        rig.Balance(ClientTcp("198.51.100.9", 9), seconds: 9); // a flow still in use
        Assert.Equal(51, rig.Engine.LoadBalancer!.Flows.Count);
        // at 15 s (idle timeout 10 s, swept every 10 s) the 50 early flows are gone, the one used at 9 s stays
        rig.Balance(ClientTcp("198.51.100.2", 2), seconds: 15);
        Assert.Equal(2, rig.Engine.LoadBalancer.Flows.Count);
        var again = rig.Balance(ClientTcp("198.51.100.9", 9), seconds: 15.5).Item4;
        Assert.Contains(again.Path, e => e.Stage == "LbSchedule" && e.Detail!.Contains("sticks to"));
    }

    [Fact]
    public void AFullFlowTableForgetsItsLeastRecentlyUsedFlow()
    {
        var rig = new Rig(Config("nat", "rr") with { FlowTableSize = 3 });
        rig.Balance(ClientTcp("198.51.100.1", 1), seconds: 0);
        rig.Balance(ClientTcp("198.51.100.2", 2), seconds: 1);
        rig.Balance(ClientTcp("198.51.100.3", 3), seconds: 2);
        rig.Balance(ClientTcp("198.51.100.1", 1), seconds: 3); // flow 1 used again: flow 2 is now the oldest
        rig.Balance(ClientTcp("198.51.100.4", 4), seconds: 4);
        var flows = rig.Engine.LoadBalancer!.Flows;
        Assert.Equal(3, flows.Count);
        Assert.Null(flows.Find(new LbFlowKey(6, IpAddr.Parse("198.51.100.2"), 2, Vip, 80)));
        Assert.NotNull(flows.Find(new LbFlowKey(6, IpAddr.Parse("198.51.100.1"), 1, Vip, 80)));
        var back = rig.Balance(ClientTcp("198.51.100.2", 2), seconds: 5).Item4;
        Assert.Contains(back.Path, e => e.Stage == "LbSchedule" && e.Detail!.StartsWith("new flow"));
    }

    [Fact]
    public void FlowTableSizeMustBeAWholeNumberFromOne()
    {
        var e = Assert.ThrowsAny<Exception>(() => LoadBalancerConfigReader.Parse("""
            { "flowTableSize": 0, "vips": [ { "address": "10.100.0.10", "port": 80, "backends": [ { "address": "10.2.1.2" } ] } ] }
            """, "lb.json"));
        Assert.Contains("flowTableSize", e.Message);
    }

    [Fact]
    public void PacketsNotForAVipPassByUnchanged()
    {
        var rig = new Rig(Config("nat"));
        var t = rig.Send(ClientTcp("198.51.100.7", 40000, dport: 81));
        Assert.DoesNotContain(t.Path, e => e.Namespace == "lb");
        Assert.Equal("host", t.Path[0].Namespace);
    }

    [Theory]
    [InlineData("ipip")]
    [InlineData("gue")]
    public void EncapsulationHeadersParseBack(string mode)
    {
        var rig = new Rig(Config(mode));
        var frame = ClientTcp("198.51.100.7", 40000, payload: 20);
        var inner = frame[14..];
        var (outcome, skb, _, t) = rig.Balance(frame);
        Assert.Equal(LbOutcome.Redirected, outcome);
        Assert.Equal(EtherTypes.Ipv4, BinaryPrimitives.ReadUInt16BigEndian(skb.Data[12..]));
        Assert.True(Ipv4Header.TryParse(skb.Network, out var outer, out _));
        Assert.Null(outer.HeaderProblem());
        Assert.True(outer.HeaderChecksumValid);
        Assert.Equal(IpAddr.Parse("10.1.0.254"), outer.Source);
        Assert.Equal(IpAddr.Parse("10.2.1.2"), outer.Destination);
        Assert.Equal(inner[1], outer.Tos);
        Assert.Equal(20 + (mode == "gue" ? 8 : 0) + inner.Length, outer.TotalLength);
        ReadOnlySpan<byte> payload = outer.Payload;
        if (mode == "ipip") Assert.Equal(IpProtocol.IpIp, outer.Protocol);
        else
        {
            Assert.Equal(IpProtocol.Udp, outer.Protocol);
            Assert.True(UdpHeader.TryParse(payload, out var udp, out _));
            Assert.Equal(LoadBalancerConfig.DefaultGuePort, udp.DestinationPort);
            Assert.Equal(8 + inner.Length, udp.Length);
            Assert.Equal(0, udp.Checksum);
            Assert.Equal(Balancer.GueSourcePort(new LbFlowKey(6, IpAddr.Parse("198.51.100.7"), 40000, Vip, 80)), udp.SourcePort);
            payload = udp.Payload;
        }
        Assert.Equal(inner, payload.ToArray()); // the client's packet, untouched, inside
        Assert.Contains(mode == "ipip" ? "IP-in-IP" : "GUE", t.Path[^1].Detail);
    }

    [Fact]
    public void GueOverIpv6HasAUdpChecksum()
    {
        var outer = LbEncap.Gue(IpAddr.Parse("fd00::1"), IpAddr.Parse("fd00::2"), 1234, 6080, FrameBuilder.Ipv4(IpAddr.Parse("1.2.3.4"), Vip, 17, new byte[8]), false);
        Assert.True(Ipv6Header.TryParse(outer, out var ip6, out _));
        Assert.Equal(IpProtocol.Udp, ip6.NextHeader);
        Assert.True(Checksum.TransportValid(ip6.Source, ip6.Destination, IpProtocol.Udp, ip6.Payload));
        var ipip6 = LbEncap.Ipip(IpAddr.Parse("fd00::1"), IpAddr.Parse("fd00::2"), FrameBuilder.Ipv6(IpAddr.Parse("fd01::1"), IpAddr.Parse("fd01::2"), 59, Array.Empty<byte>()), true);
        Assert.True(Ipv6Header.TryParse(ipip6, out var o6, out _));
        Assert.Equal(IpProtocol.Ipv6, o6.NextHeader);
        Assert.Equal(40, o6.PayloadLength);
    }
}
