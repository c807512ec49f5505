using PktFlow.Datapath;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Socket;

/// <summary>
/// A socket the stack finds for a packet (struct sock): a lab listener, a connection one of them
/// accepted, or a connected socket learned from the capture (whose owner the lab does not say).
/// <see cref="FullSock"/> is false for a request socket (TCP_NEW_SYN_RECV: a SYN answered, the
/// handshake not complete), which has no sk_mark and no bound address of its own.
/// </summary>
public sealed record Sock(string Description, bool Transparent, uint Mark, bool Wildcard, bool FullSock, uint? Uid, uint? Gid, ListeningSocket? Listener)
{
    /// <summary>sk_priority (SO_PRIORITY): skb->priority of what it sends.</summary>
    public uint Priority { get; init; }
    /// <summary>A listening socket itself (TCP_LISTEN), not a connection it accepted.</summary>
    public bool IsListener { get; init; }
    /// <summary>The state of a TCP connection's socket the model tracks; TIME_WAIT sockets are not full sockets.</summary>
    public TcpSockState? TcpState { get; init; }

    public override string ToString() => Description;

    internal static Sock OfListener(ListeningSocket l) =>
        new($"listener {l}", l.Transparent, l.Mark, l.Wildcard, true, l.Uid, l.Gid, l) { Priority = l.Priority, IsListener = true };

    /// <summary>
    /// A connection the listener accepted: the child inherits IP_TRANSPARENT and the owner (sk_clone_lock)
    /// and the request's ir_mark (<paramref name="irMark"/>: inet_request_mark, the listener's SO_MARK,
    /// or with net.ipv4.tcp_fwmark_accept the SYN's mark when the listener has none), but not
    /// SO_PRIORITY (checked on 6.18: getsockopt on the accepted socket gives 0, and its packets have
    /// priority none); its bound address is the connection's. Options the server sets after accept()
    /// apply to the connection only. A request socket (the SYN-ACK's) has the listener's priority.
    /// </summary>
    internal static Sock Accepted(ListeningSocket l, string connection, bool full, uint irMark) =>
        new($"{(full ? "connection" : "request socket")} {connection} of the listener {l}", l.Transparent,
            full ? l.AcceptedMark ?? irMark : irMark, false, full, l.Uid, l.Gid, l)
        { Priority = full ? l.AcceptedPriority ?? 0 : l.Priority };
}

/// <summary>
/// The socket lookups netfilter makes before routing (nf_tproxy_get_sock_v4/v6 for tproxy,
/// nf_sk_lookup_slow_v4/v6 for the socket match) and the one a locally sent packet carries.
/// Connections handed to a transparent listener are remembered per namespace
/// (<see cref="NamespaceState.TransparentConnections"/>): their local address is not the host's.
/// </summary>
public static class SockLookup
{
    /// <summary>__inet_lookup_established / udp4_lib_lookup for a connected socket: the packet's 4-tuple, seen from the host.</summary>
    public static Sock? Established(SkBuff skb, byte protocol, IpAddr saddr, ushort sport, IpAddr daddr, ushort dport)
    {
        var key = (protocol, daddr, dport, saddr, sport);
        var state = skb.State;
        if (!state.ConnectedSockets.Contains(key, skb.TimestampNs))
        {
            state.TransparentConnections.Remove(key); // idle as long as the connected sockets are forgotten after
            return null;
        }
        var conn = protocol == IpProtocol.Tcp ? state.TcpSocks.Find(key, skb.TimestampNs) : null;
        var text = $"{daddr}:{dport} <-> {saddr}:{sport}";
        var sk = Connected(skb, key, text);
        if (conn is not { State: TcpSockState.TimeWait }) return conn is null ? sk : sk with { TcpState = conn.State };
        // inet_timewait_sock: tw_transparent and tw_mark are the connection's; it is no full socket
        // (no owner, no sk_mark for the socket match, never a wildcard)
        return sk with { Description = $"TIME_WAIT socket {text}", FullSock = false, Wildcard = false, Uid = null, Gid = null, TcpState = TcpSockState.TimeWait };
    }

    private static Sock Connected(SkBuff skb, (byte Protocol, IpAddr, ushort, IpAddr, ushort) key, string text)
    {
        var state = skb.State;
        var (protocol, daddr, dport, _, _) = key;
        if (state.TransparentConnections.TryGetValue(key, out var tc))
            return Sock.Accepted(tc.Listener, text, tc.Full, IrMark(state, tc.Listener, key));
        if (Listener(skb.Netns, protocol, daddr, dport, skb.State.LabSockets) is { } parent && protocol == IpProtocol.Tcp)
            return Sock.Accepted(parent, text, true, IrMark(state, parent, key));
        // a client socket the capture showed: the lab does not say who opened it or with which options
        return new Sock($"connected socket {text} (seen in the capture)", false, 0, false, true, null, null, null);
    }

    /// <summary>
    /// inet_request_mark for a SYN the listener takes: with net.ipv4.tcp_fwmark_accept and no SO_MARK on
    /// the listener, the request (and the connection it becomes) has the SYN's mark; remembered for the
    /// packets the connection sends.
    /// </summary>
    [KernelSymbol("inet_request_mark", "include/net/inet_sock.h")]
    internal static void Request(SkBuff skb, ListeningSocket l, (byte, IpAddr, ushort, IpAddr, ushort) key)
    {
        if (l.Mark == 0 && skb.Mark != 0 && skb.Netns.Sysctls.IsOn("net.ipv4.tcp_fwmark_accept"))
            skb.State.RequestMarks.Add(key, skb.Mark);
    }

    /// <summary>ir_mark of the connection <paramref name="key"/> of listener <paramref name="l"/>: its SO_MARK, else the SYN's under tcp_fwmark_accept.</summary>
    private static uint IrMark(Datapath.NamespaceState state, ListeningSocket l, (byte, IpAddr, ushort, IpAddr, ushort) key) =>
        l.Mark != 0 ? l.Mark : state.RequestMarks.Get(key) ?? 0;

    /// <summary>
    /// inet_lookup_listener / udp4_lib_lookup: a socket bound to the address (or the wildcard) and port; a
    /// bound address is preferred; one its program closed (<paramref name="life"/>) is not found.
    /// </summary>
    public static ListeningSocket? Listener(NetNamespace ns, byte protocol, IpAddr daddr, ushort dport, LabSocketLife? life = null)
    {
        if (ns.Sockets is not { } sockets) return null;
        var proto = protocol == IpProtocol.Tcp ? SocketProtocol.Tcp : protocol == IpProtocol.Udp ? SocketProtocol.Udp : (SocketProtocol?)null;
        if (proto is null) return null;
        ListeningSocket? wildcard = null;
        foreach (var s in sockets)
        {
            if (s.Protocol != proto || !s.Accepts(daddr, dport) || life?.Closed(s) == true) continue;
            if (!s.Wildcard) return s;
            wildcard ??= s;
        }
        return wildcard;
    }

    /// <summary>
    /// nf_sk_lookup_slow_v4/v6 (the socket match without skb->sk): established first, then a listener;
    /// an ICMP error is looked up by the TCP/UDP header it quotes (<see cref="QuotedPorts"/>); a reply
    /// (or a related error) of a source-NATed connection with the address the socket sent from.
    /// </summary>
    [KernelSymbol("nf_sk_lookup_slow_v4", "net/ipv4/netfilter/nf_socket_ipv4.c")]
    [KernelSymbol("nf_sk_lookup_slow_v6", "net/ipv6/netfilter/nf_socket_ipv6.c")]
    public static Sock? Slow(SkBuff skb)
    {
        bool icmp = false;
        if (!Ports(skb, out var protocol, out var saddr, out var sport, out var daddr, out var dport))
        {
            if (!QuotedPorts(skb, out protocol, out saddr, out sport, out daddr, out dport)) return null;
            icmp = true;
        }
        if (skb.Ct is { Entry: { SourceNatDone: true } e, Direction: CtDirection.Reply, State: var st } && st == (icmp ? CtState.Related : CtState.Established))
            (daddr, dport) = (e.Original.Source, e.Original.SourcePort);
        if (Established(skb, protocol, saddr, sport, daddr, dport) is { } sk) return sk;
        return Listener(skb.Netns, protocol, daddr, dport, skb.State.LabSockets) is { } l ? Sock.OfListener(l) : null;
    }

    /// <summary>
    /// nf_tproxy_get_sock_v4/v6 as nft_tproxy and xt_TPROXY use them: the packet's own connection if
    /// one exists, else a listener on the tproxy address (nf_tproxy_laddr4: the receiving device's
    /// primary address when none is given) and port (the packet's when none is given).
    /// </summary>
    [KernelSymbol("nf_tproxy_get_sock_v4", "net/ipv4/netfilter/nf_tproxy_ipv4.c")]
    [KernelSymbol("nf_tproxy_get_sock_v6", "net/ipv6/netfilter/nf_tproxy_ipv6.c")]
    public static (Sock? Sock, IpAddr Address, ushort Port) Tproxy(SkBuff skb, IpAddr? address, ushort port)
    {
        if (!Ports(skb, out var protocol, out var saddr, out var sport, out var daddr, out var dport)) return (null, daddr, dport);
        var laddr = address is { IsZero: false } a ? a : PrimaryAddress(skb, daddr);
        var lport = port != 0 ? port : dport;
        if (Established(skb, protocol, saddr, sport, daddr, dport) is { } sk)
            return (sk.TcpState == TcpSockState.TimeWait ? HandleTimeWait(skb, sk, (protocol, daddr, dport, saddr, sport), laddr, lport) : sk, laddr, lport);
        return (Listener(skb.Netns, protocol, laddr, lport, skb.State.LabSockets) is { } l ? Sock.OfListener(l) : null, laddr, lport);
    }

    /// <summary>
    /// nf_tproxy_handle_time_wait4/6: a bare SYN that finds a TIME_WAIT socket goes to the listener on
    /// the tproxy address and port when there is one (the TIME_WAIT socket is descheduled); anything
    /// else, or a SYN with no such listener, stays with the TIME_WAIT socket.
    /// </summary>
    [KernelSymbol("nf_tproxy_handle_time_wait4", "net/ipv4/netfilter/nf_tproxy_ipv4.c")]
    [KernelSymbol("nf_tproxy_handle_time_wait6", "net/ipv6/netfilter/nf_tproxy_ipv6.c")]
    private static Sock HandleTimeWait(SkBuff skb, Sock tw, (byte, IpAddr, ushort, IpAddr, ushort) key, IpAddr laddr, ushort lport)
    {
        if (!ConntrackTable.TryGetL4(skb.Network, skb.Protocol == EtherTypes.Ipv6, out _, out _, out _, out var l4, out _)
            || !TcpSegment.TryParse(l4, out var seg) || !seg.IsSyn
            || Listener(skb.Netns, IpProtocol.Tcp, laddr, lport, skb.State.LabSockets) is not { } l)
            return tw;
        skb.State.TcpSocks.Close(key);
        return Sock.OfListener(l) with { Description = $"listener {l} (the SYN found {tw}: nf_tproxy_handle_time_wait redirects it to the listener and removes the TIME_WAIT socket)" };
    }

    /// <summary>nf_tproxy_laddr4: the first primary address of the receiving device (IPv6: nf_tproxy_laddr6, a global one), else the packet's destination.</summary>
    private static IpAddr PrimaryAddress(SkBuff skb, IpAddr daddr)
    {
        foreach (var a in skb.Netns.Addresses)
            if (a.Device == skb.Dev.Name && a.Family == daddr.Family && (daddr.IsV4 || a.Scope == AddressScope.Global)) return a.Address;
        return daddr;
    }

    /// <summary>nf_tproxy_assign_sock: the packet now belongs to the socket; a TCP connection request makes a child of the listener.</summary>
    [KernelSymbol("nf_tproxy_assign_sock", "include/net/netfilter/nf_tproxy.h")]
    public static void Assign(SkBuff skb, Sock sk) => skb.Sk = sk;

    /// <summary>
    /// The socket a locally sent packet carries (skb->sk, as skb_to_full_sk gives it): a connection a
    /// transparent listener took, else a lab socket bound to the packet's source port (a listener's
    /// accepted connection or SYN-ACK, a UDP socket), else a connected socket of the capture.
    /// </summary>
    public static Sock? Sender(SkBuff skb, NetNamespace origin, IpAddr src, IpAddr dst)
    {
        if (!Ports(skb, out var protocol, out _, out var sport, out _, out var dport)) return null;
        var key = (protocol, src, sport, dst, dport);
        var text = $"{src}:{sport} <-> {dst}:{dport}";
        var state = skb.Engine.StateOf(origin);
        var sk = Owner();
        if (protocol == IpProtocol.Tcp && state.TcpSocks.Find(key, skb.TimestampNs) is { State: TcpSockState.TimeWait, AckOwed: true } tw)
        {
            // tcp_v4_timewait_ack: the stack's control socket sends it with tw_mark and tw_priority, and
            // the skb belongs to the TIME_WAIT socket, no full socket (no owner for meta skuid)
            tw.AckOwed = false;
            return sk with { Description = $"TIME_WAIT socket {text} (its ACK, through the stack's control socket)", FullSock = false, Wildcard = false, Uid = null, Gid = null, TcpState = TcpSockState.TimeWait };
        }
        return sk;

        Sock Owner()
        {
            if (state.TransparentConnections.TryGetValue(key, out var tc)) return Connection(tc.Listener);
            if (Listener(origin, protocol, src, sport) is { } l)
                return protocol == IpProtocol.Tcp ? Connection(l) : Sock.OfListener(l);
            return new Sock($"socket {text} (not in the lab)", false, 0, false, true, null, null, null);
        }

        // A SYN-ACK is built for the request (tcp_v4_send_synack: routed with ir_mark, which it carries,
        // and ip_build_and_send_pkt takes the listener's sk_priority); what is sent after, for the connection.
        Sock Connection(ListeningSocket l)
        {
            uint irMark = IrMark(state, l, key);
            var sk = Sock.Accepted(l, text, true, irMark);
            // (skb->sk is then the request socket; what reads it as a full socket, skuid, finds the listener)
            return SynAck(skb) ? sk with { Description = $"request socket {text} of the listener {l}", Mark = irMark, Priority = l.Priority } : sk;
        }
    }

    /// <summary>
    /// skb->mark and skb->priority of a packet a socket sends are the socket's (__ip_queue_xmit,
    /// ip_build_and_send_pkt, ip6_xmit): the output route lookup already used the mark (flowi4_mark =
    /// sk_mark), so `ip rule fwmark` routes it, and the output hook sees both (`meta mark`, `meta priority`).
    /// Packets the kernel builds in answer (resets, ICMP) take theirs from <see cref="ReplyMark"/>.
    /// </summary>
    public static void SetOwner(SkBuff skb, TraceBuilder t, Sock? sk)
    {
        skb.Sk = sk;
        if (sk is null) return;
        skb.Mark = sk.Mark;
        skb.Priority = sk.Priority;
        if (sk.Mark != 0 || sk.Priority != 0)
            t.Note($"sent from {sk}: skb mark 0x{sk.Mark:x} (SO_MARK), priority {Netfilter.Nftables.NftType.TcHandleText(sk.Priority)} (SO_PRIORITY)");
    }

    private static bool SynAck(SkBuff skb)
    {
        var n = skb.Network;
        if (n.Length == 0) return false;
        int off = skb.Protocol == EtherTypes.Ipv6 ? Ipv6Header.HeaderLength : (n[0] & 0x0f) * 4;
        return n.Length > off + 13 && (n[off + 13] & 0x12) == 0x12;
    }

    /// <summary>
    /// extract_icmp4_fields / extract_icmp6_fields: for an ICMP error (destination unreachable, source
    /// quench, time exceeded, parameter problem; ICMPv6 types below 128) quoting TCP or UDP, the quoted
    /// packet seen from this side: it was sent from here, so its source is the local end (daddr, dport)
    /// and its destination the remote one (saddr, sport). Redirects are not errors here (icmp_is_err).
    /// </summary>
    private static bool QuotedPorts(SkBuff skb, out byte protocol, out IpAddr saddr, out ushort sport, out IpAddr daddr, out ushort dport)
    {
        protocol = 0; sport = dport = 0; saddr = daddr = default;
        bool v6 = skb.Protocol == EtherTypes.Ipv6;
        if (!ConntrackTable.TryGetL4(skb.Network, v6, out _, out _, out byte proto, out var l4, out _) || l4.Length < 8) return false;
        ReadOnlySpan<byte> inner = l4[8..];
        IpAddr innerSrc, innerDst;
        ReadOnlySpan<byte> ports;
        if (!v6)
        {
            if (proto != IpProtocol.Icmp || l4[0] is not (3 or 4 or 11 or 12)) return false;
            if (inner.Length < 20 || (inner[0] >> 4) != 4) return false;
            int ihl = (inner[0] & 0x0f) * 4;
            protocol = inner[9];
            (innerSrc, innerDst) = (IpAddr.ReadV4(inner[12..]), IpAddr.ReadV4(inner[16..]));
            ports = inner.Length >= ihl + 4 ? inner[ihl..] : default;
        }
        else
        {
            if (proto != IpProtocol.Icmpv6 || l4[0] >= 128 || inner.Length < Ipv6Header.HeaderLength) return false;
            Ipv6ExtensionHeaders.Walk(inner[6], inner[Ipv6Header.HeaderLength..], out var chain);
            protocol = chain.UpperProtocol;
            (innerSrc, innerDst) = (IpAddr.ReadV6(inner[8..]), IpAddr.ReadV6(inner[24..]));
            int at = Ipv6Header.HeaderLength + chain.UpperOffset;
            ports = inner.Length >= at + 4 ? inner[at..] : default;
        }
        if (protocol is not (IpProtocol.Tcp or IpProtocol.Udp) || ports.Length < 4) return false;
        (daddr, dport) = (innerSrc, (ushort)(ports[0] << 8 | ports[1]));
        (saddr, sport) = (innerDst, (ushort)(ports[2] << 8 | ports[3]));
        return true;
    }

    private static bool Ports(SkBuff skb, out byte protocol, out IpAddr saddr, out ushort sport, out IpAddr daddr, out ushort dport)
    {
        protocol = 0; sport = dport = 0; saddr = daddr = default;
        if (!ConntrackTable.TryTuple(skb.Network, skb.Protocol == EtherTypes.Ipv6, out var t) || t.Protocol is not (IpProtocol.Tcp or IpProtocol.Udp))
            return false;
        (protocol, saddr, sport, daddr, dport) = (t.Protocol, t.Source, t.SourcePort, t.Destination, t.DestinationPort);
        return true;
    }
}
