using System.Buffers.Binary;

namespace PktFlow.Wire;

// TCP header (RFC 9293 3.1; AE flag from RFC 3168 / AccECN):
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |          Source Port          |       Destination Port        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                        Sequence Number                        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                    Acknowledgment Number                      |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  Data |     |A|C|E|U|A|P|R|S|F|                               |
//  | Offset| Rsrv|E|W|C|R|C|S|S|Y|I|            Window             |
//  |       |     | |R|E|G|K|H|T|N|N|                               |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |           Checksum            |         Urgent Pointer        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                           [Options]                           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Options (RFC 9293 3.2): kind 0 EOL and 1 NOP are one byte; every other option is kind, length
// (including kind and length), data. MSS 2/4, window scale 3/3 (RFC 7323 2.2), SACK-permitted 4/2 and
// SACK 5/N (RFC 2018), timestamps 8/10 (RFC 7323 3.2).

/// <summary>TCP control bits (tcp_flag_word order; AE is the former NS bit, RFC 3540 / AccECN).</summary>
[Flags]
public enum TcpFlags : ushort
{
    None = 0,
    Fin = 1,
    Syn = 2,
    Rst = 4,
    Psh = 8,
    Ack = 16,
    Urg = 32,
    Ece = 64,
    Cwr = 128,
    Ae = 256,
}

/// <summary>TCP option kinds (IANA "TCP Option Kind Numbers").</summary>
public static class TcpOptionKind
{
    public const byte EndOfList = 0;
    public const byte Nop = 1;
    public const byte Mss = 2;
    public const byte WindowScale = 3;
    public const byte SackPermitted = 4;
    public const byte Sack = 5;
    public const byte Echo = 6;
    public const byte EchoReply = 7;
    public const byte Timestamps = 8;
    public const byte Md5Signature = 19;
    public const byte UserTimeout = 28;
    public const byte TcpAo = 29;
    public const byte Mptcp = 30;
    public const byte FastOpen = 34;
    /// <summary>RFC 6994 shared experimental option (kind 253).</summary>
    public const byte Experimental1 = 253;
    /// <summary>RFC 6994 shared experimental option (kind 254; TFO before kind 34 used magic 0xF989).</summary>
    public const byte Experimental2 = 254;
}

/// <summary>
/// A zero-copy view of a TCP header. <see cref="TryParse"/> checks the fixed 20 bytes; the data offset
/// may still be bad (see <see cref="HeaderProblem"/>), in which case options clamp to what is present.
/// </summary>
public readonly ref struct TcpHeader
{
    private const int SourcePortOffset = 0;
    private const int DestinationPortOffset = 2;
    private const int SequenceOffset = 4;
    private const int AckOffset = 8;
    private const int DataOffsetOffset = 12;
    private const int FlagsOffset = 13;
    private const int WindowOffset = 14;
    internal const int ChecksumOffset = 16;
    private const int UrgentOffset = 18;
    public const int MinHeaderLength = 20;
    public const int MaxHeaderLength = 60;

    private readonly ReadOnlySpan<byte> _data;
    private TcpHeader(ReadOnlySpan<byte> data) => _data = data;

    public ReadOnlySpan<byte> Data => _data;

    public static bool TryParse(ReadOnlySpan<byte> data, out TcpHeader header, out string? error)
    {
        if (data.Length < MinHeaderLength)
        {
            header = default;
            error = $"TCP header {data.Length} bytes < {MinHeaderLength}";
            return false;
        }
        header = new TcpHeader(data);
        error = null;
        return true;
    }

    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_data[SourcePortOffset..]);
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_data[DestinationPortOffset..]);
    public uint SequenceNumber => BinaryPrimitives.ReadUInt32BigEndian(_data[SequenceOffset..]);
    public uint AcknowledgmentNumber => BinaryPrimitives.ReadUInt32BigEndian(_data[AckOffset..]);
    /// <summary>Header length in 32-bit words.</summary>
    public byte DataOffset => (byte)(_data[DataOffsetOffset] >> 4);
    /// <summary>DataOffset * 4.</summary>
    public int HeaderLength => DataOffset * 4;
    /// <summary>The 3 reserved bits between the data offset and AE.</summary>
    public byte Reserved => (byte)((_data[DataOffsetOffset] >> 1) & 0x07);
    public TcpFlags Flags => (TcpFlags)(((_data[DataOffsetOffset] & 0x01) << 8) | _data[FlagsOffset]);
    public bool Has(TcpFlags flag) => (Flags & flag) == flag;
    public ushort Window => BinaryPrimitives.ReadUInt16BigEndian(_data[WindowOffset..]);
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_data[ChecksumOffset..]);
    public ushort UrgentPointer => BinaryPrimitives.ReadUInt16BigEndian(_data[UrgentOffset..]);

    /// <summary>Option bytes, clamped to what was captured (empty when data offset &lt;= 5).</summary>
    public ReadOnlySpan<byte> Options =>
        HeaderLength <= MinHeaderLength ? default : _data[MinHeaderLength..Math.Min(HeaderLength, _data.Length)];

    /// <summary>An allocation-free walk over <see cref="Options"/> (usable with foreach).</summary>
    public TcpOptionEnumerator EnumerateOptions() => new(Options);

    /// <summary>Bytes after the header (clamped; from byte 20 when the data offset is too small).</summary>
    public ReadOnlySpan<byte> Payload => _data[Math.Clamp(HeaderLength, MinHeaderLength, _data.Length)..];

    /// <summary>tcp_v4_rcv / tcp_v6_rcv header checks (RFC 9293 3.1): data offset below 5, header beyond the data.</summary>
    public string? HeaderProblem()
    {
        if (DataOffset < 5) return $"TCP data offset {DataOffset} < 5";
        if (HeaderLength > _data.Length) return $"TCP header {HeaderLength} bytes > {_data.Length} present";
        return null;
    }

    /// <summary>The option value if present: MSS, or null.</summary>
    public ushort? Mss { get { foreach (var o in EnumerateOptions()) if (o.Kind == TcpOptionKind.Mss && o.IsWellFormed) return o.Mss; return null; } }
    /// <summary>The window-scale shift if present, or null.</summary>
    public byte? WindowScale { get { foreach (var o in EnumerateOptions()) if (o.Kind == TcpOptionKind.WindowScale && o.IsWellFormed) return o.WindowScale; return null; } }
    public bool SackPermitted { get { foreach (var o in EnumerateOptions()) if (o.Kind == TcpOptionKind.SackPermitted) return true; return false; } }
}

/// <summary>One TCP option as seen by <see cref="TcpOptionEnumerator"/>.</summary>
public readonly ref struct TcpOption
{
    internal TcpOption(byte kind, int length, ReadOnlySpan<byte> data, bool malformed)
    {
        Kind = kind; Length = length; Data = data; IsMalformed = malformed;
    }

    public byte Kind { get; }
    /// <summary>The option's length field (1 for EOL/NOP, which have none).</summary>
    public int Length { get; }
    /// <summary>The bytes after kind and length (clamped to the option area).</summary>
    public ReadOnlySpan<byte> Data { get; }
    /// <summary>The length field is below 2 or runs past the option area; the enumerator stops after it.</summary>
    public bool IsMalformed { get; }

    /// <summary>The data has the size the kind requires (MSS 2, window scale 1, timestamps 8,
    /// SACK a multiple of 8, SACK-permitted 0); unknown kinds: not malformed.</summary>
    public bool IsWellFormed => !IsMalformed && Kind switch
    {
        TcpOptionKind.Mss => Data.Length == 2,
        TcpOptionKind.WindowScale => Data.Length == 1,
        TcpOptionKind.SackPermitted => Data.Length == 0,
        TcpOptionKind.Sack => Data.Length % 8 == 0 && Data.Length > 0,
        TcpOptionKind.Timestamps => Data.Length == 8,
        _ => true,
    };

    public ushort Mss => Data.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Data) : (ushort)0;
    public byte WindowScale => Data.Length >= 1 ? Data[0] : (byte)0;
    public uint TsVal => Data.Length >= 4 ? BinaryPrimitives.ReadUInt32BigEndian(Data) : 0;
    public uint TsEcr => Data.Length >= 8 ? BinaryPrimitives.ReadUInt32BigEndian(Data[4..]) : 0;
    public int SackBlockCount => Data.Length / 8;
    public uint SackLeft(int i) => (uint)i < (uint)SackBlockCount ? BinaryPrimitives.ReadUInt32BigEndian(Data[(i * 8)..]) : 0;
    public uint SackRight(int i) => (uint)i < (uint)SackBlockCount ? BinaryPrimitives.ReadUInt32BigEndian(Data[(i * 8 + 4)..]) : 0;
}

/// <summary>
/// Walks TCP options without allocating (the loop of tcp_parse_options). EOL ends the walk after it is
/// yielded; a malformed length is yielded once with <see cref="TcpOption.IsMalformed"/> and ends it.
/// </summary>
public ref struct TcpOptionEnumerator
{
    private readonly ReadOnlySpan<byte> _options;
    private int _next;
    private bool _done;
    private TcpOption _current;

    public TcpOptionEnumerator(ReadOnlySpan<byte> options)
    {
        _options = options;
        _next = 0;
        _done = false;
        _current = default;
    }

    public readonly TcpOption Current => _current;
    public readonly TcpOptionEnumerator GetEnumerator() => this;
    /// <summary>Offset of the next option in the option area.</summary>
    public readonly int Offset => _next;

    public bool MoveNext()
    {
        if (_done || _next >= _options.Length) return false;
        byte kind = _options[_next];
        if (kind is TcpOptionKind.EndOfList or TcpOptionKind.Nop)
        {
            _current = new TcpOption(kind, 1, default, false);
            _next++;
            if (kind == TcpOptionKind.EndOfList) _done = true;
            return true;
        }
        int remaining = _options.Length - _next;
        if (remaining < 2)
        {
            _current = new TcpOption(kind, 0, default, true);
            _done = true;
            return true;
        }
        int len = _options[_next + 1];
        if (len < 2 || len > remaining)
        {
            _current = new TcpOption(kind, len, _options[(_next + 2)..], true);
            _done = true;
            return true;
        }
        _current = new TcpOption(kind, len, _options.Slice(_next + 2, len - 2), false);
        _next += len;
        return true;
    }
}
