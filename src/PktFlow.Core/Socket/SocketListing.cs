using System.Globalization;
using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Socket;

/// <summary>
/// A socket of a namespace after a replay, shaped like a line of <c>ss -tan</c> / <c>ss -uan</c>: the
/// lab's TCP listeners (LISTEN; one its program closed is gone) and the connections the replay made or
/// met, with the state their own socket is in at the last frame (SYN_SENT, SYN_RECV, ESTABLISHED,
/// FIN_WAIT1, FIN_WAIT2, CLOSING, CLOSE_WAIT, LAST_ACK, TIME_WAIT; a closed one is gone); then the
/// lab's UDP sockets, UNCONN or, once their program connected them to a peer, ESTABLISHED
/// (<see cref="LabSocketLife"/>).
/// </summary>
public sealed record SocketListing
{
    public required string Namespace { get; init; }
    /// <summary>tcp or udp.</summary>
    public string Protocol { get; init; } = "tcp";
    /// <summary>LISTEN or the kernel's name of the connection's state (TCP_TIME_WAIT: TIME_WAIT); for UDP, UNCONN or ESTABLISHED (connected).</summary>
    public required string State { get; init; }
    /// <summary>Local address and port (<c>10.1.0.1:9000</c>, <c>[2001:db8::1]:80</c>, <c>*:8080</c> for a wildcard listener).</summary>
    public required string Local { get; init; }
    /// <summary>Peer address and port; <c>*:*</c> for a listener.</summary>
    public required string Peer { get; init; }
    /// <summary>The listener a connection was accepted from (its child), or the lab listener itself.</summary>
    public string? Listener { get; init; }
    /// <summary>IP_TRANSPARENT (tw_transparent for a TIME_WAIT socket).</summary>
    public bool Transparent { get; init; }
    /// <summary>For TIME_WAIT: the time left on its timer at the replay's last frame (ss -o: timer:(timewait,...)).</summary>
    public TimeSpan? Timer { get; init; }
    /// <summary>snd_nxt and rcv_nxt as the capture showed them (null when it did not).</summary>
    public uint? SndNxt { get; init; }
    public uint? RcvNxt { get; init; }

    public static IEnumerable<SocketListing> List(NetNamespace ns, NamespaceState s, long nowNs)
    {
        foreach (var l in ns.Sockets ?? [])
            if (l.Protocol == SocketProtocol.Tcp && !s.LabSockets.Closed(l))
                yield return new SocketListing
                {
                    Namespace = s.Name, State = "LISTEN", Local = Endpoint(l.BindAddress, l.Port), Peer = "*:*",
                    Listener = l.ToString(), Transparent = l.Transparent,
                };
        foreach (var (key, sock) in s.TcpSocks.Alive(nowNs).OrderBy(x => x.Sock.SinceNs))
        {
            bool tw = sock.State == TcpSockState.TimeWait;
            yield return new SocketListing
            {
                Namespace = s.Name, State = TcpSock.StateName(sock.State),
                Local = Endpoint(key.Local, key.LocalPort), Peer = Endpoint(key.Remote, key.RemotePort),
                Listener = sock.Listener?.ToString(),
                Transparent = s.TransparentConnections.TryGetValue(key, out var tc) ? tc.Listener.Transparent : sock.Listener?.Transparent ?? false,
                Timer = tw ? TimeSpan.FromTicks((sock.SinceNs + TcpSockTable.TimeWaitLenNs - nowNs) / 100) : null,
                SndNxt = sock.SndNxt, RcvNxt = sock.RcvNxt,
            };
        }
        // the UDP socket each vxlan port has while a device on it is up (vxlan_sock_add), bound to the wildcard address
        foreach (var (port, v6) in ns.Devices.Where(d => d.Vxlan is not null && d.IsUp).Select(d => (d.Vxlan!.DstPort, Tunnel.VxlanRcv.IsV6(d.Vxlan))).Distinct())
            yield return new SocketListing
            {
                Namespace = s.Name, Protocol = "udp", State = "UNCONN", Local = Endpoint(v6 ? IpAddr.V6(0, 0) : IpAddr.V4(0), port), Peer = "*:*",
                Listener = $"vxlan port {port}",
            };
        foreach (var (u, tuple) in s.LabSockets.Udp(ns.Sockets ?? []))
            yield return new SocketListing
            {
                Namespace = s.Name, Protocol = "udp", State = tuple is null ? "UNCONN" : "ESTABLISHED",
                Local = tuple is { } t ? Endpoint(t.Local, t.LocalPort) : Endpoint(u.BindAddress, u.Port),
                Peer = tuple is { } p ? Endpoint(p.Peer, p.PeerPort) : "*:*", Listener = u.ToString(), Transparent = u.Transparent,
            };
    }

    private static string Endpoint(IpAddr? address, int port)
    {
        var a = address is not { } x || x.IsZero ? "*" : x.IsV6 ? $"[{x}]" : x.ToString();
        return string.Create(CultureInfo.InvariantCulture, $"{a}:{port}");
    }
}
