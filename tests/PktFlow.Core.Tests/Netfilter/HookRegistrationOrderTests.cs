using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter;

/// <summary>
/// Base chains of equal priority run in the reverse order of their hooks' registration
/// (nf_hook_entries_grow puts a new hook before the existing ones of its priority), and a namespace's
/// nft and iptables-nft commands register them in the order the lab ran them. Measured on 6.18 with
/// iptables 1.8.9 (nf_tables) and nft 1.0.6: an ip filter INPUT chain and an inet chain at input 0,
/// both dropping an echo request, in namespaces of their own; the counters told which ran first.
/// </summary>
public class HookRegistrationOrderTests
{
    private const string NftInput = "nft 'add table inet t; add chain inet t c { type filter hook input priority 0; policy accept; }; add rule inet t c icmp type echo-request accept'";
    private const string IptInput = "iptables -A INPUT -p icmp -j ACCEPT";

    private static readonly IpAddr Client = IpAddr.Parse("10.0.1.2"), Router = IpAddr.Parse("10.0.1.1");

    private static DatapathEngine Engine(params string[] commands) => new(LabLoader.Load($"""
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 10.0.1.1/24 dev eth0
        ip neigh add 10.0.1.2 lladdr 02:00:00:00:01:02 dev eth0
        {string.Join("\n", commands)}
        """, "r.lab"));

    private static PacketTrace Send(DatapathEngine engine, int n, byte proto, byte[] l4)
    {
        var bytes = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:01:01"), MacAddress.Parse("02:00:00:00:01:02"), EtherTypes.Ipv4,
            FrameBuilder.Ipv4(Client, Router, proto, l4, ttl: 64));
        return engine.Process(new CaptureFrame(n, n * 1_000_000L, LinkType.Ethernet, 0, null, bytes.Length, bytes.Length, 24, bytes), "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }

    /// <summary>The base chains that ran at input, first to last, as table/chain.</summary>
    private static string[] InputOrder(params string[] commands)
    {
        var t = Send(Engine(commands), 1, IpProtocol.Icmp, FrameBuilder.IcmpEcho(1, 1));
        return t.Path.Where(e => e.Hook == NfHook.LocalIn && e.Chain is not null).Select(e => $"{e.Table}/{e.Chain}").Distinct().ToArray();
    }

    [Fact]
    public void AnIptablesChainAddedAfterAnNftChainOfItsPriorityRunsFirst() =>
        Assert.Equal(["filter/INPUT", "t/c"], InputOrder(NftInput, IptInput));

    [Fact]
    public void AnIptablesChainAddedBeforeAnNftChainOfItsPriorityRunsAfterIt() =>
        Assert.Equal(["t/c", "filter/INPUT"], InputOrder(IptInput, NftInput));

    [Fact]
    public void IptablesRegistersABuiltInChainWhenACommandFirstNamesItNotWithItsTable() =>
        // FORWARD made the table; INPUT came after the nft chain
        Assert.Equal(["filter/INPUT", "t/c"], InputOrder("iptables -A FORWARD -j ACCEPT", NftInput, IptInput));

    [Fact]
    public void APolicyAloneRegistersTheChain() =>
        Assert.Equal(["t/c", "filter/INPUT"], InputOrder("iptables -P INPUT ACCEPT", NftInput, IptInput));

    [Fact]
    public void IptablesRestoreWithoutNoflushAddsTheTableAgain() =>
        Assert.Equal(["filter/INPUT", "t/c"], InputOrder(IptInput, NftInput, "iptables-restore <<'IPT'\n*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p icmp -j ACCEPT\nCOMMIT\nIPT"));

    [Fact]
    public void IptablesRestoreNoflushKeepsTheChainsWhereTheyWere() =>
        Assert.Equal(["t/c", "filter/INPUT"], InputOrder(IptInput, NftInput, "iptables-restore --noflush <<'IPT'\n*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -j ACCEPT\nCOMMIT\nIPT"));

    [Fact]
    public void IptablesRestoreOfANewTableRegistersItsChainsThen() =>
        Assert.Equal(["filter/INPUT", "t/c"], InputOrder(NftInput, "iptables-restore <<'IPT'\n*filter\n-A INPUT -p icmp -j ACCEPT\nCOMMIT\nIPT"));

    [Fact]
    public void AnNftChainDeletedAndAddedAgainGoesAfterEverythingRegisteredMeanwhile() =>
        Assert.Equal(["t/c", "filter/INPUT"], InputOrder(NftInput, IptInput,
            "nft flush chain inet t c", "nft delete chain inet t c",
            "nft 'add chain inet t c { type filter hook input priority 0; policy accept; }; add rule inet t c icmp type echo-request accept'"));

    [Fact]
    public void AnNftTableDeletedAndAddedAgainGoesAfterEverythingRegisteredMeanwhile() =>
        Assert.Equal(["t/c", "filter/INPUT"], InputOrder(NftInput, IptInput, "nft delete table inet t", NftInput));

    [Fact]
    public void DeclaringAnExistingBaseChainAgainLeavesItsHookWhereItWas() =>
        Assert.Equal(["filter/INPUT", "t/c"], InputOrder(NftInput, IptInput, "nft 'add chain inet t c { type filter hook input priority 0; policy accept; }'"));

    [Fact]
    public void IptablesDashXWithoutAChainDeletesEmptyAcceptingBuiltInChains()
    {
        // -X took the empty INPUT (policy ACCEPT) away: -A registered it anew, after the nft chain
        Assert.Equal(["filter/INPUT", "t/c"], InputOrder("iptables -P INPUT ACCEPT", NftInput, "iptables -X", IptInput));
        // with policy DROP, or with rules, a built-in chain stays
        Assert.Equal(["t/c", "filter/INPUT"], InputOrder("iptables -P INPUT DROP", NftInput, "iptables -X", "iptables -P INPUT ACCEPT", IptInput));
    }

    [Fact]
    public void AnNftChainWithRulesCannotBeDeleted()
    {
        var e = Assert.ThrowsAny<Exception>(() => Engine(NftInput, "nft delete chain inet t c"));
        Assert.Contains("Device or resource busy", e.Message);
    }

    [Theory]
    [InlineData(true, 2121)]   // iptables nat first: the nat core is older than the nft chain at -100, which runs first and sees 2121
    [InlineData(false, 21)]    // the nft chain first: the nat core, registered later, translates before it
    public void TheNatCoreRegisteredWithAnIptablesNatTableTakesItsPlaceAmongNftChains(bool iptablesFirst, int seen)
    {
        const string nat = "iptables -t nat -A PREROUTING -p tcp --dport 2121 -j DNAT --to-destination 10.0.1.1:21";
        const string nft = "nft 'add table ip f; add chain ip f p { type filter hook prerouting priority -100; }; add rule ip f p tcp dport 2121 accept; add rule ip f p tcp dport 21 accept'";
        var engine = Engine(iptablesFirst ? [nat, nft] : [nft, nat]);
        var t = Send(engine, 1, IpProtocol.Tcp, FrameBuilder.Tcp(Client, Router, 40000, 2121, 0x02));
        Assert.Equal($"tcp dport {seen} accept", t.Path.Single(e => e.Hook == NfHook.PreRouting && e.Chain == "p").Rule);
    }
}
