using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Offload;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Socket;

/// <summary>
/// The protocol handlers that ip_local_deliver_finish / ip6_input_finish hand packets to:
/// tcp_v4_rcv / tcp_v6_rcv, udp_rcv / udpv6_rcv, icmp_rcv / icmpv6_rcv. Header and checksum checks
/// are modelled; socket lookup is not yet (no listeners in the lab format), and says so.
/// </summary>
public static class LocalDeliver
{
    public static void Transport(SkBuff skb, TraceBuilder t, byte protocol, IpAddr saddr, IpAddr daddr,
        ReadOnlySpan<byte> segment, bool broadcast)
    {
        bool v6 = saddr.IsV6;
        switch (protocol)
        {
            case IpProtocol.Tcp: Tcp(skb, t, saddr, daddr, segment, v6, broadcast); break;
            case IpProtocol.Udp: Udp(skb, t, saddr, daddr, segment, v6, broadcast); break;
            case IpProtocol.Icmp when !v6: Icmp(skb, t, segment, saddr, broadcast); break;
            case IpProtocol.Icmpv6 when v6: IPv6.Icmpv6Rcv.Receive(skb, t, saddr, daddr, segment); break;
            case IpProtocol.IpIp when !v6 && skb.Netns.HasIpipHandler: Tunnel.IpipRcv.Tunnel4Rcv(skb, t, saddr, daddr, segment); break;
            case IpProtocol.NoNext when v6:
                // NEXTHDR_NONE: counted as delivered, then freed without a reason (dst_discard).
                t.Drop(skb, "Ip6ProtocolDeliver", "ip6_protocol_deliver_rcu", "NOT_SPECIFIED", "no next header (59): nothing to deliver");
                break;
            default:
                // ip_protocol_deliver_rcu / ip6_protocol_deliver_rcu: no handler and no raw socket.
                var icmp = v6 ? "ICMPv6 parameter problem (unrecognized next header)" : "ICMP protocol unreachable";
                if (broadcast) { }
                else if (v6) t.Generate($"{icmp} to {saddr}");
                else IPv4.IcmpSend.Error(skb, t, IPv4.IcmpSend.DestUnreach, 2, 0, true, $"{icmp} to {saddr}");
                t.Drop(skb, v6 ? "Ip6ProtocolDeliver" : "IpProtocolDeliver", v6 ? "ip6_protocol_deliver_rcu" : "ip_protocol_deliver_rcu",
                    "IP_NOPROTO", $"no handler for IP protocol {protocol}{(broadcast ? "" : $"; {icmp} sent")}");
                break;
        }
    }

    [KernelSymbol("tcp_v4_rcv", "net/ipv4/tcp_ipv4.c")]
    [KernelSymbol("tcp_v6_rcv", "net/ipv6/tcp_ipv6.c")]
    private static void Tcp(SkBuff skb, TraceBuilder t, IpAddr saddr, IpAddr daddr, ReadOnlySpan<byte> segment, bool v6, bool broadcast)
    {
        string fn = v6 ? "tcp_v6_rcv" : "tcp_v4_rcv", stage = v6 ? "TcpV6Rcv" : "TcpV4Rcv";
        if (broadcast)
        {
            t.Drop(skb, stage, fn, "NOT_SPECIFIED", "TCP to a broadcast or multicast address is discarded (pkt_type not HOST)");
            return;
        }
        if (!TcpHeader.TryParse(segment, out var tcp, out var error) || tcp.HeaderProblem() is { } problem)
        {
            t.Drop(skb, stage, fn, "PKT_TOO_SMALL", error ?? tcp.HeaderProblem() ?? "TCP header cut short");
            return;
        }
        // skb_checksum_init (CHECKSUM_NONE/COMPLETE computed, PARTIAL/UNNECESSARY trusted): csum_error
        var csum = SkbChecksum.Validate(skb, saddr, daddr, IpProtocol.Tcp, segment);
        if (csum.Bad) { t.Drop(skb, stage, fn, "TCP_CSUM", "TCP " + csum.Note); return; }
        if (csum.Note is not null) t.Note("TCP " + csum.Note);
        var key = (IpProtocol.Tcp, daddr, tcp.DestinationPort, saddr, tcp.SourcePort);
        TcpSegment.TryParse(segment, out var seg);
        var socks = skb.State.TcpSocks;
        if (skb.Sk is { } assigned)
        {
            // skb_steal_sock: tproxy assigned the socket before routing; no lookup by address
            if (assigned.TcpState == TcpSockState.TimeWait && socks.Find(key, skb.TimestampNs) is { State: TcpSockState.TimeWait } atw)
            {
                if (TcpTimewait.Rcv(skb, t, key, atw, seg, "the TIME_WAIT socket tproxy assigned:") is { } l) ListenerRcv(skb, t, l, saddr, daddr, segment, tcp, v6, seg);
                return;
            }
            Transparent.Deliver(skb, t, assigned, IpProtocol.Tcp, saddr, tcp.SourcePort, daddr, tcp.DestinationPort, tcp.Flags);
            socks.Received(key, seg, skb.TimestampNs, assigned.IsListener ? assigned.Listener : null);
            t.Stage(skb, stage, fn, Verdict.Pass, $"the socket tproxy assigned: {assigned}{StateText(socks, key, skb.TimestampNs)}");
            t.End(Fate.Delivered, fn);
            return;
        }
        if (socks.Find(key, skb.TimestampNs) is { } conn)
        {
            if (conn.State == TcpSockState.TimeWait)
            {
                if (TcpTimewait.Rcv(skb, t, key, conn, seg, "the socket") is { } l) ListenerRcv(skb, t, l, saddr, daddr, segment, tcp, v6, seg);
                return;
            }
            var before = conn.State;
            if (before == TcpSockState.SynSent && seg.Has(TcpFlags.Ack) && !seg.Has(TcpFlags.Rst) && conn.SndNxt is { } sndNxt && seg.Ack != sndNxt)
                // tcp_rcv_synsent_state_process: an ACK that does not acknowledge our SYN is reset (reset_and_undo).
                // Described, not built: a capture of the peer's side shows that reset arriving there, and is traced as such.
                t.Generate($"TCP RST to {saddr}:{tcp.SourcePort}, seq {seg.Ack} (the connection in SYN_SENT: the ACK does not acknowledge its SYN, {sndNxt} expected)");
            Transparent.Deliver(skb, t, null, IpProtocol.Tcp, saddr, tcp.SourcePort, daddr, tcp.DestinationPort, tcp.Flags);
            socks.Received(key, seg, skb.TimestampNs);
            skb.State.ConnectedSockets.Contains(key, skb.TimestampNs); // a packet it receives keeps the socket in use
            t.Stage(skb, stage, fn, Verdict.Pass, $"the connection {daddr}:{tcp.DestinationPort} <-> {saddr}:{tcp.SourcePort} ({TcpSock.StateName(before)}{Transition(before, socks, key, skb.TimestampNs)})");
            // synproxy's SYN to a request socket the capture's SYN-ACK made known: it answers as the listener does
            if (before == TcpSockState.SynRecv && seg.Has(TcpFlags.Syn) && !seg.Has(TcpFlags.Ack) && skb.Ct?.Entry is { Synproxy: not null } proxied)
                Netfilter.NfSynproxy.LocalListenerAnswer(skb, t, proxied, v6);
            t.End(Fate.Delivered, fn);
            return;
        }
        if (skb.State.ConnectedSockets.Contains(key, skb.TimestampNs))
        {
            Transparent.Deliver(skb, t, null, IpProtocol.Tcp, saddr, tcp.SourcePort, daddr, tcp.DestinationPort, tcp.Flags);
            socks.Received(key, seg, skb.TimestampNs);
            t.Stage(skb, stage, fn, Verdict.Pass, $"the connected socket {daddr}:{tcp.DestinationPort} <-> {saddr}:{tcp.SourcePort} (it sent on this connection earlier in the capture)");
            t.End(Fate.Delivered, fn);
            return;
        }
        if (skb.Netns.Sockets is null)
        {
            t.NotModelled(skb, stage, fn, $"TCP port {tcp.DestinationPort}: the lab lists no listening sockets, so the socket lookup is not evaluated (a listener accepts; with none the kernel answers with RST)");
            t.End(Fate.Delivered, fn);
            return;
        }
        // inet_lookup_listener: a bound address before the wildcard, one its program closed is gone
        var listener = SockLookup.Listener(skb.Netns, IpProtocol.Tcp, daddr, tcp.DestinationPort, skb.State.LabSockets);
        if (listener is null)
        {
            // __inet_lookup_skb found nothing: tcp_v4_send_reset, unless the segment is itself a reset.
            bool rst = (tcp.Flags & TcpFlags.Rst) != 0;
            if (!rst) TcpSendReset.Send(skb, t, saddr, daddr, segment, v6 ? "tcp_v6_send_reset" : "tcp_v4_send_reset", $"TCP RST to {saddr}:{tcp.SourcePort} (nothing listens on port {tcp.DestinationPort})");
            t.Drop(skb, stage, fn, "NO_SOCKET", $"no socket for TCP port {tcp.DestinationPort}{(rst ? "; a reset is not answered" : ": the kernel answers with a RST")}");
            return;
        }
        ListenerRcv(skb, t, listener, saddr, daddr, segment, tcp, v6, seg);
    }

    /// <summary>The state the connection of <paramref name="key"/> is in now, for a trace detail.</summary>
    private static string StateText(TcpSockTable socks, (byte, IpAddr, ushort, IpAddr, ushort) key, long nowNs) =>
        socks.Find(key, nowNs) is { } s ? $" (now {TcpSock.StateName(s.State)})" : "";

    private static string Transition(TcpSockState before, TcpSockTable socks, (byte, IpAddr, ushort, IpAddr, ushort) key, long nowNs) =>
        socks.Find(key, nowNs) is not { } s ? " -> CLOSE" : s.State != before ? $" -> {TcpSock.StateName(s.State)}" : "";

    /// <summary>
    /// tcp_rcv_state_process for a listener (no connection of the segment's 4-tuple): a SYN is a
    /// connection request (tcp_conn_request); a segment with ACK is answered with a reset by the
    /// listener itself (tcp_v4_do_rcv -> tcp_v4_send_reset with the socket, so the reset takes its
    /// mark); anything else is discarded. A valid SYN cookie in such an ACK would open a connection,
    /// but cookies are only checked after the listen queue overflowed, which the model does not track.
    /// </summary>
    [KernelSymbol("tcp_rcv_state_process", "net/ipv4/tcp_input.c")]
    private static void ListenerRcv(SkBuff skb, TraceBuilder t, ListeningSocket listener, IpAddr saddr, IpAddr daddr, ReadOnlySpan<byte> segment, TcpHeader tcp, bool v6, TcpSegment seg)
    {
        string fn = v6 ? "tcp_v6_rcv" : "tcp_v4_rcv", stage = v6 ? "TcpV6Rcv" : "TcpV4Rcv";
        var flags = tcp.Flags;
        string what;
        if ((flags & TcpFlags.Rst) != 0) what = "a reset for the listener's port, discarded";
        else if ((flags & TcpFlags.Ack) != 0)
        {
            var sk = Sock.OfListener(listener);
            TcpSendReset.Send(skb, t, saddr, daddr, segment, v6 ? "tcp_v6_send_reset" : "tcp_v4_send_reset",
                $"TCP RST to {saddr}:{tcp.SourcePort} from {sk} (no connection of the segment)", sk);
            what = "a segment with ACK for no connection: the listener answers with a RST";
        }
        else if ((flags & TcpFlags.Syn) != 0)
        {
            SockLookup.Request(skb, listener, (IpProtocol.Tcp, daddr, tcp.DestinationPort, saddr, tcp.SourcePort));
            // tcp_conn_request: a request socket (SYN_RECV) the handshake's ACK turns into the child
            skb.State.TcpSocks.Received((IpProtocol.Tcp, daddr, tcp.DestinationPort, saddr, tcp.SourcePort), seg, skb.TimestampNs, listener);
            what = "a connection request for the listener (the kernel answers SYN-ACK; the request socket is in SYN_RECV)";
            // synproxy's SYN on the client's behalf: its hook takes the listener's SYN-ACK
            if (skb.Ct?.Entry is { Synproxy: not null } proxied) Netfilter.NfSynproxy.LocalListenerAnswer(skb, t, proxied, v6);
        }
        else what = "a segment without SYN, ACK or RST for the listener's port, discarded";
        t.Stage(skb, stage, fn, Verdict.Pass, $"socket {listener}: {what}");
        t.End(Fate.Delivered, fn);
    }

    [KernelSymbol("udp_rcv", "net/ipv4/udp.c")]
    [KernelSymbol("udpv6_rcv", "net/ipv6/udp.c")]
    private static void Udp(SkBuff skb, TraceBuilder t, IpAddr saddr, IpAddr daddr, ReadOnlySpan<byte> segment, bool v6, bool broadcast)
    {
        string fn = v6 ? "udpv6_rcv" : "udp_rcv", stage = v6 ? "Udpv6Rcv" : "UdpRcv";
        if (!UdpHeader.TryParse(segment, out var udp, out var error) || udp.LengthProblem(segment.Length) is { } problem)
        {
            t.Drop(skb, stage, fn, "PKT_TOO_SMALL", error ?? udp.LengthProblem(segment.Length) ?? "UDP header cut short");
            return;
        }
        // RFC 6936: a zero checksum over IPv6 only for a tunnel socket that allows it (udp6zerocsumrx)
        bool zero6 = v6 && udp.Checksum == 0 && Tunnel.VxlanRcv.SocketFor(skb.Netns, daddr, udp.DestinationPort) is { } zs && Tunnel.VxlanRcv.TakesZeroChecksum6(zs);
        if (zero6) t.Note("UDP checksum 0 over IPv6, taken by the vxlan socket (udp6zerocsumrx: udp_get_no_check6_rx)");
        else if (udp.Checksum != 0 || v6)
        {
            var seg = segment[..Math.Min(segment.Length, Math.Max((int)udp.Length, UdpHeader.HeaderLength))];
            // udp4_csum_init / udp6_csum_init, then udp_lib_checksum_complete: csum_error
            var csum = SkbChecksum.Validate(skb, saddr, daddr, IpProtocol.Udp, seg);
            var (ok, note) = (!csum.Bad, csum.Note); // a vxlan checksum by local checksum offload included
            if (!ok) { t.Drop(skb, stage, fn, "UDP_CSUM", "UDP " + note); return; }
            if (note is not null) t.Note("UDP " + note);
        }
        if (!broadcast && Tunnel.FouRcv.PortFor(skb.Netns, daddr, udp.DestinationPort) is { } fou)
        {
            // udp_queue_rcv_one_skb: an encapsulation socket's encap_rcv; a negative return resubmits the payload.
            var payload = segment[UdpHeader.HeaderLength..Math.Min(segment.Length, Math.Max((int)udp.Length, UdpHeader.HeaderLength))];
            t.Stage(skb, stage, fn, Verdict.Pass, $"the encapsulation socket of {fou}: its encap_rcv takes the datagram");
            if (Tunnel.FouRcv.EncapRcv(skb, t, fou, payload, out var inner) is { } resubmit)
                Transport(skb, t, resubmit, saddr, daddr, inner, broadcast);
            return;
        }
        if ((!broadcast || daddr.IsMulticast) && Tunnel.VxlanRcv.SocketFor(skb.Netns, daddr, udp.DestinationPort) is { } vxlan)
        {
            // udp_queue_rcv_one_skb: the vxlan socket's encap_rcv, after the checksum check above (for a
            // group, __udp4_lib_mcast_deliver / __udp6_lib_mcast_deliver hand it to the socket bound to the port)
            var payload = segment[UdpHeader.HeaderLength..Math.Min(segment.Length, Math.Max((int)udp.Length, UdpHeader.HeaderLength))];
            t.Stage(skb, stage, fn, Verdict.Pass, $"the vxlan socket on port {udp.DestinationPort} ({string.Join(", ", vxlan.Select(d => d.Name))}): its encap_rcv takes the datagram");
            Tunnel.VxlanRcv.Rcv(skb, t, vxlan, saddr, payload);
            return;
        }
        if (skb.Sk is { } assigned)
        {
            t.Stage(skb, stage, fn, Verdict.Pass, $"the socket tproxy assigned: {assigned}");
            t.End(Fate.Delivered, fn);
            return;
        }
        if (skb.State.ConnectedSockets.Contains((IpProtocol.Udp, daddr, udp.DestinationPort, saddr, udp.SourcePort), skb.TimestampNs))
        {
            t.Stage(skb, stage, fn, Verdict.Pass, $"the socket {daddr}:{udp.DestinationPort} that sent to {saddr}:{udp.SourcePort} earlier in the capture");
            t.End(Fate.Delivered, fn);
            return;
        }
        if (skb.Netns.Sockets is not { } sockets)
        {
            t.NotModelled(skb, stage, fn, $"UDP port {udp.DestinationPort}: the lab lists no sockets, so the socket lookup is not evaluated (with no socket the kernel sends ICMP port unreachable)");
            t.End(Fate.Delivered, fn);
            return;
        }
        var socket = skb.State.LabSockets.UdpLookup(sockets, daddr, udp.DestinationPort, saddr, udp.SourcePort);
        if (socket is null)
        {
            if (broadcast)
            {
                // __udp4_lib_mcast_deliver with no socket: freed quietly, no ICMP for broadcasts.
                t.Drop(skb, stage, fn, "NOT_SPECIFIED", $"broadcast/multicast to UDP port {udp.DestinationPort}: no socket, dropped without ICMP");
                return;
            }
            var icmp = v6 ? "ICMPv6 port unreachable" : "ICMP port unreachable";
            if (v6) IPv6.Icmp6Send.Error(skb, t, IPv6.Icmp6Send.DestUnreach, 4, 0, $"{icmp} to {saddr} (port {udp.DestinationPort})");
            else IPv4.IcmpSend.Error(skb, t, IPv4.IcmpSend.DestUnreach, IPv4.IcmpSend.PortUnreach, 0, true, $"{icmp} to {saddr} (port {udp.DestinationPort})");
            t.Drop(skb, stage, fn, "NO_SOCKET", $"no socket for UDP port {udp.DestinationPort}: {icmp} sent to {saddr}");
            return;
        }
        t.Stage(skb, stage, fn, Verdict.Pass, $"socket {socket}");
        t.End(Fate.Delivered, fn);
        if (!broadcast) skb.State.LabSockets.Delivered(socket, daddr, udp.DestinationPort, saddr, udp.SourcePort);
    }

    [KernelSymbol("icmp_rcv", "net/ipv4/icmp.c")]
    private static void Icmp(SkBuff skb, TraceBuilder t, ReadOnlySpan<byte> segment, IpAddr saddr, bool broadcast)
    {
        if (!IcmpHeader.TryParse(segment, out var icmp, out var error))
        {
            t.Drop(skb, "IcmpRcv", "icmp_rcv", "PKT_TOO_SMALL", error ?? "ICMP header cut short");
            return;
        }
        // skb_checksum_simple_validate: ICMP has no pseudo-header, so the source stands in for both addresses
        if (SkbChecksum.Validate(skb, saddr, saddr, IpProtocol.Icmp, segment) is { Bad: true } csum) { t.Drop(skb, "IcmpRcv", "icmp_rcv", "ICMP_CSUM", "ICMP " + csum.Note); return; }
        var sys = skb.Netns.Sysctls;
        if (broadcast && icmp.Type is IcmpHeader.EchoRequest or IcmpHeader.Timestamp && sys.IsOn("net.ipv4.icmp_echo_ignore_broadcasts"))
        {
            t.Drop(skb, "IcmpRcv", "icmp_rcv", "INVALID_PROTO", "echo to a broadcast/multicast address ignored (net.ipv4.icmp_echo_ignore_broadcasts = 1)");
            return;
        }
        switch (icmp.Type)
        {
            case IcmpHeader.EchoRequest:
                if (sys.IsOn("net.ipv4.icmp_echo_ignore_all"))
                {
                    t.Stage(skb, "IcmpEcho", "icmp_echo", Verdict.Pass, "echo ignored (net.ipv4.icmp_echo_ignore_all = 1)");
                    t.End(Fate.Consumed, "icmp_echo (ignored)");
                    return;
                }
                IPv4.IcmpSend.Reply(skb, t, segment, $"ICMP echo reply to {saddr}, id {icmp.Identifier}, seq {icmp.SequenceNumber}");
                t.Stage(skb, "IcmpEcho", "icmp_echo", Verdict.Pass, $"echo request id {icmp.Identifier} seq {icmp.SequenceNumber}: the kernel answers with an echo reply");
                t.End(Fate.Delivered, "icmp_echo");
                return;
            case IcmpHeader.Timestamp:
                t.Generate($"ICMP timestamp reply to {saddr}, id {icmp.Identifier}, seq {icmp.SequenceNumber}");
                t.Stage(skb, "IcmpTimestamp", "icmp_timestamp", Verdict.Pass, "timestamp request: the kernel answers with a timestamp reply");
                t.End(Fate.Delivered, "icmp_timestamp");
                return;
            default:
                if (icmp.Type == IcmpHeader.DestUnreach && icmp.Code == IPv4.IcmpSend.FragNeeded && !broadcast) IPv4.IcmpUnreach.FragNeeded(skb, t, segment);
                if (icmp.IsError && !broadcast && segment.Length > 8) TcpErr.V4(skb, t, icmp.Type, icmp.Code, segment[8..]);
                t.Stage(skb, "IcmpRcv", "icmp_rcv", Verdict.Pass, $"ICMP type {icmp.Type} code {icmp.Code}{(icmp.IsError ? ": an error, handed to the quoted protocol's err_handler" : "")}");
                t.End(Fate.Delivered, "icmp_rcv");
                return;
        }
    }
}
