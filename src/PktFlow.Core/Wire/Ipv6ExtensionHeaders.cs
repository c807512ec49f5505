using System.Buffers.Binary;

namespace PktFlow.Wire;

// IPv6 extension headers (RFC 8200 4). Hop-by-hop (0), routing (43) and destination options (60)
// share the generic layout; the fragment header (44) is fixed at 8 octets; AH (RFC 4302 2) counts
// its length in 4-octet units minus 2.
//
//  Generic (RFC 8200 4.3, 4.4, 4.6; RFC 6564):
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  Next Header  |  Hdr Ext Len  |  (routing: Type, Segments Left)|
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  .      options / type-specific data: (Hdr Ext Len + 1) * 8 total  .
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//  Fragment (RFC 8200 4.5):
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                         Identification                        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//  Authentication Header (RFC 4302 2):
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  | Next Header   |  Payload Len  |          RESERVED             |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  .      SPI, sequence number, ICV: (Payload Len + 2) * 4 total   .
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//  Jumbo payload option in hop-by-hop (RFC 2675 2): type 0xC2, length 4, 32-bit payload length.

/// <summary>The result of walking an IPv6 extension-header chain (a small value-type "repr").</summary>
public readonly struct Ipv6Chain
{
    internal Ipv6Chain(byte upperProtocol, int upperOffset, Flags flags, byte routingType, byte segmentsLeft,
        int fragmentOffset, uint fragmentId, int headerCount, uint jumboPayloadLength, string? problem)
    {
        UpperProtocol = upperProtocol;
        UpperOffset = upperOffset;
        _flags = flags;
        RoutingType = routingType;
        SegmentsLeft = segmentsLeft;
        FragmentOffset = fragmentOffset;
        FragmentId = fragmentId;
        HeaderCount = headerCount;
        JumboPayloadLength = jumboPayloadLength;
        Problem = problem;
    }

    [System.Flags]
    internal enum Flags : byte { None = 0, HopByHop = 1, Routing = 2, Fragment = 4, DestOpts = 8, MoreFragments = 16, Ah = 32 }

    private readonly Flags _flags;

    /// <summary>The first protocol that is not an extension header (TCP, UDP, ICMPv6, ESP, ...), or 59
    /// (no next header). When the walk stopped on a problem: the next-header value it stopped at.</summary>
    public byte UpperProtocol { get; }
    /// <summary>Offset of the upper-layer header from the start of the bytes after the fixed header.</summary>
    public int UpperOffset { get; }
    public bool HasHopByHop => (_flags & Flags.HopByHop) != 0;
    public bool HasRouting => (_flags & Flags.Routing) != 0;
    public byte RoutingType { get; }
    public byte SegmentsLeft { get; }
    public bool HasFragment => (_flags & Flags.Fragment) != 0;
    /// <summary>Fragment offset in bytes (field * 8).</summary>
    public int FragmentOffset { get; }
    public bool MoreFragments => (_flags & Flags.MoreFragments) != 0;
    public uint FragmentId { get; }
    /// <summary>A fragment other than the first: the upper-layer header is not in this packet and the walk stopped at the fragment header.</summary>
    public bool IsNonFirstFragment => HasFragment && FragmentOffset != 0;
    public bool HasDestinationOptions => (_flags & Flags.DestOpts) != 0;
    public bool HasAuthenticationHeader => (_flags & Flags.Ah) != 0;
    /// <summary>Number of extension headers walked.</summary>
    public int HeaderCount { get; }
    /// <summary>The jumbo payload length from the hop-by-hop jumbo option (RFC 2675), 0 if absent.</summary>
    public uint JumboPayloadLength { get; }
    /// <summary>Why the walk stopped early (null when it reached an upper-layer protocol).</summary>
    public string? Problem { get; }
}

/// <summary>Walks an IPv6 extension-header chain without allocating (ipv6_skip_exthdr / ip6_protocol_deliver_rcu order).</summary>
public static class Ipv6ExtensionHeaders
{
    private const int NextHeaderOffset = 0;
    private const int LengthOffset = 1;
    private const int RoutingTypeOffset = 2;
    private const int SegmentsLeftOffset = 3;
    private const int FragmentOffsetField = 2;
    private const int FragmentIdOffset = 4;
    private const int FragmentHeaderLength = 8;
    private const byte JumboOptionType = 0xC2;
    private const byte Pad1OptionType = 0;
    /// <summary>A bound on the chain length: every header is at least 8 bytes so the walk ends anyway,
    /// but a pathological chain should not cost more than this.</summary>
    public const int MaxHeaders = 64;

    /// <summary>True for the next-header values this walker steps over.</summary>
    public static bool IsExtensionHeader(byte nextHeader) => nextHeader is IpProtocol.HopByHop or IpProtocol.Routing
        or IpProtocol.Fragment or IpProtocol.DestOpts or IpProtocol.Ah;

    /// <summary>Short name used in problem messages.</summary>
    public static string Name(byte nextHeader) => nextHeader switch
    {
        IpProtocol.HopByHop => "hop-by-hop",
        IpProtocol.Routing => "routing",
        IpProtocol.Fragment => "fragment",
        IpProtocol.DestOpts => "destination options",
        IpProtocol.Ah => "authentication",
        _ => "extension",
    };

    /// <summary>
    /// Walks from <paramref name="nextHeader"/> (the fixed header's Next Header) over
    /// <paramref name="afterFixedHeader"/>. Returns false with <see cref="Ipv6Chain.Problem"/> set when
    /// a header is cut or out of place; the chain then holds what was seen up to that point.
    /// The walk stops at a non-first fragment (its upper-layer header is elsewhere).
    /// </summary>
    public static bool Walk(byte nextHeader, ReadOnlySpan<byte> afterFixedHeader, out Ipv6Chain chain)
    {
        var flags = Ipv6Chain.Flags.None;
        byte routingType = 0, segmentsLeft = 0;
        int fragOffset = 0;
        uint fragId = 0, jumbo = 0;
        int offset = 0, count = 0;
        string? problem = null;
        byte nh = nextHeader;

        while (IsExtensionHeader(nh))
        {
            if (count >= MaxHeaders) { problem = $"IPv6 extension header chain longer than {MaxHeaders}"; break; }
            // RFC 8200 4.1: hop-by-hop only immediately after the fixed header (ip6_protocol_deliver_rcu
            // answers a later one with a parameter problem).
            if (nh == IpProtocol.HopByHop && count != 0) { problem = "IPv6 hop-by-hop header not first"; break; }
            if (afterFixedHeader.Length - offset < 2)
            {
                problem = $"IPv6 {Name(nh)} header cut at byte {afterFixedHeader.Length}";
                break;
            }
            var h = afterFixedHeader[offset..];
            int len = nh switch
            {
                IpProtocol.Fragment => FragmentHeaderLength,
                IpProtocol.Ah => (h[LengthOffset] + 2) * 4,
                _ => (h[LengthOffset] + 1) * 8,
            };
            if (h.Length < len)
            {
                problem = $"IPv6 {Name(nh)} header cut at byte {afterFixedHeader.Length}";
                break;
            }
            h = h[..len];
            count++;
            byte next = h[NextHeaderOffset];
            switch (nh)
            {
                case IpProtocol.HopByHop:
                    flags |= Ipv6Chain.Flags.HopByHop;
                    jumbo = FindJumbo(h[2..]);
                    break;
                case IpProtocol.Routing:
                    flags |= Ipv6Chain.Flags.Routing;
                    routingType = h[RoutingTypeOffset];
                    segmentsLeft = h[SegmentsLeftOffset];
                    break;
                case IpProtocol.DestOpts:
                    flags |= Ipv6Chain.Flags.DestOpts;
                    break;
                case IpProtocol.Ah:
                    flags |= Ipv6Chain.Flags.Ah;
                    break;
                case IpProtocol.Fragment:
                    flags |= Ipv6Chain.Flags.Fragment;
                    ushort fo = BinaryPrimitives.ReadUInt16BigEndian(h[FragmentOffsetField..]);
                    fragOffset = (fo & 0xFFF8);
                    if ((fo & 1) != 0) flags |= Ipv6Chain.Flags.MoreFragments;
                    fragId = BinaryPrimitives.ReadUInt32BigEndian(h[FragmentIdOffset..]);
                    break;
            }
            offset += len;
            nh = next;
            if (fragOffset != 0) break; // non-first fragment: nothing beyond is a header
        }

        chain = new Ipv6Chain(nh, offset, flags, routingType, segmentsLeft, fragOffset, fragId, count, jumbo, problem);
        return problem is null;
    }

    private static uint FindJumbo(ReadOnlySpan<byte> options)
    {
        // TLV-encoded options (RFC 8200 4.2); Pad1 is a lone zero byte.
        int i = 0;
        while (i < options.Length)
        {
            byte type = options[i];
            if (type == Pad1OptionType) { i++; continue; }
            if (i + 1 >= options.Length) break;
            int len = options[i + 1];
            if (type == JumboOptionType && len == 4 && i + 6 <= options.Length)
                return BinaryPrimitives.ReadUInt32BigEndian(options[(i + 2)..]);
            i += 2 + len;
        }
        return 0;
    }
}
