using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables;

public class NftParserTests
{
    private const string Observed = """
table inet t1 {
  set s1 { type ipv4_addr; elements = { 10.0.0.1, 10.0.0.2 } }
  chain c1 {
    type filter hook input priority filter; policy accept;
    tcp dport 22 accept
    ip saddr @s1 counter drop
    jump c2
  }
  chain c2 {
    tcp flags & (syn|ack) == syn counter
    iifname "eth*" meta l4proto { tcp, udp } th dport 1-1024 return
  }
  set s2 { type inet_service; flags interval; elements = { 1-100, 200 } }
}
table ip t2 {
  chain pre { type nat hook prerouting priority dstnat; tcp dport 8080 dnat to 10.0.0.2:80; }
  chain post { type nat hook postrouting priority srcnat + 5; oifname "eth0" masquerade; }
}
""";

    [Fact]
    public void Handles_MatchRealNft_1_0_6()
    {
        // `nft -f` then `nft -a list ruleset` in a fresh namespace (nft 1.0.6) printed:
        // t1 handle 1: c1 1, c2 2, s1 3, s2 4, rules 5 6 7 | 8 10 (9 = the anonymous set { tcp, udp })
        // t2 handle 2: pre 1, post 2, rules 3 4
        var rs = NftRuleset.Parse(Observed, "observed.nft");
        var t1 = rs.FindTable(NftFamily.Inet, "t1")!;
        Assert.Equal(1, t1.Handle);
        Assert.Equal(new[] { 1, 2 }, t1.Chains.Select(c => c.Handle));
        Assert.Equal(3, t1.Sets.Single(s => s.Name == "s1").Handle);
        Assert.Equal(4, t1.Sets.Single(s => s.Name == "s2").Handle);
        Assert.Equal(new[] { 5, 6, 7 }, t1.FindChain("c1")!.Rules.Select(r => r.Handle));
        Assert.Equal(new[] { 8, 10 }, t1.FindChain("c2")!.Rules.Select(r => r.Handle));
        var t2 = rs.FindTable(NftFamily.Ip, "t2")!;
        Assert.Equal(2, t2.Handle);
        Assert.Equal(new[] { 3, 4 }, t2.Chains.SelectMany(c => c.Rules).Select(r => r.Handle));
        Assert.Equal(105, t2.FindChain("post")!.Priority); // srcnat + 5
        Assert.Equal(-100, t2.FindChain("pre")!.Priority);
    }

    [Fact]
    public void Handles_SingleElementSetTakesNoHandle_VmapDoes()
    {
        // observed: tcp dport 22 accept #4, tcp dport { 22 } accept #5, { 22, 23 } #7, vmap #9, counter drop #10
        var rs = NftRuleset.Parse("""
table ip b {
  chain o2 { type filter hook output priority 0; policy accept; counter drop; }
  chain o3 { type filter hook output priority filter; policy accept; tcp dport 22 accept; tcp dport { 22 } accept; tcp dport { 22, 23 } accept; tcp dport vmap { 22 : accept, 23 : drop }; counter drop; }
}
""", "t.nft");
        Assert.Equal(new[] { 4, 5, 7, 9, 10 }, rs.Tables[0].FindChain("o3")!.Rules.Select(r => r.Handle));
    }

    [Fact]
    public void SamePriority_LastRegisteredRunsFirst()
    {
        // observed with nft 1.0.6: three output chains at priority 0 (a/o1, b/o2, b/o3), each ending in
        // "counter drop"; a ping counted only in b/o3, the last registered.
        var rs = NftRuleset.Parse("""
table ip a { chain o1 { type filter hook output priority 0; counter drop; }; }
table ip b {
  chain o2 { type filter hook output priority 0; counter drop; }
  chain o3 { type filter hook output priority filter; counter drop; }
  chain r { type filter hook output priority raw; }
}
""", "t.nft");
        Assert.Equal(new[] { "r", "o3", "o2", "o1" }, rs.BaseChains(NftFamily.Ip, NftHookPoint.Output).Select(c => c.Name));
        var res = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Output, FakeNftPacket.Icmp4("127.0.0.1", "127.0.0.1"));
        Assert.Equal("drop", res.Verdict);
        Assert.Equal("o3", res.Runs[^1].Chain.Name);
    }

    [Theory]
    [InlineData("ip", "raw", -300)]
    [InlineData("ip", "mangle", -150)]
    [InlineData("inet", "dstnat", -100)]
    [InlineData("ip6", "filter", 0)]
    [InlineData("inet", "security", 50)]
    [InlineData("ip", "srcnat", 100)]
    [InlineData("ip", "filter - 10", -10)]
    [InlineData("ip", "mangle+5", -145)]
    [InlineData("ip", "-250", -250)]
    [InlineData("bridge", "dstnat", -300)]
    [InlineData("bridge", "filter", -200)]
    [InlineData("bridge", "out", 100)]
    [InlineData("bridge", "srcnat", 300)]
    public void Priorities(string fam, string prio, int expected)
    {
        var rs = NftRuleset.Parse($"table {fam} t {{ chain c {{ type filter hook forward priority {prio}; }}; }}", "p.nft");
        Assert.Equal(expected, rs.Tables[0].Chains[0].Priority);
    }

    [Fact]
    public void CommandsDefinesCommentsAndFlush()
    {
        var rs = NftRuleset.Parse("""
# comment
flush ruleset
define web = { 80, 443 }
define lan = 192.168.0.0/16
add table inet f
add chain inet f input { type filter hook input priority 0; policy drop; }
add rule inet f input ip saddr $lan tcp dport $web accept # trailing comment
add rule inet f input ct state established,related accept
""", "cmd.nft");
        var ch = rs.Tables[0].FindChain("input")!;
        Assert.True(ch.PolicyDrop);
        Assert.Equal(2, ch.Rules.Count);
        Assert.Equal("ip saddr 192.168.0.0/16 tcp dport { 80, 443 } accept", ch.Rules[0].Text);
    }

    [Fact]
    public void Include_RelativeToFile()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pfnft-inc-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "defs.nft"), "define ssh = 22\n");
            var main = Path.Combine(dir, "main.nft");
            File.WriteAllText(main, "include \"defs.nft\"\ntable ip t { chain c { type filter hook input priority 0; tcp dport $ssh accept; }; }\n");
            var rs = NftRuleset.Load(main);
            Assert.Equal("tcp dport 22 accept", rs.Tables[0].Chains[0].Rules[0].Text);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("table ip t {\n chain c {\n  tcpp dport 22 accept\n }\n}", 3, 3, "tcpp", "unknown expression 'tcpp'")]
    [InlineData("table ip t {\n chain c {\n  tcp dport 22 osf name Linux accept\n }\n}", 3, 16, "osf", "unsupported: osf (")]
    [InlineData("table ip t {\n chain c {\n  ip saddr 10.0.0.300 drop\n }\n}", 3, 12, "10.0.0.300", "not a valid ipv4_addr")]
    [InlineData("table ip t {\n chain c {\n  jump nowhere\n }\n}", 3, 8, "nowhere", "No such file or directory")]
    [InlineData("table ip t {\n chain c {\n  ip saddr @nope drop\n }\n}", 3, 12, "@nope", "does not exist")]
    public void Errors_NameFileLineColumnToken(string text, int line, int col, string token, string msg)
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse(text, "ruleset.nft"));
        Assert.Equal(line, e.Line);
        Assert.Equal(col, e.Column);
        Assert.Equal(token, e.Token);
        Assert.Contains(msg, e.Message);
        Assert.StartsWith($"ruleset.nft:{line}:{col}: ", e.Message);
    }

    [Fact]
    public void Error_ExactMessage()
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse("table ip t {\n chain c {\n  accept\n\n\n\n   tcp   tcpp 1\n }\n}", "ruleset.nft"));
        Assert.Equal("ruleset.nft:7:10: unsupported expression 'tcp tcpp'", e.Message);
    }

    [Fact]
    public void AllowUnsupported_KeepsAndMarks()
    {
        var rs = NftRuleset.Parse("table ip t { chain c { type filter hook input priority 0; tcp dport 22 osf name Linux accept; tcp dport 22 drop; }; }", "u.nft",
            new NftLoadOptions { AllowUnsupported = true });
        var rules = rs.Tables[0].Chains[0].Rules;
        Assert.Contains("unsupported: osf (passive OS fingerprinting", rules[0].Unsupported);
        var res = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, FakeNftPacket.Tcp4("1.1.1.1", "2.2.2.2", 1000, 22));
        Assert.Equal("drop", res.Verdict);
        Assert.Same(rules[0], Assert.Single(res.UnsupportedRules));
    }

    /// <summary>
    /// Forward jumps, as nft 1.0.6 on 6.18 takes them: a table block adds its chains before its rules,
    /// so a jump to a chain further down the same block loads; an `add rule` before the `add chain` of
    /// its target, or a block jumping to a chain a later block adds, fails where nft points
    /// ("r.nft:3:22-22: Error: Could not process rule: No such file or directory"; at the element
    /// for a verdict map: 3:34-35). A named verdict map's elements likewise (a block adds its sets after its chains).
    /// </summary>
    [Theory]
    [InlineData("table ip t {\n  chain a {\n    jump b\n  }\n  chain b {\n  }\n}", 0, 0, null)]
    [InlineData("table ip t {\n  chain a {\n    tcp dport vmap { 22 : jump b }\n  }\n  chain b {\n  }\n}", 0, 0, null)]
    [InlineData("add table ip t\nadd chain ip t a\nadd rule ip t a jump b\nadd chain ip t b", 3, 22, "b")]
    [InlineData("add table ip t\nadd chain ip t a { type filter hook input priority 0; }\nadd rule ip t a goto b\nadd chain ip t b", 3, 22, "b")]
    [InlineData("add table ip t\nadd chain ip t a\nadd rule ip t a jump b\ntable ip t {\n  chain b {\n  }\n}", 3, 22, "b")]
    [InlineData("table ip t {\n  chain a {\n    jump b\n  }\n}\ntable ip t {\n  chain b {\n  }\n}", 3, 10, "b")]
    [InlineData("add table ip t\nadd chain ip t a\nadd rule ip t a tcp dport vmap { 22 : jump b }\nadd chain ip t b", 3, 34, "22")]
    [InlineData("table ip t {\n  map m {\n    type inet_service : verdict\n    elements = { 22 : jump b }\n  }\n  chain b {\n  }\n}", 0, 0, null)]
    [InlineData("table ip t {\n  map m {\n    type inet_service : verdict\n    elements = { 22 : jump b }\n  }\n}\ntable ip t {\n  chain b {\n  }\n}", 4, 18, "22")]
    [InlineData("add table ip t\nadd map ip t m { type inet_service : verdict; }\nadd element ip t m { 22 : jump b }\nadd chain ip t b", 3, 22, "22")]
    public void ForwardJumps_LoadOnlyWithinOneTableBlock(string text, int line, int col, string? token)
    {
        if (token is null) { Assert.NotNull(NftRuleset.Parse(text, "r.nft").Tables[0].FindChain("b")); return; }
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse(text, "r.nft"));
        Assert.Equal((line, col, token), (e.Line, e.Column, e.Token));
        Assert.Contains("Could not process rule: No such file or directory: chain 'b' in table ip t", e.Message);
    }

    /// <summary>
    /// A NAT port needs the transport protocol named before it, as nft 1.0.6 checks (on 6.18:
    /// "r.nft:4:52-53: Error: transport protocol mapping is only valid after transport protocol match",
    /// pointing at the port): tcp/udp/sctp/icmp/esp fields, meta l4proto or ip protocol equal to a value or
    /// in a set, ct protocol, or a transport field as the map's key give it; th, != and meta nfproto do not.
    /// </summary>
    [Theory]
    [InlineData("dnat to ip daddr map { 10.0.0.1 : 10.0.0.2 } : 80", 52)]
    [InlineData("dnat to 10.0.0.2:80", 22)]
    [InlineData("dnat to 10.0.0.2:80-90", 22)]
    [InlineData("dnat ip to ip daddr map { 10.0.0.1 : 10.0.0.2 . 80 }", 16)]
    [InlineData("dnat ip addr . port to ip daddr map { 10.0.0.1 : 10.0.0.2 . 80 }", 28)]
    [InlineData("redirect to :8080", 18)]
    [InlineData("th dport 53 dnat to ip daddr map { 10.0.0.1 : 10.0.0.2 } : 5353", 64)]
    [InlineData("meta l4proto != tcp dnat to 10.0.0.2:80", 42)]
    [InlineData("meta nfproto ipv4 dnat to 10.0.0.2:80", 40)]
    [InlineData("dnat to 10.0.0.2:80 tcp dport 80", 22)] // a match after the statement does not count
    public void NatPortWithoutTransportMatch_Refused(string rule, int col)
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse($"table ip t {{\n  chain c {{\n    type nat hook prerouting priority dstnat;\n    {rule}\n  }}\n}}", "r.nft"));
        Assert.Equal("r.nft:4:" + col + ": transport protocol mapping is only valid after transport protocol match", e.Message);
    }

    [Theory]
    [InlineData("tcp dport 80 dnat to ip daddr map { 10.0.0.1 : 10.0.0.2 } : 8080")]
    [InlineData("meta l4proto tcp dnat to 10.0.0.2:80")]
    [InlineData("meta l4proto { tcp, udp } dnat to 10.0.0.2:80")]
    [InlineData("ip protocol 6 dnat to 10.0.0.2:80")]
    [InlineData("icmp type echo-request dnat to 10.0.0.2:80")]
    [InlineData("ct original protocol tcp dnat to 10.0.0.2:80")]
    [InlineData("dnat to tcp dport map { 80 : 10.0.0.2 } : 8080")]
    [InlineData("dnat to 10.0.0.2")]
    public void NatPortAfterTransportMatch_Loads(string rule) =>
        Assert.NotNull(NftRuleset.Parse($"table ip t {{ chain c {{ type nat hook prerouting priority dstnat; {rule}; }}; }}", "r.nft"));

    [Fact]
    public void JumpLoop_Refused()
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse("table ip t { chain a { jump b; }; chain b { jump a; }; }", "l.nft"));
        Assert.Contains("Too many levels", e.Message);
    }

    [Theory]
    [InlineData("ip saddr 10.0.0.0/8 ip daddr != 192.168.1.1 ip protocol tcp ip ttl 64 ip length 40-1500")]
    [InlineData("ip6 saddr fe80::/10 ip6 daddr ::1 ip6 nexthdr tcp ip6 hoplimit 255")]
    [InlineData("tcp sport 1024-65535 tcp dport { 53, 123 } th dport 443")]
    [InlineData("tcp flags & (syn|ack) == syn tcp flags syn tcp flags syn / syn,ack tcp flags != cwr")]
    [InlineData("icmpv6 type { nd-neighbor-solicit, nd-router-advert }")]
    [InlineData("ether saddr 00:11:22:33:44:55 ether type ip arp operation request arp saddr ip 10.0.0.1 arp daddr ip 10.0.0.0/24")]
    [InlineData("meta l4proto tcp meta nfproto ipv4 meta protocol ip6 iifname \"eth*\" oifname != lo iif 2 meta mark 0x10 meta pkttype broadcast meta length > 1000")]
    [InlineData("ct state established,related ct status dnat ct direction reply ct mark 5 fib daddr type local")]
    [InlineData("ip saddr . tcp dport { 10.0.0.1 . 22, 10.0.0.0/24 . 80-90 } counter log prefix \"x \" meta mark set 1 ct mark set 2 accept")]
    [InlineData("reject with tcp reset")]
    [InlineData("reject with icmpx type admin-prohibited")]
    [InlineData("tcp dport 80 dnat ip to 10.0.0.1:8080")]
    [InlineData("ip saddr 10.0.0.0/8 snat to 1.2.3.4")]
    [InlineData("tcp dport 80 redirect to :3128")]
    [InlineData("queue num 1 bypass")]
    public void Constructs_Parse(string rule)
    {
        var rs = NftRuleset.Parse($"table inet t {{ chain c {{ type filter hook input priority 0; {rule}; }}; }}", "c.nft");
        Assert.Null(rs.Tables[0].Chains[0].Rules[0].Unsupported);
    }

    [Fact]
    public void AllFamilies()
    {
        foreach (var (f, h) in new[] { ("ip", "input"), ("ip6", "input"), ("inet", "input"), ("arp", "input"), ("bridge", "forward"), ("netdev", "ingress device \"eth0\"") })
        {
            var rs = NftRuleset.Parse($"table {f} t {{ chain c {{ type filter hook {h} priority 0; }}; }}", "f.nft");
            Assert.Equal(f, rs.Tables[0].ToString().Split(' ')[1]);
        }
    }
}
