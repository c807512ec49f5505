using PktFlow.Datapath;
using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// dup and fwd. Checked in namespaces (nft 1.0.6): a netdev ingress chain on v1 with
/// `icmp type echo-request dup to "v2"` then `fwd to "v2"`: pings to v1's address are not answered (fwd
/// stole them) and the peer of v2 receives the copies and the pings.
/// </summary>
public class NftDupFwdTests
{
    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip link set eth1 up
        ip addr add 10.78.0.2/24 dev eth0
        nft -f - <<'NFT'
        table netdev n {
            chain c {
                type filter hook ingress device "eth0" priority 0
                RULES
            }
        }
        NFT
        """;

    private static PacketTrace Ping(string rules) =>
        LabPing.Ping(Lab.Replace("RULES", rules), "10.78.0.1", "10.78.0.2");

    [Fact]
    public void Fwd_TransmitsOutOfTheDevice_AndEndsTheRuleset()
    {
        var tr = Ping("icmp type echo-request dup to \"eth1\"\n icmp type echo-request fwd to \"eth1\"");
        Assert.Equal(Fate.Forwarded, tr.Fate);
        Assert.Equal("host/eth1", tr.Egress);
        Assert.Contains(tr.Path, e => e.Chain == "c" && e.Verdict == Verdict.Stolen);
        Assert.Contains(tr.Notes, n => n.StartsWith("dup: a copy of the packet is sent to out of eth1"));
        Assert.Contains(tr.Notes, n => n.StartsWith("fwd to eth1"));
    }

    [Fact]
    public void Dup_TheOriginalContinues()
    {
        var tr = Ping("icmp type echo-request dup to \"eth1\"");
        Assert.Equal(Fate.Delivered, tr.Fate);
        Assert.Contains(tr.Notes, n => n.StartsWith("dup: a copy"));
    }

    [Fact]
    public void FwdIpToAddress_IsSaidUnsupported()
    {
        var tr = Ping("fwd ip to 10.78.0.9 device \"eth1\"");
        Assert.Equal(Fate.Unsupported, tr.Fate);
    }

    [Theory]
    [InlineData("table ip t { chain c { type filter hook input priority 0; dup to 10.0.0.9 device \"eth1\"; }; }", null)]
    [InlineData("table inet t { chain c { type filter hook input priority 0; dup to 10.0.0.9; }; }", null)]
    [InlineData("table ip t { chain c { type filter hook input priority 0; fwd to \"eth1\"; }; }", "only supported in the netdev family")]
    [InlineData("table ip t { chain c { type filter hook input priority 0; dup to ::1; }; }", "Conflicting")]
    [InlineData("table netdev t { chain c { type filter hook ingress device \"eth0\" priority 0; fwd ip6 to 10.0.0.1 device \"eth1\"; }; }", "bad fwd address")]
    [InlineData("table ip t { chain c { type filter hook input priority 0; dup to ip saddr map { 1.1.1.1 : 2.2.2.2 }; }; }", "unsupported: dup to ip")]
    public void Load(string text, string? error)
    {
        if (error is null) { NftRuleset.Parse(text, "d.nft"); return; }
        Assert.Contains(error, Assert.Throws<NftParseException>(() => NftRuleset.Parse(text, "d.nft")).Message);
    }

    [Fact]
    public void Json()
    {
        const string json = """
            {"nftables": [{"table": {"family": "netdev", "name": "n", "handle": 1}},
              {"chain": {"family": "netdev", "table": "n", "name": "c", "handle": 1, "type": "filter", "hook": "ingress", "dev": "eth0", "prio": 0, "policy": "accept"}},
              {"rule": {"family": "netdev", "table": "n", "chain": "c", "handle": 2, "expr": [{"dup": {"dev": "eth1"}}]}},
              {"rule": {"family": "netdev", "table": "n", "chain": "c", "handle": 3, "expr": [{"fwd": {"dev": "eth1"}}]}},
              {"rule": {"family": "netdev", "table": "n", "chain": "c", "handle": 4, "expr": [{"fwd": {"dev": "eth1", "family": "ip", "addr": "10.0.0.1"}}]}}]}
            """;
        var rules = NftRuleset.ParseJson(json, "d.json").Tables[0].Chains[0].Rules;
        Assert.Equal(new[] { "dup to eth1", "fwd to eth1", "fwd ip to 10.0.0.1 device eth1" }, rules.Select(r => r.Text));
        Assert.Equal(new[] { "DupStmt", "FwdStmt", "FwdStmt" }, rules.Select(r => r.Stmts[0].GetType().Name));
    }
}
