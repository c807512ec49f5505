using PktFlow.Netfilter.Iptables;
using PktFlow.Netfilter.Nftables;
using PktFlow.Tests.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Iptables;

/// <summary>
/// -m connbytes as iptables-nft 1.8.9 stores it and nft 1.0.6 lists it (xlate of the compat match),
/// each line below observed on 6.18 with iptables-nft -A then nft list ruleset; the verdicts are
/// recorded in tests/scenarios/iptables-connbytes.
/// </summary>
public class IptablesConnbytesTests
{
    private static NftRuleset Load(string match) =>
        IptablesRestore.Load($"*filter\n:INPUT ACCEPT [0:0]\n-A INPUT {match} -j ACCEPT\nCOMMIT\n", "r", false);

    [Theory]
    [InlineData("-p tcp -m connbytes --connbytes 3:10 --connbytes-mode packets --connbytes-dir original", "meta l4proto tcp ct original packets 3-10")]
    [InlineData("-m connbytes --connbytes 100 --connbytes-mode bytes --connbytes-dir both", "ct bytes ge 100")]
    [InlineData("-m connbytes ! --connbytes 5:7 --connbytes-mode avgpkt --connbytes-dir reply", "ct reply avgpkt != 5-7")]
    [InlineData("-m connbytes ! --connbytes 5 --connbytes-mode bytes --connbytes-dir original", "ct original bytes lt 5")]
    [InlineData("-m connbytes --connbytes 5:5 --connbytes-mode bytes --connbytes-dir original", "ct original bytes 5")]
    // libxt_connbytes swaps a negated range; an empty swap leaves it as it was (iptables-save drops the '!')
    [InlineData("-m connbytes ! --connbytes 5:5 --connbytes-mode bytes --connbytes-dir original", "ct original bytes 5")]
    [InlineData("-m connbytes --connbytes :3 --connbytes-mode bytes --connbytes-dir original", "ct original bytes 0-3")]
    [InlineData("-m connbytes --connbytes 3: --connbytes-mode bytes --connbytes-dir original", "ct original bytes ge 3")]
    [InlineData("-m connbytes ! --connbytes 0 --connbytes-mode bytes --connbytes-dir original", "ct original bytes lt 0")]
    public void ListedAsNftListsTheTranslation(string match, string listed)
    {
        var rule = Load(match).AllRules.Single();
        Assert.Equal($"{listed} counter packets 0 bytes 0 accept", rule.Text);
        Assert.True(rule.TurnsOnCtAcct); // connbytes_mt_check -> nf_ct_set_acct
    }

    [Theory]
    [InlineData("-m connbytes --connbytes 10:3 --connbytes-mode bytes --connbytes-dir original", "10 should be less than 3")]
    [InlineData("-m connbytes --connbytes 3 --connbytes-mode bytes", "option \"--connbytes-dir\" must be specified")]
    [InlineData("-m connbytes --connbytes 3 --connbytes-dir reply", "option \"--connbytes-mode\" must be specified")]
    [InlineData("-m connbytes --connbytes 3 --connbytes-dir foo --connbytes-mode bytes", "Unknown --connbytes-dir `foo'")]
    [InlineData("-m connbytes --connbytes x --connbytes-dir both --connbytes-mode bytes", "bad value for option \"--connbytes\" near \"x\"")]
    public void RefusedAsIptables189RefusesIt(string match, string message)
    {
        var e = Assert.Throws<IptablesParseException>(() => Load(match));
        Assert.Contains(message, e.Message);
    }

    [Theory]
    // xt_connbytes: inside from..to, or for a negated range below from or above to
    [InlineData("--connbytes 3:4 --connbytes-mode packets --connbytes-dir original", 2, 0, false)]
    [InlineData("--connbytes 3:4 --connbytes-mode packets --connbytes-dir original", 3, 0, true)]
    [InlineData("--connbytes 3:4 --connbytes-mode packets --connbytes-dir original", 5, 0, false)]
    [InlineData("! --connbytes 3:4 --connbytes-mode packets --connbytes-dir original", 5, 0, true)]
    [InlineData("! --connbytes 3:4 --connbytes-mode packets --connbytes-dir original", 4, 0, false)]
    [InlineData("--connbytes 4 --connbytes-mode packets --connbytes-dir both", 2, 2, true)]
    [InlineData("--connbytes 4 --connbytes-mode packets --connbytes-dir reply", 2, 2, false)]
    public void MatchesByTheConnectionsCounters(string options, int original, int reply, bool matches)
    {
        var rs = Load("-m connbytes " + options);
        var tuple = new PktFlow.Netfilter.Conntrack.ConntrackTuple(PktFlow.Wire.IpAddr.Parse("10.1.0.2"), PktFlow.Wire.IpAddr.Parse("10.1.0.1"), 6, 40000, 22);
        var ct = new NftCtInfo("established", "original", 0, "")
        {
            Original = tuple, OriginalCounters = ((ulong)original, (ulong)original * 100), ReplyCounters = ((ulong)reply, (ulong)reply * 100),
        };
        var p = FakeNftPacket.Tcp4("10.1.0.2", "10.1.0.1", 40000, 22, 0x10, ct: ct);
        Assert.Equal(matches ? "accept" : "none", Verdict(rs, p));
    }

    [Fact]
    public void TheRecordedScenarioAgreesWithTheKernel_CountersIncluded()
    {
        var j = PktFlow.Judge.ScenarioJudge.Judge(Path.Combine(PktFlow.Testing.RepoPaths.Root, "tests", "scenarios", "iptables-connbytes"));
        Assert.True(j.Judged > 0);
        Assert.Equal(j.Judged, j.Agreed);
        Assert.True(j.Conntrack.Total == 4 && j.Conntrack.Agreed == 4, string.Join("\n", j.Conntrack.Differences));
    }

    private static string Verdict(NftRuleset rs, INftPacket p)
    {
        var r = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, p);
        return r.Runs.Any(x => x.Rule is not null) ? r.Verdict : "none";
    }
}
