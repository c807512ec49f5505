using PktFlow.Datapath;
using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// fib results as values against the namespace's FIB. Checked in namespaces (nft 1.0.6): with
/// `fib saddr . iif oif missing counter drop` and `fib daddr type vmap { local : jump loc, unicast : drop }`
/// at prerouting, a ping from the peer (10.78.0.1, routed back via v1) reaches `loc` and is answered, and
/// one from 10.79.0.1 (no route back) is dropped by the rp_filter rule; `nft -j` lists the first as
/// {"fib": {"result": "oif", "flags": ["saddr", "iif"]}} == false and the second as a vmap keyed by fib.
/// </summary>
public class NftFibTests
{
    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip link set eth1 up
        ip addr add 10.78.0.2/24 dev eth0
        ip addr add 10.90.0.1/24 dev eth1
        nft -f - <<'NFT'
        table inet t {
            chain pre {
                type filter hook prerouting priority 0
                RULES
            }
            chain loc {
                counter accept
            }
        }
        NFT
        """;

    private static PacketTrace Ping(string rules, string src, string dst) =>
        LabPing.Ping(Lab.Replace("RULES", rules), src, dst);

    private const string RpFilter = "fib saddr . iif oif missing counter drop\n fib daddr type vmap { local : jump loc, unicast : drop }";

    [Fact]
    public void RpFilterIdiom_AndTypeVmap_AsTheKernelDoes()
    {
        var ok = Ping(RpFilter, "10.78.0.1", "10.78.0.2");
        Assert.NotEqual(Fate.Dropped, ok.Fate);
        Assert.Contains(ok.Path, e => e.Chain == "loc" && e.Verdict == Verdict.Accept);
        var spoofed = Ping(RpFilter, "10.79.0.1", "10.78.0.2");
        Assert.Equal(Fate.Dropped, spoofed.Fate);
        Assert.Contains(spoofed.Path, e => e.Rule != null && e.Rule.StartsWith("fib saddr . iif oif missing") && e.Verdict == Verdict.Drop);
    }

    [Theory]
    // a source routed back by another device than the one it came in on is missing with iif, present without
    [InlineData("fib saddr . iif oif missing drop", "10.90.0.5", true)]
    [InlineData("fib saddr oif missing drop", "10.90.0.5", false)]
    [InlineData("fib saddr oifname \"eth1\" drop", "10.90.0.5", true)]
    [InlineData("fib saddr oif eth1 drop", "10.90.0.5", true)]
    [InlineData("fib saddr oif exists drop", "10.78.0.9", true)]
    [InlineData("fib saddr oifname { \"eth0\", \"eth2\" } drop", "10.78.0.9", true)]
    [InlineData("fib daddr type != local drop", "10.78.0.9", false)]
    [InlineData("fib daddr . iif type local drop", "10.78.0.9", true)]
    // daddr is local: the lookup answers a local route, which leaves oif 0
    [InlineData("fib daddr oif missing drop", "10.78.0.9", true)]
    public void FibResults(string rule, string src, bool dropped)
    {
        Assert.Equal(dropped, Ping(rule, src, "10.78.0.2").Fate == Fate.Dropped);
    }

    [Fact]
    public void TheJsonFormsLoadToTheTextsModel()
    {
        const string json = """
            {"nftables": [{"table": {"family": "inet", "name": "t", "handle": 1}},
              {"chain": {"family": "inet", "table": "t", "name": "pre", "handle": 1, "type": "filter", "hook": "prerouting", "prio": 0, "policy": "accept"}},
              {"chain": {"family": "inet", "table": "t", "name": "loc", "handle": 2}},
              {"rule": {"family": "inet", "table": "t", "chain": "pre", "handle": 3, "expr": [{"match": {"op": "==", "left": {"fib": {"result": "oif", "flags": ["saddr", "iif"]}}, "right": false}}, {"counter": {"packets": 1, "bytes": 84}}, {"drop": null}]}},
              {"rule": {"family": "inet", "table": "t", "chain": "pre", "handle": 4, "expr": [{"vmap": {"key": {"fib": {"result": "type", "flags": ["daddr"]}}, "data": {"set": [["unicast", {"drop": null}], ["local", {"jump": {"target": "loc"}}]]}}}]}},
              {"rule": {"family": "inet", "table": "t", "chain": "loc", "handle": 5, "expr": [{"counter": {"packets": 1, "bytes": 84}}, {"accept": null}]}}]}
            """;
        var rs = NftRuleset.ParseJson(json, "fib.json");
        var rules = rs.Tables[0].Chains.First(c => c.Name == "pre").Rules;
        Assert.Equal(2, rules.Count);
        Assert.StartsWith("fib saddr . iif oif missing", rules[0].Text);
        Assert.StartsWith("fib daddr type vmap", rules[1].Text);
    }

    /// <summary>
    /// Where the kernel lets a fib lookup run (nft_fib_validate), as nft 1.0.6 on 6.18 answered for each
    /// hook: an oif/oifname result or an iif-keyed type only where there is an input device, an
    /// oif-keyed type only where there is an output device; `. oif oif` nowhere (EINVAL, nft_fib_init).
    /// </summary>
    [Theory]
    [InlineData("ip", "prerouting", "fib daddr . iif oif 1", null)]
    [InlineData("ip", "forward", "fib daddr . oif type local", null)]
    [InlineData("ip", "prerouting", "fib daddr . oif type local", "not valid in a ip prerouting chain")]
    [InlineData("ip", "input", "fib saddr . oif type local", "Operation not supported")]
    [InlineData("ip", "output", "fib daddr oif 1", "Operation not supported")]
    [InlineData("ip", "postrouting", "fib daddr oifname \"lo\"", "Operation not supported")]
    [InlineData("ip", "output", "fib daddr . iif type local", "Operation not supported")]
    [InlineData("ip", "output", "fib daddr type local", null)]
    [InlineData("ip", "postrouting", "fib saddr . oif type local", null)]
    [InlineData("ip", "input", "fib daddr . oif oif 1", "Invalid argument")]
    [InlineData("inet", "ingress device d0", "fib daddr type local", "Operation not supported")]
    [InlineData("netdev", "ingress device d0", "fib daddr . iif oif 1", null)]
    [InlineData("netdev", "ingress device d0", "fib daddr . oif type local", "Operation not supported")]
    [InlineData("netdev", "egress device d0", "fib daddr . oif type local", null)]
    [InlineData("netdev", "egress device d0", "fib daddr . iif type local", "Operation not supported")]
    public void FibHooks_AsTheKernelAllowsThem(string family, string hook, string rule, string? error)
    {
        var text = $"table {family} t {{\n chain c {{\n  type filter hook {hook} priority 0\n  {rule} counter\n }}\n}}\n";
        if (error is null) { NftRuleset.Parse(text, "f.nft"); return; }
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse(text, "f.nft"));
        Assert.Contains(error, e.Message);
        Assert.StartsWith("f.nft:4:", e.Message);
    }

    /// <summary>
    /// A lookup in a regular chain is checked for every base chain that reaches it: the kernel refuses
    /// the jump from output (`jump r`, a guarded jump and a verdict map's alike) and lets input's pass.
    /// </summary>
    [Theory]
    [InlineData("jump r", "type filter hook output priority 0", true)]
    [InlineData("ip saddr 1.2.3.4 jump r", "type filter hook output priority 0", true)]
    [InlineData("meta mark vmap { 1 : jump r }", "type filter hook output priority 0", true)]
    [InlineData("jump r", "type filter hook input priority 0", false)]
    [InlineData("jump s", "type filter hook output priority 0", true)]
    public void FibInAJumpedChain_IsCheckedAtTheJump(string jump, string baseChain, bool refused)
    {
        var text = $"table ip t {{\n chain s {{\n  goto r\n }}\n chain r {{\n  fib daddr oif 1 counter\n }}\n chain c {{\n  {baseChain}\n  {jump}\n }}\n}}\n";
        if (!refused) { NftRuleset.Parse(text, "j.nft"); return; }
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse(text, "j.nft"));
        Assert.StartsWith("j.nft:10:", e.Message);
        Assert.Contains("reaches j.nft:6: 'fib daddr oif' is not valid in a ip output chain", e.Message);
    }
}
