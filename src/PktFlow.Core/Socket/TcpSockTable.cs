using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Socket;

/// <summary>
/// The TCP connections of one namespace (its established hash: full sockets, request sockets and
/// TIME_WAIT sockets), keyed (protocol, local, local port, remote, remote port) and driven by the
/// segments the namespace sends (<see cref="Sent"/>: in Observe mode what the capture shows leaving it)
/// and the ones delivered to them (<see cref="Received"/>). The transitions are the socket's own
/// (tcp_rcv_state_process, tcp_fin, tcp_send_fin, tcp_time_wait), not conntrack's: a FIN this end sent
/// and the peer acknowledged moves FIN_WAIT1 to FIN_WAIT2, the peer's FIN then to TIME_WAIT, which
/// lasts TCP_TIMEWAIT_LEN (60 s) of capture time from its last (re)arming; a reset, or the ACK of the
/// FIN in LAST_ACK, closes the connection. A handshake that never completes is given up as the
/// kernel's retries would (<see cref="SynRecvLifeNs"/>, <see cref="SynSentLifeNs"/>); other states are
/// forgotten after conntrack's established timeout idle, as the connected sockets are (the model does
/// not run retransmission timers).
/// </summary>
public sealed class TcpSockTable
{
    /// <summary>TCP_TIMEWAIT_LEN: how long a TIME_WAIT socket lives (include/net/tcp.h).</summary>
    public const long TimeWaitLenNs = 60_000_000_000;
    /// <summary>How often (capture time) dead sockets are swept.</summary>
    private const long SweepIntervalNs = 10_000_000_000;

    private readonly Dictionary<(byte Protocol, IpAddr Local, ushort LocalPort, IpAddr Remote, ushort RemotePort), TcpSock> _socks = new();
    private readonly long _idleNs;
    private readonly Action<(byte, IpAddr, ushort, IpAddr, ushort)> _closed;
    private readonly Action<ListeningSocket?> _accepted;
    private long _nextSweepNs = long.MinValue;

    /// <param name="idleNs">How long a connection in another state than TIME_WAIT is kept without a segment.</param>
    /// <param name="closed">Told when a connection closes or expires, so the namespace forgets what else it kept of it.</param>
    /// <param name="accepted">Told the listener whose request socket became a child (tcp_check_req).</param>
    public TcpSockTable(long idleNs, Action<(byte, IpAddr, ushort, IpAddr, ushort)> closed, Action<ListeningSocket?>? accepted = null)
    {
        _idleNs = idleNs;
        _closed = closed;
        _accepted = accepted ?? (_ => { });
    }

    /// <summary>Connections held (including dead ones not swept yet).</summary>
    public int Count => _socks.Count;

    /// <summary>The connection of <paramref name="key"/> alive at <paramref name="nowNs"/>, or null (an expired one is removed).</summary>
    public TcpSock? Find((byte Protocol, IpAddr Local, ushort LocalPort, IpAddr Remote, ushort RemotePort) key, long nowNs)
    {
        if (!_socks.TryGetValue(key, out var s)) return null;
        if (!Dead(s, nowNs)) return s;
        Close(key);
        return null;
    }

    /// <summary>The connections alive at <paramref name="nowNs"/>.</summary>
    public IEnumerable<((byte Protocol, IpAddr Local, ushort LocalPort, IpAddr Remote, ushort RemotePort) Key, TcpSock Sock)> Alive(long nowNs) =>
        _socks.Where(x => !Dead(x.Value, nowNs)).Select(x => (x.Key, x.Value));

    /// <summary>inet_twsk_deschedule_put, tcp_done: the connection is gone.</summary>
    public void Close((byte, IpAddr, ushort, IpAddr, ushort) key)
    {
        if (_socks.Remove(key)) _closed(key);
    }

    /// <summary>
    /// A segment this end sent on <paramref name="key"/>; <paramref name="listener"/> is the one a SYN-ACK
    /// answers for. <paramref name="connectTimeout"/>: the sending application's own limit on a connect
    /// (<see cref="ClientSocket.ConnectTimeout"/>), after which a socket still in SYN_SENT is closed.
    /// A SYN or SYN-ACK that leaves on the 4-tuple of a TIME_WAIT socket replaces it: a
    /// connect() to the same peer from the same port got past __inet_check_established because
    /// tcp_twsk_unique let it take the 4-tuple over (the TIME_WAIT socket is descheduled; the kernel
    /// allows it for a port bound with SO_REUSEADDR on both sockets whenever the peer sent timestamps,
    /// with net.ipv4.tcp_tw_reuse for an ephemeral port, and refuses it with EADDRNOTAVAIL otherwise, so
    /// no SYN leaves; checked in namespaces, kernel 6.18), or the listener took the peer's newer SYN
    /// (TCP_TW_SYN, <see cref="TcpTimewait"/>).
    /// </summary>
    public void Sent((byte, IpAddr, ushort, IpAddr, ushort) key, TcpSegment seg, long nowNs, ListeningSocket? listener, TimeSpan? connectTimeout = null)
    {
        Sweep(nowNs);
        var s = Find(key, nowNs);
        if (seg.Has(TcpFlags.Rst)) { if (s is not null) Close(key); return; }
        bool synAck = seg.Has(TcpFlags.Syn) && seg.Has(TcpFlags.Ack);
        if (s is null || ((synAck || seg.IsSyn) && s.State == TcpSockState.TimeWait))
        {
            // a SYN opens (tcp_connect), a SYN-ACK answers a request; anything else is a connection met mid-stream
            var state = seg.IsSyn ? TcpSockState.SynSent : synAck ? TcpSockState.SynRecv : TcpSockState.Established;
            // a connect that took a TIME_WAIT 4-tuple over starts with its ts_recent (tcp_twsk_unique)
            var tsRecent = seg.IsSyn ? s?.TsRecent : null;
            _socks[key] = s = new TcpSock(state, synAck ? listener : null, nowNs) { TsRecent = tsRecent };
            if (state == TcpSockState.SynSent && connectTimeout is { } t) s.GiveUpNs = nowNs + t.Ticks * 100;
        }
        if (s.State == TcpSockState.TimeWait) return; // the TIME_WAIT socket's own ACKs (tcp_v4_timewait_ack) change nothing
        s.LastNs = Math.Max(s.LastNs, nowNs);
        if (s.SndNxt is not { } nxt || TcpSock.After(seg.EndSeq, nxt)) s.SndNxt = seg.EndSeq;
        if (synAck && s.RcvNxt is null) s.RcvNxt = seg.Ack;
        if (!seg.Has(TcpFlags.Fin)) return;
        // tcp_close -> tcp_send_fin: ESTABLISHED -> FIN_WAIT1, CLOSE_WAIT -> LAST_ACK
        s.State = s.State switch
        {
            TcpSockState.Established or TcpSockState.SynRecv => TcpSockState.FinWait1,
            TcpSockState.CloseWait => TcpSockState.LastAck,
            var other => other,
        };
        s.SinceNs = nowNs;
    }

    /// <summary>
    /// A segment delivered to the connection of <paramref name="key"/> (not in TIME_WAIT: that is
    /// <see cref="TcpTimewait"/>). A SYN a listener takes makes a request socket (SYN_RECV) with
    /// <paramref name="listener"/> as its parent.
    /// </summary>
    public void Received((byte, IpAddr, ushort, IpAddr, ushort) key, TcpSegment seg, long nowNs, ListeningSocket? listener = null)
    {
        Sweep(nowNs);
        var s = Find(key, nowNs);
        if (s is null)
        {
            if (seg.Has(TcpFlags.Rst)) return;
            if (seg.IsSyn && listener is not null) _socks[key] = s = new TcpSock(TcpSockState.SynRecv, listener, nowNs);
            else if (seg.IsSyn || listener is not null) return;
            else _socks[key] = s = new TcpSock(TcpSockState.Established, null, nowNs);
        }
        if (s.State == TcpSockState.TimeWait) return;
        s.LastNs = Math.Max(s.LastNs, nowNs);
        if (seg.Has(TcpFlags.Rst)) { Close(key); return; } // tcp_reset: the connection is gone
        if (seg.TsVal is { } ts) s.TsRecent = ts;
        if (s.RcvNxt is not { } rnxt || TcpSock.After(seg.EndSeq, rnxt)) s.RcvNxt = seg.EndSeq;
        var before = s.State;
        if (seg.Has(TcpFlags.Ack))
        {
            bool finAcked = s.SndNxt is { } snxt && !TcpSock.After(snxt, seg.Ack);
            if (s.State == TcpSockState.LastAck && finAcked) { Close(key); return; } // tcp_rcv_state_process LAST_ACK: tcp_done
            s.State = s.State switch
            {
                TcpSockState.SynSent when seg.Has(TcpFlags.Syn) && (s.SndNxt is not { } sn || sn == seg.Ack) => TcpSockState.Established,
                TcpSockState.SynRecv when !seg.Has(TcpFlags.Syn) => TcpSockState.Established, // tcp_check_req: the child is born
                TcpSockState.FinWait1 when finAcked => TcpSockState.FinWait2,
                TcpSockState.Closing when finAcked => TcpSockState.TimeWait,
                var other => other,
            };
        }
        if (seg.Has(TcpFlags.Fin))
            // tcp_fin
            s.State = s.State switch
            {
                TcpSockState.Established or TcpSockState.SynRecv => TcpSockState.CloseWait,
                TcpSockState.FinWait1 => TcpSockState.Closing,
                TcpSockState.FinWait2 => TcpSockState.TimeWait,
                var other => other,
            };
        if (s.State == before) return;
        s.SinceNs = nowNs;
        if (before == TcpSockState.SynRecv && s.Listener is not null) _accepted(s.Listener);
    }

    /// <summary>
    /// A request socket gives up after net.ipv4.tcp_synack_retries (5) unanswered SYN-ACKs, 1 + 2 + ... + 32
    /// = 63 s from the SYN; a connect after tcp_syn_retries (6) SYNs, 127 s.
    /// </summary>
    public const long SynRecvLifeNs = 63_000_000_000, SynSentLifeNs = 127_000_000_000;

    private bool Dead(TcpSock s, long nowNs) => s.State switch
    {
        TcpSockState.TimeWait => nowNs - s.SinceNs >= TimeWaitLenNs,
        TcpSockState.SynRecv => nowNs - s.LastNs > SynRecvLifeNs,
        // the application's connect timeout (socat connect-timeout=) closes it first: tcp_close in SYN_SENT sends nothing
        TcpSockState.SynSent => nowNs - s.LastNs > SynSentLifeNs || nowNs >= s.GiveUpNs,
        _ => nowNs - s.LastNs > _idleNs,
    };

    private void Sweep(long nowNs)
    {
        if (nowNs < _nextSweepNs) return;
        _nextSweepNs = nowNs + SweepIntervalNs;
        List<(byte, IpAddr, ushort, IpAddr, ushort)>? dead = null;
        foreach (var (key, s) in _socks)
            if (Dead(s, nowNs)) (dead ??= []).Add(key);
        if (dead is not null) foreach (var k in dead) Close(k);
    }
}
