using PktFlow.Netfilter;
using PktFlow.Netfilter.Iptables;
using PktFlow.Netfilter.Nftables;
using PktFlow.Tests.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Synproxy;

/// <summary>
/// synproxy as rules write it: the nft statement, named objects and object maps (text and `nft -j`, as
/// nft 1.0.6 lists them on 6.18), iptables -j SYNPROXY (listed by nft in xt's order), the hooks the
/// kernel allows, and what the statement decides for a SYN, an ACK and anything else.
/// </summary>
public class NftSynproxyTests
{
    private const string Objects = """
        synproxy web { mss 1460; wscale 7; timestamp sack-perm; }
        synproxy two { mss 1400 wscale 0 }
        """;

    private static NftRuleset Rules(string body, string hook = "input") =>
        NftRuleset.Parse($"table inet filter {{\n{Objects}\n chain c {{ type filter hook {hook} priority 0;\n{body}\n }}\n}}", "s.nft");

    private static NftHookResult Run(NftRuleset rs, FakeNftPacket p) => NftEvaluator.RunHook(rs, NftFamily.Inet, NftHookPoint.Input, p, state: new NftState(1, "h"));

    [Theory]
    [InlineData("synproxy mss 1460 wscale 7 timestamp sack-perm", SynproxyOptions.Mss | SynproxyOptions.Wscale | SynproxyOptions.Timestamp | SynproxyOptions.SackPerm, 1460, 7)]
    [InlineData("synproxy", SynproxyOptions.None, 0, 0)]
    [InlineData("synproxy sack-perm timestamp wscale 7 mss 1460", SynproxyOptions.Mss | SynproxyOptions.Wscale | SynproxyOptions.Timestamp | SynproxyOptions.SackPerm, 1460, 7)]
    [InlineData("synproxy name \"two\"", SynproxyOptions.Mss | SynproxyOptions.Wscale, 1400, 0)]
    public void ASynIsStolenWithTheRulesOptions(string stmt, SynproxyOptions options, int mss, int wscale)
    {
        var r = Run(Rules(stmt), FakeNftPacket.Tcp4("10.1.0.2", "10.1.0.1", 40000, 80, flags: 0x02));
        Assert.Equal("stolen", r.Verdict);
        Assert.Equal(new SynproxyInfo(options, (ushort)mss, (byte)wscale), r.Synproxy);
    }

    [Fact]
    public void AnAckIsStolenOnlyWithAValidCookie_OtherSegmentsGoOn_OtherProtocolsStopTheRule()
    {
        var rs = Rules("synproxy name \"web\"\ncounter drop");
        var valid = new FakeNftPacket { Net = FakeNftPacket.Tcp4("10.1.0.2", "10.1.0.1", 40000, 80, flags: 0x10).Net, L4Protocol = 6, TransportOffset = 20, SynproxyCookieValid = true };
        Assert.Equal("stolen", Run(rs, valid).Verdict);
        var bad = Run(rs, FakeNftPacket.Tcp4("10.1.0.2", "10.1.0.1", 40000, 80, flags: 0x10));
        Assert.Equal("drop", bad.Verdict);
        Assert.Equal(rs.Tables[0].FindChain("c")!.Rules[0], bad.Runs[^1].Rule); // dropped by synproxy, not the next rule
        Assert.NotNull(bad.Synproxy);
        // a RST: neither SYN nor ACK, the rule goes on to its next statement... and the next rule drops it
        var rst = Run(rs, FakeNftPacket.Tcp4("10.1.0.2", "10.1.0.1", 40000, 80, flags: 0x04));
        Assert.Equal(rs.Tables[0].FindChain("c")!.Rules[1], rst.Runs[^1].Rule);
        Assert.Null(rst.Synproxy);
        // not TCP: NFT_BREAK
        var udp = Run(rs, FakeNftPacket.Udp4("10.1.0.2", "10.1.0.1", 40000, 53));
        Assert.Null(udp.Synproxy);
        Assert.Equal(rs.Tables[0].FindChain("c")!.Rules[1], udp.Runs[^1].Rule);
    }

    [Theory]
    [InlineData((byte)0x02)] // a SYN gets no cookie
    [InlineData((byte)0x10)] // an ACK is not checked for one
    public void ABadTcpChecksumIsDroppedFirst(byte flags)
    {
        var rs = Rules("synproxy name \"web\"\ncounter accept");
        var p = new FakeNftPacket { Net = FakeNftPacket.Tcp4("10.1.0.2", "10.1.0.1", 40000, 80, flags: flags).Net, L4Protocol = 6, TransportOffset = 20, SynproxyCookieValid = true, ChecksumBad = true };
        var r = Run(rs, p);
        Assert.Equal("drop", r.Verdict);
        Assert.Equal(rs.Tables[0].FindChain("c")!.Rules[0], r.Runs[^1].Rule);
    }

    [Fact]
    public void AnObjectMapChoosesTheObjectByKey()
    {
        var rs = Rules("synproxy name tcp dport map { 80 : \"web\", 81 : \"two\" }");
        Assert.Equal(1460, Run(rs, FakeNftPacket.Tcp4("10.1.0.2", "10.1.0.1", 40000, 80)).Synproxy!.Mss);
        Assert.Equal(1400, Run(rs, FakeNftPacket.Tcp4("10.1.0.2", "10.1.0.1", 40000, 81)).Synproxy!.Mss);
        Assert.Null(Run(rs, FakeNftPacket.Tcp4("10.1.0.2", "10.1.0.1", 40000, 82)).Synproxy);
    }

    [Theory]
    [InlineData("output", "synproxy", "Operation not supported (synproxy runs in input and forward chains only, not output)")]
    [InlineData("prerouting", "synproxy name \"web\"", "Operation not supported")]
    [InlineData("input", "synproxy mss x", "synproxy: mss needs a number up to 65535")]
    [InlineData("input", "synproxy name \"nope\"", "synproxy 'nope' does not exist")]
    // nft 1.0.6: "syntax error, unexpected ecn" (only xt's SYNPROXY --ecn has it)
    [InlineData("input", "synproxy mss 1460 ecn", "ecn")]
    public void Refused_AsTheKernelOrNftRefusesIt(string hook, string stmt, string message)
    {
        var e = Assert.Throws<NftParseException>(() => Rules(stmt, hook));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void ObjectsStatementsAndMaps_JsonLoadsAsTheText()
    {
        // `nft -j list ruleset` of the text above (nft 1.0.6, 6.18)
        var json = NftRuleset.ParseJson("""
            {"nftables": [{"table": {"family": "inet", "name": "filter", "handle": 1}},
            {"synproxy": {"family": "inet", "name": "web", "table": "filter", "handle": 2, "mss": 1460, "wscale": 7, "flags": ["timestamp", "sack-perm"]}},
            {"synproxy": {"family": "inet", "name": "two", "table": "filter", "handle": 3, "mss": 1400, "wscale": 0}},
            {"chain": {"family": "inet", "table": "filter", "name": "c", "handle": 4, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}},
            {"rule": {"family": "inet", "table": "filter", "chain": "c", "handle": 5, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}, {"synproxy": {"mss": 1460, "wscale": 7, "flags": ["timestamp", "sack-perm"]}}]}},
            {"rule": {"family": "inet", "table": "filter", "chain": "c", "handle": 6, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 23}}, {"synproxy": null}]}},
            {"rule": {"family": "inet", "table": "filter", "chain": "c", "handle": 7, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 80}}, {"synproxy": "web"}]}},
            {"rule": {"family": "inet", "table": "filter", "chain": "c", "handle": 8, "expr": [{"synproxy": {"map": {"key": {"payload": {"protocol": "tcp", "field": "dport"}}, "data": {"set": [[81, "web"], [82, "two"]]}}}}]}}]}
            """, "s.json");
        var all = new SynproxyOptions[] { SynproxyOptions.Mss | SynproxyOptions.Wscale | SynproxyOptions.Timestamp | SynproxyOptions.SackPerm };
        SynproxyInfo? For(ushort port) => NftEvaluator.RunHook(json, NftFamily.Inet, NftHookPoint.Input, FakeNftPacket.Tcp4("10.1.0.2", "10.1.0.1", 40000, port), state: new NftState(1, "h")).Synproxy;
        Assert.Equal(new SynproxyInfo(all[0], 1460, 7), For(22));
        Assert.Equal(new SynproxyInfo(SynproxyOptions.None, 0, 0), For(23));
        Assert.Equal(new SynproxyInfo(all[0], 1460, 7), For(80));
        Assert.Equal(new SynproxyInfo(SynproxyOptions.Mss | SynproxyOptions.Wscale, 1400, 0), For(82));
        Assert.Equal("mss 1460 wscale 7 timestamp sack-perm", json.Tables[0].Objects.Single(o => o.Name == "web").Synproxy!.ToString());
    }

    [Fact]
    public void IptablesSynproxy_IsListedAsNftListsIt_AndNeedsTcp()
    {
        var rs = IptablesRestore.Load("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -m state --state INVALID,UNTRACKED -j SYNPROXY --sack-perm --timestamp --wscale 7 --mss 1460\nCOMMIT\n", "r", false);
        var rule = rs.AllRules.Single();
        Assert.EndsWith("counter packets 0 bytes 0 synproxy sack-perm timestamp wscale 7 mss 1460", rule.Text);
        var r = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, FakeNftPacket.Tcp4("10.1.0.2", "10.1.0.1", 40000, 22,
            ct: new NftCtInfo("untracked", "original", 0, "")), state: new NftState(1, "h"));
        Assert.Equal("stolen", r.Verdict);
        Assert.Equal(new SynproxyInfo(SynproxyOptions.Mss | SynproxyOptions.Wscale | SynproxyOptions.Timestamp | SynproxyOptions.SackPerm, 1460, 7), r.Synproxy);
        var e = Assert.Throws<IptablesParseException>(() => IptablesRestore.Load("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j SYNPROXY\nCOMMIT\n", "r", false));
        Assert.Contains("needs -p tcp", e.Message);
        Assert.ThrowsAny<Exception>(() => IptablesRestore.Load("*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p tcp -j SYNPROXY\nCOMMIT\n", "r", false));
        // --ecn is xt's: listed by nft with it (ip6tables-nft on 6.18: `synproxy mss 1400 ecn`)
        var ecn = IptablesRestore.Load("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -j SYNPROXY --mss 1400 --ecn\nCOMMIT\n", "r", true);
        Assert.EndsWith("synproxy mss 1400 ecn", ecn.AllRules.Single().Text);
        Assert.Equal(new SynproxyInfo(SynproxyOptions.Mss | SynproxyOptions.Ecn, 1400, 0),
            NftEvaluator.RunHook(ecn, NftFamily.Ip6, NftHookPoint.Input, FakeNftPacket.Tcp6("fd00::2", "fd00::1", 40000, 22), state: new NftState(1, "h")).Synproxy);
    }

    [Theory]
    // synproxy_tg4: a SYN without ACK, FIN or RST is answered; an ACK without SYN, FIN or RST is checked;
    // anything else continues (XT_CONTINUE) to the next rule, which drops it here
    [InlineData(0x02, "stolen")]
    [InlineData(0x10, "drop by synproxy")]
    [InlineData(0x12, "next rule")] // SYN-ACK
    [InlineData(0x11, "next rule")] // FIN-ACK
    [InlineData(0x14, "next rule")] // RST-ACK
    [InlineData(0x03, "next rule")] // SYN-FIN
    [InlineData(0x18, "drop by synproxy")] // PSH-ACK: an ACK
    public void IptablesSynproxy_TakesOnlyAPlainSynOrAPlainAck(int flags, string outcome)
    {
        var rs = IptablesRestore.Load("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -j SYNPROXY --mss 1460\n-A INPUT -j DROP\nCOMMIT\n", "r", false);
        var r = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, FakeNftPacket.Tcp4("10.1.0.2", "10.1.0.1", 40000, 22, flags: (byte)flags), state: new NftState(1, "h"));
        var rules = rs.AllRules.ToList();
        switch (outcome)
        {
            case "stolen": Assert.Equal("stolen", r.Verdict); break;
            case "drop by synproxy": Assert.Equal("drop", r.Verdict); Assert.NotNull(r.Synproxy); Assert.Equal(rules[0], r.Runs[^1].Rule); break;
            default: Assert.Null(r.Synproxy); Assert.Equal(rules[1], r.Runs[^1].Rule); break;
        }
        // nft's statement steals any segment with SYN (nft_synproxy_eval_v4 tests tcp->syn alone)
        if (flags == 0x12) Assert.Equal("stolen", Run(Rules("synproxy"), FakeNftPacket.Tcp4("10.1.0.2", "10.1.0.1", 40000, 80, flags: 0x12)).Verdict);
    }

    [Fact]
    public void AHeaderWhoseOptionsCannotBeReadIsDropped()
    {
        // data offset 4 (16 bytes): synproxy_parse_options fails, nft_synproxy_do_eval returns NF_DROP
        var p = FakeNftPacket.Tcp4("10.1.0.2", "10.1.0.1", 40000, 80, flags: 0x04);
        p.Net[20 + 12] = 0x40;
        var r = Run(Rules("synproxy\naccept"), p);
        Assert.Equal("drop", r.Verdict);
        Assert.NotNull(r.Synproxy);
    }
}
