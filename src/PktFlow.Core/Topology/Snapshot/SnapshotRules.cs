using PktFlow.Routing;
using PktFlow.Wire;

namespace PktFlow.Topology.Snapshot;

/// <summary>
/// `ip -j rule` / `ip -j -6 rule` as struct fib_rule: the listing is the namespace's whole rule list
/// (the kernel's default rules included, or missing when someone deleted them), so it replaces the
/// defaults. A rule with a selector the model does not evaluate is left out and named, since
/// evaluating it without that selector would match packets the kernel does not.
/// </summary>
internal static class SnapshotRules
{
    /// <summary>Selectors iproute2 prints that fib_rule_match / fib4_rule_match evaluate but the model does not.</summary>
    private static readonly HashSet<string> NotModelled =
        ["tos", "dsfield", "ipproto", "sport", "dport", "uid_start", "uid_end", "l3mdev", "realms", "suppress_ifgroup", "tun_id", "flowlabel", "dscp"];

    public static List<FibRule> Rules(SnapshotJson root, IpFamily family, Func<SnapshotJson, uint> table, List<string> unmodelled)
    {
        var rules = new List<FibRule>();
        foreach (var r in root.Items())
        {
            var skipped = r.Members().Select(m => m.Name).Where(NotModelled.Contains).ToList();
            if (skipped.Count > 0)
            {
                unmodelled.Add($"{r.File}: {r.Path}: rule {r.Compact()} (selector {string.Join(", ", skipped)} not modelled; the rule is left out)");
                continue;
            }
            rules.Add(Rule(r, family, table));
        }
        return rules;
    }

    private static FibRule Rule(SnapshotJson r, IpFamily family, Func<SnapshotJson, uint> table)
    {
        var action = FibRuleAction.Lookup;
        if (r.Has("goto")) action = FibRuleAction.Goto;
        else if (r.Has("nop")) action = FibRuleAction.Nop;
        else if (r.Opt("action") is { } a)
            action = a.Text() switch
            {
                "unreachable" => FibRuleAction.Unreachable,
                "prohibit" => FibRuleAction.Prohibit,
                "blackhole" => FibRuleAction.Blackhole,
                _ => throw a.Error("unreachable, prohibit or blackhole"),
            };
        return new FibRule
        {
            Family = family,
            Priority = (uint)(r.Opt("priority")?.Integer(0, uint.MaxValue) ?? 0),
            Not = r.Has("not"),
            From = Selector(r, "src", "srclen", family),
            To = Selector(r, "dst", "dstlen", family),
            Iif = r.Opt("iif")?.Text(),
            Oif = r.Opt("oif")?.Text(),
            FwMark = r.Opt("fwmark") is { } m ? Hex(m) : null,
            FwMask = r.Opt("fwmask") is { } mask ? Hex(mask) : 0xFFFF_FFFF,
            Action = action,
            Table = action == FibRuleAction.Lookup && r.Opt("table") is { } t ? table(t) : 0,
            GotoTarget = (uint)(r.Opt("goto")?.Integer(0, uint.MaxValue) ?? 0),
            SuppressPrefixLength = r.Opt("suppress_prefixlen")?.Int(0, 128),
        };
    }

    /// <summary>"all", or an address with its length in a sibling member (`"src": "10.0.2.0", "srclen": 24`).</summary>
    private static IpPrefix? Selector(SnapshotJson r, string name, string lengthName, IpFamily family)
    {
        if (r.Opt(name) is not { } v || v.Text() == "all") return null;
        var address = v.Address(family);
        int length = r.Opt(lengthName)?.Int(0, address.BitLength) ?? address.BitLength;
        return new IpPrefix(address, length);
    }

    /// <summary>fwmark and fwmask are printed as "0x2".</summary>
    private static uint Hex(SnapshotJson v)
    {
        var s = v.Text();
        bool ok = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.TryParse(s.AsSpan(2), System.Globalization.NumberStyles.HexNumber, null, out var x)
            : uint.TryParse(s, out x);
        return ok ? x : throw v.Error("a mark such as 0x2");
    }
}
