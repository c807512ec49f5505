using PktFlow.Datapath;
using PktFlow.Topology;

namespace PktFlow.Routing;

/// <summary>
/// A route through a nexthop group (`nhid G`, net/ipv4/nexthop.c): fib_select_multipath and
/// fib6_select_path hand the flow's hash to nexthop_select_path, which walks a hash-threshold group
/// (nexthop_select_path_hthr) with upper bounds from the members' weights (nh_hthr_group_rebalance),
/// skipping members that are not good (nexthop_is_good_nh: a gateway whose neighbour entry exists
/// but is not valid), and falls back to the first good member.
/// </summary>
public static class NexthopGroup
{
    [KernelSymbol("nexthop_select_path", "net/ipv4/nexthop.c")]
    internal static FibMultipath.Choice Select(NetNamespace ns, Route route, uint id, uint hash, string how, string tap)
    {
        var nhs = route.Nexthops!;
        // Every member counts: a nexthop whose device goes down leaves its groups (nexthop_flush_dev).
        var upper = FibMultipath.UpperBounds(nhs, _ => true);
        RouteNexthop? chosen = null, first = null;
        var skipped = new List<string>();
        var good = new List<RouteNexthop>();
        for (int i = 0; i < nhs.Count; i++)
        {
            var nh = nhs[i];
            if (NotGood(ns, nh) is { } why) { if (chosen is null) skipped.Add($"{nh} skipped: {why}"); continue; }
            first ??= nh;
            good.Add(nh);
            if (hash <= upper[i] && chosen is null) chosen = nh;
        }
        chosen ??= first ?? nhs[0];
        string notes = skipped.Count > 0 ? $"; {string.Join("; ", skipped)}" : "";
        return new FibMultipath.Choice(chosen, hash, $"{how}: hash {hash} -> {chosen}; nexthop group {id} (hash-threshold): {FibMultipath.Candidates(nhs, upper)}{notes}{tap}") { Allowed = good };
    }

    /// <summary>
    /// ipv4_good_nh / ipv6_good_nh: no neighbour entry counts as reachable; an entry that is not
    /// NUD_VALID (incomplete, failed, none) makes the member not good. Only the lab's or snapshot's
    /// static entries are known here.
    /// </summary>
    private static string? NotGood(NetNamespace ns, RouteNexthop nh)
    {
        if (nh.Gateway is not { } gw) return null;
        var entry = ns.Neighbours.FirstOrDefault(n => n.Device == nh.Device && n.Address == gw && !n.IsProxy);
        return entry is not null && entry.State.ToLowerInvariant() is "incomplete" or "failed" or "none"
            ? $"neighbour {entry} is not valid" : null;
    }
}
