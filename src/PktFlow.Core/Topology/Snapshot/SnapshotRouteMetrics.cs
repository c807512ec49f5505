namespace PktFlow.Topology.Snapshot;

/// <summary>
/// A route's metrics (RTA_METRICS) as a snapshot holds them. `ip -j route` prints them as
/// `"metrics":[{"mtu":1400,"advmss":1100}]` but leaves out which are locked (RTAX_LOCK): iproute2
/// 6.1 prints `lock` only in its text form (`mtu lock 1300`). So the collector also writes
/// route4.txt / route6.txt (`ip -4|-6 route show table all`), the same dump as text, and the lock of
/// the mtu is read from the text line at the same position.
/// </summary>
internal static class SnapshotRouteMetrics
{
    /// <summary>
    /// The text lines of `ip route show`, one per route: a multipath route's `nexthop` lines are
    /// indented continuations of the route's line.
    /// </summary>
    public static List<string> RouteLines(IEnumerable<string> lines)
    {
        var routes = new List<string>();
        foreach (var line in lines)
        {
            if (line.Trim().Length == 0) continue;
            if (char.IsWhiteSpace(line[0]) && routes.Count > 0) routes[^1] += " " + line.Trim();
            else routes.Add(line.Trim());
        }
        return routes;
    }

    /// <summary>
    /// The mtu metric of one route (0: none) and whether it is locked. <paramref name="textLine"/> is
    /// the route's line of routeN.txt, null when the snapshot has no text form or it cannot be paired
    /// (then a route with an mtu gets a warning and is taken as unlocked). Metrics other than mtu are
    /// unmodelled lines.
    /// </summary>
    public static (int Mtu, bool Locked) Mtu(SnapshotJson metrics, string route, string? textLine, string? whyNoText,
        List<string> unmodelled, List<string> warnings)
    {
        int mtu = 0;
        var others = new List<string>();
        foreach (var set in metrics.Items())
            foreach (var (name, value) in set.Members())
            {
                if (name == "mtu") mtu = value.Int(1);
                else others.Add($"{name} {value.Text()}");
            }
        if (others.Count > 0)
            unmodelled.Add($"{metrics.File}: {metrics.Path}: route {route} has metrics {string.Join(", ", others)} (not modelled)");
        if (mtu == 0) return (0, false);
        if (textLine is null)
        {
            warnings.Add($"{metrics.File}: {metrics.Path}: route {route} has mtu {mtu}; `ip -j` does not say whether it is locked and {whyNoText}: taken as not locked");
            return (mtu, false);
        }
        var (textMtu, locked) = TextMtu(textLine);
        if (textMtu != mtu)
            throw metrics.Problem($"mtu {mtu}, but the text form of the same route says '{textLine}' (were the files of two different snapshots mixed?)");
        return (mtu, locked);
    }

    /// <summary>`... mtu 1400 ...` or `... mtu lock 1300 ...` of a text route line; (0, false) without one.</summary>
    private static (int Mtu, bool Locked) TextMtu(string line)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 1; i < words.Length - 1; i++)
        {
            if (words[i] != "mtu" || words[i - 1] == "dev") continue;
            var locked = words[i + 1] == "lock";
            var value = locked && i + 2 < words.Length ? words[i + 2] : words[i + 1];
            return (int.TryParse(value, out var n) ? n : -1, locked);
        }
        return (0, false);
    }
}
