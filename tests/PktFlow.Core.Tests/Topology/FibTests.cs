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

    private static readonly PktFlow.Topology.NetNamespace Actions = LabLoader.Load("""
        ip link set eth0 up
        ip link set eth1 up
        ip addr add 10.1.0.1/24 dev eth0
        ip addr add 10.2.0.1/24 dev eth1
        ip route add default via 10.1.0.254
        ip route add default via 10.2.0.254 table 100
        ip route add default via 10.2.0.253 table 300
        ip rule add oif eth1 lookup 300 priority 90
        ip rule add from 10.9.1.0/24 blackhole priority 100
        ip rule add from 10.9.2.0/24 unreachable priority 110
        ip rule add from 10.9.3.0/24 prohibit priority 120
        ip rule add from 10.9.4.0/24 goto 200 priority 130
        ip rule add from 10.9.0.0/16 prohibit priority 140
        ip rule add nop priority 150
        ip rule add from 10.9.4.0/24 lookup 100 priority 200
        ip rule add from 10.8.0.0/16 goto 999 priority 210
        """, "actions.lab").Host;

    [Theory]
    [InlineData("10.9.1.1", FibError.Blackhole, null)]           // FR_ACT_BLACKHOLE: -EINVAL, dropped without a word
    [InlineData("10.9.2.1", FibError.NetUnreachable, null)]      // FR_ACT_UNREACHABLE: -ENETUNREACH (not host unreachable)
    [InlineData("10.9.3.1", FibError.Prohibited, null)]          // FR_ACT_PROHIBIT: -EACCES
    [InlineData("10.9.4.1", FibError.None, "default via 10.2.0.254 dev eth1 table 100")] // goto jumps over 140, nop passes
    [InlineData("10.9.5.1", FibError.Prohibited, null)]          // no goto: 140 takes it
    [InlineData("10.8.0.1", FibError.None, "default via 10.1.0.254 dev eth0")] // goto 999: no such rule, passed over
    public void RuleActions(string src, FibError error, string? route)
    {
        var r = Actions.Fib.Lookup(IpAddr.Parse("8.8.8.8"), IpAddr.Parse(src), "eth0", null, 0);
        Assert.Equal(error, r.Error);
        Assert.Equal(route, r.Route?.ToString());
    }

    [Fact]
    public void OifSelectsOnlyOutputLookupsThroughThatDevice()
    {
        // a received packet has no output device (flowi4_oif 0): the oif rule never matches it
        Assert.Equal("default via 10.1.0.254 dev eth0", Actions.Fib.Lookup(IpAddr.Parse("8.8.8.8"), IpAddr.Parse("10.1.0.5"), "eth1", null, 0).Route?.ToString());
        // a socket bound to eth1 (SO_BINDTODEVICE) does
        Assert.Equal("default via 10.2.0.253 dev eth1 table 300", Actions.Fib.Lookup(IpAddr.Parse("8.8.8.8"), null, "lo", "eth1", 0).Route?.ToString());
        Assert.Equal("default via 10.1.0.254 dev eth0", Actions.Fib.Lookup(IpAddr.Parse("8.8.8.8"), null, "lo", "eth0", 0).Route?.ToString());
    }

    [Fact]
    public void AGotoBackwardsIsRefused()
    {
        var e = Assert.Throws<LabException>(() => LabLoader.Load("ip rule add from 10.0.0.0/8 goto 100 priority 200\n", "x"));
        Assert.Contains("forward", e.Message);
    }

    [Fact]
    public void AGotoWithoutPriorityIsCheckedAgainstTheDefaultPriority()
    {
        // fib_default_rule_pref gives 32765 first (measured on 6.18: `ip rule add goto 32000` is refused, goto 32766 taken)
        var e = Assert.Throws<LabException>(() => LabLoader.Load("ip rule add goto 32000\n", "x"));
        Assert.Contains("Backward goto not supported", e.Message);
        // after a rule at 100 the default is 99: a goto to 99 is backward, to 100 forward
        Assert.Throws<LabException>(() => LabLoader.Load("ip rule add nop priority 100\nip rule add goto 99\n", "x"));
        LabLoader.Load("ip rule add nop priority 100\nip rule add goto 100\n", "x");
        LabLoader.Load("ip rule add goto 32766\n", "x");
    }
}

