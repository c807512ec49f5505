using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// tests/scenarios/ct-zone-label (nft) and iptables-ct-zone-label (iptables-nft), recorded on 6.18: two
/// links whose hosts share 10.1.0.2, zones by input link in the original direction only, masquerade,
/// labels per link; every frame and every conntrack entry (zone-orig=N, labels=NAME) must agree with the kernel.
/// </summary>
public class CtZoneLabelScenarioTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, Lazy<ScenarioJudgement>> Judged = new[] { "ct-zone-label", "iptables-ct-zone-label" }
        .ToDictionary(s => s, s => new Lazy<ScenarioJudgement>(() => ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", s))));

    [Theory]
    [InlineData("ct-zone-label")]
    [InlineData("iptables-ct-zone-label")]
    public void EveryFrameAgreesWithTheKernel(string scenario)
    {
        var j = Judged[scenario].Value;
        foreach (var f in j.Frames.Where(f => f.Judged && !f.Agrees)) output.WriteLine($"frame {f.Frame}: {string.Join("; ", f.Differences)}");
        Assert.True(j.Judged > 40);
        Assert.Equal(j.Judged, j.Agreed);
    }

    [Theory]
    [InlineData("ct-zone-label")]
    [InlineData("iptables-ct-zone-label")]
    public void TheSameTupleInTwoZonesIsTwoEntriesWithTheirLabels(string scenario)
    {
        var ct = Judged[scenario].Value.Conntrack;
        foreach (var d in ct.Differences) output.WriteLine(d);
        Assert.Empty(ct.Differences);
        Assert.Equal(6, ct.Agreed); // udp, icmp and tcp from c1 (zone-orig=1) and from c2 (zone-orig=2)
    }

    /// <summary>
    /// tests/scenarios/ct-label-compare: flows labelled {1}, {1,5}, {5}, {7}, {1,7}, {5,7} and none meet a
    /// verdict map of labels, ct label != 5 | 7, a set of labels and ct label == 5 (all 128 bits compared);
    /// the accepted flows' entries are listed with their labels.
    /// </summary>
    [Fact]
    public void LabelsComparedWholeAgreeWithTheKernel()
    {
        var j = ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "ct-label-compare"));
        foreach (var f in j.Frames.Where(f => f.Judged && !f.Agrees)) output.WriteLine($"frame {f.Frame}: {string.Join("; ", f.Differences)}");
        foreach (var d in j.Conntrack.Differences) output.WriteLine(d);
        Assert.Equal(16, j.Judged);
        Assert.Equal(j.Judged, j.Agreed);
        Assert.Empty(j.Conntrack.Differences);
        Assert.Equal(3, j.Conntrack.Agreed); // 83 {5}, 84 {7}, 86 {5,7}: the dropped flows' entries were never confirmed
    }

    /// <summary>
    /// tests/scenarios/iptables-ct-zone-helper: one -j CT template with --helper ftp --timeout --zone-orig 5;
    /// the data connection given zone-orig 5 finds the expectation (related), the one left in zone 0 does not
    /// (new, dropped twice); both entries listed with zone-orig=5, the control connection with helper=ftp.
    /// </summary>
    [Fact]
    public void ATemplateWithZoneHelperAndTimeoutAgreesWithTheKernel()
    {
        var j = ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "iptables-ct-zone-helper"));
        foreach (var f in j.Frames.Where(f => f.Judged && !f.Agrees)) output.WriteLine($"frame {f.Frame}: {string.Join("; ", f.Differences)}");
        foreach (var d in j.Conntrack.Differences) output.WriteLine(d);
        Assert.Equal(34, j.Judged);
        Assert.Equal(j.Judged, j.Agreed);
        Assert.Empty(j.Conntrack.Differences);
        Assert.Equal(3, j.Conntrack.Agreed); // both connections and the second 227's expectation, never used
    }
}
