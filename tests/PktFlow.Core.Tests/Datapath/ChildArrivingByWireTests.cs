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

    /// <summary>
    /// An answer the captured namespace forwards on (srv's echo replies, un-masqueraded to c1 and c2) both
    /// arrives and leaves there: the frame showing it arrive takes the child's trace (it is not remembered as
    /// a child leaving), and the frame showing it leave is a copy of that frame, although the model's IP id
    /// (srv's per-boot hash) differs from the capture's. iptables-ct-zone-label's kernel counted each
    /// reply once in mangle PREROUTING and the one labelled 1 once in filter FORWARD.
    /// </summary>
    [Fact]
    public void AnAnswerForwardedOnIsCountedOnceAndItsLeavingFrameIsACopy()
    {
        var dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", "iptables-ct-zone-label");
        var record = KernelRecord.Load(Path.Combine(dir, "kernel.json"));
        var runner = new ReplayRunner(new ReplayOptions { Topology = ScenarioJudge.LoadLab(dir), InjectAt = record.Wire, LabDoneNs = record.LabDoneNs });
        var traces = runner.Run(Path.Combine(dir, "wire.pcap")).OfType<TraceEvent>().Select(e => e.Trace).ToList();
        foreach (var (table, chain, handle) in new[] { ("mangle", "PREROUTING", 7), ("filter", "FORWARD", 8) })
        {
            var kernel = record.Counters.Single(c => c.Namespace == "host" && c.Table == table && c.Chain == chain && c.Handle == handle);
            var model = runner.States[0].Counters("host").Single(c => c.Table == table && c.Chain == chain && c.Handle == handle);
            Assert.Equal((kernel.Packets!.Value, kernel.Bytes), (model.Packets - model.InitialPackets, model.Bytes - model.InitialBytes));
        }
        // frames 11 and 15: the echo replies arriving on eth2, children of the requests (frames 9 and 13)
        Assert.Equal(9, traces.Single(t => t.Frame == 11).CausedBy);
        Assert.Equal(13, traces.Single(t => t.Frame == 15).CausedBy);
        // frames 12 and 16: the same replies leaving towards c1 and c2, copies of the frames that showed them arrive
        Assert.Equal(11, traces.Single(t => t.Frame == 12).CopyOf);
        Assert.Equal(15, traces.Single(t => t.Frame == 16).CopyOf);
    }
}
