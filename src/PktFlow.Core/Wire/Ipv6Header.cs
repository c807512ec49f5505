using System.Buffers.Binary;

namespace PktFlow.Wire;

// IPv6 fixed header (RFC 8200 3):
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |Version| Traffic Class |           Flow Label                  |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |         Payload Length        |  Next Header  |   Hop Limit   |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                                                               |
//  +                         Source Address                        +
//  |                          (128 bits)                           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                                                               |
//  +                      Destination Address                      +
//  |                          (128 bits)                           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

/// <summary>
/// A zero-copy view of the IPv6 fixed header and what follows it. <see cref="TryParse"/> checks only
/// that the 40 fixed bytes are present; <see cref="HeaderProblem"/> and <see cref="LengthProblem"/>
/// describe what ipv6_rcv (net/ipv6/ip6_input.c) would reject. Walk extension headers with
/// <see cref="Ipv6ExtensionHeaders.Walk"/> over <see cref="AfterFixedHeader"/>.
/// </summary>
public readonly ref struct Ipv6Header
{
    internal const int VersionOffset = 0;
    internal const int PayloadLengthOffset = 4;
    internal const int NextHeaderOffset = 6;
    internal const int HopLimitOffset = 7;
    internal const int SourceOffset = 8;
    internal const int DestinationOffset = 24;
    /// <summary>Length of the fixed header.</summary>
    public const int HeaderLength = 40;

    private readonly ReadOnlySpan<byte> _data;

    private Ipv6Header(ReadOnlySpan<byte> data) => _data = data;

    public ReadOnlySpan<byte> Data => _data;

    public static bool TryParse(ReadOnlySpan<byte> data, out Ipv6Header header, out string? error)
    {
        if (data.Length < HeaderLength)
        {
            header = default;
            error = $"IPv6 header {data.Length} bytes < {HeaderLength}";
            return false;
        }
        header = new Ipv6Header(data);
        error = null;
        return true;
    }

    private uint FirstWord => BinaryPrimitives.ReadUInt32BigEndian(_data);
    public byte Version => (byte)(_data[VersionOffset] >> 4);
    public byte TrafficClass => (byte)(FirstWord >> 20);
    public byte Dscp => (byte)(TrafficClass >> 2);
    public byte Ecn => (byte)(TrafficClass & 0x03);
    public uint FlowLabel => FirstWord & 0x000F_FFFF;
    public ushort PayloadLength => BinaryPrimitives.ReadUInt16BigEndian(_data[PayloadLengthOffset..]);
    public byte NextHeader => _data[NextHeaderOffset];
    public byte HopLimit => _data[HopLimitOffset];
    public IpAddr Source => IpAddr.ReadV6(_data[SourceOffset..]);
    public IpAddr Destination => IpAddr.ReadV6(_data[DestinationOffset..]);

    /// <summary>Payload length 0 with a hop-by-hop header: a jumbogram (RFC 2675) or a BIG TCP
    /// super-frame; the real length is in the hop-by-hop jumbo option.</summary>
    public bool IsJumbo => PayloadLength == 0 && NextHeader == IpProtocol.HopByHop;

    /// <summary>The version check of ipv6_rcv; null when fine.</summary>
    public string? HeaderProblem() => Version != 6 ? $"IPv6 version {Version} != 6" : null;

    /// <summary>
    /// The payload length against the bytes present for this packet (<paramref name="available"/>,
    /// from the IPv6 header on), as ipv6_rcv checks it. A zero payload length is accepted only with a
    /// hop-by-hop header (jumbo payload, RFC 2675 / BIG TCP).
    /// </summary>
    public string? LengthProblem(int available)
    {
        int pl = PayloadLength;
        if (pl == 0 && NextHeader == IpProtocol.HopByHop) return null;
        int present = Math.Max(available - HeaderLength, 0);
        if (pl > present) return $"IPv6 payload length {pl} > {present} bytes present";
        return null;
    }

    /// <summary>Everything captured after the 40-byte fixed header (extension headers included).</summary>
    public ReadOnlySpan<byte> AfterFixedHeader => _data[HeaderLength..];

    /// <summary>
    /// The payload (extension headers + upper layer) up to PayloadLength, trailing padding dropped,
    /// clamped to what was captured; for a jumbo (length 0 with hop-by-hop) everything captured.
    /// </summary>
    public ReadOnlySpan<byte> Payload
    {
        get
        {
            int pl = PayloadLength;
            if (pl == 0 && NextHeader == IpProtocol.HopByHop) return _data[HeaderLength..];
            return _data[HeaderLength..Math.Min(HeaderLength + pl, _data.Length)];
        }
    }
}

/// <summary>In-place edits of an IPv6 header (forwarding and NAT66). The span must start at the header and hold 40 bytes.</summary>
public static class Ipv6HeaderWriter
{
    /// <summary>Decrements the hop limit (IPv6 has no header checksum).</summary>
    public static void DecrementHopLimit(Span<byte> ipv6Header) => ipv6Header[Ipv6Header.HopLimitOffset]--;

    public static void SetSource(Span<byte> ipv6Header, IpAddr address) => Write(ipv6Header, Ipv6Header.SourceOffset, address);
    public static void SetDestination(Span<byte> ipv6Header, IpAddr address) => Write(ipv6Header, Ipv6Header.DestinationOffset, address);

    private static void Write(Span<byte> header, int offset, IpAddr address)
    {
        if (!address.IsV6) throw new ArgumentException($"{address} is not an IPv6 address", nameof(address));
        address.Write(header[offset..]);
    }
}
