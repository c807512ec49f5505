using System.Buffers.Binary;
using PktFlow.Wire;

namespace PktFlow.LoadBalancer;

/// <summary>
/// Katran's encapsulations (balancer_kern.c encap_v4/encap_v6 and gue_encap_v4/gue_encap_v6): an outer
/// IPv4 or IPv6 header to the backend, for GUE followed by a UDP header to the backend's GUE port and
/// the inner packet directly (GUE variant 1, draft-ietf-intarea-gue section 4: the first two bits of
/// the inner IP version nibble, 01, say "IPv4 or IPv6 follows").
/// </summary>
public static class LbEncap
{
    public const byte DefaultTtl = 64;

    /// <summary>IP-in-IP: IPPROTO_IPIP (4) for an IPv4 inner packet, IPPROTO_IPV6 (41) for an IPv6 one.</summary>
    public static byte[] Ipip(IpAddr source, IpAddr destination, ReadOnlySpan<byte> inner, bool innerV6) =>
        Outer(source, destination, innerV6 ? IpProtocol.Ipv6 : IpProtocol.IpIp, inner, Tos(inner, innerV6));

    /// <summary>
    /// GUE: outer IP, UDP from <paramref name="sourcePort"/> (Katran takes it from the flow hash so that
    /// the backend's RSS spreads flows) to <paramref name="guePort"/>. The UDP checksum is 0 over IPv4
    /// (RFC 768 "no checksum", as Katran sends it) and computed over IPv6 (RFC 8200 section 8.1).
    /// </summary>
    public static byte[] Gue(IpAddr source, IpAddr destination, ushort sourcePort, ushort guePort, ReadOnlySpan<byte> inner, bool innerV6)
    {
        var udp = new byte[UdpHeader.HeaderLength + inner.Length];
        BinaryPrimitives.WriteUInt16BigEndian(udp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), guePort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
        inner.CopyTo(udp.AsSpan(UdpHeader.HeaderLength));
        if (destination.IsV6)
        {
            ushort c = Checksum.Transport(source, destination, IpProtocol.Udp, udp);
            BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(6), c == 0 ? (ushort)0xFFFF : c);
        }
        return Outer(source, destination, IpProtocol.Udp, udp, Tos(inner, innerV6));
    }

    private static byte Tos(ReadOnlySpan<byte> inner, bool innerV6) =>
        innerV6 ? (byte)((BinaryPrimitives.ReadUInt16BigEndian(inner) >> 4) & 0xFF) : inner[1];

    private static byte[] Outer(IpAddr source, IpAddr destination, byte protocol, ReadOnlySpan<byte> payload, byte tos)
    {
        if (destination.IsV4)
        {
            var b = new byte[20 + payload.Length];
            b[0] = 0x45;
            b[1] = tos;
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)b.Length);
            b[8] = DefaultTtl;
            b[9] = protocol;
            source.Write(b.AsSpan(12));
            destination.Write(b.AsSpan(16));
            Ipv4HeaderWriter.UpdateHeaderChecksum(b);
            payload.CopyTo(b.AsSpan(20));
            return b;
        }
        var v6 = new byte[Ipv6Header.HeaderLength + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(v6, 0x6000_0000u | (uint)tos << 20);
        BinaryPrimitives.WriteUInt16BigEndian(v6.AsSpan(4), (ushort)payload.Length);
        v6[6] = protocol;
        v6[7] = DefaultTtl;
        source.Write(v6.AsSpan(8));
        destination.Write(v6.AsSpan(24));
        payload.CopyTo(v6.AsSpan(Ipv6Header.HeaderLength));
        return v6;
    }
}
