using PktFlow.Wire;

namespace PktFlow.Routing;

/// <summary>What a policy rule does when it matches (FR_ACT_*).</summary>
public enum FibRuleAction { Lookup, Goto, Nop, Blackhole, Unreachable, Prohibit }

/// <summary>One `ip rule` (struct fib_rule): selectors, then an action; rules run by priority.</summary>
public sealed class FibRule
{
    public required IpFamily Family { get; init; }
    public uint Priority { get; init; }
    public bool Not { get; init; }
    public IpPrefix? From { get; init; }
    public IpPrefix? To { get; init; }
    public string? Iif { get; init; }
    public string? Oif { get; init; }
    public uint? FwMark { get; init; }
    public uint FwMask { get; init; } = 0xFFFF_FFFF;
    public FibRuleAction Action { get; init; } = FibRuleAction.Lookup;
    public uint Table { get; init; }
    public uint GotoTarget { get; init; }
    /// <summary>suppress_prefixlength: a route with a prefix this long or shorter is ignored.</summary>
    public int? SuppressPrefixLength { get; init; }

    /// <summary>fib_rule_match: every selector given must match; `not` inverts the whole.</summary>
    public bool Matches(IpAddr dst, IpAddr? src, string? iif, string? oif, uint mark)
    {
        bool m = (From is not { } f || (src is { } s && f.Contains(s)))
            && (To is not { } t || t.Contains(dst))
            && (Iif is null || Iif == iif)
            && (Oif is null || Oif == oif)
            && (FwMark is not { } fm || (mark & FwMask) == fm);
        return Not ? !m : m;
    }

    public static IReadOnlyList<FibRule> Defaults(IpFamily family) => family == IpFamily.V4
        ? new[]
        {
            new FibRule { Family = family, Priority = 0, Table = Topology.RouteTables.Local },
            new FibRule { Family = family, Priority = 32766, Table = Topology.RouteTables.Main },
            new FibRule { Family = family, Priority = 32767, Table = Topology.RouteTables.Default },
        }
        : new[]
        {
            new FibRule { Family = family, Priority = 0, Table = Topology.RouteTables.Local },
            new FibRule { Family = family, Priority = 32766, Table = Topology.RouteTables.Main },
        };

    /// <summary>As `ip rule` prints it.</summary>
    public override string ToString()
    {
        var parts = new List<string> { $"{Priority}:" };
        if (Not) parts.Add("not");
        parts.Add(From is { } f ? $"from {f}" : "from all");
        if (To is { } t) parts.Add($"to {t}");
        if (FwMark is { } m) parts.Add(FwMask == 0xFFFF_FFFF ? $"fwmark 0x{m:x}" : $"fwmark 0x{m:x}/0x{FwMask:x}");
        if (Iif is not null) parts.Add($"iif {Iif}");
        if (Oif is not null) parts.Add($"oif {Oif}");
        parts.Add(Action switch
        {
            FibRuleAction.Lookup => $"lookup {Topology.RouteTables.Name(Table)}",
            FibRuleAction.Goto => $"goto {GotoTarget}",
            _ => Action.ToString().ToLowerInvariant(),
        });
        if (SuppressPrefixLength is { } sp) parts.Add($"suppress_prefixlength {sp}");
        return string.Join(' ', parts);
    }
}
