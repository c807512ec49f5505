using PktFlow.Netfilter;
using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// Named maps (<c>map NAME { type K : D }</c>), their element commands and the rules that read or update
/// them, and NAT through maps (address . port data, a port after the map). The forms were loaded with
/// nft 1.0.6 (Json/fixtures/maps.nft); the kube-proxy ones are recorded in tests/scenarios/kube-proxy-nftables.
/// </summary>
public class NftNamedMapTests
{
    private static NftRuleset Nat(string body, string decls = "", string family = "ip") =>
        NftRuleset.Parse($"table {family} t {{\n{decls}\n chain pre {{ type nat hook prerouting priority dstnat;\n{body}\n }}\n}}", "m.nft");

    private static NatAction? Dnat(NftRuleset rs, FakeNftPacket p) =>
        NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Prerouting, p, state: new NftState(1, "h")).Nat;

    [Fact]
    public void VerdictMap_ConcatenatedKey_GotoTheServiceChain() // kube-proxy: ip daddr . meta l4proto . th dport vmap @service-ips
    {
        var rs = NftStateTests.Rules("ip daddr . meta l4proto . th dport vmap @service-ips\ndrop",
            "map service-ips { type ipv4_addr . inet_proto . inet_service : verdict; elements = { 10.0.0.1 . tcp . 80 : goto svc, 10.0.0.1 . udp . 53 : accept }; }\nchain svc { accept; }");
        string V(FakeNftPacket p) => NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, p, state: new NftState(1, "h")).Verdict;
        Assert.Equal("accept", V(FakeNftPacket.Tcp4("10.1.0.2", "10.0.0.1", 1000, 80)));
        Assert.Equal("accept", V(FakeNftPacket.Udp4("10.1.0.2", "10.0.0.1", 1000, 53)));
        Assert.Equal("drop", V(FakeNftPacket.Tcp4("10.1.0.2", "10.0.0.1", 1000, 53)));
        var run = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, FakeNftPacket.Tcp4("10.1.0.2", "10.0.0.1", 1000, 80), state: new NftState(1, "h"));
        Assert.Contains(run.Runs, r => r.Chain.Name == "svc");
    }

    [Fact]
    public void Map_ElementsAddedAndDeletedByCommands_AreListed()
    {
        var rs = NftRuleset.Parse("""
            table ip t {
              map m { type ipv4_addr : ipv4_addr; elements = { 10.0.0.1 : 192.168.1.2, 10.0.0.9 : 192.168.1.9 } }
              map mk { typeof ip saddr : meta mark; }
              chain pre { type nat hook prerouting priority dstnat; dnat to ip daddr map @m; }
            }
            add element ip t m { 10.0.0.5 : 192.168.1.5 }
            delete element ip t m { 10.0.0.9 }
            add element t mk { 10.1.0.2 : 0x10 }
            """, "m.nft");
        var els = NfStateListing.SetElements("h", new NftState(1, "h"), rs).ToList();
        Assert.Equal(new[] { "m 10.0.0.1 : 192.168.1.2", "m 10.0.0.5 : 192.168.1.5", "mk 10.1.0.2 : 0x00000010" }, els.Select(e => $"{e.Set} {e.Element} : {e.Data}"));
        Assert.Equal("192.168.1.5", Dnat(rs, FakeNftPacket.Tcp4("10.1.0.2", "10.0.0.5", 1, 80))!.Address);
        Assert.Null(Dnat(rs, FakeNftPacket.Tcp4("10.1.0.2", "10.0.0.9", 1, 80)));
        Assert.Equal("ipv4_addr", rs.FindTable(NftFamily.Ip, "t")!.Sets.Single(s => s.Name == "mk").TypeText);
    }

    [Fact]
    public void DeleteElement_NotInTheMap_FailsAsNftDoes()
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse("table ip t { map m { type ipv4_addr : ipv4_addr; }; }\ndelete element ip t m { 10.0.0.9 }", "m.nft"));
        Assert.Contains("element not in map 'm'", e.Message);
    }

    [Theory]
    [InlineData("dnat ip to ip daddr . tcp dport map { 10.0.0.1 . 80 : 192.168.1.2 . 8080 }", "", "192.168.1.2", 8080)]
    [InlineData("dnat ip addr . port to ip daddr . tcp dport map { 10.0.0.1 . 80 : 192.168.1.2 . 8080 }", "", "192.168.1.2", 8080)]
    [InlineData("dnat ip to ip daddr . tcp dport map @mp", "map mp { type ipv4_addr . inet_service : ipv4_addr . inet_service; elements = { 10.0.0.1 . 80 : 192.168.1.2 . 8080 }; }", "192.168.1.2", 8080)]
    [InlineData("meta l4proto tcp dnat to ip daddr map { 10.0.0.1 : 192.168.1.2 } : 8080", "", "192.168.1.2", 8080)]
    [InlineData("meta l4proto tcp dnat to ip daddr map { 10.0.0.1 : 192.168.1.2 }:8080", "", "192.168.1.2", 8080)]
    [InlineData("dnat to ip daddr map @m", "map m { type ipv4_addr : ipv4_addr; elements = { 10.0.0.1 : 192.168.1.2 }; }", "192.168.1.2", null)]
    public void NatMap_AddressAndPort(string rule, string decls, string address, int? port)
    {
        var nat = Dnat(Nat(rule, decls), FakeNftPacket.Tcp4("10.1.0.2", "10.0.0.1", 1000, 80));
        Assert.Equal(address, nat!.Address);
        Assert.Equal(port, nat.PortMin);
        Assert.Equal(port, nat.PortMax);
        Assert.Null(Dnat(Nat(rule, decls), FakeNftPacket.Tcp4("10.1.0.2", "10.0.0.1", 1000, 81)) is { } other && port is not null && rule.Contains("dport") ? other : null);
    }

    [Fact]
    public void SnatMap_PortRangeAfterTheMap()
    {
        var rs = NftRuleset.Parse("table ip t { chain post { type nat hook postrouting priority srcnat; meta l4proto udp snat to ip saddr map { 10.1.0.2 : 192.168.1.2 } : 1000-2000; }; }", "m.nft");
        var nat = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Postrouting, FakeNftPacket.Udp4("10.1.0.2", "8.8.8.8", 5, 53), state: new NftState(1, "h")).Nat!;
        Assert.Equal(("snat", "192.168.1.2", 1000, 2000), (nat.Kind, nat.Address, nat.PortMin!.Value, nat.PortMax!.Value));
    }

    [Theory]
    [InlineData("dnat to ip daddr map @mk", "map mk { type ipv4_addr : mark; }", "datatype mismatch: map 'mk' maps to mark")]
    [InlineData("ip daddr vmap @m", "map m { type ipv4_addr : ipv4_addr; }", "maps to ipv4_addr, not to verdicts")]
    [InlineData("ip daddr vmap @s", "set s { type ipv4_addr; }", "'s' is a set, not a map")]
    [InlineData("tcp dport vmap @m", "map m { type ipv4_addr : verdict; }", "datatype mismatch: map 'm' has key type ipv4_addr")]
    [InlineData("dnat ip to ip daddr . tcp dport map { 10.0.0.1 . 80 : 192.168.1.2 . 8080 } : 80", "", "a port after a dnat map whose data has a port")]
    [InlineData("accept", "map e { type ipv4_addr : ipv4_addr . ipv4_addr; }", "unsupported: map data of type 'ipv4_addr . ipv4_addr'")]
    [InlineData("counter name ip saddr map @q", "map q { type ipv4_addr : quota; }; quota q1 { 10 bytes }", "datatype mismatch: map 'q' maps to quota, not to counter objects")]
    [InlineData("accept", "map c { type ipv4_addr : counter; elements = { 10.0.0.1 : \"nope\" }; }", "counter 'nope' does not exist")]
    [InlineData("update @m { ip saddr : ip6 daddr }", "map m { type ipv4_addr : ipv4_addr; flags dynamic; }", "datatype mismatch: map 'm' maps to ipv4_addr, the data is ip6 daddr")]
    [InlineData("ip daddr vmap @v", "map v { type ipv4_addr : verdict; elements = { 10.0.0.1 : jump nowhere }; }", "chain 'nowhere'")]
    public void Refused_WithTheReason(string rule, string decls, string message)
    {
        var e = Assert.Throws<NftParseException>(() => Nat(rule, decls));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void RuleUpdatesAMap_TheNewElementCarriesTheData()
    {
        var rs = NftStateTests.Rules("udp dport 1 update @seen { ip saddr : 0x2a }\nudp dport 2 meta mark set ip saddr map @seen accept",
            "map seen { type ipv4_addr : mark; flags dynamic,timeout; timeout 1m; }");
        var st = new NftState(1, "h");
        var p = FakeNftPacket.Udp4("10.1.0.2", "10.1.0.1", 5, 2);
        NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, p, state: st);
        Assert.Equal(0u, p.Mark); // no element yet: the map statement does not match
        NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, FakeNftPacket.Udp4("10.1.0.2", "10.1.0.1", 5, 1), state: st);
        NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, p, state: st);
        Assert.Equal(0x2au, p.Mark);
        var el = Assert.Single(NfStateListing.SetElements("h", st, rs));
        Assert.Equal(("10.1.0.2", "0x0000002a", true), (el.Element, el.Data, el.Dynamic));
        Assert.Throws<NftParseException>(() => NftStateTests.Rules("update @seen { ip saddr }", "map seen { type ipv4_addr : mark; flags dynamic; }"));
    }

    [Fact]
    public void MarkSet_OrXorAnd_AsKubeProxyMasquerades()
    {
        var rs = NftStateTests.Rules("udp dport 1 mark set mark or 0x4000\nudp dport 2 mark and 0x4000 == 0 return\nudp dport 2 mark set mark xor 0x4000\nudp dport 3 meta mark set meta mark & 0xff00 | 0x1");
        var st = new NftState(1, "h");
        var p = FakeNftPacket.Udp4("10.1.0.2", "10.1.0.1", 5, 1);
        p.Mark = 0x11;
        NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, p, state: st);
        Assert.Equal(0x4011u, p.Mark);
        var q = FakeNftPacket.Udp4("10.1.0.2", "10.1.0.1", 5, 2);
        q.Mark = 0x4011;
        NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, q, state: st);
        Assert.Equal(0x11u, q.Mark);
        var r = FakeNftPacket.Udp4("10.1.0.2", "10.1.0.1", 5, 3);
        r.Mark = 0x1234;
        NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, r, state: st);
        Assert.Equal(0x1201u, r.Mark);
    }
}
