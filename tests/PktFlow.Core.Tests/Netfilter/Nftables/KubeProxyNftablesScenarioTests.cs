using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// tests/scenarios/kube-proxy-nftables: a node as kube-proxy --proxy-mode nftables programs it (named verdict
/// maps on concatenations, mark or/xor, numgen vmaps, reject through no-endpoint maps), recorded on 6.18.
/// Every frame must agree with the kernel, and the services must be reached through the maps.
/// </summary>
public class KubeProxyNftablesScenarioTests(ITestOutputHelper output)
{
    private static string Dir => Path.Combine(RepoPaths.Root, "tests", "scenarios", "kube-proxy-nftables");

    [Fact]
    public void EveryFrameAgreesWithTheKernel()
    {
        var j = ScenarioJudge.Judge(Dir);
        foreach (var f in j.Frames.Where(f => f.Judged && !f.Agrees))
            output.WriteLine($"frame {f.Frame} {f.Direction} {f.Summary}: {string.Join("; ", f.Differences)}");
        Assert.Equal(j.Judged, j.Agreed);
        Assert.True(j.Judged >= 40);
    }

    [Fact]
    public void NodePortB_AlternatesItsEndpoints_ThroughTheMaps()
    {
        var j = ScenarioJudge.Judge(Dir);
        // the SYNs of the two connections to NodePort 30081 (frames 11 and 19)
        string[] Chains(long frame) => j.Frames.Single(f => f.Frame == frame).Trace.Path.Where(e => e.Table == "kube-proxy").Select(e => e.Chain!).Distinct().ToArray();
        Assert.Contains("external-BBBBBBBB-default/b/tcp/http", Chains(11));
        Assert.Contains("endpoint-B1B1B1B1-default/b/tcp/http__10.244.0.2/8080", Chains(11));
        Assert.Contains("endpoint-B2B2B2B2-default/b/tcp/http__10.244.0.3/8080", Chains(19));
        Assert.Contains("mark-for-masquerade", Chains(11));
    }
}
