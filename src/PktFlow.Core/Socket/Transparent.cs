using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.Socket;

/// <summary>
/// Connections of transparent listeners: a SYN tproxy handed to a listener makes a request socket
/// for the address the client asked for (tcp_conn_request; inet_rsk->no_srccheck from
/// IP_TRANSPARENT), the handshake's ACK turns it into a full socket (tcp_check_req). The namespace
/// remembers them, because their local address is not one of its own.
/// </summary>
internal static class Transparent
{
    public static void Deliver(SkBuff skb, TraceBuilder t, Sock? assigned, byte protocol, IpAddr saddr, ushort sport, IpAddr daddr, ushort dport, TcpFlags flags)
    {
        var key = (protocol, daddr, dport, saddr, sport);
        var state = skb.State;
        bool syn = (flags & (TcpFlags.Syn | TcpFlags.Ack)) == TcpFlags.Syn;
        if (assigned?.Listener is { } l && syn && !state.TransparentConnections.ContainsKey(key) && !skb.Netns.IsLocalAddress(daddr))
        {
            state.TransparentConnections[key] = (l, false);
            SockLookup.Request(skb, l, key);
            state.ConnectedSockets.Add(key, skb.TimestampNs);
            t.Note($"a request socket {daddr}:{dport} <-> {saddr}:{sport} of {l}: the listener answers as {daddr}");
            return;
        }
        if (!syn && state.TransparentConnections.TryGetValue(key, out var tc) && !tc.Full)
            state.TransparentConnections[key] = (tc.Listener, true);
    }
}
