using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Routing;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Routing;

/// <summary>
/// ECMP nexthop selection against the answers of `ip route get 198.51.100.X from 10.0.3.9 iif c1
/// [ipproto tcp sport P dport 80]` on Linux 6.18 with net.ipv4.fib_multipath_hash_seed=12345 and the
/// same two-nexthop route (weights 1 and 2).
/// </summary>
public class FibMultipathTests
{
    private static string Lab(int policy, uint seed = 12345) => $"""
        sysctl -w net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_seed={seed} net.ipv4.fib_multipath_hash_policy={policy}
        ip link add c1 address 02:00:00:00:03:01 type veth peer name c2
        ip link add a1 type veth peer name a2
        ip link add b1 type veth peer name b2
        ip link set a1 up
        ip link set b1 up
        ip link set c1 up
        ip addr add 10.0.1.1/24 dev a1
        ip addr add 10.0.2.1/24 dev b1
        ip addr add 10.0.3.1/24 dev c1
        ip route add 198.51.100.0/24 nexthop via 10.0.1.2 dev a1 weight 1 nexthop via 10.0.2.2 dev b1 weight 2
        """;

    private static readonly MacAddress C1 = MacAddress.Parse("02:00:00:00:03:01"), Client = MacAddress.Parse("02:00:00:00:03:02");
    private static readonly IpAddr Src = IpAddr.Parse("10.0.3.9");

    private static PacketTrace Forward(DatapathEngine engine, IpAddr dst, byte proto, byte[] l4)
    {
        var f = FrameBuilder.Ethernet(C1, Client, EtherTypes.Ipv4, FrameBuilder.Ipv4(Src, dst, proto, l4));
        return engine.Process(new CaptureFrame(1, 0, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("c1"));
    }

    private static string ChosenDevice(PacketTrace t) =>
        t.Path.Single(e => e.Function == "fib_select_multipath").Detail!.Split(" -> ")[1].Split(' ')[3].TrimEnd(';');

    [Fact]
    public void Policy0HashesTheAddressesAsTheKernelDoes()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab(0), "ecmp.lab"));
        var chosen = Enumerable.Range(1, 8).Select(h =>
            ChosenDevice(Forward(engine, IpAddr.Parse($"198.51.100.{h}"), IpProtocol.Udp, FrameBuilder.Udp(Src, IpAddr.Parse($"198.51.100.{h}"), 5000, 53))));
        Assert.Equal(new[] { "b1", "a1", "b1", "a1", "b1", "b1", "a1", "a1" }, chosen.ToArray());
    }

    [Fact]
    public void Policy1HashesPortsAndProtocolAsTheKernelDoes()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab(1), "ecmp.lab"));
        var dst = IpAddr.Parse("198.51.100.7");
        var traces = Enumerable.Range(1000, 8).Select(p => Forward(engine, dst, IpProtocol.Tcp, FrameBuilder.Tcp(Src, dst, (ushort)p, 80))).ToList();
        Assert.Equal(new[] { "b1", "b1", "a1", "b1", "b1", "b1", "a1", "b1" }, traces.Select(ChosenDevice).ToArray());
        Assert.All(traces, t => Assert.Contains(t.Path, e => e.Function == "ip_forward" || e.Device is "a1" or "b1"));
    }

    [Fact]
    public void WithoutASeedTheChoiceIsSaidToBeTheKernelsRandomKey()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab(0, seed: 0), "ecmp.lab"));
        var t = Forward(engine, IpAddr.Parse("198.51.100.7"), IpProtocol.Udp, FrameBuilder.Udp(Src, IpAddr.Parse("198.51.100.7"), 5000, 53));
        var stage = t.Path.Single(e => e.Function == "fib_select_multipath");
        Assert.Contains("random per boot", stage.Detail);
        Assert.Contains("via 10.0.1.2 dev a1 weight 1", stage.Detail);
        Assert.Contains("via 10.0.2.2 dev b1 weight 2", stage.Detail);
    }

    [Fact]
    public void UpperBoundsFollowTheWeightsAndADownDeviceIsSkipped()
    {
        // fib_rebalance: weights 1 and 2 give upper bounds round(2^31/3)-1 and 2^31-1.
        var engine = new DatapathEngine(LabLoader.Load(Lab(0) + "\nip link set a1 down", "ecmp.lab"));
        var t = Forward(engine, IpAddr.Parse("198.51.100.2"), IpProtocol.Udp, FrameBuilder.Udp(Src, IpAddr.Parse("198.51.100.2"), 5000, 53));
        var stage = t.Path.Single(e => e.Function == "fib_select_multipath");
        Assert.Contains("dev a1 weight 1 (upper bound -1)", stage.Detail);
        Assert.Equal("b1", ChosenDevice(t));
        var up = new DatapathEngine(LabLoader.Load(Lab(0), "ecmp.lab"));
        Assert.Contains("(upper bound 715827882)", Forward(up, IpAddr.Parse("198.51.100.2"), IpProtocol.Udp, FrameBuilder.Udp(Src, IpAddr.Parse("198.51.100.2"), 5000, 53)).Path.Single(e => e.Function == "fib_select_multipath").Detail);
    }

    [Fact]
    public void SipHashMatchesTheReferenceVector()
    {
        // SipHash-2-4 paper, appendix A: key 00..0f, message 00..0e -> a129ca6149be45e5.
        var key = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();
        ulong k0 = BitConverter.ToUInt64(key, 0), k1 = BitConverter.ToUInt64(key, 8);
        var msg = Enumerable.Range(0, 15).Select(i => (byte)i).ToArray();
        Assert.Equal(0xa129ca6149be45e5UL, FibMultipath.SipHash24(k0, k1, msg));
    }

    [Fact]
    public void LabErrorsNameTheToken()
    {
        var e = Assert.Throws<LabException>(() => LabLoader.Load(Lab(0) + "\nip route add 203.0.113.0/24 nexthop via 10.0.1.2 dev a1 weight 300", "ecmp.lab"));
        Assert.Equal("300", e.Token);
        var nh = Assert.Throws<LabException>(() => LabLoader.Load(Lab(0) + "\nip route add 203.0.113.0/24 nhid 10", "ecmp.lab"));
        Assert.Contains("Nexthop id does not exist", nh.Message);
        Assert.Contains("ecmp.lab:12", nh.Message);
    }
}
