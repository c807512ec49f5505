using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.Offload;

/// <summary>skb->ip_summed (include/linux/skbuff.h): what is known about the transport checksum.</summary>
public enum IpSummed : byte
{
    /// <summary>CHECKSUM_NONE: nothing verified (a packet socket's frame, a NIC without rx checksum offload): whoever needs it computes it.</summary>
    None = 0,
    /// <summary>CHECKSUM_UNNECESSARY: a device verified it (rx offload, GRO).</summary>
    Unnecessary = 1,
    /// <summary>CHECKSUM_COMPLETE: skb->csum holds the sum of the packet (hardware, or __skb_checksum_complete in software).</summary>
    Complete = 2,
    /// <summary>CHECKSUM_PARTIAL: a local stack left the checksum to offload; the field holds the pseudo-header sum.</summary>
    Partial = 3,
}

/// <summary>What a receive-side checksum check found: <see cref="Bad"/> with why, or good with an optional note.</summary>
public readonly record struct CsumCheck(bool Bad, string? Note)
{
    public static readonly CsumCheck Good = new(false, null);
}

/// <summary>
/// Receive-side transport checksum validation as the kernel does it on skb->ip_summed: nf_ip_checksum /
/// nf_ip6_checksum (net/netfilter/utils.c, for conntrack's *_error handlers and SYNPROXY) and
/// skb_checksum_init / __skb_checksum_validate (tcp_v4_rcv, udp_rcv, icmp_rcv). CHECKSUM_UNNECESSARY and
/// CHECKSUM_PARTIAL are never verified; CHECKSUM_NONE and CHECKSUM_COMPLETE are computed over the segment
/// (__skb_checksum_complete, which leaves the skb CHECKSUM_COMPLETE with the result).
/// </summary>
/// <remarks>
/// A capture cannot show ip_summed. A frame whose checksum field holds exactly the pseudo-header sum is
/// taken as CHECKSUM_PARTIAL: that is what a Linux stack with checksum offload sends through a veth (the
/// skb stays PARTIAL into the peer, and tcpdump shows the sum on both sides). Any other frame enters as
/// CHECKSUM_NONE, as the frames of a packet socket (tcpreplay, scapy's sendp) and of a NIC that verified
/// nothing do; a NIC that verified a good checksum changes no verdict. The assumption is said in the trace.
/// </remarks>
public static class SkbChecksum
{
    /// <summary>The trace's words for the CHECKSUM_PARTIAL assumption.</summary>
    public const string PartialAssumed = "checksum field holds the pseudo-header sum only: assumed CHECKSUM_PARTIAL (a local stack left it to offload, the frame captured on the sender's side of a veth), so not verified";

    /// <summary>
    /// Validates the transport checksum of <paramref name="l4"/> (TCP, UDP, ICMP or ICMPv6, exactly as long as
    /// the IP layer says) for <paramref name="skb"/> as the kernel would, updating its ip_summed; with no skb
    /// the segment is taken as CHECKSUM_NONE. Other protocols, and segments too short to hold the checksum
    /// field, are not checked here (their handlers refuse them by length first).
    /// </summary>
    [KernelSymbol("nf_ip_checksum", "net/netfilter/utils.c")]
    [KernelSymbol("nf_ip6_checksum", "net/netfilter/utils.c")]
    [KernelSymbol("__skb_checksum_validate", "include/linux/skbuff.h")]
    public static CsumCheck Validate(SkBuff? skb, IpAddr src, IpAddr dst, byte protocol, ReadOnlySpan<byte> l4)
    {
        if (skb?.IpSummed is IpSummed.Unnecessary) return CsumCheck.Good;
        if (skb?.IpSummed is IpSummed.Partial) return new CsumCheck(false, !skb.CsumAssumed ? null : skb.CsumLco ? Tunnel.VxlanRcv.LcoNote : PartialAssumed);
        int at = FieldOffset(protocol);
        if (at < 0 || l4.Length < at + 2) return CsumCheck.Good;
        ushort stored = BinaryPrimitives.ReadUInt16BigEndian(l4[at..]);
        if (Checksum.TransportValid(src, dst, protocol, l4))
        {
            if (skb is not null) (skb.IpSummed, skb.CsumValid) = (IpSummed.Complete, true);
            return CsumCheck.Good;
        }
        if (protocol is IpProtocol.Tcp or IpProtocol.Udp && stored == Checksum.Fold(Checksum.PseudoHeader(src, dst, protocol, l4.Length)))
        {
            if (skb is not null) (skb.IpSummed, skb.CsumAssumed) = (IpSummed.Partial, true);
            return new CsumCheck(false, PartialAssumed);
        }
        if (protocol == IpProtocol.Udp && skb is not null && Tunnel.VxlanRcv.LocalChecksumOffload(skb, src, dst, l4))
        {
            (skb.IpSummed, skb.CsumAssumed) = (IpSummed.Partial, true);
            skb.CsumLco = true;
            return new CsumCheck(false, Tunnel.VxlanRcv.LcoNote);
        }
        if (skb is not null) (skb.IpSummed, skb.CsumValid) = (IpSummed.Complete, false);
        string got = protocol == IpProtocol.Udp && !src.IsV4 && stored == 0 ? "0 (none, not allowed over IPv6)" : $"0x{stored:x4}";
        return new CsumCheck(true, $"checksum {got} is wrong (0x{Expected(src, dst, protocol, l4, at):x4} expected; CHECKSUM_NONE: computed)");
    }

    /// <summary>skb_forward_csum (ip_forward, ip6_forward): a CHECKSUM_COMPLETE sum is not kept across forwarding.</summary>
    [KernelSymbol("skb_forward_csum", "include/linux/skbuff.h")]
    public static void ForwardCsum(SkBuff skb)
    {
        if (skb.IpSummed == IpSummed.Complete) skb.IpSummed = IpSummed.None;
    }

    private static int FieldOffset(byte protocol) => protocol switch
    {
        IpProtocol.Tcp => 16,
        IpProtocol.Udp => 6,
        IpProtocol.Icmp or IpProtocol.Icmpv6 => 2,
        _ => -1,
    };

    private static ushort Expected(IpAddr src, IpAddr dst, byte protocol, ReadOnlySpan<byte> l4, int at)
    {
        var copy = l4.ToArray(); // only for the trace of a bad packet
        copy[at] = copy[at + 1] = 0;
        return protocol == IpProtocol.Icmp ? Checksum.Internet(copy) : Checksum.Transport(src, dst, protocol, copy);
    }
}
