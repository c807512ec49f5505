using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Neighbour;

/// <summary>
/// Recorded scenarios as the judge sees them, every frame agreeing: arp-proxy-ignore (arp_ignore
/// 0/1/2/3/8, 1 as the larger of conf.all and the device; proxy_arp on a router; the bridge's
/// ageing_time) and route-sysctls-rules (ip rule actions, accept_local of one device, martians).
/// </summary>
public class ArpRouteScenarioTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("arp-proxy-ignore")]
    [InlineData("route-sysctls-rules")]
    public void EveryFrameAgreesWithTheKernel(string scenario)
    {
        var dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", scenario);
        var j = ScenarioJudge.Judge(dir);
        output.WriteLine($"AGREEMENT {j.Scenario} {j.Agreed}/{j.Judged}");
        foreach (var f in j.Frames.Where(f => f.Judged && !f.Agrees))
            output.WriteLine($"  frame {f.Frame} {f.Direction} {f.Summary}: {string.Join("; ", f.Differences)} | model path: {string.Join(" > ", f.Trace.Path.Select(e => $"{e.Namespace}/{e.Device}/{e.Function}"))}");
        Assert.True(j.Judged >= 35, $"{j.Judged} frames judged");
        Assert.Equal(j.Judged, j.Agreed);
    }
}
