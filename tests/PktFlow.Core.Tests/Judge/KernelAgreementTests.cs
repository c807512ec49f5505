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
    public void ConntrackTablesAgreeWithTheKernel() =>
        Ratchet("conntrack", ConntrackBaselineFile,
            "# scenario\tconntrack entries that agree with the kernel's conntrack -L\tentries judged on either side\tkernel entries not judged: no packet of them crossed the capture point (written by KernelAgreementTests)",
            r => ([("entries", new TableFigure(r.Conntrack.Agreed, r.Conntrack.Total, r.Conntrack.NotJudged.Count))], r.Conntrack.Differences, r.Conntrack.NotJudged));

    private static string SocketBaselineFile => Path.Combine(Scenarios, "socket-agreement.tsv");

    /// <summary>
    /// Get-PktFlowSocket after each replay (aged to the moment the kernel listed) against the kernel's
    /// ss -tan and ss -uan (state, local and peer address:port of every socket, see <see cref="SocketJudge"/>),
    /// in three figures: TCP connections, TCP listeners, UDP sockets. No scenario may have more
    /// disagreeing sockets of a kind, nor more kernel sockets left unjudged, than
    /// tests/scenarios/socket-agreement.tsv says (rewritten with PKTFLOW_WRITE_AGREEMENT=1).
    /// Recordings made before the recorder listed sockets judge none.
    /// </summary>
    [Fact]
    public void SocketTablesAgreeWithTheKernel() =>
        Ratchet("sockets", SocketBaselineFile,
            "# scenario\tTCP connections that agree with the kernel's ss -tan (state, local, peer)\tjudged on either side\tkernel connections not judged: no packet of them crossed the capture point"
            + "\tTCP listeners that agree\tjudged\tnot judged\tUDP sockets that agree with ss -uan\tjudged\tnot judged (written by KernelAgreementTests; scenarios recorded without ss judge none)",
            r => ([("TCP connections", r.Sockets.Connections), ("TCP listeners", r.Sockets.Listeners), ("UDP sockets", r.Sockets.Udp)], r.Sockets.Differences, r.Sockets.NotJudged));

    private static string CounterBaselineFile => Path.Combine(Scenarios, "counter-agreement.tsv");

    /// <summary>
    /// Get-PktFlowCounter and the set element counters after each replay against what the traffic added
    /// to the kernel's counters (nft -j list ruleset before and after, see <see cref="CounterJudge"/>):
    /// a counter agrees when its packets and bytes do. No scenario may have more disagreeing counters,
    /// nor more kernel counters left unjudged, than tests/scenarios/counter-agreement.tsv says
    /// (rewritten with PKTFLOW_WRITE_AGREEMENT=1). Recordings made before the recorder listed counters judge none.
    /// </summary>
    [Fact]
    public void CountersAgreeWithTheKernel() =>
        Ratchet("counters", CounterBaselineFile,
            "# scenario\tcounters that agree with the kernel's (packets and bytes the traffic added)\tcounters judged: in tables a captured frame reached\tkernel counters that counted in tables no captured frame reached (written by KernelAgreementTests; scenarios recorded without counters judge none)",
            r => ([("counters", r.Counters.Counters)], r.Counters.Differences, r.Counters.NotJudged));

    /// <summary>
    /// A table the kernel listed after the traffic against the model's after the replay, for every
    /// recorded scenario: prints each scenario's figures and differences, rewrites <paramref name="file"/>
    /// under PKTFLOW_WRITE_AGREEMENT=1 (three columns per figure: agreed, judged, not judged), and fails
    /// when a scenario has more disagreeing or unjudged items of a figure than it says.
    /// </summary>
    private void Ratchet(string what, string file, string header,
        Func<ScenarioJudgement, (IReadOnlyList<(string Name, TableFigure Figure)> Figures, IReadOnlyList<string> Differences, IReadOnlyList<string> NotJudged)> pick)
    {
        var results = Recorded().Select(ScenarioJudge.Judge).Select(r => (r.Scenario, J: pick(r))).ToList();
        foreach (var (scenario, j) in results)
        {
            output.WriteLine($"{scenario,-28} {string.Join(", ", j.Figures.Select(f => $"{f.Name} {f.Figure}"))}");
            foreach (var d in j.Differences) output.WriteLine($"    {d}");
            foreach (var d in j.NotJudged) output.WriteLine($"    not judged: {d}");
        }
        var names = results.Count > 0 ? results[0].J.Figures.Select(f => f.Name).ToList() : [];
        for (int i = 0; i < names.Count; i++)
            output.WriteLine($"{what}: {results.Sum(r => r.J.Figures[i].Figure.Agreed)} of {results.Sum(r => r.J.Figures[i].Figure.Total)} {names[i]} agree over {results.Count} scenarios; {results.Sum(r => r.J.Figures[i].Figure.NotJudged)} kernel {names[i]} had no packet on the capture");
        if (Environment.GetEnvironmentVariable("PKTFLOW_WRITE_AGREEMENT") == "1")
            File.WriteAllLines(file, new[] { header }.Concat(results.Select(r =>
                $"{r.Scenario}\t{string.Join("\t", r.J.Figures.Select(f => $"{f.Figure.Agreed}\t{f.Figure.Total}\t{f.Figure.NotJudged}"))}")));
        // per scenario, per figure: (disagreeing, not judged)
        var baseline = File.Exists(file)
            ? File.ReadLines(file).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split('\t'))
                .ToDictionary(p => p[0], p => Enumerable.Range(0, (p.Length - 1) / 3).Select(i => (
                    Disagree: int.Parse(p[1 + 3 * i + 1], CultureInfo.InvariantCulture) - int.Parse(p[1 + 3 * i], CultureInfo.InvariantCulture),
                    NotJudged: int.Parse(p[1 + 3 * i + 2], CultureInfo.InvariantCulture))).ToList())
            : new();
        var worse = results.Where(r => r.J.Figures.Select((f, i) => (f.Figure, B: baseline.TryGetValue(r.Scenario, out var b) && i < b.Count ? b[i] : (Disagree: 0, NotJudged: 0)))
                .Any(x => x.Figure.Total - x.Figure.Agreed > x.B.Disagree || x.Figure.NotJudged > x.B.NotJudged))
            .Select(r => $"{r.Scenario}: {string.Join("; ", r.J.Differences.Concat(r.J.NotJudged.Select(n => "not judged: " + n)))}").ToList();
        Assert.True(worse.Count == 0, $"{what} agreement with the kernel dropped:\n  " + string.Join("\n  ", worse));
    }
}
