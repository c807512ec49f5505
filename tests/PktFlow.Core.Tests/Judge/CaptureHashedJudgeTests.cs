using System.Text.Json.Nodes;
using PktFlow.Judge;
using PktFlow.Replay;
using PktFlow.Testing;

namespace PktFlow.Tests.Judge;

/// <summary>
/// ECMP under the L4 hash policy: a recording's packets with ports carry the capture's per-boot skb
/// hash, so the kernel's nexthop per flow is any allowed one; the judge pins each flow to one and
/// counts a flow seen on two nexthops as a disagreement (ScenarioJudge.CaptureHashedPins).
/// </summary>
public class CaptureHashedJudgeTests
{
    private static string Dir(string name) => Path.Combine(RepoPaths.Root, "tests", "scenarios", name);

    private static string FlowOf(string summary) =>
        System.Text.RegularExpressions.Regex.Match(summary, @"^IP6? (\S+) > (\S+?):").Value;

    [Fact]
    public void EveryFlowKeepsTheUplinkTheKernelGaveIt()
    {
        var j = ScenarioJudge.Judge(Dir("ecmp-l4-flows"));
        Assert.Equal(72, j.Judged);
        Assert.True(j.Agreed == j.Judged, string.Join("\n", j.Frames.Where(f => !f.Agrees).Select(f => $"{f.Frame}: {string.Join("; ", f.Differences)}")));
        var byFlow = j.Frames.GroupBy(f => FlowOf(f.Summary)).ToList();
        Assert.Equal(24, byFlow.Count);
        Assert.All(byFlow, g => Assert.Single(g.Select(f => f.Trace.Path[^1].Namespace).Distinct()));
        // both uplinks carry flows: what the judge accepted was the kernel's per-boot draw, not one fixed answer
        Assert.Equal(new[] { "r1", "r2" }, byFlow.Select(g => g.First().Trace.Path[^1].Namespace).Distinct().Order());
        Assert.All(j.Frames, f => Assert.Single(f.Trace.CaptureHashed));
    }

    [Fact]
    public void WithoutPinsTheModelsOwnHashDisagreesSomewhere()
    {
        var dir = Dir("ecmp-l4-flows");
        var runner = new ReplayRunner(new ReplayOptions { LabPath = Path.Combine(dir, "lab.sh"), InjectAt = "host/eth0" });
        var record = KernelRecord.Load(Path.Combine(dir, "kernel.json"));
        var kernelEnds = record.Frames.ToDictionary(f => f.Frame, f => f.Ends.FirstOrDefault()?.Namespace ?? "");
        var traces = runner.Run(Path.Combine(dir, "wire.pcap")).OfType<TraceEvent>().Select(e => e.Trace).ToList();
        Assert.Contains(traces, t => kernelEnds[t.Frame] != t.Path[^1].Namespace);
        Assert.All(traces, t => Assert.Contains(t.Path, e => e.Detail?.Contains("skb->l4_hash", StringComparison.Ordinal) == true));
    }

    [Fact]
    public void AFlowSeenOnTwoNexthopsIsADisagreement()
    {
        // A copy of the recording where one frame of a flow ended at the other uplink.
        var src = Dir("ecmp-l4-flows");
        var dir = Directory.CreateTempSubdirectory("pktflow-ecmp-").FullName;
        try
        {
            foreach (var f in new[] { "lab.sh", "traffic.sh", "wire.pcap", "scenario.json" }) File.Copy(Path.Combine(src, f), Path.Combine(dir, f));
            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(src, "kernel.json")))!;
            var frames = json["frames"]!.AsArray();
            string End(JsonNode f) => f["end"]![0]!["ns"]!.GetValue<string>();
            var udp4 = frames.Where(f => f!["summary"]!.GetValue<string>().Contains("> 203.0.113.", StringComparison.Ordinal)).ToList();
            var x = udp4.GroupBy(f => FlowOf(f!["summary"]!.GetValue<string>())).First(g => g.All(f => End(f!) == End(g.First()!))).ToList();
            var other = frames.First(f => f!["summary"]!.GetValue<string>().StartsWith("IP ", StringComparison.Ordinal) && End(f!) != End(x[0]!))!;
            var moved = x[1]!.AsObject();
            foreach (var member in new[] { "end", "path" }) moved[member] = other[member]!.DeepClone();
            File.WriteAllText(Path.Combine(dir, "kernel.json"), json.ToJsonString());

            var j = ScenarioJudge.Judge(dir);
            var bad = Assert.Single(j.Frames, f => !f.Agrees);
            Assert.Equal(moved["frame"]!.GetValue<long>(), bad.Frame);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
