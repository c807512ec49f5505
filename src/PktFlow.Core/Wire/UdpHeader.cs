using System.Buffers.Binary;

namespace PktFlow.Wire;

// UDP header (RFC 768):
//
//   0      7 8     15 16    23 24    31
//  +--------+--------+--------+--------+
//  |     Source      |   Destination   |
//  |      Port       |      Port       |
//  +--------+--------+--------+--------+
//  |     Length      |    Checksum     |
//  +--------+--------+--------+--------+
//  |          data octets ...
//  +---------------- ...

/// <summary>A zero-copy view of a UDP header and its payload (view over the IP payload).</summary>
public readonly ref struct UdpHeader
{
    private const int SourcePortOffset = 0;
    private const int DestinationPortOffset = 2;
    private const int LengthOffset = 4;
    internal const int ChecksumOffset = 6;
    public const int HeaderLength = 8;

    private readonly ReadOnlySpan<byte> _data;
    private UdpHeader(ReadOnlySpan<byte> data) => _data = data;

    public ReadOnlySpan<byte> Data => _data;

    public static bool TryParse(ReadOnlySpan<byte> data, out UdpHeader header, out string? error)
    {
        if (data.Length < HeaderLength)
        {
            header = default;
            error = $"UDP header {data.Length} bytes < {HeaderLength}";
            return false;
        }
        header = new UdpHeader(data);
        error = null;
        return true;
    }

    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_data[SourcePortOffset..]);
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_data[DestinationPortOffset..]);
    /// <summary>Header + data length in bytes (0 in an IPv6 jumbogram, RFC 2675 4).</summary>
    public ushort Length => BinaryPrimitives.ReadUInt16BigEndian(_data[LengthOffset..]);
    /// <summary>0 means "no checksum" over IPv4.</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_data[ChecksumOffset..]);

    /// <summary>
    /// The UDP length against the bytes present from the UDP header on (<paramref name="available"/>),
    /// as __udp4_lib_rcv / __udp6_lib_rcv check it. A length of 0 passes when more than 65535 bytes
    /// are present (jumbogram, RFC 2675 4).
    /// </summary>
    public string? LengthProblem(int available)
    {
        int len = Length;
        if (len == 0 && available > ushort.MaxValue) return null;
        if (len > available) return $"UDP length {len} > {available} bytes present";
        if (len < HeaderLength) return $"UDP length {len} < {HeaderLength}";
        return null;
    }

    /// <summary>The data after the header up to Length, clamped to what was captured (Length 0: all of it).</summary>
    public ReadOnlySpan<byte> Payload
    {
        get
        {
            int len = Length;
            if (len == 0) return _data[HeaderLength..];
            return _data[HeaderLength..Math.Clamp(len, HeaderLength, _data.Length)];
        }
    }
}
