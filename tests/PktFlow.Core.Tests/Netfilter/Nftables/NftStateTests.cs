using PktFlow.Netfilter;
using PktFlow.Netfilter.Iptables;
using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>The stateful expressions against the capture clock: limit, quota, numgen, statistic, dynamic sets, counters.</summary>
public class NftStateTests
{
    private const long Ms = 1_000_000;

    internal static NftRuleset Rules(string body, string decls = "") =>
        NftRuleset.Parse($"table inet t {{\n{decls}\n chain c {{ type filter hook input priority 0; policy accept;\n{body}\n }}\n}}", "s.nft");

    private static string At(NftRuleset rs, NftState st, long ns, FakeNftPacket p)
    {
        st.Advance(ns);
        return NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, p, state: st).Verdict;
    }

    private static FakeNftPacket Udp(ushort dport, string src = "10.0.0.1") => FakeNftPacket.Udp4(src, "10.0.0.2", 40000, dport);

    [Theory]
    // rate, unit, burst text, bytes?, expected tokens_max and cost (for a 328-byte packet), from nft_limit_init's arithmetic
    [InlineData("limit rate 10/second", 500_000_000UL, 100_000_000UL)]                 // default burst 5 packets
    [InlineData("limit rate 2/second burst 3 packets", 1_500_000_000UL, 500_000_000UL)]
    [InlineData("limit rate 3/minute", 100_000_000_000UL, 20_000_000_000UL)]
    [InlineData("limit rate 1 kbytes/second burst 200 bytes", 1_195_312_500UL, 320_312_500UL)] // unit*(rate+burst)/rate; unit*len/rate
    [InlineData("limit rate over 10 mbytes/second", 1_000_000_000UL, 31_280UL)]
    public void Limit_TokenBucketArithmetic_AsNftLimitInit(string text, ulong tokensMax, ulong cost)
    {
        var rs = Rules(text + " accept");
        var lim = Assert.IsType<LimitStmt>(rs.Tables[0].Chains[0].Rules[0].Stmts[0]);
        Assert.Equal(tokensMax, lim.TokensMax);
        Assert.Equal(cost, lim.Cost(328));
    }

    [Fact]
    public void LimitPackets_BurstThenRefillByCaptureTime()
    {
        var rs = Rules("udp dport 1 limit rate 2/second burst 3 packets accept\nudp dport 1 drop");
        var st = new NftState(1, "h");
        var v = Enumerable.Range(0, 6).Select(i => At(rs, st, 1000 * Ms + i * Ms, Udp(1))).ToList();
        Assert.Equal(new[] { "accept", "accept", "accept", "drop", "drop", "drop" }, v);
        // 1.2 s later: 1.2 s of credit at 0.5 s a packet, so two more
        v = Enumerable.Range(0, 3).Select(i => At(rs, st, 2205 * Ms + i * Ms, Udp(1))).ToList();
        Assert.Equal(new[] { "accept", "accept", "drop" }, v);
        // a long pause refills only up to the burst
        v = Enumerable.Range(0, 4).Select(i => At(rs, st, 60_000 * Ms + i, Udp(1))).ToList();
        Assert.Equal(new[] { "accept", "accept", "accept", "drop" }, v);
    }

    [Fact]
    public void LimitOver_MatchesAboveTheRate()
    {
        var rs = Rules("limit rate over 1/second burst 1 packets drop");
        var st = new NftState(1, "h");
        Assert.Equal(new[] { "accept", "drop", "drop" }, new[] { 0L, 1, 2 }.Select(i => At(rs, st, i * Ms, Udp(1))));
        Assert.Equal("accept", At(rs, st, 1100 * Ms, Udp(1)));
    }

    [Fact]
    public void LimitBytes_ChargesTheLength()
    {
        var rs = Rules("limit rate 1 kbytes/second burst 200 bytes accept\ndrop");
        var st = new NftState(1, "h");
        var big = new FakeNftPacket { Net = new byte[328], L4Protocol = 17, TransportOffset = 20 };
        big.Net[0] = 0x45;
        Assert.Equal(new[] { "accept", "accept", "accept", "drop" }, Enumerable.Range(0, 4).Select(i => At(rs, st, i * Ms, big)));
    }

    [Fact]
    public void Quota_SpentAtTheBoundary_AndOver()
    {
        var p = Udp(2); int len = p.Net.Length;
        var rs = Rules($"udp dport 2 quota name \"q\" accept\nudp dport 2 drop\nudp dport 3 quota over {len + 1} bytes drop",
            $"quota q {{ {2 * len} bytes }}");
        var st = new NftState(1, "h");
        // the 2nd packet uses the quota exactly and still passes (6.18: over when consumed > quota)
        Assert.Equal(new[] { "accept", "accept", "drop" }, Enumerable.Range(0, 3).Select(i => At(rs, st, i, Udp(2))));
        Assert.Equal(new[] { "accept", "drop" }, Enumerable.Range(0, 2).Select(i => At(rs, st, i, Udp(3))));
        var q = Assert.Single(NfStateListing.Counters("h", st, rs), c => c.Kind == "Quota" && c.Name == "q");
        Assert.Equal(2 * len, q.Bytes); // capped at the quota, as the kernel dumps it
        Assert.Equal(2 * len, q.Quota);
    }

    [Fact]
    public void DynamicSet_AddRemembersUntilTheTimeout()
    {
        var rs = Rules("ip saddr . udp dport @seen drop\nadd @seen { ip saddr . udp dport } accept",
            "set seen { type ipv4_addr . inet_service; flags dynamic,timeout; timeout 1s; }");
        var st = new NftState(1, "h");
        Assert.Equal("accept", At(rs, st, 0, Udp(4)));
        Assert.Equal("drop", At(rs, st, 500 * Ms, Udp(4)));
        Assert.Equal("accept", At(rs, st, 500 * Ms, Udp(5)));
        var els = NfStateListing.SetElements("h", st, rs).ToList();
        Assert.Equal(new[] { "10.0.0.1 . 4", "10.0.0.1 . 5" }, els.Select(e => e.Element));
        Assert.All(els, e => Assert.True(e.Dynamic));
        Assert.Equal(TimeSpan.FromMilliseconds(500), els[0].Expires);
        Assert.Equal(TimeSpan.FromSeconds(1), els[1].Expires);
        Assert.Equal("accept", At(rs, st, 1000 * Ms, Udp(4))); // expired at 1 s: added again
        Assert.Equal("drop", At(rs, st, 1200 * Ms, Udp(4)));
    }

    [Fact]
    public void DynamicSet_UpdateRefreshes_AddDoesNot_DeleteRemoves()
    {
        var decl = "set k { type ipv4_addr; flags dynamic,timeout; }";
        var body = "udp dport 6 update @k { ip saddr timeout 1s } accept\nudp dport 9 add @k { ip saddr timeout 1s } accept\nudp dport 8 delete @k { ip saddr } accept\nudp dport 7 ip saddr @k accept\nudp dport 7 drop";
        var rs = Rules(body, decl);
        var st = new NftState(1, "h");
        At(rs, st, 0, Udp(6)); At(rs, st, 600 * Ms, Udp(6));
        Assert.Equal("accept", At(rs, st, 1400 * Ms, Udp(7)));  // refreshed at 0.6 s
        Assert.Equal("drop", At(rs, st, 1600 * Ms, Udp(7)));
        var st2 = new NftState(1, "h");
        At(rs, st2, 0, Udp(9)); At(rs, st2, 600 * Ms, Udp(9));
        Assert.Equal("drop", At(rs, st2, 1400 * Ms, Udp(7)));   // add keeps the first expiry
        var st3 = new NftState(1, "h");
        At(rs, st3, 0, Udp(6)); At(rs, st3, 100 * Ms, Udp(8));
        Assert.Equal("drop", At(rs, st3, 200 * Ms, Udp(7)));
        Assert.Empty(NfStateListing.SetElements("h", st3, rs));
    }

    [Fact]
    public void DynamicSet_FullSetFailsTheRule_AndMeterLimitsPerElement()
    {
        var rs = Rules("udp dport 1 add @s { ip saddr } accept\nudp dport 1 drop\nudp dport 2 add @m { ip saddr limit rate over 1/second burst 1 packets } drop",
            "set s { type ipv4_addr; size 1; flags dynamic; }\nset m { type ipv4_addr; flags dynamic; }");
        var st = new NftState(1, "h");
        Assert.Equal("accept", At(rs, st, 0, Udp(1, "10.0.0.1")));
        Assert.Equal("drop", At(rs, st, 0, Udp(1, "10.0.0.9")));   // set full: the add fails, the rule stops
        Assert.Equal("accept", At(rs, st, 0, Udp(1, "10.0.0.1"))); // already there
        // each source has its own bucket
        Assert.Equal(new[] { "accept", "drop", "accept", "drop" },
            new[] { "10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.2" }.Select(s => At(rs, st, 5 * Ms, Udp(2, s))));
    }

    [Fact]
    public void DeclaredElementTimeout_CountsFromTheFirstPacket()
    {
        var rs = Rules("ip saddr @b drop", "set b { type ipv4_addr; flags timeout; elements = { 10.0.0.1 timeout 2s, 10.0.0.3 }; }");
        var st = new NftState(1, "h");
        Assert.Equal("drop", At(rs, st, 100 * Ms, Udp(1)));
        Assert.Equal("drop", At(rs, st, 2000 * Ms, Udp(1)));
        Assert.Equal("accept", At(rs, st, 2100 * Ms, Udp(1)));
        Assert.Equal("drop", At(rs, st, 9000 * Ms, Udp(1, "10.0.0.3")));
    }

    [Fact]
    public void NumgenInc_CountsFromZero_NthFromPacket()
    {
        var rs = Rules("udp dport 1 numgen inc mod 3 0 drop\nudp dport 2 numgen inc mod 3 offset 10 12 drop");
        var st = new NftState(1, "h");
        Assert.Equal(new[] { "drop", "accept", "accept", "drop", "accept" }, Enumerable.Range(0, 5).Select(i => At(rs, st, i, Udp(1))));
        Assert.Equal(new[] { "accept", "accept", "drop" }, Enumerable.Range(0, 3).Select(i => At(rs, st, i, Udp(2))));
        var ipt = IptablesRestore.Load("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m statistic --mode nth --every 3 --packet 1 -j DROP\nCOMMIT\n", "n.v4", false);
        var st2 = new NftState(1, "h");
        var v = Enumerable.Range(0, 5).Select(_ => NftEvaluator.RunHook(ipt, NftFamily.Ip, NftHookPoint.Input, Udp(1), state: st2).Verdict);
        Assert.Equal(new[] { "accept", "drop", "accept", "accept", "drop" }, v);
    }

    [Fact]
    public void Random_SameSeedSameDraws_OtherSeedOthers()
    {
        var rs = Rules("numgen random mod 4 0 drop");
        string Seq(int seed) { var st = new NftState(seed, "h"); return string.Concat(Enumerable.Range(0, 64).Select(i => At(rs, st, i, Udp(1))[0])); }
        Assert.Equal(Seq(1), Seq(1));
        Assert.NotEqual(Seq(1), Seq(2));
        var drops = Seq(42).Count(ch => ch == 'd');
        Assert.InRange(drops, 4, 32); // about a quarter
    }

    [Fact]
    public void EveryOutcome_EnumeratesKubeProxyEndpoints_ProbabilitiesSumToOne()
    {
        const string kube = "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SVC - [0:0]\n:SEP-A - [0:0]\n:SEP-B - [0:0]\n:SEP-C - [0:0]\n"
            + "-A PREROUTING -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j KUBE-SVC\n"
            + "-A KUBE-SVC -m statistic --mode random --probability 0.33333333349 -j SEP-A\n"
            + "-A KUBE-SVC -m statistic --mode random --probability 0.50000000000 -j SEP-B\n"
            + "-A KUBE-SVC -j SEP-C\n"
            + "-A SEP-A -p tcp -j DNAT --to-destination 10.244.0.1:8080\n-A SEP-B -p tcp -j DNAT --to-destination 10.244.0.2:8080\n-A SEP-C -p tcp -j DNAT --to-destination 10.244.0.3:8080\nCOMMIT\n";
        var rs = IptablesRestore.Load(kube, "k.v4", false);
        var st = new NftState(5, "h");
        var p = FakeNftPacket.Tcp4("1.1.1.1", "10.96.0.10", 40000, 80);
        var before = st.CloneForDryRun(Array.Empty<int>());
        var seeded = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Prerouting, p, state: st);
        var outcomes = NftOutcomes.Enumerate(rs, NftFamily.Ip, NftHookPoint.Prerouting, p, 0, NftChainFilter.All, before, seeded.Decisions);
        Assert.Equal(3, outcomes.Count);
        Assert.Equal(1.0, outcomes.Sum(o => o.Probability), 9);
        Assert.All(outcomes, o => Assert.Equal(1 / 3.0, o.Probability, 6));
        Assert.Equal(new[] { "10.244.0.1", "10.244.0.2", "10.244.0.3" }, outcomes.Select(o => o.Result.Nat!.Address));
        var taken = Assert.Single(outcomes, o => o.Taken);
        Assert.Equal(seeded.Nat!.Address, taken.Result.Nat!.Address);
        Assert.Equal(new[] { 1, 2, 2 }, outcomes.Select(o => o.Choices.Count));
    }

    [Theory]
    [InlineData("meta random & 2147483647 < 1073741824", 0.5)]   // as iptables-nft prints statistic --probability 0.5
    [InlineData("meta random & 3 >= 1", 0.75)]
    [InlineData("meta random & 255 == 7", 1 / 256.0)]
    public void MetaRandom_ProbabilityOfTheMaskedComparison(string expr, double p)
    {
        var rs = Rules(expr + " drop");
        var m = Assert.IsType<MetaRandomStmt>(rs.Tables[0].Chains[0].Rules[0].Stmts[0]);
        Assert.Equal(p, m.Probability, 15);
        Assert.True(rs.HasRandomRules);
        var st = new NftState(9, "h");
        var before = st.CloneForDryRun(Array.Empty<int>());
        var seeded = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, Udp(1), state: st);
        var o = NftOutcomes.Enumerate(rs, NftFamily.Ip, NftHookPoint.Input, Udp(1), 0, NftChainFilter.All, before, seeded.Decisions);
        Assert.Equal(p, o.Single(x => x.Result.Verdict == "drop").Probability, 15);
        Assert.Throws<NftParseException>(() => Rules("meta random & 5 < 2 drop"));
    }

    [Fact]
    public void EveryOutcome_NumgenRandom_ExactShares()
    {
        var rs = Rules("numgen random mod 3 0 drop");
        var st = new NftState(1, "h");
        var before = st.CloneForDryRun(Array.Empty<int>());
        var seeded = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, Udp(1), state: st);
        var outcomes = NftOutcomes.Enumerate(rs, NftFamily.Ip, NftHookPoint.Input, Udp(1), 0, NftChainFilter.All, before, seeded.Decisions);
        Assert.Equal(3, outcomes.Count);
        Assert.Equal(1.0, outcomes.Sum(o => o.Probability), 12);
        Assert.Equal(new[] { "drop", "accept", "accept" }, outcomes.Select(o => o.Result.Verdict));
        // reciprocal_scale: 1431655766, 1431655765, 1431655765 of the 2^32 values
        Assert.Equal(1431655766 / 4294967296.0, outcomes[0].Probability, 15);
        // the draw went with the hook's result, and the dry runs left the replay's state alone
        Assert.Single(seeded.Decisions);
        Assert.Empty(st.Decisions);
    }

    [Fact]
    public void Counters_RuleNamedPolicyAndInitialValues()
    {
        var rs = Rules("icmp type echo-request counter name \"pings\" accept\nudp dport 1 counter packets 5 bytes 100 drop", "counter pings { packets 1 bytes 84 }");
        var st = new NftState(1, "h");
        At(rs, st, 0, FakeNftPacket.Icmp4("1.1.1.1", "2.2.2.2"));
        At(rs, st, 0, Udp(1));
        At(rs, st, 0, Udp(2));
        var c = NfStateListing.Counters("h", st, rs).ToList();
        var icmpLen = FakeNftPacket.Icmp4("1.1.1.1", "2.2.2.2").Net.Length; var udpLen = Udp(1).Net.Length;
        Assert.Equal((2L, 84L + icmpLen), c.Where(x => x.Kind == "Counter").Select(x => (x.Packets, x.Bytes)).Single());
        Assert.Equal((6L, 100L + udpLen), c.Where(x => x.Kind == "Rule").Select(x => (x.Packets, x.Bytes)).Single());
        Assert.Equal((1L, (long)udpLen), c.Where(x => x.Kind == "Policy").Select(x => (x.Packets, x.Bytes)).Single());
        // another replay starts from the loaded values again
        Assert.Equal(5, NfStateListing.Counters("h", new NftState(1, "h"), rs).Single(x => x.Kind == "Rule").Packets);
    }
}
