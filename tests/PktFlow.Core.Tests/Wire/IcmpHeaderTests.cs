using System.Buffers.Binary;
using PacketDotNet;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Wire;

public class IcmpHeaderTests
{
    // Echo request id 5 seq 1 with 4 data bytes; checksum by hand: ~(0x0800 + 0x0005 + 0x0001 + 0x0102 + 0x0304) = 0xf3f3.
    private static readonly byte[] Echo = [0x08, 0x00, 0xf3, 0xf3, 0x00, 0x05, 0x00, 0x01, 1, 2, 3, 4];

    [Fact]
    public void Deconstruct()
    {
        Assert.True(IcmpHeader.TryParse(Echo, out var i, out var error));
        Assert.Null(error);
        Assert.Equal(IcmpHeader.EchoRequest, i.Type);
        Assert.Equal(0, i.Code);
        Assert.Equal(0xf3f3, i.Checksum);
        Assert.Equal(5, i.Identifier);
        Assert.Equal(1, i.SequenceNumber);
        Assert.Equal(0x0005_0001u, i.RestOfHeader);
        Assert.Equal([1, 2, 3, 4], i.Payload.ToArray());
        Assert.False(i.IsError);
        Assert.True(i.IsQuery);
        Assert.True(i.ChecksumValid);
        Assert.True(Checksum.IcmpValid(Echo));
    }

    [Fact]
    public void Deconstruct_Errors()
    {
        var quoted = Ipv4("10.1.0.2", "10.9.9.9", 17, Udp("10.1.0.2", "10.9.9.9", 1, 33434, []))[..28];
        Assert.True(IcmpHeader.TryParse(Icmp(3, 4, 1400, quoted), out var i, out _));
        Assert.True(i.IsError);
        Assert.Equal(1400, i.NextHopMtu);
        Assert.True(Ipv4Header.TryParse(i.Payload, out var inner, out _));
        Assert.Equal(IpAddr.Parse("10.9.9.9"), inner.Destination);

        Assert.True(IcmpHeader.TryParse(Icmp(5, 1, IpAddr.Parse("10.1.0.7").V4Value, quoted), out i, out _));
        Assert.Equal(IpAddr.Parse("10.1.0.7"), i.Gateway);
        Assert.True(IcmpHeader.TryParse(Icmp(12, 0, 20u << 24, quoted), out i, out _));
        Assert.Equal(20, i.Pointer);
        Assert.True(IcmpHeader.IsErrorType(IcmpHeader.TimeExceeded));
        Assert.False(IcmpHeader.IsErrorType(IcmpHeader.EchoReply));
    }

    [Fact]
    public void Construct()
    {
        var pdn = new IcmpV4Packet(new PacketDotNet.Utils.ByteArraySegment(new byte[16]))
        {
            TypeCode = IcmpV4TypeCode.EchoReply,
            Id = 77,
            Sequence = 9,
        };
        pdn.UpdateIcmpChecksum();
        Assert.True(IcmpHeader.TryParse(pdn.Bytes, out var i, out _));
        Assert.Equal(IcmpHeader.EchoReply, i.Type);
        Assert.Equal(77, i.Identifier);
        Assert.Equal(9, i.SequenceNumber);
        Assert.Equal(pdn.Checksum, i.Checksum);
        Assert.True(i.ChecksumValid);

        var ours = new IcmpV4Packet(new PacketDotNet.Utils.ByteArraySegment(Icmp(8, 0, 3u << 16 | 4, Bytes(20))));
        Assert.True(ours.ValidIcmpChecksum);
        Assert.Equal(IcmpV4TypeCode.EchoRequest, ours.TypeCode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void Truncated(int length)
    {
        Assert.False(IcmpHeader.TryParse(Echo.AsSpan(0, length), out _, out var error));
        Assert.Equal($"ICMP header {length} bytes < 8", error);
    }

    [Fact]
    public void BadChecksum()
    {
        var b = (byte[])Echo.Clone();
        b[2] ^= 1;
        Assert.True(IcmpHeader.TryParse(b, out var i, out _));
        Assert.False(i.ChecksumValid);
    }
}

public class Icmpv6HeaderTests
{
    private const string Src = "fe80::1";
    private const string Dst = "ff02::1:ff00:1";

    private static byte[] Ns(params byte[][] options) =>
        Icmpv6(Src, Dst, Icmpv6Header.NeighborSolicitation, 0, 0, Concat([Ipv6Addr("2001:db8::1"), .. options]));

    [Fact]
    public void Deconstruct_Echo()
    {
        var b = Icmpv6("2001:db8::2", "2001:db8::1", 128, 0, 1u << 16 | 2, Bytes(8));
        Assert.True(Icmpv6Header.TryParse(b, out var i, out var error));
        Assert.Null(error);
        Assert.Equal(Icmpv6Header.EchoRequest, i.Type);
        Assert.Equal(1, i.Identifier);
        Assert.Equal(2, i.SequenceNumber);
        Assert.Equal(8, i.Payload.Length);
        Assert.False(i.IsError);
        Assert.False(i.IsNeighborDiscovery);
        Assert.Null(i.NdProblem());
        Assert.True(Checksum.TransportValid(IpAddr.Parse("2001:db8::2"), IpAddr.Parse("2001:db8::1"), IpProtocol.Icmpv6, b));
    }

    [Fact]
    public void Deconstruct_NeighborSolicitation()
    {
        var b = Ns([1, 1, .. MacA.ToBytes()]);
        Assert.True(Icmpv6Header.TryParse(b, out var i, out _));
        Assert.True(i.IsNeighborDiscovery);
        Assert.Equal(IpAddr.Parse("2001:db8::1"), i.TargetAddress);
        Assert.Equal(MacA, i.SourceLinkLayerAddress);
        Assert.Null(i.TargetLinkLayerAddress);
        Assert.Null(i.NdProblem());
        Assert.Null(i.NdProblem(255));
        Assert.Equal("ND neighbor solicitation hop limit 64 != 255", i.NdProblem(64));
    }

    [Fact]
    public void Deconstruct_NeighborAdvertisement()
    {
        var b = Icmpv6("fe80::2", Src, Icmpv6Header.NeighborAdvertisement, 0, 0xe000_0000,
            Concat(Ipv6Addr("2001:db8::1"), [2, 1], MacB.ToBytes()));
        Assert.True(Icmpv6Header.TryParse(b, out var i, out _));
        Assert.True(i.Router);
        Assert.True(i.Solicited);
        Assert.True(i.Override);
        Assert.Equal(MacB, i.TargetLinkLayerAddress);
        Assert.Equal(IpAddr.Parse("2001:db8::1"), i.TargetAddress);
    }

    [Fact]
    public void Deconstruct_RouterAdvertisement()
    {
        var b = Icmpv6("fe80::2", "ff02::1", Icmpv6Header.RouterAdvertisement, 0, 0x40_c0_0708, Concat(new byte[8], [1, 1], MacB.ToBytes()));
        Assert.True(Icmpv6Header.TryParse(b, out var i, out _));
        Assert.Equal(64, i.RaCurrentHopLimit);
        Assert.Equal(0xc0, i.RaFlags);
        Assert.Equal(1800, i.RaRouterLifetime);
        Assert.Equal(MacB, i.SourceLinkLayerAddress);
        Assert.Null(i.NdProblem());
    }

    [Fact]
    public void NdProblems()
    {
        Assert.True(Icmpv6Header.TryParse(Ns([1, 0, 0, 0, 0, 0, 0, 0]), out var i, out _));
        Assert.Equal("ND option type 1 length 0", i.NdProblem());
        Assert.Null(i.SourceLinkLayerAddress);

        Assert.True(Icmpv6Header.TryParse(Ns([1, 2, 0, 0, 0, 0, 0, 0]), out i, out _));
        Assert.Equal("ND option type 1 cut at byte 24", i.NdProblem());

        var multicastTarget = Icmpv6(Src, Dst, 135, 0, 0, Ipv6Addr("ff02::1"));
        Assert.True(Icmpv6Header.TryParse(multicastTarget, out i, out _));
        Assert.Equal("ND neighbor solicitation target ff02::1 is multicast", i.NdProblem());

        var badCode = Icmpv6(Src, Dst, 135, 1, 0, Ipv6Addr("2001:db8::1"));
        Assert.True(Icmpv6Header.TryParse(badCode, out i, out _));
        Assert.Equal("ND neighbor solicitation code 1 != 0", i.NdProblem());
    }

    [Fact]
    public void Truncated()
    {
        Assert.False(Icmpv6Header.TryParse(new byte[7], out _, out var error));
        Assert.Equal("ICMPv6 header 7 bytes < 8", error);
        var ns = Ns();
        Assert.True(Icmpv6Header.TryParse(ns.AsSpan(0, 20), out var i, out _));
        Assert.Equal("ND neighbor solicitation 20 bytes < 24", i.NdProblem());
        Assert.Equal(IpAddr.AnyV6, i.TargetAddress);
        Assert.True(i.NdOptions.IsEmpty);
    }

    [Fact]
    public void Construct()
    {
        // PacketDotNet parses and validates what the builder writes...
        var body = Icmpv6("2001:db8::2", "2001:db8::1", 129, 0, 3u << 16 | 4, Bytes(12));
        var frame = Ether(EtherTypes.Ipv6, Ipv6("2001:db8::2", "2001:db8::1", 58, body));
        var pdn = Packet.ParsePacket(LinkLayers.Ethernet, frame).Extract<IcmpV6Packet>();
        Assert.NotNull(pdn);
        Assert.Equal(IcmpV6Type.EchoReply, pdn.Type);
        Assert.True(pdn.ValidIcmpChecksum);

        // ...and computes the same checksum when asked to.
        ushort ours = pdn.Checksum;
        pdn.Checksum = 0;
        pdn.UpdateIcmpChecksum();
        Assert.Equal(ours, pdn.Checksum);

        Assert.True(Icmpv6Header.TryParse(pdn.Bytes, out var i, out _));
        Assert.Equal(Icmpv6Header.EchoReply, i.Type);
        Assert.Equal(3, i.Identifier);
        Assert.Equal(ours, i.Checksum);
    }
}
