using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Offload;

/// <summary>
/// tests/scenarios/gso-forward (recorded on 6.18): GSO super-packets from the client arrive whole on
/// the router's eth0 and meet a 1400-byte link. Every frame the recorder tied to the kernel agrees,
/// and the decisions are the kernel's for the reasons it has.
/// </summary>
public class GsoForwardScenarioTests(ITestOutputHelper output)
{
    private static readonly Lazy<ScenarioJudgement> J = new(() => ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "gso-forward")));

    private static FrameJudgement Frame(int n) => J.Value.Frames.Single(f => f.Frame == n);

    private static string Detail(FrameJudgement f, string stage) =>
        f.Trace.Path.First(e => e.Namespace == "host" && e.Stage == stage).Detail ?? "";

    [Fact]
    public void EveryJudgedFrameAgrees()
    {
        foreach (var f in J.Value.Frames.Where(f => f.Judged && !f.Agrees)) output.WriteLine($"frame {f.Frame}: {string.Join("; ", f.Differences)}");
        Assert.True(J.Value.Judged >= 50);
        Assert.Equal(J.Value.Judged, J.Value.Agreed);
    }

    [Fact]
    public void UdpGsoWithDfClearIsSegmentedThenFragmented()
    {
        var f = Frame(3);
        Assert.Contains("inferred gso_size 1472 from eth0's MTU 1500", Detail(f, "IpRcv"));
        Assert.Contains("segments of 1500 bytes > MTU 1400: skb_gso_segment cuts 4 segments", Detail(f, "IpFinishOutputGso"));
        Assert.Equal(4, f.Trace.Path.Count(e => e.Namespace == "host" && e.Stage == "IpDoFragment"));
        Assert.Equal(8, f.Trace.Path.Count(e => e.Namespace == "host" && e.Stage == "IpFragment"));
        Assert.Equal(Fate.Delivered, f.Trace.Fate); // the server reassembles the last segment's fragments
    }

    [Fact]
    public void UdpGsoWithDfSetGetsFragNeeded()
    {
        var f = Frame(4);
        Assert.Equal(Fate.Dropped, f.Trace.Fate);
        Assert.Equal("PKT_TOO_BIG", f.Trace.Reason);
        Assert.Contains("segments of 1500 bytes", Detail(f, "IpForward"));
    }

    [Fact]
    public void TcpSegmentSizeFollowsTheSynMssThenTheLearntPathMtu()
    {
        var first = Frame(9);
        Assert.Equal("PKT_TOO_BIG", first.Trace.Reason);
        Assert.Contains("inferred gso_size 1448 from eth0's MTU 1500 less 12 bytes of TCP options", Detail(first, "IpRcv"));
        var again = Frame(13); // the same bytes again, after the ICMP error: the client now cuts for 1400
        Assert.Equal(Fate.Delivered, again.Trace.Fate);
        Assert.Contains("inferred gso_size 1348 from path MTU 1400 learnt from an ICMP error to 10.1.0.2", Detail(again, "IpRcv"));
        Assert.Contains("segments of 1400 bytes fit MTU 1400; sent whole", Detail(again, "IpFinishOutputGso"));
    }
}
