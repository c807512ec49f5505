using System.Buffers.Binary;
using PktFlow.Wire;

namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// nft_payload_set_eval of a network-header field (<c>ip ttl set 23</c>, <c>ip dscp set cs1</c>,
/// <c>ip6 hoplimit set 1</c>, <c>ip6 dscp set af41</c>): the packet's bytes change for every later rule,
/// hook and the transmit. A sub-byte field is written as nft writes it, the whole bytes around it with
/// the other bits kept. IPv4 fields carry NFT_PAYLOAD_CSUM_INET at offset 10: the header checksum is
/// updated incrementally (nft_csum_replace, RFC 1624), so a checksum that was wrong stays wrong by the
/// same amount. IPv6 has no header checksum. A packet of another family, or too short, ends the rule (NFT_BREAK).
/// </summary>
internal sealed class PayloadSetStmt : NftStmt
{
    public required PayloadSelector Field;
    public ulong Value;

    public override bool Eval(NftEvalCtx c)
    {
        var f = Field;
        if (NftSelector.NetProto(c.P) != f.NeedL3) return false;
        var net = c.P.MutableNetwork;
        if (net.Length < f.Offset + f.Width || (f.NeedL3 == L3.V4 && net.Length < 20)) return false;
        var bytes = net.Slice(f.Offset, f.Width);
        ulong old = NftBytes.ToUlong(bytes), now = f.Mask == 0 ? Value : (old & ~(f.Mask << f.Shift)) | ((Value & f.Mask) << f.Shift);
        ulong oldField = f.Mask == 0 ? old : (old >> f.Shift) & f.Mask;
        if (now == old) { Note(c, oldField); return true; }
        Span<byte> before = stackalloc byte[20];
        if (f.NeedL3 == L3.V4) net[..20].CopyTo(before);
        for (int i = f.Width - 1; i >= 0; i--) { bytes[i] = (byte)now; now >>= 8; }
        if (f.NeedL3 == L3.V4) PayloadCsum.Replace(net.Slice(10, 2), before, net[..20]);
        Note(c, oldField);
        return true;
    }

    private void Note(NftEvalCtx c, ulong oldField) => (c.Notes ??= new()).Add($"{Field.Text} set: {oldField} -> {Value & (Field.Mask == 0 ? ulong.MaxValue : Field.Mask)}");
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
    public string Text = "tcp option maxseg size";

    public override bool Eval(NftEvalCtx c)
    {
        var p = c.P;
        if (p.L4Protocol != 6 || p.TransportOffset < 0) return false;
        var net = p.MutableNetwork;
        if (net.Length < p.TransportOffset + 20) return false;
        var tcp = net[p.TransportOffset..];
        int hdrLen = (tcp[12] >> 4) * 4;
        if (hdrLen < 20 || hdrLen > tcp.Length) return false;
        for (int i = 20, len; i < hdrLen - 1; i += len)
        {
            len = tcp[i] <= 1 || tcp[i + 1] == 0 ? 1 : tcp[i + 1]; // optlen
            if (tcp[i] != 2) continue;
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
        (c.Notes ??= new()).Add($"{Text} set {Value}: no maxseg option");
        return true;
    }
}

/// <summary>nft_csum_replace: RFC 1624 eqn. 3 over the 16-bit words that changed.</summary>
internal static class PayloadCsum
{
    /// <summary>Updates the checksum field <paramref name="check"/> for <paramref name="before"/> becoming <paramref name="after"/> (same length, even offset).</summary>
    public static void Replace(Span<byte> check, ReadOnlySpan<byte> before, ReadOnlySpan<byte> after)
    {
        ulong sum = (ushort)~BinaryPrimitives.ReadUInt16BigEndian(check);
        sum += (ushort)~Checksum.Fold(Checksum.Sum(before));
        sum += Checksum.Fold(Checksum.Sum(after));
        BinaryPrimitives.WriteUInt16BigEndian(check, (ushort)~Checksum.Fold(sum));
    }
}
