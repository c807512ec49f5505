using PktFlow.Wire;

namespace PktFlow.Socket;

/// <summary>
/// ir_mark of the connection requests a listener without SO_MARK took while net.ipv4.tcp_fwmark_accept
/// was on (inet_request_mark: the SYN's skb->mark), keyed (protocol, local, local port, remote, remote
/// port): the SYN-ACK is sent with it and the accepted socket keeps it as sk_mark (inet_csk_clone_lock).
/// Requests whose SYN had no mark are not kept; the oldest are forgotten past <see cref="Capacity"/>.
/// </summary>
public sealed class RequestMarks
{
    private readonly Dictionary<(byte, IpAddr, ushort, IpAddr, ushort), uint> _marks = new();
    private readonly Queue<(byte, IpAddr, ushort, IpAddr, ushort)> _order = new();
    /// <summary>Bound on remembered requests (a capture with many marked connections must not grow memory).</summary>
    public const int Capacity = 4096;

    public int Count => _marks.Count;

    public void Add((byte Protocol, IpAddr Local, ushort LocalPort, IpAddr Remote, ushort RemotePort) request, uint mark)
    {
        if (_marks.TryAdd(request, mark)) _order.Enqueue(request);
        else _marks[request] = mark;
        while (_marks.Count > Capacity && _order.TryDequeue(out var old)) _marks.Remove(old);
    }

    public uint? Get((byte Protocol, IpAddr Local, ushort LocalPort, IpAddr Remote, ushort RemotePort) request) =>
        _marks.TryGetValue(request, out var m) ? m : null;
}
