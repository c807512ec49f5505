using System.Buffers.Binary;

namespace PktFlow.Wire;

// ICMPv4 header (RFC 792):
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |     Type      |     Code      |          Checksum             |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  Rest of header: echo Identifier | Sequence Number;           |
//  |  redirect gateway; param-problem pointer; frag-needed MTU     |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  Data: echo payload, or (errors) the offending IP header +    |
//  |  at least 8 bytes of its payload (RFC 1812 4.3.2.3: as much   |
//  |  as fits in 576 bytes)                                        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

/// <summary>A zero-copy view of an ICMPv4 message (the 8-byte header icmp_rcv pulls, plus data).</summary>
public readonly ref struct IcmpHeader
{
    private const int TypeOffset = 0;
    private const int CodeOffset = 1;
    internal const int ChecksumOffset = 2;
    private const int RestOffset = 4;
    private const int IdentifierOffset = 4;
    private const int SequenceOffset = 6;
    private const int PointerOffset = 4;
    private const int MtuOffset = 6;
    public const int HeaderLength = 8;

    // Types (RFC 792, 950, 1256).
    public const byte EchoReply = 0;
    public const byte DestUnreach = 3;
    public const byte SourceQuench = 4;
    public const byte Redirect = 5;
    public const byte EchoRequest = 8;
    public const byte RouterAdvertisement = 9;
    public const byte RouterSolicitation = 10;
    public const byte TimeExceeded = 11;
    public const byte ParamProblem = 12;
    public const byte Timestamp = 13;
    public const byte TimestampReply = 14;
    public const byte InfoRequest = 15;
    public const byte InfoReply = 16;
    public const byte AddressMaskRequest = 17;
    public const byte AddressMaskReply = 18;
    /// <summary>RFC 8335 extended echo.</summary>
    public const byte ExtendedEchoRequest = 42;
    public const byte ExtendedEchoReply = 43;

    // Destination unreachable codes (RFC 792, RFC 1122 3.2.2.1, RFC 1812 5.2.7.1).
    public const byte CodeNetUnreachable = 0;
    public const byte CodeHostUnreachable = 1;
    public const byte CodeProtocolUnreachable = 2;
    public const byte CodePortUnreachable = 3;
    public const byte CodeFragmentationNeeded = 4;
    public const byte CodeSourceRouteFailed = 5;
    public const byte CodeNetUnknown = 6;
    public const byte CodeHostUnknown = 7;
    public const byte CodeHostIsolated = 8;
    public const byte CodeNetProhibited = 9;
    public const byte CodeHostProhibited = 10;
    public const byte CodeNetTos = 11;
    public const byte CodeHostTos = 12;
    public const byte CodeAdminProhibited = 13;
    public const byte CodeHostPrecedence = 14;
    public const byte CodePrecedenceCutoff = 15;
    // Time exceeded codes.
    public const byte CodeTtlExceeded = 0;
    public const byte CodeFragmentReassemblyTimeExceeded = 1;

    private readonly ReadOnlySpan<byte> _data;
    private IcmpHeader(ReadOnlySpan<byte> data) => _data = data;

    public ReadOnlySpan<byte> Data => _data;

    public static bool TryParse(ReadOnlySpan<byte> data, out IcmpHeader header, out string? error)
    {
        if (data.Length < HeaderLength)
        {
            header = default;
            error = $"ICMP header {data.Length} bytes < {HeaderLength}";
            return false;
        }
        header = new IcmpHeader(data);
        error = null;
        return true;
    }

    public byte Type => _data[TypeOffset];
    public byte Code => _data[CodeOffset];
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_data[ChecksumOffset..]);
    public ushort Identifier => BinaryPrimitives.ReadUInt16BigEndian(_data[IdentifierOffset..]);
    public ushort SequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(_data[SequenceOffset..]);
    /// <summary>Bytes 4..8 as one word (gateway address for redirects).</summary>
    public uint RestOfHeader => BinaryPrimitives.ReadUInt32BigEndian(_data[RestOffset..]);
    /// <summary>Redirect gateway address.</summary>
    public IpAddr Gateway => IpAddr.V4(RestOfHeader);
    /// <summary>Parameter-problem pointer (octet offset into the offending header).</summary>
    public byte Pointer => _data[PointerOffset];
    /// <summary>Next-hop MTU of a "fragmentation needed" (RFC 1191 4).</summary>
    public ushort NextHopMtu => BinaryPrimitives.ReadUInt16BigEndian(_data[MtuOffset..]);
    /// <summary>The data after the 8-byte header (for errors: the quoted IP header and payload).</summary>
    public ReadOnlySpan<byte> Payload => _data[HeaderLength..];

    /// <summary>True for error messages that quote an offending datagram (icmp_is_err / ICMP_ERRTYPE).</summary>
    public bool IsError => IsErrorType(Type);

    public static bool IsErrorType(byte type) =>
        type is DestUnreach or SourceQuench or Redirect or TimeExceeded or ParamProblem;

    /// <summary>True for the query types (echo, timestamp, info, mask, extended echo) that carry an identifier.</summary>
    public bool IsQuery => Type is EchoReply or EchoRequest or Timestamp or TimestampReply or InfoRequest or InfoReply
        or AddressMaskRequest or AddressMaskReply or ExtendedEchoRequest or ExtendedEchoReply;

    /// <summary>Whether the checksum over these bytes is correct.</summary>
    public bool ChecksumValid => PktFlow.Wire.Checksum.IcmpValid(_data);
}
