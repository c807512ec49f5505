using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// `fib daddr type` for IPv6 (nft_fib6_type), as 6.18 answered in namespaces: one UDP datagram per
/// destination from the peer into eth0 of a forwarding host with 2001:db8:1::b/64 on eth0,
/// 2001:db8:2::b/64 on eth1, a route via eth1 and blackhole, unreachable and prohibit routes, and
/// prerouting rules counting each type with and without `. iif`.
/// </summary>
public class NftFib6TypeTests
{
    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip link set eth1 up
        sysctl -w net.ipv6.conf.all.forwarding=1
        ip -6 addr add 2001:db8:1::b/64 dev eth0 nodad
        ip -6 addr add 2001:db8:2::b/64 dev eth1 nodad
        ip -6 route add 2001:db8:e::/64 dev eth1
        ip -6 route add blackhole 2001:db8:b::/64
        ip -6 route add unreachable 2001:db8:c::/64
        ip -6 route add prohibit 2001:db8:d::/64
        nft -f - <<'NFT'
        table ip6 t {
            chain pre {
                type filter hook prerouting priority 0
                fib daddr type vmap { unicast : jump unicast, local : jump local, anycast : jump anycast, multicast : jump multicast, blackhole : jump blackhole, unreachable : jump unreachable, prohibit : jump prohibit }
            }
            chain pre_iif {
                type filter hook prerouting priority 1
                fib daddr . iif type vmap { unicast : jump unicast, local : jump local, anycast : jump anycast, multicast : jump multicast, blackhole : jump blackhole, unreachable : jump unreachable, prohibit : jump prohibit }
            }
            chain unicast { }
            chain local { }
            chain anycast { }
            chain multicast { }
            chain blackhole { }
            chain unreachable { }
            chain prohibit { }
        }
        NFT
        """;

    [Theory]
    [InlineData("2001:db8:1::b", "local", "local")]
    [InlineData("2001:db8:2::b", "local", "unicast")]
    [InlineData("2001:db8:1::", "anycast", "anycast")]
    [InlineData("2001:db8:2::", "anycast", "anycast")]
    [InlineData("2001:db8:1::5", "unicast", "unicast")]
    [InlineData("2001:db8:e::5", "unicast", "unicast")]
    [InlineData("2001:db8:b::5", "blackhole", "blackhole")]
    [InlineData("2001:db8:c::5", "unreachable", "unreachable")]
    [InlineData("2001:db8:d::5", "prohibit", "prohibit")]
    [InlineData("2001:db8:9::5", "unreachable", "unreachable")]
    [InlineData("ff02::1", "multicast", "multicast")]
    [InlineData("ff05::1", "multicast", "multicast")]
    [InlineData("fe80::99", "unicast", "unicast")]
    public void TypesAsTheKernelAnswered(string dst, string type, string typeOnIif)
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "fib6.lab"));
        var d = IpAddr.Parse(dst);
        var dmac = d.IsMulticast ? FrameBuilder.MulticastMac(d) : MacAddress.Parse("02:00:00:00:01:01");
        var src = IpAddr.Parse("2001:db8:1::a");
        var frame = FrameBuilder.Ethernet(dmac, MacAddress.Parse("02:00:00:00:01:02"), EtherTypes.Ipv6,
            FrameBuilder.Ipv6(src, d, IpProtocol.Udp, FrameBuilder.Udp(src, d, 1, 2)));
        var t = engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame),
            "t.pcap", engine.ResolveInjectionPoint("eth0"));
        // each vmap jumps to the chain named after the type; its end returns
        Assert.Equal(new[] { type, typeOnIif }, t.Path.Where(e => e.Verdict == Verdict.Return && e.Table == "t").Select(e => e.Chain).ToArray());
    }
}
