using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.Offload;

/// <summary>
/// A capture shows a GSO/GRO super-frame's bytes but not its gso_size, which decides whether its
/// segments fit an MTU. The sender chose it: for TCP, tcp_mtu_to_mss's min(path MTU - 40, the MSS
/// the peer advertised in its SYN) less the options every segment carries (TCP header - 20); for a
/// UDP_SEGMENT sender, its own choice, at most what fits its MTU. So the model remembers, per
/// namespace, the MSS seen in SYNs and the path MTU that ICMP frag needed / packet too big gave a
/// sender, and falls back to the MTU of the device the frame came by (the sender's side of the link).
/// </summary>
public static class GsoSizeInference
{
    /// <summary>
    /// The GSO info of a frame whose network length exceeds <paramref name="mtu"/> (or whose IPv4
    /// total length is 0), or null when it is no super-frame or no TCP/UDP one.
    /// </summary>
    /// <param name="mtu">The MTU on the sender's side: the arrival device's, or the output device's for a frame this host sent.</param>
    /// <param name="device">The device named in the explanation.</param>
    public static GsoInfo? Infer(GsoState state, ReadOnlySpan<byte> network, int mtu, string device, long nowNs)
    {
        bool totalLengthZero = network.Length >= 4 && network[0] >> 4 == 4 && network[2] == 0 && network[3] == 0;
        if (network.Length <= mtu && !totalLengthZero) return null; // the common case, before any parsing
        if (!Flow.TryRead(network, out var f) || f.Protocol is not (IpProtocol.Tcp or IpProtocol.Udp)) return null;
        int payload = network.Length - f.HeaderLength;
        if (payload <= 0) return null;
        int l3 = f.HeaderLength - f.L4HeaderLength;
        int? pmtu = state.PathMtu(f.Source, f.Destination, nowNs);
        int senderMtu = pmtu ?? mtu;
        string mtuText = pmtu is { } p ? $"path MTU {p} learnt from an ICMP error to {f.Source}" : $"{device}'s MTU {mtu}";
        if (f.Protocol == IpProtocol.Udp)
            return new GsoInfo(GsoType.UdpL4, senderMtu - f.HeaderLength, f.HeaderLength, payload,
                $"inferred gso_size {senderMtu - f.HeaderLength} from {mtuText} minus headers: a UDP_SEGMENT sender's largest");
        var type = f.V6 ? GsoType.TcpV6 : GsoType.TcpV4;
        // a BIG TCP jumbogram's hop-by-hop header is the stack's own, not in the MSS (but in the segment length it validates)
        int mss = senderMtu - (l3 - (f.JumboHbh ? JumboHbhLength : 0)) - TcpHeader.MinHeaderLength;
        string from = mtuText;
        if (state.PeerMss(f, nowNs) is { } peer && peer < mss) { mss = peer; from = $"the MSS {peer} {f.Destination} advertised in its SYN"; }
        int size = mss - (f.L4HeaderLength - TcpHeader.MinHeaderLength);
        return new GsoInfo(type, size, f.HeaderLength, payload,
            $"inferred gso_size {size} from {from}{(f.L4HeaderLength > TcpHeader.MinHeaderLength ? $" less {f.L4HeaderLength - TcpHeader.MinHeaderLength} bytes of TCP options" : "")}"
            + (f.JumboHbh ? "; a BIG TCP jumbogram: its hop-by-hop jumbo header counts in the segment length, each segment leaves without it" : ""))
            { JumboHbh = f.JumboHbh };
    }

    /// <summary>
    /// Learns from a packet crossing ip_rcv / ipv6_rcv: a TCP SYN's MSS (which limits the other end's
    /// segments), an ICMP frag needed / ICMPv6 packet too big (the path MTU its quoted sender will use).
    /// </summary>
    public static void Learn(GsoState state, ReadOnlySpan<byte> network, long nowNs)
    {
        if (!Flow.TryRead(network, out var f)) return;
        var l4 = network[(f.HeaderLength - f.L4HeaderLength)..];
        if (f.Protocol == IpProtocol.Tcp)
        {
            if (!TcpHeader.TryParse(l4, out var tcp, out _) || (tcp.Flags & TcpFlags.Syn) == 0 || tcp.Mss is not { } mss) return;
            state.SetPeerMss(new FlowKey(f.Destination, f.Source, f.DestinationPort, f.SourcePort), mss, nowNs);
            return;
        }
        bool tooBig = f.Protocol == IpProtocol.Icmp && l4.Length >= 8 && l4[0] == 3 && l4[1] == 4
            || f.Protocol == IpProtocol.Icmpv6 && l4.Length >= 8 && l4[0] == 2;
        if (!tooBig) return;
        int mtu = f.Protocol == IpProtocol.Icmp ? l4[6] << 8 | l4[7] : (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(l4[4..]);
        if (Flow.TryRead(l4[8..], out var quoted, quotedError: true) && mtu > 0)
            state.SetPathMtu(quoted.Source, quoted.Destination, mtu, nowNs);
    }

    /// <summary>The hop-by-hop header BIG TCP puts before TCP in an IPv6 packet over 64 KiB: 8 bytes, the jumbo option alone.</summary>
    internal const int JumboHbhLength = 8;

    /// <summary>
    /// ipv6_has_hopopt_jumbo: payload length 0, a hop-by-hop header of 8 bytes holding only the jumbo
    /// payload option (type 0xC2, length 4) right after its two bytes, and TCP next.
    /// </summary>
    [KernelSymbol("ipv6_has_hopopt_jumbo", "include/net/ipv6.h")]
    internal static bool HasHopoptJumbo(ReadOnlySpan<byte> network) =>
        network.Length >= Ipv6Header.HeaderLength + JumboHbhLength && network[4] == 0 && network[5] == 0 && network[6] == IpProtocol.HopByHop
        && network[40] == IpProtocol.Tcp && network[41] == 0 && network[42] == 0xC2 && network[43] == 4;

    internal readonly record struct FlowKey(IpAddr Source, IpAddr Destination, ushort SourcePort, ushort DestinationPort);

    /// <summary>The few fields of an IPv4/IPv6 TCP or UDP packet the inference reads.</summary>
    internal readonly record struct Flow(bool V6, IpAddr Source, IpAddr Destination, byte Protocol, int HeaderLength, int L4HeaderLength,
        ushort SourcePort, ushort DestinationPort, bool TotalLengthZero, bool JumboHbh = false)
    {
        /// <param name="quotedError">The packet is quoted in an ICMP error: only the addresses are needed (it may be cut short).</param>
        public static bool TryRead(ReadOnlySpan<byte> network, out Flow flow, bool quotedError = false)
        {
            flow = default;
            if (network.Length < 1) return false;
            int version = network[0] >> 4;
            if (version == 4 && Ipv4Header.TryParse(network, out var ip, out _))
            {
                if (quotedError) { flow = new Flow(false, ip.Source, ip.Destination, ip.Protocol, ip.HeaderLength, 0, 0, 0, false); return true; }
                if (ip.IsFragment) return false;
                return Transport(false, ip.Source, ip.Destination, ip.Protocol, ip.HeaderLength, network, ip.TotalLengthZero, out flow);
            }
            if (version == 6 && Ipv6Header.TryParse(network, out var ip6, out _))
            {
                if (quotedError) { flow = new Flow(true, ip6.Source, ip6.Destination, ip6.NextHeader, Ipv6Header.HeaderLength, 0, 0, 0, false); return true; }
                // other extension headers are not walked: such a frame is not inferred
                if (HasHopoptJumbo(network))
                {
                    if (!Transport(true, ip6.Source, ip6.Destination, IpProtocol.Tcp, Ipv6Header.HeaderLength + JumboHbhLength, network, false, out flow)) return false;
                    flow = flow with { JumboHbh = true };
                    return true;
                }
                return Transport(true, ip6.Source, ip6.Destination, ip6.NextHeader, Ipv6Header.HeaderLength, network, false, out flow);
            }
            return false;
        }

        private static bool Transport(bool v6, IpAddr src, IpAddr dst, byte proto, int l3, ReadOnlySpan<byte> network, bool zero, out Flow flow)
        {
            flow = default;
            var l4 = network[l3..];
            if (proto == IpProtocol.Tcp && TcpHeader.TryParse(l4, out var tcp, out _))
                flow = new Flow(v6, src, dst, proto, l3 + tcp.HeaderLength, tcp.HeaderLength, tcp.SourcePort, tcp.DestinationPort, zero);
            else if (proto == IpProtocol.Udp && UdpHeader.TryParse(l4, out var udp, out _))
                flow = new Flow(v6, src, dst, proto, l3 + UdpHeader.HeaderLength, UdpHeader.HeaderLength, udp.SourcePort, udp.DestinationPort, zero);
            else if (proto is IpProtocol.Icmp or IpProtocol.Icmpv6 && l4.Length >= 8)
                flow = new Flow(v6, src, dst, proto, l3 + 8, 8, 0, 0, zero);
            else return false;
            return true;
        }
    }
}
