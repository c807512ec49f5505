using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.Socket;

/// <summary>
/// tcp_v4_err / tcp_v6_err: an ICMP error received by this namespace that quotes a TCP segment one of
/// its connections sent. Only a connection still in SYN_SENT changes: the error aborts the connect
/// (tcp_done with sk_err set: ECONNREFUSED, EHOSTUNREACH, ...), whatever the code; an established
/// connection only records a soft error and keeps its state. The quoted sequence must lie in
/// snd_una..snd_nxt (else OUTOFWINDOWICMPS, ignored). Not modelled: request sockets (tcp_req_err),
/// fast open. Packet too big and fragmentation needed go to the path MTU code instead.
/// </summary>
public static class TcpErr
{
    /// <summary>tcp_v4_err for ICMP <paramref name="type"/>/<paramref name="code"/> quoting <paramref name="quoted"/> (the ICMP payload).</summary>
    [KernelSymbol("tcp_v4_err", "net/ipv4/tcp_ipv4.c")]
    public static void V4(SkBuff skb, TraceBuilder t, byte type, byte code, ReadOnlySpan<byte> quoted)
    {
        string? err = type switch
        {
            IcmpHeader.ParamProblem => "EPROTO",
            IcmpHeader.TimeExceeded => "EHOSTUNREACH",
            // codes above NR_ICMP_UNREACH (15) are ignored; fragmentation needed is path MTU
            IcmpHeader.DestUnreach when code <= 15 && code != IcmpHeader.CodeFragmentationNeeded => UnreachErrno(code),
            _ => null, // source quench, redirects and the rest: goto out
        };
        if (err is null || !Ipv4Header.TryParse(quoted, out var ip, out _) || ip.Protocol != IpProtocol.Tcp || ip.HeaderLength + 8 > quoted.Length) return;
        Abort(skb, t, "TcpV4Err", "tcp_v4_err", ip.Source, ip.Destination, quoted[ip.HeaderLength..], $"ICMP type {type} code {code}", err);
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
        Abort(skb, t, "TcpV6Err", "tcp_v6_err", ip6.Source, ip6.Destination, quoted[at..], $"ICMPv6 type {type} code {code}", err);
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
