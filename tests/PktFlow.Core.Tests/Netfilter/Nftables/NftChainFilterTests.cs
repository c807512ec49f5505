using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// The cuts nf_hook_slow makes in a hook's chain list (conntrack at -200, the nat core at -100 with its
/// registration), as values: each selects a run of the list in its running order.
/// </summary>
public class NftChainFilterTests
{
    // registration order: raw, conntrack, early, nat (registers the nat core), late, filter
    private static readonly NftRuleset Rs = NftRuleset.Parse("""
        table ip t {
            chain raw { type filter hook prerouting priority -300; }
            chain conntrack { type filter hook prerouting priority -200; }
            chain early { type filter hook prerouting priority -100; }
            chain nat { type nat hook prerouting priority 50; }
            chain late { type filter hook prerouting priority -100; }
            chain filter { type filter hook prerouting priority 0; }
        }
        """, "t.nft");

    private static string[] Names(NftChainFilter f) =>
        Rs.BaseChains(NftFamily.Ip, NftHookPoint.Prerouting).Where(f.Includes).Select(c => c.Name).ToArray();

    private static int NatCore => Rs.NatCoreRegistration(v6: false)!.Value;

    [Fact]
    public void DefaultTakesEveryChainInRunningOrder() =>
        Assert.Equal(["raw", "conntrack", "late", "early", "filter", "nat"], Names(default));

    [Fact]
    public void BeforeConntrackLeavesOutItsOwnPriority() =>
        Assert.Equal(["raw"], Names(NftChainFilter.All.Before(-200, int.MaxValue)));

    [Fact]
    public void TheNatCoreCutsChainsOfItsPriorityByRegistration()
    {
        var rest = NftChainFilter.All.From(-200, int.MaxValue).WithoutNat();
        // late registered after the nat core: it runs before it; early, registered before, after it
        Assert.Equal(["conntrack", "late"], Names(rest.Before(-100, NatCore)));
        Assert.Equal(["early", "filter"], Names(rest.From(-100, NatCore)));
    }

    [Fact]
    public void OnlyTakesOneChain()
    {
        var nat = Rs.FindTable(NftFamily.Ip, "t")!.FindChain("nat")!;
        Assert.Equal(["nat"], Names(NftChainFilter.Only(nat)));
        Assert.Empty(Names(NftChainFilter.Only(nat).WithoutNat()));
    }
}
