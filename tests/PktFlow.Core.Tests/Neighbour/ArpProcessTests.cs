using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Tests.Datapath;
using PktFlow.Wire;

namespace PktFlow.Tests.Neighbour;

/// <summary>
/// arp_process, table-driven: one ARP request in at eth0 of a host with addresses on eth0, eth1 and lo,
/// under each arp_ignore level (the larger of conf.all and the device), arp_filter, proxy_arp with
/// medium_id, proxy_arp_pvlan and proxy entries. Levels 1, 2, 3 and 8 and proxy_arp are also recorded
/// (tests/scenarios/arp-proxy-ignore).
/// </summary>
public class ArpProcessTests
{
    private const string Base = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip link set eth1 address 02:00:00:00:02:01
        ip link set eth1 up
        ip link set lo up
        ip addr add 10.1.0.1/24 dev eth0
        ip addr add 10.1.4.1/24 dev eth0
        ip addr add 10.2.0.1/24 dev eth1
        ip addr add 10.9.0.1/32 dev lo
        ip addr add 10.9.0.2/32 dev lo scope host
        """;

    private static readonly MacAddress Client = MacAddress.Parse("02:00:00:00:01:02");

    private static PacketTrace Ask(string sip, string tip, string extra) =>
        ReceivePathTests.Run(FrameBuilder.Ethernet(MacAddress.Broadcast, Client, 0x0806,
            FrameBuilder.Arp(1, Client, IpAddr.Parse(sip), MacAddress.Zero, IpAddr.Parse(tip))), Base + "\n" + extra);

    private static bool Replied(PacketTrace t) => t.Reason == "arp_process (reply sent)";

    public static TheoryData<string, string, string, bool> IgnoreCases() => new()
    {
        // level 0: any local address, on any device, any scope
        { "", "10.2.0.1", "10.1.0.2", true },
        { "", "10.9.0.2", "10.1.0.2", true },
        // level 1: only on the receiving device; the larger of all and the device wins either way round
        { "sysctl -w net.ipv4.conf.eth0.arp_ignore=1", "10.1.0.1", "10.1.0.2", true },
        { "sysctl -w net.ipv4.conf.eth0.arp_ignore=1", "10.9.0.1", "10.1.0.2", false },
        { "sysctl -w net.ipv4.conf.all.arp_ignore=1\nsysctl -w net.ipv4.conf.eth0.arp_ignore=0", "10.2.0.1", "10.1.0.2", false },
        // level 2: the sender also inside a subnet of the device that holds the target
        { "sysctl -w net.ipv4.conf.eth0.arp_ignore=2", "10.1.0.1", "10.1.0.2", true },
        { "sysctl -w net.ipv4.conf.eth0.arp_ignore=2", "10.1.4.1", "10.1.0.2", false },
        { "sysctl -w net.ipv4.conf.all.arp_ignore=2", "10.1.4.1", "10.1.4.99", true },
        // level 3: any device, but not a scope host address; route_localnet lets one through
        { "sysctl -w net.ipv4.conf.eth0.arp_ignore=3", "10.9.0.1", "10.1.0.2", true },
        { "sysctl -w net.ipv4.conf.eth0.arp_ignore=3", "10.9.0.2", "10.1.0.2", false },
        { "sysctl -w net.ipv4.conf.eth0.arp_ignore=3\nsysctl -w net.ipv4.conf.lo.route_localnet=1", "10.9.0.2", "10.1.0.2", true },
        // 4-7 are reserved (reply), 8 never replies
        { "sysctl -w net.ipv4.conf.eth0.arp_ignore=5", "10.9.0.2", "10.1.0.2", true },
        { "sysctl -w net.ipv4.conf.all.arp_ignore=8", "10.1.0.1", "10.1.0.2", false },
        // arp_filter: the route back to the sender must leave by eth0
        { "sysctl -w net.ipv4.conf.all.arp_filter=1", "10.1.0.1", "10.1.0.2", true },
        { "sysctl -w net.ipv4.conf.eth0.arp_filter=1", "10.1.0.1", "10.2.0.7", false },
    };

    [Fact]
    public void AProbeFromZeroIsAnsweredUnicastToTheProber()
    {
        // arp_process: sip 0.0.0.0 (RFC 5227 probe) is answered with arp_send_dst(..., dest_hw = sha): to the prober's MAC
        var t = Ask("0.0.0.0", "10.1.0.1", "");
        var reply = Assert.Single(t.Generated);
        Assert.Contains($"to {Client} (duplicate address probe: unicast", reply);
        Assert.DoesNotContain("broadcast", reply);
    }

    [Theory]
    [MemberData(nameof(IgnoreCases))]
    public void ArpIgnoreLevels(string sysctls, string tip, string sip, bool reply)
    {
        var t = Ask(sip, tip, sysctls);
        Assert.True(reply == Replied(t), $"{t.Reason}: {string.Join(" | ", t.Path.Select(e => e.Detail))}");
        Assert.Equal(reply ? 1 : 0, t.Generated.Count);
    }

    private const string Router = "sysctl -w net.ipv4.ip_forward=1\nip route add 10.3.0.0/16 via 10.2.0.254\n";

    public static TheoryData<string, string, string, bool> ProxyCases() => new()
    {
        { "", "10.3.0.5", "10.1.0.2", false },                                                      // proxy_arp off
        { "sysctl -w net.ipv4.conf.eth0.proxy_arp=1", "10.3.0.5", "10.1.0.2", true },               // routed out of eth1
        { "sysctl -w net.ipv4.conf.all.proxy_arp=1", "10.2.0.9", "10.1.0.2", true },                // conf.all is enough
        { "sysctl -w net.ipv4.conf.eth0.proxy_arp=1", "10.1.0.9", "10.1.0.2", false },              // routed back out of eth0
        { "sysctl -w net.ipv4.conf.eth0.proxy_arp=1", "192.0.2.1", "10.1.0.2", false },             // no route
        { "sysctl -w net.ipv4.conf.eth0.proxy_arp=1\nsysctl -w net.ipv4.ip_forward=0", "10.3.0.5", "10.1.0.2", false }, // not forwarding
        // medium_id: -1 never proxies, equal ids do not, different ids do, an out device at -1 does not
        { "sysctl -w net.ipv4.conf.eth0.proxy_arp=1\nsysctl -w net.ipv4.conf.eth0.medium_id=-1", "10.3.0.5", "10.1.0.2", false },
        { "sysctl -w net.ipv4.conf.eth0.proxy_arp=1\nsysctl -w net.ipv4.conf.eth0.medium_id=1\nsysctl -w net.ipv4.conf.eth1.medium_id=1", "10.3.0.5", "10.1.0.2", false },
        { "sysctl -w net.ipv4.conf.eth0.proxy_arp=1\nsysctl -w net.ipv4.conf.eth0.medium_id=1\nsysctl -w net.ipv4.conf.eth1.medium_id=2", "10.3.0.5", "10.1.0.2", true },
        { "sysctl -w net.ipv4.conf.eth0.proxy_arp=1\nsysctl -w net.ipv4.conf.eth0.medium_id=1\nsysctl -w net.ipv4.conf.eth1.medium_id=-1", "10.3.0.5", "10.1.0.2", false },
        // proxy_arp_pvlan answers on the same segment (the device's own setting), never a self probe
        { "sysctl -w net.ipv4.conf.eth0.proxy_arp_pvlan=1", "10.1.0.9", "10.1.0.2", true },
        { "sysctl -w net.ipv4.conf.eth0.proxy_arp_pvlan=1", "10.1.0.9", "10.1.0.9", false },
        { "sysctl -w net.ipv4.conf.all.proxy_arp_pvlan=1", "10.1.0.9", "10.1.0.2", false },
        // a proxy entry (pneigh) for the target on the receiving device, without proxy_arp
        { "ip neigh add proxy 10.3.0.5 dev eth0", "10.3.0.5", "10.1.0.2", true },
        { "ip neigh add proxy 10.3.0.5 dev eth1", "10.3.0.5", "10.1.0.2", false },
    };

    [Theory]
    [MemberData(nameof(ProxyCases))]
    public void ProxyArp(string sysctls, string tip, string sip, bool reply)
    {
        var t = Ask(sip, tip, Router + sysctls);
        Assert.True(reply == Replied(t), $"{t.Reason}: {string.Join(" | ", t.Path.Select(e => e.Detail))}");
        if (reply) Assert.Contains(t.Generated, g => g.Contains($"{tip} is-at 02:00:00:00:01:01"));
    }

    [Fact]
    public void AnIpv6ProxyEntryIsRefused()
    {
        var e = Assert.Throws<PktFlow.Topology.Lab.LabException>(() => PktFlow.Topology.Lab.LabLoader.Load("ip link set eth0 up\nip -6 neigh add proxy 2001:db8::5 dev eth0\n", "p.lab"));
        Assert.Contains("unsupported", e.Message);
        var ns = PktFlow.Topology.Lab.LabLoader.Load("ip link set eth0 up\nip neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev eth0\nip neigh add proxy 10.0.0.5 dev eth0\n", "p.lab").Host;
        Assert.Equal(2, ns.Neighbours.Count); // the proxy table is its own: the neighbour entry stays
    }

    [Fact]
    public void AProxyReplyToABroadcastWaitsForProxyDelay()
    {
        var t = Ask("10.1.0.2", "10.3.0.5", Router + "sysctl -w net.ipv4.conf.eth0.proxy_arp=1");
        Assert.Contains(t.Generated, g => g.Contains("random delay below 800 ms"));
        t = Ask("10.1.0.2", "10.3.0.5", Router + "sysctl -w net.ipv4.conf.eth0.proxy_arp=1\nsysctl -w net.ipv4.neigh.eth0.proxy_delay=0");
        Assert.DoesNotContain(t.Generated, g => g.Contains("delay"));
    }
}
