using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// What nft 1.0.6 refuses in a rule's order of statements, each line checked with `nft -f` on 6.18:
/// a statement after a terminal one, and a header whose protocol an earlier statement fixed otherwise.
/// </summary>
public class NftRuleContextTests
{
    private static NftParseException Refused(string family, string rule, string hook = "input", string type = "filter") =>
        Assert.Throws<NftParseException>(() => Load(family, rule, hook, type));

    private static NftRuleset Load(string family, string rule, string hook = "input", string type = "filter") =>
        NftRuleset.Parse($"table {family} t {{\n chain x {{ }}\n chain c {{ type {type} hook {hook} priority 0;\n    {rule}\n  }}\n}}\n", "r.nft");

    [Theory]
    [InlineData("accept counter", 12)]
    [InlineData("drop log", 10)]
    [InlineData("accept accept", 12)]
    [InlineData("jump x counter", 12)]
    [InlineData("goto x counter", 12)]
    [InlineData("return counter", 12)]
    [InlineData("reject counter", 12)]
    [InlineData("reject with tcp reset counter", 27)]
    [InlineData("queue num 1 counter", 17)]
    [InlineData("drop ip saddr 1.2.3.4", 10)]
    [InlineData("log drop log", 14)]
    public void AStatementAfterATerminalOne_IsRefusedWhereItStarts(string rule, int column)
    {
        var e = Refused("ip", rule);
        Assert.Equal("Statement after terminal statement has no effect", e.Reason);
        Assert.Equal((4, column), (e.Line, e.Column));
    }

    [Theory]
    [InlineData("dnat to 1.2.3.4 counter", "prerouting")]
    [InlineData("tcp dport 1 redirect to :2 counter", "prerouting")]
    [InlineData("masquerade counter", "postrouting")]
    [InlineData("snat to 1.2.3.4 counter", "postrouting")]
    public void NatStatementsAreTerminal(string rule, string hook) =>
        Assert.Equal("Statement after terminal statement has no effect", Refused("ip", rule, hook, "nat").Reason);

    [Theory]
    [InlineData("continue counter")]
    [InlineData("counter accept")]
    [InlineData("ip saddr vmap { 1.2.3.4 : accept } counter")]
    [InlineData("dup to 1.2.3.4 counter")]
    [InlineData("notrack counter")]
    [InlineData("counter drop comment \"a\"")]
    public void ContinueVerdictMapsDupAndNotrackAreNotTerminal(string rule) => Assert.Single(Load("ip", rule).Tables[0].FindChain("c")!.Rules);

    [Fact]
    public void FwdIsTerminal() =>
        Assert.Equal("Statement after terminal statement has no effect", Refused("netdev", "fwd to \"lo\" counter", "ingress device \"lo\"").Reason);

    [Theory]
    [InlineData("inet", "ip saddr 1.2.3.4 ip6 saddr ::1", 22, "ip vs. ip6")]
    [InlineData("inet", "tcp dport 1 udp dport 2", 17, "tcp vs. udp")]
    [InlineData("inet", "meta l4proto tcp udp dport 2", 22, "tcp vs. udp")]
    [InlineData("inet", "ip protocol tcp ip6 nexthdr udp", 21, "ip vs. ip6")]
    [InlineData("inet", "ether type ip ip6 saddr ::1", 19, "ip vs. ip6")]
    [InlineData("inet", "meta nfproto ipv4 ip6 saddr ::1", 23, "ip vs. ip6")]
    [InlineData("inet", "ip protocol udp tcp dport 1", 21, "udp vs. tcp")]
    [InlineData("inet", "tcp dport 1 icmp type echo-request", 17, "tcp vs. icmp")]
    [InlineData("inet", "icmp type echo-request icmpv6 type echo-request", 28, "icmp vs. icmpv6")]
    [InlineData("inet", "icmpv6 type echo-request ip saddr 1.1.1.1", 30, "ip6 vs. ip")]
    [InlineData("inet", "icmp type echo-request ip6 saddr ::1", 28, "ip vs. ip6")]
    [InlineData("inet", "meta l4proto ipv6-icmp icmp type echo-request", 28, "icmpv6 vs. icmp")]
    [InlineData("inet", "udp dport 1 udplite dport 2", 17, "udp vs. udplite")]
    [InlineData("inet", "tcp dport 1 sctp dport 2", 17, "tcp vs. sctp")]
    [InlineData("inet", "meta l4proto { tcp, udp } tcp dport 1", 31, "udp vs. tcp")]
    [InlineData("inet", "meta l4proto { tcp, udp } udp dport 1", 31, "tcp vs. udp")]
    [InlineData("inet", "tcp dport 1 meta l4proto udp udp dport 1", 34, "tcp vs. udp")]
    [InlineData("inet", "tcp dport 1 meta l4proto udp tcp sport 1", 34, "udp vs. tcp")]
    [InlineData("inet", "ip saddr 1.1.1.1 meta nfproto ipv6 ip saddr 1.1.1.1", 40, "ip6 vs. ip")]
    [InlineData("ip", "ip6 saddr ::1", 5, "ip vs. ip6")]
    [InlineData("ip", "ip daddr . tcp dport { 1.1.1.1 . 1 } udp dport 2", 42, "tcp vs. udp")]
    [InlineData("bridge", "ether type ip6 ip saddr 1.1.1.1", 20, "ip6 vs. ip")]
    [InlineData("bridge", "vlan type ip ip6 saddr ::1", 18, "ip vs. ip6")]
    public void ConflictingProtocols_AreRefusedAtTheSecondHeader(string family, string rule, int column, string what)
    {
        var e = Refused(family, rule);
        Assert.Equal($"conflicting protocols specified: {what}", e.Reason);
        Assert.Equal((4, column), (e.Line, e.Column));
    }

    [Theory]
    [InlineData("inet", "tcp dport 1 ip protocol udp")]
    [InlineData("inet", "ip saddr 1.2.3.4 meta nfproto ipv6")]
    [InlineData("inet", "ip protocol != tcp udp dport 1")]
    [InlineData("inet", "meta l4proto { tcp, udp } th dport 1")]
    [InlineData("inet", "udp dport 1 th dport 2")]
    [InlineData("inet", "ip saddr 1.2.3.4 icmpv6 type echo-request")]
    [InlineData("inet", "ip6 saddr ::1 icmp type echo-request")]
    [InlineData("inet", "meta l4proto ipv6-icmp ip saddr 1.1.1.1")]
    [InlineData("inet", "meta l4proto tcp meta l4proto udp")]
    [InlineData("inet", "meta nfproto { ipv4, ipv6 } ip6 saddr ::1")]
    [InlineData("inet", "ip saddr 1.1.1.1 meta nfproto ipv6 ip6 saddr ::1")]
    [InlineData("inet", "meta nfproto ipv6 meta nfproto ipv4 ip saddr 1.1.1.1")]
    [InlineData("inet", "ct protocol tcp udp dport 1")]
    [InlineData("inet", "udp dport 1 tcp option maxseg size 1")]
    [InlineData("inet", "tcp dport 1 tcp sport 2")]
    [InlineData("ip", "tcp dport 1 @th,0,16 2")]
    [InlineData("bridge", "ether type vlan ip saddr 1.1.1.1")]
    public void ProtocolsNftLetsThrough_Load(string family, string rule) => Assert.Single(Load(family, rule).Tables[0].FindChain("c")!.Rules);
}

/// <summary>Set and verdict map spellings nft 1.0.6 takes (checked with nft -f and nft list on 6.18).</summary>
public class NftSetSpellingTests
{
    private static NftRuleset Load(string family, string rule) =>
        NftRuleset.Parse($"table {family} t {{\n chain c {{ type filter hook input priority 0;\n    {rule}\n  }}\n}}\n", "r.nft");

    [Fact]
    public void AVerdictWrittenAgainstItsKey_IsTheKeysVerdict()
    {
        // nft lists it as tcp dport vmap { 25 : accept, 28 : drop }
        var rs = Load("ip", "tcp dport vmap { 25:accept, 28:drop }");
        Assert.Equal("accept", NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, FakeNftPacket.Tcp4("1.1.1.1", "2.2.2.2", 1000, 25)).Verdict);
        Assert.Equal("drop", NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, FakeNftPacket.Tcp4("1.1.1.1", "2.2.2.2", 1000, 28)).Verdict);
    }

    [Fact]
    public void AnIpv6KeyAgainstItsVerdict_EndsAtTheLastColon()
    {
        // nft lists { ::dddd : drop, 1234:1234:1234:1234:1234:1234:aaaa:0 : accept }
        var rs = Load("ip6", "ip6 saddr vmap {1234:1234:1234:1234:1234:1234:aaaa:::accept,::dddd: drop}");
        Assert.Equal("accept", NftEvaluator.RunHook(rs, NftFamily.Ip6, NftHookPoint.Input, FakeNftPacket.Tcp6("1234:1234:1234:1234:1234:1234:aaaa:0", "::1", 1, 2)).Verdict);
        Assert.Equal("drop", NftEvaluator.RunHook(rs, NftFamily.Ip6, NftHookPoint.Input, FakeNftPacket.Tcp6("::dddd", "::1", 1, 2)).Verdict);
    }

    [Fact]
    public void ASetInsideASet_AddsItsElements()
    {
        // nft lists ip saddr { 1.1.1.0, 2.2.2.0, 3.3.3.0 }
        var rs = Load("ip", "ip saddr { { 1.1.1.0, 3.3.3.0 }, 2.2.2.0 } drop");
        foreach (var (a, v) in new[] { ("1.1.1.0", "drop"), ("2.2.2.0", "drop"), ("3.3.3.0", "drop"), ("4.4.4.0", "accept") })
            Assert.Equal(v, NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, FakeNftPacket.Tcp4(a, "2.2.2.2", 1000, 25)).Verdict);
    }

    [Theory]
    [InlineData("ipsec in reqid 1", "unsupported: ipsec (")]
    [InlineData("osf name \"Linux\"", "unsupported: osf (")]
    public void ExpressionsTheModelCannotEvaluate_AreRefusedByName(string rule, string reason) =>
        Assert.StartsWith(reason, Assert.Throws<NftParseException>(() => Load("ip", rule)).Reason);
}

/// <summary>A device name in a concatenation with meta iif (nft 1.0.6 takes `meta iif . tcp dport { "lo" . 22 } drop`, checked on 6.18).</summary>
public class NftConcatDeviceTests
{
    [Fact]
    public void AnIifNamedInAConcatenation_ComparesTheDevice()
    {
        var rs = NftRuleset.Parse("table ip t {\n chain c { type filter hook input priority 0;\n    meta iif . tcp dport { \"lo\" . 22 } drop\n  }\n}\n", "r.nft");
        Assert.Equal("drop", NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, FakeNftPacket.Tcp4("1.1.1.1", "2.2.2.2", 1000, 22, iif: "lo")).Verdict);
        Assert.Equal("accept", NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, FakeNftPacket.Tcp4("1.1.1.1", "2.2.2.2", 1000, 23, iif: "lo")).Verdict);
        Assert.Equal("accept", NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, FakeNftPacket.Tcp4("1.1.1.1", "2.2.2.2", 1000, 22, iif: "eth0")).Verdict);
    }
}
