using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Nftables;
using PktFlow.Testing;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>IPv6 extension header fields (nft_exthdr over ipv6_find_hdr), TCP options, SCTP chunks, ct tuple keys, and the transport headers beyond tcp/udp/icmp.</summary>
public class NftHeaderFieldTests
{
    private static bool Matches(string rule, FakeNftPacket p, NftFamily family = NftFamily.Ip6)
    {
        var fam = family == NftFamily.Ip6 ? "ip6" : "ip";
        var rs = NftRuleset.Parse($"table {fam} t {{ chain c {{ type filter hook input priority 0; policy accept; {rule} drop; }}; }}", "h.nft");
        return NftEvaluator.RunHook(rs, family, NftHookPoint.Input, p).Verdict == "drop";
    }

    /// <summary>IPv6 with hop-by-hop options, then a fragment header (offset 0, more fragments, id 0x11223344), then UDP.</summary>
    private static FakeNftPacket HbhFragUdp(ushort fragOffset = 0)
    {
        var udp = FrameBuilder.Udp(FakeNftPacket.A("2001:db8::1"), FakeNftPacket.A("2001:db8::2"), 40000, 53);
        var ext = new byte[16 + udp.Length];
        ext[0] = 44; ext[1] = 0;                                     // hbh: next fragment, 8 bytes
        ext[8] = 17; ext[10] = (byte)(fragOffset >> 5); ext[11] = (byte)((fragOffset << 3) | 1); // fragment: next udp, M=1
        ext[12] = 0x11; ext[13] = 0x22; ext[14] = 0x33; ext[15] = 0x44;
        udp.CopyTo(ext, 16);
        return new FakeNftPacket { Family = NftFamily.Ip6, Net = FrameBuilder.Ipv6(FakeNftPacket.A("2001:db8::1"), FakeNftPacket.A("2001:db8::2"), 0, ext), L4Protocol = 17, TransportOffset = 56 };
    }

    [Theory]
    [InlineData("exthdr hbh exists", true)]
    [InlineData("exthdr frag exists", true)]
    [InlineData("exthdr rt exists", false)]
    [InlineData("exthdr rt missing", true)]
    [InlineData("exthdr hbh != exists", false)]
    [InlineData("hbh nexthdr 44", true)]
    [InlineData("hbh hdrlength 0", true)]
    [InlineData("frag id 0x11223344", true)]
    [InlineData("frag more-fragments 1", true)]
    [InlineData("frag frag-off 0", true)]
    [InlineData("frag nexthdr udp", true)]
    [InlineData("rt nexthdr udp", false)] // no routing header: the field is not there (NFT_BREAK)
    [InlineData("dst nexthdr != udp", false)]
    public void Ipv6ExtensionHeaders_FoundByWalkingTheChain(string match, bool expected) => Assert.Equal(expected, Matches(match, HbhFragUdp()));

    [Fact]
    public void Ipv6ExtensionHeaders_NothingAfterALaterFragmentIsFound()
    {
        var p = HbhFragUdp(fragOffset: 100);
        Assert.True(Matches("frag frag-off 100", p));
        Assert.False(Matches("exthdr mh exists", p));
        Assert.True(Matches("exthdr mh missing", p));
    }

    [Theory]
    [InlineData("sctp vtag 0x01020304", true)]
    [InlineData("sctp sport 5000", true)]
    [InlineData("dccp sport 5000", false)] // another protocol: the implied meta l4proto fails
    [InlineData("ah spi 0x01020304", false)]
    public void OtherTransportHeaders_ReadBehindTheirProtocol(string match, bool expected)
    {
        var l4 = new byte[] { 0x13, 0x88, 0x13, 0x89, 1, 2, 3, 4, 0, 0, 0, 0 };
        var p = new FakeNftPacket { Net = FrameBuilder.Ipv4(FakeNftPacket.A("10.0.0.1"), FakeNftPacket.A("10.0.0.2"), 132, l4), L4Protocol = 132, TransportOffset = 20 };
        Assert.Equal(expected, Matches(match, p, NftFamily.Ip));
    }

    [Theory]
    [InlineData("tcp option maxseg size 1460", true)]
    [InlineData("tcp option maxseg length 4", true)]
    [InlineData("tcp option window count 7", true)]
    [InlineData("tcp option sack-perm exists", true)]
    [InlineData("tcp option eol exists", true)]
    [InlineData("tcp option timestamp exists", false)]
    [InlineData("tcp option timestamp missing", true)]
    [InlineData("tcp option timestamp tsval 1", false)]
    [InlineData("tcp option 3 exists", true)]
    public void TcpOptions_WalkedAsNftExthdrDoes(string match, bool expected)
    {
        // doff 8: MSS 1460, NOP, window scale 7, SACK permitted, EOL, padding
        var l4 = new byte[32];
        l4[12] = 8 << 4; l4[13] = 0x02;
        new byte[] { 2, 4, 0x05, 0xB4, 1, 3, 3, 7, 4, 2, 0, 0 }.CopyTo(l4, 20);
        var p = new FakeNftPacket { Net = FrameBuilder.Ipv4(FakeNftPacket.A("10.0.0.1"), FakeNftPacket.A("10.0.0.2"), 6, l4), L4Protocol = 6, TransportOffset = 20 };
        Assert.Equal(expected, Matches(match, p, NftFamily.Ip));
    }

    [Theory]
    [InlineData("ct original ip saddr 10.0.0.1", true)]
    [InlineData("ct reply ip saddr 192.168.1.5", true)] // the DNATed reply tuple
    [InlineData("ct original ip daddr 10.0.0.2", true)]
    [InlineData("ct original ip6 saddr ::1", false)]
    [InlineData("ct original saddr 10.0.0.1", true)] // an ip table: the family is the table's
    [InlineData("ct original proto-dst 80", true)]
    [InlineData("ct reply proto-src 8080", true)]
    [InlineData("ct protocol tcp", true)]
    [InlineData("ct l3proto ipv4", true)]
    [InlineData("ct zone 0", true)]
    public void CtTupleKeys_ReadTheConnection(string match, bool expected)
    {
        var orig = new ConntrackTuple(FakeNftPacket.A("10.0.0.1"), FakeNftPacket.A("10.0.0.2"), 6, 40000, 80);
        var reply = new ConntrackTuple(FakeNftPacket.A("192.168.1.5"), FakeNftPacket.A("10.0.0.1"), 6, 8080, 40000);
        var p = FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 40000, 80, ct: new NftCtInfo("new", "original", 0, "") { Original = orig, Reply = reply });
        Assert.Equal(expected, Matches(match, p, NftFamily.Ip));
        Assert.False(Matches(match, FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 40000, 80, ct: new NftCtInfo("untracked", "original", 0, "")), NftFamily.Ip));
    }

    [Theory]
    [InlineData("sctp chunk data exists", true)]
    [InlineData("sctp chunk init exists", true)]
    [InlineData("sctp chunk sack exists", false)]
    [InlineData("sctp chunk init initial-tsn 5", true)]
    [InlineData("sctp chunk data stream 1337", true)]
    [InlineData("sctp chunk init a-rwnd 1", false)]
    public void SctpChunks_WalkedAsNftExthdrDoes(string match, bool expected)
    {
        // common header, a DATA chunk of 17 bytes (padded to 20), an INIT chunk of 20 bytes (initial TSN 5)
        var l4 = new byte[12 + 20 + 20];
        l4[12] = 0; l4[15] = 17; l4[20] = 0x05; l4[21] = 0x39;   // DATA, length 17, stream 1337
        l4[32] = 1; l4[35] = 20; l4[51] = 5;                     // INIT, length 20, initial TSN 5
        var p = new FakeNftPacket { Net = FrameBuilder.Ipv4(FakeNftPacket.A("10.0.0.1"), FakeNftPacket.A("10.0.0.2"), 132, l4), L4Protocol = 132, TransportOffset = 20 };
        Assert.Equal(expected, Matches(match, p, NftFamily.Ip));
    }

    [Fact]
    public void DccpType_IsFourBitsOfTheNinthByte()
    {
        var l4 = new byte[16]; l4[8] = 1 << 1; // type response (1), X = 0
        var p = new FakeNftPacket { Net = FrameBuilder.Ipv4(FakeNftPacket.A("10.0.0.1"), FakeNftPacket.A("10.0.0.2"), 33, l4), L4Protocol = 33, TransportOffset = 20 };
        Assert.True(Matches("dccp type response", p, NftFamily.Ip));
        Assert.False(Matches("dccp type request", p, NftFamily.Ip));
    }
}
