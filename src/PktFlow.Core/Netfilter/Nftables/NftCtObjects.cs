using PktFlow.Netfilter.Conntrack;
using PktFlow.Wire;

namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// The conntrack objects of a table (nft_ct.c): <c>ct helper NAME { type "ftp" protocol tcp; [l3proto ip;] }</c>,
/// <c>ct timeout NAME { protocol tcp; policy = { established: 120 }; [l3proto ip;] }</c> and
/// <c>ct expectation NAME { protocol tcp; dport 21; timeout 2m; size 8; [l3proto ip;] }</c>, set on a new
/// connection by <c>ct helper|timeout|expectation set "NAME"</c> (or through a map). A timeout object's
/// policy is attached to the new connection (<see cref="ConntrackTimeoutPolicy"/>), a helper object's
/// helper too (ftp and tftp are modelled: <see cref="ConntrackHelper"/>); expectation objects are not
/// modelled: a rule setting one goes on to its next statement and the packet's trace says what was not done.
/// secmark objects are refused: an SELinux label changes what happens to the packet in ways the model does
/// not follow. (synproxy objects: NftSynproxy.cs.)
/// </summary>
internal sealed partial class NftParser
{
    private static readonly HashSet<string> CtObjectFields = new() { "type", "protocol", "l3proto", "policy", "dport", "timeout", "size", "comment" };

    /// <summary>After <c>ct</c> in a table block or an <c>add ct</c> command: <c>helper|timeout|expectation NAME { ... }</c>.</summary>
    private NftObject CtObjectDecl(NftTable tb, NftTok kindTok, NftTok name)
    {
        if (kindTok.Text is not ("helper" or "timeout" or "expectation"))
            throw NftTokenStream.Error(kindTok, $"unsupported table object 'ct {kindTok.Text}'");
        var kind = "ct " + kindTok.Text;
        Ident(name);
        if (!tb.ObjectMap.TryGetValue(name.Text, out var o))
            tb.ObjectMap[name.Text] = o = new NftObject { Table = tb, Kind = kind, Name = name.Text };
        else if (o.Kind != kind) throw NftTokenStream.Error(name, $"'{name.Text}' is already a {o.Kind}");
        _s.Expect("{");
        var fields = new Dictionary<string, List<NftTok>>();
        while (true)
        {
            _s.SkipSeps();
            var key = _s.Next();
            if (key.Is("}")) break;
            if (key.Kind == TokKind.Eof) throw NftTokenStream.Error(key, "syntax error, unexpected end of file");
            var vals = new List<NftTok>();
            int depth = 0;
            // `type "ftp" protocol tcp` on one line: a field ends where the next one's name starts
            while (depth > 0 || !(_s.Peek().IsSep || _s.Peek().Is("}") || _s.Peek().Kind == TokKind.Eof
                || vals.Count > 0 && _s.Peek().Kind == TokKind.Word && CtObjectFields.Contains(_s.Peek().Text)))
            {
                var v = _s.Next();
                if (v.Is("{")) depth++; else if (v.Is("}")) depth--;
                vals.Add(v);
            }
            fields[key.Text] = vals;
        }
        o.Detail = string.Join("; ", fields.Select(f => $"{f.Key} {string.Join(" ", f.Value.Select(v => v.ToString()))}".Trim()));
        o.TimeoutPolicy = CheckCtObject(tb, kind, name, fields);
        if (kind == "ct helper") HelperOf(tb, o, name, fields);
        return o;
    }

    /// <summary>
    /// nft_ct_helper_obj_init: the kernel's helper of that name and protocol for the object's families
    /// (l3proto, or every family of the table: inet, netdev and bridge take both); a name the kernel has
    /// no helper for is refused as nft refuses it. Only ftp and tftp are modelled (<see cref="ConntrackHelper"/>).
    /// </summary>
    private static void HelperOf(NftTable tb, NftObject o, NftTok name, Dictionary<string, List<NftTok>> f)
    {
        string type = f["type"][0].Text, proto = f["protocol"][0].Text;
        byte p = proto == "tcp" ? IpProtocol.Tcp : IpProtocol.Udp;
        if (!ConntrackHelper.Exists(type, p))
            throw NftTokenStream.Error(name, $"ct helper '{name.Text}': Could not process rule: No such file or directory (the kernel has no {proto} helper \"{type}\")");
        string? l3 = f.TryGetValue("l3proto", out var v) && v.Count > 0 ? v[0].Text : null;
        o.HelperType = type;
        o.HelperProtocol = p;
        // nft -j lists an object without l3proto with its table's family ("l3proto": "inet"): both
        bool both = l3 is null || l3 == NftNames.Family(tb.Family);
        o.HelperV4 = (both || l3 == "ip") && tb.Family != NftFamily.Ip6;
        o.HelperV6 = (both || l3 == "ip6") && tb.Family != NftFamily.Ip;
        o.Helper = ConntrackHelper.Find(type, p);
    }

    /// <summary>The reason a secmark object or statement is refused.</summary>
    internal static string UnsupportedObject(string kind) => $"unsupported: {kind} (SELinux security labels are not modelled)";

    /// <summary>What nft refuses in a ct object's body (nft 1.0.6: the py tests' objects.t "fail" lines);
    /// a timeout object's policy.</summary>
    private static ConntrackTimeoutPolicy? CheckCtObject(NftTable tb, string kind, NftTok name, Dictionary<string, List<NftTok>> f)
    {
        string? One(string key) => f.TryGetValue(key, out var v) && v.Count > 0 ? v[0].Text : null;
        NftParseException Bad(string why) => NftTokenStream.Error(name, $"{kind} '{name.Text}': {why}");
        foreach (var key in f.Keys)
        {
            bool known = kind switch
            {
                "ct helper" => key is "type" or "protocol" or "l3proto" or "comment",
                "ct timeout" => key is "protocol" or "policy" or "l3proto" or "comment",
                _ => key is "protocol" or "dport" or "timeout" or "size" or "l3proto" or "comment",
            };
            if (!known) throw Bad($"unexpected '{key}'");
        }
        var proto = One("protocol") ?? throw Bad("no protocol");
        if (One("l3proto") is { } l3 && !(l3 == NftNames.Family(tb.Family) || tb.Family == NftFamily.Inet && l3 is "ip" or "ip6"))
            throw Bad($"l3proto {l3} does not fit {tb}");
        if (kind == "ct helper")
        {
            if (One("type") is null) throw Bad("no helper type");
            if (proto is not ("tcp" or "udp")) throw Bad($"protocol {proto}: a helper is for tcp or udp");
        }
        else if (kind == "ct timeout")
        {
            // nf_ct_netns_get fails for the families conntrack does not hook: nft says "Could not
            // process rule: Protocol error" (6.18, nft 1.0.6)
            if (tb.Family is NftFamily.Netdev or NftFamily.Bridge or NftFamily.Arp)
                throw Bad($"Could not process rule: Protocol error (conntrack has no timeout policies in {NftNames.Family(tb.Family)} tables)");
            // nft 1.0.6's grammar takes only tcp and udp here (6.18: `protocol icmp` is "syntax error,
            // unexpected icmp, expecting udp or tcp"); policies for other trackers come from nfct (xt_CT)
            if (ConntrackTimeoutPolicy.States(proto) is null)
                throw NftTokenStream.Error(f["protocol"][0], $"syntax error, unexpected {proto}, expecting udp or tcp");
            try { return ConntrackTimeoutPolicy.Create(name.Text, proto, TimeoutPolicy(f.TryGetValue("policy", out var p) ? p : new(), Bad)); }
            catch (ArgumentException e) { throw Bad(e.Message); }
        }
        else if (One("dport") is null || One("timeout") is null || One("size") is null) throw Bad("an expectation needs protocol, dport, timeout and size");
        return null;
    }

    /// <summary><c>= { established: 120, close: 10 }</c> as (state, seconds) pairs; the tokens may hold the colon.</summary>
    private static List<KeyValuePair<string, int>> TimeoutPolicy(List<NftTok> toks, Func<string, NftParseException> bad)
    {
        var words = toks.Where(t => !(t.Is("=") || t.Is("{") || t.Is("}") || t.Is(",")))
            .SelectMany(t => t.Text.Split(':')).Where(w => w.Length > 0).ToList();
        var pairs = new List<KeyValuePair<string, int>>();
        for (int i = 0; i < words.Count; i += 2)
        {
            if (i + 1 >= words.Count || !int.TryParse(words[i + 1], out int seconds) || seconds < 0)
                throw bad($"policy: '{words[i]}' needs a number of seconds");
            pairs.Add(new(words[i], seconds));
        }
        return pairs;
    }

    /// <summary><c>ct helper|timeout|expectation set "NAME"</c> or <c>... set KEY map { k : "NAME", ... }</c>.</summary>
    private NftStmt CtObjectSet()
    {
        Take(); var kind = "ct " + Take().Text; Take();
        if (!(Cur.Kind == TokKind.Word && SelectorWords.Contains(Cur.Text))) return NamedObject(kind, Take()).Ref;
        var key = Selector();
        if (!TakeIf("map")) throw Err(Cur, $"syntax error, expected 'map' after {kind} set {key.Text}");
        var map = MapBody(key, () => NamedObject(kind, Take()), _ => $"unsupported: a named {kind} map");
        return new ObjrefMapStmt { Map = map };
    }
}

/// <summary>
/// nft_ct_helper_obj_eval, nft_ct_timeout_obj_eval, nft_ct_expect_obj_eval: the kernel attaches the object to
/// a connection not yet confirmed. A timeout object for the packet's protocol is handed to the hook
/// (<see cref="NftEvalCtx.CtTimeout"/>) which attaches its policy; a helper object for the packet's protocol
/// and family likewise (<see cref="NftEvalCtx.CtHelper"/>: the first one counts, as IPS_HELPER then stops
/// the others). Expectation objects and helpers the model lacks change nothing and the trace says so.
/// </summary>
internal sealed class CtObjectStmt : NftStmt
{
    public NftObject Object = null!;

    public override bool Eval(NftEvalCtx c)
    {
        if (Object.TimeoutPolicy is { } policy)
        {
            // priv->l4proto != pkt->tprot: a packet of another protocol is left alone
            if (c.P.L4Protocol == policy.Protocol) c.CtTimeout = Object;
            return true;
        }
        if (Object.Kind == "ct helper")
        {
            // priv->l4proto != nf_ct_protonum(ct), or no helper for the connection's family: nothing
            bool v6 = c.P.Family == NftFamily.Ip6;
            if (c.P.L4Protocol != Object.HelperProtocol || !(v6 ? Object.HelperV6 : Object.HelperV4)) return true;
            if (Object.Helper is not null) { c.CtHelper ??= Object; return true; }
        }
        var what = Object.Kind switch
        {
            "ct helper" => $"unsupported: the {Object.HelperType} conntrack helper is not modelled (ftp and tftp are): no expectation is made for a related connection",
            _ => "expectations are not modelled: no related connection is expected",
        };
        (c.Notes ??= new()).Add($"{Object.Kind} set \"{Object.Name}\" ({Object.Detail}): {what}");
        return true;
    }
}
