using PktFlow.Datapath;
using PktFlow.IPv4;
using PktFlow.Wire;

namespace PktFlow.IPv6;

/// <summary>
/// ICMPv6 rate limiting (net/ipv6/icmp.c) as the recording kernel (6.18 with upstream 0201eedb69b2)
/// does it, on top of the limiter IPv4 shares (<see cref="IcmpRateLimit"/>):
/// <list type="bullet">
/// <item>icmpv6_mask_allow: any type 0-255 is limited when its bit is in net.ipv6.icmp.ratemask
/// (default 0-1,3-127: errors but packet too big; echo replies only when 129 is added).</item>
/// <item>icmpv6_global_allow: the namespace's icmp_global_allow credit, skipped (and so both limits)
/// for a packet that came in on loopback.</item>
/// <item>icmpv6_xrlim_allow: the route back; none (not sent) when it is an error route, no bucket
/// when it is local (loopback device); else the destination's inet_peer token bucket at
/// net.ipv6.icmp.ratelimit (ms, default 100) a message, burst 6. This kernel no longer divides the
/// interval by 2^((128 - prefix length) / 32): the bucket is per host, whatever the route's prefix.</item>
/// </list>
/// </summary>
public static class Icmp6RateLimit
{
    public const string DefaultRatemask = "0-1,3-127";
    public const int DefaultRatelimitMs = 100;

    /// <summary>icmpv6_global_allow, with icmp6_send's and icmpv6_echo_reply's exemption of packets that came in on loopback.</summary>
    [KernelSymbol("icmpv6_global_allow", "net/ipv6/icmp.c")]
    public static IcmpGate GlobalAllow(SkBuff skb, byte type) =>
        IcmpRateLimit.GlobalAllow(skb, !skb.Dev.IsLoopback && !MaskAllow(skb.Netns.Sysctls.Get("net.ipv6.icmp.ratemask"), type));

    /// <summary>icmpv6_xrlim_allow: the per-destination limit once the global one let the message through.</summary>
    [KernelSymbol("icmpv6_xrlim_allow", "net/ipv6/icmp.c")]
    public static IcmpLimitResult XrlimAllow(SkBuff skb, IcmpGate gate, IpAddr destination)
    {
        if (!gate.ApplyRateLimit) return IcmpLimitResult.Unlimited;
        var ns = skb.Netns;
        if (!ns.Fib.Lookup(destination, null, "lo", null, 0).Found)
            return new(false, $"icmpv6_xrlim_allow: no route back to {destination}", false);
        long ms = IcmpRateLimit.ParseInt(ns.Sysctls.Get("net.ipv6.icmp.ratelimit"), DefaultRatelimitMs);
        return IcmpRateLimit.PeerAllow(skb, gate, destination, IcmpRateLimit.MsToJiffies(ms), $"net.ipv6.icmp.ratelimit {ms} ms");
    }

    /// <summary>
    /// icmpv6_mask_allow: true when the type is NOT limited. net.ipv6.icmp.ratemask is a bitmap list
    /// ("0-1,3-127", proc_do_large_bitmap); an empty value limits nothing.
    /// </summary>
    [KernelSymbol("icmpv6_mask_allow", "net/ipv6/icmp.c")]
    public static bool MaskAllow(string? ratemask, byte type)
    {
        foreach (var part in (ratemask ?? DefaultRatemask).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var ends = part.Split('-');
            if (int.TryParse(ends[0], out var lo) && int.TryParse(ends[^1], out var hi) && type >= lo && type <= hi) return false;
        }
        return true;
    }
}
