using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables.Json;

public class NftJsonReaderTests
{
    private static string Fixture(string name) => Path.Combine(NftJsonEquivalenceTests.Fixtures, name);

    /// <summary>A document of the given objects (one JSON object each, without the "nftables" wrapper).</summary>
    private static string Doc(params string[] items) => "{\"nftables\": [" + string.Join(",", items) + "]}";

    private const string Table = """{"table": {"family": "inet", "name": "t"}}""";
    private const string Chain = """{"chain": {"family": "inet", "table": "t", "name": "c", "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}""";
    private static string Rule(string expr, string more = "") => """{"rule": {"family": "inet", "table": "t", "chain": "c", """ + more + " \"expr\": " + expr + "}}";

    [Fact]
    public void FeaturesDump_LoadsToTheModelItsTextLoadsTo()
    {
        // features.nft loaded with nft 1.0.6 into a fresh namespace, `nft -j list ruleset` -> features.json:
        // interval and concatenated sets, anonymous sets, vmap with jump, flag lists and masks, log,
        // mark/ct mark set, prefixes and ranges, reject variants, fib, comment, dnat/masquerade/snat.
        var text = NftRuleset.Load(Fixture("features.nft"));
        var json = NftRuleset.ParseJson(File.ReadAllText(Fixture("features.json")), "features.json");
        Assert.Equal(NftModelSignature.Of(text), NftModelSignature.Of(json));
        var c = json.FindTable(NftFamily.Inet, "t")!.FindChain("c")!;
        Assert.Equal(5, c.Priority); // "priority filter + 5", a number in JSON
        Assert.True(c.PolicyDrop);
        Assert.Equal(new[] { 7, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19 }, c.Rules.Select(r => r.Handle)); // the kernel's, gaps for anonymous sets
        Assert.Equal("hi", c.Rules[1].Comment);
        Assert.Equal("nftables[9].rule", c.Rules[1].SourcePath);
        Assert.Equal(text.AllRules.Count(), json.AllRules.Count());
    }

    [Fact]
    public void MapsDump_LoadsToTheModelItsTextLoadsTo()
    {
        // maps.nft loaded with nft 1.0.6 into a fresh namespace, `nft -j list ruleset` -> maps.json: named maps
        // of addresses, address . port, marks and verdicts (typeof too), element commands, NAT through maps with
        // address . port data and a port after the map, mark set mark or/xor.
        var text = NftRuleset.Load(Fixture("maps.nft"));
        var json = NftRuleset.ParseJson(File.ReadAllText(Fixture("maps.json")), "maps.json");
        Assert.Equal(NftModelSignature.Of(text), NftModelSignature.Of(json));
        Assert.Equal(text.AllRules.Count(), json.AllRules.Count());
        Assert.DoesNotContain(json.AllRules, r => r.Unsupported is not null);
    }

    [Fact]
    public void CtTupleKey_NamesItsFamilyInTheKey()
    {
        // nft 1.0.6 writes `ct original ip daddr 1.2.3.4` as {"ct": {"dir": "original", "key": "ip daddr"}} (py test inet/ct.t.json)
        var json = NftRuleset.ParseJson(Doc(Table, Chain,
            Rule("""[{"match": {"left": {"ct": {"dir": "original", "key": "ip daddr"}}, "op": "==", "right": "1.2.3.4"}}, {"accept": null}]""")), "ct.json");
        var text = NftRuleset.Parse("table inet t {\n chain c {\n  type filter hook input priority 0; policy drop;\n  ct original ip daddr 1.2.3.4 accept\n }\n}\n", "ct.nft");
        Assert.Equal(NftModelSignature.Of(text), NftModelSignature.Of(json));
    }

    [Fact]
    public void MapUpdate_NftWroteAsText_IsReadAsTheText()
    {
        // nft 1.0.6 has no JSON for a map update and prints the statement's text instead (checked on this machine)
        var json = NftRuleset.ParseJson(Doc(
            """{"table": {"family": "ip", "name": "t", "handle": 1}}""",
            """{"map": {"family": "ip", "name": "seen", "table": "t", "type": "ipv4_addr", "handle": 2, "map": "mark"}}""",
            """{"chain": {"family": "ip", "table": "t", "name": "c", "handle": 1}}""",
            """{"rule": {"family": "ip", "table": "t", "chain": "c", "handle": 3, "expr": ["update @seen { ip saddr : 0x00000002 }"]}}""",
            """{"rule": {"family": "ip", "table": "t", "chain": "c", "handle": 4, "expr": ["add @seen { ip daddr : meta mark }", {"accept": null}]}}"""), "m.json");
        var text = NftRuleset.Parse("""
            table ip t {
                chain c {
                    update @seen { ip saddr : 0x00000002 }
                    add @seen { ip daddr : meta mark } accept
                }
                map seen { type ipv4_addr : mark; }
            }
            """, "m.nft");
        Assert.Equal(NftModelSignature.Of(text), NftModelSignature.Of(json));
        Assert.Equal(2, json.AllRules.Count());
    }

    [Fact]
    public void DeleteElement_Command_RemovesTheKey_AMissingKeyFailsAsNftDoes()
    {
        // nft 1.0.6 `nft -j -f`: the element goes; a key not there: "Could not process rule: No such file or directory"
        const string decl = """{"map": {"family": "ip", "name": "m", "table": "t", "type": "ipv4_addr", "handle": 2, "map": "mark", "elem": [["10.0.0.1", 1], ["10.0.0.2", 2]]}}""";
        var rs = NftRuleset.ParseJson(Doc("""{"table": {"family": "ip", "name": "t", "handle": 1}}""", decl,
            """{"delete": {"element": {"family": "ip", "table": "t", "name": "m", "elem": ["10.0.0.1"]}}}"""), "d.json");
        var els = PktFlow.Netfilter.NfStateListing.SetElements("h", new NftState(1, "h"), rs).Select(e => $"{e.Element} : {e.Data}");
        Assert.Equal(new[] { "10.0.0.2 : 0x00000002" }, els);
        var e = Assert.Throws<NftParseException>(() => NftRuleset.ParseJson(Doc("""{"table": {"family": "ip", "name": "t", "handle": 1}}""", decl,
            """{"delete": {"element": {"family": "ip", "table": "t", "name": "m", "elem": ["10.0.0.9"]}}}"""), "d.json"));
        Assert.Contains("nftables[2].delete.element.elem", e.Message);
        Assert.Contains("element not in map 'm'", e.Message);
    }

    [Fact]
    public void StatementNftWroteAsText_BadText_NamesTheJsonPath()
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.ParseJson(Doc(
            """{"table": {"family": "ip", "name": "t", "handle": 1}}""",
            """{"chain": {"family": "ip", "table": "t", "name": "c", "handle": 1}}""",
            """{"rule": {"family": "ip", "table": "t", "chain": "c", "handle": 3, "expr": ["update @nosuch { ip saddr : 0x2 }"]}}"""), "m.json"));
        Assert.Contains("nftables[2].rule.expr[0]", e.Message);
        Assert.Contains("'nosuch' does not exist", e.Message);
    }

    [Fact]
    public void CommandForm_AssignsHandlesAsTheKernelDoes()
    {
        // `nft -j -f` input without handles: one counter per table, as for text; flush ruleset first.
        var rs = NftRuleset.ParseJson(Doc(
            """{"flush": {"ruleset": null}}""",
            """{"add": {"table": {"family": "inet", "name": "t"}}}""",
            """{"add": {"chain": {"family": "inet", "table": "t", "name": "c", "type": "filter", "hook": "input", "prio": "filter", "policy": "accept"}}}""",
            """{"add": {"set": {"family": "inet", "table": "t", "name": "s", "type": ["ipv4_addr", "inet_service"], "elem": [{"concat": ["10.0.0.1", 22]}]}}}""",
            """{"add": {"rule": {"family": "inet", "table": "t", "chain": "c", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"set": [22, 80]}}}, {"accept": null}]}}}""",
            """{"add": {"element": {"family": "inet", "table": "t", "name": "s", "elem": [{"concat": ["10.0.0.2", 80]}]}}}""",
            """{"add": {"rule": {"family": "inet", "table": "t", "chain": "c", "comment": "pair", "expr": [{"match": {"op": "==", "left": {"concat": [{"payload": {"protocol": "ip", "field": "saddr"}}, {"payload": {"protocol": "tcp", "field": "dport"}}]}, "right": "@s"}}, {"drop": null}]}}}"""),
            "cmds.json");
        var t = rs.FindTable(NftFamily.Inet, "t")!;
        Assert.Equal(1, t.Handle);
        Assert.Equal(1, t.FindChain("c")!.Handle);
        Assert.Equal(2, t.Sets.Single().Handle);
        Assert.Equal(2, t.Sets.Single().Count);
        Assert.Equal(new[] { 4, 5 }, t.FindChain("c")!.Rules.Select(r => r.Handle)); // 3: the anonymous set { 22, 80 }
        Assert.Equal("pair", t.FindChain("c")!.Rules[1].Comment);
    }

    [Fact]
    public void StatefulDump_LoadsToTheModelItsTextLoadsTo()
    {
        // stateful.nft loaded with nft 1.0.6 into a fresh namespace, `nft -j list ruleset` -> stateful.json:
        // named counters and quotas (with packets/bytes, used, over), named references, quota [over|until]
        // N [used M], packet and byte limits [over] [burst], add/update/delete @set with timeout and
        // counter/limit/quota, numgen inc|random [offset], meta random.
        var text = NftRuleset.Load(Fixture("stateful.nft"));
        var json = NftRuleset.ParseJson(File.ReadAllText(Fixture("stateful.json")), "stateful.json");
        Assert.Equal(NftModelSignature.Of(text), NftModelSignature.Of(json));
        var t = json.FindTable(NftFamily.Inet, "t")!;
        Assert.Empty(t.DeclaredObjects);
        Assert.Equal(1_000_000_000L, t.Sets.Single(s => s.Name == "seen").TimeoutNs);
        Assert.Equal(12, t.Objects.Single(o => o.Name == "pings").InitialPackets);
        Assert.All(t.FindChain("input")!.Rules, r => Assert.Null(r.Unsupported));
    }

    [Fact]
    public void DeclaredObjects_AreKeptWithTheirHandles()
    {
        var rs = NftRuleset.ParseJson(File.ReadAllText(Fixture("objects.json")), "objects.json");
        var t = rs.FindTable(NftFamily.Inet, "o")!;
        // counters, quotas and limits are evaluated objects, as from text
        Assert.Equal(new[] { "counter c1 2 0", "quota q1 3 104857600 over=True", "limit l1 4" },
            t.Objects.Select(o => o.Kind switch
            {
                "counter" => $"{o.Kind} {o.Name} {o.Handle} {o.InitialPackets}",
                "limit" => $"{o.Kind} {o.Name} {o.Handle}",
                _ => $"{o.Kind} {o.Name} {o.Handle} {o.QuotaBytes} over={o.Over}",
            }));
        Assert.Empty(t.DeclaredObjects);
        Assert.Equal(5, t.FindChain("transit")!.Rules.Single().Handle);
        // a flowtable (schema of libnftables-json(5); nf_flow_table is not loadable where the fixtures were made)
        var ft = NftRuleset.ParseJson(Doc(Table, """{"flowtable": {"family": "inet", "table": "t", "name": "ft", "handle": 7, "hook": "ingress", "prio": 0, "dev": ["eth0"]}}"""), "ft.json");
        Assert.Equal("flowtable ft 7", ft.Tables[0].DeclaredObjects.Select(o => $"{o.Kind} {o.Name} {o.Handle}").Single());
    }

    [Theory]
    // the statement the model cannot evaluate, named by its path and key
    [InlineData("""[{"limit": "l1"}]""", "x.json: nftables[2].rule.expr[0].limit: limit 'l1' does not exist")]
    [InlineData("""[{"limit": {"rate": 10, "per": "second", "jitter": 1}}]""", "x.json: nftables[2].rule.expr[0].limit.jitter: unsupported limit option 'jitter'")]
    [InlineData("""[{"set": {"op": "add", "elem": {"payload": {"protocol": "ip", "field": "saddr"}}, "set": "@nope"}}]""", "x.json: nftables[2].rule.expr[0].set.set: set 'nope' does not exist")]
    [InlineData("""[{"accept": null}, {"xt": {"type": "target", "name": "MASQUERADE"}}]""", "x.json: nftables[2].rule.expr[1].xt: unsupported statement 'xt'")]
    [InlineData("""[{"match": {"op": "==", "left": {"numgen": {"mode": "hash", "mod": 2}}, "right": 0}}]""", "x.json: nftables[2].rule.expr[0].match.left.numgen.mode: unsupported numgen type 'hash'")]
    [InlineData("""[{"match": {"op": "==", "left": {"payload": {"base": "nh", "offset": 1, "len": 100}}, "right": 1}}]""", "x.json: nftables[2].rule.expr[0].match.left.payload.len: unsupported: raw payload @nh,1,100 (an unaligned field wider than 64 bits)")]
    [InlineData("""[{"counter": "c1"}]""", "x.json: nftables[2].rule.expr[0].counter: counter 'c1' does not exist")]
    [InlineData("""[{"dnat": {"family": "ip", "addr": {"map": {"key": {"payload": {"protocol": "tcp", "field": "dport"}}, "data": "@m"}}}}]""", "x.json: nftables[2].rule.expr[0].dnat.addr.map.data: map 'm' does not exist")]
    // what the compiler refuses, located at the expression its token came from
    [InlineData("""[{"match": {"op": "==", "left": {"meta": {"key": "secpath"}}, "right": 0}}]""", "x.json: nftables[2].rule.expr[0].match.left.meta: unsupported expression 'meta secpath'")]
    [InlineData("""[{"accept": null}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": "nonsense"}}]""", "x.json: nftables[2].rule.expr[1].match.right: 'nonsense' is not a valid inet_service value")]
    [InlineData("""[{"jump": {"target": "nowhere"}}]""", "x.json: nftables[2].rule.expr[0].jump.target: Could not process rule: No such file or directory: chain 'nowhere' in table inet t (not added before this rule)")]
    [InlineData("""[{"match": {"op": "~", "left": {"meta": {"key": "mark"}}, "right": 1}}]""", "x.json: nftables[2].rule.expr[0].match.op: unsupported operator '~'")]
    [InlineData("""{"accept": null}""", "x.json: nftables[2].rule.expr: expected the array of statements")]
    public void RuleErrors_NameTheJsonPath(string expr, string message)
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.ParseJson(Doc(Table, Chain, Rule(expr)), "x.json"));
        Assert.Equal(message, e.Message);
        Assert.StartsWith("nftables[2].rule", e.JsonPath);
    }

    [Theory]
    [InlineData("""{"map": {"family": "inet", "table": "t", "name": "m", "type": "ipv4_addr", "map": "ipv4_addr . ipv4_addr"}}""", "x.json: nftables[1].map.map: unsupported: map data of type 'ipv4_addr . ipv4_addr' (verdict, an address, address . inet_service, a mark or another integer up to 32 bits, ether_addr, ifname, counter, quota and limit are modelled)")]
    [InlineData("""{"ct helper": {"family": "inet", "table": "t", "name": "h"}}""", "x.json: nftables[1].ct helper: ct helper 'h': no protocol")]
    [InlineData("""{"synproxy": {"family": "inet", "table": "t", "name": "s", "mss": 1460}}""", "x.json: nftables[1].synproxy: syntax error, synproxy 's' needs mss and wscale")]
    [InlineData("""{"chain": {"family": "inet", "table": "t", "name": "c", "type": "filter", "hook": "input", "prio": 0, "weird": 1}}""", "x.json: nftables[1].chain.weird: unsupported key 'weird'")]
    [InlineData("""{"chain": {"family": "netdev", "table": "t", "name": "c", "type": "filter", "hook": "ingress", "prio": 0}}""", "x.json: nftables[1].chain.table: no such table 'netdev t'")]
    [InlineData("""{"chain": {"family": "inet", "table": "t", "name": "c", "type": "filter", "hook": "ingress", "prio": 0}}""", "x.json: nftables[1].chain: ingress chain 'c' has no 'dev' (nft 1.0.6 omits it from `nft -j list`): its device is unknown; load `nft list ruleset` text instead")]
    [InlineData("""{"chain": {"family": "inet", "table": "t", "name": "c", "type": "bogus", "hook": "input", "prio": 0}}""", "x.json: nftables[1].chain.type: unknown chain type 'bogus'")]
    [InlineData("""{"set": {"family": "inet", "table": "t", "name": "s", "type": "ipv4_addr", "elem": ["10.0.0.1", "not-an-address"]}}""", "x.json: nftables[1].set.elem[1]: 'not-an-address' is not a valid ipv4_addr value")]
    [InlineData("""{"insert": {"rule": {"family": "inet", "table": "t", "chain": "c", "expr": []}}}""", "x.json: nftables[1].insert: unsupported command 'insert'")]
    [InlineData("""{"table": {"family": "inet", "name": "t", "flags": ["dormant"]}}""", "x.json: nftables[1].table.flags: unsupported table flag 'dormant' (its chains are not registered)")]
    [InlineData("""{"metainfo": {"json_schema_version": 2}}""", "x.json: nftables[1].metainfo.json_schema_version: unsupported JSON schema version 2 (version 1 is read)")]
    [InlineData("""{"table": {"family": "inet"}, "chain": {}}""", "x.json: nftables[1]: expected a command or an object (table, chain, rule, set, ...) (an object with one member), found 'table' and 'chain'")]
    public void ObjectErrors_NameTheJsonPath(string item, string message)
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.ParseJson(Doc(Table, item), "x.json"));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void NotJson_IsAnErrorWithItsLine()
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.ParseJson("{\"nftables\": [\n  {\"table\": }\n]}", "bad.json"));
        Assert.StartsWith("bad.json:2:", e.Message);
        Assert.Contains("not valid JSON", e.Message);
        e = Assert.Throws<NftParseException>(() => NftRuleset.ParseJson("[]", "bad.json"));
        Assert.Equal("bad.json: $: expected {\"nftables\": [...]}, the object nft -j prints", e.Message);
    }

    [Fact]
    public void AllowUnsupported_KeepsTheRuleMarkedAndEvaluatesTheOthers()
    {
        var rs = NftRuleset.ParseJson(Doc(Table, Chain,
            Rule("""[{"match": {"op": "==", "left": {"meta": {"key": "oifname"}}, "right": "eth0"}}, {"counter": {"packets": 0, "bytes": 0}}, {"xt": {"type": "target", "name": "MASQUERADE"}}]""", "\"handle\": 2,"),
            Rule("""[{"accept": null}]""", "\"handle\": 3,")), "snap.json", new NftLoadOptions { AllowUnsupported = true });
        var rules = rs.AllRules.ToList();
        Assert.Equal("snap.json: nftables[2].rule.expr[2].xt: unsupported statement 'xt'", rules[0].Unsupported);
        Assert.Contains("\"xt\"", rules[0].Text); // shown as its JSON
        Assert.Null(rules[1].Unsupported);
        Assert.Equal(new[] { 2, 3 }, rules.Select(r => r.Handle));
    }

    [Theory]
    [InlineData("{\"nftables\": []}", true)]
    [InlineData("  \n{\"nftables\": []}", true)]
    [InlineData("table inet t { }", false)]
    [InlineData("", false)]
    public void LooksLikeJson_AsNftJDecides(string text, bool json) => Assert.Equal(json, NftRuleset.LooksLikeJson(text));
}
