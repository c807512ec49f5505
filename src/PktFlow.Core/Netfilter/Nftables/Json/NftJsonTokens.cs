using System.Globalization;
using System.Text.Json;

namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// Turns the statements of one libnftables-json rule (`man libnftables-json`) into the tokens the nft
/// text compiler reads, so a JSON rule is compiled by exactly the code a text rule is. Every token
/// carries, in place of a file name, the JSON path of the expression it came from: a compile error on
/// it names that path. What has no text form the compiler knows is refused here, naming path and key.
/// </summary>
internal sealed class NftJsonTokens
{
    private readonly string _file;
    public List<NftTok> Toks { get; } = new();

    public NftJsonTokens(string file) { _file = file; }

    /// <summary>The statements of a rule's "expr" array, then its comment, then an end token.</summary>
    public static List<NftTok> Rule(string file, JsonElement expr, JsonElement? comment, string path)
    {
        var t = new NftJsonTokens(file);
        if (expr.ValueKind != JsonValueKind.Array) throw t.Err($"{path}.expr", "expr", "expected the array of statements");
        int i = 0;
        foreach (var st in expr.EnumerateArray()) t.Statement(st, $"{path}.expr[{i++}]");
        if (comment is { } c) { t.W("comment", $"{path}.comment"); t.Toks.Add(new NftTok(TokKind.String, t.Scalar(c, $"{path}.comment"), $"{path}.comment", 0, 0)); }
        t.Toks.Add(new NftTok(TokKind.Eof, "end of rule", $"{path}.expr", 0, 0));
        return t.Toks;
    }

    /// <summary>A set's "elem" array as "{ e, e }" for the compiler's set body reader; a map's [key, data] pairs as "k : d".</summary>
    public static List<NftTok> Elements(string file, JsonElement elems, string path, bool map = false)
    {
        var t = new NftJsonTokens(file);
        t.P("{", path);
        var items = elems.ValueKind == JsonValueKind.Array ? elems.EnumerateArray().ToList() : new List<JsonElement> { elems };
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0) t.P(",", path);
            t.SetElement(items[i], $"{path}[{i}]", map);
        }
        t.P("}", path);
        t.Toks.Add(new NftTok(TokKind.Eof, "end of elements", path, 0, 0));
        return t.Toks;
    }

    public NftParseException Err(string path, string key, string message) => new(_file, path, key, message);

    private void W(string text, string path) => Toks.Add(new NftTok(TokKind.Word, text, path, 0, 0));
    private void P(string text, string path) => Toks.Add(new NftTok(TokKind.Punct, text, path, 0, 0));

    /// <summary>The one member of an object such as {"payload": {...}}.</summary>
    public (string Key, JsonElement Value) Single(JsonElement e, string path, string what)
    {
        if (e.ValueKind != JsonValueKind.Object) throw Err(path, e.ValueKind.ToString(), $"expected {what} (an object with one member)");
        using var m = e.EnumerateObject();
        if (!m.MoveNext()) throw Err(path, "{}", $"expected {what} (an object with one member)");
        var first = m.Current;
        if (m.MoveNext()) throw Err(path, m.Current.Name, $"expected {what} (an object with one member), found '{first.Name}' and '{m.Current.Name}'");
        return (first.Name, first.Value);
    }

    private JsonElement Prop(JsonElement o, string key, string path)
    {
        if (o.ValueKind != JsonValueKind.Object) throw Err(path, key, $"expected an object with '{key}'");
        return o.TryGetProperty(key, out var v) ? v : throw Err(path, key, $"'{key}' missing");
    }

    private static JsonElement? Opt(JsonElement o, string key) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    /// <summary>A number or a string, as text.</summary>
    public string Scalar(JsonElement e, string path) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Number => e.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw Err(path, e.ValueKind.ToString(), $"expected a number or a string, found {Describe(e)}"),
    };

    private static string Describe(JsonElement e) => e.ValueKind == JsonValueKind.Object
        ? $"the expression '{string.Join(",", e.EnumerateObject().Select(p => p.Name))}'" : e.ValueKind.ToString().ToLowerInvariant();

    private List<JsonElement> List(JsonElement e) => e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().ToList() : new List<JsonElement> { e };

    // ---------- statements ----------
    private void Statement(JsonElement st, string path)
    {
        // nft 1.0.6 prints a statement it has no JSON for (a map update: "update @m { ip saddr : meta mark }") as
        // its text (stmt_print): that text is read as the text syntax
        if (st.ValueKind == JsonValueKind.String)
        {
            foreach (var t in NftLexer.Lex(st.GetString()!, path))
                if (t.Kind != TokKind.Eof) Toks.Add(new NftTok(t.Kind, t.Text, path, 0, 0));
            return;
        }
        var (key, v) = Single(st, path, "a statement");
        var p = $"{path}.{key}";
        switch (key)
        {
            case "match": Match(v, p); return;
            case "counter": Counter(v, p); return;
            case "ct helper" or "ct timeout" or "ct expectation":
                // {"ct helper": "NAME"} or {"ct helper": {"map": {"key", "data"}}}: ct helper set ...
                W("ct", p); W(key[3..], p); W("set", p);
                if (v.ValueKind == JsonValueKind.String) Toks.Add(new NftTok(TokKind.String, v.GetString()!, p, 0, 0));
                else MapOf(Prop(v, "map", p), $"{p}.map");
                return;
            case "quota": Quota(v, p); return;
            case "limit": Limit(v, p); return;
            case "set": Dynset(v, p); return;
            case "meter": Meter(v, p); return;
            case "ct count":
                Keys(v, p, "ct count", "val", "inv");
                W("ct", p); W("count", p);
                if (Opt(v, "inv") is { ValueKind: JsonValueKind.True }) W("over", $"{p}.inv");
                W(Scalar(Prop(v, "val", p), $"{p}.val"), $"{p}.val");
                return;
            case "accept": case "drop": case "continue": case "return": W(key, p); return;
            case "jump": case "goto": W(key, p); W(Scalar(Prop(v, "target", p), $"{p}.target"), $"{p}.target"); return;
            case "queue": Queue(v, p); return;
            case "reject": Reject(v, p); return;
            case "snat": case "dnat": case "masquerade": case "redirect": Nat(key, v, p); return;
            case "notrack": W("notrack", p); return;
            case "synproxy": Synproxy(v, p); return;
            case "reset": W("reset", p); Left(v, p); return; // {"reset": {"tcp option": {"name": "mptcp"}}}
            case "tproxy":
            {
                Keys(v, p, "tproxy", "family", "addr", "port");
                W("tproxy", p);
                if (Opt(v, "family") is { } fam) W(Scalar(fam, $"{p}.family"), $"{p}.family");
                W("to", p);
                var addr = Opt(v, "addr") is { } a ? Scalar(a, $"{p}.addr") : "";
                var port = Opt(v, "port") is { } pt ? ":" + Scalar(pt, $"{p}.port") : "";
                W((addr.Contains(':') && port.Length > 0 ? $"[{addr}]" : addr) + port, $"{p}.addr");
                return;
            }
            case "log": Log(v, p); return;
            case "mangle": Mangle(v, p); return;
            case "dup":
                // {"addr": A, "dev": D} (ip, ip6, inet) or {"dev": D} (netdev): dup to A [device D] | dup to D
                Keys(v, p, "dup", "addr", "dev");
                W("dup", p); W("to", p);
                if (Opt(v, "addr") is { } da) { ValueOrMap(da, $"{p}.addr"); if (Opt(v, "dev") is { } dd) { W("device", $"{p}.dev"); Value(dd, $"{p}.dev"); } }
                else ValueOrMap(Prop(v, "dev", p), $"{p}.dev");
                return;
            case "fwd":
                // {"dev": D} | {"dev": D, "family": "ip"|"ip6", "addr": A}: fwd to D | fwd ip to A device D
                Keys(v, p, "fwd", "dev", "family", "addr");
                W("fwd", p);
                if (Opt(v, "addr") is { } fa)
                {
                    W(Scalar(Prop(v, "family", p), $"{p}.family"), $"{p}.family"); W("to", p); Value(fa, $"{p}.addr");
                    W("device", $"{p}.dev"); Value(Prop(v, "dev", p), $"{p}.dev");
                }
                else { W("to", p); ValueOrMap(Prop(v, "dev", p), $"{p}.dev"); }
                return;
            case "vmap":
                Left(Prop(v, "key", p), $"{p}.key");
                W("vmap", p);
                Value(Prop(v, "data", p), $"{p}.data");
                return;
        }
        throw Err(p, key, $"unsupported statement '{key}'");
    }

    /// <summary>"counter": null | {"packets", "bytes"} | "NAME" (a named counter object).</summary>
    private void Counter(JsonElement v, string p)
    {
        W("counter", p);
        if (Named(v, p)) return;
        if (Opt(v, "packets") is { } pk) { W("packets", $"{p}.packets"); W(Scalar(pk, $"{p}.packets"), $"{p}.packets"); }
        if (Opt(v, "bytes") is { } by) { W("bytes", $"{p}.bytes"); W(Scalar(by, $"{p}.bytes"), $"{p}.bytes"); }
    }

    /// <summary>"synproxy": null | {"mss", "wscale", "flags": ["timestamp", "sack-perm"]} | "NAME" | {"map": ...}.</summary>
    private void Synproxy(JsonElement v, string p)
    {
        W("synproxy", p);
        if (Named(v, p) || v.ValueKind == JsonValueKind.Null) return;
        foreach (var w in SynproxyWords(v, p, this)) W(w, p);
    }

    /// <summary>A synproxy statement's or object's fields as the text's words (mss N wscale N timestamp sack-perm).</summary>
    internal static IEnumerable<string> SynproxyWords(JsonElement v, string p, NftJsonTokens? keysOf = null)
    {
        keysOf?.Keys(v, p, "synproxy", "mss", "wscale", "flags");
        var words = new List<string>();
        if (v.TryGetProperty("mss", out var mss)) { words.Add("mss"); words.Add(mss.ToString()); }
        if (v.TryGetProperty("wscale", out var ws)) { words.Add("wscale"); words.Add(ws.ToString()); }
        if (v.TryGetProperty("flags", out var flags))
            foreach (var f in flags.ValueKind == JsonValueKind.Array ? flags.EnumerateArray().Select(e => e.ToString()) : new[] { flags.ToString() })
                words.Add(f);
        return words;
    }

    /// <summary>A reference to a named object: "NAME" becomes `name "NAME"`; {"map": {"key", "data"}} becomes `name KEY map { k : "NAME", ... }`.</summary>
    private bool Named(JsonElement v, string p)
    {
        if (v.ValueKind == JsonValueKind.Object && Opt(v, "map") is { } map)
        {
            W("name", p);
            MapOf(map, $"{p}.map");
            return true;
        }
        if (v.ValueKind != JsonValueKind.String) return false;
        W("name", p); Toks.Add(new NftTok(TokKind.String, v.GetString()!, p, 0, 0));
        return true;
    }

    /// <summary>{"key": EXPR, "data": {"set": [[k, data], ...]}}: `EXPR map { k : data, ... }`.</summary>
    /// <summary>A constant, or {"map": {"key": ..., "data": ...}} (dup to ip saddr map { ... }, fwd to meta mark map { ... }).</summary>
    private void ValueOrMap(JsonElement e, string p)
    {
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("map", out var m)) MapOf(m, $"{p}.map");
        else Value(e, p);
    }

    private void MapOf(JsonElement map, string p)
    {
        Keys(map, p, "map", "key", "data");
        Left(Prop(map, "key", p), $"{p}.key");
        W("map", p);
        var data = Prop(map, "data", p);
        if (data.ValueKind == JsonValueKind.String) { var name = data.GetString()!; W(name.StartsWith('@') ? name : "@" + name, $"{p}.data"); return; }
        var (k, items) = Single(data, $"{p}.data", "the map's elements");
        if (k != "set") throw Err($"{p}.data.{k}", k, $"unsupported map data '{k}'");
        var dp = $"{p}.data.set";
        P("{", dp);
        var list = List(items);
        for (int i = 0; i < list.Count; i++)
        {
            if (i > 0) P(",", dp);
            if (list[i].ValueKind != JsonValueKind.Array || list[i].GetArrayLength() != 2) throw Err($"{dp}[{i}]", "elem", "expected [key, data]");
            Value(list[i][0], $"{dp}[{i}][0]"); P(":", $"{dp}[{i}]"); Value(list[i][1], $"{dp}[{i}][1]");
        }
        P("}", dp);
    }

    /// <summary>"quota": {"val", "val_unit", "inv" (over), "used", "used_unit"} | "NAME".</summary>
    private void Quota(JsonElement v, string p)
    {
        W("quota", p);
        if (Named(v, p)) return;
        Keys(v, p, "quota", "val", "val_unit", "inv", "used", "used_unit");
        if (Opt(v, "inv") is { ValueKind: JsonValueKind.True }) W("over", $"{p}.inv");
        W(Scalar(Prop(v, "val", p), $"{p}.val"), $"{p}.val");
        W(Opt(v, "val_unit") is { } u ? Scalar(u, $"{p}.val_unit") : "bytes", $"{p}.val_unit");
        if (Opt(v, "used") is not { } used) return;
        W("used", $"{p}.used"); W(Scalar(used, $"{p}.used"), $"{p}.used");
        W(Opt(v, "used_unit") is { } uu ? Scalar(uu, $"{p}.used_unit") : "bytes", $"{p}.used_unit");
    }

    /// <summary>"limit": {"rate", "per", "burst", "inv" (over), "rate_unit"/"burst_unit" (a byte limit)} | "NAME".</summary>
    private void Limit(JsonElement v, string p)
    {
        W("limit", p);
        if (Named(v, p)) return;
        Keys(v, p, "limit", "rate", "per", "burst", "inv", "rate_unit", "burst_unit");
        LimitBody(v, p);
    }

    /// <summary>A limit object ({"limit": {"family", "table", "name", "handle", "rate", ...}}) as `limit rate ...`.</summary>
    public static List<NftTok> LimitObject(string file, JsonElement o, string p)
    {
        var t = new NftJsonTokens(file);
        t.W("limit", p);
        t.LimitBody(o, p);
        t.Toks.Add(new NftTok(TokKind.Eof, "end of limit", p, 0, 0));
        return t.Toks;
    }

    private void LimitBody(JsonElement v, string p)
    {
        W("rate", p);
        if (Opt(v, "inv") is { ValueKind: JsonValueKind.True }) W("over", $"{p}.inv");
        var rate = Scalar(Prop(v, "rate", p), $"{p}.rate");
        var per = Opt(v, "per") is { } pe ? Scalar(pe, $"{p}.per") : "second";
        var unit = Opt(v, "rate_unit") is { } ru ? Scalar(ru, $"{p}.rate_unit") : "packets";
        bool bytes = unit != "packets";
        if (bytes) { W(rate, $"{p}.rate"); W($"{unit}/{per}", $"{p}.rate_unit"); }
        else W($"{rate}/{per}", $"{p}.rate");
        if (Opt(v, "burst") is not { } burst) return;
        var n = Scalar(burst, $"{p}.burst");
        if (!bytes && n == "0") return; // a packet limit without a burst takes the default
        W("burst", $"{p}.burst"); W(n, $"{p}.burst");
        W(bytes ? (Opt(v, "burst_unit") is { } bu ? Scalar(bu, $"{p}.burst_unit") : "bytes") : "packets", $"{p}.burst_unit");
    }

    /// <summary>"set": {"op": add|update|delete, "elem", "set": "@NAME", "stmt": [...]}: add @NAME { key [timeout T] stmts }.</summary>
    private void Dynset(JsonElement v, string p)
    {
        Keys(v, p, "set", "op", "elem", "set", "stmt");
        var op = Scalar(Prop(v, "op", p), $"{p}.op");
        if (op is not ("add" or "update" or "delete")) throw Err($"{p}.op", op, $"unsupported set statement '{op}'");
        W(op, $"{p}.op");
        var name = Scalar(Prop(v, "set", p), $"{p}.set");
        W(name.StartsWith('@') ? name : "@" + name, $"{p}.set");
        ElemBlock(v, "elem", p);
    }

    /// <summary>"meter": {"name", "size", "key" (or {"elem": {"val", "timeout"}}), "stmt"}: meter NAME size N { key [timeout T] stmt }.</summary>
    private void Meter(JsonElement v, string p)
    {
        Keys(v, p, "meter", "name", "size", "key", "stmt");
        W("meter", p);
        W(Scalar(Prop(v, "name", p), $"{p}.name"), $"{p}.name");
        if (Opt(v, "size") is { } size) { W("size", $"{p}.size"); W(Scalar(size, $"{p}.size"), $"{p}.size"); }
        ElemBlock(v, "key", p);
    }

    /// <summary>`{ KEY [timeout T] STMT... }` of a set statement or meter: the key in member <paramref name="keyMember"/>, then "stmt".</summary>
    private void ElemBlock(JsonElement v, string keyMember, string p)
    {
        P("{", p);
        ElemKey(Prop(v, keyMember, p), $"{p}.{keyMember}");
        if (Opt(v, "stmt") is { } stmts)
        {
            int i = 0;
            foreach (var st in List(stmts)) Statement(st, $"{p}.stmt[{i++}]");
        }
        P("}", p);
    }

    /// <summary>A dynset's or meter's key: an expression, or {"elem": {"val": EXPR, "timeout": T}}.</summary>
    private void ElemKey(JsonElement elem, string p)
    {
        if (elem.ValueKind == JsonValueKind.Object && elem.TryGetProperty("elem", out var inner))
        {
            var ep = $"{p}.elem";
            Keys(inner, ep, "elem", "val", "timeout");
            Left(Prop(inner, "val", ep), $"{ep}.val");
            if (Opt(inner, "timeout") is { } t) { W("timeout", $"{ep}.timeout"); W(Seconds(t, $"{ep}.timeout"), $"{ep}.timeout"); }
        }
        else Left(elem, p);
    }

    /// <summary>libnftables-json times are seconds (1.0.6 prints whole seconds); the text form takes "Ns".</summary>
    private string Seconds(JsonElement t, string path) =>
        t.ValueKind == JsonValueKind.Number && t.TryGetInt64(out var s) && s >= 0 ? $"{s}s"
        : t.ValueKind == JsonValueKind.Number && t.TryGetDouble(out var d) && d >= 0 ? $"{(long)Math.Round(d * 1000)}ms"
        : throw Err(path, t.ToString(), "expected a time in seconds");

    private void Keys(JsonElement v, string p, string what, params string[] keys)
    {
        if (v.ValueKind != JsonValueKind.Object) throw Err(p, what, $"expected the {what} statement's object");
        foreach (var k in v.EnumerateObject())
            if (Array.IndexOf(keys, k.Name) < 0) throw Err($"{p}.{k.Name}", k.Name, $"unsupported {what} option '{k.Name}'");
    }

    private void Match(JsonElement m, string p)
    {
        var left = Prop(m, "left", p); var right = Prop(m, "right", p);
        var op = Scalar(Prop(m, "op", p), $"{p}.op");
        bool masked = left.ValueKind == JsonValueKind.Object && left.TryGetProperty("&", out _);
        Left(left, $"{p}.left");
        // "==" is implied but for flags (tcp flags, ct state/status/label: "syn" alone means any of these bits)
        // and after a mask; written only there, the rule reads as nft lists it.
        if (op != "==" || masked || IsFlags(left)) Op(op, $"{p}.op");
        if (masked) Mask(right, $"{p}.right"); else Value(right, $"{p}.right");
    }

    private static bool IsFlags(JsonElement left) =>
        left.TryGetProperty("ct", out var ct) && ct.TryGetProperty("key", out var k) && k.GetString() is "state" or "status" or "label"
        || left.TryGetProperty("payload", out var pl) && pl.TryGetProperty("protocol", out var pr) && pr.GetString() == "tcp"
           && pl.TryGetProperty("field", out var f) && f.GetString() == "flags";

    /// <summary>"in" is nft's implicit relation (flags: any bit set; sets: membership); the others are written.</summary>
    private void Op(string op, string path)
    {
        if (op == "in") return;
        if (op is "==" or "!=" or "<" or ">" or "<=" or ">=" or "!") { P(op, path); return; }
        throw Err(path, op, $"unsupported operator '{op}'");
    }

    /// <summary>fib FLAGS RESULT, a value like any other: compared, in a set, a verdict map's key.</summary>
    private void Fib(JsonElement fib, string path)
    {
        W("fib", path);
        var flags = Opt(fib, "flags") is { } f ? List(f).Select(x => Scalar(x, $"{path}.flags")).ToList() : new List<string>();
        // the address comes first in the text form: fib daddr . iif type
        var ordered = flags.Where(x => x is "saddr" or "daddr").Concat(flags.Where(x => x is not ("saddr" or "daddr"))).ToList();
        for (int i = 0; i < ordered.Count; i++) { if (i > 0) W(".", path); W(ordered[i], $"{path}.flags"); }
        W(Scalar(Prop(fib, "result", path), $"{path}.result"), $"{path}.result");
    }

    private void Queue(JsonElement v, string p)
    {
        W("queue", p);
        if (Opt(v, "num") is { } num)
        {
            // a queue number from an expression or a map (`queue to jhash ...`) is written after the flags, as the text does
            if (num.ValueKind == JsonValueKind.Object && Single(num, $"{p}.num", "a queue number").Key is not ("range" or "prefix")) { QueueFlags(v, p); W("to", $"{p}.num"); QueueNum(num, $"{p}.num"); return; }
            W("num", $"{p}.num");
            W(Bound(num, $"{p}.num"), $"{p}.num");
        }
        QueueFlags(v, p);
    }

    private void QueueNum(JsonElement num, string p)
    {
        if (Opt(num, "map") is { } map) MapOf(map, $"{p}.map"); else Left(num, p);
    }

    private void QueueFlags(JsonElement v, string p)
    {
        if (Opt(v, "flags") is { } flags)
        {
            var fl = List(flags);
            for (int i = 0; i < fl.Count; i++) { if (i > 0) P(",", $"{p}.flags"); W(Scalar(fl[i], $"{p}.flags"), $"{p}.flags"); }
        }
    }

    private void Reject(JsonElement v, string p)
    {
        W("reject", p);
        if (Opt(v, "type") is not { } type) return;
        var ty = Scalar(type, $"{p}.type");
        W("with", p);
        if (ty == "tcp reset") { W("tcp", $"{p}.type"); W("reset", $"{p}.type"); return; }
        if (ty is not ("icmp" or "icmpv6" or "icmpx")) throw Err($"{p}.type", ty, $"unknown reject type '{ty}'");
        W(ty, $"{p}.type"); W("type", $"{p}.type");
        W(Opt(v, "expr") is { } code ? Scalar(code, $"{p}.expr") : "port-unreachable", $"{p}.expr");
    }

    /// <summary>
    /// "snat"/"dnat"/"masquerade"/"redirect": {"family", "addr", "port", "flags", "type_flags"}; "addr" and "port"
    /// are each a constant, a range, a prefix or {"map": ...}; the "netmap" flag is the text's <c>prefix</c>.
    /// "type_flags" (interval, prefix, concat) describes the map's data, which the elements say again.
    /// </summary>
    private void Nat(string kind, JsonElement v, string p)
    {
        W(kind, p);
        if (v.ValueKind != JsonValueKind.Object) return;
        Keys(v, p, kind, "family", "addr", "port", "flags", "type_flags");
        if (Opt(v, "family") is { } fam) W(Scalar(fam, $"{p}.family"), $"{p}.family");
        var flags = Opt(v, "flags") is { } fl ? List(fl).Select(f => Scalar(f, $"{p}.flags")).ToList() : new List<string>();
        if (flags.Remove("netmap")) W("prefix", $"{p}.flags");
        var addr = Opt(v, "addr"); var port = Opt(v, "port");
        static JsonElement? MapIn(JsonElement? e) => e is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty("map", out var m) ? m : null;
        if (addr is not null || port is not null)
        {
            W("to", p);
            if (MapIn(addr) is { } am) MapOf(am, $"{p}.addr.map");
            if (MapIn(port) is { } pm)
            {
                if (addr is { } a0 && MapIn(addr) is null) W(Bound(a0, $"{p}.addr") is var at && at.Contains(':') ? $"[{at}]" : at, $"{p}.addr");
                W(":", $"{p}.port");
                MapOf(pm, $"{p}.port.map");
            }
            else if (MapIn(addr) is not null) { if (port is { } mp) W($":{Bound(mp, $"{p}.port")}", $"{p}.port"); }
            else
            {
                string? a = addr is { } ae ? Bound(ae, $"{p}.addr") : null;
                string? pt = port is { } pe ? Bound(pe, $"{p}.port") : null;
                var text = a is null ? $":{pt}" : pt is null ? a : a.Contains(':') ? $"[{a}]:{pt}" : $"{a}:{pt}";
                W(text, a is not null ? $"{p}.addr" : $"{p}.port");
            }
        }
        for (int i = 0; i < flags.Count; i++) { if (i > 0) P(",", $"{p}.flags"); W(flags[i], $"{p}.flags"); }
    }

    /// <summary>A constant, a range "a-b" or a prefix "a/n", written as one word.</summary>
    private string Bound(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Object)
        {
            var (k, v) = Single(e, path, "a value");
            if (k == "range" && v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 2)
                return $"{Scalar(v[0], $"{path}.range[0]")}-{Scalar(v[1], $"{path}.range[1]")}";
            if (k == "prefix") return $"{Scalar(Prop(v, "addr", $"{path}.prefix"), $"{path}.prefix.addr")}/{Scalar(Prop(v, "len", $"{path}.prefix"), $"{path}.prefix.len")}";
            throw Err($"{path}.{k}", k, $"unsupported expression '{k}' (only constants, ranges and prefixes)");
        }
        return Scalar(e, path);
    }

    private void Log(JsonElement v, string p)
    {
        W("log", p);
        if (v.ValueKind != JsonValueKind.Object) return;
        foreach (var k in v.EnumerateObject())
        {
            var kp = $"{p}.{k.Name}";
            switch (k.Name)
            {
                case "prefix": W("prefix", kp); Toks.Add(new NftTok(TokKind.String, Scalar(k.Value, kp), kp, 0, 0)); break;
                case "level": case "group": case "snaplen": case "queue-threshold": W(k.Name, kp); W(Scalar(k.Value, kp), kp); break;
                case "flags":
                    W("flags", kp);
                    var fl = List(k.Value);
                    for (int i = 0; i < fl.Count; i++) { if (i > 0) P(",", kp); W(Scalar(fl[i], kp), kp); }
                    break;
                default: throw Err(kp, k.Name, $"unsupported log option '{k.Name}'");
            }
        }
    }

    private void Mangle(JsonElement v, string p)
    {
        var key = Prop(v, "key", p);
        var (kind, sel) = Single(key, $"{p}.key", "an expression");
        if (kind is "payload" or "tcp option")
        {
            // ip ttl set 23, tcp option maxseg size set 1360: the compiler decides which fields it writes
            Left(key, $"{p}.key");
            W("set", p);
            var constant = Prop(v, "value", p);
            // ip daddr set ip daddr map { ... } / ip saddr set ip daddr: a map or a field, as the text writes it
            if (kind == "payload" && constant.ValueKind == JsonValueKind.Object && Opt(constant, "map") is { } pmap) { MapOf(pmap, $"{p}.value.map"); return; }
            if (kind == "payload" && constant.ValueKind == JsonValueKind.Object && Single(constant, $"{p}.value", "a value").Item1 is "payload" or "&" or "|" or "^") { Operand(constant, $"{p}.value"); return; }
            // tcp option maxseg size set rt mtu: {"rt": {"key": "mtu"}}
            if (constant.ValueKind == JsonValueKind.Object && Single(constant, $"{p}.value", "a value") is ("rt", var rt)) { W("rt", $"{p}.value"); W(Scalar(Prop(rt, "key", $"{p}.value.rt"), $"{p}.value.rt.key"), $"{p}.value.rt.key"); return; }
            if (constant.ValueKind is not (JsonValueKind.Number or JsonValueKind.String))
                throw Err($"{p}.value", Describe(constant), $"unsupported value for '{kind} set': {Describe(constant)} (a constant, a header field, a map or rt mtu)");
            W(Scalar(constant, $"{p}.value"), $"{p}.value");
            return;
        }
        var field = sel.ValueKind == JsonValueKind.Object && sel.TryGetProperty("key", out var f) ? Scalar(f, $"{p}.key.{kind}.key") : "?";
        var target = (kind, field) switch
        {
            ("meta", "mark") => "meta mark", ("ct", "mark") => "ct mark", ("meta", "nftrace") => "meta nftrace", ("meta", "priority") => "meta priority", ("ct", "event") => "ct event", ("ct", "expiration") => "ct expiration",
            ("ct", "zone") => Opt(sel, "dir") is { } zd ? $"ct {Scalar(zd, $"{p}.key.ct.dir")} zone" : "ct zone", ("ct", "label") => "ct label",
            _ => throw Err($"{p}.key", kind, $"unsupported statement '{(field == "?" ? kind : $"{kind} {field}")} set'"),
        };
        if (kind == "ct" && field != "zone" && Opt(sel, "dir") is not null) throw Err($"{p}.key.ct.dir", "dir", "unsupported statement 'ct mark set' with a direction");
        foreach (var w in target.Split(' ')) W(w, $"{p}.key");
        W("set", p);
        var value = Prop(v, "value", p);
        if (value.ValueKind == JsonValueKind.Object && Opt(value, "map") is { } map) { MapOf(map, $"{p}.value.map"); return; }
        // ct label set "a" | "b": label bits, written as the text's `N | M` (no parentheses: not arithmetic)
        if (target == "ct label" && value.ValueKind == JsonValueKind.Object && value.TryGetProperty("|", out _)) { LabelBits(value, $"{p}.value"); return; }
        // meta mark set meta mark | 0x4000: {"|": [EXPR, CONSTANT]} (also "&", "^", "<<", ">>", nested)
        if (value.ValueKind == JsonValueKind.Object && Single(value, $"{p}.value", "a value").Key is "numgen" or "jhash" or "symhash" or "meta" or "ct" or "payload" or "&" or "|" or "^" or "<<" or ">>")
        {
            Operand(value, $"{p}.value");
            return;
        }
        if (target == "ct event" && value.ValueKind == JsonValueKind.Array) { Value(value, $"{p}.value"); return; } // ["new", "related"]
        if (value.ValueKind is not (JsonValueKind.Number or JsonValueKind.String))
            throw Err($"{p}.value", Describe(value), $"unsupported value for '{target} set': {Describe(value)} (only constants)");
        W(Scalar(value, $"{p}.value"), $"{p}.value");
    }

    /// <summary>{"|": [a, {"|": [b, c]}]}: the label names or numbers, joined by `|`.</summary>
    private void LabelBits(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("|", out var or) && or.ValueKind == JsonValueKind.Array)
        {
            for (int i = 0; i < or.GetArrayLength(); i++) { if (i > 0) P("|", path); LabelBits(or[i], $"{path}.|[{i}]"); }
            return;
        }
        W(Scalar(e, path), path);
    }

    /// <summary>
    /// A statement's value: a constant, an expression, or a binary operation on them ({"&lt;&lt;": [{"|": [EXPR, 16]}, 8]}),
    /// written with parentheses so the text's precedence keeps the JSON's nesting.
    /// </summary>
    private void Operand(JsonElement e, string path)
    {
        if (e.ValueKind is JsonValueKind.Number or JsonValueKind.String) { W(Scalar(e, path), path); return; }
        if (e.ValueKind == JsonValueKind.Object && Single(e, path, "a value") is (var op and ("&" or "|" or "^" or "<<" or ">>"), var operands))
        {
            if (operands.ValueKind != JsonValueKind.Array || operands.GetArrayLength() != 2) throw Err($"{path}.{op}", op, "expected [expression, value]");
            P("(", path);
            Operand(operands[0], $"{path}.{op}[0]");
            foreach (var ch in op) P(ch.ToString(), $"{path}.{op}");
            Operand(operands[1], $"{path}.{op}[1]");
            P(")", path);
            return;
        }
        Left(e, path);
    }

    // ---------- expressions ----------
    /// <summary>What a match or a map reads from the packet (payload, meta, ct, concatenations, a mask).</summary>
    private void Left(JsonElement e, string path)
    {
        var (k, v) = Single(e, path, "an expression");
        var p = $"{path}.{k}";
        switch (k)
        {
            case "payload":
                if (Opt(v, "protocol") is not { } proto)
                {
                    // {"base": "ll"|"nh"|"th"|"ih", "offset": BITS, "len": BITS}: the text's @ll,OFFSET,LEN
                    W("@" + Scalar(Prop(v, "base", p), $"{p}.base"), $"{p}.base");
                    P(",", p); W(Scalar(Prop(v, "offset", p), $"{p}.offset"), $"{p}.offset");
                    P(",", p); W(Scalar(Prop(v, "len", p), $"{p}.len"), $"{p}.len");
                    return;
                }
                W(Scalar(proto, $"{p}.protocol"), p);
                foreach (var w in Scalar(Prop(v, "field", p), $"{p}.field").Split(' ', StringSplitOptions.RemoveEmptyEntries)) W(w, p);
                return;
            case "meta":
                W("meta", p); W(Scalar(Prop(v, "key", p), $"{p}.key"), p); return;
            case "fib": Fib(v, p); return;
            case "socket":
                Keys(v, p, "socket", "key");
                W("socket", p); W(Scalar(Prop(v, "key", p), $"{p}.key"), p); return;
            case "numgen":
                W("numgen", p); W(Scalar(Prop(v, "mode", p), $"{p}.mode"), $"{p}.mode");
                W("mod", $"{p}.mod"); W(Scalar(Prop(v, "mod", p), $"{p}.mod"), $"{p}.mod");
                if (Opt(v, "offset") is { } off) { W("offset", $"{p}.offset"); W(Scalar(off, $"{p}.offset"), $"{p}.offset"); }
                return;
            case "tcp option" when Opt(v, "base") is { } optBase:
            {
                // a raw option field; nft writes a numbered option's presence test as base N, offset 0, len 8
                Keys(v, p, k, "base", "offset", "len");
                W("tcp", p); W("option", p);
                var (b, o, l) = (Scalar(optBase, $"{p}.base"), Scalar(Prop(v, "offset", p), $"{p}.offset"), Scalar(Prop(v, "len", p), $"{p}.len"));
                W(o == "0" && l is "8" or "0" ? b : $"@{b},{o},{l}", p);
                return;
            }
            case "tcp option": case "sctp chunk":
                Keys(v, p, k, "name", "field");
                foreach (var w in k.Split(' ')) W(w, p);
                W(Scalar(Prop(v, "name", p), $"{p}.name"), $"{p}.name");
                if (Opt(v, "field") is { } tf) W(Scalar(tf, $"{p}.field"), $"{p}.field");
                return;
            case "exthdr":
            {
                Keys(v, p, "exthdr", "name", "field", "offset");
                var name = Scalar(Prop(v, "name", p), $"{p}.name");
                if (Opt(v, "field") is not { } field) { W("exthdr", p); W(name, $"{p}.name"); return; }
                W(name, $"{p}.name");
                var fw = Scalar(field, $"{p}.field");
                W(Opt(v, "offset") is { } index ? $"{fw}[{Scalar(index, $"{p}.offset")}]" : fw, $"{p}.field");
                return;
            }
            case "jhash":
                Keys(v, p, "jhash", "mod", "seed", "offset", "expr");
                W("jhash", p); Left(Prop(v, "expr", p), $"{p}.expr");
                HashTail(v, p);
                return;
            case "symhash":
                Keys(v, p, "symhash", "mod", "offset");
                W("symhash", p);
                HashTail(v, p);
                return;
            case "ct":
                W("ct", p);
                if (Opt(v, "dir") is { } dir) W(Scalar(dir, $"{p}.dir"), $"{p}.dir");
                if (Opt(v, "family") is { } fam) W(Scalar(fam, $"{p}.family"), $"{p}.family");
                // a tuple key names its family in the key: {"dir": "original", "key": "ip saddr"}
                foreach (var word in Scalar(Prop(v, "key", p), $"{p}.key").Split(' ', StringSplitOptions.RemoveEmptyEntries)) W(word, p);
                return;
            case "concat":
            {
                var parts = List(v);
                for (int i = 0; i < parts.Count; i++) { if (i > 0) W(".", p); Left(parts[i], $"{p}[{i}]"); }
                return;
            }
            case "&" or "|" or "^": // nft_bitwise: meta mark | 0x3 == 0x1
                if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != 2) throw Err(p, k, "expected [expression, mask]");
                Left(v[0], $"{p}[0]");
                P(k, p);
                Mask(v[1], $"{p}[1]");
                return;
        }
        throw Err(p, k, $"unsupported expression '{k}'");
    }

    /// <summary>mod N [seed S] [offset O] of the hashes.</summary>
    private void HashTail(JsonElement v, string p)
    {
        W("mod", $"{p}.mod"); W(Scalar(Prop(v, "mod", p), $"{p}.mod"), $"{p}.mod");
        if (Opt(v, "seed") is { } seed) { W("seed", $"{p}.seed"); W(Scalar(seed, $"{p}.seed"), $"{p}.seed"); }
        if (Opt(v, "offset") is { } off) { W("offset", $"{p}.offset"); W(Scalar(off, $"{p}.offset"), $"{p}.offset"); }
    }

    /// <summary>A mask or a masked value: "(a | b)" for several bits.</summary>
    private void Mask(JsonElement e, string path)
    {
        List<JsonElement>? bits = e.ValueKind == JsonValueKind.Array ? List(e)
            : e.ValueKind == JsonValueKind.Object && e.TryGetProperty("|", out var or) ? List(or) : null;
        if (bits is null) { Value(e, path); return; }
        P("(", path);
        for (int i = 0; i < bits.Count; i++) { if (i > 0) P("|", path); Value(bits[i], $"{path}[{i}]"); }
        P(")", path);
    }

    /// <summary>The right-hand side: constants, flag lists, ranges, prefixes, sets, set references, verdicts.</summary>
    private void Value(JsonElement e, string path)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Number: W(e.GetRawText(), path); return;
            // a presence test (exthdr hbh exists, tcp option ... exists) is a boolean in JSON
            case JsonValueKind.True: W("exists", path); return;
            case JsonValueKind.False: W("missing", path); return;
            case JsonValueKind.String:
                var s = e.GetString()!;
                Toks.Add(new NftTok(s.Length > 0 && s.All(NftLexer.IsWordChar) ? TokKind.Word : TokKind.String, s, path, 0, 0));
                return;
            case JsonValueKind.Array:
            {
                // a list of flags: ct state established,related
                var items = List(e);
                for (int i = 0; i < items.Count; i++) { if (i > 0) P(",", path); Value(items[i], $"{path}[{i}]"); }
                return;
            }
            case JsonValueKind.Object: break;
            default: throw Err(path, e.ValueKind.ToString(), $"unexpected {Describe(e)}");
        }
        var (k, v) = Single(e, path, "a value");
        var p = $"{path}.{k}";
        switch (k)
        {
            case "set":
            {
                var items = List(v);
                P("{", p);
                for (int i = 0; i < items.Count; i++) { if (i > 0) P(",", p); SetElement(items[i], $"{p}[{i}]"); }
                P("}", p);
                return;
            }
            case "range": case "prefix": W(Bound(e, path), p); return;
            case "|":
            {
                var items = List(v);
                for (int i = 0; i < items.Count; i++) { if (i > 0) P("|", p); Value(items[i], $"{p}[{i}]"); }
                return;
            }
            case "concat":
            {
                var items = List(v);
                for (int i = 0; i < items.Count; i++) { if (i > 0) W(".", p); Value(items[i], $"{p}[{i}]"); }
                return;
            }
            case "elem": Value(Prop(v, "val", p), $"{p}.val"); return;
            case "accept": case "drop": case "continue": case "return": W(k, p); return;
            case "jump": case "goto": W(k, p); W(Scalar(Prop(v, "target", p), $"{p}.target"), $"{p}.target"); return;
        }
        throw Err(p, k, $"unsupported expression '{k}'");
    }

    /// <summary>A set element; in a verdict map a [key, verdict] pair.</summary>
    private void SetElement(JsonElement e, string path, bool map = false)
    {
        if (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() == 2 && (map || e[1].ValueKind == JsonValueKind.Object))
        {
            Value(e[0], $"{path}[0]");
            P(":", path);
            Value(e[1], $"{path}[1]");
            return;
        }
        Value(e, path);
    }
}
