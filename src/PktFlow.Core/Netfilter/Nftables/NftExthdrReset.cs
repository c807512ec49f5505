using PktFlow.Wire;

namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// nft_exthdr_tcp_strip_eval (<c>reset tcp option sack-perm</c>): the first option of that kind in the TCP
/// header is overwritten with NOPs and the TCP checksum updated (inet_proto_csum_replace2 per word). A
/// header without the option is left alone and the rule goes on (so one rule can reset several options);
/// an option running past the header drops the packet (the kernel cannot remove it); a packet that is not
/// TCP ends the rule (NFT_BREAK).
/// </summary>
internal sealed class TcpOptionResetStmt : NftStmt
{
    public byte Kind;
    public string Text = "";

    public override bool Eval(NftEvalCtx c)
    {
        var p = c.P;
        if (p.L4Protocol != 6 || p.TransportOffset < 0) return false;
        var net = p.MutableNetwork;
        if (net.Length < p.TransportOffset + 20) return false;
        var tcp = net[p.TransportOffset..];
        int hdrLen = (tcp[12] >> 4) * 4;
        if (hdrLen < 20 || hdrLen > tcp.Length) return false;
        if (!NftTcpOption.Find(tcp, hdrLen, Kind, out int i, out int len)) return true;
        if (i + len > hdrLen) { c.Verdict = NftVerdict.Drop; (c.Notes ??= new()).Add($"{Text}: the option runs past the header, dropped"); return true; }
        // the 16-bit words the NOPs touch, as the checksum sees them (the header is word aligned; hdrLen is even)
        int from = i & ~1, to = Math.Min((i + len + 1) & ~1, hdrLen);
        // CHECKSUM_PARTIAL: the field holds the pseudo-header sum, which the option bytes are no part of
        // (inet_proto_csum_replace2 with pseudohdr false leaves it); the checksum is computed on the way out
        bool partial = PayloadSetStmt.IsPartial(p, net);
        Span<byte> before = stackalloc byte[to - from];
        tcp[from..to].CopyTo(before);
        tcp.Slice(i, len).Fill(1); // TCPOPT_NOP
        if (!partial) PayloadCsum.Replace(tcp.Slice(16, 2), before, tcp[from..to]);
        (c.Notes ??= new()).Add($"{Text}: {len} bytes at offset {i} of the TCP header are NOPs now");
        return true;
    }
}
