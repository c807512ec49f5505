using PktFlow.Netfilter.Nftables;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;
using static PktFlow.Tests.Netfilter.Nftables.NftPayloadSetTests;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// Payload statements on addresses and ports (nft_payload_set_eval with the checksum attributes nft gives):
/// the IPv4 header checksum and the transport checksum over the pseudo-header, checked with sums written
/// out here independently of the model's, and the kernel's exceptions (UDP checksum 0, ICMP, fragments, th).
/// </summary>
public class NftPayloadSetAddrTests
{
    /// <summary>The transport checksum of an IPv4 (20-byte header) or IPv6 (40) packet is right.</summary>
    private static bool L4Ok(byte[] net)
    {
        bool v6 = net[0] >> 4 == 6;
        int hl = v6 ? 40 : 20, len = net.Length - hl;
        byte proto = v6 ? net[6] : net[9];
        var addrs = v6 ? net[8..40] : net[12..20];
        var pseudo = addrs.Concat(new byte[] { 0, 0, (byte)(len >> 8), (byte)len, 0, 0, 0, proto });
        return Sum16(pseudo.Concat(net[hl..])) == 0xFFFF;
    }

    private static FakeNftPacket V4(byte proto, byte[] l4, ushort frag = 0) =>
        new() { Net = Ipv4("10.1.0.2", "10.2.0.2", proto, l4, fragOffset: frag), L4Protocol = proto, TransportOffset = frag == 0 ? 20 : -1 };

    private static byte[] Syn() => Tcp("10.1.0.2", "10.2.0.2", 40000, 80, 1000, 0, TcpFlags.Syn, payload: new byte[] { 1, 2, 3 });

    [Fact]
    public void DaddrSetFixesTheHeaderAndTcpChecksums()
    {
        var p = V4(6, Syn());
        var r = Run("ip daddr set 10.2.0.3 ip daddr 10.2.0.3 drop", p);
        Assert.Equal(new byte[] { 10, 2, 0, 3 }, p.Net[16..20]);
        Assert.Equal(0xFFFF, Sum16(p.Net[..20]));
        Assert.True(L4Ok(p.Net));
        Assert.Equal("drop", r.Verdict);
        Assert.Contains("ip daddr set: 10.2.0.2 -> 10.2.0.3", r.Notes);
    }

    [Fact]
    public void SaddrSetFixesUdpButLeavesAZeroUdpChecksumAlone()
    {
        var p = V4(17, Udp("10.1.0.2", "10.2.0.2", 5000, 53, new byte[] { 9, 9, 9 }));
        Run("ip saddr set 192.0.2.7", p);
        Assert.True(L4Ok(p.Net));
        var z = V4(17, Udp("10.1.0.2", "10.2.0.2", 5000, 53, new byte[] { 9, 9, 9 }, checksum: false));
        var r = Run("ip saddr set 192.0.2.7", z);
        Assert.Equal(new byte[] { 0, 0 }, z.Net[26..28]);
        Assert.Equal(0xFFFF, Sum16(z.Net[..20]));
        Assert.Contains("ip saddr set: 10.1.0.2 -> 192.0.2.7 (UDP checksum 0 left alone)", r.Notes);
    }

    [Fact]
    public void IcmpHasNoPseudoHeaderAndANonFirstFragmentNoTransportHeader()
    {
        var icmp = V4(1, Icmp(8, 0, 0x00010001, new byte[] { 1, 2, 3, 4 }));
        var icmpBefore = icmp.Net[20..].ToArray();
        Run("ip daddr set 10.2.0.3", icmp);
        Assert.Equal(icmpBefore, icmp.Net[20..]);
        Assert.Equal(0xFFFF, Sum16(icmp.Net[20..]));
        var frag = V4(6, Syn(), frag: 185);
        var fragBefore = frag.Net[20..].ToArray();
        var r = Run("ip daddr set 10.2.0.3 tcp dport set 81", frag);
        Assert.Equal(fragBefore, frag.Net[20..]); // no L4 checksum update, and the port write ends the rule (NFT_BREAK)
        Assert.Equal(0xFFFF, Sum16(frag.Net[..20]));
        Assert.Contains("ip daddr set: 10.2.0.2 -> 10.2.0.3 (a non-first fragment: no transport checksum to update)", r.Notes);
    }

    [Fact]
    public void Ipv6AddressesFixTheTransportChecksumOnly()
    {
        var udp = Udp("2001:db8::1", "2001:db8::2", 5000, 53, new byte[] { 7, 7 });
        var p = new FakeNftPacket { Family = NftFamily.Ip6, Net = Ipv6("2001:db8::1", "2001:db8::2", 17, udp), L4Protocol = 17, TransportOffset = 40 };
        Run("ip6 daddr set 2001:db8::99 ip6 saddr set 2001:db8:1::1", p, "ip6");
        Assert.Equal(Ipv6Addr("2001:db8::99"), p.Net[24..40]);
        Assert.Equal(Ipv6Addr("2001:db8:1::1"), p.Net[8..24]);
        Assert.True(L4Ok(p.Net));
    }

    [Fact]
    public void PortsFixTheirChecksumButThDoesNot()
    {
        var p = V4(6, Syn());
        Run("tcp dport set 8080", p);
        Assert.Equal(new byte[] { 0x1F, 0x90 }, p.Net[22..24]);
        Assert.True(L4Ok(p.Net));
        var u = V4(17, Udp("10.1.0.2", "10.2.0.2", 5000, 53, new byte[] { 1 }));
        Run("udp sport set 5353", u);
        Assert.True(L4Ok(u.Net));
        var th = V4(6, Syn());
        Run("th dport set 8080", th); // nft asks for no checksum update for th: the segment leaves with a stale one
        Assert.Equal(new byte[] { 0x1F, 0x90 }, th.Net[22..24]);
        Assert.False(L4Ok(th.Net));
    }

    [Fact]
    public void AZeroUdpChecksumIsMangledByAPortWrite()
    {
        // udp dport set carries NFT_PAYLOAD_CSUM_INET at 6 and nft_csum_replace does not look at 0 first:
        // ~(~0 + ~old + new) folded is written
        var u = V4(17, Udp("10.1.0.2", "10.2.0.2", 5000, 53, new byte[] { 1 }, checksum: false));
        Run("udp dport set 5353", u);
        int sum = 0xFFFF + (53 ^ 0xFFFF) + 5353;
        while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
        Assert.Equal(sum ^ 0xFFFF, u.Net[26] << 8 | u.Net[27]);
    }

    [Fact]
    public void AChecksumSetToZeroIsZero()
    {
        var u = V4(17, Udp("10.1.0.2", "10.2.0.2", 5000, 53, new byte[] { 1 }));
        Run("udp checksum set 0 ip checksum set 0", u);
        Assert.Equal(new byte[] { 0, 0 }, u.Net[26..28]);
        Assert.Equal(new byte[] { 0, 0 }, u.Net[10..12]);
    }

    [Fact]
    public void ValuesFromMapsAndFields()
    {
        var p = V4(6, Syn());
        Run("ip daddr set ip daddr map { 10.2.0.2 : 10.9.0.1, 10.2.0.4 : 10.9.0.2 } tcp dport set tcp dport map { 80 : 8080 } ip saddr set ip daddr", p);
        Assert.Equal(new byte[] { 10, 9, 0, 1 }, p.Net[16..20]);
        Assert.Equal(new byte[] { 10, 9, 0, 1 }, p.Net[12..16]);
        Assert.Equal(new byte[] { 0x1F, 0x90 }, p.Net[22..24]);
        Assert.Equal(0xFFFF, Sum16(p.Net[..20]));
        Assert.True(L4Ok(p.Net));
        var miss = V4(6, Syn());
        var before = miss.Net.ToArray();
        Assert.Equal("accept", Run("ip daddr set ip daddr map { 10.7.0.1 : 10.9.0.1 } drop", miss).Verdict); // no element: NFT_BREAK
        Assert.Equal(before, miss.Net);
        var ng = new[] { V4(6, Syn()), V4(6, Syn()) };
        var rs = NftRuleset.Parse("table ip t {\n chain c { type filter hook forward priority 0;\n ip daddr set numgen inc mod 2 map { 0 : 10.9.0.1, 1 : 10.9.0.2 }\n }\n}", "p.nft");
        var state = new NftState(1, "host");
        foreach (var q in ng) NftEvaluator.RunHook(rs, q.Family, NftHookPoint.Forward, q, state: state);
        Assert.Equal(new byte[] { 10, 9, 0, 1 }, ng[0].Net[16..20]);
        Assert.Equal(new byte[] { 10, 9, 0, 2 }, ng[1].Net[16..20]);
    }
}
