using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Socket;

/// <summary>
/// A segment that finds a TIME_WAIT socket (tcp_v4_rcv / tcp_v6_rcv at do_time_wait): what
/// tcp_timewait_state_process makes of it, then what tcp_v4_rcv does with that. A newer SYN may open
/// the connection again through the listener of its address and port (TCP_TW_SYN); with no such
/// listener, or for any other out-of-window segment, the socket answers with an ACK (at most one per
/// net.ipv4.tcp_invalid_ratelimit for segments without data); an in-window reset kills it (unless
/// net.ipv4.tcp_rfc1337); an in-window bare ACK re-arms its 60 s timer.
/// </summary>
public static class TcpTimewait
{
    /// <summary>enum tcp_tw_status, plus the rate-limited ACK and the reset that killed the socket.</summary>
    public enum Status { Success, Killed, Syn, Ack, AckRateLimited }

    /// <summary>net.ipv4.tcp_invalid_ratelimit default: 500 ms.</summary>
    private const long DefaultInvalidRatelimitMs = 500;

    [KernelSymbol("tcp_timewait_state_process", "net/ipv4/tcp_minisocks.c")]
    public static Status Process(TcpSock tw, TcpSegment seg, long nowNs, Sysctls sysctls)
    {
        uint rcvNxt = tw.RcvNxt ?? seg.Seq;
        // tcp_paws_reject with a window of 0: the peer's timestamp went back
        bool pawsReject = tw.TsRecent is { } recent and not 0 && seg.TsVal is { } tsval && (int)(recent - tsval) > 0;
        bool rst = seg.Has(TcpFlags.Rst);
        if (!pawsReject && seg.Seq == rcvNxt && (seg.Seq == seg.EndSeq || rst))
        {
            // in window: a reset or a bare ACK
            if (rst && !sysctls.IsOn("net.ipv4.tcp_rfc1337")) return Status.Killed;
            tw.SinceNs = nowNs; // inet_twsk_reschedule(TCP_TIMEWAIT_LEN)
            if (seg.TsVal is { } ts) tw.TsRecent = ts;
            return Status.Success;
        }
        if (seg.Has(TcpFlags.Syn) && !rst && !seg.Has(TcpFlags.Ack) && !pawsReject
            && (TcpSock.After(seg.Seq, rcvNxt) || (seg.TsVal is { } v && tw.TsRecent is { } r && (int)(r - v) < 0)))
            return Status.Syn;
        if (rst) return Status.Success; // an out-of-window reset is ignored
        if (pawsReject || seg.Has(TcpFlags.Ack)) tw.SinceNs = nowNs;
        return OowRateLimited(tw, seg, nowNs, sysctls) ? Status.AckRateLimited : Status.Ack;
    }

    /// <summary>tcp_oow_rate_limited: data without SYN is never limited; otherwise one answer per tcp_invalid_ratelimit.</summary>
    [KernelSymbol("tcp_oow_rate_limited", "include/net/tcp.h")]
    private static bool OowRateLimited(TcpSock tw, TcpSegment seg, long nowNs, Sysctls sysctls)
    {
        if (seg.Seq != seg.EndSeq && !seg.Has(TcpFlags.Syn)) return false;
        long limitNs = (long.TryParse(sysctls.Get("net.ipv4.tcp_invalid_ratelimit"), out var ms) ? ms : DefaultInvalidRatelimitMs) * 1_000_000;
        if (tw.LastOowAckNs != 0 && nowNs - tw.LastOowAckNs >= 0 && nowNs - tw.LastOowAckNs < limitNs) return true;
        tw.LastOowAckNs = nowNs;
        return false;
    }

    /// <summary>
    /// tcp_v4_rcv's do_time_wait: the segment at <paramref name="skb"/> found the TIME_WAIT socket
    /// <paramref name="tw"/> of <paramref name="key"/>. Returns the listener a reopening SYN goes to
    /// (the caller hands it the SYN as a connection request), or null when the TIME_WAIT socket took the
    /// segment (the trace is ended).
    /// </summary>
    [KernelSymbol("tcp_v4_timewait_ack", "net/ipv4/tcp_ipv4.c")]
    [KernelSymbol("tcp_v6_timewait_ack", "net/ipv6/tcp_ipv6.c")]
    internal static ListeningSocket? Rcv(SkBuff skb, TraceBuilder t, (byte, IpAddr, ushort, IpAddr, ushort) key, TcpSock tw, TcpSegment seg, string what)
    {
        var (_, daddr, dport, saddr, sport) = key;
        bool v6 = saddr.IsV6;
        string fn = v6 ? "tcp_v6_rcv" : "tcp_v4_rcv", stage = v6 ? "TcpV6Rcv" : "TcpV4Rcv";
        var table = skb.State.TcpSocks;
        var age = (skb.TimestampNs - tw.SinceNs) / 1_000_000_000.0;
        var sock = $"{what} {daddr}:{dport} <-> {saddr}:{sport} (TIME_WAIT {age:0.###} s of 60)";
        var status = Process(tw, seg, skb.TimestampNs, skb.Netns.Sysctls);
        string detail;
        switch (status)
        {
            case Status.Syn:
                uint isn = unchecked((tw.SndNxt ?? 0) + 65535 + 2);
                if (isn == 0) isn = 1;
                if (SockLookup.Listener(skb.Netns, IpProtocol.Tcp, daddr, dport, skb.State.LabSockets) is { } listener)
                {
                    table.Close(key); // inet_twsk_deschedule_put: the listener takes the SYN
                    t.Stage(skb, "TcpTimewaitStateProcess", "tcp_timewait_state_process", Verdict.Pass,
                        $"{sock}: a newer SYN (TCP_TW_SYN) reopens the connection; the TIME_WAIT socket is removed and the listener {listener} takes it (initial sequence number {isn}: tw_snd_nxt + 65537)");
                    return listener;
                }
                detail = $"{sock}: a newer SYN (TCP_TW_SYN), but no listener has {daddr}:{dport}: answered like any other segment, with an ACK (seq {tw.SndNxt}, ack {tw.RcvNxt})";
                t.Generate($"TCP ACK to {saddr}:{sport} from the TIME_WAIT socket (seq {tw.SndNxt}, ack {tw.RcvNxt})");
                tw.AckOwed = true;
                break;
            case Status.Ack:
                detail = $"{sock}: out of window (TCP_TW_ACK): the socket answers with an ACK (seq {tw.SndNxt}, ack {tw.RcvNxt})";
                t.Generate($"TCP ACK to {saddr}:{sport} from the TIME_WAIT socket (seq {tw.SndNxt}, ack {tw.RcvNxt})");
                tw.AckOwed = true;
                break;
            case Status.AckRateLimited:
                detail = $"{sock}: out of window, but the socket answered one less than net.ipv4.tcp_invalid_ratelimit ago: no ACK";
                break;
            case Status.Killed:
                table.Close(key);
                detail = $"{sock}: an in-window reset kills the TIME_WAIT socket (net.ipv4.tcp_rfc1337 = 0)";
                break;
            default:
                detail = seg.Has(TcpFlags.Rst) ? $"{sock}: an out-of-window reset, ignored" : $"{sock}: an in-window ACK, taken quietly (the 60 s timer restarts)";
                break;
        }
        t.Stage(skb, "TcpTimewaitStateProcess", "tcp_timewait_state_process", Verdict.Pass, detail);
        t.Stage(skb, stage, fn, Verdict.Pass, $"the TIME_WAIT socket took the segment");
        t.End(Fate.Delivered, "tcp_timewait_state_process");
        return null;
    }
}
