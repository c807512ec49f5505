using PktFlow.Wire;

namespace PktFlow.Topology;

/// <summary>
/// A socket a namespace holds connected to one peer: what `ss -tun` lists as ESTAB (and the other
/// non-listening states) for TCP and connected UDP, or what a lab's traffic script opens (socat
/// TCP:/UDP: with sourceport=, ping -e ID). It names who sends a flow, which a capture behind source
/// NAT cannot show. For ICMP, <see cref="LocalPort"/> is the echo identifier and <see cref="RemotePort"/> 0.
/// </summary>
/// <param name="Local">The bound address; null when the command leaves it to the route's source address.</param>
/// <param name="Source">Where it was declared: `traffic.sh:7: socat`, `c2/ss-connected.txt:3: ss`.</param>
public sealed record ClientSocket(byte Protocol, IpAddr? Local, ushort LocalPort, IpAddr Remote, ushort RemotePort, string Source)
{
    /// <summary>
    /// Its place in a traffic script, whose commands run one after another (each step's packets over
    /// before the next): sockets of the same script were opened in this order. Null when not known
    /// (a snapshot's `ss` lists the sockets held at one moment).
    /// </summary>
    public int? Order { get; init; }

    /// <summary>
    /// How long the command waits for a TCP connect to complete (socat's connect-timeout=, or the
    /// `timeout N` it runs under, whichever is shorter): then it closes the socket or is killed, and a
    /// socket still in SYN_SENT goes to CLOSE without a segment (tcp_close_state). Null: the kernel's own
    /// SYN retries decide.
    /// </summary>
    public TimeSpan? ConnectTimeout { get; init; }

    /// <summary>Whether a packet this namespace sends from <paramref name="local"/>:<paramref name="localPort"/>
    /// to <paramref name="remote"/>:<paramref name="remotePort"/> (ICMP: echo id, any remote port) is this socket's.</summary>
    public bool Sends(byte protocol, IpAddr local, ushort localPort, IpAddr remote, ushort remotePort) =>
        protocol == Protocol && localPort == LocalPort && remote == Remote
        && (Local is not { } l || l.IsZero || l == local)
        && (IsIcmp || remotePort == RemotePort);

    public bool IsIcmp => Protocol is IpProtocol.Icmp or IpProtocol.Icmpv6;

    /// <summary>The socket as `ss` would print it, with <paramref name="local"/> for an address the command left to the route.</summary>
    public string Describe(IpAddr? local = null)
    {
        var l = Local is { IsZero: false } b ? b : local;
        string Ep(IpAddr? a, int port) => $"{(a is not { } x ? "*" : x.IsV6 ? $"[{x}]" : x.ToString())}:{port}";
        return IsIcmp
            ? $"{(Protocol == IpProtocol.Icmp ? "icmp" : "icmpv6")} echo id {LocalPort} {(l?.ToString() ?? "*")} -> {Remote}"
            : $"{(Protocol == IpProtocol.Tcp ? "tcp" : "udp")} {Ep(l, LocalPort)} -> {Ep(Remote, RemotePort)}";
    }

    public override string ToString() => $"{Describe()} ({Source})";
}
