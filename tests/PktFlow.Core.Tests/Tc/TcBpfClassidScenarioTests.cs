using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Tc;

/// <summary>
/// tests/scenarios/tc-bpf-classid: cls_bpf without direct-action, where the program's return value
/// is a classid (0 no match, -1 the filter's own) and a match runs the filter's actions, judged
/// against the kernel's recording; the trace says which filter matched and with which classid.
/// </summary>
public class TcBpfClassidScenarioTests
{
    private static readonly string Dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", "tc-bpf-classid");

    private static Dictionary<long, PacketTrace> Replay() => TcScenario.Replay(Dir);

    private static string Tc(PacketTrace t) => t.Path.First(e => e.Stage == "TcIngress").Detail;

    [Fact]
    public void EveryFrameAgreesWithTheKernel()
    {
        var j = ScenarioJudge.Judge(Dir);
        Assert.Equal(11, j.Judged);
        Assert.Equal(j.Judged, j.Agreed);
    }

    [Fact]
    public void TheTraceNamesTheClassidAndTheActions()
    {
        var t = Replay();
        // frame 4, UDP to 7777: classid 1:10 from the program, then the filter's mirror with control drop
        Assert.Contains("pref 10 bpf handle 0x1 (tc_bpf_classid.o:[cls]): program returned classid 1:10: mirred (Egress Mirror to device eth1) drop -> drop", Tc(t[4]));
        // frame 8, TCP to 80: -1 is the filter's classid; no actions: pass, pref 30 never runs
        var tcp80 = Tc(t[8]);
        Assert.Contains("pref 20 bpf handle 0x1 classid 1:1 (tc_bpf_classid.o:[cls_dflt]): program returned -1 (the filter's classid 1:1): no actions, pass", tcp80);
        Assert.DoesNotContain("pref 30", tcp80);
        // frame 11, TCP to 23: no match anywhere, but the mark the classid-mode program wrote stays
        Assert.Contains("pref 25 bpf handle 0x1 classid 1:2 (tc_bpf_classid.o:[cls_ok]): program returned 0 (no match), mark 0x0 -> 0x42, the next filter", Tc(t[11]));
    }
}
