using PktFlow.Judge;
using PktFlow.Testing;
using Xunit.Abstractions;

namespace PktFlow.Tests.Macvlan;

/// <summary>The recorded macvlan scenarios: every frame, conntrack entry and socket as the kernel had them.</summary>
public class MacvlanScenarioTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("macvlan-bridge")]
    [InlineData("macvlan-private")]
    [InlineData("macvlan-vepa")]
    [InlineData("macvlan-ipv6")]
    [InlineData("macvlan-passthru")]
    [InlineData("macvlan-source")]
    public void EveryFrameAgreesWithTheKernel(string scenario)
    {
        var j = ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", scenario));
        foreach (var f in j.Frames.Where(f => Environment.GetEnvironmentVariable("MVDBG") == "1" || f.Judged && !f.Agrees)) output.WriteLine($"frame {f.Frame} {f.Summary}: {string.Join("; ", f.Differences)}\n   {string.Join("\n   ", f.Trace.Path)}");
        Assert.Equal(j.Judged, j.Agreed);
        Assert.Equal(j.Frames.Count, j.Judged);
        Assert.Equal(j.Conntrack.Total, j.Conntrack.Agreed);
    }
}
