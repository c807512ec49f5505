using System.Buffers.Binary;

namespace PktFlow.Wire;

// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of all
// 16-bit words; an odd trailing byte is padded with zero. Transport checksums add a pseudo-header:
//
// IPv4 (RFC 793 3.1, RFC 768)                IPv6 (RFC 8200 8.1)
// +--------+--------+--------+--------+      +---------------------------------------------+
// |          Source Address           |      |          Source Address (16 octets)         |
// +--------+--------+--------+--------+      +---------------------------------------------+
// |        Destination Address        |      |       Destination Address (16 octets)       |
// +--------+--------+--------+--------+      +---------------------------------------------+
// |  zero  |  PTCL  |  TCP/UDP Length |      |        Upper-Layer Packet Length (32)       |
// +--------+--------+--------+--------+      +---------------------------------------------+
//                                            |             zero (24)          | Next Header|
//                                            +---------------------------------------------+
//
// Incremental updates follow RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m').

/// <summary>Internet checksum arithmetic: full sums, pseudo-headers, validation and RFC 1624 updates.</summary>
public static class Checksum
{
    /// <summary>The one's complement sum of <paramref name="data"/> added to <paramref name="initial"/>, not yet folded.</summary>
    public static ulong Sum(ReadOnlySpan<byte> data, ulong initial = 0)
    {
        ulong sum = initial;
        int i = 0;
        // 32-bit big-endian words into a 64-bit accumulator: no carry is lost before folding
        // (2^32 words of 2^32 would be needed to overflow).
        for (; i + 4 <= data.Length; i += 4)
            sum += BinaryPrimitives.ReadUInt32BigEndian(data[i..]);
        if (i + 2 <= data.Length)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
            i += 2;
        }
        if (i < data.Length)
            sum += (uint)data[i] << 8;
        return sum;
    }

    /// <summary>Folds a running sum to 16 bits (end-around carry), not complemented.</summary>
    public static ushort Fold(ulong sum)
    {
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>The RFC 1071 checksum of <paramref name="data"/>: the value to store in a zeroed field,
    /// or 0 when data already containing its checksum is intact.</summary>
    public static ushort Internet(ReadOnlySpan<byte> data) => (ushort)~Fold(Sum(data));

    /// <summary>Unfolded sum of the IPv4 pseudo-header (RFC 793 3.1).</summary>
    public static ulong PseudoHeaderV4(uint source, uint destination, byte protocol, int length) =>
        (ulong)(source >> 16) + (source & 0xFFFF) + (destination >> 16) + (destination & 0xFFFF) + protocol + (uint)(length & 0xFFFF);

    /// <summary>Unfolded sum of the IPv6 pseudo-header (RFC 8200 8.1); length is 32 bits there.</summary>
    public static ulong PseudoHeaderV6(IpAddr source, IpAddr destination, byte protocol, long length) =>
        SumWords(source.Hi) + SumWords(source.Lo) + SumWords(destination.Hi) + SumWords(destination.Lo)
        + ((ulong)length >> 16 & 0xFFFF) + ((ulong)length & 0xFFFF) + protocol;

    /// <summary>The pseudo-header sum for either family (both addresses must be of the same family).</summary>
    public static ulong PseudoHeader(IpAddr source, IpAddr destination, byte protocol, long length) =>
        source.IsV4 ? PseudoHeaderV4(source.V4Value, destination.V4Value, protocol, (int)length)
                    : PseudoHeaderV6(source, destination, protocol, length);

    /// <summary>The checksum to store in a TCP/UDP/ICMPv6 segment whose checksum field is zero.
    /// For UDP a result of 0 is sent as 0xFFFF (RFC 768).</summary>
    public static ushort Transport(IpAddr source, IpAddr destination, byte protocol, ReadOnlySpan<byte> segment)
    {
        ushort c = (ushort)~Fold(Sum(segment, PseudoHeader(source, destination, protocol, segment.Length)));
        return protocol == IpProtocol.Udp && c == 0 ? (ushort)0xFFFF : c;
    }

    /// <summary>
    /// Whether a TCP, UDP, UDP-Lite-free or ICMPv6 segment (header + payload, exactly as long as the
    /// IP layer says) carries a correct checksum. An IPv4 UDP checksum of zero means "none" (RFC 768)
    /// and is valid; over IPv6 a zero UDP checksum is invalid (RFC 8200 8.1). ICMPv4 has no
    /// pseudo-header: use <see cref="IcmpValid"/>. Other protocols: false.
    /// </summary>
    public static bool TransportValid(IpAddr src, IpAddr dst, byte protocol, ReadOnlySpan<byte> segment)
    {
        if (src.Family != dst.Family) return false;
        switch (protocol)
        {
            case IpProtocol.Tcp:
                if (segment.Length < 20) return false;
                break;
            case IpProtocol.Udp:
                if (segment.Length < 8) return false;
                if (segment[6] == 0 && segment[7] == 0) return src.IsV4;
                break;
            case IpProtocol.Icmpv6:
                if (segment.Length < 4 || !src.IsV6) return false;
                break;
            case IpProtocol.Icmp:
                return IcmpValid(segment);
            default:
                return false;
        }
        return Fold(Sum(segment, PseudoHeader(src, dst, protocol, segment.Length))) == 0xFFFF;
    }

    /// <summary>Whether an ICMPv4 message (header + data) checksums to zero (RFC 792).</summary>
    public static bool IcmpValid(ReadOnlySpan<byte> message) => message.Length >= 4 && Fold(Sum(message)) == 0xFFFF;

    /// <summary>RFC 1624 update of a stored checksum when a 16-bit word changes from old to new (csum_replace2).</summary>
    public static ushort Replace2(ushort check, ushort oldValue, ushort newValue)
    {
        ulong sum = (ushort)~check + (ulong)(ushort)~oldValue + newValue;
        return (ushort)~Fold(sum);
    }

    /// <summary>RFC 1624 update of a stored checksum when a 32-bit word changes (csum_replace4).</summary>
    public static ushort Replace4(ushort check, uint oldValue, uint newValue)
    {
        ulong sum = (ushort)~check + (ulong)(~oldValue >> 16) + (~oldValue & 0xFFFF) + (newValue >> 16) + (newValue & 0xFFFF);
        return (ushort)~Fold(sum);
    }

    /// <summary>RFC 1624 update for an address change of either family (IPv4 address, or the 128 bits of an IPv6 one).</summary>
    public static ushort ReplaceAddress(ushort check, IpAddr oldAddress, IpAddr newAddress)
    {
        if (oldAddress.IsV4 && newAddress.IsV4) return Replace4(check, oldAddress.V4Value, newAddress.V4Value);
        ulong sum = (ushort)~check
            + SumWords(~oldAddress.Hi) + SumWords(~oldAddress.Lo)
            + SumWords(newAddress.Hi) + SumWords(newAddress.Lo);
        return (ushort)~Fold(sum);
    }

    private static ulong SumWords(ulong v) => (v >> 48) + (v >> 32 & 0xFFFF) + (v >> 16 & 0xFFFF) + (v & 0xFFFF);
}
