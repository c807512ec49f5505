using System.Text.Json;
using PktFlow.Judge;
using PktFlow.Replay;
using PktFlow.Testing;

namespace PktFlow.Tests.Tc;

/// <summary>
/// tests/scenarios/tc-bpf-tailcall: a cls_bpf program dispatching by protocol with bpf_tail_call
/// (a pinned and an unpinned program array), LD_ABS/LD_IND loads, a chain to MAX_TAIL_CALL_CNT.
/// The frames are judged against the kernel's recording; the maps against bpftool-maps.json, the
/// kernel's maps after the same traffic (the scenario's maps.sh).
/// </summary>
public class TcBpfTailCallScenarioTests
{
    private static readonly string Dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", "tc-bpf-tailcall");

    private static (Dictionary<long, PacketTrace> Traces, ReplayState State) Replay()
    {
        var record = KernelRecord.Load(Path.Combine(Dir, "kernel.json"));
        var runner = new ReplayRunner(new ReplayOptions { Topology = ScenarioJudge.LoadLab(Dir), InjectAt = record.Wire, LabDoneNs = record.LabDoneNs });
        var traces = runner.Run(Path.Combine(Dir, "wire.pcap")).OfType<TraceEvent>().Select(e => e.Trace).ToDictionary(t => t.Frame);
        return (traces, runner.States[0]);
    }

    private static string Tc(PacketTrace t) => t.Path.Single(e => e.Stage == "TcIngress").Detail;

    [Fact]
    public void EveryFrameAgreesWithTheKernel()
    {
        var j = ScenarioJudge.Judge(Dir);
        Assert.Equal(14, j.Judged);
        Assert.Equal(j.Judged, j.Agreed);
    }

    [Fact]
    public void TheTraceNamesTheTailCalls()
    {
        var (t, _) = Replay();
        // the unpinned array was emptied when tc exited: the ping's call falls through
        Assert.Contains("program returned TC_ACT_OK (tail calls: jmp_nopin[1]: empty slot, fell through)", Tc(t[1]));
        Assert.Contains("program returned TC_ACT_SHOT (tail calls: jmp[6] -> tc_entry)", Tc(t[5]));
        // a UDP datagram with 2 payload bytes: the LD_IND word load at l4 + 8 is out of the packet, r0 = 0
        Assert.Contains("program returned TC_ACT_OK (tail calls: jmp[17] -> tc_entry)", Tc(t[11]));
        Assert.Contains("program returned TC_ACT_SHOT (tail calls: jmp[17] -> tc_entry (x33); jmp[17]: MAX_TAIL_CALL_CNT (33) reached, fell through)", Tc(t[13]));
    }

    /// <summary>Get-PktFlowBpfMap's rows against `bpftool -j map dump` of the kernel's maps (a hash's order is the kernel's bucket order: compared as sets).</summary>
    [Fact]
    public void TheMapsAreTheKernelsAfterTheTraffic()
    {
        var (_, state) = Replay();
        var model = state.BpfMaps("host").ToList();
        Assert.All(model, m => Assert.Equal("tc_tailcall.o:[tc] direct-action", m.Attach));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "bpftool-maps.json")));
        var kernel = doc.RootElement.EnumerateArray().ToList();
        // an empty map has no line (jmp_nopin, emptied when tc exited)
        Assert.Equal(kernel.Where(m => m.GetProperty("entries").GetArrayLength() > 0).Select(m => m.GetProperty("name").GetString()).Order(), model.Select(m => m.Map).Distinct().Order());
        foreach (var km in kernel)
        {
            string name = km.GetProperty("name").GetString()!;
            var rows = model.Where(m => m.Map == name).ToList();
            Assert.All(rows, r => Assert.Equal(km.GetProperty("type").GetString(), r.Type));
            var expected = km.GetProperty("entries").EnumerateArray().Select(e => $"{e.GetProperty("key").GetString()} = {e.GetProperty("value").GetString()}").Order();
            Assert.Equal(expected, rows.Select(r => $"{r.Key} = {r.Value}").Order());
        }
        Assert.Equal(33UL, model.Single(m => m.Map == "chain").ValueNumber);
    }
}
