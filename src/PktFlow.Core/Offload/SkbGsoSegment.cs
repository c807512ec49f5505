using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.Offload;

/// <summary>
/// Software GSO (skb_gso_segment, net/core/gso.c): a super-packet cut into gso_size pieces, each with
/// the headers copied and fixed up as inet_gso_segment / ipv6_gso_segment and tcp_gso_segment /
/// __udp_gso_segment do: IPv4 total length, identification counting up from the first and header
/// checksum; IPv6 payload length; TCP sequence numbers, FIN and PSH only on the last segment, CWR
/// only on the first; UDP length; transport checksums over each segment.
/// </summary>
public static class SkbGsoSegment
{
    [KernelSymbol("skb_gso_segment", "net/core/gso.c")]
    [KernelSymbol("tcp_gso_segment", "net/ipv4/tcp_offload.c")]
    [KernelSymbol("__udp_gso_segment", "net/ipv4/udp_offload.c")]
    public static List<byte[]> Segment(ReadOnlySpan<byte> network, GsoInfo gso)
    {
        bool v6 = (network[0] >> 4) == 6;
        int l3 = v6 ? Ipv6Header.HeaderLength : (network[0] & 0x0F) * 4;
        int hlen = gso.HeaderLength;
        var payload = network[hlen..];
        ReadOnlySpan<byte> headers = network[..hlen];
        if (gso.JumboHbh)
        {
            // ipv6_hopopt_jumbo_remove: the segments are ordinary IPv6 TCP packets
            int hbh = GsoSizeInference.JumboHbhLength;
            var plain = new byte[hlen - hbh];
            network[..l3].CopyTo(plain);
            network[(l3 + hbh)..hlen].CopyTo(plain.AsSpan(l3));
            plain[6] = IpProtocol.Tcp;
            headers = plain;
            hlen -= hbh;
        }
        var segments = new List<byte[]>();
        bool tcp = gso.Type != GsoType.UdpL4;
        uint seq = tcp ? BinaryPrimitives.ReadUInt32BigEndian(headers[(l3 + 4)..]) : 0;
        ushort id = v6 ? (ushort)0 : BinaryPrimitives.ReadUInt16BigEndian(headers[4..]);
        for (int off = 0, i = 0; off < payload.Length; off += gso.Size, i++)
        {
            int len = Math.Min(gso.Size, payload.Length - off);
            bool last = off + len >= payload.Length;
            var b = new byte[hlen + len];
            headers.CopyTo(b);
            payload.Slice(off, len).CopyTo(b.AsSpan(hlen));
            if (v6) BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), (ushort)(b.Length - l3));
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)b.Length);
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), (ushort)(id + i));
                b[10] = 0; b[11] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(10), Checksum.Internet(b.AsSpan(0, l3)));
            }
            var l4 = b.AsSpan(l3);
            int checkAt;
            if (tcp)
            {
                BinaryPrimitives.WriteUInt32BigEndian(l4[4..], seq + (uint)off);
                if (!last) l4[13] &= 0xF6;  // FIN (0x01) and PSH (0x08) stay on the last segment
                if (i > 0) l4[13] &= 0x7F;  // CWR (0x80) only on the first
                checkAt = 16;
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(l4[4..], (ushort)l4.Length);
                checkAt = 6;
            }
            l4[checkAt] = 0; l4[checkAt + 1] = 0;
            var src = v6 ? IpAddr.ReadV6(b.AsSpan(8, 16)) : IpAddr.ReadV4(b.AsSpan(12, 4));
            var dst = v6 ? IpAddr.ReadV6(b.AsSpan(24, 16)) : IpAddr.ReadV4(b.AsSpan(16, 4));
            ushort sum = Checksum.Transport(src, dst, tcp ? IpProtocol.Tcp : IpProtocol.Udp, l4);
            BinaryPrimitives.WriteUInt16BigEndian(l4[checkAt..], sum);
            segments.Add(b);
        }
        return segments;
    }
}
