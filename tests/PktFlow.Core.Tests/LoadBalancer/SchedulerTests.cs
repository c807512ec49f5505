using PktFlow.LoadBalancer;
using PktFlow.Wire;
using Xunit.Abstractions;

namespace PktFlow.Tests.LoadBalancer;

/// <summary>The schedulers on their own: order, balance and stability, measured over many flows.</summary>
public class SchedulerTests(ITestOutputHelper output)
{
    private static readonly IpAddr Vip = IpAddr.Parse("10.100.0.10");

    private static LbVip MakeVip(LbScheduler scheduler, int backends, int[]? weights = null, int tableSize = 65537) => new()
    {
        Address = Vip, Protocol = IpProtocol.Tcp, Port = 80, Scheduler = scheduler, TableSize = tableSize,
        Backends = Enumerable.Range(0, backends).Select(i => new LbBackend
        {
            Name = $"b{i}", Address = IpAddr.V4(0x0A02_0000u + (uint)i + 2), Weight = weights?[i] ?? 1,
        }).ToList(),
    };

    private static LbFlowKey Flow(int i) =>
        new(IpProtocol.Tcp, IpAddr.V4(0xC633_6400u + (uint)(i % 50000)), (ushort)(10000 + i / 50000 * 7 + i % 5000), Vip, 80);

    private static IEnumerable<LbFlowKey> Flows(int n, int seed)
    {
        var r = new Random(seed);
        for (int i = 0; i < n; i++)
            yield return new LbFlowKey(IpProtocol.Tcp, IpAddr.V4((uint)r.Next()), (ushort)r.Next(1024, 65536), Vip, 80);
    }

    [Fact]
    public void RoundRobinTakesTheBackendsInTurnAndSkipsOnesThatAreDown()
    {
        var s = new LbService(MakeVip(LbScheduler.RoundRobin, 3));
        Assert.Equal(new[] { 0, 1, 2, 0, 1, 2, 0 }, Enumerable.Range(0, 7).Select(i => s.Schedule(Flow(i), null, out _)).ToArray());
        s.SetHealth(1, false);
        Assert.Equal(new[] { 2, 0, 2, 0 }, Enumerable.Range(0, 4).Select(i => s.Schedule(Flow(i), null, out _)).ToArray());
        s.SetHealth(0, false); s.SetHealth(2, false);
        Assert.Equal(-1, s.Schedule(Flow(0), null, out var why));
        Assert.Contains("no backend is up", why);
    }

    [Fact]
    public void WeightedLeastConnectionsPicksTheLowestConnectionsPerWeight()
    {
        var s = new LbService(MakeVip(LbScheduler.WeightedLeastConnections, 3, new[] { 1, 2, 1 }));
        // 2/1, 3/2, 2/1: b1 (1.5 per weight) is the least loaded.
        Assert.Equal(1, s.Schedule(Flow(0), new[] { 2, 3, 2 }, out var why));
        Assert.Contains("b1 3/2", why);
        // A tie (1/1 vs 2/2 vs 1/1) goes to the first in order.
        Assert.Equal(0, s.Schedule(Flow(0), new[] { 1, 2, 1 }, out _));
        Assert.Equal(2, s.Schedule(Flow(0), new[] { 1, 2, 0 }, out _));
        // Weight 0 takes nothing new (quiesced), as in IPVS.
        var q = new LbService(MakeVip(LbScheduler.WeightedLeastConnections, 2, new[] { 0, 1 }));
        Assert.Equal(1, q.Schedule(Flow(0), new[] { 0, 100 }, out _));
    }

    [Fact]
    public void WeightedLeastConnectionsOverFlowsSpreadsByWeight()
    {
        // Connections counted from the flow table: with no flow ending, weights 1:2:1 give 1:2:1 shares.
        var svc = new LbService(MakeVip(LbScheduler.WeightedLeastConnections, 3, new[] { 1, 2, 1 }));
        var table = new LbFlowTable(long.MaxValue / 2);
        foreach (var key in Flows(400, 3))
        {
            int b = svc.Schedule(key, table.ActiveConnections(svc, 0), out _);
            table.Add(new LbFlow { Service = svc, Key = key, Backend = b }, null);
        }
        Assert.Equal(new[] { 100, 200, 100 }, table.ActiveConnections(svc, 0));
    }

    [Fact]
    public void SourceHashSendsOneClientAlwaysToTheSameBackend()
    {
        var s = new LbService(MakeVip(LbScheduler.SourceHash, 4));
        var client = IpAddr.Parse("198.51.100.7");
        var first = s.Schedule(new LbFlowKey(IpProtocol.Tcp, client, 1000, Vip, 80), null, out _);
        for (ushort port = 1001; port < 1200; port++)
            Assert.Equal(first, s.Schedule(new LbFlowKey(IpProtocol.Tcp, client, port, Vip, 80), null, out _));
        // Over many clients every backend gets a share near 1/4 (64 buckets each).
        var counts = new int[4];
        foreach (var k in Flows(20000, 5)) counts[s.Schedule(k, null, out _)]++;
        Assert.All(counts, c => Assert.InRange(c, 4000, 6000));
        // A second service with the same backends agrees: the hash has no hidden state.
        var again = new LbService(MakeVip(LbScheduler.SourceHash, 4));
        Assert.Equal(first, again.Schedule(new LbFlowKey(IpProtocol.Tcp, client, 9, Vip, 80), null, out _));
    }

    [Fact]
    public void SourceHashBucketIsIpvsHash32OfTheAddress()
    {
        // hash_32(0x0A000001, 8) = (0x0A000001 * 0x61C88647) >> 24, 0x0A000001 * 0x61C88647 mod 2^32 = 0x27C88647 (0x0A000000 * 0x61C88647 keeps only 0x0A * 0x47 = 0x2C6 in the top byte).
        Assert.Equal(0x27, LbService.SourceHashBucket(IpAddr.Parse("10.0.0.1")));
    }

    [Theory]
    [InlineData(3, 65537)]
    [InlineData(10, 65537)]
    [InlineData(7, 251)]
    public void MaglevFillsTheTableEvenly(int n, int m)
    {
        // Paper section 3.4: the backends take turns, so each holds floor(M/N) or ceil(M/N) slots.
        var table = new MaglevTable(Enumerable.Range(0, n).Select(i => ($"b{i}", 1)).ToList(), m);
        var counts = table.SlotCounts(n);
        Assert.Equal(m, counts.Sum());
        Assert.All(counts, c => Assert.InRange(c, m / n, (m + n - 1) / n));
    }

    [Fact]
    public void MaglevWeightsAreTurnsPerRound()
    {
        var table = new MaglevTable(new List<(string, int)> { ("a", 1), ("b", 3) }, 65537);
        var counts = table.SlotCounts(2);
        Assert.InRange(counts[1] / (double)counts[0], 2.99, 3.01);
    }

    [Fact]
    public void MaglevPermutationComesFromTheTwoHashesOfTheName()
    {
        // offset = h1 mod M, skip = h2 mod (M-1) + 1: with one backend, the first slot it claims is offset,
        // and with M = 7 and a second backend the table is fully determined by both permutations.
        var (h1, h2) = MaglevTable.NameHashes("b0");
        Assert.NotEqual(h1, h2);
        Assert.Equal(MaglevTable.NameHashes("b0"), (h1, h2)); // same on every run
        var single = new MaglevTable(new List<(string, int)> { ("b0", 1) }, 7);
        Assert.All(Enumerable.Range(0, 7), slot => Assert.Equal(0, single.Lookup((ulong)slot)));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(5)]
    public void MaglevMovesCloseToTheIdealShareWhenABackendIsRemoved(int n)
    {
        var names = Enumerable.Range(0, n).Select(i => ($"backend-{i}", 1)).ToList();
        var before = new MaglevTable(names, 65537);
        var removed = n / 2;
        var after = new MaglevTable(names.Where((_, i) => i != removed).ToList(), 65537);
        var flows = Flows(200_000, 7).Select(k => k.Hash()).ToList();
        int moved = 0, lostFlows = 0;
        foreach (var h in flows)
        {
            var was = names[before.Lookup(h)].Item1;
            var now = names.Where((_, i) => i != removed).ElementAt(after.Lookup(h)).Item1;
            if (was != now) moved++;
            if (was == names[removed].Item1) lostFlows++;
        }
        double share = moved / (double)flows.Count, ideal = 1.0 / n;
        output.WriteLine($"N={n}: removing one backend moved {share:P2} of the flows (ideal {ideal:P2}; flows of the removed backend {lostFlows / (double)flows.Count:P2})");
        Assert.InRange(share, ideal * 0.95, ideal * 1.15);
        Assert.InRange(lostFlows / (double)flows.Count, ideal * 0.95, ideal * 1.05); // its table share was even
    }

    [Theory]
    [InlineData(10)]
    [InlineData(5)]
    public void MaglevMovesCloseToTheIdealShareWhenABackendIsAdded(int n)
    {
        var names = Enumerable.Range(0, n).Select(i => ($"backend-{i}", 1)).ToList();
        var grown = names.Append(($"backend-{n}", 1)).ToList();
        var before = new MaglevTable(names, 65537);
        var after = new MaglevTable(grown, 65537);
        var flows = Flows(200_000, 11).Select(k => k.Hash()).ToList();
        int moved = flows.Count(h => names[before.Lookup(h)].Item1 != grown[after.Lookup(h)].Item1);
        double share = moved / (double)flows.Count, ideal = 1.0 / (n + 1);
        output.WriteLine($"N={n}->{n + 1}: adding one backend moved {share:P2} of the flows (ideal {ideal:P2})");
        Assert.InRange(share, ideal * 0.95, ideal * 1.15);
    }

    [Fact]
    public void MaglevSchedulerUsesTheTableOfBackendsThatAreUp()
    {
        var s = new LbService(MakeVip(LbScheduler.Maglev, 4, tableSize: 65537));
        var keys = Flows(2000, 13).ToList();
        var before = keys.Select(k => s.Schedule(k, null, out _)).ToList();
        s.SetHealth(2, false);
        var after = keys.Select(k => s.Schedule(k, null, out _)).ToList();
        Assert.DoesNotContain(2, after);
        // Flows that were not on the down backend mostly stay where they were.
        int stayed = keys.Select((_, i) => i).Count(i => before[i] != 2 && before[i] == after[i]);
        Assert.True(stayed > 0.9 * before.Count(b => b != 2), $"{stayed} stayed");
    }
}
