using System.Buffers.Binary;

namespace PktFlow.Wire;

// Virtual eXtensible Local Area Network (RFC 7348, section 5), the payload of the UDP datagram:
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |R|R|R|R|I|R|R|R|            Reserved                           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                VXLAN Network Identifier (VNI) |   Reserved    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |              Inner Ethernet frame ...                          |
//
// The I flag says the VNI is valid; every other bit is reserved and sent as zero. Linux (vxlan_rcv)
// refuses a header without I and, unless an extension (GBP, GPE, remote checksum offload) claims them,
// one with any reserved bit set.

/// <summary>A view of a VXLAN header (struct vxlanhdr) and the inner frame behind it.</summary>
public readonly ref struct VxlanHeader
{
    public const int HeaderLength = 8;
    /// <summary>The outer headers a VXLAN frame adds over IPv4: IP 20, UDP 8, VXLAN 8, inner Ethernet 14 (VXLAN_HEADROOM).</summary>
    public const int Ipv4Overhead = 20 + 8 + HeaderLength + 14;
    /// <summary>The same over IPv6: a 40-byte IPv6 header (VXLAN6_HEADROOM).</summary>
    public const int Ipv6Overhead = 40 + 8 + HeaderLength + 14;
    /// <summary>VXLAN_HF_VNI: the I flag, in the first 32-bit word.</summary>
    public const uint FlagVni = 0x0800_0000;

    private readonly ReadOnlySpan<byte> _data;
    private VxlanHeader(ReadOnlySpan<byte> data) => _data = data;

    public static bool TryParse(ReadOnlySpan<byte> data, out VxlanHeader header)
    {
        header = new VxlanHeader(data);
        return data.Length >= HeaderLength;
    }

    /// <summary>The first word: flags and the reserved 24 bits.</summary>
    public uint FlagsWord => BinaryPrimitives.ReadUInt32BigEndian(_data);
    /// <summary>The I flag (the VNI is valid).</summary>
    public bool HasVni => (FlagsWord & FlagVni) != 0;
    public uint Vni => BinaryPrimitives.ReadUInt32BigEndian(_data[4..]) >> 8;
    /// <summary>Reserved bits that are set (vxlan_rcv's "unparsed" flags and VNI low byte), without the I flag.</summary>
    public bool ReservedBitsSet => (FlagsWord & ~FlagVni) != 0 || _data[7] != 0;
    /// <summary>The inner Ethernet frame.</summary>
    public ReadOnlySpan<byte> Payload => _data[HeaderLength..];

    /// <summary>
    /// For a UDP segment (header included) whose payload is a VXLAN header with the I flag and no reserved
    /// bit, and an inner Ethernet frame: the inner EtherType and network packet.
    /// </summary>
    public static bool TryInner(ReadOnlySpan<byte> udpSegment, out ushort etherType, out ReadOnlySpan<byte> network)
    {
        const int at = 8 + HeaderLength;
        etherType = 0;
        network = default;
        if (udpSegment.Length < at + 14 || !TryParse(udpSegment[8..], out var vh) || vh.FlagsWord != FlagVni || vh.ReservedBitsSet) return false;
        etherType = BinaryPrimitives.ReadUInt16BigEndian(udpSegment[(at + 12)..]);
        network = udpSegment[(at + 14)..];
        return true;
    }

    /// <summary>Writes a header with the I flag and <paramref name="vni"/> (vxlan_build_skb).</summary>
    public static void Write(Span<byte> into, uint vni)
    {
        BinaryPrimitives.WriteUInt32BigEndian(into, FlagVni);
        BinaryPrimitives.WriteUInt32BigEndian(into[4..], vni << 8);
    }
}
