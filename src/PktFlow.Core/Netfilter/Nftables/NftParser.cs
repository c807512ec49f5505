using System.Text;

namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// Reads nft text (the syntax people write and `nft list ruleset` prints) into tables, chains, sets
/// and compiled rules. Handles are assigned as the kernel does for `nft -f`: one counter per table
/// shared by chains, sets (anonymous ones too) and rules; inside a table block nft sends all new
/// chains first, then the sets, then the rules in order (checked against nft 1.0.6).
/// </summary>
internal sealed partial class NftParser
{
    private readonly NftLoadOptions _opt;
    private readonly List<NftTable> _tables;
    private int _tableCounter, _registration;
    private NftTokenStream _s = null!;

    public NftParser(NftLoadOptions opt, List<NftTable> tables) { _opt = opt; _tables = tables; }

    // ---------- preprocessing: include, define, $var ----------
    private List<NftTok> Preprocess(List<NftTok> toks, string file, Dictionary<string, List<NftTok>> defs, int depth)
    {
        var o = new List<NftTok>();
        for (int i = 0; i < toks.Count; i++)
        {
            var t = toks[i];
            bool lineStart = o.Count == 0 || o[^1].IsSep || o[^1].Is("{") || o[^1].Is("}");
            if (lineStart && t.Is("define") && i + 2 < toks.Count && toks[i + 2].Is("="))
            {
                var name = toks[i + 1].Text; var val = new List<NftTok>();
                int j = i + 3; int depthB = 0;
                for (; j < toks.Count && toks[j].Kind != TokKind.Eof; j++)
                {
                    if (toks[j].Is("{")) depthB++; else if (toks[j].Is("}")) depthB--;
                    if (depthB == 0 && toks[j].IsSep) break;
                    if (toks[j].Kind == TokKind.Newline) continue;
                    val.Add(toks[j]);
                }
                defs[name] = Expand(val, defs);
                i = j; continue;
            }
            if (lineStart && t.Is("include") && i + 1 < toks.Count && toks[i + 1].Kind == TokKind.String)
            {
                if (!_opt.AllowIncludes) throw NftTokenStream.Error(t, "include is disabled");
                if (depth > 16) throw NftTokenStream.Error(t, "include nested too deeply");
                var dir = Path.GetDirectoryName(file);
                if (string.IsNullOrEmpty(dir)) dir = _opt.BaseDirectory ?? Directory.GetCurrentDirectory();
                var pattern = toks[i + 1].Text;
                var full = Path.IsPathRooted(pattern) ? pattern : Path.Combine(dir, pattern);
                IEnumerable<string> files = full.Contains('*')
                    ? (Directory.Exists(Path.GetDirectoryName(full)) ? Directory.GetFiles(Path.GetDirectoryName(full)!, Path.GetFileName(full)).OrderBy(x => x, StringComparer.Ordinal) : Enumerable.Empty<string>())
                    : new[] { full };
                foreach (var f in files)
                {
                    if (!File.Exists(f)) throw NftTokenStream.Error(toks[i + 1], $"include file '{pattern}' not found");
                    var sub = NftLexer.Lex(File.ReadAllText(f), f); sub.RemoveAt(sub.Count - 1);
                    o.AddRange(Preprocess(sub, f, defs, depth + 1));
                    o.Add(new NftTok(TokKind.Newline, "\\n", f, 0, 0));
                }
                i++; continue;
            }
            if (t.Kind == TokKind.Word && t.Text.StartsWith('$')) { o.AddRange(Expand(new List<NftTok> { t }, defs)); continue; }
            o.Add(t);
        }
        return o;
    }

    private static List<NftTok> Expand(List<NftTok> val, Dictionary<string, List<NftTok>> defs)
    {
        var r = new List<NftTok>();
        foreach (var v in val)
        {
            if (v.Kind == TokKind.Word && v.Text.StartsWith('$'))
            {
                if (!defs.TryGetValue(v.Text[1..], out var d)) throw NftTokenStream.Error(v, $"undefined variable '{v.Text}'");
                foreach (var x in d) r.Add(x with { File = v.File, Line = v.Line, Col = v.Col });
            }
            else r.Add(v);
        }
        return r;
    }

    // ---------- top level ----------
    public void Load(string text, string file)
    {
        var toks = Preprocess(NftLexer.Lex(text, file), file, new(), 0);
        if (toks.Count == 0 || toks[^1].Kind != TokKind.Eof) toks.Add(new NftTok(TokKind.Eof, "end of file", file, 0, 0));
        _s = new NftTokenStream(toks);
        while (true)
        {
            _s.SkipSeps();
            var t = _s.Peek();
            if (t.Kind == TokKind.Eof) break;
            if (t.Is("table")) { _s.Next(); TableCommand(); continue; }
            if (t.Is("add") || t.Is("create")) { _s.Next(); AddCommand(); continue; }
            if (t.Is("insert")) throw NftTokenStream.Error(t, "unsupported command 'insert'");
            if (t.Is("delete") && _s.Peek(1).Is("element")) { _s.Next(); _s.Next(); DeleteElements(); continue; }
            if (t.Is("delete") && (_s.Peek(1).Is("table") || _s.Peek(1).Is("chain"))) { _s.Next(); DeleteCommand(); continue; }
            if (t.Is("flush"))
            {
                _s.Next(); var w = _s.Next();
                if (w.Is("ruleset"))
                {
                    // flush ruleset [FAMILY]: every table, or the family's alone
                    NftFamily? only = null;
                    if (_s.Peek() is { IsSep: false, Kind: not TokKind.Eof } f)
                        only = NftNames.ParseFamily(_s.Next().Text) ?? throw NftTokenStream.Error(f, $"syntax error, unexpected '{f}'");
                    var gone = _tables.Where(x => only is null || x.Family == only).ToList();
                    NatChainsReleased(gone.SelectMany(x => x.ChainList), w.Line);
                    _tables.RemoveAll(gone.Contains);
                    EndCommand(); continue;
                }
                if (w.Is("table")) { var tb = FindTable(); tb.ChainList.ForEach(c => c.RuleList.Clear()); EndCommand(); continue; }
                if (w.Is("chain")) { var tb = FindTable(); ChainOf(tb).RuleList.Clear(); EndCommand(); continue; }
                throw NftTokenStream.Error(w, $"unsupported command 'flush {w.Text}'");
            }
            throw NftTokenStream.Error(t, $"syntax error, unexpected '{t}'");
        }
        Validate();
    }

    private void EndCommand()
    {
        var t = _s.Peek();
        if (!t.IsSep && t.Kind != TokKind.Eof) throw NftTokenStream.Error(t, $"syntax error, unexpected '{t}'");
    }

    /// <summary>A name token as nft's grammar takes it (<see cref="NftIdentifiers"/>), unless the text is PktFlow's own translation.</summary>
    private string Ident(NftTok t, string expecting = "string") => _opt.AnyName && t.Kind == TokKind.Word ? t.Text : NftIdentifiers.Name(t, expecting);

    private string SetRef(NftTok t) => _opt.AnyName ? t.Text[1..] : NftIdentifiers.SetReference(t);

    private (NftFamily, string, NftTok) FamilyAndName()
    {
        var t = _s.Next();
        var fam = NftNames.ParseFamily(t.Text);
        if (fam is null) { return (NftFamily.Ip, Ident(t), t); } // nft default family is ip
        return (fam.Value, Ident(_s.Next()), t);
    }

    private NftTable FindTable()
    {
        var (f, n, t) = FamilyAndName();
        return _tables.Find(x => x.Family == f && x.Name == n) ?? throw NftTokenStream.Error(t, $"no such table '{n}'");
    }

    private NftChain ChainOf(NftTable tb)
    {
        var t = _s.Next();
        return tb.FindChain(Ident(t)) ?? throw NftTokenStream.Error(t, $"no such chain '{t.Text}'");
    }

    private NftTable GetOrAddTable(NftFamily f, string name)
    {
        var tb = _tables.Find(x => x.Family == f && x.Name == name);
        if (tb is null) { tb = new NftTable { Family = f, Name = name, Handle = ++_tableCounter }; _tables.Add(tb); }
        return tb;
    }

    private void AddCommand()
    {
        var what = _s.Next();
        if (what.Is("table"))
        {
            var (f, n, _) = FamilyAndName(); var tb = GetOrAddTable(f, n);
            if (_s.Peek().Is("{")) TableBody(tb); else EndCommand();
            return;
        }
        if (what.Is("chain"))
        {
            var tb = FindTable(); var nameTok = _s.Next();
            var ch = tb.FindChain(Ident(nameTok)) ?? NewChain(tb, nameTok.Text, assignHandle: true);
            if (_s.Accept("{"))
            {
                var rules = ChainBody(ch);
                foreach (var r in rules) CompileRule(ch, r);
            }
            else EndCommand();
            return;
        }
        if (what.Is("rule"))
        {
            var tb = FindTable(); var ch = ChainOf(tb);
            int start = _s.Pos; SkipRule();
            CompileRule(ch, (start, _s.Pos));
            return;
        }
        if (what.Is("set") || what.Is("map"))
        {
            var tb = FindTable(); var nameTok = _s.Next();
            bool existed = tb.SetMap.ContainsKey(Ident(nameTok));
            var set = SetDecl(tb, nameTok, isMap: what.Is("map"));
            if (!existed) set.Handle = ++tb.HandleCounter;
            ResolveSet(set);
            return;
        }
        if (what.Is("element"))
        {
            var set = ElementTarget();
            var open = _s.Peek(); _s.Expect("{"); _s.Pos--;
            set.PendingElements.Add((open, _s)); SkipBraces(); ResolveSet(set);
            return;
        }
        if (what.Is("ct"))
        {
            var kindTok = _s.Next(); var tb = FindTable(); var nameTok = _s.Next();
            bool existed = tb.ObjectMap.ContainsKey(nameTok.Text);
            var o = CtObjectDecl(tb, kindTok, nameTok);
            if (!existed) o.Handle = ++tb.HandleCounter;
            return;
        }
        if (what.Text is "secmark") throw NftTokenStream.Error(what, UnsupportedObject(what.Text));
        if (what.Text is "counter" or "quota" or "limit" or "synproxy")
        {
            var tb = FindTable(); var nameTok = _s.Next();
            bool existed = tb.ObjectMap.ContainsKey(nameTok.Text);
            var o = ObjectDecl(tb, what, nameTok);
            if (!existed) o.Handle = ++tb.HandleCounter;
            return;
        }
        throw NftTokenStream.Error(what, $"unsupported command 'add {what.Text}'");
    }

    private NftChain NewChain(NftTable tb, string name, bool assignHandle)
    {
        var ch = new NftChain { Table = tb, Name = name };
        if (assignHandle) ch.Handle = ++tb.HandleCounter;
        tb.ChainList.Add(ch);
        return ch;
    }

    private void TableCommand()
    {
        var (f, n, _) = FamilyAndName();
        var tb = GetOrAddTable(f, n);
        if (_s.Peek().Is("{")) TableBody(tb); else EndCommand();
    }

    private void TableBody(NftTable tb)
    {
        _s.Expect("{");
        var newChains = new List<NftChain>();
        var newSets = new List<NftSet>();
        var newObjects = new List<NftObject>();
        var bodies = new List<(NftChain, List<(int, int)>)>();
        while (true)
        {
            _s.SkipSeps();
            var t = _s.Next();
            if (t.Is("}")) break;
            if (t.Is("chain"))
            {
                var nameTok = _s.Next();
                var ch = tb.FindChain(Ident(nameTok));
                if (ch is null) { ch = NewChain(tb, nameTok.Text, assignHandle: false); newChains.Add(ch); }
                _s.Expect("{");
                bodies.Add((ch, ChainBody(ch)));
                _s.ExpectSeparator();
                continue;
            }
            if (t.Is("set") || t.Is("map"))
            {
                var nameTok = _s.Next();
                bool existed = tb.SetMap.ContainsKey(Ident(nameTok));
                var set = SetDecl(tb, nameTok, isMap: t.Is("map"));
                if (!existed) newSets.Add(set);
                _s.ExpectSeparator();
                continue;
            }
            if (t.Is("flags") || t.Is("comment")) { while (!_s.Peek().IsSep && !_s.Peek().Is("}")) _s.Next(); _s.ExpectSeparator(); continue; }
            if ((t.Is("counter") || t.Is("quota") || t.Is("limit") || t.Is("synproxy")) && _s.Peek(1).Is("{"))
            {
                var o = ObjectDecl(tb, t, _s.Next());
                if (o.Handle == 0) newObjects.Add(o);
                _s.ExpectSeparator();
                continue;
            }
            if (t.Is("ct") && _s.Peek(2).Is("{"))
            {
                var o = CtObjectDecl(tb, _s.Next(), _s.Next());
                if (o.Handle == 0) newObjects.Add(o);
                _s.ExpectSeparator();
                continue;
            }
            if (t.Text is "secmark") throw NftTokenStream.Error(t, UnsupportedObject(t.Text));
            if (t.Is("flowtable") || t.Is("counter") || t.Is("quota") || t.Is("ct") || t.Is("limit"))
                throw NftTokenStream.Error(t, $"unsupported table object '{t.Text}'");
            throw NftTokenStream.Error(t, $"syntax error, unexpected '{t}'");
        }
        // nft sends a table block's chains, then its objects, then its sets (checked with nft 1.0.6)
        foreach (var c in newChains) c.Handle = ++tb.HandleCounter;
        foreach (var o in newObjects) o.Handle = ++tb.HandleCounter;
        foreach (var s in newSets) s.Handle = ++tb.HandleCounter;
        foreach (var s in tb.SetMap.Values) ResolveSet(s);
        foreach (var (ch, rules) in bodies) foreach (var r in rules) CompileRule(ch, r);
    }

    /// <summary>Reads a chain body after '{'; returns the token ranges of its rules (compiled later).</summary>
    private List<(int, int)> ChainBody(NftChain ch)
    {
        var rules = new List<(int, int)>();
        var fam = ch.Table.Family;
        NftTok? typeTok = null, devTok = null;
        while (true)
        {
            _s.SkipSeps();
            var t = _s.Peek();
            if (t.Is("}"))
            {
                _s.Next();
                // the chain as a whole, once its device (which may follow on a line of its own) is known
                if (typeTok is { } at && NftChainType.ChainProblem(fam, ch.Type!, ch.Hook!.Value, ch.Device is not null) is { } bad)
                    throw NftTokenStream.Error(bad.AtDevice && devTok is { } d ? d : at, bad.Message);
                break;
            }
            if (t.Kind == TokKind.Eof) throw NftTokenStream.Error(t, "syntax error, unexpected end of file");
            if (t.Is("type"))
            {
                _s.Next();
                var ty = _s.Next();
                if (ty.Text is not ("filter" or "nat" or "route")) throw NftTokenStream.Error(ty, $"unknown chain type '{ty.Text}'");
                ch.Type = ty.Text;
                _s.Expect("hook");
                var hk = _s.Next();
                ch.Hook = NftNames.ParseHook(hk.Text) ?? throw NftTokenStream.Error(hk, $"unknown chain hook '{hk.Text}'");
                if (NftChainType.HookProblem(fam, ch.Hook.Value) is { } wrongHook) throw NftTokenStream.Error(hk, wrongHook);
                typeTok = ty;
                if (_s.Peek().Is("device")) { devTok = _s.Next(); ch.Device = _s.Next().Text; }
                _s.Expect("priority");
                ch.Priority = ParsePriority(fam);
                if (_s.Peek().Is("device")) { devTok = _s.Next(); ch.Device = _s.Next().Text; }
                // declaring an existing base chain again updates it: its hook stays where it was registered
                if (ch.RegistrationOrder == 0)
                {
                    (ch.RegistrationOrder, ch.RegistrationLine) = (++_registration, ty.Line);
                }
                _s.ExpectSeparator();
                continue;
            }
            if (t.Is("policy"))
            {
                _s.Next(); var p = _s.Next();
                if (p.Is("accept")) ch.PolicyDrop = false;
                else if (p.Is("drop")) ch.PolicyDrop = true;
                else throw NftTokenStream.Error(p, $"unknown policy '{p.Text}'");
                _s.ExpectSeparator();
                continue;
            }
            if (t.Is("device") || t.Is("devices")) { devTok = _s.Next(); _s.Accept("="); ch.Device = _s.Next().Text; continue; }
            if (t.Is("comment") && _s.Peek(1).Kind == TokKind.String && (_s.Peek(2).IsSep || _s.Peek(2).Is("}"))) { _s.Next(); _s.Next(); _s.ExpectSeparator(); continue; }
            int start = _s.Pos; SkipRule(); rules.Add((start, _s.Pos));
            _s.ExpectSeparator();
        }
        return rules;
    }

    private int ParsePriority(NftFamily fam)
    {
        var t = _s.Next();
        int sign = 1;
        string w = t.Text;
        if (NftType.TryNumber(w, out var n0)) return (int)n0;
        if (w.StartsWith('-') && NftType.TryNumber(w[1..], out var n1)) return -(int)n1;
        // name, name+N, name-N, or name + N
        int baseV; string rest = "";
        int dash = w.IndexOf('-');
        if (dash > 0) { rest = w[dash..]; w = w[..dash]; }
        baseV = NftNames.Priority(fam, w) ?? throw NftTokenStream.Error(t, $"unknown priority '{t.Text}'");
        if (rest.Length > 1) return baseV - int.Parse(rest[1..]);
        var nx = _s.Peek();
        if (nx.Is("+") || nx.Text == "-" || (nx.Kind == TokKind.Word && (nx.Text.StartsWith('-') || nx.Text.StartsWith('+'))))
        {
            _s.Next(); string num = nx.Text.TrimStart('+', '-');
            if (nx.Text.StartsWith('-')) sign = -1;
            if (num.Length == 0) num = _s.Next().Text;
            if (!int.TryParse(num, out var off)) throw NftTokenStream.Error(nx, $"bad priority offset '{num}'");
            return baseV + sign * off;
        }
        return baseV;
    }

    /// <summary>Advances past one rule (up to a separator or the closing brace, at depth 0).</summary>
    private void SkipRule()
    {
        int depth = 0;
        while (true)
        {
            var t = _s.Peek();
            if (t.Kind == TokKind.Eof) return;
            if (depth == 0 && (t.IsSep || t.Is("}"))) return;
            if (t.Is("{") || t.Is("(")) depth++;
            else if (t.Is("}") || t.Is(")")) depth--;
            _s.Next();
        }
    }

    private void SkipBraces()
    {
        int depth = 0;
        do
        {
            var t = _s.Next();
            if (t.Is("{")) depth++; else if (t.Is("}")) depth--;
            if (t.Kind == TokKind.Eof) throw NftTokenStream.Error(t, "syntax error, unexpected end of file");
        } while (depth > 0);
    }

    private NftSet SetDecl(NftTable tb, NftTok nameTok, bool isMap = false)
    {
        if (!tb.SetMap.TryGetValue(nameTok.Text, out var set))
        {
            set = new NftSet { Table = tb, Name = nameTok.Text, IsMap = isMap };
            tb.SetMap[set.Name] = set;
        }
        else if (set.IsMap != isMap) throw NftTokenStream.Error(nameTok, $"'{nameTok.Text}' is already a {(set.IsMap ? "map" : "set")} of {tb}");
        _s.Expect("{");
        while (true)
        {
            _s.SkipSeps();
            var t = _s.Next();
            if (t.Is("}")) break;
            if (t.Is("type") || t.Is("typeof"))
            {
                var (keys, keyText) = t.Is("type") ? TypeList() : TypeofList();
                set.KeyTypes = keys; set.TypeText = keyText;
                if (isMap) MapDataType(set, t);
                continue;
            }
            if (t.Is("flags"))
            {
                var fl = new List<string>();
                do fl.Add(_s.Next().Text); while (_s.Accept(","));
                set.Flags = fl; continue;
            }
            if (t.Is("elements"))
            {
                _s.Expect("=");
                set.PendingElements.Add((_s.Peek(), _s));
                SkipBraces(); continue;
            }
            if (t.Is("timeout")) { var tt = _s.Next(); set.TimeoutNs = TimeNs(tt.Text) ?? throw NftTokenStream.Error(tt, $"bad time '{tt.Text}'"); continue; }
            if (t.Is("size")) { var st = _s.Next(); set.Size = int.TryParse(st.Text, out var sz) && sz > 0 ? sz : throw NftTokenStream.Error(st, $"bad size '{st.Text}'"); continue; }
            if (t.Is("policy") || t.Is("gc-interval") || t.Is("comment") || t.Is("auto-merge"))
            { while (!_s.Peek().IsSep && !_s.Peek().Is("}")) _s.Next(); continue; }
            throw NftTokenStream.Error(t, $"unsupported set property '{t.Text}'");
        }
        if (set.KeyTypes.Length == 0) throw NftTokenStream.Error(nameTok, $"{(isMap ? "map" : "set")} '{set.Name}' has no type");
        return set;
    }

    /// <summary><c>counter NAME { [packets N bytes M] }</c>, <c>quota NAME { [over|until] N bytes [used M bytes] }</c>,
    /// <c>limit NAME { rate [over] N/unit [burst B] }</c> or <c>synproxy NAME { mss N; wscale N; timestamp sack-perm }</c>.</summary>
    private NftObject ObjectDecl(NftTable tb, NftTok kind, NftTok name)
    {
        Ident(name);
        if (!tb.ObjectMap.TryGetValue(name.Text, out var o))
            tb.ObjectMap[name.Text] = o = new NftObject { Table = tb, Kind = kind.Text, Name = name.Text };
        else if (o.Kind != kind.Text) throw NftTokenStream.Error(name, $"'{name.Text}' is already a {o.Kind}");
        _s.Expect("{");
        var words = new List<NftTok>();
        while (true)
        {
            _s.SkipSeps();
            var t = _s.Next();
            if (t.Is("}")) break;
            if (t.Kind == TokKind.Eof) throw NftTokenStream.Error(t, "syntax error, unexpected end of file");
            if (t.Is("comment")) { _s.Next(); continue; }
            words.Add(t);
        }
        if (kind.Is("synproxy"))
        {
            o.Synproxy = SynproxyObject(words, name);
            return o;
        }
        if (kind.Is("limit"))
        {
            o.Limit = LimitFrom(words.Prepend(kind).Append(new NftTok(TokKind.Eof, "}", name.File, name.Line, name.Col)).ToList());
            return o;
        }
        long Num(int i) => i < words.Count && NftType.TryNumber(words[i].Text, out var v) ? (long)v
            : throw NftTokenStream.Error(i < words.Count ? words[i] : name, $"bad {kind.Text} '{name.Text}'");
        long Bytes(int i) => Num(i) * (long)(i + 1 < words.Count ? ByteUnit(words[i + 1], words[i + 1].Text) : 1);
        if (kind.Is("counter"))
        {
            for (int i = 0; i + 1 < words.Count; i += 2)
                if (words[i].Is("packets")) o.InitialPackets = Num(i + 1);
                else if (words[i].Is("bytes")) o.InitialBytes = Num(i + 1);
                else throw NftTokenStream.Error(words[i], $"unexpected '{words[i].Text}' in counter '{name.Text}'");
            return o;
        }
        int k = 0;
        if (k < words.Count && words[k].Is("over")) { o.Over = true; k++; }
        else if (k < words.Count && words[k].Is("until")) k++;
        o.QuotaBytes = Bytes(k); k += 2;
        if (k < words.Count && words[k].Is("used")) { o.InitialBytes = Bytes(k + 1); k += 3; }
        if (k < words.Count) throw NftTokenStream.Error(words[k], $"unexpected '{words[k].Text}' in quota '{name.Text}'");
        return o;
    }

    /// <summary>A limit object's body, read by the rule compiler's <c>limit rate ...</c> reader (<paramref name="toks"/> start with "limit").</summary>
    internal LimitStmt LimitFrom(List<NftTok> toks)
    {
        var (saveS, saveEnd) = (_s, _ruleEnd);
        _s = new NftTokenStream(toks); _ruleEnd = toks.Count - 1;
        try
        {
            var st = Limit() as LimitStmt ?? throw Err(toks[0], "a limit object cannot name another");
            if (More) throw Err(Cur, $"syntax error, unexpected '{Cur}' in limit");
            return st;
        }
        finally { (_s, _ruleEnd) = (saveS, saveEnd); }
    }

    private void ResolveSet(NftSet set)
    {
        if (set.PendingElements.Count == 0) return;
        var save = _s.Pos;
        var ruleTargets = _jumpTargets.ToArray(); // a rule being compiled keeps its own
        _jumpTargets.Clear();
        foreach (var (tok, src) in set.PendingElements)
        {
            int p = FindTokenPos(src, tok);
            src.Pos = p;
            set.Elements.AddRange(ElementsOf(set));
        }
        set.PendingElements.Clear();
        // a verdict map's jumps, like a rule's, need their chains added first (a block adds chains before sets)
        CheckJumpTargets(set.Table, "element");
        _jumpTargets.AddRange(ruleTargets);
        _s.Pos = save;
    }

    private int FindTokenPos(NftTokenStream src, NftTok tok)
    {
        // tokens are unique by position
        int save = src.Pos;
        for (int i = 0; ; i++)
        {
            src.Pos = i; var t = src.Peek();
            if (t == tok) { src.Pos = save; return i; }
            if (t.Kind == TokKind.Eof) { src.Pos = save; throw NftTokenStream.Error(tok, "internal: token lost"); }
        }
    }

    private sealed class TypeOnlySelector : NftSelector
    {
        private readonly NftType _t;
        public TypeOnlySelector(NftType t) { _t = t; }
        public override NftType Type => _t;
        public override bool Load(NftEvalCtx c, Span<byte> dst) => false;
    }

    private void Validate()
    {
        foreach (var tb in _tables)
            foreach (var ch in tb.ChainList)
            {
                foreach (var r in ch.RuleList)
                    foreach (var st in r.Stmts)
                    {
                        string? target = st switch
                        {
                            VerdictStmt v when v.Target is not null => v.Target,
                            _ => null,
                        };
                        if (target is not null && tb.FindChain(target) is null)
                            throw RuleError(r, target, $"Could not process rule: No such file or directory: chain '{target}' in {tb}");
                        if (st is MatchStmt { Vmap: true } m)
                            foreach (var e in m.Elements ?? m.Set!.Elements)
                                if (e.Target is not null && tb.FindChain(e.Target) is null)
                                    throw RuleError(r, e.Target, $"Could not process rule: No such file or directory: chain '{e.Target}' in {tb}");
                    }
                if (ch.IsBase && ch.Type is null) throw new NftParseException("", 0, 0, ch.Name, $"chain {ch.Name} has no type");
            }
        // a verdict map's jumps must name chains of its table (nft refuses the element otherwise)
        foreach (var tb in _tables)
            foreach (var set in tb.SetMap.Values)
                foreach (var e in set.Elements)
                    if (e.Target is not null && tb.FindChain(e.Target) is null)
                        throw new NftParseException("", 0, 0, e.Target, $"Could not process rule: No such file or directory: chain '{e.Target}' in {tb} (map '{set.Name}')");
        // jump loops: nft refuses them ("Too many levels of symbolic links")
        foreach (var tb in _tables)
            foreach (var ch in tb.ChainList)
            {
                var state = new Dictionary<NftChain, int>();
                if (HasLoop(ch, state))
                    throw new NftParseException("", 0, 0, ch.Name, $"Could not process rule: Too many levels of symbolic links: jump loop through {tb} chain {ch.Name}");
            }
        ValidateHooks();
    }

    /// <summary>
    /// Expressions the kernel allows only at some hooks (fib) are checked against every base chain
    /// that reaches them: in a base chain the rule itself is refused, elsewhere the jump that reaches it
    /// (nf_tables_check_loops walks the jumps when a base chain binds them).
    /// </summary>
    private void ValidateHooks()
    {
        foreach (var tb in _tables.Where(t => t.ChainList.Any(c => c.RuleList.Any(r => r.HookRestricted is not null))))
            foreach (var ch in tb.ChainList)
            {
                if (ch.Hook is not { } hook) continue;
                foreach (var r in ch.RuleList)
                {
                    if (HookProblem(r, tb.Family, hook) is { } own) throw RuleError(r, own.Keyword, $"Could not process rule: Operation not supported: {own.Problem}");
                    foreach (var t in RuleTargets(r))
                        if (tb.FindChain(t) is { } target && Reached(target, tb.Family, hook, new HashSet<NftChain>()) is { } far)
                            throw RuleError(r, t, $"Could not process rule: Operation not supported: jump to chain '{t}' from {hook.ToString().ToLowerInvariant()} chain '{ch.Name}' reaches {far.Rule.SourceFile}:{far.Rule.SourceLine}: {far.Problem}");
                }
            }
    }

    private static (string Keyword, string Problem)? HookProblem(NftRule r, NftFamily family, NftHookPoint hook)
    {
        if (r.Unsupported is not null || r.HookRestricted is null) return null;
        foreach (var f in r.HookRestricted) if (f.HookProblem(family, hook) is { } p) return (f.Keyword, p);
        return null;
    }

    private static (NftRule Rule, string Problem)? Reached(NftChain ch, NftFamily family, NftHookPoint hook, HashSet<NftChain> seen)
    {
        if (!seen.Add(ch)) return null;
        foreach (var r in ch.RuleList)
        {
            if (HookProblem(r, family, hook) is { } p) return (r, p.Problem);
            foreach (var t in RuleTargets(r))
                if (ch.Table.FindChain(t) is { } n && Reached(n, family, hook, seen) is { } far) return far;
        }
        return null;
    }

    private static NftParseException RuleError(NftRule r, string token, string message) =>
        r.SourcePath is { } path ? new(r.SourceFile, path, token, message) : new(r.SourceFile, r.SourceLine, 1, token, message);

    private static IEnumerable<string> Targets(NftChain ch) => ch.RuleList.SelectMany(RuleTargets);

    private static IEnumerable<string> RuleTargets(NftRule r)
    {
        foreach (var st in r.Stmts)
        {
            if (st is VerdictStmt { Target: { } t }) yield return t;
            if (st is MatchStmt { Vmap: true } m) foreach (var e in m.Elements ?? m.Set!.Elements) if (e.Target is { } et) yield return et;
        }
    }

    private static bool HasLoop(NftChain ch, Dictionary<NftChain, int> state)
    {
        if (state.TryGetValue(ch, out var s)) return s == 1;
        state[ch] = 1;
        foreach (var t in Targets(ch)) { var n = ch.Table.FindChain(t); if (n is not null && HasLoop(n, state)) return true; }
        state[ch] = 2;
        return false;
    }
}
