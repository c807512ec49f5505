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
            if (Environment.GetEnvironmentVariable("SYNP_DEBUG") == f.Frame.ToString())
            {
                foreach (var e in f.Trace.Path) output.WriteLine($"   > {e.Namespace} {e.Device} {e.Stage} {e.Verdict} {e.Detail}");
                foreach (var g in f.Trace.Generated) output.WriteLine($"   G {g}");
                foreach (var c in f.Trace.GeneratedTraces) { output.WriteLine($"   child {c.Summary} {c.Fate} {c.Reason}"); foreach (var e in c.Path) output.WriteLine($"     > {e.Namespace} {e.Device} {e.Stage} {e.Verdict} {e.Detail}"); foreach (var g in c.Generated) output.WriteLine($"     G {g}"); }
            }
        }
        output.WriteLine($"conntrack {Judged.Value.Conntrack.Agreed}/{Judged.Value.Conntrack.Total}: {string.Join("; ", Judged.Value.Conntrack.Differences)}");
        output.WriteLine($"sockets {Judged.Value.Sockets.Agreed}/{Judged.Value.Sockets.Total}: {string.Join("; ", Judged.Value.Sockets.Differences)}");
    }
}
