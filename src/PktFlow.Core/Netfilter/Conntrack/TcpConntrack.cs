using PktFlow.Wire;

namespace PktFlow.Netfilter.Conntrack;

/// <summary>The row of the TCP state table a segment selects (get_conntrack_index: RST, then SYN
/// with or without ACK, then FIN, then ACK).</summary>
internal enum TcpFlagClass : byte { Syn, SynAck, Fin, Ack, Rst, None }

/// <summary>
/// The TCP state machine of nf_conntrack_proto_tcp.c (tcp_conntracks[2][6][TCP_CONNTRACK_MAX]):
/// for each direction and flag class, the next state from each current state, or Invalid (sIV: the
/// packet is INVALID, the entry untouched) or Ignore (sIG: the packet keeps its entry, the state and
/// timeout do not change). The table is restated here from the kernel's documented transitions.
/// </summary>
internal static class TcpConntrack
{
    internal const byte Iv = 0xFE; // sIV
    internal const byte Ig = 0xFF; // sIG

    private const byte No = (byte)TcpCtState.None, Ss = (byte)TcpCtState.SynSent, Sr = (byte)TcpCtState.SynRecv,
        Es = (byte)TcpCtState.Established, Fw = (byte)TcpCtState.FinWait, Cw = (byte)TcpCtState.CloseWait,
        La = (byte)TcpCtState.LastAck, Tw = (byte)TcpCtState.TimeWait, Cl = (byte)TcpCtState.Close, S2 = (byte)TcpCtState.SynSent2;

    // Columns: current state NONE SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT CLOSE_WAIT LAST_ACK TIME_WAIT CLOSE SYN_SENT2.
    private static readonly byte[][] Original =
    [
        /* syn    */ [Ss, Ss, Ig, Ig, Ig, Ig, Ig, Ss, Ss, S2],
        /* synack */ [Iv, Iv, Sr, Iv, Iv, Iv, Iv, Iv, Iv, Sr],
        /* fin    */ [Iv, Iv, Fw, Fw, La, La, La, Tw, Cl, Iv],
        /* ack    */ [Es, Iv, Es, Es, Cw, Cw, Tw, Tw, Cl, Iv],
        /* rst    */ [Iv, Cl, Cl, Cl, Cl, Cl, Cl, Cl, Cl, Cl],
        /* none   */ [Iv, Iv, Iv, Iv, Iv, Iv, Iv, Iv, Iv, Iv],
    ];

    private static readonly byte[][] Reply =
    [
        /* syn    */ [Iv, S2, Iv, Iv, Iv, Iv, Iv, Ss, Iv, S2],
        /* synack */ [Iv, Sr, Ig, Ig, Ig, Ig, Ig, Ig, Ig, Sr],
        /* fin    */ [Iv, Iv, Fw, Fw, La, La, La, Tw, Cl, Iv],
        /* ack    */ [Iv, Ig, Sr, Es, Cw, Cw, Tw, Tw, Cl, Ig],
        /* rst    */ [Iv, Cl, Cl, Cl, Cl, Cl, Cl, Cl, Cl, Cl],
        /* none   */ [Iv, Iv, Iv, Iv, Iv, Iv, Iv, Iv, Iv, Iv],
    ];

    public static byte Next(CtDirection dir, TcpFlagClass cls, TcpCtState current) =>
        (dir == CtDirection.Original ? Original : Reply)[(int)cls][(int)current];

    public static TcpFlagClass Classify(TcpFlags flags)
    {
        if ((flags & TcpFlags.Rst) != 0) return TcpFlagClass.Rst;
        if ((flags & TcpFlags.Syn) != 0) return (flags & TcpFlags.Ack) != 0 ? TcpFlagClass.SynAck : TcpFlagClass.Syn;
        if ((flags & TcpFlags.Fin) != 0) return TcpFlagClass.Fin;
        if ((flags & TcpFlags.Ack) != 0) return TcpFlagClass.Ack;
        return TcpFlagClass.None;
    }

    /// <summary>tcp_valid_flags: the combinations tcp_error accepts once ECE, CWR and PSH are masked
    /// off; anything else (NULL, FIN alone, SYN|FIN, SYN|RST, Xmas...) makes the packet INVALID.</summary>
    public static bool ValidFlags(TcpFlags flags)
    {
        var f = flags & (TcpFlags.Fin | TcpFlags.Syn | TcpFlags.Rst | TcpFlags.Ack | TcpFlags.Urg);
        const TcpFlags S = TcpFlags.Syn, A = TcpFlags.Ack, F = TcpFlags.Fin, R = TcpFlags.Rst, U = TcpFlags.Urg;
        return f == S || f == (S | U) || f == (S | A) || f == R || f == (R | A) || f == (F | A) || f == (F | A | U)
            || f == A || f == (A | U);
    }

    public static string Describe(TcpFlags flags)
    {
        if (flags == TcpFlags.None) return "no flags";
        var parts = new List<string>(4);
        if ((flags & TcpFlags.Syn) != 0) parts.Add("SYN");
        if ((flags & TcpFlags.Fin) != 0) parts.Add("FIN");
        if ((flags & TcpFlags.Rst) != 0) parts.Add("RST");
        if ((flags & TcpFlags.Psh) != 0) parts.Add("PSH");
        if ((flags & TcpFlags.Ack) != 0) parts.Add("ACK");
        if ((flags & TcpFlags.Urg) != 0) parts.Add("URG");
        if ((flags & TcpFlags.Ece) != 0) parts.Add("ECE");
        if ((flags & TcpFlags.Cwr) != 0) parts.Add("CWR");
        return string.Join('|', parts);
    }
}
