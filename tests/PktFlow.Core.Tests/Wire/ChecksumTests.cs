using System.Buffers.Binary;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Wire;

public class ChecksumTests
{
    [Fact]
    public void Rfc1071Example()
    {
        // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2.
        byte[] b = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        Assert.Equal(0xddf2, Checksum.Fold(Checksum.Sum(b)));
        Assert.Equal(0x220d, Checksum.Internet(b));
    }

    [Fact]
    public void OddLength_PadsWithZero()
    {
        Assert.Equal(Checksum.Internet([1, 2, 3, 0]), Checksum.Internet([1, 2, 3]));
        Assert.Equal(0xffff, Checksum.Internet([]));
    }

    [Fact]
    public void TransportValid_TcpUdpIcmpv6()
    {
        var s4 = IpAddr.Parse("192.0.2.1");
        var d4 = IpAddr.Parse("198.51.100.2");
        var tcp = Tcp("192.0.2.1", "198.51.100.2", 1, 2, 3, 4, TcpFlags.Ack, payload: Bytes(31));
        Assert.True(Checksum.TransportValid(s4, d4, IpProtocol.Tcp, tcp));
        tcp[^1] ^= 0x40;
        Assert.False(Checksum.TransportValid(s4, d4, IpProtocol.Tcp, tcp));
        Assert.False(Checksum.TransportValid(s4, d4, IpProtocol.Tcp, tcp.AsSpan(0, 10)));

        var udp = Udp("192.0.2.1", "198.51.100.2", 1, 2, Bytes(5));
        Assert.True(Checksum.TransportValid(s4, d4, IpProtocol.Udp, udp));
        Assert.False(Checksum.TransportValid(d4, s4, IpProtocol.Udp, Concat(udp[..6], [0x12, 0x34], udp[8..])));

        var s6 = IpAddr.Parse("2001:db8::1");
        var d6 = IpAddr.Parse("2001:db8::2");
        var icmp6 = Icmpv6("2001:db8::1", "2001:db8::2", 128, 0, 1, Bytes(3));
        Assert.True(Checksum.TransportValid(s6, d6, IpProtocol.Icmpv6, icmp6));
        Assert.False(Checksum.TransportValid(s6, d4, IpProtocol.Icmpv6, icmp6)); // mixed families
        Assert.False(Checksum.TransportValid(s4, d4, IpProtocol.Icmpv6, icmp6)); // ICMPv6 needs IPv6
        Assert.False(Checksum.TransportValid(s4, d4, IpProtocol.Gre, icmp6));
        Assert.True(Checksum.TransportValid(s4, d4, IpProtocol.Icmp, Icmp(8, 0, 0, Bytes(3))));
    }

    [Fact]
    public void Replace_MatchesRecompute()
    {
        var rng = new Random(1624);
        var data = new byte[24];
        for (int i = 0; i < 20_000; i++)
        {
            rng.NextBytes(data);
            BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(0), 0);
            ushort check = Checksum.Internet(data);
            BinaryPrimitives.WriteUInt16BigEndian(data, check);

            int at = 2 + 4 * rng.Next(5);
            uint old = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at));
            uint now = (uint)rng.NextInt64(0, 1L << 32);
            BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(at), now);
            check = Checksum.Replace4(check, old, now);
            BinaryPrimitives.WriteUInt16BigEndian(data, check);
            Assert.Equal(0xffff, Checksum.Fold(Checksum.Sum(data)));

            ushort old2 = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(at));
            ushort now2 = (ushort)rng.Next(65536);
            BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(at), now2);
            check = Checksum.Replace2(check, old2, now2);
            BinaryPrimitives.WriteUInt16BigEndian(data, check);
            Assert.Equal(0xffff, Checksum.Fold(Checksum.Sum(data)));
        }
    }

    [Fact]
    public void ReplaceAddress_V6_KeepsTransportChecksum()
    {
        var seg = Udp("2001:db8::1", "2001:db8::2", 7, 8, Bytes(9));
        ushort check = BinaryPrimitives.ReadUInt16BigEndian(seg.AsSpan(6));
        var newSrc = IpAddr.Parse("2001:db8:ffff::1234");
        BinaryPrimitives.WriteUInt16BigEndian(seg.AsSpan(6), Checksum.ReplaceAddress(check, IpAddr.Parse("2001:db8::1"), newSrc));
        Assert.True(Checksum.TransportValid(newSrc, IpAddr.Parse("2001:db8::2"), IpProtocol.Udp, seg));
    }
}
