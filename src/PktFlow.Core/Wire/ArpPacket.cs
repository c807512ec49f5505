using System.Buffers.Binary;

namespace PktFlow.Wire;

// ARP packet for Ethernet / IPv4 (RFC 826, RFC 5227):
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |        Hardware Type (1)      |     Protocol Type (0x0800)    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  HLEN (6)     |   PLEN (4)    |          Operation            |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                 Sender Hardware Address (6)                   |
//  +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                               |  Sender Protocol Address (4)  |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//  |                               |                               |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//  |                 Target Hardware Address (6)                   |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                 Target Protocol Address (4)                   |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

/// <summary>
/// A zero-copy view of an ARP packet. <see cref="TryParse"/> accepts only the Ethernet/IPv4 sizes
/// (hardware length 6, protocol length 4, 28 bytes), which is all arp_rcv handles for Ethernet
/// devices; use <see cref="TryParseHeader"/> to read the 8-byte fixed part of anything else.
/// </summary>
public readonly ref struct ArpPacket
{
    private const int HardwareTypeOffset = 0;
    private const int ProtocolTypeOffset = 2;
    private const int HardwareLengthOffset = 4;
    private const int ProtocolLengthOffset = 5;
    private const int OperationOffset = 6;
    private const int SenderMacOffset = 8;
    private const int SenderIpOffset = 14;
    private const int TargetMacOffset = 18;
    private const int TargetIpOffset = 24;
    /// <summary>Length of the fixed part (types, lengths, operation).</summary>
    public const int FixedLength = 8;
    /// <summary>Length of an Ethernet/IPv4 ARP packet.</summary>
    public const int EthernetIpv4Length = 28;

    public const ushort Request = 1;
    public const ushort Reply = 2;
    public const ushort ReverseRequest = 3;
    public const ushort ReverseReply = 4;
    public const ushort InArpRequest = 8;
    public const ushort InArpReply = 9;
    /// <summary>ARPHRD_ETHER.</summary>
    public const ushort HardwareEthernet = 1;

    private readonly ReadOnlySpan<byte> _data;
    private ArpPacket(ReadOnlySpan<byte> data) => _data = data;

    public ReadOnlySpan<byte> Data => _data;

    /// <summary>Parses an Ethernet/IPv4 ARP packet (hardware length 6, protocol length 4, 28 bytes).</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out ArpPacket packet, out string? error)
    {
        if (!TryParseHeader(data, out packet, out error)) return false;
        if (packet.HardwareLength != 6 || packet.ProtocolLength != 4)
        {
            error = $"ARP hardware length {packet.HardwareLength} / protocol length {packet.ProtocolLength}, expected 6 / 4 (Ethernet / IPv4)";
            packet = default;
            return false;
        }
        if (data.Length < EthernetIpv4Length)
        {
            error = $"ARP packet {data.Length} bytes < {EthernetIpv4Length}";
            packet = default;
            return false;
        }
        return true;
    }

    /// <summary>Checks only the 8-byte fixed part; address accessors then return defaults unless the
    /// sizes are 6/4 and 28 bytes are present.</summary>
    public static bool TryParseHeader(ReadOnlySpan<byte> data, out ArpPacket packet, out string? error)
    {
        if (data.Length < FixedLength)
        {
            packet = default;
            error = $"ARP packet {data.Length} bytes < {FixedLength}";
            return false;
        }
        packet = new ArpPacket(data);
        error = null;
        return true;
    }

    public ushort HardwareType => BinaryPrimitives.ReadUInt16BigEndian(_data[HardwareTypeOffset..]);
    public ushort ProtocolType => BinaryPrimitives.ReadUInt16BigEndian(_data[ProtocolTypeOffset..]);
    public byte HardwareLength => _data[HardwareLengthOffset];
    public byte ProtocolLength => _data[ProtocolLengthOffset];
    public ushort Operation => BinaryPrimitives.ReadUInt16BigEndian(_data[OperationOffset..]);

    /// <summary>Sizes are Ethernet/IPv4 and all 28 bytes are present.</summary>
    public bool IsEthernetIpv4 => _data.Length >= EthernetIpv4Length && HardwareLength == 6 && ProtocolLength == 4;

    public MacAddress SenderMac => IsEthernetIpv4 ? MacAddress.Read(_data[SenderMacOffset..]) : default;
    public IpAddr SenderIp => IsEthernetIpv4 ? IpAddr.ReadV4(_data[SenderIpOffset..]) : IpAddr.AnyV4;
    public MacAddress TargetMac => IsEthernetIpv4 ? MacAddress.Read(_data[TargetMacOffset..]) : default;
    public IpAddr TargetIp => IsEthernetIpv4 ? IpAddr.ReadV4(_data[TargetIpOffset..]) : IpAddr.AnyV4;

    /// <summary>Length of the packet as the header describes it: 8 + 2 * (HLEN + PLEN).</summary>
    public int DescribedLength => FixedLength + 2 * (HardwareLength + ProtocolLength);

    /// <summary>A gratuitous ARP (RFC 5227 3): sender and target protocol address equal.</summary>
    public bool IsGratuitous => IsEthernetIpv4 && SenderIp == TargetIp;
}
