using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.Netfilter.Conntrack;

/// <summary>
/// The sequence number adjustment of a connection whose payload a NAT helper resized (struct
/// nf_conn_seqadj): per direction, the sequence number of the last resized segment (correction_pos) and
/// the offset of the bytes before and after it (offset_before, offset_after).
/// </summary>
internal sealed class ConntrackSeqAdj
{
    private readonly uint[] _pos = new uint[2];
    private readonly int[] _before = new int[2], _after = new int[2];

    public uint CorrectionPos(CtDirection d) => _pos[(int)d];
    public int OffsetBefore(CtDirection d) => _before[(int)d];
    public int OffsetAfter(CtDirection d) => _after[(int)d];

    /// <summary>nf_ct_seqadj_set's update: only a segment later than the last correction (or the first) moves it.</summary>
    public bool Set(CtDirection d, uint seq, int off)
    {
        int i = (int)d;
        if (_before[i] != _after[i] && !Before(_pos[i], seq)) return false;
        _pos[i] = seq;
        _before[i] = _after[i];
        _after[i] += off;
        return true;
    }

    /// <summary>nf_ct_seqadj_init: the offset of a whole direction (synproxy: the cookie against the server's sequence numbers).</summary>
    public void Init(CtDirection d, int off)
    {
        _before[(int)d] = off;
        _after[(int)d] = off;
    }

    /// <summary>nf_ct_seq_offset: the offset of a sequence number of that direction.</summary>
    public int Offset(CtDirection d, uint seq) => After(seq, _pos[(int)d]) ? _after[(int)d] : _before[(int)d];

    // before()/after() of include/net/tcp.h: sequence arithmetic
    internal static bool Before(uint a, uint b) => (int)(a - b) < 0;
    internal static bool After(uint a, uint b) => Before(b, a);
}

/// <summary>
/// nf_conntrack_seqadj (net/netfilter/nf_conntrack_seqadj.c): once a NAT helper changed the length of a
/// segment's payload, every later packet of the connection has its sequence number moved by the bytes
/// added or removed before it in its own direction, its acknowledgment (and SACK blocks) by those of the
/// other direction, so neither end sees the difference.
/// </summary>
public static class NfConntrackSeqadj
{
    /// <summary>nf_ct_seqadj_set: a segment of <paramref name="dir"/> starting at <paramref name="seq"/> grew by <paramref name="off"/> bytes (shrank when negative).</summary>
    [KernelSymbol("nf_ct_seqadj_set", "net/netfilter/nf_conntrack_seqadj.c")]
    internal static void Set(ConntrackEntry ct, CtDirection dir, uint seq, int off)
    {
        if (off == 0) return;
        (ct.SeqAdj ??= new ConntrackSeqAdj()).Set(dir, seq, off);
    }

    /// <summary>
    /// nf_ct_seq_adjust on a TCP packet of <paramref name="dir"/>: its sequence number, its acknowledgment
    /// when ACK is set, and the blocks of a SACK option. The checksum is updated incrementally, except a
    /// CHECKSUM_PARTIAL one (the field holds the pseudo-header sum, which none of these enter). Returns
    /// what changed, or null when nothing did (or the packet is not TCP).
    /// </summary>
    [KernelSymbol("nf_ct_seq_adjust", "net/netfilter/nf_conntrack_seqadj.c")]
    public static string? Adjust(Span<byte> network, bool v6, ConntrackEntry ct, CtDirection dir)
    {
        if (ct.SeqAdj is not { } adj || TcpBounds(network, v6) is not var (l4, end) || end - l4 < TcpHeader.MinHeaderLength) return null;
        var tcp = network[l4..end];
        bool partial = AddressRewrite.IsPartialChecksum(network, v6, l4, end, IpProtocol.Tcp);
        var other = dir == CtDirection.Original ? CtDirection.Reply : CtDirection.Original;
        string? changed = null; // built only when a number moves
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]);
        uint newSeq = unchecked(seq + (uint)adj.Offset(dir, seq));
        if (newSeq != seq) changed = $"seq {seq} -> {newSeq}";
        Write4(tcp, 4, newSeq, partial);
        if ((tcp[13] & 0x10) != 0)
        {
            uint ack = BinaryPrimitives.ReadUInt32BigEndian(tcp[8..]);
            uint newAck = unchecked(ack - (uint)AckOffset(adj, other, ack));
            if (newAck != ack) changed = Join(changed, $"ack {ack} -> {newAck}");
            Write4(tcp, 8, newAck, partial);
            if (SackAdjust(tcp, adj, other, partial, undo: false) is { } sack) changed = Join(changed, sack);
        }
        return changed;
    }

    private static string Join(string? a, string b) => a is null ? b : $"{a}, {b}";

    /// <summary>
    /// The other way round, for a packet seen after the host adjusted it (Observe mode): the numbers its
    /// sender wrote. The positions are compared as the kernel compares the unadjusted ones, so a segment
    /// sent after the correction maps back exactly.
    /// </summary>
    public static void Undo(Span<byte> network, bool v6, ConntrackEntry ct, CtDirection dir)
    {
        if (ct.SeqAdj is not { } adj || TcpBounds(network, v6) is not var (l4, end) || end - l4 < TcpHeader.MinHeaderLength) return;
        var tcp = network[l4..end];
        bool partial = AddressRewrite.IsPartialChecksum(network, v6, l4, end, IpProtocol.Tcp);
        var other = dir == CtDirection.Original ? CtDirection.Reply : CtDirection.Original;
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]);
        // the adjusted seq is after the correction when the sent one was: try the later offset first
        uint sent = unchecked(seq - (uint)adj.OffsetAfter(dir));
        if (!ConntrackSeqAdj.After(sent, adj.CorrectionPos(dir))) sent = unchecked(seq - (uint)adj.OffsetBefore(dir));
        Write4(tcp, 4, sent, partial);
        if ((tcp[13] & 0x10) == 0) return;
        Write4(tcp, 8, Unacked(adj, other, BinaryPrimitives.ReadUInt32BigEndian(tcp[8..])), partial);
        SackAdjust(tcp, adj, other, partial, undo: true);
    }

    /// <summary>
    /// The acknowledgment (or SACK edge) its sender wrote, for one the host adjusted into the other direction's
    /// numbers: the later offset past the correction. A value at the correction is the resized segment's start
    /// (the offset before it): acknowledgments and SACK edges fall on segment boundaries, while one inside a
    /// grown segment maps to the same number as that start and cannot be told apart.
    /// </summary>
    private static uint Unacked(ConntrackSeqAdj adj, CtDirection other, uint ack) =>
        unchecked(ack + (uint)(ConntrackSeqAdj.After(ack, adj.CorrectionPos(other)) ? adj.OffsetAfter(other) : adj.OffsetBefore(other)));

    /// <summary>The offset an acknowledgment of the other direction's bytes takes: compared in that direction's unadjusted numbers.</summary>
    private static int AckOffset(ConntrackSeqAdj adj, CtDirection other, uint ack) =>
        ConntrackSeqAdj.After(unchecked(ack - (uint)adj.OffsetBefore(other)), adj.CorrectionPos(other)) ? adj.OffsetAfter(other) : adj.OffsetBefore(other);

    /// <summary>nf_ct_sack_adjust / nf_ct_sack_block_adjust: the edges of every SACK block, as acknowledgments are
    /// (<paramref name="undo"/>: mapped back, as <see cref="Undo"/> maps the acknowledgment).</summary>
    private static string? SackAdjust(Span<byte> tcp, ConntrackSeqAdj adj, CtDirection other, bool partial, bool undo)
    {
        int end = Math.Min(tcp.Length, (tcp[12] >> 4) * 4), at = TcpHeader.MinHeaderLength, blocks = 0;
        while (at < end)
        {
            byte kind = tcp[at];
            if (kind == TcpOptionKind.EndOfList) break;
            if (kind == TcpOptionKind.Nop) { at++; continue; }
            // no partial options: the kernel stops there
            if (at + 1 == end || at + tcp[at + 1] > end || tcp[at + 1] < 2) break;
            int len = tcp[at + 1];
            if (kind == TcpOptionKind.Sack && len >= 2 + 8 && (len - 2) % 8 == 0)
                for (int b = at + 2; b < at + len; b += 4)
                {
                    uint edge = BinaryPrimitives.ReadUInt32BigEndian(tcp[b..]);
                    uint moved = undo ? Unacked(adj, other, edge) : unchecked(edge - (uint)AckOffset(adj, other, edge));
                    if (moved != edge) blocks++;
                    Write4(tcp, b, moved, partial);
                }
            at += len;
        }
        return blocks == 0 ? null : $"{blocks / 2} SACK block(s)";
    }

    /// <summary>Writes a 32-bit field of the TCP header, keeping a full checksum right (inet_proto_csum_replace4, not a pseudo-header field).</summary>
    internal static void Write4(Span<byte> tcp, int at, uint value, bool partial)
    {
        uint old = BinaryPrimitives.ReadUInt32BigEndian(tcp[at..]);
        if (old == value) return;
        BinaryPrimitives.WriteUInt32BigEndian(tcp[at..], value);
        if (partial) return;
        ushort c = BinaryPrimitives.ReadUInt16BigEndian(tcp[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], Checksum.Replace4(c, old, value));
    }

    /// <summary>Where the TCP segment of an unfragmented packet starts and ends, or null.</summary>
    internal static (int L4, int End)? TcpBounds(ReadOnlySpan<byte> network, bool v6)
    {
        if (v6)
        {
            if (!Ipv6Header.TryParse(network, out var ip6, out _)) return null;
            Ipv6ExtensionHeaders.Walk(ip6.NextHeader, network[Ipv6Header.HeaderLength..], out var chain);
            if (chain.UpperProtocol != IpProtocol.Tcp || chain.HasFragment) return null;
            return (Ipv6Header.HeaderLength + chain.UpperOffset, Math.Min(network.Length, Ipv6Header.HeaderLength + ip6.PayloadLength));
        }
        if (!Ipv4Header.TryParse(network, out var ip, out _) || ip.Protocol != IpProtocol.Tcp || ip.IsFragment) return null;
        return (ip.HeaderLength, Math.Min(network.Length, (int)ip.TotalLength));
    }
}
