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
    public override string ToString() => Description;

    internal static Sock OfListener(ListeningSocket l) =>
        new($"listener {l}", l.Transparent, l.Mark, l.Wildcard, true, l.Uid, l.Gid, l);

    /// <summary>A connection the listener accepted: the child inherits IP_TRANSPARENT, SO_MARK and the owner (sk_clone_lock); its bound address is the connection's.</summary>
    internal static Sock Accepted(ListeningSocket l, string connection, bool full) =>
        new($"{(full ? "connection" : "request socket")} {connection} of the listener {l}", l.Transparent, l.Mark, false, full, l.Uid, l.Gid, l);
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
        var text = $"{daddr}:{dport} <-> {saddr}:{sport}";
        var state = skb.State;
        if (!state.ConnectedSockets.Contains(key, skb.TimestampNs))
        {
            state.TransparentConnections.Remove(key); // idle as long as the connected sockets are forgotten after
            return null;
        }
        if (state.TransparentConnections.TryGetValue(key, out var tc))
            return Sock.Accepted(tc.Listener, text, tc.Full);
        if (Listener(skb.Netns, protocol, daddr, dport) is { } parent && protocol == IpProtocol.Tcp)
            return Sock.Accepted(parent, text, true);
        // a client socket the capture showed: the lab does not say who opened it or with which options
        return new Sock($"connected socket {text} (seen in the capture)", false, 0, false, true, null, null, null);
    }

    /// <summary>inet_lookup_listener / udp4_lib_lookup: a socket bound to the address (or the wildcard) and port; a bound address is preferred.</summary>
    public static ListeningSocket? Listener(NetNamespace ns, byte protocol, IpAddr daddr, ushort dport)
    {
        if (ns.Sockets is not { } sockets) return null;
        var proto = protocol == IpProtocol.Tcp ? SocketProtocol.Tcp : protocol == IpProtocol.Udp ? SocketProtocol.Udp : (SocketProtocol?)null;
        if (proto is null) return null;
        ListeningSocket? wildcard = null;
        foreach (var s in sockets)
        {
            if (s.Protocol != proto || !s.Accepts(daddr, dport)) continue;
            if (!s.Wildcard) return s;
            wildcard ??= s;
        }
        return wildcard;
    }

    /// <summary>
    /// nf_sk_lookup_slow_v4/v6 (the socket match without skb->sk): established first, then a listener;
    /// a reply of a source-NATed connection is looked up with the address the socket sent from.
    /// </summary>
    [KernelSymbol("nf_sk_lookup_slow_v4", "net/ipv4/netfilter/nf_socket_ipv4.c")]
    [KernelSymbol("nf_sk_lookup_slow_v6", "net/ipv6/netfilter/nf_socket_ipv6.c")]
    public static Sock? Slow(SkBuff skb)
    {
        if (!Ports(skb, out var protocol, out var saddr, out var sport, out var daddr, out var dport)) return null;
        if (skb.Ct is { Entry: { SourceNatDone: true } e, Direction: CtDirection.Reply, State: CtState.Established })
            (daddr, dport) = (e.Original.Source, e.Original.SourcePort);
        if (Established(skb, protocol, saddr, sport, daddr, dport) is { } sk) return sk;
        return Listener(skb.Netns, protocol, daddr, dport) is { } l ? Sock.OfListener(l) : null;
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
        if (Established(skb, protocol, saddr, sport, daddr, dport) is { } sk) return (sk, laddr, lport);
        return (Listener(skb.Netns, protocol, laddr, lport) is { } l ? Sock.OfListener(l) : null, laddr, lport);
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
        if (state.TransparentConnections.TryGetValue(key, out var tc)) return Sock.Accepted(tc.Listener, text, true);
        if (Listener(origin, protocol, src, sport) is { } l)
            return protocol == IpProtocol.Tcp ? Sock.Accepted(l, text, true) : Sock.OfListener(l);
        return new Sock($"socket {text} (not in the lab)", false, 0, false, true, null, null, null);
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
