using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Tunnel;

/// <summary>
/// FOU and GUE receive (net/ipv4/fou_core.c): a UDP datagram to a port made by `ip fou add` goes to the
/// socket's encap_rcv after udp_rcv checked its checksum; the UDP (and GUE) header is pulled and the
/// payload is handed back to ip_protocol_deliver_rcu as the protocol the port or GUE header names.
/// </summary>
public static class FouRcv
{
    /// <summary>The FOU port a datagram is for, or null (then an ordinary socket lookup follows).</summary>
    public static FouPort? PortFor(NetNamespace ns, IpAddr daddr, ushort dport) =>
        ns.FouPorts.FirstOrDefault(f => f.Port == dport && f.V6 == daddr.IsV6 && (f.Local is null || f.Local == daddr));

    /// <summary>
    /// Runs the encap_rcv of <paramref name="port"/>. Returns the protocol to resubmit and the payload
    /// (the inner packet), or null when the datagram was dropped (the trace then has its fate).
    /// </summary>
    public static byte? EncapRcv(SkBuff skb, TraceBuilder t, FouPort port, ReadOnlySpan<byte> udpPayload, out ReadOnlySpan<byte> inner) =>
        port.Gue ? GueUdpRecv(skb, t, port, udpPayload, out inner) : FouUdpRecv(skb, t, port, udpPayload, out inner);

    [KernelSymbol("fou_udp_recv", "net/ipv4/fou_core.c")]
    private static byte? FouUdpRecv(SkBuff skb, TraceBuilder t, FouPort port, ReadOnlySpan<byte> udpPayload, out ReadOnlySpan<byte> inner)
    {
        inner = udpPayload;
        PullOuterLength(skb, UdpHeader.HeaderLength);
        t.Stage(skb, "FouUdpRecv", "fou_udp_recv", Verdict.Pass, $"{port}: UDP header pulled, resubmitted as IP protocol {port.Protocol} ({IpProtocol.Name(port.Protocol) ?? "?"})");
        return port.Protocol;
    }

    [KernelSymbol("gue_udp_recv", "net/ipv4/fou_core.c")]
    private static byte? GueUdpRecv(SkBuff skb, TraceBuilder t, FouPort port, ReadOnlySpan<byte> udpPayload, out ReadOnlySpan<byte> inner)
    {
        inner = default;
        if (!GueHeader.TryParse(udpPayload, out var gue))
            return Drop(skb, t, $"{udpPayload.Length} bytes after the UDP header: no room for a GUE header");
        switch (gue.Variant)
        {
            case 0:
                break;
            case 1:
                // Variant 1: the payload is the inner IP packet itself; its version nibble names it.
                byte prot = gue.InnerIpVersion switch { 4 => IpProtocol.IpIp, 6 => IpProtocol.Ipv6, _ => 0 };
                if (prot == 0) return Drop(skb, t, $"GUE variant 1 with IP version {gue.InnerIpVersion}");
                inner = udpPayload;
                PullOuterLength(skb, UdpHeader.HeaderLength);
                t.Stage(skb, "GueUdpRecv", "gue_udp_recv", Verdict.Pass, $"{port}: GUE variant 1 (direct IPv{gue.InnerIpVersion}), resubmitted as IP protocol {prot}");
                return prot;
            default:
                return Drop(skb, t, $"GUE variant {gue.Variant} is undefined");
        }
        int optlen = gue.Hlen * 4, len = GueHeader.HeaderLength + optlen;
        if (udpPayload.Length < len) return Drop(skb, t, $"GUE header with {optlen} bytes of extensions is cut short");
        // validate_gue_flags: only the private-flags flag exists, and its field must fit in hlen.
        if ((gue.Flags & ~GueHeader.FlagPrivate) != 0) return Drop(skb, t, $"unknown GUE flags 0x{gue.Flags:x4}");
        if ((gue.Flags & GueHeader.FlagPrivate) != 0)
        {
            if (optlen < 4) return Drop(skb, t, "GUE private flags announced but hlen leaves no room for them");
            t.Unsupported(skb, "GUE private flags (remote checksum offload) are not modelled");
            return null;
        }
        if (gue.Control) return Drop(skb, t, "GUE control message (gue_control_message: no support yet)");
        inner = udpPayload[len..];
        PullOuterLength(skb, UdpHeader.HeaderLength + len);
        t.Stage(skb, "GueUdpRecv", "gue_udp_recv", Verdict.Pass, $"{port}: GUE header ({len} bytes) pulled, resubmitted as IP protocol {gue.ProtoCtype} ({IpProtocol.Name(gue.ProtoCtype) ?? "?"})");
        return gue.ProtoCtype;
    }

    /// <summary>
    /// fou_recv_pull and gue_udp_recv take what they pull off the outer IPv4 header's tot_len and leave
    /// its checksum as it was: an ICMP error for the resubmitted packet (no handler for the protocol)
    /// quotes the outer header so, followed by everything from it to the end of the skb.
    /// </summary>
    private static void PullOuterLength(SkBuff skb, int pulled)
    {
        var nh = skb.Network;
        if (nh.Length < 20 || nh[0] >> 4 != 4) return;
        ushort total = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(nh[2..]);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(nh[2..], (ushort)Math.Max(0, total - pulled));
    }

    private static byte? Drop(SkBuff skb, TraceBuilder t, string why)
    {
        t.Drop(skb, "GueUdpRecv", "gue_udp_recv", "NOT_SPECIFIED", why);
        return null;
    }
}
