using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables;

public class NftEvaluatorTests
{
    private static NftHookResult Run(string rules, FakeNftPacket p, string family = "inet", string policy = "accept", NftHookPoint hook = NftHookPoint.Input)
    {
        var rs = NftRuleset.Parse($"table {family} t {{\n chain c {{ type filter hook {hook.ToString().ToLowerInvariant()} priority 0; policy {policy};\n{rules}\n }}\n chain sub {{ tcp dport 23 drop\n udp dport 53 return\n tcp dport 24 accept; }}\n}}", "e.nft");
        return NftEvaluator.RunHook(rs, p.Family, hook, p);
    }

    public static TheoryData<string, string, string> Cases => new()
    {
        // rule ; packet ; expected verdict
        { "ip saddr 10.0.0.0/8 drop", "tcp4 10.1.2.3 1.1.1.1 1000 22", "drop" },
        { "ip saddr 10.0.0.0/8 drop", "tcp4 11.1.2.3 1.1.1.1 1000 22", "accept" },
        { "ip saddr != 10.0.0.0/8 drop", "tcp4 11.1.2.3 1.1.1.1 1000 22", "drop" },
        { "ip daddr { 1.1.1.1, 2.2.2.0/24 } drop", "tcp4 10.1.2.3 2.2.2.9 1000 22", "drop" },
        { "ip daddr 2.2.2.1-2.2.2.5 drop", "tcp4 10.1.2.3 2.2.2.5 1000 22", "drop" },
        { "ip daddr 2.2.2.1-2.2.2.5 drop", "tcp4 10.1.2.3 2.2.2.6 1000 22", "accept" },
        { "ip protocol tcp ip ttl 64 drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "ip ttl != 64 drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "accept" },
        { "ip length 40 drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "tcp dport { 22, 80, 443 } drop", "tcp4 1.1.1.1 2.2.2.2 1000 80", "drop" },
        { "tcp dport 1-1024 drop", "tcp4 1.1.1.1 2.2.2.2 1000 2000", "accept" },
        { "tcp dport ssh drop", "tcp4 1.1.1.1 2.2.2.2 1000 22", "drop" },
        { "udp dport 22 drop", "tcp4 1.1.1.1 2.2.2.2 1000 22", "accept" },
        { "th dport 53 drop", "udp4 1.1.1.1 2.2.2.2 1000 53", "drop" },
        { "tcp sport < 1024 drop", "tcp4 1.1.1.1 2.2.2.2 1000 53", "drop" },
        { "tcp flags & (syn|ack) == syn drop", "tcp4 1.1.1.1 2.2.2.2 1 2 syn", "drop" },
        { "tcp flags & (syn|ack) == syn drop", "tcp4 1.1.1.1 2.2.2.2 1 2 synack", "accept" },
        { "tcp flags syn drop", "tcp4 1.1.1.1 2.2.2.2 1 2 synack", "drop" },
        { "tcp flags == syn drop", "tcp4 1.1.1.1 2.2.2.2 1 2 synack", "accept" },
        { "tcp flags syn / syn,ack drop", "tcp4 1.1.1.1 2.2.2.2 1 2 syn", "drop" },
        { "tcp flags ! syn drop", "tcp4 1.1.1.1 2.2.2.2 1 2 ack", "drop" },
        { "icmp type echo-request drop", "icmp4 1.1.1.1 2.2.2.2", "drop" },
        { "icmp type echo-reply drop", "icmp4 1.1.1.1 2.2.2.2", "accept" },
        { "meta l4proto icmp drop", "icmp4 1.1.1.1 2.2.2.2", "drop" },
        { "meta nfproto ipv6 drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "accept" },
        { "meta protocol ip drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "iifname \"eth*\" drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "iifname \"eth1\" drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "accept" },
        { "iifname { \"lo\", \"eth0\" } drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "iif 2 drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "iif eth0 drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "iif ne eth0 drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "accept" },
        { "iif ne 2 drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "accept" }, // an index after ne, not a name "2"
        { "iif eq 2 drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "meta iif ne \"eth1\" drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "meta mark 0 meta pkttype host drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "meta length 40 drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "ct state invalid drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "ct state established,related accept\nct state new drop", "tcp4-new 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "ct state established,related drop", "tcp4-est 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "ct direction reply drop", "tcp4-est 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "ct status dnat drop", "tcp4-est 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "ct mark 7 drop", "tcp4-est 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "fib daddr type local drop", "tcp4 1.1.1.1 2.2.2.2 1 2", "drop" },
        { "fib daddr type local drop", "tcp4 1.1.1.1 3.3.3.3 1 2", "accept" },
        { "ip6 saddr fe80::/10 ip6 nexthdr tcp drop", "tcp6 fe80::1 fe80::2 1 2", "drop" },
        { "ip saddr 0.0.0.0/0 drop", "tcp6 fe80::1 fe80::2 1 2", "accept" },
        { "ip saddr . tcp dport { 1.1.1.1 . 22, 10.0.0.0/8 . 80-90 } drop", "tcp4 10.9.9.9 2.2.2.2 1 85", "drop" },
        { "ip saddr . tcp dport { 1.1.1.1 . 22, 10.0.0.0/8 . 80-90 } drop", "tcp4 10.9.9.9 2.2.2.2 1 22", "accept" },
        { "jump sub", "tcp4 1.1.1.1 2.2.2.2 1 23", "drop" },
        { "jump sub\ndrop", "udp4 1.1.1.1 2.2.2.2 1 53", "drop" },
        { "goto sub\ndrop", "udp4 1.1.1.1 2.2.2.2 1 53", "accept" },
        { "goto sub\ndrop", "udp4 1.1.1.1 2.2.2.2 1 54", "accept" },
        { "jump sub\ndrop", "tcp4 1.1.1.1 2.2.2.2 1 24", "accept" },
        { "tcp dport vmap { 22 : drop, 23 : accept }", "tcp4 1.1.1.1 2.2.2.2 1 22", "drop" },
        { "continue\ndrop", "tcp4 1.1.1.1 2.2.2.2 1 22", "drop" },
        { "return\ndrop", "tcp4 1.1.1.1 2.2.2.2 1 22", "accept" },
        { "queue", "tcp4 1.1.1.1 2.2.2.2 1 22", "queue" },
    };

    private static FakeNftPacket Packet(string spec)
    {
        var a = spec.Split(' ');
        ushort P(int i) => ushort.Parse(a[i]);
        var estab = new NftCtInfo("established", "reply", 7, "confirmed,dnat,seen-reply");
        return a[0] switch
        {
            "tcp4" => FakeNftPacket.Tcp4(a[1], a[2], P(3), P(4), a.Length > 5 ? (a[5] switch { "synack" => (byte)0x12, "ack" => (byte)0x10, _ => (byte)0x02 }) : (byte)0x02),
            "tcp4-new" => FakeNftPacket.Tcp4(a[1], a[2], P(3), P(4), ct: new NftCtInfo("new", "original", 0, "")),
            "tcp4-est" => FakeNftPacket.Tcp4(a[1], a[2], P(3), P(4), ct: estab),
            "udp4" => FakeNftPacket.Udp4(a[1], a[2], P(3), P(4)),
            "tcp6" => FakeNftPacket.Tcp6(a[1], a[2], P(3), P(4)),
            "icmp4" => FakeNftPacket.Icmp4(a[1], a[2]),
            _ => throw new ArgumentException(spec),
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Verdicts(string rules, string packet, string verdict)
    {
        var p = Packet(packet);
        p.Local = b => b.SequenceEqual(new byte[] { 2, 2, 2, 2 });
        Assert.Equal(verdict, Run(rules, p).Verdict);
    }

    [Fact]
    public void Policy_Drop_AndRunsRecordPolicy()
    {
        var r = Run("tcp dport 22 accept", FakeNftPacket.Tcp4("1.1.1.1", "2.2.2.2", 1, 80), policy: "drop");
        Assert.Equal("drop", r.Verdict);
        var run = Assert.Single(r.Runs);
        Assert.Null(run.Rule); Assert.Equal("policy", run.By);
    }

    [Fact]
    public void JumpReturn_RunsTraceTheStack()
    {
        var r = Run("jump sub\ncounter accept", FakeNftPacket.Udp4("1.1.1.1", "2.2.2.2", 1, 53));
        Assert.Equal(new[] { "c:jump", "sub:return", "c:accept" }, r.Runs.Select(x => $"{x.Chain.Name}:{x.Verdict}"));
    }

    [Fact]
    public void Counter_LogAndMarks()
    {
        var rs = NftRuleset.Parse("table ip t { chain c { type filter hook input priority 0; counter log prefix \"in: \" meta mark set 0x2a ct mark set 9 meta mark 42 counter; }; }", "c.nft");
        var p = FakeNftPacket.Tcp4("1.1.1.1", "2.2.2.2", 1, 80);
        var state = new NftState(1, "t");
        var r = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, p, state: state);
        NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, p, state: state);
        var counters = PktFlow.Netfilter.NfStateListing.Counters("t", state, rs).Where(c => c.Kind == "Rule").ToList();
        Assert.Equal(new long[] { 2, 2 }, counters.Select(c => c.Packets)); // two counters in the rule, two packets each
        Assert.Equal(new long[] { 80, 80 }, counters.Select(c => c.Bytes));
        Assert.Equal(42u, p.Mark);
        Assert.Equal(9u, r.CtMark);
        Assert.Equal("log prefix \"in: \"", Assert.Single(r.Logs));
    }

    [Theory]
    [InlineData("reject with tcp reset", "tcp reset")]
    [InlineData("reject", "icmp port-unreachable")]
    [InlineData("reject with icmp type host-unreachable", "icmp host-unreachable")]
    [InlineData("reject with icmpx type admin-prohibited", "icmpx admin-prohibited")]
    public void Reject(string rule, string desc)
    {
        var r = Run(rule, FakeNftPacket.Tcp4("1.1.1.1", "2.2.2.2", 1, 80));
        Assert.Equal("drop", r.Verdict);
        Assert.Equal(desc, r.Reject);
    }

    [Theory]
    [InlineData("dnat to 10.0.0.2:80", "dnat", "10.0.0.2", 80)]
    [InlineData("dnat ip to 10.0.0.2:8080", "dnat", "10.0.0.2", 8080)]
    [InlineData("snat to 1.2.3.4", "snat", "1.2.3.4", null)]
    [InlineData("masquerade", "masquerade", null, null)]
    [InlineData("redirect to :3128", "redirect", null, 3128)]
    public void Nat(string rule, string kind, string? addr, int? port)
    {
        var rs = NftRuleset.Parse($"table ip n {{ chain c {{ type nat hook prerouting priority dstnat; tcp dport 80 {rule}; }}; }}", "n.nft");
        var r = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Prerouting, FakeNftPacket.Tcp4("1.1.1.1", "2.2.2.2", 1, 80));
        Assert.Equal("accept", r.Verdict);
        Assert.Equal(kind, r.Nat!.Kind); Assert.Equal(addr, r.Nat.Address); Assert.Equal(port, r.Nat.PortMin);
        Assert.Equal($"tcp dport 80 {rule}", r.Nat.RuleText);
    }

    [Fact]
    public void PriorityOrderAcrossTables_AcceptEndsChainDropEndsHook()
    {
        var rs = NftRuleset.Parse("""
table inet late { chain c { type filter hook input priority 10; drop; }; }
table ip early { chain c { type filter hook input priority -10; accept; }; }
table ip6 other { chain c { type filter hook input priority -20; drop; }; }
""", "o.nft");
        var r = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, FakeNftPacket.Tcp4("1.1.1.1", "2.2.2.2", 1, 80));
        Assert.Equal("drop", r.Verdict);
        Assert.Equal(new[] { "early", "late" }, r.Runs.Select(x => x.Chain.Table.Name));
    }

    [Fact]
    public void NamedSetsWithIntervals()
    {
        var rs = NftRuleset.Parse("""
table inet f {
  chain c { type filter hook input priority 0; ip saddr @bad drop; tcp dport @ports drop; }
  set bad { type ipv4_addr; flags interval; elements = { 10.0.0.0/8,
     192.168.1.1-192.168.1.9 } }
  set ports { type inet_service; flags interval; elements = { 1-100, 200 } }
}
""", "s.nft");
        string V(FakeNftPacket p) => NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, p).Verdict;
        Assert.Equal("drop", V(FakeNftPacket.Tcp4("192.168.1.5", "2.2.2.2", 1, 8080)));
        Assert.Equal("accept", V(FakeNftPacket.Tcp4("192.168.1.10", "2.2.2.2", 1, 8080)));
        Assert.Equal("drop", V(FakeNftPacket.Tcp4("1.1.1.1", "2.2.2.2", 1, 200)));
        Assert.Equal("accept", V(FakeNftPacket.Tcp4("1.1.1.1", "2.2.2.2", 1, 199)));
    }

    [Fact]
    public void Evaluation_DoesNotAllocatePerRule()
    {
        var rs = NftRuleset.Parse("table ip t { chain c { type filter hook input priority 0; ip saddr 10.0.0.0/8 tcp dport { 22, 80 } accept; ip daddr 9.9.9.9 drop; tcp flags & (syn|ack) == syn counter; }; }", "a.nft");
        var p = FakeNftPacket.Tcp4("1.1.1.1", "2.2.2.2", 1, 80);
        var state = new NftState(1, "t");
        NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, p, state: state);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, p, state: state);
        long per = (GC.GetAllocatedBytesForCurrentThread() - before) / 1000;
        Assert.True(per < 1024, $"{per} bytes per hook run"); // result records and the chain list only
    }
}
