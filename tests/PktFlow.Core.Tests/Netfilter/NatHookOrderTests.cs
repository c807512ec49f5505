using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter;

/// <summary>
/// Where NAT happens among a hook's base chains, as measured on Linux 6.18 (three namespaces, a router
/// DNATing 2121 to 10.0.2.2:21 and SNATing to 10.0.2.1, chains counting both forms of each field): the
/// nat core sits at NF_IP_PRI_NAT_DST -100 (prerouting) and NF_IP_PRI_NAT_SRC 100 (postrouting) whatever
/// priority the nat chains declare (here 50 and srcnat-10); chains before it see the untranslated packet
/// and chains after it the translated one, on the first packet and on later ones alike. A chain at the
/// same priority runs before the nat core when it was registered after it (after the first nat chain),
/// after it when registered before.
/// </summary>
public class NatHookOrderTests
{
    private const string Rules = """
        table inet t {
            chain ptie { type filter hook prerouting priority -100; tcp dport 2121 accept; tcp dport 21 accept; ip daddr 10.0.2.1 accept; ip daddr 10.0.1.2 accept; }
            chain pm { type filter hook prerouting priority -150; tcp dport 2121 accept; tcp dport 21 accept; ip daddr 10.0.2.1 accept; ip daddr 10.0.1.2 accept; }
            chain p0 { type filter hook prerouting priority 0; tcp dport 2121 accept; tcp dport 21 accept; ip daddr 10.0.2.1 accept; ip daddr 10.0.1.2 accept; }
            chain n50 { type nat hook prerouting priority 50; tcp dport 2121 dnat ip to 10.0.2.2:21; }
            chain ptie2 { type filter hook prerouting priority -100; tcp dport 2121 accept; tcp dport 21 accept; }
            chain qm { type filter hook postrouting priority -150; ip saddr 10.0.1.2 accept; ip saddr 10.0.2.1 accept; tcp sport 21 accept; tcp sport 2121 accept; }
            chain n0 { type nat hook postrouting priority srcnat - 10; oifname "eth1" snat ip to 10.0.2.1; }
            chain qtie { type filter hook postrouting priority 100; ip saddr 10.0.1.2 accept; ip saddr 10.0.2.1 accept; }
            chain q50 { type filter hook postrouting priority 50; ip saddr 10.0.1.2 accept; ip saddr 10.0.2.1 accept; tcp sport 21 accept; tcp sport 2121 accept; }
            chain q150 { type filter hook postrouting priority 150; ip saddr 10.0.1.2 accept; ip saddr 10.0.2.1 accept; tcp sport 21 accept; tcp sport 2121 accept; }
        }
        """;

    private static string Lab(string rules) => $"""
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 10.0.1.1/24 dev eth0
        ip neigh add 10.0.1.2 lladdr 02:00:00:00:01:02 dev eth0
        ip netns add s
        ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns s
        ip addr add 10.0.2.1/24 dev eth1
        ip link set eth1 up
        ip -n s addr add 10.0.2.2/24 dev eth0
        ip -n s link set eth0 up
        ip -n s route add default via 10.0.2.1
        sysctl -w net.ipv4.ip_forward=1
        {rules}
        """;

    private static readonly IpAddr Client = IpAddr.Parse("10.0.1.2"), Router = IpAddr.Parse("10.0.1.1"), Server = IpAddr.Parse("10.0.2.2"), RouterOut = IpAddr.Parse("10.0.2.1");

    private static PacketTrace Send(DatapathEngine engine, int n, string dev, string dstMac, string srcMac, IpAddr s, IpAddr d, ushort sp, ushort dp, byte flags)
    {
        var bytes = FrameBuilder.Ethernet(MacAddress.Parse(dstMac), MacAddress.Parse(srcMac), EtherTypes.Ipv4,
            FrameBuilder.Ipv4(s, d, IpProtocol.Tcp, FrameBuilder.Tcp(s, d, sp, dp, flags), ttl: 64));
        return engine.Process(new CaptureFrame(n, n * 1_000_000L, LinkType.Ethernet, 0, null, bytes.Length, bytes.Length, 24, bytes), "t.pcap", engine.ResolveInjectionPoint(dev));
    }

    private static PacketTrace FromClient(DatapathEngine e, int n, byte flags) => Send(e, n, "eth0", "02:00:00:00:01:01", "02:00:00:00:01:02", Client, Router, 40000, 2121, flags);

    /// <summary>The rule that accepted the packet in a chain of the router's ruleset at that hook.</summary>
    private static string? Matched(PacketTrace t, NfHook hook, string chain) =>
        t.Path.Single(e => e.Namespace == t.Path[0].Namespace && e.Hook == hook && e.Chain == chain).Rule;

    [Theory]
    [InlineData(1)]   // the first packet: the nat chains set the binding up
    [InlineData(2)]   // a later one (the SYN sent again): the binding applies at the same place
    public void ChainsBeforeTheNatCoreSeeTheUntranslatedPacketChainsAfterItTheTranslatedOne(int packets)
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab($"nft -f - <<'NFT'\n{Rules}\nNFT"), "r.lab"));
        PacketTrace t = null!;
        for (int i = 1; i <= packets; i++) t = FromClient(engine, i, 0x02);
        Assert.True(t.Fate == Fate.Forwarded || t.Fate == Fate.Delivered, string.Join("\n", t.Path));
        Assert.Equal("tcp dport 2121 accept", Matched(t, NfHook.PreRouting, "pm"));
        Assert.Equal("tcp dport 2121 accept", Matched(t, NfHook.PreRouting, "ptie2"));
        Assert.Equal("tcp dport 21 accept", Matched(t, NfHook.PreRouting, "ptie"));
        Assert.Equal("tcp dport 21 accept", Matched(t, NfHook.PreRouting, "p0"));
        Assert.Equal("ip saddr 10.0.1.2 accept", Matched(t, NfHook.PostRouting, "qm"));
        Assert.Equal("ip saddr 10.0.1.2 accept", Matched(t, NfHook.PostRouting, "q50"));
        Assert.Equal("ip saddr 10.0.1.2 accept", Matched(t, NfHook.PostRouting, "qtie"));
        Assert.Equal("ip saddr 10.0.2.1 accept", Matched(t, NfHook.PostRouting, "q150"));
        // the nat chains run on the first packet only, at the nat core's place: after ptie2, before ptie
        var pre = t.Path.Where(e => e.Hook == NfHook.PreRouting && e.Chain is not null).Select(e => e.Chain).ToList();
        Assert.Equal(packets == 1 ? ["pm", "ptie2", "n50", "ptie", "p0"] : ["pm", "ptie2", "ptie", "p0"], pre);
        var post = t.Path.Where(e => e.Hook == NfHook.PostRouting && e.Chain is not null).Select(e => e.Chain).ToList();
        Assert.Equal(packets == 1 ? ["qm", "q50", "qtie", "n0", "q150"] : ["qm", "q50", "qtie", "q150"], post);
    }

    [Fact]
    public void TheReplyIsUnSnatedAtPreroutingMinus100AndUnDnatedAtPostrouting100()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab($"nft -f - <<'NFT'\n{Rules}\nNFT"), "r.lab"));
        FromClient(engine, 1, 0x02);
        var t = Send(engine, 2, "eth1", "02:00:00:00:02:01", "02:00:00:00:02:02", Server, RouterOut, 21, 40000, 0x12);
        Assert.True(t.Fate == Fate.Forwarded || t.Fate == Fate.Delivered, string.Join("\n", t.Path));
        Assert.Equal("ip daddr 10.0.2.1 accept", Matched(t, NfHook.PreRouting, "pm"));
        Assert.Equal("ip daddr 10.0.1.2 accept", Matched(t, NfHook.PreRouting, "p0"));
        Assert.Equal("tcp sport 21 accept", Matched(t, NfHook.PostRouting, "qm"));
        Assert.Equal("tcp sport 21 accept", Matched(t, NfHook.PostRouting, "q50"));
        Assert.Equal("tcp sport 2121 accept", Matched(t, NfHook.PostRouting, "q150"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void AtInputTheNatCoreTranslatesAt100WhateverTheNatChainDeclares(int packets)
    {
        // measured: an input nat chain at 0 (snat to 10.0.1.99) for a connection to the router's port 22;
        // an input chain at 50 counted every packet from 10.0.1.2, one at 150 from 10.0.1.99
        var engine = new DatapathEngine(LabLoader.Load(Lab("""
            nft -f - <<'NFT'
            table inet t {
                chain n { type nat hook input priority 0; tcp dport 22 snat ip to 10.0.1.99; }
                chain i50 { type filter hook input priority 50; ip saddr 10.0.1.2 accept; ip saddr 10.0.1.99 accept; }
                chain i150 { type filter hook input priority 150; ip saddr 10.0.1.2 accept; ip saddr 10.0.1.99 accept; }
            }
            NFT
            """), "r.lab"));
        PacketTrace t = null!;
        for (int i = 1; i <= packets; i++) t = Send(engine, i, "eth0", "02:00:00:00:01:01", "02:00:00:00:01:02", Client, Router, 40001, 22, 0x02);
        Assert.Equal("ip saddr 10.0.1.2 accept", Matched(t, NfHook.LocalIn, "i50"));
        Assert.Equal("ip saddr 10.0.1.99 accept", Matched(t, NfHook.LocalIn, "i150"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Ipv6TheNatCoreSitsAtTheSamePriorities(int packets)
    {
        // measured with an ip6 table: prerouting nat at 50 and postrouting nat at 0 translated at -100 / 100
        var engine = new DatapathEngine(LabLoader.Load("""
            ip link set eth0 address 02:00:00:00:01:01
            ip link set eth0 up
            ip -6 addr add fd01::1/64 dev eth0
            ip netns add s
            ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns s
            ip -6 addr add fd02::1/64 dev eth1
            ip link set eth1 up
            ip -n s -6 addr add fd02::2/64 dev eth0
            ip -n s link set eth0 up
            sysctl -w net.ipv6.conf.all.forwarding=1
            nft -f - <<'NFT'
            table ip6 t {
                chain pm { type filter hook prerouting priority -150; tcp dport 2121 accept; tcp dport 21 accept; }
                chain n50 { type nat hook prerouting priority 50; tcp dport 2121 dnat to [fd02::2]:21; }
                chain p0 { type filter hook prerouting priority 0; tcp dport 2121 accept; tcp dport 21 accept; }
                chain n0 { type nat hook postrouting priority 0; oifname "eth1" snat to fd02::1; }
                chain q50 { type filter hook postrouting priority 50; ip6 saddr fd01::2 accept; ip6 saddr fd02::1 accept; }
                chain q150 { type filter hook postrouting priority 150; ip6 saddr fd01::2 accept; ip6 saddr fd02::1 accept; }
            }
            NFT
            """, "r6.lab"));
        IpAddr c = IpAddr.Parse("fd01::2"), r = IpAddr.Parse("fd01::1");
        PacketTrace t = null!;
        for (int i = 1; i <= packets; i++)
        {
            var bytes = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:01:01"), MacAddress.Parse("02:00:00:00:01:02"), EtherTypes.Ipv6,
                FrameBuilder.Ipv6(c, r, IpProtocol.Tcp, FrameBuilder.Tcp(c, r, 40000, 2121, 0x02)));
            t = engine.Process(new CaptureFrame(i, i * 1_000_000L, LinkType.Ethernet, 0, null, bytes.Length, bytes.Length, 24, bytes), "t.pcap", engine.ResolveInjectionPoint("eth0"));
        }
        Assert.Equal("tcp dport 2121 accept", Matched(t, NfHook.PreRouting, "pm"));
        Assert.Equal("tcp dport 21 accept", Matched(t, NfHook.PreRouting, "p0"));
        Assert.Equal("ip6 saddr fd01::2 accept", Matched(t, NfHook.PostRouting, "q50"));
        Assert.Equal("ip6 saddr fd02::1 accept", Matched(t, NfHook.PostRouting, "q150"));
    }

    [Theory]
    [InlineData(2121, new[] { "nm", "n0" })]          // the chain at -100 binds: the one at 50 never sees the packet
    [InlineData(2122, new[] { "nm", "n50", "n0" })]   // it does not: the one at 50 runs and binds
    public void NatChainsRunInTheirOwnPriorityOrderUntilOneBinds(ushort port, string[] natChains)
    {
        // measured: nat chains in two tables, the later table's at -100 running first; a postrouting
        // nat chain at 10 never ran once the one at 0 had set the source binding up
        var engine = new DatapathEngine(LabLoader.Load(Lab("""
            nft -f - <<'NFT'
            table ip a {
                chain n50 { type nat hook prerouting priority 50; tcp dport 2121 counter; tcp dport 21 counter; tcp dport 2122 dnat to 10.0.2.2:21; }
            }
            table ip b {
                chain nm { type nat hook prerouting priority -100; tcp dport 2121 dnat to 10.0.2.2:21; }
                chain n0 { type nat hook postrouting priority 0; oifname "eth1" snat to 10.0.2.1; }
                chain n10 { type nat hook postrouting priority 10; counter; }
            }
            NFT
            """), "r.lab"));
        var t = Send(engine, 1, "eth0", "02:00:00:00:01:01", "02:00:00:00:01:02", Client, Router, 40000, port, 0x02);
        Assert.Equal(natChains, t.Path.Where(e => e.Chain is not null).Select(e => e.Chain));
        Assert.Contains(t.Path, e => e.Function == "nf_nat_manip_pkt (destination)" && e.Detail!.Contains($"port {port} -> 21"));
    }

    [Fact]
    public void AnIptablesNatTableLoadedAfterAnNftChainAtTheSamePriorityRunsBeforeIt()
    {
        // measured: an nft table, then iptables-nft-restore (nat DNAT/SNAT): the nat core, registered with the
        // iptables nat chains, went before the nft chains at -100 and 100 (the later of equal priorities runs
        // first), which counted dport 21 and the SNATed source; so did the one at 101
        var lab = Lab("""
            nft -f - <<'NFT'
            table ip f {
                chain p { type filter hook prerouting priority -100; tcp dport 2121 accept; tcp dport 21 accept; }
                chain q100 { type filter hook postrouting priority 100; ip saddr 10.0.1.2 accept; ip saddr 10.0.2.1 accept; }
                chain q101 { type filter hook postrouting priority 101; ip saddr 10.0.1.2 accept; ip saddr 10.0.2.1 accept; }
            }
            NFT
            iptables-restore <<'IPT'
            *nat
            :PREROUTING ACCEPT [0:0]
            :INPUT ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            :POSTROUTING ACCEPT [0:0]
            -A PREROUTING -p tcp --dport 2121 -j DNAT --to-destination 10.0.2.2:21
            -A POSTROUTING -o eth1 -j SNAT --to-source 10.0.2.1
            COMMIT
            IPT
            """);
        var engine = new DatapathEngine(LabLoader.Load(lab, "r.lab"));
        for (int i = 1; i <= 2; i++)
        {
            var t = FromClient(engine, i, 0x02);
            Assert.Equal("tcp dport 21 accept", Matched(t, NfHook.PreRouting, "p"));
            Assert.Equal("ip saddr 10.0.2.1 accept", Matched(t, NfHook.PostRouting, "q100"));
            Assert.Equal("ip saddr 10.0.2.1 accept", Matched(t, NfHook.PostRouting, "q101"));
        }
    }
}
