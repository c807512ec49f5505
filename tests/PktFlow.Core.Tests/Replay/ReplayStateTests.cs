using PktFlow.Datapath;
using PktFlow.Replay;
using PktFlow.Testing;
using PktFlow.Topology.Lab;

namespace PktFlow.Tests.Replay;

/// <summary>What a replay leaves behind belongs to that replay: one topology replayed twice gives the same state twice.</summary>
public class ReplayStateTests
{
    private static string Scenario => Path.Combine(RepoPaths.Root, "tests", "scenarios", "nft-limit-quota-sets");

    private static (List<PacketTrace> Traces, ReplayState State) Replay(PktFlow.Topology.HostTopology topo, int seed = DatapathEngine.DefaultSeed, RandomOutcomes outcomes = RandomOutcomes.Seeded)
    {
        var runner = new ReplayRunner(new ReplayOptions { Topology = topo, InjectAt = "host/eth0", Seed = seed, Outcomes = outcomes });
        var traces = runner.Run(Path.Combine(Scenario, "wire.pcap")).OfType<TraceEvent>().Select(e => e.Trace).ToList();
        return (traces, Assert.Single(runner.States));
    }

    [Fact]
    public void TwoReplaysOfOneTopology_ShareNoState()
    {
        var topo = LabLoader.LoadFile(Path.Combine(Scenario, "lab.sh"));
        var (t1, s1) = Replay(topo);
        var (t2, s2) = Replay(topo);
        Assert.Equal(t1.Select(t => $"{t.Fate} {t.Reason}"), t2.Select(t => $"{t.Fate} {t.Reason}"));
        var c1 = s1.Counters("host").ToList();
        Assert.Equal(c1, s2.Counters("host").ToList());
        Assert.Equal(1, c1.Single(c => c.Name == "pings").Packets); // not 2: the second replay started afresh
        Assert.Contains(c1, c => c.Kind == "Rule" && c.Rule!.Contains("limit rate 2/second") && c.Packets == 2);
    }

    [Fact]
    public void RandomRulesFollowTheSeed_AndEveryOutcomeSumsToOne()
    {
        var lab = File.ReadAllText(Path.Combine(Scenario, "lab.sh"))
            .Replace("udp dport 5001 limit rate 2/second burst 3 packets accept", "udp dport 5001 numgen random mod 3 0 accept");
        var topo = LabLoader.Load(lab, "random.lab");
        string Fates(int seed) => string.Join(",", Replay(topo, seed).Traces.Where(t => t.Summary.Contains(".5001:")).Select(t => t.Fate));
        Assert.Equal(Fates(3), Fates(3));
        Assert.True(Enumerable.Range(1, 5).Select(Fates).Distinct().Count() > 1);
        var (traces, _) = Replay(topo, 3, RandomOutcomes.All);
        var met = traces.Where(t => t.Summary.Contains(".5001:")).ToList();
        Assert.NotEmpty(met);
        foreach (var t in met)
        {
            Assert.Equal(3, t.Outcomes.Count);
            Assert.Equal(1.0, t.Outcomes.Sum(o => o.Probability), 12);
            var taken = Assert.Single(t.Outcomes, o => o.Taken);
            Assert.StartsWith(t.Fate.ToString(), taken.Fate);
            Assert.Contains(t.Notes, n => n.StartsWith("random (seed 3): rule", StringComparison.Ordinal));
        }
        // the enumeration does not disturb the replay: the same fates as without it
        Assert.Equal(Fates(3), string.Join(",", met.Select(t => t.Fate)));
    }
}
