using System.Text.Json;
using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Netfilter.Iptables;
using PktFlow.Netfilter.Nftables;
using PktFlow.Replay;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Socket;

/// <summary>
/// Transparent proxying (nft tproxy, xt_TPROXY) and the socket matches: the socket tproxy finds must
/// have IP_TRANSPARENT, it goes with the packet to tcp/udp receive (or makes ip_forward drop it),
/// and locally sent packets carry their socket's owner (meta skuid/skgid). The recorded scenarios
/// tproxy-redirect and tproxy-iptables hold the kernel's account of the same.
/// </summary>
public class TproxyTests
{
    private const string Lab = """
        ip netns add client
        ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
        ip addr add 10.1.0.1/24 dev eth0
        ip link set eth0 up
        ip link set lo up
        ip -n client addr add 10.1.0.2/24 dev eth0
        ip -n client link set eth0 up
        ip route add 198.51.100.0/24 via 10.1.0.2
        sysctl -w net.ipv4.ip_forward=1
        POLICY
        nft -f - <<'NFT'
        table ip tp {
            chain prerouting {
                type filter hook prerouting priority mangle; policy accept;
                tcp dport 8080 socket wildcard 1 meta mark set 0x00000002 accept
                tcp dport 80 tproxy to :8080 meta mark set 0x00000001 accept
                tcp dport 81 tproxy to :8081 meta mark set 0x00000001 accept
            }
        }
        NFT
        socat TCP-LISTEN:8080,ip-transparent,fork SYSTEM:true &
        socat TCP-LISTEN:8081,fork SYSTEM:true &
        """;

    private const string PolicyRouting = "ip rule add fwmark 1 lookup 100\nip route add local 0.0.0.0/0 dev lo table 100";

    static readonly MacAddress Host = MacAddress.Parse("02:00:00:00:01:01"), Client = MacAddress.Parse("02:00:00:00:01:02");
    static readonly IpAddr C = IpAddr.Parse("10.1.0.2"), Remote = IpAddr.Parse("198.51.100.10"), H = IpAddr.Parse("10.1.0.1");

    static PacketTrace Syn(DatapathEngine engine, IpAddr dst, ushort dport, long number = 1, byte flags = 0x02)
    {
        var frame = FrameBuilder.Ethernet(Host, Client, EtherTypes.Ipv4, FrameBuilder.Ipv4(C, dst, IpProtocol.Tcp, FrameBuilder.Tcp(C, dst, 40001, dport, flags)));
        return engine.Process(new CaptureFrame(number, number * 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame),
            "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }

    static string Show(PacketTrace t) => string.Join("\n", t.Path) + $"\n=> {t.Fate} {t.Reason}\n" + string.Join("\n", t.Notes);

    [Fact]
    public void ATransparentListenerTakesAConnectionToAnyAddress_ThroughPolicyRouting()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab.Replace("POLICY", PolicyRouting), "t.lab"));
        var t = Syn(engine, Remote, 80);
        Assert.True(t.Fate == Fate.Delivered, Show(t));
        Assert.Contains(t.Path, e => e.Stage == "TcpV4Rcv" && e.Detail!.Contains("the socket tproxy assigned") && e.Detail.Contains("transparent"));
        // the handshake's ACK finds the request socket tproxy's listener made (no second tproxy lookup needed)
        var ack = Syn(engine, Remote, 80, 2, 0x10);
        Assert.True(ack.Fate == Fate.Delivered, Show(ack));
    }

    [Fact]
    public void Ipv6_TproxyIp6ToAPort_DeliversToTheTransparentListener()
    {
        const string lab6 = """
            ip netns add client
            ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
            ip -6 addr add 2001:db8:1::1/64 dev eth0 nodad
            ip link set eth0 up
            ip link set lo up
            ip -n client -6 addr add 2001:db8:1::2/64 dev eth0 nodad
            ip -n client link set eth0 up
            ip -6 rule add fwmark 1 lookup 100
            ip -6 route add local ::/0 dev lo table 100
            nft -f - <<'NFT'
            table inet tp {
                chain prerouting {
                    type filter hook prerouting priority mangle; policy accept;
                    tcp dport 80 tproxy ip6 to :8080 meta mark set 0x00000001 accept
                }
            }
            NFT
            socat TCP6-LISTEN:8080,ip-transparent,fork SYSTEM:true &
            """;
        var engine = new DatapathEngine(LabLoader.Load(lab6, "t6.lab"));
        IpAddr c6 = IpAddr.Parse("2001:db8:1::2"), remote6 = IpAddr.Parse("2001:db8:99::10");
        var frame = FrameBuilder.Ethernet(Host, Client, EtherTypes.Ipv6, FrameBuilder.Ipv6(c6, remote6, IpProtocol.Tcp, FrameBuilder.Tcp(c6, remote6, 40001, 80)));
        var t = engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame), "t.pcap", engine.ResolveInjectionPoint("eth0"));
        Assert.True(t.Fate == Fate.Delivered, Show(t));
        Assert.Contains(t.Path, e => e.Stage == "TcpV6Rcv" && e.Detail!.Contains("the socket tproxy assigned"));
    }

    [Fact]
    public void APacketTproxyGaveASocketIsNotForwarded()
    {
        // no fwmark rule: the route forwards it, and ip_forward drops a packet that has a socket
        var engine = new DatapathEngine(LabLoader.Load(Lab.Replace("POLICY", ""), "t.lab"));
        var t = Syn(engine, Remote, 80);
        Assert.True(t.Fate == Fate.Dropped && t.Reason == "NOT_SPECIFIED", Show(t));
        Assert.Contains(t.Path, e => e.Stage == "IpForward" && e.Detail!.Contains("tproxy assigned"));
    }

    [Fact]
    public void AListenerWithoutIpTransparent_LeavesTheRuleUnmatched()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab.Replace("POLICY", PolicyRouting), "t.lab"));
        var t = Syn(engine, Remote, 81);
        // nft_tproxy: NFT_BREAK, no mark; the packet is routed as it is (forwarded to the client, who drops it)
        Assert.DoesNotContain(t.Path, e => e.Rule is { } r && r.Contains("dport 81"));
        Assert.True(t.Path.Any(e => e.Namespace == "host" && e.Stage == "IpForward" && e.Verdict == Verdict.Pass), Show(t));
    }

    [Fact]
    public void TheSocketMatchFindsAWildcardListener()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab.Replace("POLICY", PolicyRouting), "t.lab"));
        var t = Syn(engine, H, 8080);
        Assert.Contains(t.Path, e => e.Rule is { } r && r.Contains("socket wildcard 1"));
        Assert.True(t.Fate == Fate.Delivered, Show(t));
    }

    [Theory]
    [InlineData("table ip t { chain c { type filter hook input priority 0; tcp dport 80 tproxy to :8080; }; }", "only valid in prerouting")]
    [InlineData("table ip t { chain c { type filter hook prerouting priority 0; tproxy to :8080; }; }", "requires transport protocol match")]
    [InlineData("table inet t { chain c { type filter hook prerouting priority 0; tcp dport 80 tproxy ip to [2001:db8::1]:80; }; }", "Conflicting network layer protocols")]
    [InlineData("table ip t { chain c { type filter hook prerouting priority 0; tcp dport 80 tproxy ip6 to :80; }; }", "Conflicting network layer protocols")]
    [InlineData("table ip t { chain c { type filter hook prerouting priority 0; socket cgroupv2 level 1 \"x\"; }; }", "unsupported: socket cgroupv2")]
    public void RulesNftRefuses_AreRefusedOnLoad(string ruleset, string message)
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse(ruleset, "t.nft"));
        Assert.Contains(message, e.Message);
    }

    // nft 1.0.6 takes tproxy's transport context as it takes a NAT port's: a set of protocols and ct
    // protocol give one, != does not (checked with nft -c)
    [Theory]
    [InlineData("meta l4proto { tcp, udp } tproxy to :8080", true)]
    [InlineData("ct protocol tcp tproxy to :8080", true)]
    [InlineData("meta l4proto != tcp tproxy to :8080", false)]
    public void TproxyNeedsTheTransportContextNftKeeps(string rule, bool loads)
    {
        var text = $"table ip t {{ chain c {{ type filter hook prerouting priority 0; {rule}; }}; }}";
        if (loads) NftRuleset.Parse(text, "t.nft");
        else Assert.Contains("requires transport protocol match", Assert.Throws<NftParseException>(() => NftRuleset.Parse(text, "t.nft")).Message);
    }

    [Fact]
    public void TheLabGivesListenersTheirOwnerAndIpTransparent()
    {
        var topo = LabLoader.Load("setpriv --reuid=1000 --regid 2000 --clear-groups socat TCP-LISTEN:9000,fork SYSTEM:true &\nsocat -u UDP-RECV:5353,ip-transparent /dev/null &\n", "t.lab");
        var sockets = topo.Namespaces[0].Sockets!;
        Assert.Contains(sockets, s => s.Port == 9000 && s.Uid == 1000 && s.Gid == 2000 && !s.Transparent);
        Assert.Contains(sockets, s => s.Port == 5353 && s.Protocol == SocketProtocol.Udp && s.Transparent && s.Uid == 0);
        var e = Assert.Throws<LabException>(() => LabLoader.Load("runuser -u alice -- socat TCP-LISTEN:1,fork SYSTEM:true &\n", "t.lab"));
        Assert.Contains("user names are not resolved", e.Message);
    }

    [Fact]
    public void AnOwnerTheLabDoesNotGive_IsSaidToBeUnknown()
    {
        // the host's own connection from a client socket: the capture shows it, the lab does not say who opened it
        var lab = Lab.Replace("POLICY", "") + "\nnft add table ip o\nnft add chain ip o out '{ type filter hook output priority 0; }'\nnft add rule ip o out meta skuid 0 counter\n";
        var engine = new DatapathEngine(LabLoader.Load(lab, "t.lab"));
        var frame = FrameBuilder.Ethernet(Client, Host, EtherTypes.Ipv4, FrameBuilder.Ipv4(H, C, IpProtocol.Tcp, FrameBuilder.Tcp(H, C, 45000, 22)));
        var t = engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame), "t.pcap", engine.ResolveInjectionPoint("eth0"));
        Assert.Contains(t.Notes, n => n.StartsWith("unsupported: meta skuid", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("-A PREROUTING -j TPROXY --on-port 8080", "only with -p tcp or -p udp")]
    [InlineData("-A PREROUTING -p tcp -m owner --uid-owner alice", "names are not resolved")]
    [InlineData("-A PREROUTING -p tcp -m socket --bogus", "unknown option '--bogus' for match 'socket'")]
    public void IptablesRulesThatCannotLoad_SayWhy(string rule, string message)
    {
        var text = $"*mangle\n:PREROUTING ACCEPT [0:0]\n{rule}\nCOMMIT\n";
        var e = Assert.Throws<IptablesParseException>(() => IptablesRestore.Load(text, "rules.v4", false));
        Assert.Contains(message, e.Message);
        var filter = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -j TPROXY --on-port 1\nCOMMIT\n";
        Assert.Contains("only valid in table mangle", Assert.Throws<IptablesParseException>(() => IptablesRestore.Load(filter, "rules.v4", false)).Message);
    }

    /// <summary>
    /// The judge compares deciding rules; the counting rules of the output chains (socket owner,
    /// socket mark and priority) only count (`continue`). Each one's counter must equal the number of
    /// packets the kernel's trace shows it matching.
    /// </summary>
    [Theory]
    [InlineData("tproxy-redirect", "host/eth0", "skuid,skgid")]
    [InlineData("tproxy-iptables", "host/eth0", "skuid,skgid")]
    [InlineData("socket-mark", "host/any", "meta mark,meta priority")]
    public void OutputCountersCountWhatTheKernelMatched(string scenario, string wire, string words)
    {
        var dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", scenario);
        bool Counted(string rule) => words.Split(',').Any(rule.Contains);
        var kernel = new Dictionary<string, long>();
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "kernel.json"))))
            foreach (var f in doc.RootElement.GetProperty("frames").EnumerateArray())
                foreach (var v in f.TryGetProperty("path", out var p) ? p.EnumerateArray() : default)
                    foreach (var c in v.GetProperty("chains").EnumerateArray())
                        foreach (var e in c.TryGetProperty("trail", out var tr) ? tr.EnumerateArray() : default)
                            if (e.TryGetProperty("text", out var text) && text.GetString() is { } s && Counted(s))
                                kernel[s.Replace(" counter", "")] = kernel.GetValueOrDefault(s.Replace(" counter", "")) + 1;
        Assert.NotEmpty(kernel);
        var runner = new ReplayRunner(new ReplayOptions { Topology = LabLoader.LoadFile(Path.Combine(dir, "lab.sh")), InjectAt = wire });
        _ = runner.Run(Path.Combine(dir, "wire.pcap")).ToList();
        var model = Assert.Single(runner.States).Counters("host").Where(c => c.Kind == "Rule" && Counted(c.Rule!)).ToList();
        foreach (var (rule, packets) in kernel)
        {
            var counter = model.SingleOrDefault(c => c.Rule!.StartsWith(rule + " counter", StringComparison.Ordinal));
            Assert.True(counter is not null, $"no counter '{rule}' among {string.Join("; ", model.Select(c => c.Rule))}");
            Assert.Equal((rule, packets), (rule, counter.Packets));
        }
    }
}
