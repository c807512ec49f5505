using PktFlow.Judge;
using PktFlow.Replay;
using PktFlow.Testing;

namespace PktFlow.Tests.Datapath;

/// <summary>
/// In Observe mode a packet another namespace sends in answer (the client's ARP reply to the host's
/// ARP request) is walked as a child trace into the captured namespace; the capture then shows it
/// arriving on the capture device, and that frame takes the child's trace rather than being walked
/// through the hooks a second time. netdev-ingress's recording: the kernel's last `counter` counted the
/// ARP request, the ping and that ARP reply once each.
/// </summary>
public class ChildArrivingByWireTests
{
    [Fact]
    public void APeersAnswerArrivingByTheCaptureDeviceIsCountedOnce()
    {
        var dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", "netdev-ingress");
        var record = KernelRecord.Load(Path.Combine(dir, "kernel.json"));
        var kernel = record.Counters.Single(c => c is { Namespace: "host", Table: "edge", Chain: "ingress", Handle: 4 });
        var runner = new ReplayRunner(new ReplayOptions { Topology = ScenarioJudge.LoadLab(dir), InjectAt = record.Wire, LabDoneNs = record.LabDoneNs });
        var traces = runner.Run(Path.Combine(dir, "wire.pcap")).OfType<TraceEvent>().Select(e => e.Trace).ToList();
        var model = runner.States[0].Counters("host").Single(c => c is { Table: "edge", Chain: "ingress", Handle: 4 });
        Assert.Equal((3L, 140L), (kernel.Packets!.Value, kernel.Bytes));
        Assert.Equal((kernel.Packets.Value, kernel.Bytes), (model.Packets, model.Bytes));
        // the capture's ARP reply (frame 8) is the child of the host's ARP request (frame 7)
        Assert.Equal(7, traces.Single(t => t.Frame == 8).CausedBy);
    }
}
