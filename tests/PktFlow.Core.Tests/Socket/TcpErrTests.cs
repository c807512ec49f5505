using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Socket;

/// <summary>
/// tcp_v4_err / tcp_v6_err: an ICMP error quoting a connect()'s SYN aborts the SYN_SENT socket. In the
/// recorded scenario reject-input the host answers two SYNs to port 25 with icmpx admin-prohibited; the
/// kernel's ss -tan listed neither client socket afterwards (the model used to keep both for the 127 s
/// of SYN retries).
/// </summary>
public class TcpErrTests
{
    private static readonly ScenarioJudgement Judgement = ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "reject-input"));

    private static IEnumerable<PacketTrace> All(PacketTrace t) => t.GeneratedTraces.SelectMany(All).Prepend(t);

    [Theory]
    [InlineData("TcpV4Err", "ICMP type 3 code 13 quotes the SYN of 10.1.0.2:40003 > 10.1.0.1:25 (SYN_SENT): the connect fails with EHOSTUNREACH")]
    [InlineData("TcpV6Err", "ICMPv6 type 1 code 1 quotes the SYN of [2001:db8:1::2]:40005 > [2001:db8:1::1]:25 (SYN_SENT): the connect fails with EACCES")]
    public void AnAdminProhibitedErrorAbortsTheConnect(string stage, string detail)
    {
        var hops = Judgement.Frames.SelectMany(f => All(f.Trace)).SelectMany(t => t.Path).Where(e => e.Stage == stage).ToList();
        Assert.Contains(hops, e => e.Namespace == "client" && e.Detail.StartsWith(detail, StringComparison.Ordinal));
    }

    [Fact]
    public void TheClientsSocketTableMatchesTheKernels()
    {
        Assert.Empty(Judgement.Sockets.Differences);
    }
}
