using System.Text;
using PktFlow.Wire;

namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// Named maps (<c>map NAME { type K : D; elements = { k : d, ... } }</c>, <c>typeof</c> forms), their
/// element commands (<c>add element</c>, <c>delete element</c>) and the references rules make to them
/// (<c>vmap @NAME</c>, <c>KEY map @NAME</c>). A map is a set whose elements carry data, so it lives in the
/// table's sets and is looked up (and updated by rules) exactly as a set is.
/// </summary>
internal sealed partial class NftParser
{
    /// <summary><c>a . b . c</c> of type names, as a declaration's <c>type</c> writes them.</summary>
    private (NftType[], string) TypeList()
    {
        var types = new List<NftType>(); var text = new StringBuilder();
        do
        {
            var w = _s.Next();
            var ty = NftType.ByName(w.Text) ?? throw NftTokenStream.Error(w, $"unknown datatype '{w.Text}'");
            types.Add(ty); text.Append(text.Length > 0 ? " . " : "").Append(w.Text);
        } while (_s.Accept("."));
        return (types.ToArray(), text.ToString());
    }

    /// <summary><c>typeof EXPR [. EXPR]</c>: the types of the expressions (read by the rule compiler), up to ':' or the end of the line.</summary>
    private (NftType[], string) TypeofList()
    {
        int end = _s.Pos;
        while (true)
        {
            var t = _s.Peek(end - _s.Pos);
            if (t.IsSep || t.Is("}") || t.Is(":") || t.Kind == TokKind.Eof) break;
            end++;
        }
        var saveEnd = _ruleEnd; _ruleEnd = end;
        try
        {
            var sel = Selector();
            if (More) throw Err(Cur, $"syntax error, unexpected '{Cur}' in typeof");
            var types = sel is ConcatSelector cs ? cs.Parts.Select(p => p.Type).ToArray() : new[] { sel.Type };
            return (types, string.Join(" . ", types.Select(t => t.Name)));
        }
        finally { _ruleEnd = saveEnd; }
    }

    /// <summary>After a map's key type: <c>: verdict</c> or <c>: TYPE [. TYPE]</c> (or, after typeof, <c>: EXPR</c>).</summary>
    private void MapDataType(NftSet set, NftTok decl)
    {
        var colon = _s.Peek();
        if (!colon.Is(":")) throw NftTokenStream.Error(colon, $"syntax error, map '{set.Name}' needs ': TYPE' after its key type");
        _s.Next();
        if (_s.Accept("verdict")) { set.DataTypes = Array.Empty<NftType>(); set.DataText = "verdict"; return; }
        if (_s.Peek().Text is "counter" or "quota" or "limit" or "synproxy") { set.ObjectKind = set.DataText = _s.Next().Text; return; }
        (set.DataTypes, set.DataText) = decl.Is("typeof") ? TypeofList() : TypeList();
        CheckDataType(set.DataTypes, set.DataText, colon);
    }

    /// <summary>The data types whose values the model can use: an address, address . port, or a 32-bit value (mark).</summary>
    private static void CheckDataType(NftType[] types, string text, NftTok at)
    {
        bool ok = types switch
        {
            [{ Kind: NftTypeKind.Ipv4 or NftTypeKind.Ipv6 }] => true,
            [{ Kind: NftTypeKind.Ipv4 or NftTypeKind.Ipv6 }, var p] when p == NftType.InetService => true,
            [{ Kind: NftTypeKind.Int, Length: <= 4 }] => true,
            [{ Kind: NftTypeKind.Ether or NftTypeKind.Ifname }] => true,
            _ => false,
        };
        if (!ok) throw NftTokenStream.Error(at, $"unsupported: map data of type '{text}' (verdict, an address, address . inet_service, a mark or another integer up to 32 bits, ether_addr, ifname, counter, quota and limit are modelled)");
    }

    /// <summary>"{ e, ... }" of a set, or of a map with each element's data after ':'.</summary>
    private List<NftElement> ElementsOf(NftSet set) =>
        ParseSetBody(set.KeyTypes, set.IsVerdictMap, set.ObjectKind is { } kind ? () => ObjectData(set.Table, kind)
            : set.IsMap && !set.IsVerdictMap ? () => MapData(set.DataTypes) : null);

    /// <summary>An object map element's data: the name of an object of the map's table and kind (<c>"cnt1"</c>).</summary>
    private NftObject ObjectData(NftTable tb, string kind)
    {
        var t = Take();
        return tb.ObjectMap.TryGetValue(t.Text, out var o) && o.Kind == kind ? o : throw Err(t, $"{kind} '{t.Text}' does not exist");
    }

    /// <summary>One element's data as the map's declared data type reads it.</summary>
    private object MapData(NftType[] types)
    {
        var t = Take();
        var first = types[0].Parse(t.Text) ?? throw Err(t, $"'{t.Text}' is not a valid {types[0].Name} value");
        if (types[0].Kind is NftTypeKind.Ether or NftTypeKind.Ifname) return NftMapData.Of(types, first);
        if (types[0].Kind is NftTypeKind.Ipv4 or NftTypeKind.Ipv6)
        {
            var address = types[0].Kind == NftTypeKind.Ipv4 ? IpAddr.ReadV4(first) : IpAddr.ReadV6(first);
            if (types.Length == 1) return address;
            if (!TakeIf(".")) throw Err(Cur, "syntax error, expected '.' in concatenation");
            var p = Take();
            var port = types[1].Parse(p.Text) ?? throw Err(p, $"'{p.Text}' is not a valid {types[1].Name} value");
            return new NatTarget(address, (port[0] << 8) | port[1]);
        }
        return (uint)NftBytes.ToUlong(first);
    }

    /// <summary>A verdict as map data: accept, drop, continue, return, jump CHAIN, goto CHAIN.</summary>
    private (NftVerdict, string?) VerdictData()
    {
        var v = Take();
        return v.Text switch
        {
            "accept" => (NftVerdict.Accept, null), "drop" => (NftVerdict.Drop, null),
            "continue" => (NftVerdict.Continue, null), "return" => (NftVerdict.Return, null),
            "jump" => (NftVerdict.Jump, Ident(Take(), "string or '$'")), "goto" => (NftVerdict.Goto, Ident(Take(), "string or '$'")),
            _ => throw Err(v, $"'{v.Text}' is not a verdict"),
        };
    }

    /// <summary>The set or map an element command names: <c>[family] TABLE NAME</c>.</summary>
    private NftSet ElementTarget()
    {
        var tb = FindTable(); var nameTok = _s.Next();
        return tb.SetMap.TryGetValue(Ident(nameTok), out var set) ? set : throw NftTokenStream.Error(nameTok, $"no such set or map '{nameTok.Text}' in {tb}");
    }

    /// <summary><c>delete element [family] TABLE NAME { k, ... }</c>: each key must be there (nft fails otherwise).</summary>
    private void DeleteElements()
    {
        RemoveElements(ElementTarget());
        EndCommand();
    }

    /// <summary>The keys of <c>{ k, ... }</c> leave the set or map (also from a JSON <c>delete element</c> command).</summary>
    private void RemoveElements(NftSet set)
    {
        ResolveSet(set);
        var open = _s.Peek();
        var gone = ParseSetBody(set.KeyTypes, vmap: false); // keys only
        foreach (var g in gone)
        {
            int i = set.Elements.FindIndex(e => SameKey(e, g));
            if (i < 0) throw NftTokenStream.Error(open, $"Could not process rule: No such file or directory: element not in {(set.IsMap ? "map" : "set")} '{set.Name}'");
            set.Elements.RemoveAt(i);
        }
    }

    private static bool SameKey(NftElement a, NftElement b)
    {
        if (a.CatchAll || b.CatchAll) return a.CatchAll == b.CatchAll;
        for (int i = 0; i < a.Lo.Length; i++)
            if (!a.Lo[i].AsSpan().SequenceEqual(b.Lo[i]) || !a.Hi[i].AsSpan().SequenceEqual(b.Hi[i])) return false;
        return true;
    }

    /// <summary>A rule's <c>@NAME</c> that must be a map of its table whose key fits <paramref name="key"/>.</summary>
    private NftSet NamedMap(NftTok nt, NftSelector key)
    {
        var tb = CurrentTable ?? throw Err(nt, "map reference outside a table");
        if (!tb.SetMap.TryGetValue(SetRef(nt), out var set)) throw Err(nt, $"map '{nt.Text[1..]}' does not exist");
        if (!set.IsMap) throw Err(nt, $"'{set.Name}' is a set, not a map");
        if (set.KeyTypes.Sum(x => x.Length) != key.Length) throw Err(nt, $"datatype mismatch: map '{set.Name}' has key type {set.TypeText}, the key is {key.Text}");
        return set;
    }

    /// <summary>
    /// The data of a rule's <c>add|update @map { KEY : DATA }</c>: a constant of the map's data type, or an expression
    /// loaded from the packet (its selector stands as the element's data until the rule runs).
    /// </summary>
    private NftElement DynsetData(NftSet set, NftTok nt)
    {
        if (!set.IsMap) throw Err(nt, $"'{set.Name}' is a set: its elements have no data");
        // nft 1.0.6 loads no such rule: `add|update @m { ip saddr : "l1" }` aborts it ("malloc(): invalid
        // size (unsorted)", exit 134; checked with nft -c on 6.18 for a limit and a counter map)
        if (set.ObjectKind is { } kind) throw Err(nt, $"unsupported: a rule adding to {kind} map '{set.Name}' (nft 1.0.6 cannot load it: it aborts)");
        var d = new NftElement();
        if (set.IsVerdictMap) (d.Verdict, d.Target) = VerdictData();
        else if (Cur.Kind == TokKind.Word && SelectorWords.Contains(Cur.Text))
        {
            var at = Cur;
            var sel = Selector();
            if (sel.Length != set.DataTypes.Sum(x => x.Length))
                throw Err(at, $"datatype mismatch: map '{set.Name}' maps to {set.DataText}, the data is {sel.Text}");
            return new NftElement { Data = sel };
        }
        else d.Data = MapData(set.DataTypes);
        return d;
    }
}
