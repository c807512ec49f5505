using PktFlow.Routing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Topology;

public class FibTests
{
    private static readonly Fib Fib = LabLoader.Load("""
        ip link set eth0 up
        ip link set eth1 up
        ip addr add 10.1.0.1/24 dev eth0
        ip addr add 10.2.0.1/24 dev eth1
        ip route add default via 10.1.0.254
        ip route add 10.0.0.0/8 via 10.2.0.2
        ip route add 10.3.0.0/16 via 10.2.0.3 metric 50
        ip route add 10.3.0.0/16 via 10.1.0.3 metric 10
        ip route add unreachable 203.0.113.0/24
        ip route add prohibit 192.0.2.0/24
        ip route add blackhole 198.51.100.0/24
        ip route add 192.0.2.128/25 via 10.1.0.9 table 100
        """, "fib.lab").Host.Fib;

    [Theory]
    [InlineData("10.1.0.1", "local 10.1.0.1 dev eth0 table local proto kernel scope host src 10.1.0.1")]
    [InlineData("10.1.0.255", "broadcast 10.1.0.255 dev eth0 table local proto kernel scope link src 10.1.0.1")]
    [InlineData("10.1.0.77", "10.1.0.0/24 dev eth0 proto kernel scope link src 10.1.0.1")]
    [InlineData("10.9.9.9", "10.0.0.0/8 via 10.2.0.2 dev eth1")]
    [InlineData("10.3.1.1", "10.3.0.0/16 via 10.1.0.3 dev eth0 metric 10")]
    [InlineData("8.8.8.8", "default via 10.1.0.254 dev eth0")]
    [InlineData("127.0.0.5", "local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1")]
    public void LongestPrefixThenMetric(string dst, string expected)
    {
        var r = Fib.Lookup(IpAddr.Parse(dst));
        Assert.True(r.Found);
        Assert.Equal(expected, r.Route!.ToString());
    }

    [Theory]
    [InlineData("203.0.113.5", FibError.HostUnreachable)]
    [InlineData("192.0.2.200", FibError.Prohibited)] // table 100 is not consulted without an ip rule
    [InlineData("198.51.100.1", FibError.Blackhole)]
    public void RouteTypesGiveTheirErrors(string dst, FibError error)
    {
        Assert.Equal(error, Fib.Lookup(IpAddr.Parse(dst)).Error);
    }

    [Fact]
    public void NoRouteIsNetUnreachable()
    {
        var fib = LabLoader.Load("ip link set eth0 up\nip addr add 10.1.0.1/24 dev eth0\n", "x").Host.Fib;
        var r = fib.Lookup(IpAddr.Parse("8.8.8.8"));
        Assert.Null(r.Route);
        Assert.Equal(FibError.NetUnreachable, r.Error);
    }

    private static readonly PktFlow.Topology.NetNamespace Policy = LabLoader.Load("""
        ip link set eth0 up
        ip link set eth1 up
        ip addr add 10.1.0.1/24 dev eth0
        ip addr add 10.2.0.1/24 dev eth1
        ip route add default via 10.1.0.254
        ip route add default via 10.2.0.254 table 100
        ip route add default via 10.2.0.253 table 200
        ip rule add from 10.9.0.0/16 lookup 100 priority 1000
        ip rule add fwmark 0x2/0xff lookup 200
        ip rule add to 203.0.113.0/24 prohibit priority 900
        ip rule add iif eth1 lookup main suppress_prefixlength 0 priority 800
        """, "rules.lab").Host;

    [Theory]
    [InlineData("8.8.8.8", "10.1.0.5", 0u, "default via 10.1.0.254 dev eth0")]
    [InlineData("8.8.8.8", "10.9.1.1", 0u, "default via 10.2.0.254 dev eth1 table 100")]
    [InlineData("8.8.8.8", "10.1.0.5", 0x102u, "default via 10.2.0.253 dev eth1 table 200")]
    public void PolicyRulesChooseTheTable(string dst, string src, uint mark, string expected)
    {
        var r = Policy.Fib.Lookup(IpAddr.Parse(dst), IpAddr.Parse(src), "eth0", null, mark);
        Assert.Equal(expected, r.Route?.ToString());
    }

    [Fact]
    public void RuleActionsAndSuppressPrefixLength()
    {
        Assert.Equal(FibError.Prohibited, Policy.Fib.Lookup(IpAddr.Parse("203.0.113.1"), IpAddr.Parse("10.1.0.5"), "eth0", null, 0).Error);
        // From eth1 the main table's default route (prefix length 0) is suppressed: the next rules decide.
        var r = Policy.Fib.Lookup(IpAddr.Parse("8.8.8.8"), IpAddr.Parse("10.2.0.9"), "eth1", null, 0);
        Assert.Equal("default via 10.1.0.254 dev eth0", r.Route?.ToString()); // main again at 32766, unsuppressed
        // No priority: one less than the first rule after priority 0 (fib_default_rule_pref), 999 here; checked on 6.18.
        Assert.Equal(999u, Policy.Fib.Rules(PktFlow.Wire.IpFamily.V4).Single(x => x.FwMark == 2).Priority);
        Assert.Equal("1000: from 10.9.0.0/16 lookup 100", Policy.Fib.Rules(PktFlow.Wire.IpFamily.V4).Single(x => x.Priority == 1000).ToString());
    }
}
