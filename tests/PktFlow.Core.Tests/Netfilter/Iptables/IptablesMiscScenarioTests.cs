using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Netfilter.Iptables;

/// <summary>
/// The recorded iptables-misc scenario (tests/scenarios/iptables-misc, tcpdump -i any on the router):
/// REDIRECT, NOTRACK / CT --notrack, CONNMARK save/restore with -m connmark, MASQUERADE --random and SNAT
/// --random-fully, the security table, -g goto and NFQUEUE with and without --queue-bypass.
/// </summary>
public class IptablesMiscScenarioTests
{
    private static readonly Lazy<ScenarioJudgement> Judged = new(() =>
        ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "iptables-misc")));

    /// <summary>The first frame from the client to this UDP port (as it arrived on eth0).</summary>
    private static PacketTrace Udp(int port) =>
        Judged.Value.Frames.First(f => f.Summary.StartsWith($"IP 10.1.0.2.4{port} > 10.2.0.2.{port}: UDP")).Trace;

    [Fact]
    public void EveryFrameAndConntrackEntryAgrees()
    {
        var j = Judged.Value;
        var bad = j.Frames.Where(f => f.Judged && !f.Agrees).Select(f => $"{f.Frame}: {string.Join("; ", f.Differences)}").ToList();
        Assert.True(bad.Count == 0, string.Join("\n", bad));
        Assert.True(j.Frames.Count(f => f.Judged) > 40);
        Assert.True(j.Conntrack.Total > 0 && j.Conntrack.Total == j.Conntrack.Agreed, string.Join("; ", j.Conntrack.Differences));
    }

    [Fact]
    public void NfqueueWithoutAListenerIsFreedByNfQueue_WithBypassItGoesOn()
    {
        var queued = Udp(5009);
        Assert.Equal(Fate.Dropped, queued.Fate);
        Assert.Equal("NOT_SPECIFIED", queued.Reason);
        Assert.Equal("NO_SOCKET", Udp(5010).Reason); // through to the server's closed port
    }

    [Fact]
    public void AReturnFromAGotoChainGoesBackToTheCallersCaller()
    {
        Assert.Equal("NO_SOCKET", Udp(5007).Reason); // OUTER's DROP after -g CHK is skipped: the server's closed port
        Assert.Equal("NETFILTER_DROP", Udp(5008).Reason);
    }

    [Fact]
    public void TheIcmpErrorForARandomPortLeavesWithTheQuotedChecksumTheKernelWrote()
    {
        // port unreachable for the MASQUERADE --random datagram: de-NATed, then recognised on eth0
        var errors = Judged.Value.Frames.Where(f => f.Summary.Contains("udp port 5004 unreachable")).ToList();
        Assert.Equal(2, errors.Count);
        Assert.Equal(errors[0].Frame, errors[1].Trace.CopyOf);
    }
}
