using PktFlow.Judge;
using PktFlow.Testing;
using Xunit.Abstractions;

namespace PktFlow.Tests.Netfilter.Synproxy;

/// <summary>The recorded synproxy scenario (tests/scenarios/synproxy): a router and the host's own listener behind SYNPROXY.</summary>
public class SynproxyScenarioTests(ITestOutputHelper output)
{
    private static readonly Lazy<ScenarioJudgement> Judged = new(() =>
        ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "synproxy")));

    private static FrameJudgement Frame(long n) => Judged.Value.Frames.Single(f => f.Frame == n);

    [Fact]
    public void Dump()
    {
        foreach (var f in Judged.Value.Frames)
        {
            output.WriteLine($"{f.Frame} {(f.Judged ? f.Agrees ? "OK " : "BAD" : "-  ")} {f.Summary} | {f.Model}");
            foreach (var d in f.Differences) output.WriteLine("      " + d);
        }
        output.WriteLine($"conntrack {Judged.Value.Conntrack.Agreed}/{Judged.Value.Conntrack.Total}: {string.Join("; ", Judged.Value.Conntrack.Differences)}");
        output.WriteLine($"sockets {Judged.Value.Sockets.Agreed}/{Judged.Value.Sockets.Total}: {string.Join("; ", Judged.Value.Sockets.Differences)}");
    }
}
