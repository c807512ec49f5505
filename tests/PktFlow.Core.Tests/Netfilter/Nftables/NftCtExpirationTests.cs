using PktFlow.Datapath;
using PktFlow.Netfilter;
using PktFlow.Netfilter.Nftables;
using PktFlow.Testing;
using PktFlow.Tests.Netfilter.Conntrack;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// ct expiration (match), ct expiration set (refused, as the kernel refuses it) and ct event set
/// (accepted, described). Checked on 6.18 with nft 1.0.6 in namespaces: three UDP datagrams of one
/// unanswered flow, 0.3 s apart, to a host whose input chain counts
///   ct state new ct expiration 0 -> 1 (the first packet: the entry is not confirmed yet),
///   ct state new ct expiration 30s -> 2 (the tracker refreshed the timeout to exactly 30 s),
///   ct state new ct expiration &lt; 30s -> 1, ct state new ct expiration &gt; 30s -> 0;
/// in prerouting (priority 0, after conntrack at -200) the same; `ct expiration set 30s` fails with
/// "Error: Could not process rule: Operation not supported" (nft_ct_set_init has no expiration key).
/// </summary>
public class NftCtExpirationTests
{
    private const string Chain = """
        type filter hook input priority 0;
        udp dport 7000 ct state new ct expiration 0 counter
        udp dport 7000 ct state new ct expiration 30s counter
        udp dport 7000 ct state new ct expiration > 30s counter
        udp dport 7000 ct state new ct expiration < 30000ms counter
        udp dport 7000 ct expiration 29s-30s counter
        udp dport 7000 ct expiration { 10s, 30s } counter
        ct event set new,related
        """;

    private static (DatapathEngine Engine, List<PacketTrace> Traces) SendThree()
    {
        var engine = OneHostLab.Engine("", Chain);
        var udp = FrameBuilder.UdpWithPayload(OneHostLab.Client, OneHostLab.Server, 41000, 7000, "x\n"u8);
        var traces = Enumerable.Range(1, 3).Select(i => OneHostLab.Send(engine, i, 1_000_000_000L + i * 300_000_000L, IpProtocol.Udp, udp)).ToList();
        return (engine, traces);
    }

    [Fact]
    public void TheFirstPacketSeesZeroAndTheNextTheTimeoutTheTrackerJustSet()
    {
        var (engine, _) = SendThree();
        var st = engine.States[0];
        var counts = NfStateListing.Counters(st.Name, st.Nft, engine.Topology.Namespaces[0].Nft!).Where(c => c.Kind == "Rule").Select(c => c.Packets).ToArray();
        Assert.Equal(new long[] { 1, 2, 0, 1, 2, 2 }, counts);
    }

    [Fact]
    public void CtEventSetIsDescribedNotModelled()
    {
        var (_, traces) = SendThree();
        Assert.All(traces, t => Assert.Contains(t.Notes, n => n.StartsWith("ct event set new,related: conntrack events are not modelled", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("ct event set new | related | destroy | label", "new,related,destroy,label")]
    [InlineData("ct event set 1", "new")]
    [InlineData("ct event set 0x0", "0x0")]
    public void CtEventSetForms(string rule, string events)
    {
        var rs = NftRuleset.Parse($"table ip t {{ chain c {{ type filter hook input priority 0; {rule}; }}; }}", "e.nft");
        var stmt = Assert.IsType<CtEventSetStmt>(Assert.Single(rs.Tables[0].Chains[0].Rules[0].Stmts));
        Assert.Equal(events, stmt.Events);
    }

    [Theory]
    [InlineData("ct event set { new, related }", "not a set")]
    [InlineData("ct event set new,foobar", "'foobar' is not a valid ct_event value")]
    [InlineData("ct event set new or related or destroy or foobar", "'or'")] // the py tests' fail line
    [InlineData("ct expiration 1d-1h", "lower bound above its upper bound")]
    [InlineData("ct expiration set 30s", "Could not process rule: Operation not supported")]
    public void Refused(string rule, string why)
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse($"table ip t {{\n chain c {{\n  {rule}\n }}\n}}", "e.nft"));
        Assert.Contains(why, e.Message);
        Assert.StartsWith("e.nft:3:", e.Message);
    }

    [Fact]
    public void JsonReadsTheSameRules()
    {
        const string json = """
            {"nftables": [{"table": {"family": "ip", "name": "t"}},
              {"chain": {"family": "ip", "table": "t", "name": "c", "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}},
              {"rule": {"family": "ip", "table": "t", "chain": "c", "expr": [{"match": {"op": "==", "left": {"ct": {"key": "expiration"}}, "right": {"range": [25, 30]}}}]}},
              {"rule": {"family": "ip", "table": "t", "chain": "c", "expr": [{"mangle": {"key": {"ct": {"key": "event"}}, "value": ["new", "related"]}}]}}]}
            """;
        var rules = NftRuleset.ParseJson(json, "e.json").Tables[0].Chains[0].Rules;
        Assert.IsType<CtExpirationSelector>(Assert.IsType<MatchStmt>(Assert.Single(rules[0].Stmts)).Sel);
        Assert.Equal("new,related", Assert.IsType<CtEventSetStmt>(Assert.Single(rules[1].Stmts)).Events);
    }
}
