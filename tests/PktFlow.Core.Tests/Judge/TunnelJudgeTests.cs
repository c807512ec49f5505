using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Judge;

/// <summary>
/// What the recorder can tell about tunnel receive (lb-ipip-fou-decap, Debian 6.12 under qemu): it
/// follows packets by header bytes, so decapsulation ends its record, and a packet it lost is not judged.
/// </summary>
public class TunnelJudgeTests
{
    private static readonly Lazy<ScenarioJudgement> Decap = new(() =>
        ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "lb-ipip-fou-decap")));

    private static FrameJudgement Frame(long n) => Decap.Value.Frames.Single(f => f.Frame == n);

    [Fact]
    public void GueToAProtocolWithoutHandlerIsAnsweredWithTheShrunkOuterHeader()
    {
        // The kernel's protocol unreachable (frame 18) quotes the outer header with tot_len less the
        // UDP and GUE headers: the model's answer is that frame only if it builds the same quote.
        var f = Frame(17);
        Assert.True(f.Judged);
        Assert.True(f.Agrees, string.Join("\n", f.Differences));
        Assert.Equal("IP_NOPROTO", f.Trace.Reason);
    }

    [Fact]
    public void IpipToAnAddressThatIsNotLocalIsJudgedUpToTheDecapsulation()
    {
        var f = Frame(20);
        Assert.True(f.Judged);
        Assert.True(f.Agrees, string.Join("\n", f.Differences));
        Assert.Contains(f.Trace.Path, e => e.Stage == "IpTunnelRcv");
        Assert.Equal("IP_INADDRERRORS", f.Trace.Reason);
    }

    [Fact]
    public void AFrameWhoseKernelEndIsUnknownIsNotJudged()
    {
        foreach (var n in new long[] { 25, 31, 34 })
            Assert.False(Frame(n).Judged, $"frame {n}");
        Assert.True(KernelRecord.LostEnd([new KernelEnd("client", "Unknown", null)]));
        Assert.False(KernelRecord.LostEnd([new KernelEnd("client", "Unknown", null), new KernelEnd("host", "Delivered", null)]));
        Assert.False(KernelRecord.LostEnd([]));
    }

    [Fact]
    public void ADeliveredEndWithoutDecapsulationStillNeedsTheModelToDeliver()
    {
        // frame 22: UDP to 6081 (no FOU port) is dropped NO_SOCKET by both; the decapsulation rule does not apply
        var f = Frame(22);
        Assert.True(f.Agrees, string.Join("\n", f.Differences));
        Assert.DoesNotContain(f.Trace.Path, e => e.Stage is "IpTunnelRcv" or "FouUdpRecv" or "GueUdpRecv");
    }
}
