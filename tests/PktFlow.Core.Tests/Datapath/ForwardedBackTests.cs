using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Datapath;

/// <summary>
/// redirect-nat: the router forwards the client's packets back out of the device they arrived on (and
/// sends an ICMP redirect). The tap on that device shows each packet twice; the copy leaving is the
/// arriving frame's packet, which the model followed through the bridge to the gateway namespace.
/// </summary>
public class ForwardedBackTests
{
    [Theory]
    [InlineData(2, 1)]
    [InlineData(7, 6)] // masqueraded on the way out: the source is the router's own address
    [InlineData(11, 10)]
    [InlineData(15, 14)]
    public void TheCopyLeavingTakesTheArrivingFramesTrace(int copy, int arrived)
    {
        var j = ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "redirect-nat"));
        var c = j.Frames.Single(f => f.Frame == copy);
        var a = j.Frames.Single(f => f.Frame == arrived);
        Assert.True(c.Agrees, string.Join("; ", c.Differences));
        Assert.Contains(c.Trace.Notes, n => n.Contains($"the forwarded copy of frame {arrived},", StringComparison.Ordinal));
        Assert.Equal(a.Trace.Path.Select(e => e.Stage), c.Trace.Path.Select(e => e.Stage));
        Assert.Empty(c.Trace.GeneratedTraces); // nothing is answered twice
    }
}
