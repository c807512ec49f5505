using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Tunnel;

/// <summary>The recorded vxlan scenarios, judged frame by frame: every frame must agree with the kernel.</summary>
public class VxlanScenarioTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("vxlan-flannel")]
    [InlineData("vxlan-bridge-flood")]
    public void EveryFrameAgreesWithTheKernel(string scenario)
    {
        var dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", scenario);
        var j = ScenarioJudge.Judge(dir);
        foreach (var f in j.Frames)
        {
            output.WriteLine($"frame {f.Frame} {f.Direction} {(f.Agrees ? "agrees" : "DIFFERS")}: kernel {f.Kernel}; model {f.Model}");
            foreach (var d in f.Differences) output.WriteLine("    " + d);
            if (!f.Agrees) foreach (var e in f.Trace.Path) output.WriteLine($"      {e.Namespace}/{e.Device} {e.Stage} {e.Verdict} {e.Detail}");
        }
        output.WriteLine(j.Conntrack.ToString());
        foreach (var d in j.Conntrack.Differences) output.WriteLine("  ct " + d);
        output.WriteLine(j.Sockets.ToString());
        foreach (var d in j.Sockets.Differences) output.WriteLine("  sock " + d);
        Assert.True(j.Judged > 0);
        Assert.Equal(j.Judged, j.Agreed);
        Assert.Empty(j.Sockets.Differences);
        Assert.Empty(j.Conntrack.Differences);
    }
}
