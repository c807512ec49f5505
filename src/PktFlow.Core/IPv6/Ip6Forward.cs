using PktFlow.Netfilter;
using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.IPv6;

/// <summary>net/ipv6/ip6_output.c: ip6_forward, ip6_forward_finish and ip6_output for forwarded packets.</summary>
public static class Ip6Forward
{
    [KernelSymbol("ip6_forward", "net/ipv6/ip6_output.c")]
    /// <param name="nexthop">The sibling fib6_select_path chose for a multipath route (null: the route's own nexthop).</param>
    public static void Forward(SkBuff skb, TraceBuilder t, Route r, IpAddr src, IpAddr dst, RouteNexthop? nexthop = null)
    {
        const string S = "Ip6Forward", F = "ip6_forward";
        var ns = skb.Netns;
        if (!ns.Sysctls.Ipv6Forwarding)
        {
            t.Drop(skb, S, F, "IP_INADDRERRORS", $"{dst} is not local and IPv6 forwarding is off (net.ipv6.conf.all.forwarding = 0)");
            return;
        }
        if (skb.PktType != PacketType.Host) { t.Drop(skb, S, F, "OTHERHOST", "link-layer broadcast/multicast frame is not forwarded"); return; }
        if (skb.Sk is { } sk) { t.Drop(skb, S, F, "NOT_SPECIFIED", $"tproxy assigned it to a socket ({sk}), but the route forwards it: a packet with a socket is not forwarded"); return; }
        Ipv6Header.TryParse(skb.Network, out var ip6, out _);
        if (ip6.HopLimit <= 1)
        {
            Icmp6Send.Error(skb, t, Icmp6Send.TimeExceeded, 0, 0, $"ICMPv6 time exceeded (hop limit) to {src}");
            t.Drop(skb, S, F, "IP_INHDR", $"hop limit {ip6.HopLimit} would expire: ICMPv6 time exceeded sent to {src}");
            return;
        }
        var device = nexthop?.Device ?? r.Device;
        var gateway = nexthop is null ? r.Gateway : nexthop.Gateway;
        var outDev = device is null ? null : ns.Device(device);
        if (outDev is null || !outDev.IsUp) { t.Drop(skb, S, F, "IP_OUTNOROUTES", $"route {r}: output device is missing or down"); return; }
        string redirect = "";
        if (outDev == skb.Dev)
        {
            // ndisc_send_redirect: the target must be the destination itself or a link-local router.
            var target = gateway ?? dst;
            if (target == dst || target.IsLinkLocal)
            {
                redirect = $"; leaves by the device it came in on, so a redirect is sent to {src} (at most one per second per destination)";
                t.Generate($"ICMPv6 redirect for {dst} to {target}, sent to {src} (rate limited: one per second)");
            }
            else redirect = $"; leaves by the device it came in on; no redirect (the next hop {target} is not link-local)";
        }
        else if (src.IsZero || src.IsMulticast || src.IsLoopback)
        {
            t.Drop(skb, S, F, "IP_INADDRERRORS", $"source {src} may not be forwarded");
            return;
        }
        else if (src.IsLinkLocal)
        {
            Icmp6Send.Error(skb, t, Icmp6Send.DestUnreach, 2, 0, $"ICMPv6 destination unreachable, beyond scope of source address, to {src}");
            t.Drop(skb, S, F, "IP_INADDRERRORS", $"link-local source {src} cannot leave {skb.Dev.Name}: ICMPv6 beyond scope sent");
            return;
        }
        int length = skb.Length - skb.NetworkHeader;
        // ip6_dst_mtu_maybe_forward: a route mtu counts here only when locked; unlocked, ip6_fragment
        // (dst_mtu) applies it after the hooks
        int mtu = Math.Max(r.MtuLocked && r.Mtu != 0 ? r.Mtu : outDev.Mtu, 1280);
        if (PktTooBig(skb, length, mtu))
        {
            string what = skb.FragInfo is null ? $"{length} bytes{(skb.Gso is { } big ? $" (a {big.Describe()}: segments of {big.SegmentLength} bytes)" : "")}"
                : $"{length} bytes reassembled from fragments of up to {skb.FragInfo.MaxSize} bytes";
            Icmp6Send.Error(skb, t, Icmp6Send.PacketTooBig, 0, (uint)mtu, $"ICMPv6 packet too big (mtu {mtu}) to {src}");
            skb.State.Gso.SetPathMtu(src, dst, mtu, skb.TimestampNs);
            t.Drop(skb, S, F, "PKT_TOO_BIG", $"{what} > {outDev.Name} MTU {mtu}: ICMPv6 packet too big sent to {src}");
            return;
        }
        byte hop = ip6.HopLimit;
        Ipv6HeaderWriter.DecrementHopLimit(skb.Network);
        t.Stage(skb, S, F, Verdict.Pass, $"hop limit {hop} -> {hop - 1}, out {outDev.Name}{redirect}");
        Offload.SkbChecksum.ForwardCsum(skb);
        if (!NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.Forward, skb.Dev, outDev)) return;
        var inDev = skb.Dev;
        skb.Dev = outDev;
        if (!NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.PostRouting, inDev, outDev)) return;
        var nextHop = IPv4.RtNexthop.Of(skb, gateway, dst);
        if (Ip6FinishOutputGso.Output(skb, t, outDev, nextHop, Fate.Forwarded, $"ip6_finish_output2 to next hop {nextHop}", r.Mtu != 0 ? r.Mtu : outDev.Mtu)) return;
        if (Ip6Fragment.Output(skb, t, outDev, nextHop, Fate.Forwarded, $"ip6_finish_output2 to next hop {nextHop}", r.Mtu != 0 ? r.Mtu : null)) return;
        t.Stage(skb, "Ip6FinishOutput", "ip6_finish_output", Verdict.Pass, $"{length} bytes fit MTU {mtu}");
        DevQueueXmit.NeighOutput(skb, t, nextHop, Fate.Forwarded, $"ip6_finish_output2 to next hop {nextHop}");
    }

    /// <summary>
    /// ip6_pkt_too_big: a datagram conntrack reassembled (frag_max_size, ignore_df) may go on when the
    /// fragments it arrived in fit the MTU (it leaves as fragments again, Ip6Fragment); a GSO packet
    /// when each segment fits (skb_gso_validate_network_len).
    /// </summary>
    [KernelSymbol("ip6_pkt_too_big", "net/ipv6/ip6_output.c")]
    internal static bool PktTooBig(SkBuff skb, int length, int mtu)
    {
        if (length <= mtu) return false;
        if (skb.FragInfo is { } info) return info.MaxSize > mtu;
        return skb.Gso is not { } gso || !gso.ValidateNetworkLength(mtu);
    }
}
