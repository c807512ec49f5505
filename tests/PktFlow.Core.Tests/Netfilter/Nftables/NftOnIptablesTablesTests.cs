namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// nft commands on the tables iptables-nft made in the same namespace, as measured on 6.18 (nft 1.0.6,
/// iptables 1.8.9 nf_tables; scenario nft-catchall-ipt-flush): <c>flush ruleset</c> deletes them with every
/// other table of its family, <c>flush table</c> and <c>flush chain</c> empty their chains and keep the chains
/// and their policies.
/// </summary>
public class NftOnIptablesTablesTests
{
    private static bool EchoDropped(params string[] commands)
    {
        var t = LabPing.Ping($"""
            ip link set eth0 address 02:00:00:00:01:01
            ip link set eth0 up
            ip addr add 10.0.1.1/24 dev eth0
            ip neigh add 10.0.1.2 lladdr 02:00:00:00:01:02 dev eth0
            {string.Join("\n", commands)}
            """, "10.0.1.2", "10.0.1.1");
        return t.Path.Any(e => e.Verdict == Verdict.Drop);
    }

    private const string DropEcho = "iptables -A INPUT -p icmp -j DROP";

    [Fact]
    public void WithoutNft_TheIptablesRuleDrops() => Assert.True(EchoDropped(DropEcho));

    [Theory]
    [InlineData("nft flush ruleset")]
    [InlineData("nft flush ruleset ip")]
    [InlineData("nft 'flush ruleset; add table inet t'")]
    [InlineData("nft flush table ip filter")]
    [InlineData("nft flush chain ip filter INPUT")]
    [InlineData("nft delete table ip filter")]
    public void NftRemovesTheIptablesRules(string nft) => Assert.False(EchoDropped(DropEcho, nft));

    [Theory]
    [InlineData("nft flush ruleset ip6")]
    [InlineData("nft flush ruleset inet")]
    [InlineData("nft flush chain ip6 filter INPUT")]
    [InlineData("nft flush table ip6 filter")]
    public void NftOfAnotherFamilyOrChainLeavesThem(string nft) => Assert.True(EchoDropped(DropEcho, "ip6tables -A INPUT -j ACCEPT", nft));

    [Fact]
    public void FlushTable_KeepsTheChainsPolicy() =>
        Assert.True(EchoDropped("iptables -P INPUT DROP", "iptables -A INPUT -p icmp -j ACCEPT", "nft flush table ip filter"));

    [Fact]
    public void FlushChain_EmptiesOnlyThatChain()
    {
        Assert.False(EchoDropped("iptables -N X", "iptables -A INPUT -j X", "iptables -A X -p icmp -j DROP", "nft flush chain ip filter X"));
        Assert.True(EchoDropped("iptables -N X", "iptables -A INPUT -j X", "iptables -A X -p icmp -j DROP", "nft flush chain ip filter INPUT", "iptables -A INPUT -j X"));
    }

    [Fact]
    public void IptablesRulesAddedAfterTheFlushCount() =>
        Assert.True(EchoDropped("iptables -A INPUT -p tcp -j DROP", "nft flush ruleset", DropEcho));
}
