using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Datapath;

/// <summary>A host routing into a container namespace over a veth pair: the path crosses namespaces.</summary>
public class NamespaceCrossingTests
{
    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 10.1.0.1/24 dev eth0
        ip netns add c1
        ip link add veth-c1 address 02:00:00:00:0c:01 type veth peer name eth0 netns c1 address 02:00:00:00:0c:02
        ip link set veth-c1 up
        ip addr add 172.17.0.1/24 dev veth-c1
        ip -n c1 link set lo up
        ip -n c1 link set eth0 up
        ip -n c1 addr add 172.17.0.2/24 dev eth0
        ip -n c1 route add default via 172.17.0.1
        ip netns exec c1 timeout 60 socat -u TCP4-LISTEN:80,fork OPEN:/dev/null &
        sysctl -w net.ipv4.ip_forward=1
        """;

    private static PacketTrace Run(string dst, ushort port = 80, byte ttl = 64)
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "c.lab"));
        var s = IpAddr.Parse("10.1.0.2"); var d = IpAddr.Parse(dst);
        var f = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:01:01"), MacAddress.Parse("02:00:00:00:01:02"), 0x0800,
            FrameBuilder.Ipv4(s, d, 6, FrameBuilder.Tcp(s, d, 40000, port), ttl));
        return engine.Process(new CaptureFrame(1, 0, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }

    [Fact]
    public void ReachesTheContainerSocketAcrossTheVethPair()
    {
        var t = Run("172.17.0.2");
        Assert.True(t.Fate == Fate.Delivered, string.Join("\n", t.Path));
        Assert.Equal("tcp_v4_rcv", t.Reason);
        var hops = t.Path.Select(e => e.Namespace + "/" + e.Device).Distinct().ToArray();
        Assert.Equal(new[] { "host/eth0", "host/veth-c1", "c1/eth0" }, hops);
        Assert.Contains(t.Path, e => e.Function == "veth_xmit" && e.Detail == "veth-c1 -> c1/eth0");
        // The frame arrives for the container's MAC, with TTL 63, and is delivered to its socket.
        Assert.Contains(t.Path, e => e.Namespace == "c1" && e.Function == "eth_type_trans" && e.Detail!.StartsWith("pkt_type HOST"));
        Assert.Contains(t.Path, e => e.Namespace == "c1" && e.Function == "ip_rcv_core" && e.Detail!.Contains("ttl 63"));
    }

    [Fact]
    public void ClosedPortInTheContainerIsAnsweredByItsKernel()
    {
        var t = Run("172.17.0.2", port: 81);
        Assert.Equal("NO_SOCKET", t.Reason);
        Assert.Equal("c1", t.Path[^1].Namespace);
    }

    [Fact]
    public void AnAddressNobodyHasBehindTheVethFailsNeighbourResolution()
    {
        var t = Run("172.17.0.9");
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.Equal("NEIGH_FAILED", t.Reason);
        Assert.Contains("does not have it", t.Path[^1].Detail);
    }

    [Fact]
    public void TtlTwoExpiresNowhereButTtlOneAtTheHost()
    {
        Assert.Equal(Fate.Delivered, Run("172.17.0.2", ttl: 2).Fate);
        Assert.Equal("IP_INHDR", Run("172.17.0.2", ttl: 1).Reason);
    }
}
