using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Socket;

/// <summary>
/// tests/scenarios/tproxy-timewait: TIME_WAIT sockets of a transparent proxy and of a plain listener,
/// frame by frame against the kernel's account (the servers close first, so the host's ends sit in
/// TIME_WAIT when the client connects again from the same port). Beyond the judge's fates and chains,
/// the trace must say which socket took each SYN and why.
/// </summary>
public class TproxyTimewaitScenarioTests
{
    private static readonly Lazy<ScenarioJudgement> Judged = new(() => ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "tproxy-timewait")));

    private static FrameJudgement Frame(int n) => Judged.Value.Frames.Single(f => f.Frame == n);

    /// <summary>The frames whose summary starts with <paramref name="flow"/> and carries <paramref name="flags"/>, in order.</summary>
    private static List<FrameJudgement> Frames(string flow, string flags) =>
        Judged.Value.Frames.Where(f => f.Summary.StartsWith("IP " + flow + ":", StringComparison.Ordinal) && f.Summary.Contains($"Flags [{flags}]")).ToList();

    private static string Detail(FrameJudgement f, string stage) =>
        string.Join("\n", f.Trace.Path.Where(e => e.Namespace == "host" && e.Stage == stage).Select(e => e.Detail));

    [Fact]
    public void EveryFrameAgreesWithTheKernel()
    {
        var j = Judged.Value;
        Assert.True(j.Judged == j.Agreed, string.Join("\n", j.Frames.Where(f => f.Judged && !f.Agrees).Select(f => $"frame {f.Frame}: {string.Join("; ", f.Differences)}")));
    }

    [Fact]
    public void ASynThatMatchesTheSocketRuleOnATimeWaitSocketIsAnsweredWithAnAck_WithoutAListenerForItsAddress()
    {
        Assert.Equal(9, Frames("10.1.0.2.40001 > 198.51.100.10.80", "S")[1].Frame);
        // frame 9: `socket transparent 1` finds the TIME_WAIT socket (tw_transparent); routed locally, it
        // reaches that socket, which finds no listener on 198.51.100.10:80 and answers with an ACK (frame 10)
        var syn = Frame(9);
        Assert.Contains("TCP_TW_SYN", Detail(syn, "TcpTimewaitStateProcess"));
        Assert.Contains("no listener has 198.51.100.10:80", Detail(syn, "TcpTimewaitStateProcess"));
        Assert.Contains(syn.Trace.Generated, g => g.Contains("from the TIME_WAIT socket"));
        // the capture shows that ACK leaving: sent for the TIME_WAIT socket, not by the connection it was
        Assert.Contains("sent by host from TIME_WAIT socket 198.51.100.10:80 <-> 10.1.0.2:40001", Detail(Frame(10), "Observed"));
        Assert.DoesNotContain("TIME_WAIT socket", Detail(Frame(8), "Observed"));
        // the client's reset (frame 11) is in window and kills it; the retransmitted SYN (12) goes through tproxy
        Assert.Contains("kills the TIME_WAIT socket", Detail(Frame(11), "TcpTimewaitStateProcess"));
        Assert.Contains("the socket tproxy assigned: listener", Detail(Frame(12), "TcpV4Rcv"));
    }

    [Fact]
    public void TproxyRedirectsASynThatFindsATimeWaitSocketToTheListener()
    {
        // port 82 has no socket rule: nf_tproxy_handle_time_wait4 hands frame 28's SYN to the listener on 8080
        var syn = Frames("10.1.0.2.40002 > 198.51.100.10.82", "S")[1];
        Assert.Contains("nf_tproxy_handle_time_wait", Detail(syn, "TcpV4Rcv"));
        Assert.DoesNotContain(syn.Trace.Path, e => e.Stage == "TcpTimewaitStateProcess");
    }

    [Fact]
    public void ANewerSynReopensATimeWaitConnectionOfAPlainListener_WithTheIsnTheKernelChose()
    {
        // the second connection from 40004 to 9000; the kernel's SYN-ACK starts at tw_snd_nxt + 65537
        var syn = Frames("10.1.0.2.40004 > 10.1.0.1.9000", "S")[1];
        var detail = Detail(syn, "TcpTimewaitStateProcess");
        Assert.Contains("reopens the connection", detail);
        var synAck = Frames("10.1.0.1.9000 > 10.1.0.2.40004", "S.")[1];
        Assert.Equal(syn.Frame + 1, synAck.Frame);
        var isn = synAck.Summary.Split(' ').SkipWhile(w => w != "seq").Skip(1).First().TrimEnd(',');
        Assert.Contains($"initial sequence number {isn}", detail);
    }

    [Fact]
    public void TimeWaitLastsSixtySecondsOfCaptureTime()
    {
        // seconds after 40004's second close: the TIME_WAIT socket answers the crafted ACK (the next frame is its ACK)
        var early = Frames("10.1.0.2.40004 > 10.1.0.1.9000", ".").Last();
        Assert.Contains("TCP_TW_ACK", Detail(early, "TcpTimewaitStateProcess"));
        // over a minute after 40005's close: the socket is gone and the listener resets
        var late = Frames("10.1.0.2.40005 > 10.1.0.1.9000", ".").Last();
        Assert.True(late.Trace.TimestampNs - Frames("10.1.0.2.40005 > 10.1.0.1.9000", "F.").Single().Trace.TimestampNs > 60_000_000_000L);
        Assert.DoesNotContain(late.Trace.Path, e => e.Stage == "TcpTimewaitStateProcess");
        Assert.Contains("for no connection", Detail(late, "TcpV4Rcv"));
    }
}
