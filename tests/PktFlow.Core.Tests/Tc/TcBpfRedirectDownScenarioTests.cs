using PktFlow.Judge;
using PktFlow.Replay;
using PktFlow.Testing;

namespace PktFlow.Tests.Tc;

/// <summary>
/// tests/scenarios/tc-bpf-redirect-down: a tc program's bpf_redirect to a device that is down is a
/// drop, not something unsupported: to its transmit the noop qdisc drops it in __dev_queue_xmit
/// (QDISC_DROP), to its receive (BPF_F_INGRESS) __dev_forward_skb2 refuses it (NOT_SPECIFIED).
/// </summary>
public class TcBpfRedirectDownScenarioTests
{
    private static readonly string Dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", "tc-bpf-redirect-down");

    [Fact]
    public void EveryFrameAgreesWithTheKernel()
    {
        var j = ScenarioJudge.Judge(Dir);
        Assert.Equal(6, j.Judged);
        Assert.Equal(j.Judged, j.Agreed);
    }

    [Fact]
    public void ARedirectToADownDeviceIsDroppedWhereTheKernelDropsIt()
    {
        var t = TcScenario.Replay(Dir);
        Assert.Equal(Fate.Dropped, t[1].Fate);
        Assert.Equal(("__dev_queue_xmit", "host", "eth1"), (t[1].Path[^1].Function, t[1].Path[^1].Namespace, t[1].Path[^1].Device));
        Assert.StartsWith("QDISC_DROP", t[1].Reason);
        Assert.Equal(Fate.Dropped, t[2].Fate);
        Assert.Equal("__dev_forward_skb2", t[2].Path[^1].Function);
        Assert.StartsWith("NOT_SPECIFIED", t[2].Reason);
        Assert.Contains("eth1 ingress, which is down", t[2].Path[^1].Detail);
        Assert.DoesNotContain(t.Values, x => x.Fate == Fate.Unsupported);
    }
}
