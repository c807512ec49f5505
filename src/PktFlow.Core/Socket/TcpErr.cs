using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.Socket;

/// <summary>
/// tcp_v4_err / tcp_v6_err: an ICMP error received by this namespace that quotes a TCP segment one of
/// its connections sent. A connection still in SYN_SENT is aborted (tcp_done with sk_err set:
/// ECONNREFUSED, EHOSTUNREACH, ...), whatever the code; an established connection only records a soft
/// error and keeps its state. The quoted sequence must lie in snd_una..snd_nxt (else OUTOFWINDOWICMPS,
/// ignored). A request socket (SYN_RECV: a SYN a listener took and answered) goes to tcp_req_err before
/// anything else: the quoted sequence must be its SYN-ACK's (snt_isn), and only a hard error drops the
/// request silently (inet_csk_reqsk_queue_drop; IPv4: parameter problem, time exceeded, network or host
/// unreachable; IPv6: what icmpv6_err_convert calls fatal: parameter problem, administratively
/// prohibited, port unreachable, policy failure, reject route); any other leaves it be. Not modelled:
/// fast open. Packet too big and fragmentation needed go to the path MTU code as well.
/// </summary>
public static class TcpErr
{
    /// <summary>tcp_v4_err for ICMP <paramref name="type"/>/<paramref name="code"/> quoting <paramref name="quoted"/> (the ICMP payload).</summary>
    [KernelSymbol("tcp_v4_err", "net/ipv4/tcp_ipv4.c")]
    public static void V4(SkBuff skb, TraceBuilder t, byte type, byte code, ReadOnlySpan<byte> quoted)
    {
        if (!Ipv4Header.TryParse(quoted, out var ip, out _) || ip.Protocol != IpProtocol.Tcp || ip.HeaderLength + 8 > quoted.Length) return;
        var what = $"ICMP type {type} code {code}";
        bool abort = type is IcmpHeader.ParamProblem or IcmpHeader.TimeExceeded || type == IcmpHeader.DestUnreach && code is 0 or 1;
        if (ReqErr(skb, t, "TcpV4Err", "tcp_v4_err", ip.Source, ip.Destination, quoted[ip.HeaderLength..], what, abort)) return;
        string? err = type switch
        {
            IcmpHeader.ParamProblem => "EPROTO",
            IcmpHeader.TimeExceeded => "EHOSTUNREACH",
            // codes above NR_ICMP_UNREACH (15) are ignored; fragmentation needed is path MTU
            IcmpHeader.DestUnreach when code <= 15 && code != IcmpHeader.CodeFragmentationNeeded => UnreachErrno(code),
            _ => null, // source quench, redirects and the rest: goto out
        };
        if (err is null) return;
        Abort(skb, t, "TcpV4Err", "tcp_v4_err", ip.Source, ip.Destination, quoted[ip.HeaderLength..], what, err);
    }

    /// <summary>tcp_v6_err for an ICMPv6 error (not packet too big) quoting <paramref name="quoted"/>.</summary>
    [KernelSymbol("tcp_v6_err", "net/ipv6/tcp_ipv6.c")]
    public static void V6(SkBuff skb, TraceBuilder t, byte type, byte code, ReadOnlySpan<byte> quoted)
    {
        if (type is not (Icmpv6Header.DestUnreach or Icmpv6Header.TimeExceeded or Icmpv6Header.ParamProblem)) return;
        if (!Ipv6Header.TryParse(quoted, out var ip6, out _)) return;
        Ipv6ExtensionHeaders.Walk(ip6.NextHeader, quoted[Ipv6Header.HeaderLength..], out var chain);
        int at = Ipv6Header.HeaderLength + chain.UpperOffset;
        if (chain.UpperProtocol != IpProtocol.Tcp || at + 8 > quoted.Length) return;
        string err = type switch
        {
            Icmpv6Header.DestUnreach => code switch { 0 => "ENETUNREACH", 1 or 5 => "EACCES", 2 or 3 => "EHOSTUNREACH", 4 => "ECONNREFUSED", 6 => "EINVAL", _ => "EPROTO" },
            Icmpv6Header.TimeExceeded => "EHOSTUNREACH",
            _ => "EPROTO",
        };
        // icmpv6_err_convert's fatal: tab_unreach's flag (an unknown code is fatal), parameter problem; not time exceeded
        bool fatal = type switch
        {
            Icmpv6Header.DestUnreach => code is not (0 or 2 or 3),
            Icmpv6Header.ParamProblem => true,
            _ => false,
        };
        var what = $"ICMPv6 type {type} code {code}";
        if (ReqErr(skb, t, "TcpV6Err", "tcp_v6_err", ip6.Source, ip6.Destination, quoted[at..], what, fatal)) return;
        Abort(skb, t, "TcpV6Err", "tcp_v6_err", ip6.Source, ip6.Destination, quoted[at..], what, err);
    }

    /// <summary>icmp_err_convert: the errno of a destination-unreachable code.</summary>
    private static string UnreachErrno(byte code) => code switch
    {
        0 or 6 or 9 or 11 => "ENETUNREACH",
        2 => "ENOPROTOOPT",
        3 => "ECONNREFUSED",
        5 => "EOPNOTSUPP",
        7 => "EHOSTDOWN",
        8 => "ENONET",
        _ => "EHOSTUNREACH",
    };

    /// <summary>
    /// tcp_req_err, when the quoted segment is of a request socket (SYN_RECV): returns false for any
    /// other connection. The quoted sequence must be the SYN-ACK's (snt_isn: snd_nxt - 1); then an
    /// <paramref name="abort"/>ing error drops the request, silently (no reset, the listener counts a drop).
    /// </summary>
    [KernelSymbol("tcp_req_err", "net/ipv4/tcp_ipv4.c")]
    private static bool ReqErr(SkBuff skb, TraceBuilder t, string stage, string fn, IpAddr local, IpAddr remote, ReadOnlySpan<byte> tcp, string what, bool abort)
    {
        ushort sport = BinaryPrimitives.ReadUInt16BigEndian(tcp), dport = BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]);
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]);
        var key = (IpProtocol.Tcp, local, sport, remote, dport);
        var socks = skb.State.TcpSocks;
        if (socks.Find(key, skb.TimestampNs) is not { State: TcpSockState.SynRecv } req) return false;
        var conn = local.WithPort(sport) + " > " + remote.WithPort(dport);
        if (req.SndNxt is { } nxt && seq != nxt - 1)
            t.Stage(skb, stage, fn, Verdict.Pass, $"{what} quotes {conn} seq {seq}, not the request socket's SYN-ACK ({nxt - 1}): ignored (tcp_req_err: OUTOFWINDOWICMPS)");
        else if (!abort)
            t.Stage(skb, stage, fn, Verdict.Pass, $"{what} quotes the SYN-ACK of the request socket {conn} (SYN_RECV): not a hard error, the request stays (tcp_req_err)");
        else
        {
            socks.Close(key);
            t.Stage(skb, stage, fn, Verdict.Pass, $"{what} quotes the SYN-ACK of the request socket {conn} (SYN_RECV): the request is dropped silently (tcp_req_err: inet_csk_reqsk_queue_drop)");
        }
        return true;
    }

    private static void Abort(SkBuff skb, TraceBuilder t, string stage, string fn, IpAddr local, IpAddr remote, ReadOnlySpan<byte> tcp, string what, string err)
    {
        ushort sport = BinaryPrimitives.ReadUInt16BigEndian(tcp), dport = BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]);
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]);
        var key = (IpProtocol.Tcp, local, sport, remote, dport);
        var socks = skb.State.TcpSocks;
        if (socks.Find(key, skb.TimestampNs) is not { State: TcpSockState.SynSent } sock) return;
        var conn = local.WithPort(sport) + " > " + remote.WithPort(dport);
        // between(seq, snd_una, snd_nxt): in SYN_SENT snd_una is the ISN and snd_nxt one more
        if (sock.SndNxt is { } nxt && seq != nxt && seq != nxt - 1)
        {
            t.Stage(skb, stage, fn, Verdict.Pass, $"{what} quotes {conn} seq {seq}, outside snd_una..snd_nxt ({nxt - 1}..{nxt}): ignored (OUTOFWINDOWICMPS)");
            return;
        }
        socks.Close(key);
        t.Stage(skb, stage, fn, Verdict.Pass, $"{what} quotes the SYN of {conn} (SYN_SENT): the connect fails with {err} (tcp_done), the socket is gone");
    }
}
