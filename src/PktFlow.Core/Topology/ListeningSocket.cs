using PktFlow.Wire;

namespace PktFlow.Topology;

public enum SocketProtocol { Tcp, Udp }

/// <summary>
/// What the program behind a UDP socket does with it once the first datagram arrives (socat's address
/// types, checked with ss -uan): UDP-RECV keeps it unconnected; UDP-LISTEN connect()s it to that
/// datagram's sender (ESTAB; udp4_lib_lookup then finds it for that peer only); UDP-RECVFROM without
/// fork reads one datagram and exits (the socket is closed). With fork, the first two are what the
/// child does with a socket of its own while the parent's stays unconnected.
/// </summary>
public enum UdpFirstDatagram { Stays, Connects, Closes }

/// <summary>
/// A socket listening in a namespace (what `ss -tulnHe` lists): TCP listeners and bound UDP sockets.
/// <see cref="Family"/> null means an IPv6 socket that also takes IPv4 (v6only off).
/// </summary>
public sealed record ListeningSocket(SocketProtocol Protocol, int Port, IpAddr? BindAddress, IpFamily? Family, string Source)
{
    /// <summary>IP_TRANSPARENT (socat ip-transparent): tproxy may hand it packets for any address.</summary>
    public bool Transparent { get; init; }
    /// <summary>SO_MARK: sk_mark, what `socket mark` and `-m socket --restore-skmark` read, and the
    /// skb->mark (and the output route lookup's flowi4_mark) of its SYN-ACKs and connections.</summary>
    public uint Mark { get; init; }
    /// <summary>SO_PRIORITY: skb->priority of its SYN-ACKs (`meta priority` in output); accepted connections do not inherit it.</summary>
    public uint Priority { get; init; }
    /// <summary>SO_MARK / SO_PRIORITY set on each accepted connection only (socat's setsockopt-int, applied
    /// after accept()): the SYN-ACK, sent for the listener, does not have them.</summary>
    public uint? AcceptedMark { get; init; }
    public uint? AcceptedPriority { get; init; }
    /// <summary>
    /// The owner (fsuid/fsgid of the process that opened it): a lab's commands run as root unless
    /// setpriv says otherwise; a snapshot's `ss -e` gives the uid only (null: not known).
    /// </summary>
    public uint? Uid { get; init; } = 0;
    public uint? Gid { get; init; } = 0;
    /// <summary>UDP: what the program does with the socket at its first datagram (<see cref="UdpFirstDatagram"/>).</summary>
    public UdpFirstDatagram FirstDatagram { get; init; }
    /// <summary>socat's fork: a child per connection (TCP) or per peer (UDP-LISTEN) while the socket itself stays.</summary>
    public bool Fork { get; init; }

    /// <summary>Bound to the wildcard address (INADDR_ANY / in6addr_any): inet_rcv_saddr 0.</summary>
    public bool Wildcard => BindAddress is not { } b || b.IsZero;

    /// <summary>Would a packet to this address and port find this socket (inet_lookup_listener / udp4_lib_lookup)?</summary>
    public bool Accepts(IpAddr destination, int port)
    {
        if (port != Port) return false;
        if (Family is { } f && f != destination.Family) return false;
        if (Family is null && BindAddress is null) return true;
        return BindAddress is not { } b || b.IsZero || b == destination;
    }

    public override string ToString() =>
        $"{Protocol.ToString().ToLowerInvariant()} {(BindAddress is { } b ? (b.IsV6 ? $"[{b}]" : b.ToString()) : Family == IpFamily.V4 ? "0.0.0.0" : "*")}:{Port}{(Transparent ? " transparent" : "")}{(Mark != 0 ? $" mark 0x{Mark:x}" : "")}{(AcceptedMark is { } am ? $" accepted mark 0x{am:x}" : "")}{(Priority != 0 ? $" priority {Priority}" : "")}{(AcceptedPriority is { } ap ? $" accepted priority {ap}" : "")}{(Uid is not 0 ? $" uid {Uid?.ToString() ?? "?"}" : "")} ({Source})";
}
