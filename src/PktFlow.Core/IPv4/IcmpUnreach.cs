using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.IPv4;

/// <summary>
/// icmp_unreach for fragmentation needed (type 3 code 4) received by this namespace: the quoted
/// packet's protocol decides, in icmp_socket_deliver, whether the path MTU is learned. raw_icmp_error
/// hands it to raw sockets of that protocol (ping as root: raw_err -> ipv4_sk_update_pmtu); then the
/// protocol's err_handler: icmp_err learns for a quoted echo reply with no socket at all
/// (ipv4_update_pmtu) and leaves the rest to ping_err, which needs the ping socket; udp_err and
/// tcp_v4_err need the socket the quoted packet came from. A router forwarding the error learns
/// nothing: only local delivery gets here.
/// </summary>
public static class IcmpUnreach
{
    [KernelSymbol("icmp_unreach", "net/ipv4/icmp.c")]
    public static void FragNeeded(SkBuff skb, TraceBuilder t, ReadOnlySpan<byte> message)
    {
        const string S = "IcmpUnreach", F = "icmp_unreach";
        int mtu = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        var quoted = message[8..];
        if (!Ipv4Header.TryParse(quoted, out var ip, out _) || quoted.Length < ip.HeaderLength + 8)
        {
            t.Stage(skb, S, F, Verdict.Pass, "fragmentation needed quoting less than an IP header and 8 bytes: no protocol is told (icmp_socket_deliver)");
            return;
        }
        var ns = skb.Netns;
        var about = $"fragmentation needed (mtu {mtu}) for {ip.Source} > {ip.Destination}";
        switch (int.TryParse(ns.Sysctls.Get("net.ipv4.ip_no_pmtu_disc"), out var n) ? n : 0)
        {
            case 2:
                t.Stage(skb, S, F, Verdict.Pass, $"{about}: ignored (net.ipv4.ip_no_pmtu_disc = 2)");
                return;
            case 3 when ip.Protocol != IpProtocol.Tcp:
                t.Stage(skb, S, F, Verdict.Pass, $"{about}: ignored for protocol {ip.Protocol} (net.ipv4.ip_no_pmtu_disc = 3 trusts only protocols that validate the quoted packet, TCP)");
                return;
            case 1:
                mtu = 0; // info stays 0: the error still reaches the protocol, with no mtu
                about += " (net.ipv4.ip_no_pmtu_disc = 1: the mtu is not read)";
                break;
        }
        if (!ns.IsLocalAddress(ip.Source))
        {
            t.Stage(skb, S, F, Verdict.Pass, $"{about}: {ip.Source} is not an address of {ns.Name}, so no socket of it sent the quoted packet");
            return;
        }
        if (Handler(skb, ip, quoted[ip.HeaderLength..]) is not var (learns, who))
        {
            t.Stage(skb, S, F, Verdict.Pass, $"{about}: whether protocol {ip.Protocol}'s err_handler updates the path MTU is not modelled");
            return;
        }
        string result = learns ? skb.State.Pmtu.Update(ns, ip.Source, ip.Destination, mtu, skb.TimestampNs) : "nothing learned";
        t.Stage(skb, S, F, Verdict.Pass, $"{about}: {who}: {result}");
    }

    /// <summary>Whether the quoted packet's err handler updates the path MTU, and why; null for a protocol the model does not know.</summary>
    private static (bool Learns, string Who)? Handler(SkBuff skb, Ipv4Header ip, ReadOnlySpan<byte> l4)
    {
        var sockets = skb.State.ConnectedSockets;
        long now = skb.TimestampNs;
        ushort a = BinaryPrimitives.ReadUInt16BigEndian(l4), b = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
        switch (ip.Protocol)
        {
            case IpProtocol.Icmp when l4[0] == IcmpHeader.EchoRequest:
                ushort id = BinaryPrimitives.ReadUInt16BigEndian(l4[4..]);
                return sockets.Contains((IpProtocol.Icmp, ip.Source, id, ip.Destination, 0), now)
                    ? (true, $"the ping socket that sent echo request id {id} (seen in the capture) takes it (raw_err / ping_err -> ipv4_sk_update_pmtu)")
                    : (false, $"no ping socket sent echo request id {id} in the capture: ping_err finds none");
            case IpProtocol.Icmp when l4[0] == IcmpHeader.EchoReply:
                return (true, "a quoted echo reply is the kernel's own: icmp_err -> ipv4_update_pmtu, no socket needed");
            case IpProtocol.Icmp:
                return (false, $"a quoted ICMP type {l4[0]}: icmp_err leaves it to ping_err, which finds no socket");
            case IpProtocol.Udp:
                return sockets.Contains((IpProtocol.Udp, ip.Source, a, ip.Destination, b), now) || Listens(skb, Topology.SocketProtocol.Udp, ip.Source, a)
                    ? (true, $"the UDP socket {ip.Source}:{a} takes it (udp_err -> ipv4_sk_update_pmtu)")
                    : (false, $"udp_err finds no socket for {ip.Source}:{a} > {ip.Destination}:{b}");
            case IpProtocol.Tcp:
                // tcp_v4_err also drops errors whose quoted sequence is outside the window; the model takes it as inside
                return sockets.Contains((IpProtocol.Tcp, ip.Source, a, ip.Destination, b), now)
                    ? (true, $"the TCP connection {ip.Source}:{a} > {ip.Destination}:{b} takes it (tcp_v4_err -> tcp_v4_mtu_reduced; its sequence taken to be in the window)")
                    : (false, $"tcp_v4_err finds no connection {ip.Source}:{a} > {ip.Destination}:{b}");
            default:
                return null;
        }
    }

    private static bool Listens(SkBuff skb, Topology.SocketProtocol protocol, IpAddr local, int port) =>
        skb.Netns.Sockets?.Any(s => s.Protocol == protocol && s.Accepts(local, port)) == true;
}
