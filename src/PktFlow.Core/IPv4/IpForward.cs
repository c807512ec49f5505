using PktFlow.Netfilter;
using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.Wire;

namespace PktFlow.IPv4;

/// <summary>net/ipv4/ip_forward.c and the output half of net/ipv4/ip_output.c for forwarded packets.</summary>
public static class IpForward
{
    [KernelSymbol("ip_forward", "net/ipv4/ip_forward.c")]
    public static void Forward(SkBuff skb, TraceBuilder t, InputRoute rt)
    {
        if (skb.PktType != PacketType.Host)
        {
            t.Drop(skb, "IpForward", "ip_forward", "OTHERHOST", $"link-layer {skb.PktType.ToString().ToLowerInvariant()} frame is not forwarded (pkt_type not HOST)");
            return;
        }
        if (skb.Sk is { } sk)
        {
            t.Drop(skb, "IpForward", "ip_forward", "NOT_SPECIFIED", $"tproxy assigned it to a socket ({sk}), but the route forwards it: a packet with a socket is not forwarded (policy routing to a local route is missing)");
            return;
        }
        Ipv4Header.TryParse(skb.Network, out var ip, out _);
        var outDev = rt.OutDevice!;
        if (ip.Ttl <= 1)
        {
            IcmpSend.Error(skb, t, IcmpSend.TimeExceeded, 0, 0, false, $"ICMP time exceeded in-transit to {ip.Source}");
            t.Drop(skb, "IpForward", "ip_forward", "IP_INHDR", $"TTL {ip.Ttl} would expire: ICMP time exceeded sent to {ip.Source}");
            return;
        }
        int length = skb.Length - skb.NetworkHeader;
        // ip_dst_mtu_maybe_forward: the route's mtu metric, else the device's
        int mtu = rt.Route is { Mtu: > 0 } withMtu ? withMtu.Mtu : outDev.Mtu;
        string mtuText = mtu == outDev.Mtu ? $"{outDev.Name} MTU {mtu}" : $"route mtu {mtu}";
        // net.ipv4.ip_forward_use_pmtu = 1: a path MTU this router learned for the destination counts for forwarding too
        if (skb.Netns.Sysctls.IsOn("net.ipv4.ip_forward_use_pmtu") && skb.State.Pmtu.Find(ip.Destination, skb.TimestampNs) is { } learned)
            (mtu, mtuText) = (learned.Mtu, $"{learned.Describe(skb.TimestampNs)} (net.ipv4.ip_forward_use_pmtu = 1)");
        // ip_exceeds_mtu: a reassembled DF datagram passes when conntrack's defrag set ignore_df (unless one
        // of its original fragments was bigger than the MTU); a GSO packet passes when its segments fit.
        if (ExceedsMtu(skb, length, ip.DontFragment, mtu))
        {
            IcmpSend.Error(skb, t, IcmpSend.DestUnreach, IcmpSend.FragNeeded, (uint)mtu, false, $"ICMP destination unreachable, fragmentation needed (mtu {mtu}) to {ip.Source}");
            skb.State.Gso.SetPathMtu(ip.Source, ip.Destination, mtu, skb.TimestampNs); // what the sender's next super-frames are cut for
            string gsoText = skb.Gso is { } big ? $" (a {big.Describe()}: segments of {big.SegmentLength} bytes)" : "";
            t.Drop(skb, "IpForward", "ip_forward", "PKT_TOO_BIG", $"{length} bytes > {mtuText} with DF set{gsoText}: ICMP fragmentation needed sent to {ip.Source}");
            return;
        }
        byte ttl = ip.Ttl;
        Ipv4HeaderWriter.DecrementTtl(skb.Network); // the view reads the same bytes: ttl is now one less
        // IPSKB_DOREDIRECT: out by the device it came in on, to a sender on that link (after the TTL decrement)
        bool redirect = outDev == skb.Dev && skb.Netns.Sysctls.ConfIsOn("ipv4", outDev.Name, "send_redirects")
            && rt.Route is not null && OnLink(skb, ip.Source, outDev.Name);
        if (redirect) IpRtSendRedirect.Send(skb, t, ip.Source, ip.Destination, rt.NextHop!.Value);
        // skb->priority = rt_tos2priority(tos): a priority set before (nft in prerouting) is lost here
        uint priority = TosToPriority(ip.Tos);
        string prioText = priority == skb.Priority ? "" : $", priority {Netfilter.Nftables.NftType.TcHandleText(skb.Priority)} -> {Netfilter.Nftables.NftType.TcHandleText(priority)} (rt_tos2priority)";
        skb.Priority = priority;
        t.Stage(skb, "IpForward", "ip_forward", Verdict.Pass, $"TTL {ttl} -> {ttl - 1}, out {outDev.Name}{prioText}{(redirect ? $"; leaves by the device it came in on, so ip_rt_send_redirect tells {ip.Source} of {rt.NextHop}" : "")}");
        Offload.SkbChecksum.ForwardCsum(skb);
        if (!NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.Forward, skb.Dev, outDev)) return;
        IpOutput(skb, t, outDev, rt.OnLink ? null : rt.NextHop, Fate.Forwarded, mtu, rt.NextHop!.Value);
    }

    /// <summary>
    /// ip_exceeds_mtu: only a DF packet longer than the MTU; one of a reassembled datagram's original
    /// fragments bigger than the MTU always; a reassembled one (ignore_df) and a GSO packet whose
    /// segments each fit (skb_gso_validate_network_len) pass.
    /// </summary>
    [KernelSymbol("ip_exceeds_mtu", "net/ipv4/ip_forward.c")]
    internal static bool ExceedsMtu(SkBuff skb, int length, bool df, int mtu)
    {
        if (length <= mtu || !df) return false;
        if (skb.FragInfo?.MaxSize > mtu) return true;
        if (skb.IgnoreDf) return false;
        return skb.Gso is not { } gso || !gso.ValidateNetworkLength(mtu);
    }

    /// <summary>ip_tos2prio by the TOS bits (IPTOS_TOS): best effort 0, bulk 2, interactive bulk 4, interactive 6.</summary>
    internal static uint TosToPriority(byte tos) => ((tos & 0x1E) >> 1) switch { < 4 => 0u, < 8 => 2u, < 12 => 6u, _ => 4u };

    private static bool OnLink(SkBuff skb, IpAddr source, string device) =>
        skb.Netns.AddressesOf(device).Any(a => a.Family == IpFamily.V4 && a.Prefix.Contains(source));

    [KernelSymbol("ip_output", "net/ipv4/ip_output.c")]
    [KernelSymbol("ip_finish_output", "net/ipv4/ip_output.c")]
    public static void IpOutput(SkBuff skb, TraceBuilder t, Topology.NetDevice outDev, IpAddr? gateway, Fate fate, int? mtu, IpAddr routedTo)
    {
        var inDev = skb.Dev;
        skb.Dev = outDev;
        if (!NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.PostRouting, fate == Fate.Forwarded ? inDev : null, outDev)) return;
        var nextHop = RtNexthop.Of(skb, gateway, routedTo);
        string via = $"ip_finish_output2 to next hop {nextHop}";
        if (IpFinishOutputGso.Output(skb, t, outDev, nextHop, fate, via, mtu ?? outDev.Mtu)) return;
        if (IpFragment.Output(skb, t, outDev, nextHop, fate, via, mtu)) return;
        t.Stage(skb, "IpFinishOutput", "ip_finish_output", Verdict.Pass, $"{skb.Length - skb.NetworkHeader} bytes fit MTU {mtu ?? outDev.Mtu}");
        DevQueueXmit.NeighOutput(skb, t, nextHop, fate, via);
    }
}
