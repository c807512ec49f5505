using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Netfilter.Iptables;
using PktFlow.Netfilter.Nftables;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// meta priority (skb->priority) as match and statement. Checked on 6.18 in namespaces: a priority set in
/// prerouting is still there in input, ip_forward replaces it by rt_tos2priority(tos) (TOS 0x10: 0:6), a veth
/// crossing clears it, and a local packet starts at none (its socket's priority).
/// </summary>
public class NftMetaPriorityTests
{
    // a router forwarding 10.2.0.0/24 back out of eth0, the LAN of 10.1.0.2
    private const string Lab = Datapath.IpRedirectTests.Lab + """

        nft -f - <<'NFT'
        table inet t {
            chain pre {
                type filter hook prerouting priority filter; policy accept;
                meta priority none meta priority set 1:3
            }
            chain inp {
                type filter hook input priority filter; policy accept;
                meta priority 1:3 log prefix "kept"
            }
            chain fw {
                type filter hook forward priority filter; policy accept;
                meta priority 1:3 drop
                meta priority 0:6 log prefix "tos"
            }
        }
        NFT
        """;

    private static PacketTrace Send(string dst, byte tos, string lab = Lab, bool allowUnsupported = false)
    {
        var ip = Ipv4("10.1.0.2", dst, 1, Icmp(8, 0, 7u << 16 | 1, Bytes(8)), df: false);
        ip[1] = tos;
        ip[10] = ip[11] = 0;
        uint sum = 0;
        for (int i = 0; i < 20; i += 2) sum += (uint)(ip[i] << 8 | ip[i + 1]);
        while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
        ip[10] = (byte)(~sum >> 8); ip[11] = (byte)~sum;
        var frame = Ether(MacAddress.Parse("02:00:00:00:01:01"), MacAddress.Parse("02:00:00:00:01:02"), 0x0800, ip);
        var engine = new DatapathEngine(LabLoader.Load(lab, "p.lab", new TopologyLoadOptions { AllowUnsupported = allowUnsupported }));
        return engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame), "p.pcap", engine.ResolveInjectionPoint("eth0"));
    }

    [Fact]
    public void APrioritySetInPreroutingIsKeptForInput()
    {
        var t = Send("10.1.0.1", 0);
        Assert.Contains(t.Notes, n => n == "meta priority set: none -> 1:3");
        Assert.Contains(t.Notes, n => n.Contains("log prefix \"kept\""));
    }

    [Theory]
    [InlineData(0x10, "priority 1:3 -> 0:6 (rt_tos2priority)", true)]
    [InlineData(0x00, "priority 1:3 -> none (rt_tos2priority)", false)]
    public void IpForwardReplacesItFromTheTos(byte tos, string detail, bool interactive)
    {
        var t = Send("10.2.0.5", tos);
        Assert.Equal(Fate.Forwarded, t.Fate);
        Assert.Contains(t.Path, s => s.Detail?.Contains(detail) == true);
        Assert.Equal(interactive, t.Notes.Any(n => n.Contains("log prefix \"tos\"")));
    }

    [Fact]
    public void SetAndMatchInOneChain()
    {
        var rs = NftRuleset.Parse("table ip t { chain c { type filter hook input priority 0; meta priority set 1:2; meta priority 1:2 meta priority set root; meta priority != root drop; }; }", "c.nft");
        var p = FakeNftPacket.Tcp4("1.1.1.1", "2.2.2.2", 1, 80);
        var r = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, p);
        Assert.Equal("accept", r.Verdict);
        Assert.Equal(0xFFFFFFFFu, p.Priority);
    }

    [Theory]
    [InlineData("meta priority set 1:2:3", "bad classid '1:2:3'")]
    [InlineData("meta priority set meta mark", "unsupported: meta priority set meta (only a constant classid")]
    [InlineData("meta priority 10000:1", "10000:1")]
    public void BadClassidsFailOnLoad(string rule, string message)
    {
        var e = Assert.ThrowsAny<Exception>(() => NftRuleset.Parse($"table ip t {{ chain c {{ {rule}; }}; }}", "c.nft"));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void JsonMangleAndMatch()
    {
        // as nft -j list prints them (nft 1.0.6)
        var json = """
            {"nftables": [{"table": {"family": "inet", "name": "t", "handle": 1}},
             {"chain": {"family": "inet", "table": "t", "name": "fw", "handle": 2, "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}},
             {"rule": {"family": "inet", "table": "t", "chain": "fw", "handle": 7, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "priority"}}, "right": "1:3"}}, {"counter": {"packets": 0, "bytes": 0}}]}},
             {"rule": {"family": "inet", "table": "t", "chain": "fw", "handle": 8, "expr": [{"mangle": {"key": {"meta": {"key": "priority"}}, "value": "none"}}]}}]}
            """;
        var rules = NftRuleset.ParseJson(json, "p.json").FindTable(NftFamily.Inet, "t")!.FindChain("fw")!.Rules;
        Assert.Equal(new[] { "meta priority 1:3 counter packets 0 bytes 0", "meta priority set none" }, rules.Select(r => r.Text));
        Assert.All(rules, r => Assert.Null(r.Unsupported));
    }

    [Fact]
    public void IptablesClassifyInMangle()
    {
        var lab = Lab.Replace("meta priority 0:6 log prefix \"tos\"", "meta priority 1:2 log prefix \"classified\"").Replace("meta priority 1:3 drop", "") + """

            iptables-restore <<'IPT'
            *mangle
            :FORWARD ACCEPT [0:0]
            -A FORWARD -j CLASSIFY --set-class 0001:0002
            COMMIT
            IPT
            """;
        // mangle FORWARD (-150) runs before the nft forward chain (0)
        var t = Send("10.2.0.5", 0, lab);
        Assert.Contains(t.Notes, n => n == "meta priority set: none -> 1:2");
        Assert.Contains(t.Notes, n => n.Contains("log prefix \"classified\""));
        // iptables-restore refuses it elsewhere: so does the load, naming the line; with AllowUnsupported the
        // rule is kept as one the model cannot evaluate, and the trace says so
        var e = Assert.Throws<LabException>(() => Send("10.2.0.5", 0, lab.Replace("*mangle", "*filter")));
        Assert.Contains("CLASSIFY", e.Message);
        Assert.Equal("p.lab", e.File);
        var f = Send("10.2.0.5", 0, lab.Replace("*mangle", "*filter"), allowUnsupported: true);
        Assert.DoesNotContain(f.Notes, n => n == "meta priority set: none -> 1:2");
        Assert.Contains(f.Notes, n => n.StartsWith("unsupported: table ip filter chain FORWARD handle ", StringComparison.Ordinal) && n.Contains("CLASSIFY", StringComparison.Ordinal));
    }
}
