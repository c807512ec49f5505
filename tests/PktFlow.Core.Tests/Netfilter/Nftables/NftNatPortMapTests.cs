using PktFlow.Netfilter;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Nftables;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// NAT statements whose port comes from a map (<c>dnat to ADDR : KEY map</c>, <c>redirect|masquerade to : KEY map</c>),
/// interval map data (address ranges, prefixes, port ranges), <c>snat ip prefix to</c> (netmap) and <c>dnat to :port</c>.
/// Every form was loaded with nft 1.0.6 on 6.18; the kernel's behaviour (a key the map lacks breaks the rule, the
/// next rule takes the packet; redirect and masquerade take the map's port) is recorded in tests/scenarios/nft-nat-port-maps.
/// </summary>
public class NftNatPortMapTests
{
    private static NftRuleset Rules(string hook, string body, string decls = "") =>
        NftRuleset.Parse($"table ip t {{\n{decls}\n chain c {{ type nat hook {hook} priority 0;\n{body}\n }}\n}}", "p.nft");

    private static NatAction? Run(NftRuleset rs, NftHookPoint hook, FakeNftPacket p) =>
        NftEvaluator.RunHook(rs, NftFamily.Ip, hook, p, state: new NftState(1, "h")).Nat;

    [Theory]
    [InlineData("prerouting", "meta l4proto tcp dnat to 10.2.0.2 : tcp dport map { 80 : 8080, 443 : 8443 }", "", "dnat", "10.2.0.2", 8080)]
    [InlineData("prerouting", "meta l4proto tcp dnat to 10.2.0.2:tcp dport map { 80 : 8080 }", "", "dnat", "10.2.0.2", 8080)]
    [InlineData("prerouting", "meta l4proto tcp dnat to 10.2.0.2 : tcp dport map @pm", "map pm { type inet_service : inet_service; elements = { 80 : 8080 }; }", "dnat", "10.2.0.2", 8080)]
    [InlineData("prerouting", "meta l4proto tcp dnat to 10.2.0.2 : numgen inc mod 2 map { 0 : 8080, 1 : 8081 }", "", "dnat", "10.2.0.2", 8080)]
    [InlineData("prerouting", "meta l4proto tcp dnat to :tcp dport map { 80 : 8080 }", "", "dnat", null, 8080)]
    [InlineData("prerouting", "ip protocol 6 redirect to :tcp dport map { 22 : 8000, 80 : 8080 }", "", "redirect", null, 8080)]
    [InlineData("prerouting", "meta l4proto tcp dnat to ip saddr map { 10.1.0.2 : 10.2.0.2 } : tcp sport map { 1000 : 9000 }", "", "dnat", "10.2.0.2", 9000)]
    [InlineData("prerouting", "dnat to tcp dport map { 80 : 10.2.0.2 } : tcp dport map { 80 : 8080 }", "", "dnat", "10.2.0.2", 8080)] // the address map's key names the transport
    [InlineData("postrouting", "meta l4proto tcp masquerade to :tcp dport map { 80 : 8080 }", "", "masquerade", null, 8080)]
    public void PortFromAMap(string hook, string rule, string decls, string kind, string? address, int port)
    {
        var point = hook == "prerouting" ? NftHookPoint.Prerouting : NftHookPoint.Postrouting;
        var nat = Run(Rules(hook, rule, decls), point, FakeNftPacket.Tcp4("10.1.0.2", "10.0.0.1", 1000, 80))!;
        Assert.Equal((kind, address, port, port), (nat.Kind, nat.Address, nat.PortMin!.Value, nat.PortMax!.Value));
    }

    [Fact]
    public void AKeyTheMapLacks_BreaksTheRule_TheNextOneTakesThePacket()
    {
        var rs = Rules("prerouting", "meta l4proto tcp counter dnat to 10.2.0.2 : tcp dport map { 80 : 8080 }\ntcp dport 81 dnat to 10.2.0.2:9000");
        var nat = Run(rs, NftHookPoint.Prerouting, FakeNftPacket.Tcp4("10.1.0.2", "10.0.0.1", 1000, 81))!;
        Assert.Equal(("10.2.0.2", 9000), (nat.Address, nat.PortMin!.Value));
        Assert.Null(Run(rs, NftHookPoint.Prerouting, FakeNftPacket.Tcp4("10.1.0.2", "10.0.0.1", 1000, 82)));
    }

    [Theory]
    [InlineData("snat ip to ip saddr map { 10.1.0.2 : 192.168.2.2-192.168.2.4 }", "192.168.2.2", "192.168.2.4", null, null)]
    [InlineData("snat ip to ip saddr map { 10.1.0.2 : 192.168.2.0/24 }", "192.168.2.0", "192.168.2.255", null, null)]
    [InlineData("meta l4proto tcp snat ip to ip saddr map { 10.1.0.2 : 192.168.2.0/28 . 8888 - 8999 }", "192.168.2.0", "192.168.2.15", 8888, 8999)]
    [InlineData("meta l4proto tcp snat ip to ip saddr map { 10.1.0.2 : 192.168.2.3 . 8888-8999 }", "192.168.2.3", null, 8888, 8999)]
    [InlineData("snat ip to ip saddr map { 10.1.0.2 : 192.168.2.3 }", "192.168.2.3", null, null, null)]
    public void IntervalData_GivesTheRangesEnds(string rule, string min, string? max, int? pmin, int? pmax)
    {
        var nat = Run(Rules("postrouting", rule), NftHookPoint.Postrouting, FakeNftPacket.Tcp4("10.1.0.2", "10.0.0.1", 1000, 80))!;
        Assert.Equal((IpAddr.Parse(min), max is null ? null : IpAddr.Parse(max), pmin, pmax), (nat.AddressMin, nat.AddressMax, nat.PortMin, nat.PortMax));
    }

    [Theory]
    [InlineData("10.141.11.7", "192.168.2.0", "192.168.2.255", "192.168.2.7")]
    [InlineData("10.141.11.7", "192.168.2.0", "192.168.2.0", "192.168.2.0")]
    [InlineData("10.141.11.200", "172.16.0.0", "172.16.0.127", "172.16.0.72")]
    [InlineData("2001:db8::1:5", "fd00::", "fd00::ffff", "fd00::5")]
    public void Netmap_KeepsTheHostBits(string packet, string min, string max, string expected) =>
        Assert.Equal(IpAddr.Parse(expected), NfNatRange.Netmap(IpAddr.Parse(packet), IpAddr.Parse(min), IpAddr.Parse(max)));

    [Fact]
    public void SnatPrefix_MapsTheSourceIntoTheRange()
    {
        var nat = Run(Rules("postrouting", "snat ip prefix to ip saddr map { 10.141.11.0/24 : 192.168.2.0/24 }"), NftHookPoint.Postrouting, FakeNftPacket.Tcp4("10.141.11.9", "10.0.0.1", 1000, 80))!;
        Assert.True(nat.Netmap);
        var tuple = new ConntrackTuple(IpAddr.Parse("10.141.11.9"), IpAddr.Parse("10.0.0.1"), 6, 1000, 80);
        Assert.Equal((IpAddr.Parse("192.168.2.9"), IpAddr.Parse("192.168.2.9")), NfNatRange.Range(nat, tuple, destination: false));
    }

    [Theory]
    [InlineData("dnat to :8080", "10.0.0.1", "10.0.0.1")]           // no address: NF_NAT_RANGE_MAP_IPS unset, the address stays
    [InlineData("dnat to 10.2.0.2", "10.2.0.2", "10.2.0.2")]
    [InlineData("dnat to 10.2.0.2-10.2.0.9", "10.2.0.2", "10.2.0.9")]
    [InlineData("dnat to 10.2.0.0/29", "10.2.0.0", "10.2.0.7")]
    public void TheRangeSetupGets(string rule, string? min, string? max)
    {
        var nat = Run(Rules("prerouting", "meta l4proto tcp " + rule), NftHookPoint.Prerouting, FakeNftPacket.Tcp4("10.1.0.2", "10.0.0.1", 1000, 80))!;
        var tuple = new ConntrackTuple(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.0.0.1"), 6, 1000, 80);
        var range = NfNatRange.Range(nat, tuple, destination: true);
        Assert.Equal(min is null ? null : (IpAddr.Parse(min), IpAddr.Parse(max!)), range);
    }

    [Theory]
    [InlineData("redirect to :tcp dport map { 22 : 8000 }", "transport protocol mapping is only valid after transport protocol match")]
    [InlineData("dnat to 10.0.0.2 : tcp dport map { 22 : 8000 }", "transport protocol mapping is only valid after transport protocol match")]
    [InlineData("meta l4proto tcp dnat to 10.0.0.2 : tcp dport map { 22 : 8000-9000 }", "unsupported: a port range as port map data")]
    [InlineData("meta l4proto tcp dnat to 10.0.0.2 : tcp dport map { 22 : 10.0.0.1 }", "bad port '10.0.0.1'")]
    [InlineData("meta l4proto tcp dnat to 10.0.0.2 : tcp dport", "unsupported: dnat to a port expression without a map ('tcp dport')")]
    [InlineData("meta l4proto tcp dnat to 10.0.0.2 : tcp dport map @a", "datatype mismatch: map 'a' maps to ipv4_addr, not to a port")]
    [InlineData("snat ip to ip saddr map { 10.1.0.2 : 192.168.2.9-192.168.2.1 }", "Range has zero or negative size in '192.168.2.9-192.168.2.1'")]
    public void Refused_WithTheReason(string rule, string message)
    {
        var e = Assert.Throws<NftParseException>(() => Rules("prerouting", rule, "map a { type inet_service : ipv4_addr; }"));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Json_PortMap_LoadsAsTheText() // as `nft -j list ruleset` writes `dnat to 10.2.0.2:tcp dport map { 80 : 8080 }`
    {
        var json = """
            {"nftables": [{"table": {"family": "ip", "name": "t"}},
              {"chain": {"family": "ip", "table": "t", "name": "c", "type": "nat", "hook": "prerouting", "prio": 0, "policy": "accept"}},
              {"rule": {"family": "ip", "table": "t", "chain": "c", "expr": [
                {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}},
                {"dnat": {"addr": "10.2.0.2", "port": {"map": {"key": {"payload": {"protocol": "tcp", "field": "dport"}}, "data": {"set": [[80, 8080], [443, 8443]]}}}}}]}},
              {"rule": {"family": "ip", "table": "t", "chain": "c", "expr": [
                {"snat": {"family": "ip", "addr": {"map": {"key": {"payload": {"protocol": "ip", "field": "saddr"}},
                  "data": {"set": [[{"prefix": {"addr": "10.141.11.0", "len": 24}}, {"prefix": {"addr": "192.168.2.0", "len": 24}}]]}}},
                  "flags": "netmap", "type_flags": ["interval", "prefix"]}}]}}]}
            """;
        var rs = NftRuleset.ParseJson(json, "p.json");
        var nat = Run(rs, NftHookPoint.Prerouting, FakeNftPacket.Tcp4("10.1.0.2", "10.0.0.1", 1000, 443))!;
        Assert.Equal(("10.2.0.2", 8443), (nat.Address, nat.PortMin!.Value));
        var snat = rs.Tables[0].Chains[0].RuleList[1].Stmts.OfType<NatMapStmt>().Single();
        Assert.True(snat.Netmap);
    }
}
