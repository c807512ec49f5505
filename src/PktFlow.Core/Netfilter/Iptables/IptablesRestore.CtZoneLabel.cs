using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Nftables;

namespace PktFlow.Netfilter.Iptables;

/// <summary>
/// xt_CT --zone N | --zone-orig N | --zone-reply N (xt_ct_target): a packet without conntrack yet gets
/// the rule's template and its zone; one that already has a conntrack or template keeps it (the first
/// CT target wins). The target does not end the chain.
/// </summary>
internal sealed class CtTemplateZoneStmt : NftStmt
{
    public ConntrackZone Zone;
    public override bool Eval(NftEvalCtx c)
    {
        if (c.P.Conntrack is null && c.CtTemplateZone is null && !c.Notrack && c.CtTemplateTimeout is null && c.CtTemplateHelper is null)
            c.CtTemplateZone = Zone;
        return true;
    }
}

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
    /// <summary>-j CT --zone N (or --zone-orig / --zone-reply), alone: the zone template. With other options it is refused.</summary>
    private static (string, string)? CtZoneTarget(IRule r, List<(string K, string? V, bool Neg)> o, Func<string, string, IptablesParseException> E)
    {
        var z = o.FindAll(x => x.K is "--zone" or "--zone-orig" or "--zone-reply");
        if (z.Count == 0) return null;
        if (o.Count != 1) throw E(o.Find(x => !z.Contains(x)).K ?? z[1].K, "unsupported: CT --zone with other options (CT --zone N alone is modelled)");
        var (k, v, _) = z[0];
        // libxt_CT: a number up to 65535 ("mark" takes the packet's mark, not modelled)
        if (v is null || !ushort.TryParse(v, out var id)) throw E(v ?? k, v == "mark" ? "unsupported: CT --zone mark (the zone from the packet's mark)" : $"CT: bad value for option \"{k}\", or out of range (0-65535).");
        byte dir = k switch { "--zone-orig" => ConntrackZone.OriginalDirection, "--zone-reply" => ConntrackZone.ReplyDirection, _ => ConntrackZone.BothDirections };
        r.Customs.Add(new CtTemplateZoneStmt { Zone = new ConntrackZone(id, dir) });
        return ("xt target CT", Placeholder);
    }

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
