namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// What nft (netlink_gen_payload_stmt) makes of a payload statement: the checksum it asks the kernel to fix
/// (csum_type NFT_PAYLOAD_CSUM_INET at the header's checksum field when the header has one: IPv4 10,
/// TCP 16, UDP 6; none for IPv6 and th), NFT_PAYLOAD_L4CSUM_PSEUDOHDR for the network-header fields in the
/// transport pseudo-header (the addresses), and where a checksum is fixed the write widened to whole
/// 16-bit words (nft writes <c>ip ttl</c> as 2 bytes at offset 8). Only the fields below are modelled.
/// </summary>
internal sealed record PayloadSetSpec(int CsumOffset, bool PseudoHeader)
{
    public const string Supported = "only ether saddr/daddr/type, vlan id/pcp/dei/type, ip ttl/dscp/ecn/id/saddr/daddr, ip6 hoplimit/dscp/ecn/flowlabel/saddr/daddr, tcp/udp/th sport/dport, ip/tcp/udp checksum and tcp option maxseg size";

    private static readonly Dictionary<string, PayloadSetSpec> Fields = new()
    {
        ["ip ttl"] = new(10, false), ["ip dscp"] = new(10, false), ["ip ecn"] = new(10, false), ["ip id"] = new(10, false),
        ["ip saddr"] = new(10, true), ["ip daddr"] = new(10, true),
        ["ip6 hoplimit"] = new(-1, false), ["ip6 dscp"] = new(-1, false), ["ip6 ecn"] = new(-1, false), ["ip6 flowlabel"] = new(-1, false),
        ["ip6 saddr"] = new(-1, true), ["ip6 daddr"] = new(-1, true),
        ["tcp sport"] = new(16, false), ["tcp dport"] = new(16, false),
        ["udp sport"] = new(6, false), ["udp dport"] = new(6, false),
        // a checksum written: nft_csum_replace on the field itself, then the store: the value is what stays
        ["ip checksum"] = new(10, false), ["tcp checksum"] = new(16, false), ["udp checksum"] = new(6, false),
        // th has no checksum field of its own: nft asks for no checksum update, the L4 checksum is left stale
        ["th sport"] = new(-1, false), ["th dport"] = new(-1, false),
        // link-layer fields: no checksum covers them (csum_type 0); nft_payload_set_vlan where the tag is outside the frame
        ["ether daddr"] = new(-1, false), ["ether saddr"] = new(-1, false), ["ether type"] = new(-1, false),
        ["vlan id"] = new(-1, false), ["vlan pcp"] = new(-1, false), ["vlan dei"] = new(-1, false), ["vlan type"] = new(-1, false),
    };

    public static PayloadSetSpec? Of(PayloadSelector sel) =>
        Fields.TryGetValue(sel.Text, out var s) && (sel.Base != PBase.Network || sel.NeedL3 is L3.V4 or L3.V6) ? s : null;

    /// <summary>Why a field is not written, for the load error.</summary>
    public static string WhyNot(string field) => field.Split(' ')[0] switch
    {
        "sctp" => "SCTP's CRC32c (NFT_PAYLOAD_CSUM_SCTP) is not modelled",
        "icmp" or "icmpv6" => "ICMP header writes are not modelled",
        "ip" or "ip6" => "changing the header's version, length or protocol is not modelled",
        _ => "this header is not written by the model",
    };

    public PayloadSetStmt Stmt(PayloadSelector f)
    {
        bool csum = CsumOffset >= 0 || PseudoHeader;
        int from = csum ? f.Offset & ~1 : f.Offset, to = csum ? (f.Offset + f.Width + 1) & ~1 : f.Offset + f.Width;
        return new PayloadSetStmt { Field = f, CsumOffset = CsumOffset, PseudoHeader = PseudoHeader, WriteOffset = from, WriteWidth = to - from };
    }
}
