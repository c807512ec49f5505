using PktFlow.Datapath;
using PktFlow.Routing;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.IPv4;

/// <summary>Whether an ICMP message may be sent, and why not.</summary>
public readonly record struct IcmpLimitResult(bool Allowed, string Detail, bool Uncertain)
{
    /// <summary>Appended to the description of a message that was sent but whose fate depended on chance.</summary>
    public string Suffix => Uncertain ? $" ({Detail})" : "";

    internal static readonly IcmpLimitResult Unlimited = new(true, "", false);
}

/// <summary>
/// What icmpv4_global_allow / icmpv6_global_allow answered: apply_ratelimit (false when the type is not
/// in the ratemask or the packet came in on loopback: then neither limit applies) and, when it is
/// true, icmp_global_allow under the three consumption assumptions (0, 1 and 2 credits a message).
/// </summary>
public readonly struct IcmpGate
{
    private readonly bool[]? _global;

    internal IcmpGate(bool[]? global, string detail) { _global = global; Detail = detail; }

    public bool ApplyRateLimit => _global is not null;

    /// <summary>The mean assumption (one credit a message) decides; see <see cref="Uncertain"/>.</summary>
    public bool Allowed => _global is null || _global[1];

    /// <summary>The extremes disagree: whether the message went out depended on icmp_global_consume's random draw.</summary>
    public bool Uncertain => _global is not null && _global[0] != _global[2];

    internal bool Variant(int i) => _global![i];

    /// <summary>Why the global limit refused (empty when it did not).</summary>
    public string Detail { get; }
}

/// <summary>
/// ICMP rate limiting shared by net/ipv4/icmp.c and net/ipv6/icmp.c, against capture time:
/// <list type="bullet">
/// <item>icmpv4_mask_allow: only types in net.ipv4.icmp_ratemask (default 0x1818: unreachable, source
/// quench, time exceeded, parameter problem; never fragmentation needed) are limited (IPv6: <see cref="IPv6.Icmp6RateLimit"/>).</item>
/// <item>icmp_global_allow: one per-namespace credit shared by IPv4 and IPv6, refilled with
/// icmp_msgs_per_sec × elapsed (at most one second's worth, only after 20 ms, only when the credit is
/// used up) up to icmp_msgs_burst; icmp_global_consume takes a random 0, 1 or 2 credits per message
/// sent (since 6.11, against probing). The model follows the mean (1 credit) and also runs the two
/// extremes; when they disagree the outcome depended on chance and the result says so.</item>
/// <item>inet_peer_xrlim_allow: per destination a token bucket in jiffies, one message per
/// net.ipv4.icmp_ratelimit (ms, default 1000), burst 6 messages, a new destination starts full; none
/// when the route back is a local one (its device is loopback).</item>
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
        internal readonly Dictionary<IpAddr, (long Tokens, long Last, long Timeout)> Peers = new();
        /// <summary>ip_rt_send_redirect's n_redirects and rate_last per sender (kept apart from the ICMP bucket's rate_last, which the kernel's inet_peer shares).</summary>
        internal readonly Dictionary<IpAddr, (int N, long Last)> RedirectPeers = new();
        private long _nextSweep = long.MinValue;

        /// <summary>
        /// Forgets peers a new bucket would stand for exactly: a new one starts as if last used 60 s ago,
        /// so a peer idle that long whose bucket holds at most 60 s of tokens (burst x timeout) is full
        /// either way. Swept once a minute of capture time, so a long capture keeps no bucket per address.
        /// </summary>
        internal void SweepPeers(long now)
        {
            if (now < _nextSweep) return;
            _nextSweep = now + 60L * Hz;
            List<IpAddr>? idle = null;
            foreach (var (peer, p) in Peers)
                if (now - p.Last >= 60L * Hz && BurstFactor * p.Timeout <= 60L * Hz) (idle ??= []).Add(peer);
            if (idle is not null) foreach (var peer in idle) Peers.Remove(peer);
        }
    }

    internal static long Jiffies(long ns) => ns / (1_000_000_000L / Hz);

    /// <summary>msecs_to_jiffies, as proc_dointvec_ms_jiffies stores a ratelimit sysctl.</summary>
    public static long MsToJiffies(long ms) => (ms * Hz + 999) / 1000;

    /// <summary>
    /// icmpv4_global_allow then icmpv4_xrlim_allow. <paramref name="fromLoopbackExempt"/>: __icmp_send
    /// skips the global limit for a packet that came in on loopback (apply_ratelimit stays false);
    /// icmp_reply does not.
    /// </summary>
    [KernelSymbol("icmpv4_xrlim_allow", "net/ipv4/icmp.c")]
    public static IcmpLimitResult Allow(SkBuff skb, byte type, byte code, IpAddr destination, bool fromLoopbackExempt = true)
    {
        var sys = skb.Netns.Sysctls;
        int mask = ParseInt(sys.Get("net.ipv4.icmp_ratemask"), 0x1818);
        bool limited = type <= 18 && !(type == IcmpSend.DestUnreach && code == IcmpSend.FragNeeded) && (mask & (1 << type)) != 0;
        var gate = GlobalAllow(skb, limited && !(fromLoopbackExempt && skb.Dev.IsLoopback));
        if (!gate.Allowed) return Refused(gate);
        long ms = ParseInt(sys.Get("net.ipv4.icmp_ratelimit"), 1000);
        return PeerAllow(skb, gate, destination, MsToJiffies(ms), $"net.ipv4.icmp_ratelimit {ms} ms");
    }

    /// <summary>
    /// icmp_global_allow when the message is limited at all (<paramref name="limited"/>: its type is in
    /// the ratemask and it did not come in on loopback), else a gate with apply_ratelimit false.
    /// </summary>
    [KernelSymbol("icmp_global_allow", "net/ipv4/icmp.c")]
    public static IcmpGate GlobalAllow(SkBuff skb, bool limited)
    {
        if (!limited) return new IcmpGate(null, "");
        var st = skb.State.IcmpLimits;
        var sys = skb.Netns.Sysctls;
        long now = Jiffies(skb.TimestampNs);
        long perSec = ParseInt(sys.Get("net.ipv4.icmp_msgs_per_sec"), 1000), burst = ParseInt(sys.Get("net.ipv4.icmp_msgs_burst"), 50);
        var global = new bool[3];
        for (int i = 0; i < 3; i++) global[i] = GlobalAllow(st, i, now, perSec, burst);
        return new IcmpGate(global, $"icmp_global_allow: the namespace's ICMP credit is used up (net.ipv4.icmp_msgs_per_sec {perSec}, icmp_msgs_burst {burst})");
    }

    /// <summary>The result for a message the global limit refused.</summary>
    public static IcmpLimitResult Refused(IcmpGate gate) => new(false, gate.Detail, gate.Uncertain);

    /// <summary>
    /// The per-destination half of icmpv4_xrlim_allow / icmpv6_xrlim_allow after the route back is
    /// known: nothing to check without apply_ratelimit; a local route back (loopback device) passes
    /// without a bucket; else inet_peer_xrlim_allow. A message that passes consumes global credit
    /// (icmp_global_consume).
    /// </summary>
    [KernelSymbol("inet_peer_xrlim_allow", "net/ipv4/inetpeer.c")]
    public static IcmpLimitResult PeerAllow(SkBuff skb, IcmpGate gate, IpAddr destination, long timeout, string what)
    {
        if (!gate.ApplyRateLimit) return IcmpLimitResult.Unlimited;
        var st = skb.State.IcmpLimits;
        if (!LocalRouteBack(skb.Netns, destination))
        {
            // tokens accrue one per jiffy up to six messages' worth
            long now = Jiffies(skb.TimestampNs);
            st.SweepPeers(now);
            var (tokens, last) = st.Peers.TryGetValue(destination, out var p) ? (p.Tokens, p.Last) : (0L, now - 60L * Hz);
            long delta = now - last;
            if (delta > 0) { last = now; tokens = Math.Min(tokens + delta, BurstFactor * timeout); }
            bool ok = tokens >= timeout;
            if (ok) tokens -= timeout;
            st.Peers[destination] = (tokens, last, timeout);
            if (!ok) return new(false, $"inet_peer_xrlim_allow: the token bucket for {destination} is empty ({what}, burst {BurstFactor})", false);
        }
        for (int i = 0; i < 3; i++) if (gate.Variant(i)) st.Credit[i] -= i; // icmp_global_consume
        return gate.Uncertain
            ? new(true, "the global ICMP credit was nearly used up: whether it was sent depended on icmp_global_consume's random draw", true)
            : IcmpLimitResult.Unlimited;
    }

    /// <summary>The route back is a local one: its dst device is loopback ("No rate limit on loopback").</summary>
    private static bool LocalRouteBack(NetNamespace ns, IpAddr destination)
    {
        var r = ns.Fib.Lookup(destination, null, "lo", null, 0).Route;
        return r is not null && (r.Type == RouteType.Local || (r.Device is { } d && ns.Device(d)?.IsLoopback == true));
    }

    /// <summary>icmp_global_allow for one consumption assumption.</summary>
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

    internal static int ParseInt(string? s, int fallback) => int.TryParse(s?.Trim(), out var v) ? v : fallback;
}
