using PktFlow.Netfilter;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Nftables;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// A NAT statement's constant address, range or prefix is parsed once when the ruleset loads into the first and
/// last address nft_nat gets; what nft 1.0.6 refuses is refused at the same line and column, in its words. Every
/// case was run through <c>nft -c -f</c> with this very file shape (line 4, the rule after two spaces).
/// </summary>
public class NftNatAddressTests
{
    private static string File(string family, string rule) =>
        $"table {family} t {{\n chain c {{\n  type nat hook postrouting priority 100;\n  meta l4proto tcp {rule}\n }}\n}}\n";

    private static NatAction Nat(string family, string rule)
    {
        var rs = NftRuleset.Parse(File(family, rule), "r.nft");
        return rs.Tables[0].Chains[0].RuleList[0].Stmts.OfType<VerdictStmt>().Single().Nat!;
    }

    [Theory]
    [InlineData("ip", "snat to 10.0.0.9-10.0.0.1", "r.nft:4:28", "Range has zero or negative size")]
    [InlineData("ip", "snat to 10.0.0.0/33", "r.nft:4:28", "Prefix length 33 is invalid for type of 32 bits width")]
    [InlineData("ip", "snat to 10.0.0.1-fe80::1", "r.nft:4:37", "Address family for hostname not supported")]
    [InlineData("ip", "snat to fe80::1", "r.nft:4:28", "Address family for hostname not supported")]
    [InlineData("ip", "snat ip6 to fe80::1", "r.nft:4:20", "conflicting protocols specified: ip vs. ip6")]
    [InlineData("ip", "snat to 10.0.0.256", "r.nft:4:28", "Could not resolve hostname")]
    [InlineData("ip", "snat to 10.0.0.5-10.0.0.5:80-70", "r.nft:4:46", "Range has zero or negative size")]
    [InlineData("inet", "snat ip6 to fe80::9-fe80::1", "r.nft:4:32", "Range has zero or negative size")]
    [InlineData("inet", "snat ip to 10.0.0.1-fe80::1", "r.nft:4:40", "Address family for hostname not supported")]
    [InlineData("inet", "dnat ip to tcp dport map { 80 : 10.0.0.9-10.0.0.1 }", "r.nft:4:52", "Range has zero or negative size")]
    [InlineData("inet", "dnat ip to tcp dport map { 80 : 10.0.0.0/33 }", "r.nft:4:52", "Prefix length 33 is invalid")]
    [InlineData("ip6", "snat to 10.0.0.1", "r.nft:4:28", "Address family for hostname not supported")]
    [InlineData("ip6", "snat ip to 10.0.0.1", "r.nft:4:20", "conflicting protocols specified: ip6 vs. ip")]
    public void Refused_WhereNftRefusesIt(string family, string rule, string where, string message)
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse(File(family, rule), "r.nft"));
        Assert.StartsWith(where + ":", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("ip", "snat to 10.0.0.0/24", "10.0.0.0", "10.0.0.255", "10.0.0.0/24")]
    [InlineData("ip", "snat to 10.0.0.1/8", "10.0.0.0", "10.255.255.255", "10.0.0.0/8")]      // nft lists it 10.0.0.0/8
    [InlineData("ip", "snat to 10.0.0.0-10.0.0.255", "10.0.0.0", "10.0.0.255", "10.0.0.0/24")] // and this one too
    [InlineData("ip", "snat to 10.0.0.0/0", "0.0.0.0", "255.255.255.255", "0.0.0.0/0")]
    [InlineData("ip", "snat to 10.0.0.2-10.0.0.9", "10.0.0.2", "10.0.0.9", "10.0.0.2-10.0.0.9")]
    [InlineData("ip", "dnat to 10.0.0.4-10.0.0.4", "10.0.0.4", null, "10.0.0.4")]
    [InlineData("ip", "dnat to 10.0.0.4:80", "10.0.0.4", null, "10.0.0.4")]
    [InlineData("ip6", "dnat to [2001:db8::4]:80", "2001:db8::4", null, "2001:db8::4")]
    [InlineData("inet", "snat ip6 to fe80::/64", "fe80::", "fe80::ffff:ffff:ffff:ffff", "fe80::/64")]
    [InlineData("inet", "meta nfproto ipv4 snat to 10.0.0.0/24", "10.0.0.0", "10.0.0.255", "10.0.0.0/24")]
    public void Loaded_AsTheRangesEnds(string family, string rule, string min, string? max, string listed)
    {
        var nat = Nat(family, rule);
        Assert.Equal((IpAddr.Parse(min), max is null ? null : IpAddr.Parse(max), listed), (nat.AddressMin, nat.AddressMax, nat.Address));
    }

    [Fact]
    public void InetStatementOfTheOtherFamily_GivesSetupNoRange() // nft_nat_inet_eval: the statement's family is not the packet's
    {
        var nat = Nat("inet", "snat ip6 to 2001:db8::1");
        var tuple = new ConntrackTuple(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.0.0.1"), 6, 1000, 80);
        Assert.Null(NfNatRange.Range(nat, tuple, destination: false));
    }

    [Fact]
    public void MapData_IsTyped_AndListedAsNftListsIt()
    {
        var rs = NftRuleset.Parse(File("ip", "snat to ip saddr map { 10.1.0.2 : 192.168.3.0-192.168.3.255, 10.1.0.3 : 192.168.4.4 . 80-90 }"), "r.nft");
        var map = rs.Tables[0].Chains[0].RuleList[0].Stmts.OfType<NatMapStmt>().Single().Map!;
        Assert.Equal(new NatTarget(IpAddr.Parse("192.168.3.0"), null, IpAddr.Parse("192.168.3.255")), map.Elements![0].Data);
        Assert.Equal(new[] { "192.168.3.0/24", "192.168.4.4 . 80-90" }, map.Elements.Select(e => e.Data!.ToString()));
    }
}
