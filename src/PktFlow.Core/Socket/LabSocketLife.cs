using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Socket;

/// <summary>
/// What the programs behind the lab's sockets did with them during a replay (socat's address types,
/// checked against ss -tan / ss -uan in a namespace): a TCP listener without fork is closed once it
/// accepted its connection; a UDP socket is connect()ed to its first datagram's sender (UDP-LISTEN)
/// or closed after reading it (UDP-RECVFROM), or, with fork, a child does so with a socket of its own
/// (<see cref="UdpFirstDatagram"/>). The UDP lookup then goes as udp4_lib_lookup scores sockets: a
/// connected socket takes its own peer's datagrams only, a closed one none.
/// </summary>
public sealed class LabSocketLife
{
    private readonly HashSet<ListeningSocket> _closed = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<ListeningSocket, (IpAddr Local, ushort LocalPort, IpAddr Peer, ushort PeerPort)> _connected = new(ReferenceEqualityComparer.Instance);
    private readonly List<(ListeningSocket Parent, (IpAddr Local, ushort LocalPort, IpAddr Peer, ushort PeerPort) Tuple)> _children = new();

    /// <summary>Whether the program closed <paramref name="s"/> (an accepting listener without fork, UDP-RECVFROM after its datagram).</summary>
    public bool Closed(ListeningSocket s) => _closed.Contains(s);

    /// <summary>tcp_check_req made a child of <paramref name="listener"/>: socat without fork accepts it and closes the listener.</summary>
    public void Accepted(ListeningSocket? listener)
    {
        if (listener is { Protocol: SocketProtocol.Tcp, Fork: false }) _closed.Add(listener);
    }

    /// <summary>
    /// udp4_lib_lookup / udp6_lib_lookup over the lab's UDP sockets for a datagram from
    /// <paramref name="saddr"/>:<paramref name="sport"/> to <paramref name="daddr"/>:<paramref name="dport"/>:
    /// a socket connected to that peer first (the highest score), then one bound to the address, then a
    /// wildcard one; a connected socket does not take another peer's datagrams, a closed one none.
    /// </summary>
    public ListeningSocket? UdpLookup(IReadOnlyList<ListeningSocket> sockets, IpAddr daddr, ushort dport, IpAddr saddr, ushort sport)
    {
        var tuple = (daddr, dport, saddr, sport);
        foreach (var (parent, t) in _children)
            if (t == tuple) return parent;
        // compute_score: a socket connected to this peer beats one bound to the address, which beats the wildcard
        ListeningSocket? bound = null, wildcard = null;
        foreach (var s in sockets)
        {
            if (s.Protocol != SocketProtocol.Udp || _closed.Contains(s) || !s.Accepts(daddr, dport)) continue;
            if (_connected.TryGetValue(s, out var c))
            {
                if (c == tuple) return s;
                continue;
            }
            if (!s.Wildcard) bound ??= s;
            else wildcard ??= s;
        }
        return bound ?? wildcard;
    }

    /// <summary>The datagram of <paramref name="daddr"/>:<paramref name="dport"/> from <paramref name="saddr"/>:<paramref name="sport"/> was delivered to <paramref name="s"/>: what its program does next.</summary>
    public void Delivered(ListeningSocket s, IpAddr daddr, ushort dport, IpAddr saddr, ushort sport)
    {
        var tuple = (daddr, dport, saddr, sport);
        if (_connected.ContainsKey(s)) return;
        foreach (var (_, t) in _children)
            if (t == tuple) return;
        switch (s.FirstDatagram)
        {
            case UdpFirstDatagram.Connects when s.Fork: _children.Add((s, tuple)); break;
            case UdpFirstDatagram.Connects: _connected[s] = tuple; break; // ip4_datagram_connect: the local address becomes the datagram's
            case UdpFirstDatagram.Closes when !s.Fork: _closed.Add(s); break;
        }
    }

    /// <summary>The UDP sockets as ss -uan lists them: (socket, connected tuple or null for an unconnected one), closed ones left out.</summary>
    public IEnumerable<(ListeningSocket Socket, (IpAddr Local, ushort LocalPort, IpAddr Peer, ushort PeerPort)? Tuple)> Udp(IEnumerable<ListeningSocket> sockets)
    {
        foreach (var s in sockets)
        {
            if (s.Protocol != SocketProtocol.Udp || _closed.Contains(s)) continue;
            yield return (s, _connected.TryGetValue(s, out var c) ? c : null);
            foreach (var (parent, t) in _children)
                if (ReferenceEquals(parent, s)) yield return (s, t);
        }
    }
}
