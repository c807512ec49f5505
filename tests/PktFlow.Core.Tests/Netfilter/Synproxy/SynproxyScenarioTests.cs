using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Netfilter.Synproxy;

/// <summary>
/// The recorded synproxy scenario (tests/scenarios/synproxy, tcpdump -i any in the host): a connection
/// through the router to the server's port 80 (named synproxy object in forward) and one to the host's
/// own port 22 (synproxy statement in input), a bad-cookie ACK and a lone RST.
/// </summary>
public class SynproxyScenarioTests
{
    private static readonly Lazy<ScenarioJudgement> Judged = new(() =>
        ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "synproxy")));

    private static FrameJudgement Frame(long n) => Judged.Value.Frames.Single(f => f.Frame == n);

    private static readonly Dictionary<string, Lazy<ScenarioJudgement>> Others = new[] { "synproxy6", "iptables-synproxy" }
        .ToDictionary(s => s, s => new Lazy<ScenarioJudgement>(() => ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", s))));

    [Theory]
    [InlineData("synproxy", 43)]
    [InlineData("synproxy6", 60)]
    [InlineData("iptables-synproxy", 43)]
    public void EveryJudgedFrameAndTheConntrackTableAgree(string scenario, int judged)
    {
        var j = scenario == "synproxy" ? Judged.Value : Others[scenario].Value;
        var bad = j.Frames.Where(f => f.Judged && !f.Agrees).Select(f => $"{f.Frame}: {string.Join("; ", f.Differences)}").ToList();
        Assert.True(bad.Count == 0, string.Join("\n", bad));
        Assert.Equal(judged, j.Frames.Count(f => f.Judged));
        Assert.True(j.Conntrack.Total > 0);
        Assert.True(j.Conntrack.Total == j.Conntrack.Agreed, string.Join("; ", j.Conntrack.Differences));
    }

    [Fact]
    public void TheClientsSynIsAnsweredWithTheCookieSynAckTheCaptureShows()
    {
        var syn = Frame(3).Trace;
        Assert.Equal(Fate.Consumed, syn.Fate);
        var synack = Assert.Single(syn.GeneratedTraces);
        Assert.Equal("synproxy_send_client_synack", synack.GeneratedBy);
        // the capture's SYN-ACK (frame 4) is that child, recognised without its sequence number (the cookie)
        Assert.Equal(3, Frame(4).Trace.CausedBy);
    }

    [Fact]
    public void TheCookieAckOpensTheConnectionToTheServer_TheServersSynAckIsAnsweredByTheHook()
    {
        var ack = Frame(5).Trace;
        Assert.Contains(ack.Path, e => e.Stage == "SynproxyRecvClientAck" && e.Detail!.StartsWith("cookie valid") && e.Detail.Contains("cookie hash not checkable: kernel secret"));
        Assert.Equal("synproxy_send_server_syn", Assert.Single(ack.GeneratedTraces).GeneratedBy);
        Assert.Equal(5, Frame(8).Trace.CausedBy);
        var synack = Frame(9).Trace;
        Assert.Equal(Fate.Consumed, synack.Fate);
        Assert.Equal(new[] { "synproxy_send_server_ack", "synproxy_send_client_ack" }, synack.GeneratedTraces.Select(c => c.GeneratedBy));
        // frames 10 and 11 are those two, with the kernel's numbers (the ACK's echo moved by tsoff: 4080295608)
        Assert.Equal(9, Frame(10).Trace.CausedBy);
        Assert.Equal(9, Frame(11).Trace.CausedBy);
    }

    [Fact]
    public void LaterSegmentsAreSequenceAndTimestampAdjusted()
    {
        // the server's data (frame 20) leaves as frame 21: seq moved into the cookie's space, TS val back by tsoff
        var data = Frame(20).Trace;
        Assert.Contains(data.Path, e => e.Stage == "NfCtSeqAdjust" && e.Detail!.StartsWith("synproxy opened this connection"));
        Assert.Contains(data.Path, e => e.Stage == "SynproxyTstampAdjust" && e.Detail!.StartsWith("TS val 4199044432 -> 22825953"));
        Assert.Equal(20, Frame(21).Trace.CopyOf);
    }

    [Fact]
    public void AnAckForNoSynAckIsDropped_ARstGoesOnToTheNextRule()
    {
        var bad = Frame(42).Trace;
        Assert.Equal("NETFILTER_DROP", bad.Reason);
        Assert.Contains(bad.Path, e => e.Stage == "SynproxyRecvClientAck" && e.Verdict == Verdict.Drop);
        Assert.Empty(bad.GeneratedTraces);
        var rst = Frame(43).Trace;
        Assert.DoesNotContain(rst.Path, e => e.Stage.StartsWith("Synproxy"));
        Assert.Contains(rst.Path, e => e.Rule == "ct state invalid counter drop");
    }

    [Fact]
    public void ALocalListenersConnectionIsFollowedOverLoAndEstablished()
    {
        var ack = Frame(30).Trace;
        var syn = Assert.Single(ack.GeneratedTraces);
        Assert.Contains(syn.Path, e => e.Stage == "LoopbackXmit");
        Assert.Contains(syn.Generated, g => g.StartsWith("the listener's SYN-ACK") && g.Contains("unknown"));
        Assert.Equal(Fate.Delivered, Frame(35).Trace.Fate);
    }
}
