using System.Buffers.Binary;
using System.Net;
using PacketDotNet;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Wire;

public class Ipv6HeaderTests
{
    private static readonly byte[] Sample =
    [
        0x6b, 0x81, 0x23, 0x45, // version 6, traffic class 0xb8, flow label 0x12345
        0x00, 0x04, 0x11, 0x40, // payload length 4, UDP, hop limit 64
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
        0xde, 0xad, 0xbe, 0xef,
    ];

    [Fact]
    public void Deconstruct()
    {
        Assert.True(Ipv6Header.TryParse(Sample, out var ip, out var error));
        Assert.Null(error);
        Assert.Equal(6, ip.Version);
        Assert.Equal(0xb8, ip.TrafficClass);
        Assert.Equal(46, ip.Dscp);
        Assert.Equal(0x12345u, ip.FlowLabel);
        Assert.Equal(4, ip.PayloadLength);
        Assert.Equal(IpProtocol.Udp, ip.NextHeader);
        Assert.Equal(64, ip.HopLimit);
        Assert.Equal(IpAddr.Parse("2001:db8::2"), ip.Source);
        Assert.Equal(IpAddr.Parse("2001:db8::1"), ip.Destination);
        Assert.Null(ip.HeaderProblem());
        Assert.Null(ip.LengthProblem(44));
        Assert.Equal([0xde, 0xad, 0xbe, 0xef], ip.Payload.ToArray());
        Assert.False(ip.IsJumbo);
    }

    [Fact]
    public void Construct()
    {
        var pdn = new IPv6Packet(IPAddress.Parse("fe80::1"), IPAddress.Parse("ff02::1:ff00:1"))
        {
            HopLimit = 255,
            NextHeader = PacketDotNet.ProtocolType.IcmpV6,
            PayloadData = Bytes(24),
            PayloadLength = 24,
        };
        Assert.True(Ipv6Header.TryParse(pdn.Bytes, out var ip, out _));
        Assert.Equal(IpAddr.Parse("fe80::1"), ip.Source);
        Assert.Equal(IpAddr.Parse("ff02::1:ff00:1"), ip.Destination);
        Assert.Equal(255, ip.HopLimit);
        Assert.Equal(IpProtocol.Icmpv6, ip.NextHeader);
        Assert.Equal(24, ip.PayloadLength);
        Assert.Equal(24, ip.Payload.Length);

        var back = new IPv6Packet(new PacketDotNet.Utils.ByteArraySegment(Ipv6("2001:db8::2", "2001:db8::1", 6, Bytes(20), hopLimit: 9, trafficClass: 4, flowLabel: 77)));
        Assert.Equal(IPAddress.Parse("2001:db8::2"), back.SourceAddress);
        Assert.Equal(9, back.HopLimit);
        Assert.Equal(4, back.TrafficClass);
        Assert.Equal(77, back.FlowLabel);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(39)]
    public void Truncated(int length)
    {
        Assert.False(Ipv6Header.TryParse(Sample.AsSpan(0, length), out _, out var error));
        Assert.Equal($"IPv6 header {length} bytes < 40", error);
    }

    [Fact]
    public void Truncated_Payload()
    {
        Assert.True(Ipv6Header.TryParse(Sample.AsSpan(0, 42), out var ip, out _));
        Assert.Equal("IPv6 payload length 4 > 2 bytes present", ip.LengthProblem(42));
        Assert.Equal(2, ip.Payload.Length);
    }

    [Fact]
    public void Overlong()
    {
        var bytes = Concat(Sample, new byte[14]);
        Assert.True(Ipv6Header.TryParse(bytes, out var ip, out _));
        Assert.Equal(4, ip.Payload.Length);
        Assert.Equal(18, ip.AfterFixedHeader.Length);
        Assert.Null(ip.LengthProblem(bytes.Length));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(0)]
    [InlineData(15)]
    public void BadVersion(int version)
    {
        var bytes = (byte[])Sample.Clone();
        bytes[0] = (byte)(version << 4 | (bytes[0] & 0x0F));
        Assert.True(Ipv6Header.TryParse(bytes, out var ip, out _));
        Assert.Equal($"IPv6 version {version} != 6", ip.HeaderProblem());
    }

    [Fact]
    public void Jumbo_ZeroPayloadLengthWithHopByHop()
    {
        // Hop-by-hop with the jumbo payload option (RFC 2675): type 0xC2, length 4, value.
        var hbh = new byte[] { 6, 0, 0xC2, 4, 0, 1, 0x11, 0x70 };
        var bytes = Ipv6("2001:db8::2", "2001:db8::1", 0, Concat(hbh, Bytes(100)), payloadLength: 0);
        Assert.True(Ipv6Header.TryParse(bytes, out var ip, out _));
        Assert.True(ip.IsJumbo);
        Assert.Null(ip.LengthProblem(bytes.Length));
        Assert.Equal(108, ip.Payload.Length);
        Assert.True(Ipv6ExtensionHeaders.Walk(ip.NextHeader, ip.AfterFixedHeader, out var chain));
        Assert.Equal(0x11170u, chain.JumboPayloadLength);
        Assert.Equal(IpProtocol.Tcp, chain.UpperProtocol);
        Assert.Equal(8, chain.UpperOffset);

        // Zero payload length without hop-by-hop is a plain length error (the payload is not empty).
        var plain = Ipv6("2001:db8::2", "2001:db8::1", 17, Bytes(8), payloadLength: 0);
        Assert.True(Ipv6Header.TryParse(plain, out ip, out _));
        Assert.False(ip.IsJumbo);
        Assert.True(ip.Payload.IsEmpty);
    }

    [Fact]
    public void Writer()
    {
        var bytes = (byte[])Sample.Clone();
        Ipv6HeaderWriter.DecrementHopLimit(bytes);
        Ipv6HeaderWriter.SetSource(bytes, IpAddr.Parse("2001:db8::9"));
        Ipv6HeaderWriter.SetDestination(bytes, IpAddr.Parse("2001:db8::8"));
        Assert.True(Ipv6Header.TryParse(bytes, out var ip, out _));
        Assert.Equal(63, ip.HopLimit);
        Assert.Equal(IpAddr.Parse("2001:db8::9"), ip.Source);
        Assert.Equal(IpAddr.Parse("2001:db8::8"), ip.Destination);
        Assert.Throws<ArgumentException>(() => Ipv6HeaderWriter.SetSource(new byte[40], IpAddr.Parse("10.0.0.1")));
    }
}

public class Ipv6ExtensionHeaderTests
{
    [Fact]
    public void Deconstruct_FullChain()
    {
        // hop-by-hop -> destination options -> routing (SRH, 1 segment left) -> fragment (first, MF) -> TCP
        byte[] chainBytes = Concat(
            ExtHeader(60, [5, 2, 0, 0]),
            ExtHeader(43, []),
            ExtHeader(44, Concat([4, 1, 0, 0, 0, 0], Ipv6Addr("2001:db8::5"))),
            FragmentHeader(6, 0, true, 0xabcdef01),
            Bytes(20));
        Assert.True(Ipv6ExtensionHeaders.Walk(IpProtocol.HopByHop, chainBytes, out var c));
        Assert.Null(c.Problem);
        Assert.Equal(IpProtocol.Tcp, c.UpperProtocol);
        Assert.Equal(8 + 8 + 24 + 8, c.UpperOffset);
        Assert.Equal(4, c.HeaderCount);
        Assert.True(c.HasHopByHop);
        Assert.True(c.HasDestinationOptions);
        Assert.True(c.HasRouting);
        Assert.Equal(4, c.RoutingType);
        Assert.Equal(1, c.SegmentsLeft);
        Assert.True(c.HasFragment);
        Assert.Equal(0, c.FragmentOffset);
        Assert.True(c.MoreFragments);
        Assert.Equal(0xabcdef01u, c.FragmentId);
        Assert.False(c.IsNonFirstFragment);
    }

    [Fact]
    public void NoExtensionHeaders()
    {
        Assert.True(Ipv6ExtensionHeaders.Walk(IpProtocol.Udp, Bytes(8), out var c));
        Assert.Equal(IpProtocol.Udp, c.UpperProtocol);
        Assert.Equal(0, c.UpperOffset);
        Assert.Equal(0, c.HeaderCount);
    }

    [Fact]
    public void NonFirstFragment_StopsAtFragmentHeader()
    {
        Assert.True(Ipv6ExtensionHeaders.Walk(IpProtocol.Fragment, Concat(FragmentHeader(17, 1448, false, 7), Bytes(40)), out var c));
        Assert.True(c.IsNonFirstFragment);
        Assert.Equal(1448, c.FragmentOffset);
        Assert.False(c.MoreFragments);
        Assert.Equal(IpProtocol.Udp, c.UpperProtocol);
        Assert.Equal(8, c.UpperOffset);
    }

    [Fact]
    public void AuthenticationHeader()
    {
        // AH length field 4 -> (4 + 2) * 4 = 24 bytes.
        var ah = Concat([58, 4, 0, 0], new byte[20]);
        Assert.True(Ipv6ExtensionHeaders.Walk(IpProtocol.Ah, Concat(ah, Bytes(8)), out var c));
        Assert.True(c.HasAuthenticationHeader);
        Assert.Equal(IpProtocol.Icmpv6, c.UpperProtocol);
        Assert.Equal(24, c.UpperOffset);
    }

    [Fact]
    public void NoNextHeader()
    {
        Assert.True(Ipv6ExtensionHeaders.Walk(IpProtocol.DestOpts, ExtHeader(59, []), out var c));
        Assert.Equal(IpProtocol.NoNext, c.UpperProtocol);
        Assert.Equal(8, c.UpperOffset);
    }

    [Fact]
    public void HopByHopNotFirst()
    {
        Assert.False(Ipv6ExtensionHeaders.Walk(IpProtocol.DestOpts, Concat(ExtHeader(0, []), ExtHeader(6, [])), out var c));
        Assert.Equal("IPv6 hop-by-hop header not first", c.Problem);
        Assert.Equal(IpProtocol.HopByHop, c.UpperProtocol);
        Assert.Equal(8, c.UpperOffset);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(12)]
    public void Truncated(int length)
    {
        var bytes = Concat(ExtHeader(43, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), Bytes(8));
        Assert.False(Ipv6ExtensionHeaders.Walk(IpProtocol.HopByHop, bytes.AsSpan(0, length), out var c));
        Assert.Equal($"IPv6 hop-by-hop header cut at byte {length}", c.Problem);
        Assert.Equal(0, c.HeaderCount);
    }

    [Fact]
    public void Truncated_SecondHeader()
    {
        var bytes = Concat(ExtHeader(44, []), FragmentHeader(6, 0, false, 1));
        Assert.False(Ipv6ExtensionHeaders.Walk(IpProtocol.HopByHop, bytes.AsSpan(0, 12), out var c));
        Assert.Equal("IPv6 fragment header cut at byte 12", c.Problem);
        Assert.Equal(1, c.HeaderCount);
        Assert.Equal(8, c.UpperOffset);
    }

    [Fact]
    public void Overlong_TrailingBytesIgnored()
    {
        Assert.True(Ipv6ExtensionHeaders.Walk(IpProtocol.Routing, Concat(ExtHeader(17, [0, 0, 0, 0, 0, 0]), Bytes(100)), out var c));
        Assert.Equal(8, c.UpperOffset);
    }
}
