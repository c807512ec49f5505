using System.Buffers.Binary;

namespace PktFlow.Wire;

// IPv4 header (RFC 791 3.1):
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |Version|  IHL  |    DSCP   |ECN|          Total Length         |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |         Identification        |Flags|      Fragment Offset    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  Time to Live |    Protocol   |         Header Checksum       |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                       Source Address                          |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                    Destination Address                        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                    Options                    |    Padding    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Flags: bit 0 reserved (evil bit), bit 1 DF, bit 2 MF. DSCP/ECN per RFC 2474 / RFC 3168.

/// <summary>
/// A zero-copy view of an IPv4 header and the bytes after it. <see cref="TryParse"/> only checks that
/// the fixed 20 bytes are there, so a header with a bad version, IHL or length can still be read and
/// reported by <see cref="HeaderProblem"/> / <see cref="LengthProblem"/> (the checks of ip_rcv_core,
/// net/ipv4/ip_input.c). No member throws afterwards: options and payload clamp to the bytes present.
/// </summary>
public readonly ref struct Ipv4Header
{
    internal const int VersionIhlOffset = 0;
    internal const int TosOffset = 1;
    internal const int TotalLengthOffset = 2;
    internal const int IdentificationOffset = 4;
    internal const int FlagsFragmentOffset = 6;
    internal const int TtlOffset = 8;
    internal const int ProtocolOffset = 9;
    internal const int ChecksumOffset = 10;
    internal const int SourceOffset = 12;
    internal const int DestinationOffset = 16;
    /// <summary>Length of the header without options (IHL 5).</summary>
    public const int MinHeaderLength = 20;
    public const int MaxHeaderLength = 60;

    private const ushort FlagReserved = 0x8000;
    public const ushort FlagDf = 0x4000;
    private const ushort FlagMf = 0x2000;
    private const ushort OffsetMask = 0x1FFF;

    private readonly ReadOnlySpan<byte> _data;

    private Ipv4Header(ReadOnlySpan<byte> data) => _data = data;

    /// <summary>The bytes the view was created over (header + whatever follows, as captured).</summary>
    public ReadOnlySpan<byte> Data => _data;

    public static bool TryParse(ReadOnlySpan<byte> data, out Ipv4Header header, out string? error)
    {
        if (data.Length < MinHeaderLength)
        {
            header = default;
            error = $"IPv4 header {data.Length} bytes < {MinHeaderLength}";
            return false;
        }
        header = new Ipv4Header(data);
        error = null;
        return true;
    }

    public byte Version => (byte)(_data[VersionIhlOffset] >> 4);
    /// <summary>Internet header length in 32-bit words.</summary>
    public byte Ihl => (byte)(_data[VersionIhlOffset] & 0x0F);
    /// <summary>IHL * 4 (may be below 20 in a malformed header, see <see cref="HeaderProblem"/>).</summary>
    public int HeaderLength => Ihl * 4;
    /// <summary>The whole type-of-service byte (DSCP &lt;&lt; 2 | ECN).</summary>
    public byte Tos => _data[TosOffset];
    public byte Dscp => (byte)(_data[TosOffset] >> 2);
    public byte Ecn => (byte)(_data[TosOffset] & 0x03);
    public ushort TotalLength => BinaryPrimitives.ReadUInt16BigEndian(_data[TotalLengthOffset..]);
    /// <summary>Total length 0: a TSO/GRO super-frame as captured on the sending host (the kernel's
    /// iph_totlen then uses skb->len for GSO packets).</summary>
    public bool TotalLengthZero => TotalLength == 0;
    public ushort Identification => BinaryPrimitives.ReadUInt16BigEndian(_data[IdentificationOffset..]);
    private ushort FlagsAndOffset => BinaryPrimitives.ReadUInt16BigEndian(_data[FlagsFragmentOffset..]);
    /// <summary>The reserved flag bit (RFC 3514's "evil bit").</summary>
    public bool ReservedFlag => (FlagsAndOffset & FlagReserved) != 0;
    public bool DontFragment => (FlagsAndOffset & FlagDf) != 0;
    public bool MoreFragments => (FlagsAndOffset & FlagMf) != 0;
    /// <summary>Fragment offset in bytes (the 13-bit field times 8).</summary>
    public int FragmentOffset => (FlagsAndOffset & OffsetMask) * 8;
    /// <summary>MF set or a non-zero offset (ip_is_fragment).</summary>
    public bool IsFragment => (FlagsAndOffset & (FlagMf | OffsetMask)) != 0;
    public byte Ttl => _data[TtlOffset];
    public byte Protocol => _data[ProtocolOffset];
    public ushort HeaderChecksum => BinaryPrimitives.ReadUInt16BigEndian(_data[ChecksumOffset..]);
    public IpAddr Source => IpAddr.ReadV4(_data[SourceOffset..]);
    public IpAddr Destination => IpAddr.ReadV4(_data[DestinationOffset..]);

    /// <summary>True when IHL is at least 5 and the whole header (with options) was captured.</summary>
    public bool HeaderComplete => HeaderLength >= MinHeaderLength && HeaderLength <= _data.Length;

    /// <summary>The option bytes (clamped to what was captured; empty when IHL &lt;= 5).</summary>
    public ReadOnlySpan<byte> Options =>
        HeaderLength <= MinHeaderLength ? default : _data[MinHeaderLength..Math.Min(HeaderLength, _data.Length)];

    /// <summary>True when the checksum over the HeaderLength bytes is correct; false when they are not all present.</summary>
    public bool HeaderChecksumValid => HeaderComplete && Checksum.Fold(Checksum.Sum(_data[..HeaderLength])) == 0xFFFF;

    /// <summary>The checksum the header should carry (computed with the field taken as zero), or 0 when incomplete.</summary>
    public ushort ExpectedHeaderChecksum =>
        HeaderComplete ? Ipv4HeaderWriter.ComputeHeaderChecksum(_data[..HeaderLength]) : (ushort)0;

    /// <summary>
    /// What ip_rcv_core would reject in the header, in its order (RFC 1122 3.2.1.1-2): the version,
    /// the IHL, a header longer than the bytes captured, the checksum. Null when fine.
    /// </summary>
    public string? HeaderProblem()
    {
        if (Version != 4) return $"IPv4 version {Version} != 4";
        if (Ihl < 5) return $"IPv4 IHL {Ihl} < 5";
        if (HeaderLength > _data.Length) return $"IPv4 header {HeaderLength} bytes > {_data.Length} captured";
        if (!HeaderChecksumValid)
            return $"IPv4 header checksum 0x{HeaderChecksum:x4} wrong (expected 0x{ExpectedHeaderChecksum:x4})";
        return null;
    }

    /// <summary>
    /// The total-length checks of ip_rcv_core against the bytes present for this packet
    /// (<paramref name="available"/>, the skb length from the IP header on). A total length of 0 is
    /// a problem unless <paramref name="allowZeroTotalLength"/> (a GSO super-frame, see <see cref="TotalLengthZero"/>).
    /// </summary>
    public string? LengthProblem(int available) => LengthProblem(available, false);

    /// <inheritdoc cref="LengthProblem(int)"/>
    public string? LengthProblem(int available, bool allowZeroTotalLength)
    {
        int total = TotalLength;
        if (total == 0 && allowZeroTotalLength) return null;
        if (total > available) return $"IPv4 total length {total} > {available} bytes present";
        if (total < HeaderLength) return $"IPv4 total length {total} < header length {HeaderLength}";
        return null;
    }

    /// <summary>
    /// The bytes after the header up to TotalLength (trailing Ethernet padding dropped), clamped to
    /// what was captured; with a total length of 0 everything after the header.
    /// </summary>
    public ReadOnlySpan<byte> Payload
    {
        get
        {
            int start = Math.Clamp(HeaderLength, MinHeaderLength, _data.Length);
            int total = TotalLength;
            int end = total == 0 ? _data.Length : Math.Clamp(total, start, _data.Length);
            return _data[start..end];
        }
    }

    /// <summary>The datagram as the IP layer sees it: header + payload, trimmed to TotalLength (pskb_trim_rcsum).</summary>
    public ReadOnlySpan<byte> Packet
    {
        get
        {
            int total = TotalLength;
            return total == 0 ? _data : _data[..Math.Clamp(total, Math.Min(MinHeaderLength, _data.Length), _data.Length)];
        }
    }
}

/// <summary>
/// In-place edits of an IPv4 header for forwarding and NAT, keeping the header checksum right with
/// RFC 1624 incremental updates (as the kernel's ip_decrease_ttl and csum_replace4 do). The span must
/// start at the IPv4 header and hold at least 20 bytes; these helpers do not validate it.
/// </summary>
public static class Ipv4HeaderWriter
{
    /// <summary>Decrements the TTL and patches the checksum like ip_decrease_ttl (include/net/ip.h).</summary>
    public static void DecrementTtl(Span<byte> ipv4Header)
    {
        // The TTL is the high byte of the 16-bit word at offset 8, so the word drops by 0x0100 and the
        // stored checksum (its complement) rises by 0x0100 with end-around carry.
        uint check = BinaryPrimitives.ReadUInt16BigEndian(ipv4Header[Ipv4Header.ChecksumOffset..]);
        check += 0x0100;
        check += check >= 0xFFFF ? 1u : 0u;
        BinaryPrimitives.WriteUInt16BigEndian(ipv4Header[Ipv4Header.ChecksumOffset..], (ushort)check);
        ipv4Header[Ipv4Header.TtlOffset]--;
    }

    public static void SetSource(Span<byte> ipv4Header, IpAddr address) => SetAddress(ipv4Header, Ipv4Header.SourceOffset, address);

    public static void SetDestination(Span<byte> ipv4Header, IpAddr address) => SetAddress(ipv4Header, Ipv4Header.DestinationOffset, address);

    private static void SetAddress(Span<byte> header, int offset, IpAddr address)
    {
        if (!address.IsV4) throw new ArgumentException($"{address} is not an IPv4 address", nameof(address));
        uint old = BinaryPrimitives.ReadUInt32BigEndian(header[offset..]);
        uint now = address.V4Value;
        ushort check = BinaryPrimitives.ReadUInt16BigEndian(header[Ipv4Header.ChecksumOffset..]);
        BinaryPrimitives.WriteUInt32BigEndian(header[offset..], now);
        BinaryPrimitives.WriteUInt16BigEndian(header[Ipv4Header.ChecksumOffset..], Checksum.Replace4(check, old, now));
    }

    /// <summary>Sets the TOS byte (DSCP/ECN) with an incremental checksum update (ipv4_change_dsfield).</summary>
    public static void SetTos(Span<byte> ipv4Header, byte tos)
    {
        ushort oldWord = BinaryPrimitives.ReadUInt16BigEndian(ipv4Header);
        ushort newWord = (ushort)(oldWord & 0xFF00 | tos);
        ushort check = BinaryPrimitives.ReadUInt16BigEndian(ipv4Header[Ipv4Header.ChecksumOffset..]);
        ipv4Header[Ipv4Header.TosOffset] = tos;
        BinaryPrimitives.WriteUInt16BigEndian(ipv4Header[Ipv4Header.ChecksumOffset..], Checksum.Replace2(check, oldWord, newWord));
    }

    /// <summary>
    /// The header checksum for the given header bytes (IHL*4 of them), computed as if the checksum
    /// field were zero, so it works on a header whose field is already filled in.
    /// </summary>
    public static ushort ComputeHeaderChecksum(ReadOnlySpan<byte> header)
    {
        ulong sum = Checksum.Sum(header);
        if (header.Length >= Ipv4Header.ChecksumOffset + 2)
            sum += (ushort)~BinaryPrimitives.ReadUInt16BigEndian(header[Ipv4Header.ChecksumOffset..]);
        return (ushort)~Checksum.Fold(sum);
    }

    /// <summary>Recomputes and stores the checksum over the IHL*4 header bytes (ip_send_check).</summary>
    public static void UpdateHeaderChecksum(Span<byte> ipv4Header)
    {
        int hl = Math.Clamp((ipv4Header[0] & 0x0F) * 4, Ipv4Header.MinHeaderLength, ipv4Header.Length);
        BinaryPrimitives.WriteUInt16BigEndian(ipv4Header[Ipv4Header.ChecksumOffset..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(ipv4Header[Ipv4Header.ChecksumOffset..], Checksum.Internet(ipv4Header[..hl]));
    }
}
