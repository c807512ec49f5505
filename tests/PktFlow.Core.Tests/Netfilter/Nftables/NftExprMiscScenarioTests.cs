using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// The recorded nft-expr-misc scenario (tests/scenarios/nft-expr-misc, tcpdump -i any on the router):
/// meta pkttype/length/cpu/iiftype/protocol, iifname wildcards, ct original/reply after DNAT, fib
/// reverse-path and type checks, numgen/symhash/jhash verdict maps, reject types and fwd to a device.
/// </summary>
public class NftExprMiscScenarioTests
{
    private static readonly Lazy<ScenarioJudgement> Judged = new(() =>
        ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "nft-expr-misc")));

    private static FrameJudgement First(string summaryStart) => Judged.Value.Frames.First(f => f.Summary.StartsWith(summaryStart));

    [Fact]
    public void EveryFrameAndConntrackEntryAgrees_WithASeedForTheDraws()
    {
        var j = Judged.Value;
        var bad = j.Frames.Where(f => f.Judged && !f.Agrees).Select(f => $"{f.Frame}: {string.Join("; ", f.Differences)}").ToList();
        Assert.True(bad.Count == 0, string.Join("\n", bad));
        Assert.True(j.Frames.Count(f => f.Judged) > 60);
        Assert.True(j.Conntrack.Total > 0 && j.Conntrack.Total == j.Conntrack.Agreed, string.Join("; ", j.Conntrack.Differences));
        Assert.NotNull(j.Seed); // numgen random, symhash and an unseeded jhash drew
    }

    [Fact]
    public void FwdToADeviceSendsThePacketAsItCame()
    {
        var sent = First("IP 10.1.0.2.42050 > 10.2.0.2.7050");
        var copy = Judged.Value.Frames.Single(f => f.Frame != sent.Frame && f.Summary == sent.Summary);
        Assert.Equal(sent.Frame, copy.Trace.CopyOf);
        Assert.Equal(Fate.Dropped, sent.Trace.Fate);
        Assert.Equal("OTHERHOST", sent.Trace.Reason); // the server's stack: not its MAC
    }

    [Fact]
    public void ASourceWithoutARouteBackIsDroppedByTheFibCheck()
    {
        var spoofed = First("IP 10.9.9.9.42000 > 10.2.0.2.7000").Trace;
        Assert.Equal("NETFILTER_DROP", spoofed.Reason);
    }
}
