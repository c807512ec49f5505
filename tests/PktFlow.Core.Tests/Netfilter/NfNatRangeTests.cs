using PktFlow.Netfilter;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter;

/// <summary>
/// find_best_ips_proto: the address of a range a connection gets. The expected addresses are the kernel's
/// (6.18, conntrack -L in tests/scenarios/nft-nat-addr-ranges).
/// </summary>
public class NfNatRangeTests
{
    [Theory]
    [InlineData("10.1.0.2", "10.1.0.1", "10.2.0.2", "10.2.0.9", false, false, "10.2.0.5")]
    [InlineData("10.1.0.2", "10.1.0.1", "10.2.0.2", "10.2.0.9", true, false, "10.2.0.3")]
    [InlineData("10.1.0.7", "10.1.0.1", "10.2.0.2", "10.2.0.9", false, false, "10.2.0.2")]
    [InlineData("10.1.0.7", "10.1.0.1", "10.2.0.2", "10.2.0.9", true, false, "10.2.0.5")]
    [InlineData("10.1.0.2", "10.2.0.2", "198.51.100.1", "198.51.100.40", false, true, "198.51.100.17")]
    [InlineData("10.1.0.2", "10.2.0.2", "198.51.100.50", "198.51.100.90", true, true, "198.51.100.55")]
    [InlineData("10.1.0.9", "10.2.0.2", "198.51.100.1", "198.51.100.40", false, true, "198.51.100.32")]
    [InlineData("10.1.0.9", "10.2.0.2", "198.51.100.50", "198.51.100.90", true, true, "198.51.100.63")]
    public void FindBestIp_PicksTheKernelsAddress(string src, string dst, string min, string max, bool persistent, bool source, string expected)
    {
        var tuple = new ConntrackTuple(IpAddr.Parse(src), IpAddr.Parse(dst), IpProtocol.Tcp, 41000, 80);
        Assert.Equal(IpAddr.Parse(expected), NfNatRange.FindBestIp(tuple, IpAddr.Parse(min), IpAddr.Parse(max), persistent, source, zone: 0));
    }

    [Fact]
    public void FindBestIp_StaysInAnIpv6Range()
    {
        var tuple = new ConntrackTuple(IpAddr.Parse("2001:db8::2"), IpAddr.Parse("2001:db8:1::1"), IpProtocol.Tcp, 41000, 80);
        for (int i = 0; i < 16; i++)
        {
            var t = tuple with { Source = IpAddr.Parse($"2001:db8::{i + 2:x}") };
            var a = NfNatRange.FindBestIp(t, IpAddr.Parse("fd00::1:0"), IpAddr.Parse("fd00::1:ff"), persistent: false, source: true, zone: 0);
            Assert.True(a.CompareTo(IpAddr.Parse("fd00::1:0")) >= 0 && a.CompareTo(IpAddr.Parse("fd00::1:ff")) <= 0, $"{a}");
        }
    }
}
