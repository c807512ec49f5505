using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// The recorded ct-helper-ftp scenario (Linux 6.18) replayed: the traces name the helper stage and the
/// expectations, every data connection the kernel let in as related is related in the model, and the
/// expectation still pending at the end is the one conntrack -L expect listed.
/// </summary>
public class CtHelperScenarioTests
{
    private static string Dir => Path.Combine(RepoPaths.Root, "tests", "scenarios", "ct-helper-ftp");

    /// <summary>The replay the judge makes: the capture at host/eth0 in observe mode.</summary>
    private static (PktFlow.Replay.ReplayState State, List<PacketTrace> Traces) Replay()
    {
        var runner = new PktFlow.Replay.ReplayRunner(new PktFlow.Replay.ReplayOptions { LabPath = Path.Combine(Dir, "lab.sh"), InjectAt = "host/eth0" });
        var traces = runner.Run(Path.Combine(Dir, "wire.pcap")).OfType<PktFlow.Replay.TraceEvent>().Select(e => e.Trace).ToList();
        return (runner.States[0], traces);
    }

    [Fact]
    public void DataConnections_AreRelatedThroughTheHelpersExpectations()
    {
        var (_, traces) = Replay();
        var helper = traces.SelectMany(t => t.Path).Where(e => e.Stage == "NfConntrackHelper").Select(e => e.Detail!).ToList();
        Assert.Contains(helper, d => d.StartsWith("helper ftp: 227 announces 10.2.0.2:40001: expectation", StringComparison.Ordinal));
        Assert.Contains(helper, d => d.StartsWith("helper ftp: 229 announces 10.2.0.2:40002: expectation", StringComparison.Ordinal));
        Assert.Contains(helper, d => d.StartsWith("helper ftp: PORT announces 10.1.0.2:40003: expectation", StringComparison.Ordinal));
        Assert.Contains(helper, d => d.StartsWith("helper ftp: EPRT announces 10.1.0.2:40004: expectation", StringComparison.Ordinal));
        Assert.Contains(helper, d => d.StartsWith("helper tftp: read request: expectation", StringComparison.Ordinal));
        // the 227 that is the first line of the 2121 server's side is not parsed
        Assert.Contains(helper, d => d.StartsWith("helper ftp: not parsed: seq", StringComparison.Ordinal));
        var related = traces.SelectMany(t => t.Path).Where(e => e.Stage == "NfConntrackIn" && e.Detail!.Contains("expected by the", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, related.Count); // 40001, 40002, 40003, 40004 and the TFTP answer
    }

    [Fact]
    public void ThePendingExpectation_IsTheOneTheKernelListed()
    {
        var (state, _) = Replay();
        var model = state.ConntrackExpectations("host").ToList();
        var kernel = KernelRecord.Load(Path.Combine(Dir, "kernel.json")).Expectations.Single();
        Assert.Equal("host", kernel.Namespace);
        var x = Assert.Single(model);
        Assert.Equal(kernel.Line[kernel.Line.IndexOf(' ')..], x.Line[x.Line.IndexOf(' ')..]);
        Assert.Equal("src=10.1.0.2 dst=10.2.0.2 sport=40021 dport=21", x.Master);
        Assert.Contains(state.Conntrack("host"), e => e.Helper == "ftp" && e.Original.EndsWith("dport=21", StringComparison.Ordinal));
    }
}
