using PktFlow.Netfilter.Nftables;
using PktFlow.Wire;
using static PktFlow.Tests.Netfilter.Nftables.NftPayloadSetTests;
using static PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// Payload writes beyond addresses and ports (ip protocol/length, ICMP fields, raw @nh/@th/@ih) and
/// statement values through nft_bitwise (and/or/xor, shifts): the bytes and checksums nft 1.0.6's
/// attributes give (nft --debug=netlink), checked with sums written out here.
/// </summary>
public class NftPayloadSetRawTests
{
    private static FakeNftPacket Udp4(byte[]? payload = null) =>
        new() { Net = Ipv4("10.1.0.2", "10.2.0.2", 17, Udp("10.1.0.2", "10.2.0.2", 5000, 7000, payload ?? new byte[] { 1, 2, 3, 4 })), L4Protocol = 17, TransportOffset = 20 };

    private static FakeNftPacket Icmp4(byte type, uint rest = 0x00070001) =>
        new() { Net = Ipv4("10.1.0.2", "10.2.0.2", 1, Icmp(type, 0, rest, new byte[] { 9, 9 })), L4Protocol = 1, TransportOffset = 20 };

    /// <summary>The UDP checksum against the pseudo-header with <paramref name="proto"/> and the UDP length.</summary>
    private static bool UdpOk(byte[] ip, byte proto = 17)
    {
        int len = ip.Length - 20;
        return Sum16(ip[12..20].Concat(new byte[] { 0, proto, (byte)(len >> 8), (byte)len }).Concat(ip[20..])) == 0xFFFF;
    }

    [Fact]
    public void IpProtocolWritesTtlAndProtocolAndFixesBothChecksumsForThePseudoHeader()
    {
        // 2 bytes at 8, CSUM_INET at 10, L4CSUM_PSEUDOHDR: the UDP checksum now sums right with protocol 6
        var p = Udp4();
        var r = Run("ip protocol set 6", p);
        Assert.Equal(new byte[] { 64, 6 }, p.Net[8..10]);
        Assert.Equal(0xFFFF, Sum16(p.Net[..20]));
        Assert.True(UdpOk(p.Net, proto: 6));
        Assert.Contains("ip protocol set: 17 -> 6", r.Notes);
    }

    [Fact]
    public void IpLengthFixesTheHeaderChecksumAndShiftsTheTransportOne()
    {
        // nft flags the total length for the pseudo-header too: the UDP checksum moves by the same difference
        var p = Udp4();
        Run("ip length set 40", p);
        Assert.Equal(new byte[] { 0, 40 }, p.Net[2..4]);
        Assert.Equal(0xFFFF, Sum16(p.Net[..20]));
        Assert.False(UdpOk(p.Net));
    }

    [Fact]
    public void Ip6NexthdrMovesTheUdpChecksumAsTheKernelDoes()
    {
        // 1 byte at 6 with L4CSUM_PSEUDOHDR and no CSUM_INET: csum_partial sums the lone byte as a word's
        // high byte, so 17 -> 253 leaves 0x4349, not 0x2e5e (checked on 6.18 with this datagram)
        var udp = Udp("2001:db8:a::2", "2001:db8:b::2", 40000, 7000, "payload1"u8);
        var p = new FakeNftPacket { Family = NftFamily.Ip6, Net = Ipv6("2001:db8:a::2", "2001:db8:b::2", 17, udp), L4Protocol = 17, TransportOffset = 40 };
        Assert.Equal(new byte[] { 0x2F, 0x4A }, p.Net[46..48]);
        Run("ip6 nexthdr set 253", p, family: "ip6");
        Assert.Equal(253, p.Net[6]);
        Assert.Equal(new byte[] { 0x43, 0x49 }, p.Net[46..48]);
    }

    /// <summary>A DATA chunk 10.9.1.2:4000 -> 10.9.2.2 with a wrong CRC32c, as 6.18 forwarded it after the rules below.</summary>
    [Theory]
    [InlineData("sctp dport set 5001", "1388", "0fa013890000000726674b9f")]
    [InlineData("sctp vtag set 0x01020304", "1770", "0fa01770010203045ca78127")]
    public void SctpWritesComputeTheCrc32cAfresh(string rule, string dport, string header)
    {
        var ip = Convert.FromHexString("45000034000100003f8464300a0901020a0902020fa0" + dport + "0000000712345678" + "0000001400000000000000000000000061626364");
        var p = new FakeNftPacket { Net = ip, L4Protocol = 132, TransportOffset = 20 };
        Run(rule, p);
        Assert.Equal(header, Convert.ToHexString(p.Net[20..32]).ToLowerInvariant());
    }

    [Fact]
    public void IcmpFieldsKeepTheIcmpChecksumAndTheIdNeedsAnEcho()
    {
        var echo = Icmp4(8);
        Run("icmp id set 5 icmp type set echo-reply", echo);
        Assert.Equal(new byte[] { 0, 0, 0, 5 }, new[] { echo.Net[20], echo.Net[21], echo.Net[24], echo.Net[25] });
        Assert.Equal(0xFFFF, Sum16(echo.Net[20..]));
        var unreach = Icmp4(3);
        var before = unreach.Net.ToArray();
        Assert.Equal("policy", Run("icmp id set 5 drop", unreach).Runs.Single().By); // not an echo: the rule ends
        Assert.Equal(before, unreach.Net);
    }

    [Fact]
    public void RawNetworkWriteTouchesNoChecksum()
    {
        var p = Udp4();
        Run("@nh,64,8 set 5 @nh,9,3 set 5", p);
        Assert.Equal(5, p.Net[8]);
        Assert.Equal(0x50, p.Net[1]); // bits 9-11: the high nibble's low three bits, the rest kept
        Assert.NotEqual(0xFFFF, Sum16(p.Net[..20]));
    }

    [Fact]
    public void RawTransportWriteLeavesTheUdpChecksumStaleAndAnInnerWriteFixesIt()
    {
        var th = Udp4();
        Run("@th,16,16 set 8080", th);
        Assert.Equal(new byte[] { 0x1F, 0x90 }, th.Net[22..24]);
        Assert.False(UdpOk(th.Net));
        var ih = Udp4();
        Run("@ih,0,32 set 0x41414141", ih);
        Assert.Equal(new byte[] { 0x41, 0x41, 0x41, 0x41 }, ih.Net[28..32]);
        Assert.True(UdpOk(ih.Net));
    }

    [Fact]
    public void AnAddressFromBitwiseKeepsBothChecksums()
    {
        var p = Udp4();
        Run("ip daddr set ip daddr and 255.255.255.0 ip saddr set ip saddr or 0.0.0.5", p);
        Assert.Equal(new byte[] { 10, 1, 0, 7, 10, 2, 0, 0 }, p.Net[12..20]);
        Assert.Equal(0xFFFF, Sum16(p.Net[..20]));
        Assert.True(UdpOk(p.Net));
    }

    [Theory]
    [InlineData("meta mark set meta mark >> 8", 0x1234u, 0x12u)]
    [InlineData("meta mark set (meta mark | 0x10) << 8", 0x1u, 0x1100u)]
    [InlineData("meta mark set meta mark << 8 | 0x5", 0x1234u, 0x123405u)]
    [InlineData("meta mark set meta mark >> 8 & 0xf", 0x1234u, 0x2u)]
    [InlineData("meta mark set meta mark and 0xff00 or 0x1", 0x1234u, 0x1201u)]
    [InlineData("meta mark set meta mark xor 0x1", 0x1234u, 0x1235u)]
    [InlineData("meta mark set 0x10 << 4 | 1", 0x7u, 0x101u)]
    [InlineData("meta mark set meta mark | 0x10 << 8", 0x1u, 0x1001u)] // the shift binds tighter
    public void MarkValuesGoThroughNftBitwise(string rule, uint before, uint after)
    {
        var p = Udp4();
        p.Mark = before;
        Run(rule, p);
        Assert.Equal(after, p.Mark);
    }

    [Fact]
    public void AMaskedKeyPicksTheMapElement()
    {
        var p = new FakeNftPacket { Family = NftFamily.Ip6, Net = Ipv6("2001:db8::2", "2001:db8::1", 59, new byte[4]) };
        Run("meta mark set ip6 saddr and ::ffff map { ::2 : 0x2a, ::ffff : 0x17 }", p, family: "ip6");
        Assert.Equal(0x2au, p.Mark);
    }

    [Fact]
    public void ArpFieldsAndRawWritesLoadInTheArpFamily()
    {
        var rs = NftRuleset.Parse("table arp t { chain c { type filter hook input priority 0; arp operation set 2; @nh,144,48 set 0x112233445566; }; }", "a.nft");
        Assert.Equal(2, rs.Tables.Single().Chains.Single().Rules.Count);
    }
}
