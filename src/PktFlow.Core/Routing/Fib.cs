using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Routing;

/// <summary>What fib_lookup answered: the route and table, or the errno a route type or a miss gives.</summary>
public readonly record struct FibResult(Route? Route, uint Table, FibError Error)
{
    /// <summary>The policy rule that decided (null for the default rules' answer when no rule matched).</summary>
    public FibRule? Rule { get; init; }
    public bool Found => Error == FibError.None;
}

/// <summary>
/// The errors fib_table_lookup / fib_rules_lookup return (fib_props[type].error): blackhole -EINVAL,
/// unreachable -EHOSTUNREACH, prohibit -EACCES, no match in any table -ENETUNREACH.
/// </summary>
public enum FibError { None, NetUnreachable, HostUnreachable, Prohibited, Blackhole }

/// <summary>
/// The routing tables of one namespace, compiled once: per table and family, routes grouped by prefix
/// length (longest first) in hash maps, so a lookup costs one probe per distinct prefix length.
/// Rules (`ip rule`, the kernel's defaults unless changed) run by priority before the tables are asked.
/// </summary>
public sealed class Fib
{
    private sealed class Table
    {
        // (prefix length, masked address) -> routes ordered by metric, the way fib_alias lists are.
        public readonly SortedDictionary<int, Dictionary<IpAddr, List<Route>>> ByLength = new(Comparer<int>.Create((a, b) => b.CompareTo(a)));
        /// <summary>ByLength as an array, longest first: walking a SortedDictionary allocates its enumerator's stack per lookup.</summary>
        public (int Length, Dictionary<IpAddr, List<Route>> Map)[] Levels = Array.Empty<(int, Dictionary<IpAddr, List<Route>>)>();
    }

    private readonly Dictionary<(IpFamily, uint), Table> _tables = new();
    private readonly IReadOnlyList<FibRule> _rules4, _rules6;

    /// <summary>The policy rules in force, by family, in priority order (the defaults when the lab adds none).</summary>
    public IReadOnlyList<FibRule> Rules(IpFamily family) => family == IpFamily.V4 ? _rules4 : _rules6;

    public Fib(IEnumerable<Route> routes, IEnumerable<FibRule>? rules = null)
    {
        var all = rules?.ToList();
        _rules4 = all is null ? FibRule.Defaults(IpFamily.V4) : all.Where(r => r.Family == IpFamily.V4).OrderBy(r => r.Priority).ToList();
        _rules6 = all is null ? FibRule.Defaults(IpFamily.V6) : all.Where(r => r.Family == IpFamily.V6).OrderBy(r => r.Priority).ToList();
        foreach (var r in routes)
        {
            if (!_tables.TryGetValue((r.Family, r.Table), out var t)) _tables[(r.Family, r.Table)] = t = new Table();
            if (!t.ByLength.TryGetValue(r.Destination.Length, out var map)) t.ByLength[r.Destination.Length] = map = new();
            var key = r.Destination.Network;
            if (!map.TryGetValue(key, out var list)) map[key] = list = new();
            list.Add(r);
            list.Sort((a, b) => a.Metric.CompareTo(b.Metric));
        }
        foreach (var t in _tables.Values) t.Levels = t.ByLength.Select(kv => (kv.Key, kv.Value)).ToArray();
    }

    /// <summary>fib_lookup for a destination, walking the default rules in priority order.</summary>
    [Datapath.KernelSymbol("fib_lookup", "include/net/ip_fib.h")]
    [Datapath.KernelSymbol("fib6_lookup", "net/ipv6/ip6_fib.c")]
    public FibResult Lookup(IpAddr destination) => Lookup(destination, null, null, null, 0);

    /// <summary>fib_rules_lookup: the policy rules by priority, each selecting on the flow, then its table.</summary>
    [Datapath.KernelSymbol("fib_rules_lookup", "net/core/fib_rules.c")]
    /// <param name="nexthopOif">An output lookup with flowi4_oif set where the device also selects the route
    /// (fib_lookup_good_nhc): routes through other devices are passed over for less specific ones.</param>
    public FibResult Lookup(IpAddr destination, IpAddr? source, string? iif, string? oif, uint mark, string? nexthopOif = null)
    {
        var rules = Rules(destination.Family);
        for (int i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            if (!rule.Matches(destination, source, iif, oif, mark)) continue;
            switch (rule.Action)
            {
                case FibRuleAction.Nop: continue;
                case FibRuleAction.Blackhole: return new FibResult(null, 0, FibError.Blackhole) { Rule = rule };
                // fib4_rule_action: unreachable is -ENETUNREACH (a route of type unreachable is -EHOSTUNREACH)
                case FibRuleAction.Unreachable: return new FibResult(null, 0, FibError.NetUnreachable) { Rule = rule };
                case FibRuleAction.Prohibit: return new FibResult(null, 0, FibError.Prohibited) { Rule = rule };
                case FibRuleAction.Goto:
                    // ctarget: the first rule whose priority is exactly the target; none (unresolved): the goto is passed over
                    int j = i + 1;
                    while (j < rules.Count && rules[j].Priority != rule.GotoTarget) j++;
                    if (j < rules.Count) i = j - 1;
                    continue;
            }
            if (!_tables.TryGetValue((destination.Family, rule.Table), out var t)) continue;
            var r = LookupTable(t, destination, nexthopOif);
            if (r is null || r.Type == RouteType.Throw) continue; // -EAGAIN: go on with the next rule
            if (rule.SuppressPrefixLength is { } sp && r.Destination.Length <= sp) continue;
            return new FibResult(r, rule.Table, ErrorOf(r.Type)) { Rule = rule };
        }
        return new FibResult(null, 0, FibError.NetUnreachable);
    }

    /// <summary>One table's answer without the rules (inet_dev_addr_type asks the local table).</summary>
    public Route? LookupTable(IpAddr destination, uint table) =>
        _tables.TryGetValue((destination.Family, table), out var t) ? LookupTable(t, destination) : null;

    [Datapath.KernelSymbol("fib_table_lookup", "net/ipv4/fib_trie.c")]
    private static Route? LookupTable(Table t, IpAddr dst, string? nexthopOif = null)
    {
        foreach (var (len, map) in t.Levels)
            if (map.TryGetValue(dst.Mask(len), out var list) && list.Count > 0)
            {
                if (nexthopOif is null) return list[0];
                foreach (var r in list)
                    if (r.Device == nexthopOif || r.Device is null) return r;
            }
        return null;
    }

    public static FibError ErrorOf(RouteType type) => type switch
    {
        RouteType.Blackhole => FibError.Blackhole,
        RouteType.Unreachable => FibError.HostUnreachable,
        RouteType.Prohibit => FibError.Prohibited,
        _ => FibError.None,
    };
}
