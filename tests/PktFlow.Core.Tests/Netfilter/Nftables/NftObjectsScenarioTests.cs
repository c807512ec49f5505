using PktFlow.Judge;
using PktFlow.Replay;
using PktFlow.Testing;
using PktFlow.Topology.Lab;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// tests/scenarios/nft-objects replayed: every frame as the kernel decided it, and the named objects and the
/// maps the packets filled as `nft list ruleset` showed them after the same lab and traffic on 6.18 (run again
/// in namespaces: counter from_client packets 19 bytes 1848, from_other packets 2 bytes 76, quota qa 256 bytes
/// used 256 bytes, qover over 300 bytes used 300 bytes; pmark { 10.1.0.2 . 40004 : 0x7, 10.1.0.2 . 40014 : 0x9 },
/// peer { 10.1.0.2 : 10.1.0.1 }).
/// </summary>
public class NftObjectsScenarioTests
{
    private static string Scenario => Path.Combine(RepoPaths.Root, "tests", "scenarios", "nft-objects");

    [Fact]
    public void EveryFrameAgreesWithTheKernel()
    {
        var j = ScenarioJudge.Judge(Scenario);
        Assert.Equal(39, j.Judged);
        Assert.Equal(j.Judged, j.Agreed);
    }

    [Fact]
    public void ObjectsAndMaps_AfterTheReplay_AsNftListedThem()
    {
        var runner = new ReplayRunner(new ReplayOptions { Topology = LabLoader.LoadFile(Path.Combine(Scenario, "lab.sh")), InjectAt = "host/eth0" });
        _ = runner.Run(Path.Combine(Scenario, "wire.pcap")).ToList();
        var state = Assert.Single(runner.States);
        var objects = state.Counters("host").Where(c => c.Kind is "Counter" or "Quota").Select(c => $"{c.Kind} {c.Name} {c.Packets} {c.Bytes}");
        Assert.Equal(new[] { "Counter from_client 19 1848", "Counter from_other 2 76", "Quota qa 0 256", "Quota qover 0 300" }, objects);
        var elements = state.SetElements("host").Where(e => e.Set is "pmark" or "peer").Select(e => $"{e.Set} {e.Element} : {e.Data}");
        Assert.Equal(new[] { "pmark 10.1.0.2 . 40004 : 0x00000007", "pmark 10.1.0.2 . 40014 : 0x00000009", "peer 10.1.0.2 : 10.1.0.1" }, elements);
    }
}
