using System.Buffers.Binary;
using PktFlow.Wire;

namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// nft_payload_set_eval: a header field written for every later rule, hook and the transmit
/// (<c>ip ttl set 23</c>, <c>ip daddr set 10.2.0.3</c>, <c>ip6 saddr set ::1</c>, <c>tcp dport set 8080</c>,
/// <c>ip daddr set ip daddr map { ... }</c>). The value is a constant, another field, or a map's data; a
/// map without the key or a field the packet lacks ends the rule (NFT_BREAK). The checksums are fixed as
/// the attributes nft gives the expression ask: NFT_PAYLOAD_CSUM_INET at <see cref="CsumOffset"/> (the IPv4
/// header's, TCP's, UDP's: nft_csum_replace, RFC 1624, 0 written as 0xffff), and with
/// NFT_PAYLOAD_L4CSUM_PSEUDOHDR (addresses: fields of the pseudo-header) the transport checksum too
/// (nft_payload_l4csum_update): TCP, UDPlite and ICMPv6 always, UDP only when its checksum is not 0, never
/// ICMP (no pseudo-header) nor a non-first fragment. Where a checksum is fixed nft writes whole 16-bit
/// words (<see cref="WriteOffset"/>, <see cref="WriteWidth"/>), the other bits kept. A CHECKSUM_PARTIAL skb (a
/// local sender's or FTP NAT's pseudo-header sum in the transport checksum field, <see cref="AddressRewrite.IsPartialChecksum"/>)
/// is what nft_payload_set_eval treats apart: a transport header write fixes no checksum at all (the device
/// sums the segment later), an address write keeps the field a pseudo-header sum.
/// </summary>
internal sealed class PayloadSetStmt : NftStmt
{
    public required PayloadSelector Field;
    /// <summary>A constant: for a sub-byte field its value, else unused (<see cref="Constant"/> holds the bytes).</summary>
    public ulong Value;
    public byte[]? Constant;
    public NftSelector? Source;
    public NftMapLookup? Map;
    /// <summary>NFT_PAYLOAD_CSUM_INET's checksum field, from the base; -1: NFT_PAYLOAD_CSUM_NONE.</summary>
    public int CsumOffset = -1;
    public bool PseudoHeader;
    public int WriteOffset, WriteWidth;
    /// <summary>A raw <c>@ih</c> write: the field's offset counts from after the TCP (doff) or UDP/UDP-Lite header.</summary>
    public bool Inner;
    /// <summary>NFT_PAYLOAD_CSUM_SCTP: nft_payload_csum_sctp computes the CRC32c afresh over the SCTP packet (a wrong one comes out right).</summary>
    public bool SctpCrc;
    internal override bool DrawsRandom => (Source ?? Map?.Key)?.DrawsRandom == true;

    public override bool Eval(NftEvalCtx c)
    {
        var f = Field;
        var p = c.P;
        if (f.NeedL3 != L3.None && NftSelector.NetProto(p) != f.NeedL3) return false;
        var net = f.Base == PBase.Link ? p.MutableLink : p.MutableNetwork;
        int at = 0;
        if (f.Base == PBase.Link)
        {
            if (!LinkWriteOk(c, net)) return false;
        }
        else if (f.Base == PBase.Transport)
        {
            // a non-first fragment has no transport header to write (TransportOffset -1)
            if (p.TransportOffset < 0 || (f.NeedL4 >= 0 && p.L4Protocol != f.NeedL4 && p.L4Protocol != f.NeedL4Alt)) return false;
            at = p.TransportOffset;
            // nft's dependency for a field some ICMP types only have (icmp id: an echo), matched before the write
            if (f.NeedIcmpType is not null && (net.Length <= at || Array.IndexOf(f.NeedIcmpType, net[at]) < 0)) return false;
            if (Inner)
            {
                int inner = RawPayloadSelector.InnerStart(p.L4Protocol, net[at..]);
                if (inner < 0) return false;
                at += inner;
            }
        }
        else if (f.NeedL3 == L3.V4 && net.Length < 20) return false;
        if (net.Length < at + WriteOffset + WriteWidth || net.Length < at + f.Offset + f.Width) return false;
        Span<byte> value = stackalloc byte[f.Width];
        if (!Load(c, value)) return false;
        var window = net.Slice(at + WriteOffset, WriteWidth);
        Span<byte> before = stackalloc byte[WriteWidth], after = stackalloc byte[WriteWidth];
        window.CopyTo(before);
        window.CopyTo(after);
        var field = after.Slice(f.Offset - WriteOffset, f.Width);
        if (f.Mask == 0) value.CopyTo(field);
        else
        {
            ulong old = NftBytes.ToUlong(field), now = (old & ~(f.Mask << f.Shift)) | ((Value & f.Mask) << f.Shift);
            for (int i = f.Width - 1; i >= 0; i--) { field[i] = (byte)now; now >>= 8; }
        }
        string text = $"{f.Text} set: {Show(before.Slice(f.Offset - WriteOffset, f.Width))} -> {Show(field)}";
        // only a transport field's own checksum or a pseudo-header update asks whether the sum is partial
        bool partial = ((f.Base == PBase.Transport && CsumOffset >= 0) || PseudoHeader) && IsPartial(p, net);
        if (partial && f.Base == PBase.Transport)
            text += " (CHECKSUM_PARTIAL: no checksum updated, the device sums the segment)";
        else
        {
            if (CsumOffset >= 0)
            {
                if (net.Length < at + CsumOffset + 2) return false;
                PayloadCsum.Replace(net.Slice(at + CsumOffset, 2), before, after, mangledZero: true);
            }
            if (PseudoHeader) text += L4CsumUpdate(p, net, before, after, partial);
        }
        after.CopyTo(window);
        // only a first fragment has the whole packet the CRC covers (pkt->fragoff == 0)
        if (SctpCrc && p.L4Protocol == 132 && p.TransportOffset >= 0) SctpHeader.WriteChecksum(net[p.TransportOffset..]);
        if (f.Base == PBase.Link) p.LinkWritten();
        (c.Notes ??= new()).Add(text);
        return true;
    }

    /// <summary>
    /// A link-layer write: no MAC header (a local packet before dev_queue_xmit) ends the rule; a vlan field
    /// needs the tag nft's dependency (<c>ether type 8021q</c>, or the <c>vlan type</c> before it) matched.
    /// With the outer tag in skb->vlan_tci nft_payload_set_vlan takes only the tag protocol (2 bytes at 12,
    /// or 4 with the TCI) and the whole TCI (2 bytes at 14): <c>vlan id set</c> rewrites it, while <c>vlan
    /// pcp|dei set</c>, 1-byte writes, end the rule unwritten (checked on 6.18: a bridge prerouting
    /// rule's counter after <c>vlan pcp set 3</c> stayed 0 and the frame left with PCP 0).
    /// </summary>
    private bool LinkWriteOk(NftEvalCtx c, ReadOnlySpan<byte> link)
    {
        var f = Field;
        if (link.IsEmpty) return false;
        if (f.Text.StartsWith("vlan ", StringComparison.Ordinal))
        {
            int tpidAt = f.Offset - (f.Text == "vlan type" ? 4 : 2);
            if (link.Length < tpidAt + 2 || !EtherTypes.IsVlan(BinaryPrimitives.ReadUInt16BigEndian(link[tpidAt..]))) return false;
        }
        int end = WriteOffset + WriteWidth;
        if (!c.P.VlanTagOutside || end <= 12 || WriteOffset >= 16) return true; // in the bytes (past the tag: shifted by VLAN_HLEN, as the model's bytes are)
        if ((WriteOffset, WriteWidth) is (12, 2) or (12, 4) or (14, 2)) return true;
        (c.Notes ??= new()).Add($"{f.Text} set: the VLAN tag is in skb->vlan_tci, where nft_payload_set_vlan writes only the whole TCI: rule ended (NFT_BREAK)");
        return false;
    }

    /// <summary>The value to write: the constant, the source field, or the map's data for the packet's key.</summary>
    private bool Load(NftEvalCtx c, Span<byte> value)
    {
        if (Constant is not null) { Constant.CopyTo(value); return true; }
        if (Source is not null) return Source.Load(c, value);
        if (Map is null) return true; // a sub-byte constant: Value is merged in
        if (Map.Find(c) is not { Data: { } data }) return false;
        return PayloadSetData.Write(data, value);
    }

    /// <summary>Whether the skb is CHECKSUM_PARTIAL: its transport checksum field holds only the pseudo-header sum.</summary>
    internal static bool IsPartial(INftPacket p, ReadOnlySpan<byte> net)
    {
        int th = p.TransportOffset;
        if (th < 0 || p.L4Protocol is not (6 or 17 or 58) || net.Length < 20) return false;
        bool v6 = net[0] >> 4 == 6;
        int end = v6 ? (net.Length >= 40 ? 40 + BinaryPrimitives.ReadUInt16BigEndian(net[4..]) : 0) : BinaryPrimitives.ReadUInt16BigEndian(net[2..]);
        return end > th && AddressRewrite.IsPartialChecksum(net, v6, th, Math.Min(end, net.Length), (byte)p.L4Protocol);
    }

    /// <summary>nft_payload_l4csum_update: the transport checksum over the pseudo-header's changed words; the text
    /// says which. On a CHECKSUM_PARTIAL skb the field stays a pseudo-header sum, the changed words replaced in it.</summary>
    private static string L4CsumUpdate(INftPacket p, Span<byte> net, ReadOnlySpan<byte> before, ReadOnlySpan<byte> after, bool partial)
    {
        int th = p.TransportOffset;
        if (th < 0) return " (a non-first fragment: no transport checksum to update)";
        int off;
        switch (p.L4Protocol)
        {
            case 6: off = 16; break;
            case 17:
                if (net.Length >= th + 8 && BinaryPrimitives.ReadUInt16BigEndian(net[(th + 6)..]) == 0) return " (UDP checksum 0 left alone)";
                off = 6; break;
            case 136: off = 6; break;
            case 58: off = 2; break;
            default: return "";
        }
        if (net.Length < th + off + 2) return "";
        if (partial) { PayloadCsum.ReplacePartial(net.Slice(th + off, 2), before, after); return " (CHECKSUM_PARTIAL: the pseudo-header sum updated)"; }
        PayloadCsum.Replace(net.Slice(th + off, 2), before, after, mangledZero: true);
        return "";
    }

    private string Show(ReadOnlySpan<byte> b)
    {
        if (Field.Type.Kind == NftTypeKind.Ipv4 && b.Length == 4) return IpAddr.ReadV4(b).ToString();
        if (Field.Type.Kind == NftTypeKind.Ipv6 && b.Length == 16) return IpAddr.ReadV6(b).ToString();
        if (Field.Type.Kind == NftTypeKind.Ether && b.Length == 6) return string.Join(':', b.ToArray().Select(x => x.ToString("x2")));
        if (b.Length > 8) return Convert.ToHexString(b).ToLowerInvariant();
        ulong v = NftBytes.ToUlong(b);
        return (Field.Mask == 0 ? v : (v >> Field.Shift) & Field.Mask).ToString();
    }
}

/// <summary>A map element's data as the bytes of the field a payload statement writes.</summary>
internal static class PayloadSetData
{
    public static bool Write(object data, Span<byte> dst)
    {
        switch (data)
        {
            case byte[] b when b.Length == dst.Length: b.CopyTo(dst); return true;
            case IpAddr a when (a.IsV4 ? 4 : 16) == dst.Length: a.Write(dst); return true;
            case uint u:
                for (int i = dst.Length - 1; i >= 0; i--) { dst[i] = (byte)u; u >>= 8; }
                return true;
            default: return false;
        }
    }
}

/// <summary>
/// nft_exthdr_tcp_set_eval of the MSS (<c>tcp flags syn tcp option maxseg size set 1360</c>): the first
/// maxseg option of the TCP header is rewritten and the TCP checksum updated incrementally
/// (inet_proto_csum_replace2). As the kernel does, the MSS is only lowered (raising it can stall the
/// connection), a segment without the option is left alone and the rule goes on, and a malformed
/// option or a packet that is not TCP ends the rule (NFT_BREAK).
/// </summary>
internal sealed class TcpMssSetStmt : NftStmt
{
    public ushort Value;
    /// <summary><c>set rt mtu</c>: the value is nft_rt's TCPMSS for the packet's route (none: NFT_BREAK).</summary>
    public bool FromRoute;
    public string Text = "tcp option maxseg size";

    public override bool Eval(NftEvalCtx c)
    {
        var p = c.P;
        ushort Value = this.Value;
        if (FromRoute)
        {
            if (p.RtTcpMss is not { } mss) return false;
            Value = mss;
        }
        if (p.L4Protocol != 6 || p.TransportOffset < 0) return false;
        var net = p.MutableNetwork;
        if (net.Length < p.TransportOffset + 20) return false;
        var tcp = net[p.TransportOffset..];
        int hdrLen = (tcp[12] >> 4) * 4;
        if (hdrLen < 20 || hdrLen > tcp.Length) return false;
        if (!NftTcpOption.Find(tcp, hdrLen, 2, out int i, out int len))
        {
            (c.Notes ??= new()).Add($"{Text} set {Value}: no maxseg option");
            return true;
        }
        if (i + len > hdrLen || len < 4) return false;
        ushort old = BinaryPrimitives.ReadUInt16BigEndian(tcp[(i + 2)..]);
        if (old <= Value) { (c.Notes ??= new()).Add($"{Text} set {Value}: {old} kept (the MSS is only lowered)"); return true; }
        Span<byte> before = stackalloc byte[2];
        tcp.Slice(i + 2, 2).CopyTo(before);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[(i + 2)..], Value);
        // the two bytes as one word, as inet_proto_csum_replace2 takes them, also after a lone NOP (odd offset)
        PayloadCsum.Replace(tcp.Slice(16, 2), before, tcp.Slice(i + 2, 2));
        (c.Notes ??= new()).Add($"{Text} set: {old} -> {Value}");
        return true;
    }
}

/// <summary>nft_csum_replace / inet_proto_csum_replace: RFC 1624 eqn. 3 over the 16-bit words that changed.</summary>
internal static class PayloadCsum
{
    /// <summary>Updates the checksum field <paramref name="check"/> for <paramref name="before"/> becoming <paramref name="after"/> (same length, even offset).</summary>
    /// <param name="mangledZero">nft_csum_replace writes a result of 0 as 0xffff (CSUM_MANGLED_0); inet_proto_csum_replace2 does not.</param>
    public static void Replace(Span<byte> check, ReadOnlySpan<byte> before, ReadOnlySpan<byte> after, bool mangledZero = false)
    {
        ulong sum = (ushort)~BinaryPrimitives.ReadUInt16BigEndian(check);
        sum += (ushort)~Checksum.Fold(Checksum.Sum(before));
        sum += Checksum.Fold(Checksum.Sum(after));
        ushort result = (ushort)~Checksum.Fold(sum);
        BinaryPrimitives.WriteUInt16BigEndian(check, result == 0 && mangledZero ? (ushort)0xffff : result);
    }

    /// <summary>The same for a field holding a pseudo-header sum (CHECKSUM_PARTIAL: not complemented, as
    /// nft_payload_l4csum_update and inet_proto_csum_replace4 keep it): the sum less <paramref name="before"/>, plus <paramref name="after"/>.</summary>
    public static void ReplacePartial(Span<byte> check, ReadOnlySpan<byte> before, ReadOnlySpan<byte> after)
    {
        ulong sum = BinaryPrimitives.ReadUInt16BigEndian(check);
        sum += (ushort)~Checksum.Fold(Checksum.Sum(before));
        sum += Checksum.Fold(Checksum.Sum(after));
        BinaryPrimitives.WriteUInt16BigEndian(check, Checksum.Fold(sum));
    }
}
