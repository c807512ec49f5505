using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.IPv4;

/// <summary>Whether an ICMP message may be sent, and why not.</summary>
public readonly record struct IcmpLimitResult(bool Allowed, string Detail, bool Uncertain)
{
    /// <summary>Appended to the description of a message that was sent but whose fate depended on chance.</summary>
    public string Suffix => Uncertain ? $" ({Detail})" : "";
}

/// <summary>
/// ICMP rate limiting as net/ipv4/icmp.c and net/ipv6/icmp.c do it, against capture time:
/// <list type="bullet">
/// <item>icmpv4_mask_allow / icmpv6_mask_allow: only types in net.ipv4.icmp_ratemask (default 0x1818:
/// unreachable, source quench, time exceeded, parameter problem; never fragmentation needed) or
/// net.ipv6.icmp.ratemask (default 0-1,3-127: errors but packet too big) are limited.</item>
/// <item>icmp_global_allow: one per-namespace credit shared by IPv4 and IPv6, refilled with
/// icmp_msgs_per_sec × elapsed (at most one second's worth, only after 20 ms, only when the credit is
/// used up) up to icmp_msgs_burst; icmp_global_consume takes a random 0, 1 or 2 credits per message
/// sent (since 6.11, against probing). The model follows the mean (1 credit) and also runs the two
/// extremes; when they disagree the outcome depended on chance and the result says so.</item>
/// <item>inet_peer_xrlim_allow: per destination a token bucket in jiffies, net.ipv4.icmp_ratelimit
/// (ms, default 1000) per message, burst 6 messages, a new destination starts full. IPv6 divides
/// net.ipv6.icmp.ratelimit by 2^((128 - route prefix length) / 32).</item>
/// </list>
/// Jiffies are capture time × HZ (250, CONFIG_HZ of the recording kernel); the phase of the tick is
/// not in a capture, so decisions within one tick of a boundary can differ.
/// </summary>
public static class IcmpRateLimit
{
    public const int Hz = 250;
    private const int BurstFactor = 6; // XRLIM_BURST_FACTOR

    /// <summary>Per-namespace limiter state.</summary>
    public sealed class State
    {
        // The global credit under three consumption assumptions: 0, 1 (the mean) and 2 credits per message.
        internal readonly long[] Credit = new long[3];
        internal readonly long[] Stamp = new long[3];
        internal readonly Dictionary<IpAddr, (long Tokens, long Last)> Peers = new();
    }

    private static long Jiffies(long ns) => ns / (1_000_000_000L / Hz);

    private static long MsToJiffies(long ms) => (ms * Hz + 999) / 1000;

    [KernelSymbol("icmpv4_xrlim_allow", "net/ipv4/icmp.c")]
    public static IcmpLimitResult Allow(SkBuff skb, byte type, byte code, IpAddr destination)
    {
        var sys = skb.Netns.Sysctls;
        int mask = ParseInt(sys.Get("net.ipv4.icmp_ratemask"), 0x1818);
        bool limited = type <= 18 && !(type == IcmpSend.DestUnreach && code == IcmpSend.FragNeeded) && (mask & (1 << type)) != 0;
        if (!limited) return new(true, "", false);
        long ms = ParseInt(sys.Get("net.ipv4.icmp_ratelimit"), 1000);
        return Limit(skb, destination, MsToJiffies(ms), $"net.ipv4.icmp_ratelimit {ms} ms");
    }

    [KernelSymbol("icmpv6_xrlim_allow", "net/ipv6/icmp.c")]
    public static IcmpLimitResult Allow6(SkBuff skb, byte type, IpAddr destination)
    {
        var sys = skb.Netns.Sysctls;
        if (type >= 128 || type == 2 || !InV6Mask(sys.Get("net.ipv6.icmp.ratemask"), type)) return new(true, "", false);
        long ms = ParseInt(sys.Get("net.ipv6.icmp.ratelimit"), 1000);
        long tmo = MsToJiffies(ms);
        var res = skb.Netns.Fib.Lookup(destination, null, "lo", null, 0);
        int plen = res.Route?.Destination.Length ?? 0;
        if (plen < 128) tmo >>= (128 - plen) >> 5; // wider prefixes get more bandwidth
        return Limit(skb, destination, tmo, $"net.ipv6.icmp.ratelimit {ms} ms for a /{plen} route");
    }

    private static IcmpLimitResult Limit(SkBuff skb, IpAddr destination, long timeout, string what)
    {
        var st = skb.State.IcmpLimits;
        var sys = skb.Netns.Sysctls;
        long now = Jiffies(skb.TimestampNs);
        long perSec = ParseInt(sys.Get("net.ipv4.icmp_msgs_per_sec"), 1000), burst = ParseInt(sys.Get("net.ipv4.icmp_msgs_burst"), 50);
        var global = new bool[3];
        for (int i = 0; i < 3; i++) global[i] = GlobalAllow(st, i, now, perSec, burst);
        if (!global[1])
            return new(false, $"icmp_global_allow: the namespace's ICMP credit is used up (net.ipv4.icmp_msgs_per_sec {perSec}, icmp_msgs_burst {burst})", global[0] != global[2]);
        // inet_peer_xrlim_allow: tokens accrue one per jiffy up to six messages' worth.
        var (tokens, last) = st.Peers.TryGetValue(destination, out var p) ? p : (0L, now - 60L * Hz);
        long delta = now - last;
        if (delta > 0) { last = now; tokens = Math.Min(tokens + delta, BurstFactor * timeout); }
        bool ok = tokens >= timeout;
        if (ok) tokens -= timeout;
        st.Peers[destination] = (tokens, last);
        if (!ok) return new(false, $"inet_peer_xrlim_allow: the token bucket for {destination} is empty ({what}, burst {BurstFactor})", false);
        for (int i = 0; i < 3; i++) if (global[i]) st.Credit[i] -= i; // icmp_global_consume
        bool uncertain = global[0] != global[2];
        return new(true, uncertain ? "the global ICMP credit was nearly used up: whether it was sent depended on icmp_global_consume's random draw" : "", uncertain);
    }

    /// <summary>icmp_global_allow for one consumption assumption.</summary>
    [KernelSymbol("icmp_global_allow", "net/ipv4/icmp.c")]
    private static bool GlobalAllow(State st, int variant, long now, long perSec, long burst)
    {
        if (st.Credit[variant] > 0) return true;
        long delta = Math.Min(now - st.Stamp[variant], Hz); // a new namespace's stamp is 0: a full second
        if (st.Stamp[variant] == 0) delta = Hz;
        if (delta < Hz / 50) return false;
        long incr = perSec * delta / Hz;
        if (incr == 0) return false;
        st.Stamp[variant] = now;
        st.Credit[variant] = Math.Min(st.Credit[variant] + incr, burst);
        return true;
    }

    private static int ParseInt(string? s, int fallback) => int.TryParse(s?.Trim(), out var v) ? v : fallback;

    /// <summary>net.ipv6.icmp.ratemask is a bitmap list ("0-1,3-127").</summary>
    private static bool InV6Mask(string? mask, byte type)
    {
        foreach (var part in (mask ?? "0-1,3-127").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var ends = part.Split('-');
            if (int.TryParse(ends[0], out var lo) && int.TryParse(ends[^1], out var hi) && type >= lo && type <= hi) return true;
        }
        return false;
    }
}
