using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Judge;

/// <summary>
/// What the recorder can tell about tunnel receive (lb-ipip-fou-decap, Debian 6.12 under qemu): it
/// follows the inner packet the tunnel device receives (a second hop in the host, "decap"), and the
/// judge compares the model's inner packet with it; a packet it lost is not judged.
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

    private static KernelFrame Recorded(long n) =>
        KernelRecord.Load(Path.Combine(RepoPaths.Root, "tests", "scenarios", "lb-ipip-fou-decap", "kernel.json")).Frames.Single(f => f.Frame == n);

    [Fact]
    public void IpipToAnAddressThatIsNotLocalIsFollowedToTheInnerPacketsDrop()
    {
        // the kernel's record goes on to the inner packet on ipip0, dropped there by routing
        var k = Recorded(20);
        Assert.Contains(k.Path, h => h.Decap && h.Namespace == "host" && h.In == "ipip0");
        Assert.Equal(new[] { new KernelEnd("host", "Dropped", "IP_INADDRERRORS") }, k.Ends);
        var f = Frame(20);
        Assert.True(f.Judged);
        Assert.True(f.Agrees, string.Join("\n", f.Differences));
        Assert.Contains(f.Trace.Path, e => e.Stage == "IpTunnelRcv");
        Assert.Equal("IP_INADDRERRORS", f.Trace.Reason);
    }

    [Theory]
    [InlineData(7)]    // IP-in-IP
    [InlineData(9)]    // FOU to 5555
    [InlineData(11)]   // GUE variant 0
    [InlineData(14)]   // GUE variant 1
    public void TheDecapsulatedSynIsFollowedToItsDeliveryOnIpip0(long n)
    {
        var k = Recorded(n);
        Assert.Equal(new string?[] { "eth0", "ipip0" }, k.Path.Where(h => h.Namespace == "host").Select(h => h.In));
        Assert.True(k.Path[^1].Decap);
        Assert.Equal(new[] { new KernelEnd("host", "Delivered", null) }, k.Ends);
        Assert.True(Frame(n).Agrees, string.Join("\n", Frame(n).Differences));
    }

    [Fact]
    public void AFrameWhoseKernelEndIsUnknownIsNotJudgedAndThisRecordingHasNone()
    {
        Assert.All(Decap.Value.Frames, f => Assert.True(f.Judged, $"frame {f.Frame}"));
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
