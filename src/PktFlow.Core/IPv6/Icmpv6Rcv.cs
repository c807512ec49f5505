using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.IPv6;

/// <summary>net/ipv6/icmp.c icmpv6_rcv and net/ipv6/ndisc.c ndisc_rcv.</summary>
public static class Icmpv6Rcv
{
    [KernelSymbol("icmpv6_rcv", "net/ipv6/icmp.c")]
    public static void Receive(SkBuff skb, TraceBuilder t, IpAddr src, IpAddr dst, ReadOnlySpan<byte> message)
    {
        const string S = "Icmpv6Rcv", F = "icmpv6_rcv";
        if (!Icmpv6Header.TryParse(message, out var icmp, out var error)) { t.Drop(skb, S, F, "PKT_TOO_SMALL", error ?? "ICMPv6 header cut short"); return; }
        // skb_checksum_validate with the IPv6 pseudo-header
        if (Offload.SkbChecksum.Validate(skb, src, dst, IpProtocol.Icmpv6, message) is { Bad: true } csum) { t.Drop(skb, S, F, "ICMP_CSUM", "ICMPv6 " + csum.Note); return; }
        switch (icmp.Type)
        {
            case Icmpv6Header.EchoRequest:
                if (dst.IsMulticast && skb.Netns.Sysctls.IsOn("net.ipv6.icmp.echo_ignore_multicast"))
                {
                    t.Drop(skb, S, F, "NOT_SPECIFIED", "echo to multicast ignored (net.ipv6.icmp.echo_ignore_multicast = 1)");
                    return;
                }
                Icmp6Send.EchoReplyTo(skb, t, message, $"ICMPv6 echo reply to {src}, id {icmp.Identifier}, seq {icmp.SequenceNumber}");
                t.Stage(skb, "Icmpv6Echo", "icmpv6_echo_reply", Verdict.Pass, $"echo request id {icmp.Identifier} seq {icmp.SequenceNumber}: the kernel answers with an echo reply");
                t.End(Fate.Delivered, "icmpv6_echo_reply");
                return;
            case >= Icmpv6Header.RouterSolicitation and <= Icmpv6Header.Redirect:
                if (NdiscRcv(skb, t, message) is false) return;
                if (icmp.Type == Icmpv6Header.NeighborSolicitation)
                {
                    NdiscRecvNs(skb, t, src, icmp.TargetAddress);
                    return;
                }
                t.Stage(skb, "NdiscRcv", "ndisc_rcv", Verdict.Pass, $"neighbour discovery type {icmp.Type} processed by ndisc (state changes are not modelled)");
                t.End(Fate.Consumed, "ndisc_rcv");
                return;
            default:
                if (icmp.Type == Icmp6Send.PacketTooBig) Icmpv6Notify.PacketTooBig(skb, t, message);
                else if (icmp.IsError && message.Length > 8) Socket.TcpErr.V6(skb, t, icmp.Type, icmp.Code, message[8..]);
                t.Stage(skb, S, F, Verdict.Pass, $"ICMPv6 type {icmp.Type} code {icmp.Code}{(icmp.IsError ? ": an error, handed to the quoted protocol's err_handler" : "")}");
                t.End(Fate.Delivered, F);
                return;
        }
    }

    /// <summary>ndisc_rcv's checks: hop limit 255 (RFC 4861 6.1: the sender is on-link) and code 0.</summary>
    [KernelSymbol("ndisc_rcv", "net/ipv6/ndisc.c")]
    private static bool NdiscRcv(SkBuff skb, TraceBuilder t, ReadOnlySpan<byte> message)
    {
        Ipv6Header.TryParse(skb.Network, out var ip6, out _);
        if (ip6.HopLimit != 255)
        {
            t.Drop(skb, "NdiscRcv", "ndisc_rcv", "IPV6_NDISC_HOP_LIMIT", $"neighbour discovery with hop limit {ip6.HopLimit}, not 255 (RFC 4861: it may come from off-link)");
            return false;
        }
        Icmpv6Header.TryParse(message, out var icmp, out _);
        if (icmp.Code != 0)
        {
            t.Drop(skb, "NdiscRcv", "ndisc_rcv", "IPV6_NDISC_BAD_CODE", $"neighbour discovery with code {icmp.Code}, not 0");
            return false;
        }
        if (icmp.NdProblem(ip6.HopLimit) is { } problem)
        {
            t.Drop(skb, "NdiscRcv", "ndisc_rcv", "IPV6_NDISC_BAD_OPTIONS", problem);
            return false;
        }
        return true;
    }

    [KernelSymbol("ndisc_recv_ns", "net/ipv6/ndisc.c")]
    private static void NdiscRecvNs(SkBuff skb, TraceBuilder t, IpAddr src, IpAddr target)
    {
        var ns = skb.Netns;
        bool ours = ns.AddressesOf(skb.Dev.Name).Any(a => a.Address == target);
        if (!ours)
        {
            t.Stage(skb, "NdiscRecvNs", "ndisc_recv_ns", Verdict.Pass, $"solicitation for {target}, not an address of {skb.Dev.Name}: no advertisement (proxy_ndp is not modelled)");
            t.End(Fate.Consumed, "ndisc_recv_ns");
            return;
        }
        var to = src.IsZero ? "ff02::1 (duplicate address detection)" : src.ToString();
        // ndisc_recv_ns: a multicast solicitation gets the link-layer option and the override flag;
        // a DAD probe (unspecified source) is answered to all nodes, unsolicited.
        Ipv6Header.TryParse(skb.Network, out var ns6, out _);
        bool inc = ns6.Destination.IsMulticast, dad = src.IsZero;
        bool router = ns.Sysctls.ConfIsOn("ipv6", skb.Dev.Name, "forwarding") || ns.Sysctls.Ipv6Forwarding;
        Icmp6Send.NeighbourAdvertisement(skb, t, dad ? IpAddr.Parse("ff02::1") : src, target, router, !dad, dad || inc, dad || inc,
            $"ICMPv6 neighbor advertisement {target} is-at {skb.Dev.Mac} to {to}");
        t.Stage(skb, "NdiscRecvNs", "ndisc_recv_ns", Verdict.Pass, $"solicitation for {target} on {skb.Dev.Name}: neighbour advertisement sent to {to}");
        t.End(Fate.Consumed, "ndisc_recv_ns (advertisement sent)");
    }
}
