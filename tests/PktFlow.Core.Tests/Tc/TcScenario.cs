using PktFlow.Judge;
using PktFlow.Replay;

namespace PktFlow.Tests.Tc;

/// <summary>A recorded tc scenario replayed as the judge does (its lab, wire point and lab time): traces by frame.</summary>
internal static class TcScenario
{
    public static Dictionary<long, PacketTrace> Replay(string dir)
    {
        var record = KernelRecord.Load(Path.Combine(dir, "kernel.json"));
        var runner = new ReplayRunner(new ReplayOptions { Topology = ScenarioJudge.LoadLab(dir), InjectAt = record.Wire, LabDoneNs = record.LabDoneNs });
        return runner.Run(Path.Combine(dir, "wire.pcap")).OfType<TraceEvent>().Select(e => e.Trace).ToDictionary(t => t.Frame);
    }
}
