using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Nftables;
using PktFlow.Wire;

namespace PktFlow.Netfilter;

/// <summary>
/// What NAT helpers share (net/netfilter/nf_nat_helper.c): rewriting an address announced inside a TCP
/// payload, which may change the segment's length, and the NAT an expected connection inherits from its
/// master.
/// </summary>
public static class NfNatHelper
{
    /// <summary>
    /// __nf_nat_mangle_tcp_packet: the <paramref name="matchLength"/> payload bytes at
    /// <paramref name="matchOffset"/> (from the start of the TCP payload) replaced by
    /// <paramref name="replacement"/> (mangle_contents), the IPv4 total length and header checksum or the
    /// IPv6 payload length updated, and the TCP checksum handed to the device (nf_nat_csum_recalc: the
    /// skb becomes CHECKSUM_PARTIAL, the field the pseudo-header sum of the new length, as it was for a
    /// partial one). Null when the packet would pass 65535 bytes (enlarge_skb refuses).
    /// </summary>
    [KernelSymbol("__nf_nat_mangle_tcp_packet", "net/netfilter/nf_nat_helper.c")]
    public static byte[]? MangleTcpPacket(ReadOnlySpan<byte> network, bool v6, int matchOffset, int matchLength, ReadOnlySpan<byte> replacement)
    {
        if (NfConntrackSeqadj.TcpBounds(network, v6) is not var (l4, end) || end - l4 < TcpHeader.MinHeaderLength) return null;
        int dataOff = l4 + (network[l4 + 12] >> 4) * 4;
        int at = dataOff + matchOffset;
        if (at + matchLength > end) return null;
        int length = end + replacement.Length - matchLength;
        if (length > 65535) return null;
        var b = new byte[length];
        network[..at].CopyTo(b);
        replacement.CopyTo(b.AsSpan(at));
        network[(at + matchLength)..end].CopyTo(b.AsSpan(at + replacement.Length));
        if (v6) BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), (ushort)(length - Ipv6Header.HeaderLength));
        else
        {
            // ip_send_check: the header checksum computed afresh
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)length);
            Ipv4HeaderWriter.UpdateHeaderChecksum(b);
        }
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(l4 + 16), AddressRewrite.PartialSum(b, v6, IpProtocol.Tcp, length - l4));
        return b;
    }

    /// <summary>
    /// nf_nat_follow_master, run by init_conntrack for a new connection a NAT helper expected: its source
    /// becomes the address the master's packets go to in the direction the expectation came from, its
    /// destination the master's address on the other side with the port the payload named before NAT
    /// rewrote it. Both bindings are set (IPS_SRC_NAT_DONE and IPS_DST_NAT_DONE): the nat chains never see
    /// the connection. Returns what it did, for the trace.
    /// </summary>
    [KernelSymbol("nf_nat_follow_master", "net/netfilter/nf_nat_helper.c")]
    public static string FollowMaster(ConntrackTable table, NftState random, ConntrackEntry ct, ConntrackExpectation exp)
    {
        ct.FollowMaster = null;
        var master = exp.Master;
        // ct->master->tuplehash[!exp->dir]
        var m = exp.NatDirection == CtDirection.Original ? master.Reply : master.Original;
        var src = new NatAction("snat", m.Destination, null, null, "nf_nat_follow_master");
        var (srcChanged, srcHow) = NfNat.Bind(table, random, ct, (m.Destination, m.Destination), src, destination: false);
        ct.SourceNatDone = true;
        var dst = new NatAction("dnat", m.Source, exp.SavedPort, exp.SavedPort, "nf_nat_follow_master");
        var (dstChanged, dstHow) = NfNat.Bind(table, random, ct, (m.Source, m.Source), dst, destination: true);
        ct.DestinationNatDone = true;
        return $"the {exp.Helper.Name} NAT helper's expected connection follows its master {master.Original}: source {m.Destination} ({(srcChanged ? srcHow : "unchanged")}), "
            + $"destination {m.Source.WithPort(exp.SavedPort)} ({(dstChanged ? dstHow : "unchanged")}); reply tuple {ct.Reply}";
    }

}
