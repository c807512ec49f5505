using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// tests/scenarios/ct-zone-label (nft) and iptables-ct-zone-label (iptables-nft), recorded on 6.18: two
/// links whose hosts share 10.1.0.2, zones by input link in the original direction only, masquerade,
/// labels per link; every frame and every conntrack entry (zone-orig=N, labels=NAME) must agree with the kernel.
/// </summary>
public class CtZoneLabelScenarioTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, Lazy<ScenarioJudgement>> Judged = new[] { "ct-zone-label", "iptables-ct-zone-label" }
        .ToDictionary(s => s, s => new Lazy<ScenarioJudgement>(() => ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", s))));

    [Theory]
    [InlineData("ct-zone-label")]
    [InlineData("iptables-ct-zone-label")]
    public void EveryFrameAgreesWithTheKernel(string scenario)
    {
        var j = Judged[scenario].Value;
        foreach (var f in j.Frames.Where(f => f.Judged && !f.Agrees)) output.WriteLine($"frame {f.Frame}: {string.Join("; ", f.Differences)}");
        Assert.True(j.Judged > 40);
        Assert.Equal(j.Judged, j.Agreed);
    }

    [Theory]
    [InlineData("ct-zone-label")]
    [InlineData("iptables-ct-zone-label")]
    public void TheSameTupleInTwoZonesIsTwoEntriesWithTheirLabels(string scenario)
    {
        var ct = Judged[scenario].Value.Conntrack;
        foreach (var d in ct.Differences) output.WriteLine(d);
        Assert.Empty(ct.Differences);
        Assert.Equal(6, ct.Agreed); // udp, icmp and tcp from c1 (zone-orig=1) and from c2 (zone-orig=2)
    }
}
