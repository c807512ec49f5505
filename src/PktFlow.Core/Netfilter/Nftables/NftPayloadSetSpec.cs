namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// What nft (netlink_gen_payload_stmt) makes of a payload statement, as <c>nft --debug=netlink</c> shows it
/// (nft 1.0.6): the checksum it asks the kernel to fix (csum_type NFT_PAYLOAD_CSUM_INET at the header's
/// checksum field when the header has one: IPv4 10, TCP 16, UDP 6, ICMP and ICMPv6 2; none for IPv6, th,
/// ARP, the link layer and raw bases), NFT_PAYLOAD_L4CSUM_PSEUDOHDR for the network-header fields nft
/// counts in the transport pseudo-header (IPv4 saddr, daddr, protocol and length; IPv6 saddr, daddr,
/// nexthdr and length) and for every <c>@ih</c> write, and where a checksum is fixed the write widened
/// to whole 16-bit words (nft writes <c>ip ttl</c> as 2 bytes at offset 8, <c>ip protocol</c> as ttl and
/// protocol). A pseudo-header field without CSUM_INET is written as it is (<c>ip6 nexthdr</c>: 1 byte at 6).
/// SCTP fields carry NFT_PAYLOAD_CSUM_SCTP (csum_type 2): the CRC32c is computed afresh after the write.
/// </summary>
internal sealed record PayloadSetSpec(int CsumOffset, bool PseudoHeader, bool SctpCrc = false)
{
    public const string Supported = "ether, vlan, arp, ip, ip6, tcp, udp, sctp, th, icmp and icmpv6 fields, raw @ll/@nh/@th/@ih payloads and tcp option maxseg size";

    private static readonly HashSet<string> PseudoHeaderFields = new() { "ip saddr", "ip daddr", "ip protocol", "ip length", "ip6 saddr", "ip6 daddr", "ip6 nexthdr", "ip6 length" };

    public static PayloadSetSpec? Of(PayloadSelector sel)
    {
        int csum = sel.Text.Split(' ')[0] switch
        {
            "ip" when sel.NeedL3 == L3.V4 => 10,
            "tcp" => 16, "udp" => 6, "icmp" or "icmpv6" => 2,
            "ip6" when sel.NeedL3 == L3.V6 => -1,
            "th" or "ether" or "vlan" or "sctp" => -1,
            "arp" when sel.NeedL3 == L3.Arp => -1,
            _ => -2,
        };
        return csum == -2 ? null : new(csum, PseudoHeaderFields.Contains(sel.Text), sel.NeedL4 == 132);
    }

    /// <summary>A raw payload (<c>@nh,8,8</c>): no checksum, except that nft flags an inner write for the transport checksum.</summary>
    public static PayloadSetSpec Raw(RawBase b) => new(-1, b == RawBase.Inner);

    /// <summary>Why a field is not written, for the load error.</summary>
    public static string WhyNot(string field) => "this header is not written by the model";

    public PayloadSetStmt Stmt(PayloadSelector f)
    {
        bool csum = CsumOffset >= 0;
        int from = csum ? f.Offset & ~1 : f.Offset, to = csum ? (f.Offset + f.Width + 1) & ~1 : f.Offset + f.Width;
        return new PayloadSetStmt { Field = f, CsumOffset = CsumOffset, PseudoHeader = PseudoHeader, SctpCrc = SctpCrc, WriteOffset = from, WriteWidth = to - from };
    }
}
