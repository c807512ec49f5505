using PktFlow.Judge;
using PktFlow.Replay;
using PktFlow.Testing;

namespace PktFlow.Tests.Judge;

/// <summary>
/// kube-proxy's -m statistic --mode random chose an endpoint per connection with draws no capture
/// holds: the judge replays with seeds until one reproduces the kernel's choices (ScenarioJudge.Judge).
/// </summary>
public class RandomDrawJudgeTests
{
    private static string Dir(string name) => Path.Combine(RepoPaths.Root, "tests", "scenarios", name);

    [Fact]
    public void TheJudgeFindsTheSeedThatReproducesTheKernelsEndpointChoices()
    {
        var j = ScenarioJudge.Judge(Dir("kube-proxy-random"));
        Assert.NotNull(j.Seed);
        Assert.Equal(j.Judged, j.Agreed);
        Assert.Equal(j.Seed!.Value, j.SeedsTried);
        // Where the kernel sent the five connections to NodePort 30090 (kernel.json), each one of the
        // three endpoints the model allows.
        var syns = j.Frames.Where(f => f.Summary.Contains(".30090: Flags [S]", StringComparison.Ordinal)).Select(f => f.Trace.Path[^1].Namespace);
        Assert.Equal(new[] { "p3", "p3", "p2", "p1", "p2" }, syns);
    }

    [Fact]
    public void WithoutTheSearchTheDefaultSeedChoosesOtherwise()
    {
        // The search is what makes the scenario agree: seed 1 sends some connection elsewhere.
        var dir = Dir("kube-proxy-random");
        var runner = new ReplayRunner(new ReplayOptions { LabPath = Path.Combine(dir, "lab.sh"), InjectAt = "host/eth0", Seed = 1 });
        var ends = runner.Run(Path.Combine(dir, "wire.pcap")).OfType<TraceEvent>().Select(e => e.Trace)
            .Where(t => t.Summary.Contains(".30090: Flags [S]", StringComparison.Ordinal)).Select(t => t.Path[^1].Namespace).ToList();
        Assert.Equal(5, ends.Count);
        Assert.All(ends, ns => Assert.Contains(ns, new[] { "p1", "p2", "p3" }));
        Assert.NotEqual(new[] { "p3", "p3", "p2", "p1", "p2" }, ends);
    }

    [Fact]
    public void AScenarioWithoutRandomRulesIsJudgedOnce()
    {
        // kube-proxy-nodeport uses --mode nth: nothing is drawn, no seed is searched for.
        var j = ScenarioJudge.Judge(Dir("kube-proxy-nodeport"));
        Assert.Null(j.Seed);
        Assert.Equal(1, j.SeedsTried);
    }
}
