using System.Buffers.Binary;
using System.Numerics;

namespace PktFlow.Wire;

// SCTP common header and chunks (RFC 9260 3.1, 3.2):
//
//   0                   1                   2                   3
//  +-------------------------------+-------------------------------+
//  |     Source Port Number        |     Destination Port Number   |
//  +-------------------------------+-------------------------------+
//  |                      Verification Tag                         |
//  +---------------------------------------------------------------+
//  |                           Checksum                            |  CRC32c, little-endian on the wire
//  +---------------------------------------------------------------+
//  | Chunk Type    | Chunk Flags   |        Chunk Length           |  length without padding;
//  +---------------+---------------+-------------------------------+  chunks start on 4-byte boundaries
//  |                       Chunk Value ...

/// <summary>A zero-copy view of an SCTP packet: the 12-byte common header and its chunks.</summary>
public readonly ref struct SctpHeader
{
    private const int SourcePortOffset = 0;
    private const int DestinationPortOffset = 2;
    private const int VerificationTagOffset = 4;
    internal const int ChecksumOffset = 8;
    public const int HeaderLength = 12;

    private readonly ReadOnlySpan<byte> _data;
    private SctpHeader(ReadOnlySpan<byte> data) => _data = data;

    /// <summary>The header and every byte after it (the packet the CRC32c covers).</summary>
    public ReadOnlySpan<byte> Data => _data;

    public static bool TryParse(ReadOnlySpan<byte> data, out SctpHeader header, out string? error)
    {
        if (data.Length < HeaderLength)
        {
            header = default;
            error = $"SCTP header {data.Length} bytes < {HeaderLength}";
            return false;
        }
        header = new SctpHeader(data);
        error = null;
        return true;
    }

    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_data[SourcePortOffset..]);
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_data[DestinationPortOffset..]);
    public uint VerificationTag => BinaryPrimitives.ReadUInt32BigEndian(_data[VerificationTagOffset..]);
    /// <summary>The CRC32c as the field holds it (little-endian, as sctp_compute_cksum stores it).</summary>
    public uint Checksum => BinaryPrimitives.ReadUInt32LittleEndian(_data[ChecksumOffset..]);

    /// <summary>The CRC32c the packet should carry (<see cref="Crc32c"/> over <see cref="Data"/>).</summary>
    public uint ComputeChecksum() => Crc32c(_data);

    public SctpChunkEnumerator Chunks => new(_data[HeaderLength..]);

    /// <summary>
    /// sctp_compute_cksum: CRC32c (Castagnoli) over the packet with the checksum field taken as zero,
    /// seeded with all ones and inverted at the end. Compare with <see cref="Checksum"/>.
    /// </summary>
    public static uint Crc32c(ReadOnlySpan<byte> packet)
    {
        uint crc = ~0u;
        for (int i = 0; i < packet.Length; i++)
            crc = BitOperations.Crc32C(crc, i is >= ChecksumOffset and < ChecksumOffset + 4 ? (byte)0 : packet[i]);
        return ~crc;
    }

    /// <summary>Writes the CRC32c of <paramref name="packet"/> (starting at the SCTP header) into its checksum field.</summary>
    public static void WriteChecksum(Span<byte> packet)
    {
        if (packet.Length < HeaderLength) return;
        BinaryPrimitives.WriteUInt32LittleEndian(packet[ChecksumOffset..], Crc32c(packet));
    }
}

/// <summary>One chunk: type, flags, declared length and its value clamped to the bytes present.</summary>
public readonly ref struct SctpChunk
{
    public const int HeaderLength = 4;

    public SctpChunk(ReadOnlySpan<byte> data) => Data = data;

    /// <summary>From the chunk header to the end of the chunk (its declared length) or of the bytes present.</summary>
    public ReadOnlySpan<byte> Data { get; }
    public byte Type => Data[0];
    public byte Flags => Data[1];
    public ushort Length => BinaryPrimitives.ReadUInt16BigEndian(Data[2..]);
    /// <summary>The T bit of ABORT and SHUTDOWN_COMPLETE: the sender used the peer's tag (it had no TCB).</summary>
    public bool TBit => (Flags & 1) != 0;
    public ReadOnlySpan<byte> Value => Data[HeaderLength..];

    /// <summary>The Initiate Tag of an INIT or INIT_ACK (the first word of the value); false when cut short.</summary>
    public bool TryInitiateTag(out uint tag)
    {
        tag = 0;
        if (Data.Length < HeaderLength + 4) return false;
        tag = BinaryPrimitives.ReadUInt32BigEndian(Data[HeaderLength..]);
        return true;
    }
}

/// <summary>
/// Walks the chunks the way for_each_sctp_chunk does: a chunk starts wherever at least its 4-byte
/// header fits, and the next one (length + 3) &amp; ~3 bytes later; a length of 0 ends the walk after
/// yielding that chunk (the caller decides it is malformed).
/// </summary>
public ref struct SctpChunkEnumerator
{
    private readonly ReadOnlySpan<byte> _chunks;
    private int _offset;
    private int _next;

    public SctpChunkEnumerator(ReadOnlySpan<byte> chunks)
    {
        _chunks = chunks;
        _offset = -1;
        _next = 0;
        Current = default;
    }

    public SctpChunk Current { get; private set; }

    public readonly SctpChunkEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_next < 0 || _next + SctpChunk.HeaderLength > _chunks.Length) return false;
        _offset = _next;
        ushort len = BinaryPrimitives.ReadUInt16BigEndian(_chunks[(_offset + 2)..]);
        int end = Math.Min(_chunks.Length, _offset + Math.Max(len, (ushort)SctpChunk.HeaderLength));
        Current = new SctpChunk(_chunks[_offset..end]);
        _next = len == 0 ? -1 : _offset + ((len + 3) & ~3);
        return true;
    }
}

/// <summary>Chunk types (RFC 9260 3.2) that conntrack looks at.</summary>
public static class SctpChunkType
{
    public const byte Data = 0, Init = 1, InitAck = 2, Sack = 3, Heartbeat = 4, HeartbeatAck = 5, Abort = 6, Shutdown = 7,
        ShutdownAck = 8, Error = 9, CookieEcho = 10, CookieAck = 11, ShutdownComplete = 14;

    public static string Name(byte type) => type switch
    {
        Data => "DATA", Init => "INIT", InitAck => "INIT_ACK", Sack => "SACK", Heartbeat => "HEARTBEAT",
        HeartbeatAck => "HEARTBEAT_ACK", Abort => "ABORT", Shutdown => "SHUTDOWN", ShutdownAck => "SHUTDOWN_ACK",
        Error => "ERROR", CookieEcho => "COOKIE_ECHO", CookieAck => "COOKIE_ACK", ShutdownComplete => "SHUTDOWN_COMPLETE",
        _ => $"chunk type {type}",
    };
}
