using System.Globalization;
using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Judge;

/// <summary>
/// The kernel as the judge, as a test: every recorded scenario (tests/scenarios/NAME) is replayed
/// through the model and compared frame by frame with what the kernel did. The test fails when a
/// scenario has more frames that disagree than tests/scenarios/agreement.tsv records for main (a
/// count of disagreements, so that re-recording a scenario with fewer frames is not a regression);
/// when the model gets better, rerun with PKTFLOW_WRITE_AGREEMENT=1 and commit the new figures.
/// </summary>
public class KernelAgreementTests(ITestOutputHelper output)
{
    private static string Scenarios => Path.Combine(RepoPaths.Root, "tests", "scenarios");
    private static string BaselineFile => Path.Combine(Scenarios, "agreement.tsv");

    private static IEnumerable<string> Recorded() =>
        Directory.GetDirectories(Scenarios).Order(StringComparer.Ordinal).Where(dir => File.Exists(Path.Combine(dir, "kernel.json")));

    /// <summary>Disagreeing frames per scenario on main (judged minus agreed).</summary>
    private static Dictionary<string, int> Baseline() =>
        File.Exists(BaselineFile)
            ? File.ReadLines(BaselineFile).Where(l => l.Length > 0 && !l.StartsWith('#'))
                .Select(l => l.Split('\t')).ToDictionary(p => p[0], p => int.Parse(p[2], CultureInfo.InvariantCulture) - int.Parse(p[1], CultureInfo.InvariantCulture))
            : new();

    [Fact]
    public void AgreementDoesNotDropBelowMain()
    {
        var baseline = Baseline();
        var results = Recorded().Select(ScenarioJudge.Judge).ToList();
        int judged = results.Sum(r => r.Judged), agreed = results.Sum(r => r.Agreed);
        foreach (var r in results) output.WriteLine($"{r.Scenario,-28} {r.Agreed,4} / {r.Judged,-4} {r.Agreement,6:P0}");
        output.WriteLine($"agreement: {agreed} of {judged} frames ({(double)agreed / Math.Max(1, judged):P1}) over {results.Count} scenarios");
        if (Environment.GetEnvironmentVariable("PKTFLOW_WRITE_AGREEMENT") == "1")
            File.WriteAllLines(BaselineFile, new[] { "# scenario\tframes that agree with the kernel\tframes judged (written by KernelAgreementTests)" }
                .Concat(results.Select(r => $"{r.Scenario}\t{r.Agreed}\t{r.Judged}")));
        var worse = results.Where(r => r.Judged - r.Agreed > baseline.GetValueOrDefault(r.Scenario, 0))
            .Select(r => $"{r.Scenario}: {r.Judged - r.Agreed} frames disagree, main has {baseline.GetValueOrDefault(r.Scenario, 0)}:\n      " +
                string.Join("\n      ", r.Frames.Where(f => f.Judged && !f.Agrees).Take(5).Select(f => $"frame {f.Frame}: {string.Join("; ", f.Differences)}")))
            .ToList();
        Assert.True(worse.Count == 0, "agreement with the kernel dropped:\n  " + string.Join("\n  ", worse));
        Assert.True(baseline.Keys.All(k => results.Any(r => r.Scenario == k)), "a scenario in agreement.tsv is no longer recorded");
    }

    [Fact]
    public void AScenarioThatAgreesWhollyIsJudgedSo()
    {
        // ttl-expiry needs no netfilter: every frame agrees; a regression in routing or forwarding shows here first.
        var dir = Path.Combine(Scenarios, "ttl-expiry");
        if (!File.Exists(Path.Combine(dir, "kernel.json"))) return;
        var j = ScenarioJudge.Judge(dir);
        Assert.True(j.Judged > 0);
        Assert.Equal(j.Judged, j.Agreed);
    }

    private static string ConntrackBaselineFile => Path.Combine(Scenarios, "conntrack-agreement.tsv");

    /// <summary>
    /// Get-PktFlowConntrack after each replay against the kernel's conntrack -L (tuples, zone, TCP state,
    /// [ASSURED]/[UNREPLIED], mark): no scenario may have more disagreeing entries, nor more kernel entries
    /// left unjudged (no packet of them on the capture), than tests/scenarios/conntrack-agreement.tsv says
    /// (rewritten with PKTFLOW_WRITE_AGREEMENT=1). Counting the unjudged keeps an entry the model loses
    /// from slipping out of the comparison instead of showing as a disagreement.
    /// </summary>
    [Fact]
    public void ConntrackTablesAgreeWithTheKernel()
    {
        var results = Recorded().Select(ScenarioJudge.Judge).ToList();
        foreach (var r in results)
        {
            output.WriteLine($"{r.Scenario,-28} {r.Conntrack.Agreed,3} / {r.Conntrack.Total,-3} ({r.Conntrack.NotJudged.Count} not judged)");
            foreach (var d in r.Conntrack.Differences) output.WriteLine($"    {d}");
            foreach (var d in r.Conntrack.NotJudged) output.WriteLine($"    not judged: {d}");
        }
        int agreed = results.Sum(r => r.Conntrack.Agreed), total = results.Sum(r => r.Conntrack.Total), notJudged = results.Sum(r => r.Conntrack.NotJudged.Count);
        output.WriteLine($"conntrack: {agreed} of {total} entries agree over {results.Count} scenarios; {notJudged} kernel entries had no packet on the capture");
        if (Environment.GetEnvironmentVariable("PKTFLOW_WRITE_AGREEMENT") == "1")
            File.WriteAllLines(ConntrackBaselineFile, new[] { "# scenario\tconntrack entries that agree with the kernel's conntrack -L\tentries judged on either side\tkernel entries not judged: no packet of them crossed the capture point (written by KernelAgreementTests)" }
                .Concat(results.Select(r => $"{r.Scenario}\t{r.Conntrack.Agreed}\t{r.Conntrack.Total}\t{r.Conntrack.NotJudged.Count}")));
        var baseline = File.Exists(ConntrackBaselineFile)
            ? File.ReadLines(ConntrackBaselineFile).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split('\t'))
                .ToDictionary(p => p[0], p => (Disagree: int.Parse(p[2], CultureInfo.InvariantCulture) - int.Parse(p[1], CultureInfo.InvariantCulture),
                    NotJudged: p.Length > 3 ? int.Parse(p[3], CultureInfo.InvariantCulture) : 0))
            : new();
        var worse = results.Where(r => baseline.GetValueOrDefault(r.Scenario) is var b
                && (r.Conntrack.Total - r.Conntrack.Agreed > b.Disagree || r.Conntrack.NotJudged.Count > b.NotJudged))
            .Select(r => $"{r.Scenario}: {string.Join("; ", r.Conntrack.Differences.Concat(r.Conntrack.NotJudged.Select(n => "not judged: " + n)))}").ToList();
        Assert.True(worse.Count == 0, "conntrack agreement with the kernel dropped:\n  " + string.Join("\n  ", worse));
    }
}
