using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Socket;

/// <summary>
/// tcp_req_err: an ICMP error quoting a request socket's SYN-ACK. In the recorded scenario tcp-req-err
/// the host's listener answers three SYNs nobody completes; host unreachable quoting the first SYN-ACK
/// dropped that request (its SYN-ACK was never retransmitted, ss -tan did not list it), port
/// unreachable and an error quoting another sequence number left the other two in SYN_RECV.
/// </summary>
public class TcpReqErrTests
{
    private static readonly ScenarioJudgement Judgement = ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "tcp-req-err"));

    private static string Detail(long frame) =>
        Assert.Single(Judgement.Frames.Single(f => f.Frame == frame).Trace.Path, e => e.Stage == "TcpV4Err").Detail;

    [Fact]
    public void AHardErrorDropsTheRequest_OthersLeaveIt()
    {
        Assert.Contains("(SYN_RECV): the request is dropped silently", Detail(3));
        Assert.Contains("not a hard error, the request stays", Detail(6));
        Assert.Contains("not the request socket's SYN-ACK", Detail(9));
    }

    [Fact]
    public void TheHostsSocketTableMatchesTheKernels()
    {
        Assert.Empty(Judgement.Sockets.Differences);
        Assert.Equal((new TableFigure(2, 2, 0), new TableFigure(1, 1, 0)), (Judgement.Sockets.Connections, Judgement.Sockets.Listeners));
    }
}
