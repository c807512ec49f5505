using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Nftables;

namespace PktFlow.Netfilter.Iptables;

/// <summary>
/// xt_connlabel (connlabel_mt): with the bit set, a match; else with --set the bit is set and it is a
/// match; else none. ! inverts the answer. A packet without a conntrack entry: no match (a match when inverted).
/// </summary>
internal sealed class ConnlabelMatch : NftStmt
{
    public int Bit; public bool Set; public bool Negate;
    public override bool Eval(NftEvalCtx c)
    {
        if (c.P.Conntrack is not { Original: not null } ct) return Negate;
        var labels = c.CtLabels ?? ct.Labels;
        var bit = UInt128.One << Bit;
        if ((labels & bit) != 0) return !Negate;
        if (Set) { c.CtLabels = labels | bit; return !Negate; }
        return Negate;
    }
}

public static partial class IptablesRestore
{
    /// <summary>
    /// -m connlabel [!] --label NAME|BIT [--set]: a compat match (nft lists `xt match connlabel`). A name is
    /// looked up in the given connlabel.conf (<see cref="IptablesLoadOptions.ConnLabels"/>, libxt_connlabel's
    /// /etc/xtables/connlabel.conf); a number is the bit.
    /// </summary>
    private static void ConnlabelOption(ConnlabelMatch m, string o, Func<string> value, bool negated, IptablesLoadOptions opt, Func<string, string, IptablesParseException> E)
    {
        switch (o)
        {
            case "--label":
                var v = value();
                m.Negate = negated;
                if (ulong.TryParse(v, out var n)) m.Bit = n <= 127 ? (int)n : throw E(v, $"connlabel: label {v} out of range (0-127)");
                else m.Bit = opt.ConnLabels?.Bit(v) ?? throw E(v, $"label '{v}' not found in config file {opt.ConnLabels?.Source ?? "/etc/xtables/connlabel.conf (none was given)"}");
                return;
            case "--set":
                if (negated) throw E(o, "connlabel: --set cannot be negated");
                m.Set = true;
                return;
        }
        throw E(o, $"unknown option '{o}' for match 'connlabel'");
    }
}
