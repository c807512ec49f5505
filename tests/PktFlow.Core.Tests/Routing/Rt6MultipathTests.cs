using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Routing;

/// <summary>
/// IPv6 ECMP and nexthop groups against `ip -6 route get ADDR from 2001:db8:9::1 iif p1 ipproto P
/// [sport S dport D]` (and `ip route get` for the IPv4 group) on Linux 6.18 with
/// net.ipv4.fib_multipath_hash_seed=12345 and the same routes.
/// </summary>
public class Rt6MultipathTests
{
    private static string Lab(int policy) => $"""
        sysctl -w net.ipv6.conf.all.forwarding=1 net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_seed=12345 net.ipv6.fib_multipath_hash_policy={policy}
        ip link add p1 address 02:00:00:00:03:01 type veth peer name p2
        ip link add up1 type veth peer name q1
        ip link add up2 type veth peer name q2
        ip link set p1 up
        ip link set up1 up
        ip link set up2 up
        ip link set q1 up
        ip link set q2 up
        ip addr add 10.0.1.1/24 dev up1
        ip addr add 10.0.2.1/24 dev up2
        ip addr add 10.0.3.1/24 dev p1
        ip -6 addr add 2001:db8:1::1/64 dev up1
        ip -6 addr add 2001:db8:2::1/64 dev up2
        ip -6 route add 2001:db8:200::/64 nexthop via 2001:db8:1::2 dev up1 weight 1 nexthop via 2001:db8:2::2 dev up2 weight 2
        ip nexthop add id 1 via 10.0.1.2 dev up1
        ip nexthop add id 2 via 10.0.2.2 dev up2
        ip nexthop add id 10 group 1/2,3
        ip route add 198.51.100.0/24 nhid 10
        ip nexthop add id 6 via 2001:db8:1::2 dev up1
        ip nexthop add id 7 via 2001:db8:2::2 dev up2
        ip nexthop add id 60 group 6/7
        ip -6 route add 2001:db8:100::/64 nhid 60
        """;

    private static readonly MacAddress P1 = MacAddress.Parse("02:00:00:00:03:01"), Client = MacAddress.Parse("02:00:00:00:03:02");
    private static readonly IpAddr Src6 = IpAddr.Parse("2001:db8:9::1"), Src4 = IpAddr.Parse("10.0.3.9");

    internal static PacketTrace Send(DatapathEngine engine, byte[] network, ushort etherType = EtherTypes.Ipv6)
    {
        var f = FrameBuilder.Ethernet(P1, Client, etherType, network);
        return engine.Process(new CaptureFrame(1, 0, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("p1"));
    }

    internal static string Stage(PacketTrace t, string function) => t.Path.Single(e => e.Function == function).Detail!;

    /// <summary>The device of the chosen nexthop, from "hash H -> via A dev D weight W; ...".</summary>
    internal static string Chosen(string detail) => detail.Split(" -> ")[1].Split(' ')[3].TrimEnd(';');

    private static string[] Udp6(DatapathEngine e, string prefix, Func<int, (int Host, ushort Sport, ushort Dport)> flow) =>
        Enumerable.Range(0, 8).Select(i =>
        {
            var (h, sp, dp) = flow(i);
            var dst = IpAddr.Parse($"{prefix}{h:x}");
            return Chosen(Stage(Send(e, FrameBuilder.Ipv6(Src6, dst, IpProtocol.Udp, FrameBuilder.Udp(Src6, dst, sp, dp))), "fib6_select_path"));
        }).ToArray();

    [Fact]
    public void Policy0HashesAddressesFlowLabelAndNextHeader()
    {
        var e = new DatapathEngine(LabLoader.Load(Lab(0), "ecmp6.lab"));
        Assert.Equal(new[] { "up1", "up2", "up2", "up2", "up1", "up1", "up1", "up1" }, Udp6(e, "2001:db8:200::", i => (i + 1, 5000, 53)));
        var tcp = Enumerable.Range(1, 8).Select(h =>
        {
            var dst = IpAddr.Parse($"2001:db8:100::{h}");
            return Chosen(Stage(Send(e, FrameBuilder.Ipv6(Src6, dst, IpProtocol.Tcp, FrameBuilder.Tcp(Src6, dst, 40000, 80))), "fib6_select_path"));
        });
        Assert.Equal(new[] { "up2", "up1", "up2", "up1", "up2", "up2", "up1", "up1" }, tcp.ToArray());
    }

    [Fact]
    public void Policy1HashesPortsAndTheGroupWalksItsMembers()
    {
        var e = new DatapathEngine(LabLoader.Load(Lab(1), "ecmp6.lab"));
        var tcp = Enumerable.Range(1000, 8).Select(p =>
        {
            var dst = IpAddr.Parse("2001:db8:200::7");
            return Chosen(Stage(Send(e, FrameBuilder.Ipv6(Src6, dst, IpProtocol.Tcp, FrameBuilder.Tcp(Src6, dst, (ushort)p, 80))), "fib6_select_path"));
        });
        Assert.Equal(new[] { "up1", "up2", "up1", "up2", "up2", "up1", "up2", "up1" }, tcp.ToArray());
        var group = Udp6(e, "2001:db8:100::", i => (7, (ushort)(1000 + i), 53));
        Assert.Equal(new[] { "up2", "up1", "up1", "up1", "up2", "up1", "up1", "up2" }, group);
        var detail = Stage(Send(e, FrameBuilder.Ipv6(Src6, IpAddr.Parse("2001:db8:100::7"), IpProtocol.Udp, FrameBuilder.Udp(Src6, IpAddr.Parse("2001:db8:100::7"), 1000, 53))), "fib6_select_path");
        Assert.Contains("nexthop group 60 (hash-threshold)", detail);
        Assert.Contains("per-boot flow hash", detail); // a capture's l4_hash would decide instead
    }

    [Fact]
    public void AnIpv4RouteThroughAWeightedGroup()
    {
        var e = new DatapathEngine(LabLoader.Load(Lab(0), "ecmp6.lab"));
        var chosen = Enumerable.Range(1, 8).Select(h =>
        {
            var dst = IpAddr.Parse($"198.51.100.{h}");
            return Chosen(Stage(Send(e, FrameBuilder.Ipv4(Src4, dst, IpProtocol.Udp, FrameBuilder.Udp(Src4, dst, 5000, 53)), EtherTypes.Ipv4), "fib_select_multipath"));
        });
        Assert.Equal(new[] { "up2", "up1", "up2", "up2", "up2", "up2", "up2", "up1" }, chosen.ToArray());
        // nh_hthr_group_rebalance: weights 1 and 3 give upper bounds round(2^31/4)-1 and 2^31-1.
        Assert.Contains("(upper bound 536870911)", Stage(Send(e, FrameBuilder.Ipv4(Src4, IpAddr.Parse("198.51.100.1"), IpProtocol.Udp,
            FrameBuilder.Udp(Src4, IpAddr.Parse("198.51.100.1"), 5000, 53)), EtherTypes.Ipv4), "fib_select_multipath"));
    }

    [Fact]
    public void AnIcmpv6ErrorIsHashedOnTheDatagramInsideUnderPolicy0()
    {
        var e = new DatapathEngine(LabLoader.Load(Lab(0), "ecmp6.lab"));
        var dst = IpAddr.Parse("2001:db8:200::5");
        foreach (var h in new[] { 1, 2, 3, 4 })
        {
            // The embedded datagram went from 2001:db8:200::h to the sender: the hash is that of its addresses.
            var innerSrc = IpAddr.Parse($"2001:db8:200::{h}");
            var inner = FrameBuilder.Ipv6(innerSrc, Src6, IpProtocol.Udp, FrameBuilder.Udp(innerSrc, Src6, 53, 5000));
            var err = FrameBuilder.Ipv6(Src6, dst, 58, FrameBuilder.Icmpv6(Src6, dst, 1, [0, 0, 0, 0, .. inner]));
            var detail = Stage(Send(e, err), "fib6_select_path");
            Assert.Contains($"({innerSrc} > {Src6} flow label 0x00000 proto 17)", detail);
        }
    }
}

/// <summary>The router's own ICMP errors over a multipath route: hashed on the datagram they answer.</summary>
public class Rt6MultipathIcmpErrorTests
{
    /// <summary>A router with addresses on p1 and up1 and a multipath route back to 2001:db8:400::/64 over both.</summary>
    private const string Lab = """
        sysctl -w net.ipv6.conf.all.forwarding=1 net.ipv4.fib_multipath_hash_seed=12345 net.ipv6.icmp.ratelimit=0
        ip link add p1 address 02:00:00:00:03:01 type veth peer name p2
        ip link add up1 type veth peer name q1
        ip link set p1 up
        ip link set up1 up
        ip -6 addr add 2001:db8:1::1/64 dev p1
        ip -6 addr add 2001:db8:a::1/64 dev up1
        ip -6 route add 2001:db8:400::/64 nexthop via 2001:db8:1::2 dev p1 nexthop via 2001:db8:a::2 dev up1
        """;

    [Fact]
    public void APortUnreachableIsHashedOnTheDatagramItAnswers()
    {
        var e = new DatapathEngine(LabLoader.Load(Lab + "\nsocat -u UDP6-RECV:5353 /dev/null &\n", "err.lab"));
        var src = IpAddr.Parse("2001:db8:400::3");
        var dst = IpAddr.Parse("2001:db8:1::1");
        var udp = FrameBuilder.Ipv6(src, dst, IpProtocol.Udp, FrameBuilder.Udp(src, dst, 40005, 9));
        udp[1] |= 0x05; udp[2] = 0x00; udp[3] = 0x03; // flow label 0x50003
        var t = Rt6MultipathTests.Send(e, udp);
        var child = Assert.Single(t.GeneratedTraces);
        var stage = Rt6MultipathTests.Stage(child, "fib6_select_path");
        Assert.Contains($"({src} > {dst} flow label 0x50003 proto 17)", stage);
        Assert.Contains("hashed on the packet the error answers", stage);
    }

    [Fact]
    public void AnErrorFromARouterTakesItsSourceFromTheNexthopTheHashChose()
    {
        // The router forwards hop-limit-1 packets and answers time exceeded to sources behind a multipath
        // route: ip6_route_get_saddr picks the source on the chosen sibling's device, not the first one's.
        var e = new DatapathEngine(LabLoader.Load(Lab, "err.lab"));
        var dst = IpAddr.Parse("2001:db8:a::99");
        var seen = new HashSet<string>();
        for (int i = 1; i <= 16; i++)
        {
            var src = IpAddr.Parse($"2001:db8:400::{i:x}");
            var t = Rt6MultipathTests.Send(e, FrameBuilder.Ipv6(src, dst, IpProtocol.Udp, FrameBuilder.Udp(src, dst, 40000, 9), 1));
            var child = Assert.Single(t.GeneratedTraces);
            var device = Rt6MultipathTests.Chosen(Rt6MultipathTests.Stage(child, "fib6_select_path"));
            var expected = device == "p1" ? "2001:db8:1::1" : "2001:db8:a::1";
            Assert.StartsWith($"IP6 {expected} > {src}", child.Summary);
            seen.Add(device);
        }
        Assert.Equal(2, seen.Count); // both siblings were chosen for some source
    }
}
