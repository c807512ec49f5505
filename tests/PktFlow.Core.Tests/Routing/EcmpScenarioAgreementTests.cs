using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Routing;

/// <summary>
/// The recorded ECMP scenarios (IPv4; IPv6 and nexthop groups) as the judge sees them: every flow must end at the uplink the kernel's
/// hash chose (prints the frames that disagree).
/// </summary>
public class EcmpScenarioAgreementTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("ecmp-multipath")]
    [InlineData("ecmp6-multipath")]
    [InlineData("ecmp6-policy1")]
    public void EveryFlowTakesTheKernelsNexthop(string scenario)
    {
        var j = ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", scenario));
        output.WriteLine($"AGREEMENT {j.Scenario} {j.Agreed}/{j.Judged}");
        foreach (var f in j.Frames.Where(f => f.Judged && !f.Agrees))
            output.WriteLine($"  frame {f.Frame} {f.Summary}: {string.Join("; ", f.Differences)} | {string.Join(" > ", f.Trace.Path.Select(e => $"{e.Namespace}/{e.Device}/{e.Function}"))}");
        Assert.Equal(j.Judged, j.Agreed);
    }
}
