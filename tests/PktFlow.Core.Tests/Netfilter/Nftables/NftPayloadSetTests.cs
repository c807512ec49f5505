using PktFlow.Netfilter.Nftables;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// Payload statements (nft_payload_set, nft_exthdr's TCP option write): the packet's bytes change and
/// the checksums stay valid, checked here with a sum written out independently of the model's.
/// </summary>
public class NftPayloadSetTests
{
    internal static NftHookResult Run(string rules, FakeNftPacket p, string family = "inet")
    {
        var rs = NftRuleset.Parse($"table {family} t {{\n chain c {{ type filter hook forward priority 0; policy accept;\n{rules}\n }}\n}}", "p.nft");
        return NftEvaluator.RunHook(rs, p.Family, NftHookPoint.Forward, p);
    }

    /// <summary>RFC 1071 by hand: the one's complement sum of the words, 0xFFFF when a checksum in them is right.</summary>
    internal static int Sum16(IEnumerable<byte> bytes)
    {
        var b = bytes.ToArray();
        long sum = 0;
        for (int i = 0; i < b.Length; i += 2) sum += b[i] << 8 | (i + 1 < b.Length ? b[i + 1] : 0);
        while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
        return (int)sum;
    }

    private static bool TcpChecksumOk(byte[] ip)
    {
        int ihl = (ip[0] & 0xF) * 4, len = ip.Length - ihl;
        var pseudo = ip[12..20].Concat(new byte[] { 0, 6, (byte)(len >> 8), (byte)len });
        return Sum16(pseudo.Concat(ip[ihl..])) == 0xFFFF;
    }

    private static FakeNftPacket Syn(ushort mss, byte[]? options = null, TcpFlags flags = TcpFlags.Syn)
    {
        var tcp = Tcp("10.1.0.2", "10.2.0.2", 40000, 80, 1000, 0, flags, options ?? new byte[] { 2, 4, (byte)(mss >> 8), (byte)mss, 1, 3, 3, 7 }, payload: new byte[] { 1, 2, 3 });
        return new FakeNftPacket { Net = Ipv4("10.1.0.2", "10.2.0.2", 6, tcp), L4Protocol = 6, TransportOffset = 20 };
    }

    [Fact]
    public void MssClampLowersTheOptionAndKeepsTheTcpChecksumValid()
    {
        var p = Syn(1460);
        Assert.True(TcpChecksumOk(p.Net));
        var r = Run("tcp flags syn tcp option maxseg size set 1360", p);
        Assert.Equal(new byte[] { 2, 4, 0x05, 0x50 }, p.Net[40..44]);
        Assert.True(TcpChecksumOk(p.Net));
        Assert.Equal(0xFFFF, Sum16(p.Net[..20])); // the IP header is untouched
        Assert.Contains("tcp option maxseg size set: 1460 -> 1360", r.Notes);
    }

    [Fact]
    public void MssClampNeverRaisesTheOption()
    {
        var p = Syn(1200);
        var before = p.Net.ToArray();
        var r = Run("tcp flags syn tcp option maxseg size set 1360 counter", p);
        Assert.Equal(before, p.Net);
        Assert.Contains("tcp option maxseg size set 1360: 1200 kept (the MSS is only lowered)", r.Notes);
    }

    [Fact]
    public void MssAfterALoneNopIsRewrittenAsTheKernelDoes()
    {
        // the option at an odd offset: inet_proto_csum_replace2 takes the two bytes as one word, so the
        // TCP checksum comes out wrong, as 6.18 sent it (tests/scenarios/nft-payload-set, 4th SYN)
        var p = Syn(0, new byte[] { 1, 2, 4, 0x05, 0xB4, 0, 0, 0 });
        Run("tcp option maxseg size set 1000", p);
        Assert.Equal(new byte[] { 0x03, 0xE8 }, p.Net[43..45]);
        Assert.False(TcpChecksumOk(p.Net));
    }

    [Fact]
    public void ASegmentWithoutTheOptionIsLeftAloneAndTheRuleGoesOn()
    {
        var p = Syn(0, new byte[] { 1, 1, 1, 0 });
        var before = p.Net.ToArray();
        var r = Run("tcp option maxseg size set 1360 drop", p);
        Assert.Equal(before, p.Net);
        Assert.Equal("drop", r.Verdict);
    }

    [Fact]
    public void AMalformedOptionEndsTheRule()
    {
        var p = Syn(0, new byte[] { 2, 9, 5, 0xB4 }); // length runs past the header
        var r = Run("tcp option maxseg size set 1360 drop", p);
        Assert.Equal("accept", r.Verdict);
    }

    [Fact]
    public void RtMtuTakesTheRoutesMssAndNoRouteEndsTheRule()
    {
        var tcp = Tcp("10.1.0.2", "10.2.0.2", 40000, 80, 1000, 0, TcpFlags.Syn, new byte[] { 2, 4, 0x05, 0xB4 });
        var p = new FakeNftPacket { Net = Ipv4("10.1.0.2", "10.2.0.2", 6, tcp), L4Protocol = 6, TransportOffset = 20, RtTcpMss = 1260 };
        var r = Run("tcp flags syn tcp option maxseg size set rt mtu", p);
        Assert.Equal(new byte[] { 0x04, 0xEC }, p.Net[42..44]);
        Assert.True(TcpChecksumOk(p.Net));
        Assert.Contains("tcp option maxseg size set: 1460 -> 1260", r.Notes);
        var none = Syn(1460);
        Assert.Equal("accept", Run("tcp option maxseg size set rt mtu drop", none).Verdict); // no route yet: NFT_BREAK
    }

    [Theory]
    [InlineData("prerouting", "rt mtu is only valid in forward, output and postrouting (nft_rt_validate), not in a prerouting chain")]
    [InlineData("input", "not in a input chain")]
    public void RtMtuIsRefusedWhereThereIsNoRoute(string hook, string message)
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse($"table inet t {{\n chain c {{ type filter hook {hook} priority 0;\n tcp option maxseg size set rt mtu\n }}\n}}", "p.nft"));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void TtlSetUpdatesTheHeaderChecksum()
    {
        var p = Syn(1460);
        var r = Run("ip ttl set 23 ip ttl 23 drop", p);
        Assert.Equal(23, p.Net[8]);
        Assert.Equal(0xFFFF, Sum16(p.Net[..20]));
        Assert.True(TcpChecksumOk(p.Net));
        Assert.Equal("drop", r.Verdict); // a later match sees the new value
        Assert.Contains("ip ttl set: 64 -> 23", r.Notes);
    }

    [Fact]
    public void DscpSetKeepsTheEcnBitsAndTheChecksumValid()
    {
        var p = Syn(1460);
        p.Net[1] = 0x03; // ECN CE
        p.Net[10] = p.Net[11] = 0;
        int s = Sum16(p.Net[..20]) ^ 0xFFFF;
        p.Net[10] = (byte)(s >> 8); p.Net[11] = (byte)s;
        Run("ip dscp set af41", p);
        Assert.Equal(34 << 2 | 3, p.Net[1]);
        Assert.Equal(0xFFFF, Sum16(p.Net[..20]));
    }

    [Fact]
    public void HoplimitAndDscpOfIpv6()
    {
        var tcp = Tcp("2001:db8::1", "2001:db8::2", 1, 2, 1, 0, TcpFlags.Syn);
        var p = new FakeNftPacket { Family = NftFamily.Ip6, Net = Ipv6("2001:db8::1", "2001:db8::2", 6, tcp, flowLabel: 0xABCDE), L4Protocol = 6, TransportOffset = 40 };
        Run("ip6 hoplimit set 1 ip6 dscp set cs1", p, "ip6");
        Assert.Equal(1, p.Net[7]);
        Assert.Equal(8, (p.Net[0] << 8 | p.Net[1]) >> 6 & 0x3F);
        Assert.Equal(6, p.Net[0] >> 4);
        Assert.Equal(0xABCDE, (p.Net[1] & 0xF) << 16 | p.Net[2] << 8 | p.Net[3]); // the flow label is kept
    }

    [Fact]
    public void AnIpv4FieldDoesNotTouchAnIpv6Packet()
    {
        var tcp = Tcp("2001:db8::1", "2001:db8::2", 1, 2, 1, 0, TcpFlags.Syn);
        var p = new FakeNftPacket { Family = NftFamily.Ip6, Net = Ipv6("2001:db8::1", "2001:db8::2", 6, tcp), L4Protocol = 6, TransportOffset = 40 };
        var before = p.Net.ToArray();
        Assert.Equal("accept", Run("ip ttl set 1 drop", p).Verdict);
        Assert.Equal(before, p.Net);
    }

    [Theory]
    [InlineData("tcp option maxseg size set ip ttl", "unsupported: tcp option maxseg size set ip ttl")]
    [InlineData("ip ttl set ip ttl and 0x3f", "Left shift of 8 bits is undefined")]
    [InlineData("ip dscp set 64", "does not fit 'ip dscp'")]
    [InlineData("ip dscp set ip dscp or 0x1", "a sub-byte field takes a constant")]
    [InlineData("ip daddr set ip daddr and ip saddr", "Right hand side of binary operation (and) must be constant")]
    [InlineData("tcp dport set tcp dport << 1", "unsupported: a shift of tcp dport")]
    [InlineData("dccp dport set 5", "unsupported: payload statement 'dccp dport set'")]
    [InlineData("tcp dport set meta mark", "unsupported: tcp dport set meta mark")]
    public void WhatIsNotRewrittenIsRefusedNamingIt(string rule, string message)
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse($"table inet t {{\n chain c {{ type filter hook forward priority 0;\n {rule}\n }}\n}}", "p.nft"));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void JsonMangleOfAPayloadIsTheTextStatement()
    {
        const string json = """
            {"nftables": [{"table": {"family": "ip", "name": "t"}},
              {"chain": {"family": "ip", "table": "t", "name": "c", "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}},
              {"rule": {"family": "ip", "table": "t", "chain": "c", "expr": [
                {"mangle": {"key": {"tcp option": {"name": "maxseg", "field": "size"}}, "value": 1360}},
                {"mangle": {"key": {"payload": {"protocol": "ip", "field": "ttl"}}, "value": 23}}]}}]}
            """;
        var rs = NftRuleset.ParseJson(json, "p.json");
        var p = Syn(1460);
        NftEvaluator.RunHook(rs, p.Family, NftHookPoint.Forward, p);
        Assert.Equal(new byte[] { 0x05, 0x50 }, p.Net[42..44]);
        Assert.Equal(23, p.Net[8]);
        Assert.True(TcpChecksumOk(p.Net));
        Assert.Equal(0xFFFF, Sum16(p.Net[..20]));
    }
}
