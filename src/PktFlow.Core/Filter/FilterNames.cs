using System.Collections.Frozen;
using PktFlow.Wire;

namespace PktFlow.Filter;

/// <summary>
/// The names a pcap-filter expression may use in place of numbers. libpcap takes protocol and
/// service names from the system databases (getprotobyname, getservbyname); PktFlow carries the
/// Debian /etc/protocols and the common /etc/services entries instead, so a filter means the same
/// on every machine.
/// </summary>
internal static class FilterNames
{
    /// <summary>IP protocol numbers by their /etc/protocols name (IANA keyword, lower case).</summary>
    public static readonly FrozenDictionary<string, byte> IpProtocols = new Dictionary<string, byte>
    {
        ["ip"] = 0, ["hopopt"] = IpProtocol.HopByHop, ["icmp"] = IpProtocol.Icmp, ["igmp"] = IpProtocol.Igmp,
        ["ggp"] = 3, ["ipencap"] = IpProtocol.IpIp, ["st"] = 5, ["tcp"] = IpProtocol.Tcp, ["egp"] = 8, ["igp"] = 9,
        ["pup"] = 12, ["udp"] = IpProtocol.Udp, ["hmp"] = 20, ["xns-idp"] = 22, ["rdp"] = 27, ["iso-tp4"] = 29,
        ["dccp"] = 33, ["xtp"] = 36, ["ddp"] = 37, ["idpr-cmtp"] = 38, ["ipv6"] = IpProtocol.Ipv6,
        ["ipv6-route"] = IpProtocol.Routing, ["ipv6-frag"] = IpProtocol.Fragment, ["idrp"] = 45, ["rsvp"] = 46,
        ["gre"] = IpProtocol.Gre, ["esp"] = IpProtocol.Esp, ["ah"] = IpProtocol.Ah, ["skip"] = 57,
        ["ipv6-icmp"] = IpProtocol.Icmpv6, ["ipv6-nonxt"] = IpProtocol.NoNext, ["ipv6-opts"] = IpProtocol.DestOpts,
        ["rspf"] = 73, ["vmtp"] = 81, ["eigrp"] = 88, ["ospf"] = 89, ["ax.25"] = 93, ["ipip"] = 94, ["etherip"] = 97,
        ["encap"] = 98, ["pim"] = 103, ["ipcomp"] = 108, ["vrrp"] = 112, ["l2tp"] = 115, ["isis"] = 124,
        ["sctp"] = IpProtocol.Sctp, ["fc"] = 133, ["mobility-header"] = IpProtocol.Mobility,
        ["udplite"] = IpProtocol.UdpLite, ["mpls-in-ip"] = IpProtocol.Mpls, ["manet"] = 138, ["hip"] = 139,
        ["shim6"] = 140, ["wesp"] = 141, ["rohc"] = 142, ["ethernet"] = 143,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>EtherTypes for <c>ether proto \name</c> (pcap-filter(7) "ether proto protocol").</summary>
    public static readonly FrozenDictionary<string, ushort> EtherProtocols = new Dictionary<string, ushort>
    {
        ["ip"] = EtherTypes.Ipv4, ["ip6"] = EtherTypes.Ipv6, ["arp"] = EtherTypes.Arp, ["rarp"] = EtherTypes.Rarp,
        ["mopdl"] = 0x6001, ["moprc"] = 0x6002, ["decnet"] = 0x6003, ["lat"] = 0x6004, ["sca"] = 0x6007,
        ["atalk"] = 0x809B, ["aarp"] = 0x80F3, ["loopback"] = 0x9000,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>A service name: its port and whether /etc/services lists it for TCP, UDP or both.</summary>
    internal readonly record struct Service(ushort Port, bool Tcp, bool Udp);

    /// <summary>Well-known service names (Debian /etc/services, the usual subset).</summary>
    public static readonly FrozenDictionary<string, Service> Services = new Dictionary<string, Service>
    {
        ["ftp-data"] = new(20, true, false), ["ftp"] = new(21, true, false), ["ssh"] = new(22, true, false),
        ["telnet"] = new(23, true, false), ["smtp"] = new(25, true, false), ["mail"] = new(25, true, false),
        ["domain"] = new(53, true, true), ["bootps"] = new(67, false, true), ["bootpc"] = new(68, false, true),
        ["tftp"] = new(69, false, true), ["http"] = new(80, true, false), ["www"] = new(80, true, false),
        ["kerberos"] = new(88, true, true), ["pop3"] = new(110, true, false), ["sunrpc"] = new(111, true, true),
        ["portmapper"] = new(111, true, true), ["ntp"] = new(123, false, true), ["epmap"] = new(135, true, false),
        ["netbios-ns"] = new(137, false, true), ["netbios-dgm"] = new(138, false, true),
        ["netbios-ssn"] = new(139, true, false), ["imap2"] = new(143, true, false), ["imap"] = new(143, true, false),
        ["snmp"] = new(161, true, true), ["snmp-trap"] = new(162, true, true), ["bgp"] = new(179, true, false),
        ["ldap"] = new(389, true, true), ["https"] = new(443, true, true), ["microsoft-ds"] = new(445, true, false),
        ["isakmp"] = new(500, false, true), ["login"] = new(513, true, false), ["who"] = new(513, false, true),
        ["shell"] = new(514, true, false), ["syslog"] = new(514, true, true), ["printer"] = new(515, true, false),
        ["dhcpv6-client"] = new(546, false, true), ["dhcpv6-server"] = new(547, false, true),
        ["submission"] = new(587, true, false), ["ldaps"] = new(636, true, true), ["domain-s"] = new(853, true, true),
        ["rsync"] = new(873, true, false), ["imaps"] = new(993, true, false), ["pop3s"] = new(995, true, false),
        ["socks"] = new(1080, true, false), ["openvpn"] = new(1194, true, true), ["ms-sql-s"] = new(1433, true, false),
        ["radius"] = new(1812, true, true), ["radius-acct"] = new(1813, true, true), ["nfs"] = new(2049, true, true),
        ["mysql"] = new(3306, true, false), ["ms-wbt-server"] = new(3389, true, false),
        ["ipsec-nat-t"] = new(4500, false, true), ["sip"] = new(5060, true, true), ["sip-tls"] = new(5061, true, true),
        ["xmpp-client"] = new(5222, true, false), ["mdns"] = new(5353, false, true),
        ["postgresql"] = new(5432, true, false), ["http-alt"] = new(8080, true, false),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>
    /// Names that stand for numbers in arithmetic (pcap-filter(7): header field offsets, ICMP and
    /// ICMPv6 types, TCP flag bits).
    /// </summary>
    public static readonly FrozenDictionary<string, uint> Constants = new Dictionary<string, uint>
    {
        ["icmptype"] = 0, ["icmpcode"] = 1, ["icmp6type"] = 0, ["icmp6code"] = 1, ["tcpflags"] = 13,

        ["icmp-echoreply"] = IcmpHeader.EchoReply, ["icmp-unreach"] = IcmpHeader.DestUnreach,
        ["icmp-sourcequench"] = IcmpHeader.SourceQuench, ["icmp-redirect"] = IcmpHeader.Redirect,
        ["icmp-echo"] = IcmpHeader.EchoRequest, ["icmp-routeradvert"] = IcmpHeader.RouterAdvertisement,
        ["icmp-routersolicit"] = IcmpHeader.RouterSolicitation, ["icmp-timxceed"] = IcmpHeader.TimeExceeded,
        ["icmp-paramprob"] = IcmpHeader.ParamProblem, ["icmp-tstamp"] = IcmpHeader.Timestamp,
        ["icmp-tstampreply"] = IcmpHeader.TimestampReply, ["icmp-ireq"] = IcmpHeader.InfoRequest,
        ["icmp-ireqreply"] = IcmpHeader.InfoReply, ["icmp-maskreq"] = IcmpHeader.AddressMaskRequest,
        ["icmp-maskreply"] = IcmpHeader.AddressMaskReply,

        ["icmp6-destinationunreach"] = Icmpv6Header.DestUnreach, ["icmp6-packettoobig"] = Icmpv6Header.PacketTooBig,
        ["icmp6-timeexceeded"] = Icmpv6Header.TimeExceeded, ["icmp6-parameterproblem"] = Icmpv6Header.ParamProblem,
        ["icmp6-echo"] = Icmpv6Header.EchoRequest, ["icmp6-echoreply"] = Icmpv6Header.EchoReply,
        ["icmp6-multicastlistenerquery"] = Icmpv6Header.MldQuery,
        ["icmp6-multicastlistenerreportv1"] = Icmpv6Header.MldReport,
        ["icmp6-multicastlistenerdone"] = Icmpv6Header.MldDone,
        ["icmp6-routersolicit"] = Icmpv6Header.RouterSolicitation,
        ["icmp6-routeradvert"] = Icmpv6Header.RouterAdvertisement,
        ["icmp6-neighborsolicit"] = Icmpv6Header.NeighborSolicitation,
        ["icmp6-neighboradvert"] = Icmpv6Header.NeighborAdvertisement, ["icmp6-redirect"] = Icmpv6Header.Redirect,
        ["icmp6-routerrenum"] = 138, ["icmp6-nodeinformationquery"] = 139, ["icmp6-nodeinformationresponse"] = 140,
        ["icmp6-ineighbordiscoverysolicit"] = 141, ["icmp6-ineighbordiscoveryadvert"] = 142,
        ["icmp6-multicastlistenerreportv2"] = Icmpv6Header.Mldv2Report,
        ["icmp6-homeagentdiscoveryrequest"] = 144, ["icmp6-homeagentdiscoveryreply"] = 145,
        ["icmp6-mobileprefixsolicit"] = 146, ["icmp6-mobileprefixadvert"] = 147, ["icmp6-certpathsolicit"] = 148,
        ["icmp6-certpathadvert"] = 149, ["icmp6-multicastrouteradvert"] = 151,
        ["icmp6-multicastroutersolicit"] = 152, ["icmp6-multicastrouterterm"] = 153,

        ["tcp-fin"] = (uint)TcpFlags.Fin, ["tcp-syn"] = (uint)TcpFlags.Syn, ["tcp-rst"] = (uint)TcpFlags.Rst,
        ["tcp-push"] = (uint)TcpFlags.Psh, ["tcp-ack"] = (uint)TcpFlags.Ack, ["tcp-urg"] = (uint)TcpFlags.Urg,
        ["tcp-ece"] = (uint)TcpFlags.Ece, ["tcp-cwr"] = (uint)TcpFlags.Cwr,
    }.ToFrozenDictionary(StringComparer.Ordinal);
}
