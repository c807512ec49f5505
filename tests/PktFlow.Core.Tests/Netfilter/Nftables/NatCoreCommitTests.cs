namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// A deleted nat chain leaves the nat core's users at the commit of its transaction, not at its line
/// (nf_tables_commit unregisters the hooks of deleted chains after the batch's new chains registered).
/// Measured on 6.18 with nft 1.0.6 and iptables 1.8.9 (nf_tables): a nat chain registers the core at -100,
/// then a filter chain `tie` at -100 counting the echo request's address; a DNAT of 10.0.1.1 to 10.0.1.3 made
/// by the last step. When tie saw 10.0.1.1 the core stayed before it; when it saw 10.0.1.3 the core moved.
/// Here tie drops 10.0.1.1: dropped = the core stayed (registered before tie, so it runs after it).
/// </summary>
public class NatCoreCommitTests
{
    private const string Nat1 = "nft 'add table ip nat; add chain ip nat pre { type nat hook prerouting priority -100; }'";
    private const string Tie = "nft 'add table ip tie; add chain ip tie pre { type filter hook prerouting priority -100; }; add rule ip tie pre ip daddr 10.0.1.1 drop'";
    private const string NatBlock = "table ip nat {\n chain pre {\n  type nat hook prerouting priority -100;\n  ip daddr 10.0.1.1 dnat to 10.0.1.3\n }\n}";

    private static bool TieSawTheOriginal(params string[] commands)
    {
        var t = LabPing.Ping($"""
            ip link set eth0 address 02:00:00:00:01:01
            ip link set eth0 up
            ip link set lo up
            ip addr add 10.0.1.1/24 dev eth0
            ip addr add 10.0.1.3/32 dev lo
            ip neigh add 10.0.1.2 lladdr 02:00:00:00:01:02 dev eth0
            {string.Join("\n", commands)}
            """, "10.0.1.2", "10.0.1.1");
        return t.Path.Any(e => e.Table == "tie" && e.Verdict == Verdict.Drop);
    }

    [Fact]
    public void DeletingAndAddingTheNatTableInOneFileKeepsTheCore() =>
        Assert.True(TieSawTheOriginal(Nat1, Tie, $"nft -f - <<'NFT'\ndelete table ip nat\n{NatBlock}\nNFT"));

    [Fact]
    public void AsSeparateCommandsTheCoreMovesAfterTie() =>
        Assert.False(TieSawTheOriginal(Nat1, Tie, "nft delete table ip nat", $"nft -f - <<'NFT'\n{NatBlock}\nNFT"));

    [Fact]
    public void FlushRulesetThenTheRulesetInOneFileKeepsTheCore() =>
        // tie is added again after the core's place, so it runs before it
        Assert.True(TieSawTheOriginal(Nat1, Tie, $"nft -f - <<'NFT'\nflush ruleset\ntable ip tie {{\n chain pre {{\n  type filter hook prerouting priority -100;\n  ip daddr 10.0.1.1 drop\n }}\n}}\n{NatBlock}\nNFT"));

    [Fact]
    public void DeletingTheNatChainAndAddingAnotherInOneFileKeepsTheCore() =>
        Assert.True(TieSawTheOriginal(Nat1, Tie, $"nft -f - <<'NFT'\ndelete chain ip nat pre\n{NatBlock.Replace("chain pre", "chain pre2")}\nNFT"));

    [Fact]
    public void IptablesRestoreReplacingTheNatTableKeepsTheCore() =>
        Assert.True(TieSawTheOriginal("iptables -t nat -A PREROUTING -d 10.0.1.5 -j ACCEPT", Tie,
            "iptables-restore <<'IPT'\n*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -d 10.0.1.1 -j DNAT --to-destination 10.0.1.3\nCOMMIT\nIPT"));

    [Fact]
    public void IptablesRestoreNoflushKeepsTheCore() =>
        Assert.True(TieSawTheOriginal("iptables -t nat -A PREROUTING -d 10.0.1.5 -j ACCEPT", Tie,
            "iptables-restore --noflush <<'IPT'\n*nat\n-A PREROUTING -d 10.0.1.1 -j DNAT --to-destination 10.0.1.3\nCOMMIT\nIPT"));

    [Fact]
    public void NftDeletingIptablesNatTable_ReleasesTheCore_TheNextNatRuleRegistersItAnew() =>
        Assert.False(TieSawTheOriginal("iptables -t nat -A PREROUTING -d 10.0.1.5 -j ACCEPT", Tie, "nft delete table ip nat",
            "iptables -t nat -A PREROUTING -d 10.0.1.1 -j DNAT --to-destination 10.0.1.3"));

    [Fact]
    public void NftDeletingIptablesNatTable_LeavesTheCoreToAnotherNatChain() =>
        Assert.True(TieSawTheOriginal("iptables -t nat -A PREROUTING -d 10.0.1.5 -j ACCEPT", Tie,
            $"nft -f - <<'NFT'\n{NatBlock.Replace("table ip nat", "table ip nat2")}\nNFT", "nft delete table ip nat"));
}
