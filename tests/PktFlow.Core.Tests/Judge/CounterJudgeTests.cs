using PktFlow.Judge;
using PktFlow.Netfilter;
using Xunit;

namespace PktFlow.Tests.Judge;

/// <summary>How the judge reads kernel.json's counters and compares them with the model's (<see cref="CounterJudge"/>).</summary>
public class CounterJudgeTests
{
    private const string Json = """
        {"scenario": "s", "wire": {"ns": "host", "dev": "eth0"}, "frames": [],
         "namespaces": {
           "host": {"devices": {"lo": {}, "eth0": {}}, "counters": [
             {"family": "inet", "table": "t", "kind": "rule", "chain": "in", "handle": 5, "packets": 3, "bytes": 252},
             {"family": "inet", "table": "t", "kind": "counter", "name": "c1", "packets": 1, "bytes": 84},
             {"family": "inet", "table": "t", "kind": "quota", "chain": "in", "handle": 6, "bytes": 200},
             {"family": "inet", "table": "t", "kind": "element", "set": "s", "element": "10.1.0.2", "packets": 2, "bytes": 168},
             {"family": "ip", "table": "other", "kind": "rule", "chain": "out", "handle": 2, "packets": 7, "bytes": 700}]},
           "client": {"devices": {"lo": {}, "eth0": {}}},
           "router": {"devices": {"lo": {}, "eth0": {}, "eth1": {}}}}}
        """;

    private static KernelRecord Load(string json)
    {
        var path = Path.GetTempFileName();
        try { File.WriteAllText(path, json); return KernelRecord.Load(path); }
        finally { File.Delete(path); }
    }

    private static NetfilterCounter Rule(string table, string chain, int handle, long packets, long bytes, string family = "inet") =>
        new() { Namespace = "host", Family = family, Table = table, Chain = chain, Kind = "Rule", Handle = handle, Packets = packets, Bytes = bytes, Rule = "counter" };

    private static readonly NetfilterCounter[] Model =
    [
        Rule("t", "in", 5, 3, 252),
        new() { Namespace = "host", Family = "inet", Table = "t", Kind = "Counter", Handle = 2, Name = "c1", Packets = 1, Bytes = 84 },
        new() { Namespace = "host", Family = "inet", Table = "t", Chain = "in", Kind = "Quota", Handle = 6, Bytes = 200, Quota = 1000 },
        new() { Namespace = "host", Family = "inet", Table = "t", Chain = "in", Kind = "Policy", Name = "accept", Packets = 9, Bytes = 900 },
    ];

    private static readonly NetfilterSetElement[] Elements =
        [new() { Namespace = "host", Family = "inet", Table = "t", Set = "s", Element = "10.1.0.2", Packets = 2, Bytes = 168 }];

    private static readonly HashSet<CounterJudge.TableKey> ReachedT = [new("host", "inet", "t")];

    [Fact]
    public void TheRecordKeepsEveryKindOfCounterPerNamespace()
    {
        var r = Load(Json);
        Assert.Equal(5, r.Counters.Count);
        Assert.Equal(["host"], r.CountersListed);
        var rule = r.Counters[0];
        Assert.Equal(("rule", "in", 5, 3L, 252L), (rule.Kind, rule.Chain!, rule.Handle!.Value, rule.Packets!.Value, rule.Bytes));
        Assert.Null(r.Counters[2].Packets); // a quota counts bytes only
        Assert.Equal("10.1.0.2", r.Counters[3].Element);
        Assert.Equal(["lo", "eth0"], r.Devices["host"]);
    }

    [Fact]
    public void AnOlderRecordHasNoCountersAndJudgesNone()
    {
        var r = Load("""{"scenario": "s", "wire": "host/eth0", "frames": [], "namespaces": {"host": {"conntrack": []}}}""");
        Assert.Empty(r.Counters);
        var j = CounterJudge.Compare(r.Counters, r.CountersListed.Intersect(r.CoveredByCapture()).ToHashSet(), Model, Elements, ReachedT);
        Assert.Equal(default, j.Counters);
    }

    [Fact]
    public void OnlyTheCaptureNamespaceWithNoOtherDeviceIsCovered()
    {
        Assert.Equal(["host"], Load(Json).CoveredByCapture());
        Assert.Empty(Load(Json.Replace("\"wire\": {\"ns\": \"host\"", "\"wire\": {\"ns\": \"router\"")).CoveredByCapture());
        Assert.Equal(["router"], Load(Json.Replace("\"wire\": {\"ns\": \"host\", \"dev\": \"eth0\"", "\"wire\": {\"ns\": \"router\", \"dev\": \"any\"")).CoveredByCapture());
    }

    [Fact]
    public void CountersThatAgreeAreCountedAndATableNoCapturedFrameReachedIsNotJudged()
    {
        var r = Load(Json);
        var j = CounterJudge.Compare(r.Counters, r.CoveredByCapture(), Model, Elements, ReachedT);
        Assert.Equal(new TableFigure(4, 4, 1), j.Counters);
        Assert.Empty(j.Differences);
        Assert.Contains("ip other out rule #2", Assert.Single(j.NotJudged));
    }

    [Fact]
    public void ADifferentByteCountIsOneDisagreementNamingTheRule()
    {
        var r = Load(Json);
        var model = Model.Select(c => c.Kind == "Rule" ? c with { Bytes = 210 } : c).ToList();
        var j = CounterJudge.Compare(r.Counters, r.CoveredByCapture(), model, Elements, ReachedT);
        Assert.Equal(new TableFigure(3, 4, 1), j.Counters);
        var d = Assert.Single(j.Differences);
        Assert.Contains("in rule #5: kernel packets 3 bytes 252, model packets 3 bytes 210 (counter)", d);
    }

    [Fact]
    public void WhatTheRulesetSetBeforeThePacketsIsNotCountedAsTraffic()
    {
        var r = Load(Json);
        var model = Model.Select(c => c.Kind == "Rule" ? c with { Packets = 13, Bytes = 1252, InitialPackets = 10, InitialBytes = 1000 } : c).ToList();
        Assert.Equal(4, CounterJudge.Compare(r.Counters, r.CoveredByCapture(), model, Elements, ReachedT).Counters.Agreed);
    }

    [Fact]
    public void ACounterOnlyOneSideHasDisagrees()
    {
        var r = Load(Json);
        var model = Model.Append(Rule("t", "in", 9, 0, 0)).Where(c => c.Kind != "Counter").ToList();
        var j = CounterJudge.Compare(r.Counters, r.CoveredByCapture(), model, [], ReachedT);
        Assert.Equal(new TableFigure(2, 5, 1), j.Counters);
        Assert.Contains(j.Differences, d => d.Contains("counter c1: kernel packets 1 bytes 84, not in the model"));
        Assert.Contains(j.Differences, d => d.Contains("set s element 10.1.0.2") && d.Contains("not in the model"));
        Assert.Contains(j.Differences, d => d.Contains("#9") && d.Contains("only in the model"));
    }

    [Fact]
    public void ATableIsReachedByTheKernelsTraceOfACapturedFrameOrByTheModel()
    {
        var frame = new KernelFrame(1, "in", "", true, [], [new KernelHop("host", "eth0", [new KernelChainRun("ip", "other", "out", "accept", null, null, null)], null, null)]);
        var reached = CounterJudge.Reached([frame], []);
        Assert.Equal([new CounterJudge.TableKey("host", "ip", "other")], reached);
    }
}
