using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Topology.Lab;

/// <summary>
/// A rule the model cannot evaluate refuses the lab, naming the file, line and expression, whichever way it
/// came (nft text, nft -j, iptables-restore, an iptables command); with AllowUnsupported it loads, is
/// named in the topology's warnings, and a packet that meets it goes on past it with a trace note
/// "unsupported: ...".
/// </summary>
public class AllowUnsupportedTests
{
    private const string Router = Datapath.IpRedirectTests.Lab;

    // the router is lines 1-9: the nft command is line 10, the osf rule line 14
    private const string NftText = Router + """

        nft -f - <<'NFT'
        table inet t {
            chain fw {
                type filter hook forward priority filter; policy accept;
                osf name "Linux" drop
            }
        }
        NFT
        """;

    private const string NftJson = Router + """

        nft -j -f - <<'NFT'
        {"nftables": [{"table": {"family": "inet", "name": "t"}},
          {"chain": {"family": "inet", "table": "t", "name": "fw", "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}},
          {"rule": {"family": "inet", "table": "t", "chain": "fw", "expr": [{"xt": {"type": "target", "name": "MASQUERADE"}}]}}]}
        NFT
        """;

    private const string IptablesRestore = Router + """

        iptables-restore <<'IPT'
        *raw
        :PREROUTING ACCEPT [0:0]
        -A PREROUTING -p tcp --dport 6667 -j CT --helper irc
        COMMIT
        IPT
        """;

    private const string IptablesCommand = Router + """

        iptables -t raw -A PREROUTING -p tcp --dport 6667 -j CT --helper irc
        """;

    public static TheoryData<string, string, int, string> Inputs => new()
    {
        { "nft text", NftText, 14, "osf" },
        { "nft json", NftJson, 11, "unsupported statement 'xt'" },
        { "iptables-restore", IptablesRestore, 13, "CT --helper irc" },
        { "iptables command", IptablesCommand, 10, "CT --helper irc" },
    };

    [Theory]
    [MemberData(nameof(Inputs))]
    public void StrictRefusesNamingFileLineAndExpression(string kind, string lab, int line, string expression)
    {
        var e = Assert.Throws<LabException>(() => LabLoader.Load(lab, "u.lab"));
        Assert.True(e.File == "u.lab", kind);
        Assert.True(e.Line == line, $"{kind}: line {e.Line}, expected {line}: {e.Message}");
        Assert.Contains(expression, e.Message);
        // the default is strict: the same as asking for it
        Assert.Throws<LabException>(() => LabLoader.Load(lab, "u.lab", TopologyLoadOptions.Strict));
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void AllowedTheRuleIsSkippedAndTheTraceSaysUnsupported(string kind, string lab, int line, string expression)
    {
        var topology = LabLoader.Load(lab, "u.lab", new TopologyLoadOptions { AllowUnsupported = true });
        Assert.Contains(topology.Warnings, w => w.StartsWith("unsupported (namespace host, rule ", StringComparison.Ordinal) && w.Contains(expression, StringComparison.Ordinal));
        var rule = Assert.Single(topology.Host.Nft!.AllRules, r => r.Unsupported is not null);
        Assert.Contains(expression, rule.Unsupported);
        Assert.True(rule.Unsupported!.StartsWith(kind == "nft json" ? "u.lab: " : $"u.lab:{line}:", StringComparison.Ordinal), $"{kind}: {rule.Unsupported}");
        // a TCP SYN to 6667 forwarded through the router meets the rule
        var ip = Ipv4("10.1.0.2", "10.2.0.5", 6, Tcp("10.1.0.2", "10.2.0.5", 40000, 6667, 1, 0, TcpFlags.Syn));
        var frame = Ether(MacAddress.Parse("02:00:00:00:01:01"), MacAddress.Parse("02:00:00:00:01:02"), 0x0800, ip);
        var engine = new DatapathEngine(topology);
        var t = engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame), "u.pcap", engine.ResolveInjectionPoint("eth0"));
        Assert.Equal(Fate.Forwarded, t.Fate);
        Assert.Contains(t.Notes, n => n.StartsWith($"unsupported: {rule.Chain} handle {rule.Handle}", StringComparison.Ordinal) && n.Contains(expression, StringComparison.Ordinal));
    }
}
