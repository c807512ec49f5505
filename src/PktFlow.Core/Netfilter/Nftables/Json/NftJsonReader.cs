using System.Text.Json;

namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// Reads libnftables-json (`nft -j list ruleset` output, and the command form `nft -j -f` takes:
/// {"add": {...}}, {"flush": {"ruleset": null}}) into the same tables, chains, sets and compiled rules
/// as the text reader. Handles come from the document when it has them (a kernel dump), else from the
/// table's counter as for text. Errors name the JSON path: "file: nftables[12].rule.expr[3]: ...".
/// </summary>
internal sealed partial class NftParser
{
    private string _jsonFile = "";

    public void LoadJson(string text, string file)
    {
        _jsonFile = file;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text); }
        catch (JsonException e)
        {
            throw new NftParseException(file, (int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1, "", $"not valid JSON: {e.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("nftables", out var items) || items.ValueKind != JsonValueKind.Array)
                throw JErr("$", "nftables", "expected {\"nftables\": [...]}, the object nft -j prints");
            int i = 0;
            foreach (var item in items.EnumerateArray()) Item(item, $"nftables[{i++}]");
        }
        Validate();
    }

    private NftParseException JErr(string path, string key, string message) => new(_jsonFile, path, key, message);
    private NftJsonTokens Tok => new(_jsonFile);

    private void Item(JsonElement item, string path)
    {
        var (kind, o) = Tok.Single(item, path, "a command or an object (table, chain, rule, set, ...)");
        var p = $"{path}.{kind}";
        switch (kind)
        {
            case "metainfo":
                if (JInt(o, "json_schema_version", p) is > 1 and var v)
                    throw JErr($"{p}.json_schema_version", "json_schema_version", $"unsupported JSON schema version {v} (version 1 is read)");
                return;
            case "add": case "create":
                var (inner, io) = Tok.Single(o, p, "an object to add");
                Object(inner, io, $"{p}.{inner}");
                return;
            case "flush":
                Flush(o, p);
                return;
            case "delete" when Tok.Single(o, p, "an object to delete") is ("element", var de):
                JsonDeleteElements(de, $"{p}.element");
                return;
            case "insert": case "replace": case "delete": case "destroy": case "reset": case "rename": case "list":
                throw JErr(p, kind, $"unsupported command '{kind}'");
        }
        Object(kind, o, p);
    }

    private void Flush(JsonElement o, string p)
    {
        var (what, w) = Tok.Single(o, p, "what to flush");
        switch (what)
        {
            case "ruleset": _tables.Clear(); return;
            case "table": JTable(w, $"{p}.table", "name").ChainList.ForEach(c => c.RuleList.Clear()); return;
            case "chain": JChain(JTable(w, $"{p}.chain", "table"), w, $"{p}.chain", "name").RuleList.Clear(); return;
        }
        throw JErr($"{p}.{what}", what, $"unsupported command 'flush {what}'");
    }

    private void Object(string kind, JsonElement o, string p)
    {
        switch (kind)
        {
            case "table": JsonTable(o, p); return;
            case "chain": JsonChain(o, p); return;
            case "rule": JsonRule(o, p); return;
            case "set": case "map": JsonSet(o, p); return;
            case "element":
            {
                var tb = JTable(o, p, "table");
                var name = JStr(o, "name", p)!;
                if (!tb.SetMap.TryGetValue(name, out var set)) throw JErr($"{p}.name", name, $"no such set '{name}'");
                if (JOpt(o, "elem") is { } el) JsonElements(set, el, $"{p}.elem");
                return;
            }
            case "counter": case "quota": case "limit": JsonObject(kind, o, p); return;
            case "ct helper": case "ct timeout": case "ct expectation": JsonCtObject(kind, o, p); return;
            case "synproxy": JsonSynproxy(o, p); return;
            case "secmark": throw JErr(p, kind, UnsupportedObject(kind));
            // a flowtable changes no verdict the model computes (no flow offload)
            case "flowtable":
            {
                var tb = JTable(o, p, "table");
                var name = JStr(o, "name", p)!;
                int handle = JInt(o, "handle", p) is { } h ? Bump(tb, h) : ++tb.HandleCounter;
                tb.DeclaredObjectList.Add(new NftDeclaredObject(kind, name, handle));
                return;
            }
        }
        throw JErr(p, kind, $"unsupported table object '{kind}'");
    }

    /// <summary>A named counter {"packets", "bytes"}, quota {"bytes", "used", "inv" (over)} or limit {"rate", "per", "burst", "inv", "rate_unit", "burst_unit"}, as the text's <c>counter NAME { }</c>.</summary>
    private void JsonObject(string kind, JsonElement o, string p)
    {
        if (kind == "counter") Known(o, p, "family", "table", "name", "handle", "packets", "bytes", "comment");
        else if (kind == "limit") Known(o, p, "family", "table", "name", "handle", "rate", "per", "burst", "inv", "rate_unit", "burst_unit", "comment");
        else Known(o, p, "family", "table", "name", "handle", "bytes", "used", "inv", "comment");
        var tb = JTable(o, p, "table");
        var name = JStr(o, "name", p)!;
        if (!tb.ObjectMap.TryGetValue(name, out var obj))
        {
            tb.ObjectMap[name] = obj = new NftObject { Table = tb, Kind = kind, Name = name };
            obj.Handle = JInt(o, "handle", p) is { } h ? Bump(tb, h) : ++tb.HandleCounter;
        }
        else if (obj.Kind != kind) throw JErr($"{p}.name", name, $"'{name}' is already a {obj.Kind}");
        long Long(string key) => JOpt(o, key) is not { } v ? 0
            : v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) && n >= 0 ? n : throw JErr($"{p}.{key}", key, $"'{key}' should be a byte or packet count");
        if (kind == "counter") { obj.InitialPackets = Long("packets"); obj.InitialBytes = Long("bytes"); return; }
        if (kind == "limit")
        {
            try { obj.Limit = LimitFrom(NftJsonTokens.LimitObject(_jsonFile, o, p)); }
            catch (NftParseException e) when (e.JsonPath is null) { throw JErr(e.FileName, e.Token, e.Reason); }
            return;
        }
        obj.QuotaBytes = Long("bytes");
        obj.InitialBytes = Long("used");
        obj.Over = JOpt(o, "inv") is { ValueKind: JsonValueKind.True };
    }

    /// <summary>
    /// {"ct helper": {"type", "protocol", "l3proto"}}, {"ct timeout": {"protocol", "l3proto", "policy": {"state": s}}},
    /// {"ct expectation": {"protocol", "dport", "timeout", "size", "l3proto"}}: read as the text's body.
    /// </summary>
    private void JsonCtObject(string kind, JsonElement o, string p)
    {
        var tb = JTable(o, p, "table");
        var name = JStr(o, "name", p)!;
        var toks = new List<NftTok> { new(TokKind.Punct, "{", p, 0, 0) };
        void T(TokKind k, string text) => toks.Add(new NftTok(k, text, p, 0, 0));
        foreach (var f in o.EnumerateObject())
        {
            if (f.Name is "family" or "table" or "name" or "handle") continue;
            T(TokKind.Word, f.Name);
            if (f.Value.ValueKind == JsonValueKind.Object)
            {
                T(TokKind.Punct, "{");
                foreach (var s in f.Value.EnumerateObject()) { T(TokKind.Word, s.Name); T(TokKind.Punct, ":"); T(TokKind.Word, s.Value.ToString()); T(TokKind.Punct, ","); }
                T(TokKind.Punct, "}");
            }
            else T(f.Value.ValueKind == JsonValueKind.String ? TokKind.String : TokKind.Word, f.Value.ToString());
            T(TokKind.Punct, ";");
        }
        T(TokKind.Punct, "}"); T(TokKind.Eof, "end of object");
        bool existed = tb.ObjectMap.ContainsKey(name);
        var save = _s;
        _s = new NftTokenStream(toks);
        try
        {
            var obj = CtObjectDecl(tb, new NftTok(TokKind.Word, kind[3..], p, 0, 0), new NftTok(TokKind.Word, name, p, 0, 0));
            if (!existed) obj.Handle = JInt(o, "handle", p) is { } h ? Bump(tb, h) : ++tb.HandleCounter;
        }
        catch (NftParseException e) when (e.JsonPath is null) { throw JErr(p, kind, e.Reason); }
        finally { _s = save; }
    }

    /// <summary>{"synproxy": {"family", "table", "name", "handle", "mss", "wscale", "flags"}}: the text's <c>synproxy NAME { ... }</c>.</summary>
    private void JsonSynproxy(JsonElement o, string p)
    {
        Known(o, p, "family", "table", "name", "handle", "mss", "wscale", "flags", "comment");
        var tb = JTable(o, p, "table");
        var name = JStr(o, "name", p)!;
        if (!tb.ObjectMap.TryGetValue(name, out var obj))
        {
            tb.ObjectMap[name] = obj = new NftObject { Table = tb, Kind = "synproxy", Name = name };
            obj.Handle = JInt(o, "handle", p) is { } h ? Bump(tb, h) : ++tb.HandleCounter;
        }
        else if (obj.Kind != "synproxy") throw JErr($"{p}.name", name, $"'{name}' is already a {obj.Kind}");
        var words = NftJsonTokens.SynproxyWords(o, p).Select(w => new NftTok(TokKind.Word, w, p, 0, 0)).ToList();
        try { obj.Synproxy = SynproxyObject(words, new NftTok(TokKind.Word, name, p, 0, 0)); }
        catch (NftParseException e) when (e.JsonPath is null) { throw JErr(p, "synproxy", e.Reason); }
    }

    private static int Bump(NftTable tb, int handle) { tb.HandleCounter = Math.Max(tb.HandleCounter, handle); return handle; }

    private void JsonTable(JsonElement o, string p)
    {
        Known(o, p, "family", "name", "handle", "flags", "comment");
        var fam = JFamily(o, p);
        var name = JStr(o, "name", p)!;
        if (JOpt(o, "flags") is { } fl && Strings(fl, $"{p}.flags").Contains("dormant"))
            throw JErr($"{p}.flags", "dormant", "unsupported table flag 'dormant' (its chains are not registered)");
        var tb = GetOrAddTable(fam, name);
        if (JInt(o, "handle", p) is { } h) { tb.Handle = h; _tableCounter = Math.Max(_tableCounter, h); }
    }

    private void JsonChain(JsonElement o, string p)
    {
        Known(o, p, "family", "table", "name", "handle", "type", "hook", "prio", "policy", "dev", "comment");
        var tb = JTable(o, p, "table");
        var name = JStr(o, "name", p)!;
        var handle = JInt(o, "handle", p);
        var ch = tb.FindChain(name) ?? NewChain(tb, name, assignHandle: handle is null);
        if (handle is { } h) ch.Handle = Bump(tb, h);
        if (JOpt(o, "hook") is null)
        {
            if (JOpt(o, "type") is not null) throw JErr($"{p}.type", "type", "a chain with a type needs a hook");
            return;
        }
        var type = JStr(o, "type", p)!;
        if (type is not ("filter" or "nat" or "route")) throw JErr($"{p}.type", type, $"unknown chain type '{type}'");
        var hook = JStr(o, "hook", p)!;
        ch.Type = type;
        ch.Hook = NftNames.ParseHook(hook) ?? throw JErr($"{p}.hook", hook, $"unknown chain hook '{hook}'");
        if (NftChainType.HookProblem(tb.Family, ch.Hook.Value) is { } wrongHook) throw JErr($"{p}.hook", hook, wrongHook);
        var prio = JOpt(o, "prio") ?? throw JErr(p, "prio", "a base chain needs 'prio'");
        ch.Priority = prio.ValueKind == JsonValueKind.Number && prio.TryGetInt32(out var n) ? n
            : prio.ValueKind == JsonValueKind.String && NftNames.Priority(tb.Family, prio.GetString()!) is { } named ? named
            : throw JErr($"{p}.prio", prio.ToString(), $"unknown priority '{prio}'");
        var policy = JStr(o, "policy", p, required: false) ?? "accept";
        ch.PolicyDrop = policy switch { "accept" => false, "drop" => true, _ => throw JErr($"{p}.policy", policy, $"unknown policy '{policy}'") };
        if (JOpt(o, "dev") is { } dev)
        {
            var devs = Strings(dev, $"{p}.dev");
            if (devs.Count != 1) throw JErr($"{p}.dev", string.Join(",", devs), "unsupported: a base chain on several devices");
            ch.Device = devs[0];
        }
        // nft 1.0.6 leaves "dev" out of `nft -j list` for netdev chains: without it the chain's device is unknown.
        if (ch.Device is null && (tb.Family == NftFamily.Netdev || ch.Hook is NftHookPoint.Ingress or NftHookPoint.Egress))
            throw JErr(p, "dev", $"{ch.Hook.ToString()!.ToLowerInvariant()} chain '{name}' has no 'dev' (nft 1.0.6 omits it from `nft -j list`): its device is unknown; load `nft list ruleset` text instead");
        if (NftChainType.ChainProblem(tb.Family, type, ch.Hook.Value, ch.Device is not null) is { } bad)
            throw JErr(bad.AtDevice ? $"{p}.dev" : $"{p}.type", bad.AtDevice ? ch.Device! : type, bad.Message);
        if (ch.RegistrationOrder == 0) ch.RegistrationOrder = ++_registration; // an existing base chain keeps its place
    }

    private void JsonRule(JsonElement o, string p)
    {
        Known(o, p, "family", "table", "chain", "handle", "expr", "comment", "index", "position");
        var tb = JTable(o, p, "table");
        var ch = JChain(tb, o, p, "chain");
        if (JOpt(o, "position") is not null || JOpt(o, "index") is not null)
            throw JErr(p, JOpt(o, "position") is not null ? "position" : "index", "unsupported: a rule placed by position or index (rules are appended)");
        var expr = JOpt(o, "expr") ?? throw JErr(p, "expr", "'expr' missing");
        var save = _s;
        _anonSets = 0; _currentChain = ch;
        // Until the statements are rendered, the rule reads as its JSON (what an unsupported rule shows).
        var rule = new NftRule { Chain = ch, SourceFile = _jsonFile, SourcePath = p, Text = expr.GetRawText() };
        try
        {
            var toks = NftJsonTokens.Rule(_jsonFile, expr, JOpt(o, "comment"), p);
            _s = new NftTokenStream(toks); _ruleEnd = toks.Count - 1;
            rule.Text = RuleText((0, _ruleEnd));
            _s.Pos = 0;
            CompileStatements(ch, rule);
        }
        catch (NftParseException e)
        {
            var located = e.JsonPath is not null ? e : JErr(e.FileName, e.Token, e.Reason); // compiler errors carry the path as the token's file
            if (!_opt.AllowUnsupported) throw located;
            rule.Unsupported = located.Message; rule.Stmts = Array.Empty<NftStmt>();
        }
        finally { _s = save; }
        tb.HandleCounter += _anonSets;
        rule.Handle = JInt(o, "handle", p) is { } h ? Bump(tb, h) : ++tb.HandleCounter;
        ch.RuleList.Add(rule);
    }

    private void JsonSet(JsonElement o, string p)
    {
        Known(o, p, "family", "table", "name", "handle", "type", "flags", "elem", "timeout", "gc-interval", "size", "policy", "comment", "auto-merge", "map");
        var tb = JTable(o, p, "table");
        var name = JStr(o, "name", p)!;
        var dataType = JOpt(o, "map");
        if (!tb.SetMap.TryGetValue(name, out var set))
        {
            set = new NftSet { Table = tb, Name = name, IsMap = dataType is not null };
            var types = Strings(JOpt(o, "type") ?? throw JErr(p, "type", $"{(set.IsMap ? "map" : "set")} '{name}' has no type"), $"{p}.type");
            set.KeyTypes = JTypes(types, $"{p}.type");
            set.TypeText = string.Join(" . ", types);
            if (dataType is { } dt) JsonMapData(set, dt, $"{p}.map");
            tb.SetMap[name] = set;
            set.Handle = JInt(o, "handle", p) is { } h ? Bump(tb, h) : ++tb.HandleCounter;
        }
        else if (set.IsMap != dataType is not null) throw JErr($"{p}.name", name, $"'{name}' is already a {(set.IsMap ? "map" : "set")} of {tb}");
        if (JOpt(o, "flags") is { } fl) set.Flags = Strings(fl, $"{p}.flags");
        // the default element timeout, in seconds (nft 1.0.6 prints whole seconds)
        if (JOpt(o, "timeout") is { } to)
            set.TimeoutNs = to.ValueKind == JsonValueKind.Number && to.TryGetInt64(out var secs) && secs > 0 ? secs * 1_000_000_000L
                : throw JErr($"{p}.timeout", to.ToString(), "'timeout' should be a whole number of seconds");
        if (JOpt(o, "elem") is { } el) JsonElements(set, el, $"{p}.elem");
    }

    /// <summary>{"delete": {"element": {"family", "table", "name", "elem": [k, ...]}}}: each key must be there, as for the text.</summary>
    private void JsonDeleteElements(JsonElement o, string p)
    {
        Known(o, p, "family", "table", "name", "elem");
        var tb = JTable(o, p, "table");
        var name = JStr(o, "name", p)!;
        if (!tb.SetMap.TryGetValue(name, out var set)) throw JErr($"{p}.name", name, $"no such set or map '{name}' in {tb}");
        var elem = JOpt(o, "elem") ?? throw JErr(p, "elem", "'elem' missing");
        var save = _s;
        _s = new NftTokenStream(NftJsonTokens.Elements(_jsonFile, elem, $"{p}.elem"));
        try { RemoveElements(set); }
        catch (NftParseException e) when (e.JsonPath is null) { throw JErr(e.FileName, e.Token, e.Reason); }
        finally { _s = save; }
    }

    private void JsonElements(NftSet set, JsonElement elems, string path)
    {
        var toks = NftJsonTokens.Elements(_jsonFile, elems, path, set.IsMap);
        var save = _s;
        _s = new NftTokenStream(toks);
        try { set.Elements.AddRange(ElementsOf(set)); }
        catch (NftParseException e) when (e.JsonPath is null) { throw JErr(e.FileName, e.Token, e.Reason); }
        finally { _s = save; }
    }

    private NftType[] JTypes(List<string> names, string p) =>
        names.Select(t => NftType.ByName(t) ?? throw JErr(p, t, $"unknown datatype '{t}'")).ToArray();

    /// <summary>A map's "map": "verdict", "ipv4_addr", "ipv4_addr . inet_service" (nft 1.0.6 writes the concatenation as one string) or an array of type names.</summary>
    private void JsonMapData(NftSet set, JsonElement dt, string p)
    {
        var names = Strings(dt, p).SelectMany(x => x.Split(" . ", StringSplitOptions.TrimEntries)).ToList();
        set.DataText = string.Join(" . ", names);
        if (names is ["verdict"]) return;
        if (names is ["counter" or "quota" or "limit"]) { set.ObjectKind = names[0]; return; }
        set.DataTypes = JTypes(names, p);
        try { CheckDataType(set.DataTypes, set.DataText, new NftTok(TokKind.Word, set.DataText, p, 0, 0)); }
        catch (NftParseException e) { throw JErr(p, set.DataText, e.Reason); }
    }

    // ---------- small readers ----------
    private void Known(JsonElement o, string p, params string[] keys)
    {
        if (o.ValueKind != JsonValueKind.Object) throw JErr(p, o.ValueKind.ToString(), "expected an object");
        foreach (var m in o.EnumerateObject())
            if (Array.IndexOf(keys, m.Name) < 0) throw JErr($"{p}.{m.Name}", m.Name, $"unsupported key '{m.Name}'");
    }

    private static JsonElement? JOpt(JsonElement o, string key) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private string? JStr(JsonElement o, string key, string p, bool required = true)
    {
        if (JOpt(o, key) is not { } v) return required ? throw JErr(p, key, $"'{key}' missing") : null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw JErr($"{p}.{key}", key, $"'{key}' should be a string");
    }

    private int? JInt(JsonElement o, string key, string p)
    {
        if (JOpt(o, key) is not { } v) return null;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n : throw JErr($"{p}.{key}", key, $"'{key}' should be an integer");
    }

    private List<string> Strings(JsonElement v, string p) =>
        (v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().ToList() : new List<JsonElement> { v })
            .Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : throw JErr(p, x.ToString(), "expected a string or an array of strings")).ToList();

    private NftFamily JFamily(JsonElement o, string p)
    {
        var f = JStr(o, "family", p)!;
        return NftNames.ParseFamily(f) ?? throw JErr($"{p}.family", f, $"unknown family '{f}'");
    }

    /// <summary>The table an object names (family + the key holding the table's name).</summary>
    private NftTable JTable(JsonElement o, string p, string key)
    {
        var fam = JFamily(o, p);
        var name = JStr(o, key, p)!;
        return _tables.Find(x => x.Family == fam && x.Name == name) ?? throw JErr($"{p}.{key}", name, $"no such table '{NftNames.Family(fam)} {name}'");
    }

    private NftChain JChain(NftTable tb, JsonElement o, string p, string key)
    {
        var name = JStr(o, key, p)!;
        return tb.FindChain(name) ?? throw JErr($"{p}.{key}", name, $"no such chain '{name}' in {tb}");
    }
}
