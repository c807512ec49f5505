using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// NAT statements in an inet table. nft_nat_inet_eval runs a statement only for packets of its family: for the
/// other family it does nothing and the packet goes on to the next rule (measured on 6.18: `snat ip6 to fd77::1`
/// then `counter` then `meta nfproto ipv4 drop` counted and dropped every IPv4 ping). An address needs a family,
/// named after the statement or fixed by an earlier match; the refusals are nft 1.0.6's (`nft -c -f`, this file shape).
/// </summary>
public class NftNatInetFamilyTests
{
    private static string File(string rule, string hook = "postrouting") =>
        $"table inet t {{\n chain c {{\n  type nat hook {hook} priority 100;\n  {rule}\n  counter\n  meta nfproto ipv4 drop\n }}\n}}\n";

    [Theory]
    [InlineData("snat ip6 to fd77::1", "postrouting")]
    [InlineData("snat ip6 to ip6 saddr map { fd77::2 : fd77::1 }", "postrouting")]
    [InlineData("dnat ip6 to fd00::99", "prerouting")]
    [InlineData("meta l4proto tcp dnat ip6 to [fd00::99]:80", "prerouting")]
    [InlineData("dnat ip6 to tcp dport map { 80 : fd00::99 }", "prerouting")]
    public void OtherFamilysStatement_DoesNothing_TheNextRuleRuns(string rule, string hook)
    {
        var rs = NftRuleset.Parse(File(rule, hook), "r.nft");
        var point = hook == "postrouting" ? NftHookPoint.Postrouting : NftHookPoint.Prerouting;
        var v4 = NftEvaluator.RunHook(rs, NftFamily.Ip, point, FakeNftPacket.Tcp4("10.77.0.1", "10.77.0.2", 1000, 80));
        Assert.Equal("drop", v4.Verdict, ignoreCase: true);
        Assert.Null(v4.Nat);
        var v6 = NftEvaluator.RunHook(rs, NftFamily.Ip6, point, FakeNftPacket.Tcp6("fd77::2", "fd77::3", 1000, 80));
        Assert.Equal("accept", v6.Verdict, ignoreCase: true);
        Assert.NotNull(v6.Nat);
    }

    [Theory]
    [InlineData("snat to 10.0.0.1", "r.nft:4:3", "ip or ip6 must be specified with address for inet tables.")]
    [InlineData("meta l4proto tcp snat to 10.0.0.1", "r.nft:4:20", "ip or ip6 must be specified with address for inet tables.")]
    [InlineData("meta protocol ip snat to 10.0.0.1", "r.nft:4:20", "ip or ip6 must be specified with address for inet tables.")]
    [InlineData("meta nfproto != ipv6 snat to 10.0.0.1", "r.nft:4:24", "ip or ip6 must be specified with address for inet tables.")]
    [InlineData("ct original ip saddr 10.0.0.1 snat to 10.0.0.1", "r.nft:4:33", "ip or ip6 must be specified with address for inet tables.")]
    [InlineData("snat to ip saddr map { 10.0.0.1 : 10.0.0.2 }", "r.nft:4:3", "ip or ip6 must be specified with address for inet tables.")]
    [InlineData("snat to 10.0.0.1-10.0.0.5", "r.nft:4:3", "ip or ip6 must be specified with address for inet tables.")]
    [InlineData("snat prefix to 10.0.0.0/24", "r.nft:4:3", "ip or ip6 must be specified with address for inet tables.")]
    [InlineData("ip6 saddr ::1 snat to 10.0.0.1", "r.nft:4:25", "Address family for hostname not supported")]
    [InlineData("meta nfproto ipv6 snat to 10.0.0.1", "r.nft:4:29", "Address family for hostname not supported")]
    [InlineData("meta nfproto { ipv4, ipv6 } snat to 10.0.0.1", "r.nft:4:39", "Address family for hostname not supported")]
    [InlineData("ip6 saddr ::1 snat ip to 10.0.0.1", "r.nft:4:17", "conflicting protocols specified: ip6 vs. ip. You must specify ip or ip6 family in nat statement")]
    public void AddressWithoutFamily_RefusedAsNftRefusesIt(string rule, string where, string message)
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse(File(rule), "r.nft"));
        Assert.StartsWith(where + ":", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("ip saddr 10.0.0.0/8 snat to 10.0.0.1")]
    [InlineData("ip saddr != 10.0.0.1 snat to 10.0.0.1")]
    [InlineData("meta nfproto ipv4 snat to 10.0.0.1")]
    [InlineData("ip protocol tcp snat to 10.0.0.1:80")]
    [InlineData("icmp type echo-request snat to 10.0.0.1")]
    [InlineData("icmpv6 type echo-request snat to fd00::1")]
    [InlineData("ip6 nexthdr tcp snat to [fd00::1]:80")]
    [InlineData("tcp dport . ip saddr { 80 . 10.0.0.1 } snat to 10.0.0.1")]
    [InlineData("ip saddr 10.0.0.1 dnat to tcp dport map { 80 : 10.0.0.2 }")]
    [InlineData("tcp dport 80 dnat to :8080")]
    [InlineData("masquerade")]
    public void FamilyFixedByTheRule_OrNoAddress_Loads(string rule) => Assert.NotNull(NftRuleset.Parse(File(rule), "r.nft"));
}
