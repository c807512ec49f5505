using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// tests/scenarios/iptables-ct-zone-mark, recorded on 6.18: -j CT --zone-orig/--zone/--zone-reply mark takes
/// the zone id from the packet's mark at nf_conntrack_in (16 bits of it, and a mark set after the CT rule
/// counts); one UDP 5-tuple with four marks is four entries (zone=7, 9, 11 and zone 0).
/// </summary>
public class CtZoneMarkScenarioTests(ITestOutputHelper output)
{
    private static readonly Lazy<ScenarioJudgement> Judged = new(() => ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "iptables-ct-zone-mark")));

    [Fact]
    public void EveryFrameAgreesWithTheKernel()
    {
        var j = Judged.Value;
        foreach (var f in j.Frames.Where(f => f.Judged && !f.Agrees)) output.WriteLine($"frame {f.Frame}: {string.Join("; ", f.Differences)}");
        Assert.Equal(26, j.Judged);
        Assert.Equal(j.Judged, j.Agreed);
    }

    [Fact]
    public void OneTupleWithFourMarksIsFourEntriesInTheirZones()
    {
        var ct = Judged.Value.Conntrack;
        foreach (var d in ct.Differences) output.WriteLine(d);
        Assert.Empty(ct.Differences);
        Assert.Equal(7, ct.Agreed);
    }
}
