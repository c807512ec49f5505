using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Replay;
using PktFlow.Testing;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// skb->len at a netdev egress hook counts the MAC header (the frame is built before dev_queue_xmit runs
/// it); everywhere else, the ingress hook and the bridge family included, a counter charges from the
/// network header on. Measured on Linux 6.18: one 84-byte ping counts 84 bytes at netdev ingress, in
/// the bridge chains and in inet, 98 at netdev egress. every-hook's recording has the kernel's figures.
/// </summary>
public class NetdevEgressLengthTests
{
    [Fact]
    public void TheEgressCounterChargesTheFrameAsTheKernelDid()
    {
        var dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", "every-hook");
        var record = KernelRecord.Load(Path.Combine(dir, "kernel.json"));
        var kernel = record.Counters.Single(c => c is { Namespace: "host", Family: "netdev", Table: "nd", Chain: "out_c", Handle: 5 });
        var runner = new ReplayRunner(new ReplayOptions { Topology = ScenarioJudge.LoadLab(dir), InjectAt = record.Wire, LabDoneNs = record.LabDoneNs });
        _ = runner.Run(Path.Combine(dir, "wire.pcap")).OfType<TraceEvent>().ToList();
        var model = runner.States[0].Counters("host").Single(c => c is { Family: "netdev", Table: "nd", Chain: "out_c", Handle: 5 });
        // every frame this rule counted left by the capture device: the same packets, so the same bytes
        Assert.Equal(kernel.Packets, model.Packets);
        Assert.Equal(kernel.Bytes, model.Bytes);
    }
}
