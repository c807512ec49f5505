using PktFlow.Netfilter.Conntrack;

namespace PktFlow.Netfilter.Iptables;

public static partial class IptablesRestore
{
    /// <summary>
    /// -j CT in table raw: --notrack, or a template of --zone/--zone-orig/--zone-reply N, --helper NAME and
    /// --timeout NAME together (xt_ct_tg_check builds one template: nf_ct_tmpl_alloc with the zone, then
    /// xt_ct_set_helper, then xt_ct_set_timeout). With --notrack the rest is ignored: iptables-nft lists
    /// the rule as a plain `notrack` (checked on 6.18 with iptables-nft 1.8.9). --ctevents/--expevents
    /// only choose which events ctnetlink reports for the connection (the template's ecache extension):
    /// nothing on the packet path changes, but the template is still attached, so a later CT rule
    /// does nothing (xt_ct_target returns early when the skb has a conntrack).
    /// </summary>
    private static (string, string) CtTarget(IRule r, string t, List<(string K, string? V, bool Neg)> o, bool v6, int? proto,
        IptablesLoadOptions? opt, Func<string, string, IptablesParseException> E)
    {
        foreach (var x in o)
        {
            if (x.K is not ("--notrack" or "--helper" or "--timeout" or "--zone" or "--zone-orig" or "--zone-reply" or "--ctevents" or "--expevents"))
                throw E(x.K, $"unsupported: CT {x.K} (--notrack, --zone, --zone-orig, --zone-reply, --helper, --timeout, --ctevents and --expevents are modelled)");
            if (x.K is "--ctevents" or "--expevents") CtEvents(x.K, x.V, E);
        }
        if (o.Exists(x => x.K == "--notrack")) return ("notrack", "notrack");
        if (o.Count == 0) throw E(t, "unsupported: CT without options (a template that changes nothing)");
        var st = new CtTemplateStmt();
        var zones = o.FindAll(x => x.K is "--zone" or "--zone-orig" or "--zone-reply");
        if (zones.Count > 0) st.Zone = CtZone(zones[^1].K, zones[^1].V, E);
        if (o.FindLast(x => x.K == "--helper").V is { } helper) st.Helper = CtHelper(helper, proto, E);
        if (o.FindLast(x => x.K == "--timeout").V is { } timeout) st.Timeout = CtTimeoutPolicy(timeout, v6, proto, opt, E);
        // events alone: a template of the default zone, which changes nothing but is there
        if (st.Zone is null && st.Helper is null && st.Timeout is null) st.Zone = ConntrackZone.Default;
        r.Customs.Add(st);
        // a compat target: nft lists it `xt target CT`; the rule goes on (XT_CONTINUE)
        return ("xt target CT", Placeholder);
    }

    /// <summary>The event names libxt_CT 1.8.9 takes (ct_event_tbl, exp_event_tbl); others: "Unknown event type".</summary>
    private static void CtEvents(string k, string? v, Func<string, string, IptablesParseException> E)
    {
        string[] known = k == "--expevents" ? ["new"] : ["new", "related", "destroy", "reply", "assured", "protoinfo", "helper", "mark", "natseqinfo", "secmark"];
        foreach (var ev in (v ?? throw E(k, $"CT: option \"{k}\" requires an argument")).Split(','))
            if (!known.Contains(ev)) throw E(v, $"Unknown event type \"{ev}\"");
    }

    /// <summary>
    /// --zone N|mark (libxt_CT: a number up to 65535, or "mark": XT_CT_ZONE_MARK, the id taken from the
    /// packet's mark at nf_conntrack_in, see <see cref="ConntrackZone.ForPacket"/>), --zone-orig, --zone-reply.
    /// </summary>
    private static ConntrackZone CtZone(string k, string? v, Func<string, string, IptablesParseException> E)
    {
        byte dir = k switch { "--zone-orig" => ConntrackZone.OriginalDirection, "--zone-reply" => ConntrackZone.ReplyDirection, _ => ConntrackZone.BothDirections };
        if (v == "mark") return new ConntrackZone(0, dir) { FromMark = true };
        if (v is null || !ushort.TryParse(v, out var id))
            throw E(v ?? k, $"CT: bad value for option \"{k}\", or out of range (0-65535).");
        return new ConntrackZone(id, dir);
    }

    /// <summary>
    /// --helper NAME (xt_ct_set_helper): the helper for the rule's protocol, which -p must name (not
    /// negated); new connections the packet opens take it.
    /// </summary>
    private static ConntrackHelper CtHelper(string name, int? proto, Func<string, string, IptablesParseException> E)
    {
        if (proto is not { } p || p > 255) throw E(name, "CT --helper: You must specify a L4 protocol and not use inversions on it (-p tcp or -p udp)");
        if (!ConntrackHelper.Exists(name, (byte)p))
            throw E(name, $"CT --helper {name}: No such file or directory (the kernel has no such helper for protocol {p})");
        return ConntrackHelper.Find(name, (byte)p)
            ?? throw E(name, $"unsupported: CT --helper {name} (the {name} conntrack helper is not modelled; ftp and tftp are)");
    }
}
