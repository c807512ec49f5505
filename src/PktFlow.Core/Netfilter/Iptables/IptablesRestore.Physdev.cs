using PktFlow.Netfilter.Nftables;

namespace PktFlow.Netfilter.Iptables;

/// <summary>
/// xt_physdev (physdev_mt): the bridge ports br_netfilter recorded. A packet without nf_bridge info (not
/// bridged, or locally sent) matches only when every option given is inverted. With it: --physdev-is-bridged
/// asks for an out port, --physdev-is-in / -is-out for an in / out port; --physdev-in NAME compares only
/// when there is an in port and --physdev-out only when there is an out port (a missing port passes).
/// NAME ending in + compares the prefix (ifname_compare_aligned with the rule's mask).
/// </summary>
internal sealed class PhysdevMatch : NftStmt
{
    public string? In, Out; public bool InNeg, OutNeg;
    public bool? IsIn, IsOut, IsBridged; // null: not given; false: given with !

    public override bool Eval(NftEvalCtx c)
    {
        if (c.P.NfBridge is not { } nb)
            return IsBridged != true && IsIn != true && IsOut != true && (In is null || InNeg) && (Out is null || OutNeg);
        var outdev = nb.PhysOut;
        if (IsBridged is { } b && (outdev is not null) != b) return false;
        if (IsIn is { } i && !i) return false; // an in port always exists when nf_bridge info does
        if (IsOut is { } o && (outdev is not null) != o) return false;
        if (In is not null && Name(nb.PhysIn, In) == InNeg) return false;
        if (Out is null || outdev is null) return true;
        return Name(outdev, Out) != OutNeg;
    }

    private static bool Name(string dev, string pattern) =>
        pattern.EndsWith('+') ? dev.StartsWith(pattern[..^1], StringComparison.Ordinal) : dev == pattern;
}

public static partial class IptablesRestore
{
    /// <summary>-m physdev: a compat match (nft lists `xt match physdev`); at least one option (libxt_physdev).</summary>
    private static void PhysdevOption(PhysdevMatch m, string o, Func<string> value, bool negated, Func<string, string, IptablesParseException> E)
    {
        switch (o)
        {
            case "--physdev-in": m.In = Ifname(value(), E); m.InNeg = negated; return;
            case "--physdev-out": m.Out = Ifname(value(), E); m.OutNeg = negated; return;
            case "--physdev-is-in": m.IsIn = !negated; return;
            case "--physdev-is-out": m.IsOut = !negated; return;
            case "--physdev-is-bridged": m.IsBridged = !negated; return;
        }
        throw E(o, $"unknown option '{o}' for match 'physdev'");

        static string Ifname(string v, Func<string, string, IptablesParseException> E) =>
            v.Length is > 0 and < 16 ? v : throw E(v, $"interface name '{v}' must be shorter than 16 characters");
    }
}
