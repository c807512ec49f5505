using System.Buffers.Binary;

namespace PktFlow.Wire;

/// <summary>
/// Rewrites the source or destination address (and TCP/UDP/SCTP port) of an IPv4/IPv6 packet in place,
/// keeping the IPv4 header checksum and the transport checksum right by RFC 1624 incremental updates
/// (what nf_nat_manip_pkt and load balancers' NAT do), SCTP's CRC32c by computing it again. A zero UDP
/// checksum over IPv4 stays zero.
/// </summary>
public static class AddressRewrite
{
    /// <summary>Returns false when the packet's family differs from the address's (nothing is written).</summary>
    /// <param name="quoted">The packet is the one an ICMP error quotes: the skb's ip_summed is the error's, never
    /// CHECKSUM_PARTIAL for the quoted header, so inet_proto_csum_replace* update its transport checksum as a
    /// full sum even when the field holds a pseudo-header sum (its sender had offload).</param>
    public static bool Rewrite(Span<byte> network, bool v6, bool source, IpAddr address, ushort port, out IpAddr oldAddress, out ushort? oldPort, bool quoted = false)
    {
        oldPort = null;
        int addrOffset = v6 ? (source ? 8 : 24) : (source ? 12 : 16);
        oldAddress = v6 ? IpAddr.ReadV6(network[addrOffset..]) : IpAddr.ReadV4(network[addrOffset..]);
        if (oldAddress.Family != address.Family) return false;
        int l4 = -1, end = network.Length; byte proto;
        if (v6)
        {
            Ipv6Header.TryParse(network, out var ip6, out _);
            Ipv6ExtensionHeaders.Walk(ip6.NextHeader, network[Ipv6Header.HeaderLength..], out var chain);
            proto = chain.UpperProtocol;
            if (ip6.PayloadLength > 0) end = Math.Min(end, Ipv6Header.HeaderLength + ip6.PayloadLength);
            if (!chain.IsNonFirstFragment) l4 = Ipv6Header.HeaderLength + chain.UpperOffset;
        }
        else
        {
            Ipv4Header.TryParse(network, out var ip, out _);
            proto = ip.Protocol;
            if (ip.TotalLength >= ip.HeaderLength) end = Math.Min(end, (int)ip.TotalLength); // not Ethernet padding
            if (ip.FragmentOffset == 0) l4 = ip.HeaderLength;
        }
        int csumAt = proto switch { IpProtocol.Tcp => 16, IpProtocol.Udp => 6, IpProtocol.Icmpv6 => 2, _ => -1 };
        bool hasL4Csum = l4 >= 0 && csumAt >= 0 && network.Length >= l4 + csumAt + 2
            && !(proto == IpProtocol.Udp && !v6 && BinaryPrimitives.ReadUInt16BigEndian(network[(l4 + 6)..]) == 0);
        // A sender with checksum offload leaves only the folded pseudo-header sum in the field
        // (CHECKSUM_PARTIAL); inet_proto_csum_replace4 then keeps it a pseudo-header sum, and a port
        // change (not in the pseudo-header) leaves it alone.
        bool partial = !quoted && hasL4Csum && end >= l4 + csumAt + 2
            && BinaryPrimitives.ReadUInt16BigEndian(network[(l4 + csumAt)..]) == PartialSum(network, v6, proto, end - l4)
            && !Checksum.TransportValid(Source(network, v6), Destination(network, v6), proto, network[l4..end]);
        if (!v6)
        {
            ushort ipc = BinaryPrimitives.ReadUInt16BigEndian(network[10..]);
            BinaryPrimitives.WriteUInt16BigEndian(network[10..], Checksum.ReplaceAddress(ipc, oldAddress, address));
        }
        if (hasL4Csum && !partial)
        {
            ushort c = BinaryPrimitives.ReadUInt16BigEndian(network[(l4 + csumAt)..]);
            BinaryPrimitives.WriteUInt16BigEndian(network[(l4 + csumAt)..], Checksum.ReplaceAddress(c, oldAddress, address));
        }
        address.Write(network[addrOffset..]);
        if (partial) BinaryPrimitives.WriteUInt16BigEndian(network[(l4 + csumAt)..], PartialSum(network, v6, proto, end - l4));
        if (l4 >= 0 && proto == IpProtocol.Sctp && network.Length >= l4 + SctpHeader.HeaderLength)
        {
            oldPort = SctpManip(network[l4..Math.Max(l4, end)], source, port);
            return true;
        }
        if (l4 >= 0 && proto is IpProtocol.Tcp or IpProtocol.Udp && network.Length >= l4 + 4)
        {
            int at = l4 + (source ? 0 : 2);
            ushort was = BinaryPrimitives.ReadUInt16BigEndian(network[at..]);
            if (was != port)
            {
                BinaryPrimitives.WriteUInt16BigEndian(network[at..], port);
                if (hasL4Csum && !partial)
                {
                    ushort c = BinaryPrimitives.ReadUInt16BigEndian(network[(l4 + csumAt)..]);
                    BinaryPrimitives.WriteUInt16BigEndian(network[(l4 + csumAt)..], Checksum.Replace2(c, was, port));
                }
                oldPort = was;
            }
        }
        return true;
    }

    /// <summary>
    /// sctp_manip_pkt: writes the port and computes the CRC32c afresh over the whole packet (no
    /// pseudo-header: an address change alone recomputes it too, to the same value when it was right).
    /// Returns the old port when it changed.
    /// </summary>
    private static ushort? SctpManip(Span<byte> sctp, bool source, ushort port)
    {
        if (sctp.Length < SctpHeader.HeaderLength) return null;
        int at = source ? 0 : 2;
        ushort was = BinaryPrimitives.ReadUInt16BigEndian(sctp[at..]);
        BinaryPrimitives.WriteUInt16BigEndian(sctp[at..], port);
        SctpHeader.WriteChecksum(sctp);
        return was != port ? was : null;
    }

    /// <summary>
    /// Rewrites the identifier of an ICMP / ICMPv6 query (echo and the other tracked queries: NAT maps it
    /// like a port, nf_nat_icmp_manip_pkt), keeping the ICMP checksum right. False when the packet is not
    /// an unfragmented ICMP message long enough to carry one.
    /// </summary>
    public static bool RewriteIcmpId(Span<byte> network, bool v6, ushort id, out ushort oldId)
    {
        oldId = 0;
        int l4;
        if (v6)
        {
            if (!Ipv6Header.TryParse(network, out var ip6, out _)) return false;
            Ipv6ExtensionHeaders.Walk(ip6.NextHeader, network[Ipv6Header.HeaderLength..], out var chain);
            if (chain.UpperProtocol != IpProtocol.Icmpv6 || chain.IsNonFirstFragment) return false;
            l4 = Ipv6Header.HeaderLength + chain.UpperOffset;
        }
        else
        {
            if (!Ipv4Header.TryParse(network, out var ip, out _) || ip.Protocol != IpProtocol.Icmp || ip.FragmentOffset != 0) return false;
            l4 = ip.HeaderLength;
        }
        if (network.Length < l4 + 8) return false;
        oldId = BinaryPrimitives.ReadUInt16BigEndian(network[(l4 + 4)..]);
        if (oldId == id) return true;
        BinaryPrimitives.WriteUInt16BigEndian(network[(l4 + 4)..], id);
        ushort c = BinaryPrimitives.ReadUInt16BigEndian(network[(l4 + 2)..]);
        BinaryPrimitives.WriteUInt16BigEndian(network[(l4 + 2)..], Checksum.Replace2(c, oldId, id));
        return true;
    }

    /// <summary>
    /// Whether the transport checksum field of the segment at [<paramref name="l4"/>, <paramref name="end"/>)
    /// holds only the pseudo-header sum of a sender with checksum offload (CHECKSUM_PARTIAL) rather than a
    /// checksum of the segment: it is that sum and does not verify.
    /// </summary>
    public static bool IsPartialChecksum(ReadOnlySpan<byte> network, bool v6, int l4, int end, byte proto)
    {
        int csumAt = proto switch { IpProtocol.Tcp => 16, IpProtocol.Udp => 6, IpProtocol.Icmpv6 => 2, _ => -1 };
        return csumAt >= 0 && end <= network.Length && end >= l4 + csumAt + 2
            && BinaryPrimitives.ReadUInt16BigEndian(network[(l4 + csumAt)..]) == PartialSum(network, v6, proto, end - l4)
            && !Checksum.TransportValid(Source(network, v6), Destination(network, v6), proto, network[l4..end]);
    }

    /// <summary>The folded pseudo-header sum a CHECKSUM_PARTIAL packet carries in its transport checksum field.</summary>
    public static ushort PartialSum(ReadOnlySpan<byte> network, bool v6, byte proto, int length) =>
        Checksum.Fold(Checksum.PseudoHeader(Source(network, v6), Destination(network, v6), proto, length));

    private static IpAddr Source(ReadOnlySpan<byte> network, bool v6) => v6 ? IpAddr.ReadV6(network[8..]) : IpAddr.ReadV4(network[12..]);
    private static IpAddr Destination(ReadOnlySpan<byte> network, bool v6) => v6 ? IpAddr.ReadV6(network[24..]) : IpAddr.ReadV4(network[16..]);
}
