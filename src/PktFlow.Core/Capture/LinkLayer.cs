using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Globalization;

namespace PktFlow.Capture;

// The link-layer headers PktFlow replays (tcpdump.org/linktypes.html), all fields big-endian
// except the LINKTYPE_NULL family, which is in the capturing host's byte order:
//
//  LINKTYPE_ETHERNET (1)       0 destination MAC (6), 6 source MAC (6), 12 EtherType or 802.3 length (2)
//  LINKTYPE_NULL (0)           0 address family (4, host order): 2 = IPv4; 24, 28, 30 = IPv6
//  LINKTYPE_LOOP (108)         the same in network byte order
//  LINKTYPE_RAW (101; 12, 14)  IPv4 or IPv6, told apart by the version nibble
//  LINKTYPE_IPV4 (228), LINKTYPE_IPV6 (229)  the packet starts at byte 0
//
//  LINKTYPE_LINUX_SLL (113), 16 bytes
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |      packet type (PACKET_*)   |        ARPHRD_* type          |  0
//  |  link-layer address length    |                               |  4
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  link-layer address (8 bytes) +
//  |                                                               |  8
//  +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                               |     protocol (ETH_P_*)        | 12
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//  LINKTYPE_LINUX_SLL2 (276), 20 bytes
//  |      protocol (ETH_P_*)       |         reserved (0)          |  0
//  |                       interface index                         |  4
//  |        ARPHRD_* type          |  packet type  | addr length   |  8
//  |                 link-layer address (8 bytes)                  | 12
//
// The cooked protocol field is what the kernel put in skb->protocol: an EtherType, or one of the
// kernel's pseudo-protocols below 0x0600 (ETH_P_802_3 = 0x0001 for Novell raw 802.3,
// ETH_P_802_2 = 0x0004 for an 802.2 LLC frame, ETH_P_CAN = 0x000c ...). Those are passed through
// as EtherType so the datapath drops them the way the kernel does (no protocol handler).

/// <summary>PACKET_* packet type of a Linux cooked capture (include/uapi/linux/if_packet.h).</summary>
public enum LinuxPacketType : byte
{
    Host = 0,
    Broadcast = 1,
    Multicast = 2,
    OtherHost = 3,
    Outgoing = 4,
    Loopback = 5,
    User = 6,
    Kernel = 7,
}

/// <summary>What a frame's link-layer header says about the packet it carries.</summary>
public readonly struct LinkInfo
{
    /// <summary>Offset of what <see cref="EtherType"/> describes: 0 for Ethernet (the datapath parses the Ethernet header itself).</summary>
    public int NetworkOffset { get; init; }

    /// <summary>
    /// Protocol of what starts at <see cref="NetworkOffset"/> (0x0800, 0x86DD, 0x0806, 0x8100...). For
    /// Ethernet, the frame's own type field; for cooked captures, the kernel's skb->protocol, which may
    /// be a pseudo-protocol below 0x0600.
    /// </summary>
    public ushort EtherType { get; init; }

    /// <summary>True when the frame starts with an Ethernet header.</summary>
    public bool IsEthernet { get; init; }

    /// <summary>PACKET_* type for Linux cooked captures.</summary>
    public LinuxPacketType? PacketType { get; init; }

    /// <summary>Interface index for Linux cooked v2 captures.</summary>
    public int? InterfaceIndex { get; init; }

    /// <summary>ARPHRD_* device type for Linux cooked captures (1 = ARPHRD_ETHER, 772 = ARPHRD_LOOPBACK...).</summary>
    public ushort? HardwareType { get; init; }

    /// <summary>Offset in the frame of the cooked header's link-layer (source) address; 0 when there is none.</summary>
    public int LinkAddressOffset { get; init; }

    /// <summary>Bytes of link-layer address present (the cooked header keeps at most 8).</summary>
    public int LinkAddressLength { get; init; }
}

/// <summary>Decodes the link-layer header of a captured frame. Never throws on malformed input.</summary>
public static class LinkLayer
{
    public const ushort EtherTypeIpv4 = 0x0800;
    public const ushort EtherTypeIpv6 = 0x86dd;
    private const ushort ArphrdNetlink = 824;
    private const uint LegacyRaw12 = 12;
    private const uint LegacyRaw14 = 14;
    private const int EthernetHeaderLength = 14;
    private const int SllHeaderLength = 16;
    private const int Sll2HeaderLength = 20;
    private const int NullHeaderLength = 4;

    private const string Supported =
        "PktFlow replays Ethernet, Linux cooked v1/v2, raw IPv4/IPv6 and BSD loopback captures";

    private static readonly FrozenDictionary<uint, string> Names = new Dictionary<uint, string>
    {
        [0] = "NULL", [1] = "ETHERNET", [6] = "IEEE802_5", [8] = "SLIP", [9] = "PPP", [10] = "FDDI",
        [12] = "RAW (legacy DLT_RAW)", [14] = "RAW (OpenBSD DLT_RAW)",
        [50] = "PPP_HDLC", [51] = "PPP_ETHER", [101] = "RAW", [104] = "C_HDLC", [105] = "IEEE802_11",
        [107] = "FRELAY", [108] = "LOOP", [113] = "LINUX_SLL", [117] = "PFLOG", [119] = "IEEE802_11_PRISM",
        [127] = "IEEE802_11_RADIOTAP", [192] = "PPI", [195] = "IEEE802_15_4_WITHFCS", [197] = "ERF",
        [201] = "BLUETOOTH_HCI_H4_WITH_PHDR", [220] = "USB_LINUX_MMAPPED", [227] = "CAN_SOCKETCAN",
        [228] = "IPV4", [229] = "IPV6", [239] = "NFLOG", [242] = "IPOIB", [249] = "USBPCAP",
        [253] = "NETLINK", [254] = "BLUETOOTH_LINUX_MONITOR", [258] = "PKTAP", [276] = "LINUX_SLL2",
    }.ToFrozenDictionary();

    /// <summary>True for the link types <see cref="TryDecode"/> understands.</summary>
    public static bool IsSupported(LinkType type) => (uint)type is 0 or 1 or 101 or 108 or 113 or 228 or 229 or 276
        or LegacyRaw12 or LegacyRaw14;

    /// <summary>The LINKTYPE_ name of a link type, or null when PktFlow does not know it.</summary>
    public static string? GetName(LinkType type)
    {
        if (type == CaptureReader.UndescribedInterface)
        {
            return null;
        }

        if ((uint)type is >= 147 and <= 162)
        {
            return "USER" + ((uint)type - 147).ToString(CultureInfo.InvariantCulture);
        }

        return Names.GetValueOrDefault((uint)type);
    }

    /// <summary>"147 (USER0)", "1 (ETHERNET)", "4242".</summary>
    public static string Describe(LinkType type)
    {
        if (type == CaptureReader.UndescribedInterface)
        {
            return "unknown (undescribed pcapng interface)";
        }

        string number = ((uint)type).ToString(CultureInfo.InvariantCulture);
        return GetName(type) is { } name ? $"{number} ({name})" : number;
    }

    /// <summary>
    /// Reads the link-layer header of <paramref name="frame"/>. Returns false with a sentence in
    /// <paramref name="error"/> for unsupported link types and frames too short for their header.
    /// </summary>
    public static bool TryDecode(LinkType type, ReadOnlySpan<byte> frame, out LinkInfo info, out string? error)
    {
        info = default;
        error = null;
        switch ((uint)type)
        {
            case (uint)LinkType.Ethernet:
                if (!HasHeader(frame, EthernetHeaderLength, "Ethernet", out error))
                {
                    return false;
                }

                info = new LinkInfo
                {
                    NetworkOffset = 0,
                    EtherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]),
                    IsEthernet = true,
                };
                return true;

            case (uint)LinkType.LinuxSll:
                return TryDecodeSll(frame, out info, out error);

            case (uint)LinkType.LinuxSll2:
                return TryDecodeSll2(frame, out info, out error);

            case (uint)LinkType.Raw or LegacyRaw12 or LegacyRaw14:
                return TryDecodeRaw(frame, "raw IP", out info, out error);

            case (uint)LinkType.Ipv4:
                return TryDecodeFixed(frame, EtherTypeIpv4, "IPv4", out info, out error);

            case (uint)LinkType.Ipv6:
                return TryDecodeFixed(frame, EtherTypeIpv6, "IPv6", out info, out error);

            case (uint)LinkType.Null:
                return TryDecodeLoopback(frame, networkOrder: false, out info, out error);

            case (uint)LinkType.Loop:
                return TryDecodeLoopback(frame, networkOrder: true, out info, out error);

            default:
                error = $"link type {Describe(type)} is not supported: {Supported}{Hint(type)}.";
                return false;
        }
    }

    private static bool TryDecodeSll(ReadOnlySpan<byte> frame, out LinkInfo info, out string? error)
    {
        info = default;
        if (!HasHeader(frame, SllHeaderLength, "Linux cooked v1", out error))
        {
            return false;
        }

        ushort hardware = BinaryPrimitives.ReadUInt16BigEndian(frame[2..]);
        if (hardware == ArphrdNetlink)
        {
            error = NetlinkError;
            return false;
        }

        info = new LinkInfo
        {
            NetworkOffset = SllHeaderLength,
            EtherType = BinaryPrimitives.ReadUInt16BigEndian(frame[14..]),
            PacketType = (LinuxPacketType)BinaryPrimitives.ReadUInt16BigEndian(frame),
            HardwareType = hardware,
            LinkAddressOffset = 6,
            LinkAddressLength = Math.Min((int)BinaryPrimitives.ReadUInt16BigEndian(frame[4..]), 8),
        };
        return true;
    }

    private static bool TryDecodeSll2(ReadOnlySpan<byte> frame, out LinkInfo info, out string? error)
    {
        info = default;
        if (!HasHeader(frame, Sll2HeaderLength, "Linux cooked v2", out error))
        {
            return false;
        }

        ushort hardware = BinaryPrimitives.ReadUInt16BigEndian(frame[8..]);
        if (hardware == ArphrdNetlink)
        {
            error = NetlinkError;
            return false;
        }

        info = new LinkInfo
        {
            NetworkOffset = Sll2HeaderLength,
            EtherType = BinaryPrimitives.ReadUInt16BigEndian(frame),
            InterfaceIndex = BinaryPrimitives.ReadInt32BigEndian(frame[4..]),
            HardwareType = hardware,
            PacketType = (LinuxPacketType)frame[10],
            LinkAddressOffset = 12,
            LinkAddressLength = Math.Min((int)frame[11], 8),
        };
        return true;
    }

    private const string NetlinkError =
        "Linux cooked frame carries a netlink message (ARPHRD_NETLINK, captured on an nlmon device), not a network packet; " + Supported + ".";

    private static bool TryDecodeRaw(ReadOnlySpan<byte> frame, string what, out LinkInfo info, out string? error)
    {
        info = default;
        if (!HasHeader(frame, 1, what, out error))
        {
            return false;
        }

        int version = frame[0] >> 4;
        if (version is not (4 or 6))
        {
            error = $"{what} frame starts with IP version {version}, not 4 or 6.";
            return false;
        }

        info = new LinkInfo { EtherType = version == 4 ? EtherTypeIpv4 : EtherTypeIpv6 };
        return true;
    }

    private static bool TryDecodeFixed(ReadOnlySpan<byte> frame, ushort etherType, string what, out LinkInfo info, out string? error)
    {
        info = default;
        if (!HasHeader(frame, 1, what, out error))
        {
            return false;
        }

        info = new LinkInfo { EtherType = etherType };
        return true;
    }

    private static bool TryDecodeLoopback(ReadOnlySpan<byte> frame, bool networkOrder, out LinkInfo info, out string? error)
    {
        info = default;
        string what = networkOrder ? "OpenBSD loopback" : "BSD loopback";
        if (!HasHeader(frame, NullHeaderLength, what, out error))
        {
            return false;
        }

        uint family;
        if (networkOrder)
        {
            family = BinaryPrimitives.ReadUInt32BigEndian(frame);
        }
        else
        {
            // Host byte order of whoever captured it: families are small, so the order that
            // gives a value below 65536 is the right one.
            family = BinaryPrimitives.ReadUInt32LittleEndian(frame);
            if (family > 0xffff)
            {
                family = BinaryPrimitives.ReadUInt32BigEndian(frame);
            }
        }

        ushort etherType = family switch
        {
            2 => EtherTypeIpv4,
            24 or 28 or 30 => EtherTypeIpv6,
            _ => 0,
        };
        if (etherType == 0)
        {
            error = $"{what} header has address family {family}, neither IPv4 (2) nor IPv6 (24, 28, 30).";
            return false;
        }

        info = new LinkInfo { NetworkOffset = NullHeaderLength, EtherType = etherType };
        return true;
    }

    private static bool HasHeader(ReadOnlySpan<byte> frame, int length, string what, out string? error)
    {
        if (frame.Length >= length)
        {
            error = null;
            return true;
        }

        error = length == 1
            ? $"{what} frame is empty."
            : $"{what} header needs {length} bytes, frame has {frame.Length}.";
        return false;
    }

    private static string Hint(LinkType type) => (uint)type switch
    {
        239 => " (to replay netfilter traffic, capture on the interfaces, e.g. tcpdump -i any, rather than on nflog)",
        105 or 119 or 127 or 163 or 192 => " (capture 802.11 traffic on the wired side, or convert it to Ethernet)",
        >= 147 and <= 162 => " (USERn types are private to whoever wrote the file)",
        _ when type == CaptureReader.UndescribedInterface => " (the frame's pcapng interface has no interface description block)",
        _ => "",
    };
}
