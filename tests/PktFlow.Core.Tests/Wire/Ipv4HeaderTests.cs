using System.Buffers.Binary;
using System.Net;
using PacketDotNet;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Wire;

public class Ipv4HeaderTests
{
    // 10.1.0.2 -> 10.1.0.1, ICMP, TTL 64, id 0x1c46, DF, 28 bytes; checksum 0x09df by hand (RFC 1071: ~0xf620).
    private static readonly byte[] Sample =
    [
        0x45, 0xb8, 0x00, 0x1c, 0x1c, 0x46, 0x40, 0x00,
        0x40, 0x01, 0x00, 0x00, 0x0a, 0x01, 0x00, 0x02,
        0x0a, 0x01, 0x00, 0x01,
        0x08, 0x00, 0xf7, 0xff, 0x00, 0x00, 0x00, 0x00,
    ];

    private static byte[] WithChecksum(byte[] b)
    {
        var c = (byte[])b.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(c.AsSpan(10), Checksum.Internet(c.AsSpan(0, (c[0] & 0xF) * 4)));
        return c;
    }

    [Fact]
    public void Deconstruct()
    {
        var bytes = WithChecksum(Sample);
        Assert.True(Ipv4Header.TryParse(bytes, out var ip, out var error));
        Assert.Null(error);
        Assert.Equal(4, ip.Version);
        Assert.Equal(5, ip.Ihl);
        Assert.Equal(20, ip.HeaderLength);
        Assert.Equal(46, ip.Dscp); // EF
        Assert.Equal(0, ip.Ecn);
        Assert.Equal(28, ip.TotalLength);
        Assert.Equal(0x1c46, ip.Identification);
        Assert.True(ip.DontFragment);
        Assert.False(ip.MoreFragments);
        Assert.Equal(0, ip.FragmentOffset);
        Assert.False(ip.IsFragment);
        Assert.Equal(64, ip.Ttl);
        Assert.Equal(IpProtocol.Icmp, ip.Protocol);
        Assert.Equal(IpAddr.Parse("10.1.0.2"), ip.Source);
        Assert.Equal(IpAddr.Parse("10.1.0.1"), ip.Destination);
        Assert.True(ip.HeaderChecksumValid);
        Assert.Null(ip.HeaderProblem());
        Assert.Null(ip.LengthProblem(28));
        Assert.Equal(8, ip.Payload.Length);
        Assert.True(ip.Options.IsEmpty);
        Assert.Equal(0x09df, ip.HeaderChecksum);
    }

    [Fact]
    public void Deconstruct_FragmentAndOptions()
    {
        var bytes = Ipv4("192.0.2.1", "192.0.2.2", 17, Bytes(16), mf: true, fragOffset: 1480, options: [0x94, 4, 0, 0]);
        Assert.True(Ipv4Header.TryParse(bytes, out var ip, out _));
        Assert.Equal(6, ip.Ihl);
        Assert.Equal(24, ip.HeaderLength);
        Assert.True(ip.MoreFragments);
        Assert.Equal(1480, ip.FragmentOffset);
        Assert.True(ip.IsFragment);
        Assert.Equal([0x94, 4, 0, 0], ip.Options.ToArray());
        Assert.Equal(16, ip.Payload.Length);
        Assert.True(ip.HeaderChecksumValid);
    }

    [Fact]
    public void Construct()
    {
        var pdn = new IPv4Packet(IPAddress.Parse("198.51.100.7"), IPAddress.Parse("203.0.113.9"))
        {
            TimeToLive = 17,
            Id = 4242,
            Protocol = PacketDotNet.ProtocolType.Udp,
            PayloadData = Bytes(12),
        };
        pdn.UpdateCalculatedValues();
        pdn.UpdateIPChecksum();
        Assert.True(Ipv4Header.TryParse(pdn.Bytes, out var ip, out _));
        Assert.Equal(IpAddr.Parse("198.51.100.7"), ip.Source);
        Assert.Equal(IpAddr.Parse("203.0.113.9"), ip.Destination);
        Assert.Equal(17, ip.Ttl);
        Assert.Equal(4242, ip.Identification);
        Assert.Equal(IpProtocol.Udp, ip.Protocol);
        Assert.Equal(32, ip.TotalLength);
        Assert.Equal(pdn.Checksum, ip.HeaderChecksum);
        Assert.True(ip.HeaderChecksumValid);
        Assert.Equal(pdn.Checksum, Ipv4HeaderWriter.ComputeHeaderChecksum(pdn.Bytes.AsSpan(0, 20)));

        // PacketDotNet agrees with what FrameBuilder (our checksum routine) writes.
        var ours = new IPv4Packet(new PacketDotNet.Utils.ByteArraySegment(Ipv4("10.0.0.1", "10.0.0.2", 6, Bytes(20), ttl: 3, options: [1, 1, 1, 0])));
        Assert.True(ours.ValidIPChecksum);
        Assert.Equal(3, ours.TimeToLive);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(19)]
    public void Truncated(int length)
    {
        Assert.False(Ipv4Header.TryParse(WithChecksum(Sample).AsSpan(0, length), out _, out var error));
        Assert.Equal($"IPv4 header {length} bytes < 20", error);
    }

    [Fact]
    public void Truncated_Options()
    {
        var bytes = Ipv4("192.0.2.1", "192.0.2.2", 17, [], options: [1, 1, 1, 1, 1, 1, 1, 0]);
        Assert.True(Ipv4Header.TryParse(bytes.AsSpan(0, 24), out var ip, out _));
        Assert.Equal("IPv4 header 28 bytes > 24 captured", ip.HeaderProblem());
        Assert.Equal(4, ip.Options.Length);
        Assert.True(ip.Payload.IsEmpty);
        Assert.False(ip.HeaderChecksumValid);
    }

    [Fact]
    public void Overlong()
    {
        // Ethernet padding after a 28-byte datagram: the payload stops at TotalLength.
        var bytes = Concat(WithChecksum(Sample), new byte[18]);
        Assert.True(Ipv4Header.TryParse(bytes, out var ip, out _));
        Assert.Equal(8, ip.Payload.Length);
        Assert.Equal(28, ip.Packet.Length);
        Assert.Null(ip.LengthProblem(bytes.Length));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(0)]
    public void BadVersion(int version)
    {
        var bytes = WithChecksum(Sample);
        bytes[0] = (byte)(version << 4 | 5);
        Assert.True(Ipv4Header.TryParse(bytes, out var ip, out _));
        Assert.Equal($"IPv4 version {version} != 4", ip.HeaderProblem());
    }

    [Fact]
    public void BadIhl()
    {
        var bytes = WithChecksum(Sample);
        bytes[0] = 0x43;
        Assert.True(Ipv4Header.TryParse(bytes, out var ip, out _));
        Assert.Equal("IPv4 IHL 3 < 5", ip.HeaderProblem());
        Assert.Equal(12, ip.HeaderLength);
        Assert.True(ip.Options.IsEmpty);
        Assert.Equal(8, ip.Payload.Length); // starts after the fixed 20 bytes
        Assert.False(ip.HeaderChecksumValid);
    }

    [Fact]
    public void BadChecksum()
    {
        var bytes = WithChecksum(Sample);
        bytes[10] = 0x12;
        bytes[11] = 0x34;
        Assert.True(Ipv4Header.TryParse(bytes, out var ip, out _));
        Assert.False(ip.HeaderChecksumValid);
        Assert.Equal("IPv4 header checksum 0x1234 wrong (expected 0x09df)", ip.HeaderProblem());
    }

    [Fact]
    public void LengthProblems()
    {
        var bytes = WithChecksum(Sample);
        Assert.True(Ipv4Header.TryParse(bytes, out var ip, out _));
        Assert.Equal("IPv4 total length 28 > 20 bytes present", ip.LengthProblem(20));

        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), 16);
        Assert.True(Ipv4Header.TryParse(bytes, out ip, out _));
        Assert.Equal("IPv4 total length 16 < header length 20", ip.LengthProblem(28));
        Assert.True(ip.Payload.IsEmpty);

        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), 1500);
        Assert.True(Ipv4Header.TryParse(bytes, out ip, out _));
        Assert.Equal("IPv4 total length 1500 > 60 bytes present", ip.LengthProblem(60));
        Assert.Equal(8, ip.Payload.Length); // clamped to what is there
    }

    [Fact]
    public void TotalLengthZero_IsTsoSuperFrame()
    {
        var bytes = Ipv4("10.0.0.1", "10.0.0.2", 6, Bytes(3000), totalLength: 0);
        Assert.True(Ipv4Header.TryParse(bytes, out var ip, out _));
        Assert.True(ip.TotalLengthZero);
        Assert.Equal(3000, ip.Payload.Length);
        Assert.Equal("IPv4 total length 0 < header length 20", ip.LengthProblem(bytes.Length));
        Assert.Null(ip.LengthProblem(bytes.Length, allowZeroTotalLength: true));
    }

    [Fact]
    public void DecrementTtl_KeepsChecksumValid()
    {
        var rng = new Random(1624);
        for (int i = 0; i < 20_000; i++)
        {
            var h = new byte[20];
            rng.NextBytes(h);
            h[0] = 0x45;
            if (h[8] == 0) h[8] = 1;
            BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(10), 0);
            BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(10), Checksum.Internet(h));
            byte ttl = h[8];
            Ipv4HeaderWriter.DecrementTtl(h);
            Assert.Equal(ttl - 1, h[8]);
            Assert.True(Ipv4Header.TryParse(h, out var ip, out _));
            Assert.True(ip.HeaderChecksumValid, $"case {i}");
        }
    }

    [Fact]
    public void DecrementTtl_MatchesRecompute()
    {
        var bytes = WithChecksum(Sample);
        Ipv4HeaderWriter.DecrementTtl(bytes);
        Assert.Equal(63, bytes[8]);
        Assert.Equal(Ipv4HeaderWriter.ComputeHeaderChecksum(bytes.AsSpan(0, 20)), BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(10)));
        Assert.Equal(0x0adf, BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(10)));
    }

    [Fact]
    public void SetAddresses_UpdatesChecksum()
    {
        var rng = new Random(7);
        for (int i = 0; i < 5000; i++)
        {
            var bytes = Ipv4($"10.{rng.Next(256)}.{rng.Next(256)}.{rng.Next(256)}", "192.0.2.1", 6, Bytes(8), ttl: (byte)rng.Next(1, 256), id: (ushort)rng.Next());
            var src = IpAddr.V4((uint)rng.NextInt64(0, 1L << 32));
            var dst = IpAddr.V4((uint)rng.NextInt64(0, 1L << 32));
            Ipv4HeaderWriter.SetSource(bytes, src);
            Ipv4HeaderWriter.SetDestination(bytes, dst);
            Assert.True(Ipv4Header.TryParse(bytes, out var ip, out _));
            Assert.Equal(src, ip.Source);
            Assert.Equal(dst, ip.Destination);
            Assert.True(ip.HeaderChecksumValid, $"case {i}");
        }
        Assert.Throws<ArgumentException>(() => Ipv4HeaderWriter.SetSource(new byte[20], IpAddr.Parse("::1")));
    }

    [Fact]
    public void SetTos_UpdatesChecksum()
    {
        var bytes = WithChecksum(Sample);
        Ipv4HeaderWriter.SetTos(bytes, 0x03);
        Assert.True(Ipv4Header.TryParse(bytes, out var ip, out _));
        Assert.Equal(3, ip.Ecn);
        Assert.True(ip.HeaderChecksumValid);
    }

    [Fact]
    public void UpdateHeaderChecksum()
    {
        var bytes = (byte[])Sample.Clone();
        Ipv4HeaderWriter.UpdateHeaderChecksum(bytes);
        Assert.Equal(0x09df, BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(10)));
    }
}
