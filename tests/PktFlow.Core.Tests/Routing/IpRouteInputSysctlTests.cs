using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Tests.Datapath;
using PktFlow.Wire;

namespace PktFlow.Tests.Routing;

/// <summary>
/// ip_route_input_slow's sysctls, one crafted packet in at eth0 of a router: accept_local (conf.all or
/// the device, IN_DEV_ACCEPT_LOCAL) for unicast and broadcast destinations, route_localnet (either) for
/// 127.0.0.0/8, martian destinations (0.0.0.0). tests/scenarios/route-sysctls-rules records the device-only
/// accept_local and the martians.
/// </summary>
public class IpRouteInputSysctlTests
{
    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip link set eth1 up
        ip link set lo up
        ip addr add 10.1.0.1/24 dev eth0
        ip addr add 10.2.0.1/24 dev eth1
        sysctl -w net.ipv4.ip_forward=1

        """;

    private static readonly MacAddress Host = MacAddress.Parse("02:00:00:00:01:01"), Client = MacAddress.Parse("02:00:00:00:01:02");

    private static PacketTrace Udp(string src, string dst, string sysctls, MacAddress? dmac = null)
    {
        IpAddr s = IpAddr.Parse(src), d = IpAddr.Parse(dst);
        return ReceivePathTests.Run(FrameBuilder.Ethernet(dmac ?? Host, Client, 0x0800,
            FrameBuilder.Ipv4(s, d, 17, FrameBuilder.Udp(s, d, 4000, 9))), Lab + sysctls);
    }

    public static TheoryData<string, string, string, string> Cases() => new()
    {
        // delivered: udp_rcv (the lab lists no sockets)
        // a source that is the router's own (eth1) address: martian unless accept_local, the device's or conf.all's
        { "10.2.0.1", "10.1.0.1", "", "IP_LOCAL_SOURCE" },
        { "10.2.0.1", "10.1.0.1", "sysctl -w net.ipv4.conf.eth0.accept_local=1", "udp_rcv" },
        { "10.2.0.1", "10.1.0.1", "sysctl -w net.ipv4.conf.all.accept_local=1", "udp_rcv" },
        { "10.2.0.1", "10.1.0.1", "sysctl -w net.ipv4.conf.eth1.accept_local=1", "IP_LOCAL_SOURCE" },
        // the same to the subnet broadcast (brd_input validates the source too)
        { "10.2.0.1", "10.1.0.255", "", "IP_LOCAL_SOURCE" },
        { "10.2.0.1", "10.1.0.255", "sysctl -w net.ipv4.conf.eth0.accept_local=1", "udp_rcv" },
        { "10.2.0.1", "10.1.0.255", "sysctl -w net.ipv4.conf.all.accept_local=1", "udp_rcv" },
        // 127.0.0.0/8 from outside: martian unless route_localnet (device or conf.all)
        { "10.1.0.2", "127.0.0.1", "", "IP_LOCALNET" },
        { "10.1.0.2", "127.0.0.1", "sysctl -w net.ipv4.conf.eth0.route_localnet=1", "udp_rcv" },
        { "10.1.0.2", "127.0.0.1", "sysctl -w net.ipv4.conf.all.route_localnet=1", "udp_rcv" },
        { "127.0.0.1", "10.1.0.1", "", "IP_LOCALNET" },
        // martian destination 0.0.0.0; other 0.0.0.0/8 destinations are routed like any unicast on 6.18
        // (no route here: dropped with ICMP net unreachable; recorded in route-sysctls-rules)
        { "10.1.0.2", "0.0.0.0", "", "IP_INVALID_DEST" },
        { "10.1.0.2", "0.1.2.3", "", "IP_INNOROUTES" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void SourceAndDestinationChecks(string src, string dst, string sysctls, string reason)
    {
        var t = Udp(src, dst, sysctls, dst.EndsWith(".255", StringComparison.Ordinal) ? MacAddress.Broadcast : null);
        Assert.True(reason == t.Reason, $"got {t.Fate} ({t.Reason}); path: {string.Join(" | ", t.Path.Select(e => e.Detail))}");
    }
}
