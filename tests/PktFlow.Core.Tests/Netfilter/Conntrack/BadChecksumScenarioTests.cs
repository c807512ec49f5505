using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// tests/scenarios/bad-checksum, recorded on 6.18: host (nf_conntrack_checksum=1) marks crafted frames with a
/// bad transport checksum INVALID at PRE_ROUTING, so its DNAT rule never sees them and only r2
/// (nf_conntrack_checksum=0) lists entries for them; the client stack's segments carry the pseudo-header sum
/// and are taken as CHECKSUM_PARTIAL, said in the trace.
/// </summary>
public class BadChecksumScenarioTests(ITestOutputHelper output)
{
    private static readonly Lazy<ScenarioJudgement> Judged = new(() => ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "bad-checksum")));

    private static FrameJudgement Frame(int n) => Judged.Value.Frames.Single(f => f.Frame == n);

    private static string Stage(int frame, string ns, string stage) =>
        Frame(frame).Trace.Path.First(e => e.Namespace == ns && e.Stage == stage).Detail ?? "";

    [Fact]
    public void EveryFrameAndEveryEntryAgreesWithTheKernel()
    {
        var j = Judged.Value;
        foreach (var f in j.Frames.Where(f => f.Judged && !f.Agrees)) output.WriteLine($"frame {f.Frame}: {string.Join("; ", f.Differences)}");
        foreach (var d in j.Conntrack.Differences) output.WriteLine(d);
        Assert.Equal((34, 34), (j.Judged, j.Agreed));
        Assert.Empty(j.Conntrack.Differences);
        Assert.Equal(8, j.Conntrack.Agreed);
    }

    [Fact]
    public void TheCraftedSegmentIsInvalidAtHostAndNewAtR2()
    {
        // frame 29: TCP SYN to the server with checksum 0x1234, through host and r2
        Assert.Contains("invalid: TCP bad checksum, checksum 0x1234 is wrong", Stage(29, "host", "NfConntrackIn"));
        Assert.Contains("(tcp_error -> nf_checksum, nf_conntrack_checksum=1)", Stage(29, "host", "NfConntrackIn"));
        Assert.Contains("ct state new", Stage(29, "r2", "NfConntrackIn"));
        Assert.Contains("checksum not verified (nf_conntrack_checksum=0)", Stage(29, "r2", "NfConntrackIn"));
        Assert.Equal("TCP_CSUM", Frame(29).Trace.Reason);
    }

    [Fact]
    public void AnInvalidPacketSkipsTheDnatRule()
    {
        // frame 27: to the host's port 8080, which a DNAT rule sends to the server: not NATed, dropped by tcp_v4_rcv
        Assert.DoesNotContain(Frame(27).Trace.Path, e => e.Table == "nat");
        Assert.Equal("TCP_CSUM", Frame(27).Trace.Reason);
    }

    [Fact]
    public void SynproxyDropsTheBadSynAndTheStackSegmentsAreAssumedPartial()
    {
        Assert.Contains("NF_DROP", Stage(28, "host", "NfIpChecksum"));
        Assert.Contains("assumed CHECKSUM_PARTIAL", Stage(3, "host", "NfConntrackIn"));
        Assert.Contains(Frame(3).Trace.Notes, n => n.Contains("assumed CHECKSUM_PARTIAL"));
    }
}
