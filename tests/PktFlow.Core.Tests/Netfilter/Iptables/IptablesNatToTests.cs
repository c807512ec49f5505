using PktFlow.Netfilter.Iptables;
using PktFlow.Netfilter.Nftables;
using PktFlow.Tests.Netfilter.Nftables;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Iptables;

/// <summary>
/// SNAT --to-source / DNAT --to-destination as libxt_NAT parses them: checked on load with iptables-nft-restore
/// 1.8.9's words (a prefix, a bad address or one of the other family: Bad IP address; a port range high-low:
/// funky), and turned into the address range nft_nat gets once.
/// </summary>
public class IptablesNatToTests
{
    private static string Rules(string to, bool v6 = false) =>
        $"*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -p tcp -j SNAT --to-source {to}\nCOMMIT\n";

    [Theory]
    [InlineData("10.0.0.0/24", false, "Bad IP address \"10.0.0.0/24\"")]
    [InlineData("10.0.0.256", false, "Bad IP address \"10.0.0.256\"")]
    [InlineData("fe80::1", false, "Bad IP address")]
    [InlineData("10.0.0.1:90-80", false, "Port range `80' funky")]
    [InlineData("[10.0.0.1]", true, "Bad IP address \"10.0.0.1\"")]
    [InlineData("10.0.0.9-10.0.0.1", false, "unsupported: a reversed address range '10.0.0.9-10.0.0.1'")] // iptables loads it
    public void Refused(string to, bool v6, string message)
    {
        var e = Assert.Throws<IptablesParseException>(() => IptablesRestore.Load(Rules(to), "rules", v6));
        Assert.Equal(3, e.Line);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("10.0.0.1-10.0.0.9:1000-2000", false, "10.0.0.1", "10.0.0.9", 1000, 2000)]
    [InlineData("10.0.0.5", false, "10.0.0.5", null, null, null)]
    [InlineData("[2001:db8::1]:80", true, "2001:db8::1", null, 80, 80)]
    public void Loaded(string to, bool v6, string min, string? max, int? pmin, int? pmax)
    {
        var rs = IptablesRestore.Load(Rules(to), "rules", v6);
        var p = v6 ? FakeNftPacket.Tcp6("2001:db8::9", "2001:db8::2", 1, 80) : FakeNftPacket.Tcp4("10.1.0.9", "10.2.0.2", 1, 80);
        var nat = NftEvaluator.RunHook(rs, v6 ? NftFamily.Ip6 : NftFamily.Ip, NftHookPoint.Postrouting, p).Nat!;
        Assert.Equal((IpAddr.Parse(min), max is null ? null : IpAddr.Parse(max), pmin, pmax), (nat.AddressMin, nat.AddressMax, nat.PortMin, nat.PortMax));
    }
}
