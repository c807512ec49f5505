using PktFlow.Netfilter.Iptables;
using PktFlow.Netfilter.Nftables;
using PktFlow.Topology.Lab;

namespace PktFlow.Tests.Netfilter.Iptables;

/// <summary>iptables -E, as iptables v1.8.9 (nf_tables) does it on 6.18 (`nft -a list table ip filter` and iptables-save after each step).</summary>
public class IptablesRenameTests
{
    private static readonly string[] Chains = ["-N A", "-N B", "-A INPUT -p tcp -j A", "-A A -j B", "-A B -j DROP", "-A INPUT -g B"];

    [Fact]
    public void TheChainKeepsItsHandleAndPlaceAndJumpsNameTheNewName()
    {
        var st = IptablesStateTests.Run([.. Chains, "-E A RENAMED", "-N C"]);
        var filter = st.Build().FindTable(NftFamily.Ip, "filter")!;
        // kernel: chain RENAMED keeps handle 1 and its place; the rename uses no handle (C gets 8)
        Assert.Equal(["RENAMED", "B", "INPUT", "C"], filter.Chains.Select(c => c.Name));
        Assert.Equal([1, 2, 3, 8], filter.Chains.Select(c => c.Handle));
        Assert.Equal(["meta l4proto tcp counter packets 0 bytes 0 jump RENAMED", "counter packets 0 bytes 0 goto B"],
            filter.FindChain("INPUT")!.Rules.Select(r => r.Text));
    }

    [Fact]
    public void APacketJumpsThroughTheRenamedChainAndTracesNameIt()
    {
        var rs = IptablesStateTests.Run([.. Chains, "-E A RENAMED"]).Build();
        var r = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, Nftables.FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 1, 22));
        Assert.Equal("drop", r.Verdict);
        Assert.Equal(["INPUT", "RENAMED", "B"], r.Runs.Select(x => x.Chain.Name).Distinct());
    }

    [Fact]
    public void DeleteAndDeleteChainSeeTheNewName()
    {
        var st = IptablesStateTests.Run([.. Chains, "-E A R", "-D INPUT -p tcp -j R", "-F R", "-X R"]);
        Assert.Equal(["B", "INPUT"], st.Build().FindTable(NftFamily.Ip, "filter")!.Chains.Select(c => c.Name));
        // still jumped to: CHAIN_DEL fails (Device or resource busy)
        var e = Assert.Throws<IptablesParseException>(() => IptablesStateTests.Run([.. Chains, "-E A R", "-F R", "-X R"]));
        Assert.Contains("still referenced", e.Message);
    }

    [Fact]
    public void ABuiltInChainKeepsItsHookAndALaterRuleMakesTheBuiltInAgain()
    {
        // iptables-nft renames INPUT (rc 0); the renamed chain stays on the input hook and iptables-save
        // stops showing it; -A INPUT then adds a new INPUT base chain, registered later, which runs first
        // (6.18, ping to 127.0.0.1: INPUT's accept counted 1, then X's drop counted 1, no reply)
        var topo = LabLoader.Load("""
            ip netns add fw
            ip netns exec fw iptables -A INPUT -j DROP
            ip netns exec fw iptables -E INPUT X
            ip netns exec fw iptables -A INPUT -j ACCEPT
            """, "lab.sh");
        var rs = topo.Namespace("fw")!.Nft!;
        var filter = rs.FindTable(NftFamily.Ip, "filter")!;
        Assert.Equal(["X", "INPUT"], filter.Chains.Select(c => c.Name));
        Assert.All(filter.Chains, c => Assert.Equal(NftHookPoint.Input, c.Hook));
        var r = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, Nftables.FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 1, 22));
        Assert.Equal("drop", r.Verdict);
        Assert.Equal(["INPUT", "X"], r.Runs.Select(x => x.Chain.Name));
    }

    [Theory]
    // iptables v1.8.9: "No chain/target/match by that name." (rc 1), "File exists." (rc 1), usage (rc 2)
    [InlineData("-E NOPE Z", "NOPE", "No chain/target/match by that name")]
    [InlineData("-t nat -E B Q", "B", "No chain/target/match by that name")]
    [InlineData("-E B ACCEPT", "ACCEPT", "No chain/target/match by that name")]
    [InlineData("-E B A", "A", "File exists")]
    [InlineData("-E B", "-E", "-E requires old-chain-name and new-chain-name")]
    [InlineData("-E B a b", "b", "Bad argument `b'")]
    public void MistakesAreRefusedAsIptablesRefusesThem(string command, string token, string message)
    {
        var e = Assert.Throws<IptablesParseException>(() => IptablesStateTests.Run([.. Chains, command]));
        Assert.Equal(token, e.Token);
        Assert.Contains(message, e.Message);
        Assert.Equal(Chains.Length + 1, e.Line);
    }
}
