using PktFlow.Testing;
using PktFlow.Tests.Datapath;
using PktFlow.Wire;

namespace PktFlow.Tests.Neighbour;

/// <summary>
/// The model's own neighbour resolution asks arp_process's questions of the namespace behind a veth:
/// a router there with proxy_arp answers for a target it routes elsewhere (with its own MAC), and
/// arp_ignore decides whether an address on its lo answers.
/// </summary>
public class NeighResolveArpTests
{
    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 10.1.0.1/24 dev eth0
        sysctl -w net.ipv4.ip_forward=1
        ip netns add r
        ip netns add srv
        ip link add eth1 type veth peer name eth0 address 02:00:00:00:0a:02 netns r
        ip addr add 10.2.0.1/8 dev eth1
        ip link set eth1 up
        ip -n r link set lo up
        ip -n r addr add 10.2.0.2/24 dev eth0
        ip -n r addr add 10.9.0.1/32 dev lo
        ip -n r link set eth0 up
        ip -n r link add eth1 type veth peer name eth0 netns srv
        ip -n r addr add 10.3.0.1/24 dev eth1
        ip -n r link set eth1 up
        ip -n srv addr add 10.3.0.5/24 dev eth0
        ip -n srv link set eth0 up
        ip -n srv route add default via 10.3.0.1
        ip netns exec r sysctl -w net.ipv4.ip_forward=1

        """;

    private static readonly MacAddress Host = MacAddress.Parse("02:00:00:00:01:01"), Client = MacAddress.Parse("02:00:00:00:01:02");

    private static string Neigh(string dst, string extra)
    {
        IpAddr s = IpAddr.Parse("10.1.0.2"), d = IpAddr.Parse(dst);
        var t = ReceivePathTests.Run(FrameBuilder.Ethernet(Host, Client, 0x0800, FrameBuilder.Ipv4(s, d, 1, FrameBuilder.IcmpEcho(7, 1))), Lab + extra);
        return string.Join(" | ", t.Path.Where(e => e.Namespace == "host" && e.Stage is "NeighOutput" or "NeighResolve").Select(e => e.Detail));
    }

    [Theory]
    [InlineData("10.3.0.5", "", false)]                                                        // r routes it out of eth1, but proxy_arp is off
    [InlineData("10.3.0.5", "ip netns exec r sysctl -w net.ipv4.conf.eth0.proxy_arp=1", true)]  // r answers for it
    [InlineData("10.3.0.5", "ip netns exec r sysctl -w net.ipv4.conf.all.proxy_arp=1\nip netns exec r sysctl -w net.ipv4.conf.eth0.medium_id=-1", false)]
    [InlineData("10.9.0.1", "", true)]                                                         // on r's lo, arp_ignore 0
    [InlineData("10.9.0.1", "ip netns exec r sysctl -w net.ipv4.conf.all.arp_ignore=1", false)] // only on the receiving device
    public void ARouterBehindAVethAnswersAsArpProcessWould(string dst, string extra, bool resolved)
    {
        var detail = Neigh(dst, extra);
        Assert.True(resolved == detail.Contains("02:00:00:00:0a:02", StringComparison.Ordinal), detail);
    }
}
