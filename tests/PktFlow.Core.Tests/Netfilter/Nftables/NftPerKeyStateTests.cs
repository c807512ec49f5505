using PktFlow.Netfilter;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// State kept per key or shared by name: meters and dynsets with limits, ct count (nft_connlimit),
/// named limit objects and object maps, hashes and numgen feeding maps. Expected outcomes marked
/// "kernel" were recorded in tests/scenarios/nft-meter-connlimit-hash.
/// </summary>
public class NftPerKeyStateTests
{
    private const long Ms = 1_000_000;

    private static NftRuleset Rules(string body, string decls = "") => NftStateTests.Rules(body, decls);

    private static NftHookResult Run(NftRuleset rs, NftState st, long ns, FakeNftPacket p)
    {
        st.Advance(ns);
        return NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, p, state: st);
    }

    private static FakeNftPacket Udp(string src, ushort sport, ushort dport) => FakeNftPacket.Udp4(src, "10.1.0.1", sport, dport);

    private static string[] Verdicts(NftRuleset rs, NftState st, params FakeNftPacket[] ps) =>
        ps.Select((p, i) => Run(rs, st, (i + 1) * Ms, p).Verdict).ToArray();

    [Fact]
    public void Meter_KeepsALimitPerSource() // kernel: frames 9-18
    {
        var rs = Rules("udp dport 5001 meter m1 { ip saddr limit rate 1/second burst 2 packets } accept\nudp dport 5001 drop");
        var st = new NftState(1, "h");
        Assert.Equal(new[] { "accept", "accept", "drop", "accept", "accept", "drop" },
            Verdicts(rs, st, Udp("10.1.0.2", 1, 5001), Udp("10.1.0.2", 1, 5001), Udp("10.1.0.2", 1, 5001), Udp("10.1.0.3", 1, 5001), Udp("10.1.0.3", 1, 5001), Udp("10.1.0.3", 1, 5001)));
    }

    [Fact]
    public void Meter_IsAHiddenDynamicSetWithAHandleBeforeItsRule()
    {
        // nft 1.0.6: chain 1, meter set 2, its rule 3; `nft list` shows the meter in the rule, not the set
        var rs = NftRuleset.Parse("table ip t { chain c { type filter hook input priority 0; meter m size 100 { ip saddr timeout 10s limit rate 10/second } accept; accept; }; }", "m.nft");
        var t = rs.Tables[0];
        var m = t.Sets.Single();
        Assert.True(m.IsMeter);
        Assert.Equal((2, 100), (m.Handle, m.Size!.Value));
        Assert.Contains("timeout", m.Flags);
        Assert.Equal(new[] { 3, 4 }, t.Chains[0].Rules.Select(r => r.Handle));
        var dynset = Assert.IsType<DynsetStmt>(t.Chains[0].Rules[0].Stmts[0]);
        Assert.Equal("add", dynset.Op);
    }

    [Fact]
    public void Dynset_LimitOverPerElement() // kernel: frames 19-24
    {
        var rs = Rules("udp dport 5002 add @over { ip saddr limit rate over 1/second burst 2 packets } drop", "set over { type ipv4_addr; flags dynamic; }");
        var st = new NftState(1, "h");
        Assert.Equal(new[] { "accept", "accept", "drop", "accept" },
            Verdicts(rs, st, Udp("10.1.0.2", 1, 5002), Udp("10.1.0.2", 1, 5002), Udp("10.1.0.2", 1, 5002), Udp("10.1.0.3", 1, 5002)));
    }

    [Fact]
    public void NamedLimit_IsOneBucketForEveryRuleNamingIt() // kernel: frames 26-30
    {
        var rs = Rules("udp dport 5003 limit name \"lim1\" accept\nudp dport 5004 limit name \"lim1\" accept\nudp dport { 5003, 5004 } drop",
            "limit lim1 { rate 2/second burst 2 packets }");
        var st = new NftState(1, "h");
        Assert.Equal(new[] { "accept", "accept", "drop" }, Verdicts(rs, st, Udp("10.1.0.2", 1, 5003), Udp("10.1.0.2", 1, 5003), Udp("10.1.0.2", 1, 5004)));
        Assert.Equal("limit", rs.Tables[0].Objects.Single().Kind);
        Assert.DoesNotContain(NfStateListing.Counters("h", st, rs), c => c.Kind == "Quota"); // a limit is no counter
    }

    [Fact]
    public void ObjectMap_ChoosesTheLimitPerPacket()
    {
        var rs = Rules("udp dport 5009 limit name ip saddr map { 10.1.0.2 : \"lim1\", 10.1.0.3 : \"lim2\" } accept\nudp dport 5009 drop",
            "limit lim1 { rate 2/second burst 2 packets }\nlimit lim2 { rate 1/second burst 1 packets }");
        var st = new NftState(1, "h");
        Assert.Equal(new[] { "accept", "accept", "accept", "drop", "drop" },
            Verdicts(rs, st, Udp("10.1.0.2", 1, 5009), Udp("10.1.0.2", 1, 5009), Udp("10.1.0.3", 1, 5009), Udp("10.1.0.3", 1, 5009), Udp("10.1.0.9", 1, 5009)));
    }

    [Fact]
    public void AddLimitCommand_DeclaresTheObject()
    {
        var rs = NftRuleset.Parse("add table ip t\nadd limit ip t l { rate over 10 kbytes/second burst 2 kbytes }\nadd chain ip t c { type filter hook input priority 0; }\nadd rule ip t c limit name \"l\" drop\n", "a.nft");
        var o = rs.Tables[0].Objects.Single();
        Assert.Equal(("limit", 1), (o.Kind, o.Handle));
    }

    /// <summary>A fake conntrack: flows become live when a packet of theirs is accepted (confirmed at the end of input).</summary>
    private sealed class FakeConntrack
    {
        public readonly Dictionary<NftConnKey, NftConnPresence> Held = new();
        public FakeNftPacket Flow(string src, ushort sport, ushort dport)
        {
            var p = Udp(src, sport, dport);
            return new FakeNftPacket
            {
                Net = p.Net, L4Protocol = 17, TransportOffset = 20,
                ConnCountKey = new NftConnKey(new ConntrackTuple(FakeNftPacket.A(src), FakeNftPacket.A("10.1.0.1"), 17, sport, dport), 0),
                Presence = k => Held.GetValueOrDefault(k, NftConnPresence.Gone),
            };
        }

        public string[] Send(NftRuleset rs, NftState st, params FakeNftPacket[] ps) => ps.Select((p, i) =>
        {
            var v = Run(rs, st, (i + 1) * 300 * Ms, p).Verdict;
            if (v == "accept") Held[p.ConnCountKey!.Value] = NftConnPresence.Live;
            return v;
        }).ToArray();
    }

    [Fact]
    public void CtCount_WalksItsListAsNfConncountDoes() // kernel: frames 38-47
    {
        var rs = Rules("udp dport 5005 ct count over 2 drop");
        var ct = new FakeConntrack();
        // flows 1 and 2 pass; 3 is the third (dropped, never confirmed, but listed); 1 again: the walk stops
        // at itself before reaching 3, so 3 still counts; 4: the walk evicts 3, appends 4; 2: stops at itself
        Assert.Equal(new[] { "accept", "accept", "drop", "drop", "drop", "drop" }, ct.Send(rs, new NftState(1, "h"),
            ct.Flow("10.1.0.2", 41001, 5005), ct.Flow("10.1.0.2", 41002, 5005), ct.Flow("10.1.0.2", 41003, 5005),
            ct.Flow("10.1.0.2", 41001, 5005), ct.Flow("10.1.0.2", 41004, 5005), ct.Flow("10.1.0.2", 41002, 5005)));
    }

    [Fact]
    public void CtCount_AClosedConnectionNoLongerCounts()
    {
        var rs = Rules("ct count 1 accept\ndrop");
        var ct = new FakeConntrack();
        var st = new NftState(1, "h");
        Assert.Equal(new[] { "accept", "drop" }, ct.Send(rs, st, ct.Flow("10.1.0.2", 1, 80), ct.Flow("10.1.0.2", 2, 80)));
        ct.Held[ct.Flow("10.1.0.2", 1, 80).ConnCountKey!.Value] = NftConnPresence.Closed; // TIME_WAIT
        Assert.Equal(new[] { "accept" }, ct.Send(rs, st, ct.Flow("10.1.0.2", 3, 80)));
    }

    [Fact]
    public void CtCount_PerSetElement() // kernel: frames 48-53
    {
        var rs = Rules("udp dport 5006 add @cc { ip saddr ct count over 1 } drop", "set cc { type ipv4_addr; flags dynamic; }");
        var ct = new FakeConntrack();
        Assert.Equal(new[] { "accept", "drop", "accept", "drop" }, ct.Send(rs, new NftState(1, "h"),
            ct.Flow("10.1.0.2", 42001, 5006), ct.Flow("10.1.0.2", 42002, 5006), ct.Flow("10.1.0.3", 42001, 5006), ct.Flow("10.1.0.3", 42002, 5006)));
    }

    [Fact]
    public void CtCount_WithoutATupleDropsThePacket()
    {
        var rs = Rules("ct count over 5 accept");
        Assert.Equal("drop", Run(rs, new NftState(1, "h"), Ms, Udp("10.1.0.2", 1, 2)).Verdict);
    }

    [Fact]
    public void CtCount_InASetWithTimeoutsIsRefusedAsTheKernelDoes()
    {
        var e = Assert.Throws<NftParseException>(() => Rules("update @s { ip saddr ct count over 2 } drop", "set s { type ipv4_addr; flags dynamic,timeout; timeout 10s; }"));
        Assert.Contains("Operation not supported", e.Message);
    }

    [Theory] // kernel: frames 54-67 (seed 0xcafe over saddr . sport, 4-byte padded) and 69-78 (sport alone, 2 bytes)
    [InlineData("udp dport 5007 jhash ip saddr . udp sport mod 2 seed 0xcafe vmap { 0 : accept, 1 : drop }", 5007, "10.1.0.2", 43001, "DDADAD", 6)]
    [InlineData("udp dport 5007 jhash ip saddr . udp sport mod 2 seed 0xcafe vmap { 0 : accept, 1 : drop }", 5007, "10.1.0.3", 43001, "ADAA", 4)]
    [InlineData("udp dport 5008 jhash udp sport mod 4 seed 7 offset 10 vmap { 10 : accept, 11 : drop, 12 : accept, 13 : drop }", 5008, "10.1.0.2", 44001, "ADDDADDD", 8)]
    public void Jhash_WithASeed_BucketsAsTheKernel(string rule, int dport, string src, int firstPort, string expected, int count)
    {
        var rs = Rules(rule);
        var st = new NftState(1, "h");
        var got = Enumerable.Range(0, count).Select(i => Run(rs, st, Ms, Udp(src, (ushort)(firstPort + i), (ushort)dport)).Verdict == "accept" ? 'A' : 'D');
        Assert.Equal(expected[..count], new string(got.ToArray()));
        Assert.False(rs.HasRandomRules);
    }

    [Fact]
    public void Jhash_KnownValue()
    {
        // lookup3 with an empty key returns the initial value; a 4-byte key runs the final mix
        Assert.Equal(0xdeadbeefu + 0u + 7u, NftHashes.Jhash(ReadOnlySpan<byte>.Empty, 7));
        Assert.NotEqual(NftHashes.Jhash(new byte[] { 1, 2, 3, 4 }, 0), NftHashes.Jhash(new byte[] { 4, 3, 2, 1 }, 0));
    }

    [Fact]
    public void Jhash_WithoutASeed_DrawsEachKeyOnceFromTheReplaySeed()
    {
        var rs = Rules("jhash ip saddr mod 4 vmap { 0 : accept, 1 : drop, 2 : accept, 3 : drop }");
        Assert.True(rs.HasRandomRules);
        var st = new NftState(7, "h");
        var first = Run(rs, st, Ms, Udp("10.1.0.2", 1, 2));
        Assert.Single(first.Decisions);
        Assert.Equal(4, first.Decisions[0].Alternatives.Count);
        for (int i = 0; i < 5; i++)
        {
            var again = Run(rs, st, (i + 2) * Ms, Udp("10.1.0.2", (ushort)(10 + i), 2));
            Assert.Empty(again.Decisions); // the same source, the same bucket: no new draw
            Assert.Equal(first.Verdict, again.Verdict);
        }
        Assert.Single(Run(rs, st, 9 * Ms, Udp("10.1.0.3", 1, 2)).Decisions);
    }

    [Fact]
    public void EveryOutcome_UnseededJhashMap_EachBucketOnceThenTheDrawIsKept()
    {
        var rs = NftRuleset.Parse("table ip t { chain pre { type nat hook prerouting priority dstnat; dnat to jhash ip saddr mod 2 map { 0 : 10.2.0.2, 1 : 10.3.0.2 }; }; }", "j.nft");
        var st = new NftState(5, "h");
        var p = Udp("10.1.0.2", 1, 7000);
        var before = st.CloneForDryRun(Array.Empty<int>());
        var seeded = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Prerouting, p, state: st);
        var outcomes = NftOutcomes.Enumerate(rs, NftFamily.Ip, NftHookPoint.Prerouting, p, 0, NftChainFilter.All, before, seeded.Decisions);
        Assert.Equal(new[] { "10.2.0.2", "10.3.0.2" }, outcomes.Select(o => o.Result.Nat!.Address));
        Assert.All(outcomes, o => Assert.Equal(0.5, o.Probability, 9));
        Assert.Equal(seeded.Nat!.Address, Assert.Single(outcomes, o => o.Taken).Result.Nat!.Address);
        // the next packet from that source follows the drawn bucket: nothing left to enumerate
        var next = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Prerouting, Udp("10.1.0.2", 2, 7000), state: st);
        Assert.Empty(next.Decisions);
        Assert.Equal(seeded.Nat!.Address, next.Nat!.Address);
    }

    [Fact]
    public void Symhash_BothDirectionsOfAFlowShareABucket()
    {
        var rs = Rules("symhash mod 2 offset 100 vmap { 100 : accept, 101 : drop }");
        var st = new NftState(3, "h");
        var there = Run(rs, st, Ms, FakeNftPacket.Udp4("10.1.0.2", "10.1.0.1", 40000, 53));
        var back = Run(rs, st, 2 * Ms, FakeNftPacket.Udp4("10.1.0.1", "10.1.0.2", 53, 40000));
        Assert.Equal(there.Verdict, back.Verdict);
        Assert.Single(there.Decisions);
        Assert.Empty(back.Decisions);
    }

    [Fact]
    public void NatMap_NumgenIncRoundRobinsTheAddress() // kernel: frames 79-87
    {
        var rs = NftRuleset.Parse("table inet t { chain pre { type nat hook prerouting priority dstnat; udp dport 7000 dnat ip to numgen inc mod 2 map { 0 : 10.2.0.2, 1 : 10.3.0.2 }; }; }", "n.nft");
        var st = new NftState(1, "h");
        var got = Enumerable.Range(0, 3).Select(i =>
        {
            st.Advance(i * Ms);
            return NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Prerouting, Udp("10.1.0.2", (ushort)(45001 + i), 7000), state: st).Nat?.Address;
        });
        Assert.Equal(new[] { "10.2.0.2", "10.3.0.2", "10.2.0.2" }, got);
    }

    [Fact]
    public void NatMap_WithoutAnElementTheRuleStops()
    {
        var rs = NftRuleset.Parse("table ip t { chain pre { type nat hook prerouting priority dstnat; dnat to ip saddr map { 10.9.9.9 : 10.2.0.2 }; }; }", "n.nft");
        var r = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Prerouting, Udp("10.1.0.2", 1, 2), state: new NftState(1, "h"));
        Assert.Null(r.Nat);
        Assert.Equal("policy", r.Runs.Single().By);
    }

    [Fact]
    public void MarkSet_FromNumgenAndFromAMap()
    {
        var rs = Rules("udp dport 1 meta mark set numgen inc mod 3 accept\nudp dport 2 meta mark set ip saddr map { 10.1.0.2 : 0x2a } accept");
        var st = new NftState(1, "h");
        var marks = Enumerable.Range(0, 4).Select(i => { var p = Udp("10.1.0.2", 1, 1); Run(rs, st, (i + 1) * Ms, p); return p.Mark; });
        Assert.Equal(new uint[] { 0, 1, 2, 0 }, marks);
        var known = Udp("10.1.0.2", 1, 2); var other = Udp("10.1.0.9", 1, 2);
        Assert.Equal("rule", Run(rs, st, 9 * Ms, known).Runs.Single().By);
        Assert.Equal(42u, known.Mark);
        Assert.Equal("policy", Run(rs, st, 10 * Ms, other).Runs.Single().By); // no element: the rule stops before accept
        Assert.Equal(0u, other.Mark);
    }

    [Theory]
    [InlineData("meta mark set ct mark << 33", "Left shift of 33 bits is undefined for type of 32 bits width")]
    [InlineData("meta mark set (meta mark & 0xffff0000) | (ct mark & 0xffff)", "Right hand side of binary operation (|) must be constant")]
    [InlineData("dnat to ip saddr map @m", "map 'm' does not exist")]
    [InlineData("dnat to ip saddr map { 10.0.0.1 : 10.0.0.3-10.0.0.2 }", "r.nft:1:100: Range has zero or negative size in '10.0.0.3-10.0.0.2'")]
    [InlineData("limit name \"nope\" accept", "limit 'nope' does not exist")]
    [InlineData("jhash ip saddr mod 0 vmap { 0 : accept }", "jhash modulus must be above 0")]
    public void Refusals_NameTheExpression(string rule, string message)
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse($"table ip t {{ chain c {{ type nat hook prerouting priority dstnat; {rule}; }}; }}", "r.nft"));
        Assert.Contains(message, e.Message);
    }
}
