using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Tc;

/// <summary>
/// tests/scenarios/tc-tcindex: a classification that ends TC_ACT_OK sets skb->tc_index to the minor
/// of its classid (tc_run), and a cls_bpf program on the way out reads it and drops by it. u32 with
/// classid ffff:5 and 1:16, a direct-action cls_bpf with classid 2:8 writing tc_classid 7 (2:7) or
/// not (2:8), and no match (0): judged against the kernel's recording.
/// </summary>
public class TcIndexScenarioTests
{
    private static readonly string Dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", "tc-tcindex");

    private static Dictionary<long, PacketTrace> Replay() => TcScenario.Replay(Dir);

    private static string Stage(PacketTrace t, string stage) => t.Path.First(e => e.Stage == stage).Detail;

    [Fact]
    public void EveryFrameAgreesWithTheKernel()
    {
        var j = ScenarioJudge.Judge(Dir);
        Assert.Equal(9, j.Judged);
        Assert.Equal(j.Judged, j.Agreed);
    }

    [Theory]
    [InlineData(3, "0 -> 5 (TC_H_MIN of classid ffff:5)", true)]  // u32 classid ffff:5
    [InlineData(4, "0 -> 22 (TC_H_MIN of classid 1:16)", false)] // u32 classid 1:16: 0x16 is not 7002 - 6996
    [InlineData(6, "0 -> 7 (TC_H_MIN of classid 2:7)", true)]   // da: the filter's major | the tc_classid the program wrote
    [InlineData(7, "0 -> 8 (TC_H_MIN of classid 2:8)", true)]   // da: tc_classid as it started, the filter's classid
    public void TheClassificationSetsTcIndexForTheEgressProgram(long frame, string tcIndex, bool dropped)
    {
        var t = Replay()[frame];
        Assert.Contains($"skb->tc_index {tcIndex}", Stage(t, "TcIngress"));
        // dropped by the eth1 egress program, or through it to the server (the model follows it there)
        Assert.Equal(dropped ? "TC_EGRESS" : null, t.Fate == Fate.Dropped ? t.Reason : null);
        Assert.Contains(t.Path, e => e.Stage == "TcEgress" && e.Detail.Contains(dropped ? "-> drop" : "-> pass"));
    }

    [Fact]
    public void NoMatchLeavesTcIndexAndTheProgramsWriteIsShown()
    {
        var t = Replay();
        Assert.DoesNotContain("tc_index", Stage(t[8], "TcIngress")); // UDP to 7005: TC_ACT_UNSPEC everywhere
        Assert.NotEqual(Fate.Dropped, t[8].Fate);
        Assert.Contains("tc_classid 2:8 -> 0:7", Stage(t[6], "TcIngress"));
    }
}
