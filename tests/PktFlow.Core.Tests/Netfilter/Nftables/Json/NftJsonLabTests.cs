using PktFlow.Netfilter.Nftables;
using PktFlow.Topology.Lab;

namespace PktFlow.Tests.Netfilter.Nftables.Json;

/// <summary>
/// JSON rulesets in lab files, read as nft 1.0.6 reads them (checked in a namespace): `nft -j -f FILE`
/// takes JSON, and text too (nft -j tries JSON first); `nft -f FILE.json` without -j is a syntax error.
/// </summary>
public sealed class NftJsonLabTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pfnj-lab").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text) { var p = Path.Combine(_dir, name); File.WriteAllText(p, text); return p; }
    private static string Fixture(string name) => File.ReadAllText(Path.Combine(NftJsonEquivalenceTests.Fixtures, name));

    [Fact]
    public void NftJFile_LoadsTheJsonIntoTheNamespace()
    {
        Write("ruleset.json", Fixture("features.json"));
        var lab = Write("lab.sh", "ip netns add r\nip netns exec r nft -j -f ruleset.json\n");
        var rs = LabLoader.LoadFile(lab).Namespace("r")!.Nft!;
        Assert.Equal(NftModelSignature.Of(NftRuleset.Parse(Fixture("features.nft"), "features.nft")), NftModelSignature.Of(rs));
    }

    [Fact]
    public void NftJWithText_ReadsTheText()
    {
        var topo = LabLoader.Load("nft -j -f - <<'EOF'\ntable ip t {\n  chain c { type filter hook input priority 0; policy drop; }\n}\nEOF\n", "t.lab");
        Assert.True(topo.Host.Nft!.FindTable(NftFamily.Ip, "t")!.FindChain("c")!.PolicyDrop);
    }

    [Fact]
    public void NftJOnTheCommandLine_TakesAJsonDocument()
    {
        var topo = LabLoader.Load("""nft -j '{"nftables": [{"add": {"table": {"family": "ip", "name": "t"}}}]}'""" + "\n", "c.lab");
        Assert.Equal(1, topo.Host.Nft!.FindTable(NftFamily.Ip, "t")!.Handle);
    }

    [Fact]
    public void NftFWithoutJ_RefusesJsonAsNftDoes()
    {
        // nft 1.0.6: "ruleset.json:1:1-1: Error: syntax error, unexpected '{'"
        Write("ruleset.json", Fixture("features.json"));
        var lab = Write("lab.sh", "nft -f ruleset.json\n");
        var e = Assert.Throws<LabException>(() => LabLoader.LoadFile(lab));
        Assert.EndsWith("ruleset.json", e.File);
        Assert.Contains("syntax error, unexpected '{'", e.Reason);
    }

    [Fact]
    public void AJsonErrorNamesTheFileAndThePath()
    {
        Write("bad.json", """
            {"nftables": [
              {"table": {"family": "ip", "name": "t"}},
              {"chain": {"family": "ip", "table": "t", "name": "c", "type": "filter", "hook": "input", "prio": 0}},
              {"rule": {"family": "ip", "table": "t", "chain": "c", "expr": [{"xt": {"type": "match", "name": "string"}}, {"accept": null}]}}
            ]}
            """);
        var e = Assert.Throws<LabException>(() => LabLoader.LoadFile(Write("lab.sh", "nft -j -f bad.json\n")));
        Assert.EndsWith("bad.json", e.File);
        Assert.Equal("nft -j (namespace host): nftables[2].rule.expr[0].xt: unsupported statement 'xt'", e.Reason);
    }
}
