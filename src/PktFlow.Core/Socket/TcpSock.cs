using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Socket;

/// <summary>The states of a TCP connection's socket the model tracks (include/net/tcp_states.h; CLOSE is its removal).</summary>
public enum TcpSockState { SynSent, SynRecv, Established, FinWait1, FinWait2, Closing, CloseWait, LastAck, TimeWait }

/// <summary>
/// One TCP connection of a namespace as its own socket sees it (struct tcp_sock, then struct
/// tcp_timewait_sock): its state, the next sequence numbers each way (snd_nxt, rcv_nxt), the peer's
/// last timestamp (ts_recent) and, for a connection a listener accepted, that listener.
/// </summary>
public sealed class TcpSock
{
    internal TcpSock(TcpSockState state, ListeningSocket? listener, long nowNs)
    {
        State = state;
        Listener = listener;
        SinceNs = LastNs = nowNs;
    }

    public TcpSockState State { get; internal set; }
    /// <summary>The listener whose handshake made this connection (a child socket), or null for one the namespace opened or one learned mid-stream.</summary>
    public ListeningSocket? Listener { get; internal set; }
    /// <summary>snd_nxt: the sequence number after the last one this end sent (tw_snd_nxt in TIME_WAIT); null until a sent segment shows it.</summary>
    public uint? SndNxt { get; internal set; }
    /// <summary>rcv_nxt: the peer's next sequence number (tw_rcv_nxt); null until a received segment shows it.</summary>
    public uint? RcvNxt { get; internal set; }
    /// <summary>ts_recent: the peer's last timestamp value (TSval) when it sends timestamps.</summary>
    public uint? TsRecent { get; internal set; }
    /// <summary>Capture time the socket entered its state; for TIME_WAIT, when its timer was last (re)armed.</summary>
    public long SinceNs { get; internal set; }
    /// <summary>Capture time of the last segment either way.</summary>
    public long LastNs { get; internal set; }
    /// <summary>For SYN_SENT: when the application gives up its connect and closes the socket (long.MaxValue: it waits for the kernel's retries).</summary>
    internal long GiveUpNs { get; set; } = long.MaxValue;
    /// <summary>tw_last_oow_ack_time: when the TIME_WAIT socket last answered an out-of-window segment (0: never).</summary>
    internal long LastOowAckNs { get; set; }
    /// <summary>The TIME_WAIT socket answered a segment with an ACK the capture has not shown leaving yet.</summary>
    internal bool AckOwed { get; set; }

    /// <summary>The kernel's name of a state (TCP_ESTABLISHED, ...), without the prefix.</summary>
    public static string StateName(TcpSockState state) => state switch
    {
        TcpSockState.SynSent => "SYN_SENT",
        TcpSockState.SynRecv => "SYN_RECV",
        TcpSockState.Established => "ESTABLISHED",
        TcpSockState.FinWait1 => "FIN_WAIT1",
        TcpSockState.FinWait2 => "FIN_WAIT2",
        TcpSockState.Closing => "CLOSING",
        TcpSockState.CloseWait => "CLOSE_WAIT",
        TcpSockState.LastAck => "LAST_ACK",
        _ => "TIME_WAIT",
    };

    /// <summary>Whether sequence number <paramref name="a"/> comes after <paramref name="b"/> (the kernel's after(): modulo 2^32).</summary>
    internal static bool After(uint a, uint b) => (int)(b - a) < 0;
}

/// <summary>What the socket state machine needs of one TCP segment (struct tcp_skb_cb and the timestamp option).</summary>
public readonly record struct TcpSegment(TcpFlags Flags, uint Seq, uint Ack, int PayloadLength, uint? TsVal)
{
    /// <summary>end_seq: seq plus the payload, SYN and FIN each counting one.</summary>
    public uint EndSeq => Seq + (uint)PayloadLength + (Has(TcpFlags.Syn) ? 1u : 0) + (Has(TcpFlags.Fin) ? 1u : 0);

    public bool Has(TcpFlags f) => (Flags & f) != 0;

    /// <summary>A bare connection request: SYN without ACK, RST or FIN.</summary>
    public bool IsSyn => (Flags & (TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Rst | TcpFlags.Fin)) == TcpFlags.Syn;

    public static bool TryParse(ReadOnlySpan<byte> l4, out TcpSegment segment)
    {
        segment = default;
        if (!TcpHeader.TryParse(l4, out var tcp, out _) || tcp.HeaderProblem() is not null) return false;
        uint? ts = null;
        foreach (var o in tcp.EnumerateOptions())
            if (o.Kind == TcpOptionKind.Timestamps && o.IsWellFormed) ts = o.TsVal;
        segment = new TcpSegment(tcp.Flags, tcp.SequenceNumber, tcp.AcknowledgmentNumber, tcp.Payload.Length, ts);
        return true;
    }
}
