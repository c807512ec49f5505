using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.Socket;

/// <summary>
/// The resets the stack sends without a socket: tcp_v4_send_reset / tcp_v6_send_reset for a segment
/// no socket wants, and nf_send_reset / nf_send_reset6 for `reject with tcp reset`. Both answer from
/// the segment's destination to its source: with its acknowledgment number as sequence number when
/// it carried ACK, otherwise sequence 0 acknowledging everything it occupied (RFC 9293 3.10.7.1).
/// A socket that exists but refuses the segment (a listener given a bare ACK: tcp_v4_do_rcv) sends
/// it through the same control socket, which takes that socket's mark (<see cref="ReplyMark"/>); its
/// SO_PRIORITY does not reach the reset (checked on 6.18: priority none in the output chain).
/// </summary>
public static class TcpSendReset
{
    [KernelSymbol("tcp_v4_send_reset", "net/ipv4/tcp_ipv4.c")]
    [KernelSymbol("tcp_v6_send_reset", "net/ipv6/tcp_ipv6.c")]
    [KernelSymbol("nf_send_reset", "net/ipv4/netfilter/nf_reject_ipv4.c")]
    [KernelSymbol("nf_send_reset6", "net/ipv6/netfilter/nf_reject_ipv6.c")]
    public static void Send(SkBuff skb, TraceBuilder t, IpAddr saddr, IpAddr daddr, ReadOnlySpan<byte> segment, string function, string description, Sock? sk = null)
    {
        if (segment.Length < 20) { t.Generate($"{description}: not sent (TCP header cut short)"); return; }
        byte flags = segment[13];
        if ((flags & 0x04) != 0) { t.Generate($"{description}: not sent (a reset is never answered)"); return; }
        int dataOffset = (segment[12] >> 4) * 4;
        var rst = new byte[20];
        segment[2..4].CopyTo(rst);           // source port = its destination port
        segment[0..2].CopyTo(rst.AsSpan(2)); // destination port = its source port
        rst[12] = 5 << 4;
        if ((flags & 0x10) != 0)
        {
            segment[8..12].CopyTo(rst.AsSpan(4)); // seq = its ack
            rst[13] = 0x04;
        }
        else
        {
            uint seq = BinaryPrimitives.ReadUInt32BigEndian(segment[4..]);
            int payload = Math.Max(0, segment.Length - dataOffset);
            uint ack = seq + (uint)((flags & 0x02) != 0 ? 1 : 0) + (uint)((flags & 0x01) != 0 ? 1 : 0) + (uint)payload;
            BinaryPrimitives.WriteUInt32BigEndian(rst.AsSpan(8), ack);
            rst[13] = 0x14; // RST|ACK
        }
        if (function == "nf_send_reset")
            // nf_reject_ip_tcphdr_put leaves the checksum to the device (CHECKSUM_PARTIAL): only the
            // folded pseudo-header sum is in the field, and a capture on the sending side shows that.
            BinaryPrimitives.WriteUInt16BigEndian(rst.AsSpan(16), Checksum.Fold(Checksum.PseudoHeader(daddr, saddr, IpProtocol.Tcp, rst.Length)));
        else
            GeneratedHeaders.TransportChecksum(daddr, saddr, IpProtocol.Tcp, rst, 16);
        var ns = skb.Netns;
        byte[] bytes;
        if (saddr.IsV4)
        {
            Ipv4Header.TryParse(skb.Network, out var ip, out _);
            // ip_send_unicast_reply reflects the TOS; nf_reject_iphdr_put writes 0. Both set DF, id 0.
            byte tos = function == "nf_send_reset" ? (byte)0 : ip.Tos;
            bytes = GeneratedHeaders.Ipv4(daddr, saddr, IpProtocol.Tcp, tos, (byte)GeneratedHeaders.DefaultTtl(ns), true, rst);
        }
        else
            bytes = GeneratedHeaders.Ipv6(daddr, saddr, IpProtocol.Tcp, (byte)GeneratedHeaders.HopLimit(ns, skb.Dev.Name), rst);
        // nf_send_reset(6) take IP4_REPLY_MARK only; tcp_v4_send_reset falls back to the socket's mark
        bool netfilter = function.StartsWith("nf_send_reset", StringComparison.Ordinal);
        var (mark, markSource) = ReplyMark.Of(skb, netfilter ? null : sk);
        t.Emit(new GeneratedPacket
        {
            Description = description, Function = function, Namespace = ns, Device = skb.Dev, Mark = mark, MarkSource = markSource,
            Protocol = saddr.IsV4 ? EtherTypes.Ipv4 : EtherTypes.Ipv6, Network = bytes,
            // nf_send_reset(6) attach the refused packet's conntrack; tcp_v4_send_reset does not
            Ct = netfilter ? skb.Ct?.AttachedToAnswer() : null,
        });
    }
}
