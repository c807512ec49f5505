using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Bridge;

/// <summary>
/// The recorded bridge scenarios as the judge sees them: prints each scenario's agreement and every
/// frame that still disagrees, and holds the floor the bridge model reached (so a regression shows).
/// </summary>
public class BridgeScenarioAgreementTests(ITestOutputHelper output)
{
    /// <summary>Frames that agree now; before the bridge model: 0/18, 0/28, 0/20, 0/23 and 5/21.</summary>
    public static TheoryData<string, int> Scenarios => new()
    {
        { "bridge-filter", 18 },
        { "br-netfilter-off", 27 },
        { "docker-bridge-c2c", 20 },
        { "docker-hairpin", 23 }, // CHECKSUM_PARTIAL kept through NAT, post-NAT port copies traced from their pre-NAT bytes
        { "docker-published-port", 13 }, // c2's masqueraded connection: c1 or c2 could have sent it (one capture point)
        { "bridge-hairpin-stp", 21 },
        { "bridge-fdb-static", 10 },
        { "bridge-stp", 32 }, // kernel STP: port states by forward_delay and BPDUs, the bridge's own BPDUs
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void BridgeScenarioAgreesAtLeastAsBefore(string scenario, int floor)
    {
        var dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", scenario);
        if (!File.Exists(Path.Combine(dir, "kernel.json"))) return;
        var j = ScenarioJudge.Judge(dir);
        output.WriteLine($"AGREEMENT {j.Scenario} {j.Agreed}/{j.Judged}");
        foreach (var f in j.Frames.Where(f => f.Judged && !f.Agrees))
            output.WriteLine($"  frame {f.Frame} {f.Direction} {f.Summary}: {string.Join("; ", f.Differences)} | model path: {string.Join(" > ", f.Trace.Path.Select(e => $"{e.Namespace}/{e.Device}/{e.Function}{(e.Hook is { } h ? $"[{e.Family} {h}]" : "")}"))}");
        Assert.True(j.Agreed >= floor, $"{scenario}: {j.Agreed}/{j.Judged} frames agree, floor {floor}");
    }
}
