namespace PktFlow.Wire;

/// <summary>
/// IP protocol numbers (IANA "Assigned Internet Protocol Numbers"; the kernel's IPPROTO_* and
/// NEXTHDR_* in include/net/ipv6.h). Bytes as constants so they compare directly with header fields.
/// </summary>
public static class IpProtocol
{
    /// <summary>IPv6 hop-by-hop options (RFC 8200 4.3); only valid as the first IPv6 extension header.</summary>
    public const byte HopByHop = 0;
    public const byte Icmp = 1;
    public const byte Igmp = 2;
    /// <summary>IPv4-in-IP (RFC 2003).</summary>
    public const byte IpIp = 4;
    public const byte Tcp = 6;
    public const byte Udp = 17;
    /// <summary>IPv6-in-IP (RFC 2473 / 4213).</summary>
    public const byte Ipv6 = 41;
    public const byte Routing = 43;
    public const byte Fragment = 44;
    public const byte Gre = 47;
    public const byte Esp = 50;
    public const byte Ah = 51;
    public const byte Icmpv6 = 58;
    public const byte NoNext = 59;
    public const byte DestOpts = 60;
    public const byte Mobility = 135;
    public const byte Sctp = 132;
    public const byte UdpLite = 136;
    public const byte Mpls = 137;

    /// <summary>Short lower-case name as tcpdump and iproute2 print it, or null if unnamed here.</summary>
    public static string? Name(byte protocol) => protocol switch
    {
        HopByHop => "hopopt",
        Icmp => "icmp",
        Igmp => "igmp",
        IpIp => "ipip",
        Tcp => "tcp",
        Udp => "udp",
        Ipv6 => "ipv6",
        Routing => "ipv6-route",
        Fragment => "ipv6-frag",
        Gre => "gre",
        Esp => "esp",
        Ah => "ah",
        Icmpv6 => "ipv6-icmp",
        NoNext => "ipv6-nonxt",
        DestOpts => "ipv6-opts",
        Sctp => "sctp",
        UdpLite => "udplite",
        _ => null,
    };
}

/// <summary>Ethernet type field values (IEEE 802 numbers; the kernel's ETH_P_* in if_ether.h).</summary>
public static class EtherTypes
{
    public const ushort Ipv4 = 0x0800;
    public const ushort Arp = 0x0806;
    /// <summary>Reverse ARP (RFC 903).</summary>
    public const ushort Rarp = 0x8035;
    /// <summary>IEEE 802.1Q customer VLAN tag (C-tag).</summary>
    public const ushort Vlan = 0x8100;
    public const ushort Ipv6 = 0x86DD;
    public const ushort Mpls = 0x8847;
    public const ushort MplsMulticast = 0x8848;
    public const ushort PppoeDiscovery = 0x8863;
    public const ushort PppoeSession = 0x8864;
    /// <summary>IEEE 802.1ad service VLAN tag (S-tag, "QinQ").</summary>
    public const ushort QinQ = 0x88A8;
    /// <summary>Pre-standard QinQ S-tag still emitted by some switches (ETH_P_QINQ1).</summary>
    public const ushort QinQ9100 = 0x9100;
    public const ushort Lldp = 0x88CC;
    public const ushort MacSec = 0x88E5;
    /// <summary>ETH_P_802_3: eth_type_trans's protocol for an 802.3 frame whose payload starts with ff ff (raw Novell IPX).</summary>
    public const ushort Raw8023 = 0x0001;
    /// <summary>ETH_P_802_2: eth_type_trans's protocol for any other 802.3 frame (an LLC header follows; llc_rcv takes it).</summary>
    public const ushort Llc = 0x0004;
    /// <summary>Values at or below this are an 802.3 length, not a type (ETH_P_802_3_MIN is 0x0600).</summary>
    public const ushort MaxLength = 1500;
    public const ushort Min8023Type = 0x0600;

    /// <summary>True for the tag protocol identifiers PktFlow treats as VLAN tags (eth_type_vlan).</summary>
    public static bool IsVlan(ushort type) => type is Vlan or QinQ or QinQ9100;
}
