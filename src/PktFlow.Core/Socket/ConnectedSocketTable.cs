using PktFlow.Netfilter.Conntrack;
using PktFlow.Wire;

namespace PktFlow.Socket;

/// <summary>
/// Connected sockets learned from the capture: a TCP/UDP packet sent from a namespace (its source
/// address is local there) shows a socket bound to that 4-tuple, keyed (protocol, local, local port,
/// remote, remote port). Connections are not in a lab file, so the capture is all the model knows of
/// them: a socket nothing was sent or received on for longer than conntrack keeps an established flow
/// of its protocol (nf_conntrack_tcp_timeout_established, 5 days; nf_conntrack_udp_timeout_stream,
/// 120 s) is taken to be gone, so a long capture does not keep one per flow it ever saw.
/// </summary>
public sealed class ConnectedSocketTable
{
    private readonly Dictionary<(byte Protocol, IpAddr Local, ushort LocalPort, IpAddr Remote, ushort RemotePort), long> _lastUsedNs = new();
    private readonly ConntrackSettings _timeouts;
    private long _nextSweepNs = long.MinValue;
    /// <summary>How often (capture time) idle sockets are swept.</summary>
    private const long SweepIntervalNs = 10_000_000_000;

    public ConnectedSocketTable(ConntrackSettings timeouts) => _timeouts = timeouts;

    /// <summary>Sockets remembered (including idle ones not swept yet).</summary>
    public int Count => _lastUsedNs.Count;

    /// <summary>The socket sent at capture time <paramref name="nowNs"/>.</summary>
    public void Add((byte Protocol, IpAddr Local, ushort LocalPort, IpAddr Remote, ushort RemotePort) socket, long nowNs)
    {
        // frames of a capture may be slightly out of order: a socket's last use never moves back
        _lastUsedNs[socket] = _lastUsedNs.TryGetValue(socket, out var last) ? Math.Max(last, nowNs) : nowNs;
        Sweep(nowNs);
    }

    /// <summary>The socket closed (a TCP connection's reset or end of TIME_WAIT).</summary>
    public void Remove((byte Protocol, IpAddr Local, ushort LocalPort, IpAddr Remote, ushort RemotePort) socket) => _lastUsedNs.Remove(socket);

    /// <summary>Whether the socket is there and still in use at <paramref name="nowNs"/>; a packet it receives keeps it so.</summary>
    public bool Contains((byte Protocol, IpAddr Local, ushort LocalPort, IpAddr Remote, ushort RemotePort) socket, long nowNs)
    {
        if (!_lastUsedNs.TryGetValue(socket, out var last) || Idle(socket.Protocol, nowNs - last)) return false;
        if (nowNs > last) _lastUsedNs[socket] = nowNs;
        return true;
    }

    private bool Idle(byte protocol, long forNs) =>
        forNs > (protocol == IpProtocol.Tcp ? _timeouts.TcpTimeoutEstablished : _timeouts.UdpTimeoutStream) * 1_000_000_000L;

    private void Sweep(long nowNs)
    {
        if (nowNs < _nextSweepNs) return;
        _nextSweepNs = nowNs + SweepIntervalNs;
        List<(byte, IpAddr, ushort, IpAddr, ushort)>? dead = null;
        foreach (var (socket, last) in _lastUsedNs)
            if (Idle(socket.Protocol, nowNs - last)) (dead ??= []).Add(socket);
        if (dead is not null) foreach (var s in dead) _lastUsedNs.Remove(s);
    }
}
