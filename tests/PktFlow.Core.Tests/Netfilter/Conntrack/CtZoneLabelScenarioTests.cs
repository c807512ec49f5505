using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// tests/scenarios/ct-zone-label (recorded on 6.18): two links whose hosts share 10.1.0.2, zones by input
/// link in the original direction only, masquerade, labels per link; every frame and every conntrack entry
/// (zone-orig=N, labels=NAME) must agree with the kernel.
/// </summary>
public class CtZoneLabelScenarioTests(ITestOutputHelper output)
{
    private static readonly Lazy<ScenarioJudgement> Judged = new(() =>
        ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "ct-zone-label")));

    [Fact]
    public void EveryFrameAgreesWithTheKernel()
    {
        var j = Judged.Value;
        foreach (var f in j.Frames.Where(f => f.Judged && !f.Agrees)) output.WriteLine($"frame {f.Frame}: {string.Join("; ", f.Differences)}");
        Assert.True(j.Judged > 40);
        Assert.Equal(j.Judged, j.Agreed);
    }

    [Fact]
    public void TheSameTupleInTwoZonesIsTwoEntriesWithTheirLabels()
    {
        var ct = Judged.Value.Conntrack;
        foreach (var d in ct.Differences) output.WriteLine(d);
        Assert.Empty(ct.Differences);
        Assert.Equal(6, ct.Agreed); // udp, icmp and tcp from c1 (zone-orig=1) and from c2 (zone-orig=2)
    }
}
