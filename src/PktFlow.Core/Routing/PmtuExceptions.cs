using System.Globalization;
using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Routing;

/// <summary>
/// Path MTUs a namespace learned from ICMP errors during one replay: IPv4 next-hop exceptions (fnhe,
/// made by __ip_rt_update_pmtu) and IPv6 cached routes (RTF_CACHE exceptions, rt6_do_update_pmtu),
/// by destination. Each expires mtu_expires seconds of capture time after it was learned
/// (net.ipv4.route.mtu_expires, net.ipv6.route.mtu_expires, 600 by default). The kernel hangs an
/// IPv4 exception on the nexthop its route used; routes do not change during a replay, so the
/// destination is key enough.
/// </summary>
public sealed class PmtuExceptions
{
    /// <summary>One learned path MTU. <see cref="Locked"/>: clamped to min_pmtu (fnhe_mtu_locked), so
    /// no further update takes and IP_PMTUDISC_WANT sockets stop setting DF.</summary>
    /// <param name="Via">The route's next hop and device (`via 10.1.0.1 dev eth0`), as ip route show cache prints them.</param>
    public sealed record Entry(IpAddr Destination, int Mtu, bool Locked, long LearnedNs, long ExpiresNs, string Via)
    {
        /// <summary>What the route stage says of it at <paramref name="nowNs"/>.</summary>
        public string Describe(long nowNs) =>
            $"path MTU {Mtu} learned from an ICMP error {Seconds(nowNs - LearnedNs)} s earlier{(Locked ? " (below min_pmtu: locked)" : "")}, expires in {Seconds(ExpiresNs - nowNs)} s";
    }

    private readonly Dictionary<IpAddr, Entry> _entries = new();

    /// <summary>Exceptions held, expired ones not swept yet included.</summary>
    public int Count => _entries.Count;

    /// <summary>Exceptions learned and not expired yet at <paramref name="nowNs"/>.</summary>
    public IEnumerable<Entry> Valid(long nowNs) => _entries.Values.Where(e => nowNs < e.ExpiresNs);

    /// <summary>The exception for <paramref name="destination"/> still in force at <paramref name="nowNs"/>
    /// (ipv4_mtu: rt_pmtu until dst.expires; an expired one is gone, as find_exception frees it).</summary>
    public Entry? Find(IpAddr destination, long nowNs)
    {
        if (!_entries.TryGetValue(destination, out var e)) return null;
        if (nowNs < e.ExpiresNs) return e;
        _entries.Remove(destination);
        return null;
    }

    /// <summary>
    /// __ip_rt_update_pmtu (IPv4) or __ip6_rt_update_pmtu (IPv6) for a packet this namespace sent to
    /// <paramref name="destination"/>: returns what happened, in words.
    /// </summary>
    [KernelSymbol("__ip_rt_update_pmtu", "net/ipv4/route.c")]
    [KernelSymbol("__ip6_rt_update_pmtu", "net/ipv6/route.c")]
    public string Update(NetNamespace ns, IpAddr source, IpAddr destination, int mtu, long nowNs)
    {
        bool v6 = destination.IsV6;
        Forget(nowNs);
        var res = ns.Fib.Lookup(destination, source, "lo", null, 0);
        if (!res.Found || res.Route is not { } r) return $"no route to {destination}: nothing to update";
        var dev = r.Device is null ? null : ns.Device(r.Device);
        var now = Find(destination, nowNs);
        string via = $"{(r.Gateway is { } gw ? $"via {gw} " : "")}dev {r.Device}";
        int current = now?.Mtu ?? (r.Mtu != 0 ? r.Mtu : dev?.Mtu ?? 1500);
        int expires = Seconds(ns, v6 ? "net.ipv6.route.mtu_expires" : "net.ipv4.route.mtu_expires", 600);
        if (v6)
        {
            // IPv6 path MTU discovery is not optional: a route's mtu lock does not stop it
            if (mtu < 1280) return $"mtu {mtu} is below IPV6_MIN_MTU 1280: ignored";
            if (mtu >= current) return $"mtu {mtu} is not below the current {current}: ignored";
            _entries[destination] = new Entry(destination, mtu, false, nowNs, nowNs + expires * 1_000_000_000L, via);
            return $"learned: path MTU {mtu} to {destination} (was {current}), a cached route expiring in {expires} s (net.ipv6.route.mtu_expires)";
        }
        if (r.MtuLocked) return $"route {r} has a locked mtu: ignored";
        if (now is { Locked: true }) return $"the path MTU {now.Mtu} to {destination} is locked: ignored";
        if (current < mtu) return $"mtu {mtu} is above the current {current}: ignored";
        int min = Seconds(ns, "net.ipv4.route.min_pmtu", 552);
        bool locked = false;
        string clamp = "";
        if (mtu < min)
        {
            (locked, clamp) = (true, $" (mtu {mtu} below net.ipv4.route.min_pmtu {min}: clamped and locked)");
            mtu = Math.Min(current, min);
        }
        // an exception with this mtu is refreshed only once half its lifetime is over
        if (now is not null && now.Mtu == mtu && !locked && nowNs < now.ExpiresNs - expires * 500_000_000L)
            return $"path MTU {mtu} to {destination} already learned: kept (refreshed only after half of mtu_expires)";
        _entries[destination] = new Entry(destination, mtu, locked, nowNs, nowNs + expires * 1_000_000_000L, via);
        return $"learned: path MTU {mtu} to {destination} (was {current}){clamp}, a next-hop exception expiring in {expires} s (net.ipv4.route.mtu_expires)";
    }

    /// <summary>Drops the expired exceptions, so that a long capture keeps none it can no longer use.</summary>
    private void Forget(long nowNs)
    {
        if (_entries.Count < 64) return;
        foreach (var e in _entries.Values.Where(e => nowNs >= e.ExpiresNs).ToList()) _entries.Remove(e.Destination);
    }

    private static int Seconds(NetNamespace ns, string key, int fallback) =>
        int.TryParse(ns.Sysctls.Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v : fallback;

    private static string Seconds(long ns) => (ns / 1e9).ToString("0.###", CultureInfo.InvariantCulture);
}
