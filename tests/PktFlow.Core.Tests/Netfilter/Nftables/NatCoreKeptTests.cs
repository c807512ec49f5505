using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// The nat core's hooks stay where the first nat chain registered them while any nat chain uses them
/// (nf_nat_register_fn / nf_nat_unregister_fn count users): recorded on 6.18 in tests/scenarios/nat-core-kept.
/// </summary>
public class NatCoreKeptTests
{
    private const string Nat1 = "table ip nat1 {\n chain p {\n  type nat hook prerouting priority dstnat; policy accept;\n }\n}\n";
    private const string Tie = "table ip tie {\n chain p {\n  type filter hook prerouting priority dstnat; policy accept;\n }\n}\n";
    private const string Nat2 = "table ip nat2 {\n chain p {\n  type nat hook prerouting priority dstnat; policy accept;\n }\n}\n";

    private static int Registration(NftRuleset rs, string table) => rs.FindTable(NftFamily.Ip, table)!.FindChain("p")!.RegistrationOrder;

    [Fact]
    public void DeletingTheFirstNatChainLeavesTheCoreWhereItWasRegistered()
    {
        var rs = NftRuleset.Parse(Nat1 + Tie + Nat2 + "delete table ip nat1\n", "t.nft");
        // tie registered after the core: it still runs before it (the core did not move to nat2's place)
        Assert.True(rs.NatCoreRegistration(v6: false) < Registration(rs, "tie"));
        Assert.True(Registration(rs, "tie") < Registration(rs, "nat2"));
        Assert.Equal(["tie"], rs.BaseChains(NftFamily.Ip, NftHookPoint.Prerouting).Where(NftChainFilter.All.WithoutNat().Before(-100, rs.NatCoreRegistration(false)!.Value).Includes).Select(c => c.Table.Name));
        Assert.Null(rs.NatCoreRegistration(v6: true));
    }

    [Fact]
    public void WithTheLastNatChainGoneTheNextOneRegistersTheCoreAgain()
    {
        var rs = NftRuleset.Parse(Nat1 + "delete table ip nat1\n", "t.nft");
        Assert.Null(rs.NatCoreRegistration(v6: false));
        rs = NftRuleset.Parse(Nat1 + "flush ruleset\n", "t.nft");
        Assert.Null(rs.NatCoreRegistration(v6: false));
    }

    [Fact]
    public void InOneFileTheDeletedChainLeavesAtTheCommit()
    {
        // nft -f is one transaction: nat2 joins the core before nat1's hooks go (NatCoreCommitTests)
        var rs = NftRuleset.Parse(Nat1 + "delete table ip nat1\n" + Tie + Nat2, "t.nft");
        Assert.True(rs.NatCoreRegistration(v6: false) < Registration(rs, "tie"));
    }

    [Fact]
    public void AnInetNatChainHoldsBothCores()
    {
        var inet = Nat1.Replace("table ip nat1", "table inet nat1");
        var rs = NftRuleset.Parse(inet + Tie + Nat2 + Nat2.Replace("table ip nat2", "table ip6 nat6") + "delete table inet nat1\n", "t.nft");
        Assert.True(rs.NatCoreRegistration(v6: false) < Registration(rs, "tie"));
        Assert.True(rs.NatCoreRegistration(v6: true) < Registration(rs, "tie"));
    }
}

/// <summary>
/// tests/scenarios/ipt-nft-nat-core-kept, recorded on 6.18: iptables-nft's nat chains and nft's count alike
/// for the nat core's users. IPv4's core, registered by iptables' nat PREROUTING, stays after -F/-X while
/// nft's nat2 remains; IPv6's, registered by nft's ip6 nat1, stays after its delete while ip6tables' nat
/// PREROUTING remains: the tie chains registered in between see 2180 before DNAT (answered).
/// </summary>
public class IptablesNftNatCoreKeptTests(ITestOutputHelper output)
{
    [Fact]
    public void EveryFrameAgreesWithTheKernel()
    {
        var j = PktFlow.Judge.ScenarioJudge.Judge(Path.Combine(PktFlow.Testing.RepoPaths.Root, "tests", "scenarios", "ipt-nft-nat-core-kept"));
        foreach (var f in j.Frames.Where(f => f.Judged && !f.Agrees)) output.WriteLine($"frame {f.Frame}: {string.Join("; ", f.Differences)}");
        Assert.Equal(22, j.Judged);
        Assert.Equal(j.Judged, j.Agreed);
    }

    [Fact]
    public void IptablesDeletingItsNatChainLeavesTheCoreToNft()
    {
        int clock = 0;
        var ipt = new PktFlow.Netfilter.Iptables.IptablesState(false, new() { AllowUnsupported = true, NextRegistration = () => ++clock });
        ipt.Apply(["-t", "nat", "-A", "PREROUTING", "-p", "tcp", "--dport", "9999", "-j", "ACCEPT"], "lab.sh", 1); // 1: the core
        ipt.Apply(["-t", "nat", "-F"], "lab.sh", 2);
        var tieAndNat = NftRuleset.Parse("table ip tie {\n chain p {\n  type filter hook prerouting priority dstnat; policy accept;\n }\n}\n"
            + "table ip nat2 {\n chain p {\n  type nat hook prerouting priority dstnat; policy accept;\n }\n}\n", "t.nft");
        foreach (var c in tieAndNat.RegisteredChains) c.LoadStamp = ++clock; // 2: tie, 3: nat2
        ipt.Apply(["-t", "nat", "-X"], "lab.sh", 3); // 4: PREROUTING's hook goes
        var rs = NftRuleset.Combine([ipt.Build(), tieAndNat]);
        rs.OrderRegistrations();
        Assert.True(rs.NatCoreRegistration(v6: false) < rs.FindTable(NftFamily.Ip, "tie")!.FindChain("p")!.RegistrationOrder);
        Assert.Empty(rs.FindTable(NftFamily.Ip, "nat")!.Chains);
    }
}
