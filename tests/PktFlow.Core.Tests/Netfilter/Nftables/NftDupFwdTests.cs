using PktFlow.Datapath;
using PktFlow.Netfilter.Nftables;
using PktFlow.Testing;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// dup and fwd. Checked in namespaces (nft 1.0.6): a netdev ingress chain on v1 with
/// `icmp type echo-request dup to "v2"` then `fwd to "v2"`: pings to v1's address are not answered (fwd
/// stole them) and the peer of v2 receives the copies and the pings.
/// </summary>
public class NftDupFwdTests
{
    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip link set eth1 up
        ip addr add 10.78.0.2/24 dev eth0
        nft -f - <<'NFT'
        table netdev n {
            chain c {
                type filter hook ingress device "eth0" priority 0
                RULES
            }
        }
        NFT
        """;

    private static PacketTrace Ping(string rules) =>
        LabPing.Ping(Lab.Replace("RULES", rules), "10.78.0.1", "10.78.0.2");

    [Fact]
    public void Fwd_TransmitsOutOfTheDevice_AndEndsTheRuleset()
    {
        var tr = Ping("icmp type echo-request dup to \"eth1\"\n icmp type echo-request fwd to \"eth1\"");
        Assert.Equal(Fate.Forwarded, tr.Fate);
        Assert.Equal("host/eth1", tr.Egress);
        Assert.Contains(tr.Path, e => e.Chain == "c" && e.Verdict == Verdict.Stolen);
        var copy = Assert.Single(tr.GeneratedTraces, c => c.GeneratedBy == "nf_dup_netdev_egress");
        Assert.Equal((Fate.Transmitted, "host/eth1"), (copy.Fate, copy.Egress));
        Assert.Contains(tr.Notes, n => n.StartsWith("fwd to eth1"));
    }

    [Fact]
    public void Dup_TheOriginalContinues_TheCopyIsAChildTrace()
    {
        var tr = Ping("icmp type echo-request dup to \"eth1\"");
        Assert.Equal(Fate.Delivered, tr.Fate);
        var copy = Assert.Single(tr.GeneratedTraces, c => c.GeneratedBy == "nf_dup_netdev_egress");
        Assert.Equal("host/eth1", copy.Egress);
        Assert.Contains(tr.Generated, g => g.StartsWith("dup to eth1: a clone"));
    }

    /// <summary>
    /// nf_dup_ipv4, checked in namespaces on 6.18 (tests/scenarios/nft-dup): the copy is untracked, has DF,
    /// one TTL less when made at INPUT, is routed to the address as its next hop and passes the OUTPUT
    /// chain, where a dup makes no copy of it (in_nf_duplicate).
    /// </summary>
    private const string IpLab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 10.78.0.2/24 dev eth0
        ip neigh add 10.78.0.9 lladdr 02:00:00:00:01:09 dev eth0 nud permanent
        nft -f - <<'NFT'
        table ip t {
            chain i {
                type filter hook input priority 0
                RULES
            }
            chain o {
                type filter hook output priority 0
                icmp type echo-request dup to 10.78.0.9 device "eth0"
                icmp type echo-request counter
            }
        }
        NFT
        """;

    [Fact]
    public void DupToAnAddress_RoutesAnUntrackedCopyThroughTheOutputPath()
    {
        var copy = IpDup("icmp type echo-request dup to 10.78.0.9 device \"eth0\"");
        Assert.Equal((Fate.Transmitted, "host/eth0"), (copy.Fate, copy.Egress));
        var n = copy.GeneratedNetwork!;
        Assert.Equal(63, n[8]);           // one less at INPUT
        Assert.Equal(0x40, n[6] & 0x40);  // DF
        Assert.Contains(copy.Path, e => e.Chain == "o" && e.Hook == NfHook.LocalOut);
        Assert.Contains(copy.Path, e => e.Stage == "NeighOutput" && e.Detail!.Contains("next hop 10.78.0.9"));
        Assert.Contains(copy.Notes, n => n.Contains("in_nf_duplicate"));
    }

    [Fact]
    public void DupToAnAddressWithoutRoute_TheCopyIsFreed()
    {
        var copy = IpDup("dup to 192.0.2.1");
        Assert.Equal((Fate.Dropped, "NOT_SPECIFIED"), (copy.Fate, copy.Reason));
    }

    [Fact]
    public void DupToAnIpv6Address_TakesOneHopLessAtInput()
    {
        const string lab = """
            ip link set eth0 address 02:00:00:00:01:01
            ip link set eth0 up
            ip -6 addr add 2001:db8::2/64 dev eth0
            ip -6 neigh add 2001:db8::9 lladdr 02:00:00:00:01:09 dev eth0 nud permanent
            nft -f - <<'NFT'
            table ip6 t {
                chain i {
                    type filter hook input priority 0
                    icmpv6 type echo-request dup to 2001:db8::9 device "eth0"
                }
            }
            NFT
            """;
        var engine = new DatapathEngine(PktFlow.Topology.Lab.LabLoader.Load(lab, "ping6.lab"));
        IpAddr src = IpAddr.Parse("2001:db8::1"), dst = IpAddr.Parse("2001:db8::2");
        var f = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:01:01"), MacAddress.Parse("02:00:00:00:01:02"), EtherTypes.Ipv6,
            FrameBuilder.Ipv6(src, dst, IpProtocol.Icmpv6, FrameBuilder.Icmpv6(src, dst, 128, new byte[8]), hopLimit: 64));
        var tr = engine.Process(new PktFlow.Capture.CaptureFrame(1, 1_000_000, PktFlow.Capture.LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("eth0"));
        var copy = Assert.Single(tr.GeneratedTraces, c => c.GeneratedBy == "nf_dup_ipv6");
        Assert.Equal((Fate.Transmitted, "host/eth0"), (copy.Fate, copy.Egress));
        Assert.Equal(63, copy.GeneratedNetwork![7]);
    }

    /// <summary>The one copy nf_dup_ipv4 made of a ping delivered to the host with <paramref name="rule"/> in its input chain.</summary>
    private static PacketTrace IpDup(string rule)
    {
        var tr = LabPing.Ping(IpLab.Replace("RULES", rule), "10.78.0.1", "10.78.0.2");
        Assert.Equal(Fate.Delivered, tr.Fate);
        return Assert.Single(tr.GeneratedTraces, c => c.GeneratedBy == "nf_dup_ipv4");
    }

    [Fact]
    public void FwdIpToAddress_IsSaidUnsupported()
    {
        var tr = Ping("fwd ip to 10.78.0.9 device \"eth1\"");
        Assert.Equal(Fate.Unsupported, tr.Fate);
    }

    [Theory]
    [InlineData("table ip t { chain c { type filter hook input priority 0; dup to 10.0.0.9 device \"eth1\"; }; }", null)]
    [InlineData("table inet t { chain c { type filter hook input priority 0; dup to 10.0.0.9; }; }", null)]
    [InlineData("table ip t { chain c { type filter hook input priority 0; fwd to \"eth1\"; }; }", "only supported in the netdev family")]
    [InlineData("table ip t { chain c { type filter hook input priority 0; dup to ::1; }; }", "Conflicting")]
    [InlineData("table netdev t { chain c { type filter hook ingress device \"eth0\" priority 0; fwd ip6 to 10.0.0.1 device \"eth1\"; }; }", "bad fwd address")]
    [InlineData("table ip t { chain c { type filter hook input priority 0; dup to ip saddr; }; }", "unsupported: dup to ip saddr (an address from a map or a constant is modelled)")]
    [InlineData("table netdev t { chain c { type filter hook ingress device \"eth0\" priority 0; fwd to meta mark; }; }", "unsupported: a device from an expression ('meta mark')")]
    public void Load(string text, string? error)
    {
        if (error is null) { NftRuleset.Parse(text, "d.nft"); return; }
        Assert.Contains(error, Assert.Throws<NftParseException>(() => NftRuleset.Parse(text, "d.nft")).Message);
    }

    [Fact]
    public void Json()
    {
        const string json = """
            {"nftables": [{"table": {"family": "netdev", "name": "n", "handle": 1}},
              {"chain": {"family": "netdev", "table": "n", "name": "c", "handle": 1, "type": "filter", "hook": "ingress", "dev": "eth0", "prio": 0, "policy": "accept"}},
              {"rule": {"family": "netdev", "table": "n", "chain": "c", "handle": 2, "expr": [{"dup": {"dev": "eth1"}}]}},
              {"rule": {"family": "netdev", "table": "n", "chain": "c", "handle": 3, "expr": [{"fwd": {"dev": "eth1"}}]}},
              {"rule": {"family": "netdev", "table": "n", "chain": "c", "handle": 4, "expr": [{"fwd": {"dev": "eth1", "family": "ip", "addr": "10.0.0.1"}}]}}]}
            """;
        var rules = NftRuleset.ParseJson(json, "d.json").Tables[0].Chains[0].Rules;
        Assert.Equal(new[] { "dup to eth1", "fwd to eth1", "fwd ip to 10.0.0.1 device eth1" }, rules.Select(r => r.Text));
        Assert.Equal(new[] { "DupStmt", "FwdStmt", "FwdStmt" }, rules.Select(r => r.Stmts[0].GetType().Name));
    }
}
