using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.IPv6;

/// <summary>
/// icmpv6_rcv for packet too big (type 2) received by this namespace: icmpv6_notify hands it to the
/// quoted packet's protocol. icmpv6_err (a quoted ICMPv6 packet, any type) updates the path MTU with
/// no socket at all (ip6_update_pmtu); udpv6_err and tcp_v6_err need the socket the quoted packet
/// came from (ip6_sk_update_pmtu, tcp_v6_mtu_reduced). A router forwarding the error learns nothing.
/// </summary>
public static class Icmpv6Notify
{
    [KernelSymbol("icmpv6_notify", "net/ipv6/icmp.c")]
    public static void PacketTooBig(SkBuff skb, TraceBuilder t, ReadOnlySpan<byte> message)
    {
        const string S = "Icmpv6Notify", F = "icmpv6_notify";
        uint mtu = BinaryPrimitives.ReadUInt32BigEndian(message[4..]);
        var quoted = message[8..];
        if (!Ipv6Header.TryParse(quoted, out var ip6, out _))
        {
            t.Stage(skb, S, F, Verdict.Pass, "packet too big quoting less than an IPv6 header: no protocol is told");
            return;
        }
        var about = $"packet too big (mtu {mtu}) for {ip6.Source} > {ip6.Destination}";
        var ns = skb.Netns;
        if (!ns.IsLocalAddress(ip6.Source))
        {
            t.Stage(skb, S, F, Verdict.Pass, $"{about}: {ip6.Source} is not an address of {ns.Name}, so no socket of it sent the quoted packet");
            return;
        }
        Ipv6ExtensionHeaders.Walk(ip6.NextHeader, quoted[Ipv6Header.HeaderLength..], out var chain);
        int at = Ipv6Header.HeaderLength + chain.UpperOffset;
        if (at + 8 > quoted.Length)
        {
            t.Stage(skb, S, F, Verdict.Pass, $"{about}: the quoted packet stops before 8 bytes of its upper layer: no protocol is told");
            return;
        }
        var l4 = quoted[at..];
        ushort a = BinaryPrimitives.ReadUInt16BigEndian(l4), b = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
        var sockets = skb.State.ConnectedSockets;
        var source = ip6.Source; // a ref struct's field, for the lambda below
        (bool learns, string who) = chain.UpperProtocol switch
        {
            IpProtocol.Icmpv6 => (true, $"a quoted ICMPv6 type {l4[0]}: icmpv6_err -> ip6_update_pmtu, no socket needed"),
            IpProtocol.Udp => sockets.Contains((IpProtocol.Udp, ip6.Source, a, ip6.Destination, b), skb.TimestampNs)
                    || skb.Netns.Sockets?.Any(s => s.Protocol == Topology.SocketProtocol.Udp && s.Accepts(source, a)) == true
                ? (true, $"the UDP socket [{ip6.Source}]:{a} takes it (udpv6_err -> ip6_sk_update_pmtu)")
                : (false, $"udpv6_err finds no socket for [{ip6.Source}]:{a} > [{ip6.Destination}]:{b}"),
            IpProtocol.Tcp => sockets.Contains((IpProtocol.Tcp, ip6.Source, a, ip6.Destination, b), skb.TimestampNs)
                ? (true, $"the TCP connection takes it (tcp_v6_err -> tcp_v6_mtu_reduced; its sequence taken to be in the window)")
                : (false, $"tcp_v6_err finds no connection [{ip6.Source}]:{a} > [{ip6.Destination}]:{b}"),
            _ => (false, ""),
        };
        if (who.Length == 0)
        {
            t.Stage(skb, S, F, Verdict.Pass, $"{about}: whether protocol {chain.UpperProtocol}'s err_handler updates the path MTU is not modelled");
            return;
        }
        string result = learns ? skb.State.Pmtu.Update(ns, ip6.Source, ip6.Destination, (int)Math.Min(mtu, int.MaxValue), skb.TimestampNs) : "nothing learned";
        t.Stage(skb, S, F, Verdict.Pass, $"{about}: {who}: {result}");
    }
}
