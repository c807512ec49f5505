using System.Text;
using PktFlow.Wire;

namespace PktFlow.Netfilter.Nftables;

internal sealed partial class NftParser
{
    private int _ruleEnd;
    private int _anonSets;
    private bool _readsCtAcct;
    /// <summary>The chains the rule being compiled jumps to (jump, goto, an anonymous verdict map's
    /// elements), with the token nft's error points at.</summary>
    private readonly List<(string Chain, NftTok At)> _jumpTargets = new();
    /// <summary>An earlier statement of the rule names the transport protocol (nft's transport context, which NAT ports and tproxy need).</summary>
    private bool _transportKnown;
    /// <summary>The network protocol an earlier match of the rule fixes (nft's network context; an inet NAT address needs one).</summary>
    private IpFamily? _networkFamily;
    /// <summary>Tags a `vlan type 8021q|8021ad` of the rule stacked so far: nft reads later vlan fields 4 bytes further per tag.</summary>
    private int _vlanDepth;

    private void CompileRule(NftChain ch, (int Start, int End) range)
    {
        var save = _s.Pos;
        _s.Pos = range.Start; _ruleEnd = range.End; _anonSets = 0; _currentChain = ch;
        var first = _s.Peek();
        var rule = new NftRule { Chain = ch, SourceFile = first.File, SourceLine = first.Line, Text = RuleText(range) };
        _s.Pos = range.Start;
        try { CompileStatements(ch, rule); }
        catch (NftParseException e) when (_opt.AllowUnsupported)
        {
            rule.Unsupported = e.Message; rule.Stmts = Array.Empty<NftStmt>();
        }
        tb(ch).HandleCounter += _anonSets;
        rule.Handle = ++tb(ch).HandleCounter;
        ch.RuleList.Add(rule);
        _s.Pos = save;
        static NftTable tb(NftChain c) => c.Table;
    }

    /// <summary>Compiles the tokens up to the rule's end into <paramref name="rule"/>'s statements.</summary>
    private void CompileStatements(NftChain ch, NftRule rule)
    {
        _currentRule = rule;
        var stmts = new List<NftStmt>();
        _readsCtAcct = false; _jumpTargets.Clear(); _transportKnown = false; _networkFamily = null; _vlanDepth = 0;
        StartContext(ch);
        while (_s.Pos < _ruleEnd)
        {
            var at = Cur;
            var st = Statement(ch, rule);
            CheckTerminal(at, st);
            CheckProtocols(at, st);
            stmts.Add(st);
            if (st is MatchStmt m && NamesTransport(m.Sel, m.Op)) _transportKnown = true;
            if (st is MatchStmt nm && NetworkFamily(nm) is { } nf) _networkFamily = nf;
            if (st is MatchStmt { Sel: PayloadSelector { Base: PBase.Link } vt, Op: CmpOp.Eq, Value: [0x81, 0x00] or [0x88, 0xA8] } && vt.Text == "vlan type") _vlanDepth++;
        }
        rule.TurnsOnCtAcct = _readsCtAcct;
        CheckJumpTargets(ch.Table, "rule");
        RejectDependency(ch, stmts);
        rule.Stmts = stmts.ToArray();
        rule.HasCounter = stmts.Any(x => x is CounterStmt);
    }

    /// <summary>
    /// The kernel takes nft's batch in order, so a rule can only jump to a chain added before it: a
    /// `table { }` block adds all its chains before its rules (forward jumps inside one block load), an
    /// `add rule` before the `add chain` of its target, or a block jumping to a chain a later block adds,
    /// fails with ENOENT (checked with nft 1.0.6 on 6.18).
    /// </summary>
    private void CheckJumpTargets(NftTable tb, string what)
    {
        foreach (var (chain, at) in _jumpTargets)
            if (tb.FindChain(chain) is null)
                throw Err(at, $"Could not process rule: No such file or directory: chain '{chain}' in {tb} (not added before this {what})");
        _jumpTargets.Clear();
    }

    /// <summary>
    /// A reject naming icmp or icmpv6 in an inet table: nft puts `meta nfproto ipv4/ipv6` first in the
    /// rule (unless the rule has it already) and `nft list` hides it again as implied, so the rule only
    /// matches packets of that family (checked with nft 1.0.6 --debug=netlink).
    /// </summary>
    private static void RejectDependency(NftChain ch, List<NftStmt> stmts)
    {
        if (ch.Table.Family != NftFamily.Inet || stmts.OfType<RejectStmt>().FirstOrDefault() is not { } reject) return;
        byte proto = reject.Desc.StartsWith("icmpv6 ", StringComparison.Ordinal) ? (byte)10 : reject.Desc.StartsWith("icmp ", StringComparison.Ordinal) ? (byte)2 : (byte)0;
        if (proto == 0 || stmts.Any(x => x is MatchStmt { Sel: MetaSelector { Key: MetaKey.NfProto }, Op: CmpOp.Eq, Value: [var v] } && v == proto)) return;
        stmts.Insert(0, new MatchStmt { Sel = new MetaSelector(MetaKey.NfProto, NftType.NfProto) { Text = "meta nfproto" }, Op = CmpOp.Eq, Value = new[] { proto }, Widths = new[] { 1 } });
    }

    /// <summary>The rule's tokens as one normalised line (single spaces, "a,b", "(x)").</summary>
    private string RuleText((int Start, int End) range)
    {
        var sb = new StringBuilder();
        for (int i = range.Start; i < range.End; i++)
        {
            _s.Pos = i; var t = _s.Peek();
            if (t.Is(",")) { sb.Append(','); continue; }
            if (sb.Length > 0 && !(sb[^1] == '(' || t.Is(")"))) sb.Append(' ');
            sb.Append(t.ToString());
        }
        return sb.ToString();
    }

    private bool More => _s.Pos < _ruleEnd;
    private NftTok Cur => _s.Pos < _ruleEnd ? _s.Peek() : new NftTok(TokKind.Eof, "end of rule", _s.Peek().File, _s.Peek().Line, _s.Peek().Col);
    private NftTok Take() { var t = Cur; if (More) _s.Next(); return t; }
    private bool TakeIf(string s) { if (More && _s.Peek().Is(s)) { _s.Next(); return true; } return false; }
    private static NftParseException Err(NftTok t, string m) => NftTokenStream.Error(t, m);

    /// <summary>
    /// A ct expression or statement calls nf_ct_netns_get, which has no conntrack for arp or netdev tables:
    /// the kernel refuses the rule (measured on 6.18 with `unshare -n nft -f`: "Could not process rule: Protocol error").
    /// </summary>
    private void RefuseCtFamily(NftTok at)
    {
        if (CurrentTable?.Family is NftFamily.Arp or NftFamily.Netdev)
            throw Err(at, $"Could not process rule: Protocol error (conntrack does not track {NftNames.Family(CurrentTable.Family)} tables' packets: no ct here)");
    }

    /// <summary>Expressions nft knows that the model cannot evaluate, refused by name.</summary>
    private static readonly Dictionary<string, string> NotModelled = new()
    {
        ["ipsec"] = "the packet's xfrm state and security path are not modelled",
        ["osf"] = "passive OS fingerprinting needs the fingerprints nfnl_osf loaded into the kernel, which a lab does not show",
    };

    private static readonly HashSet<string> BareMeta = new() { "iifname", "oifname", "iif", "oif", "mark", "pkttype", "nfproto", "l4proto", "skuid", "skgid",
        "iiftype", "oiftype", "iifgroup", "oifgroup", "cpu", "cgroup", "time" };

    private NftStmt Statement(NftChain ch, NftRule rule)
    {
        var t = Cur;
        switch (t.Text)
        {
            case "counter":
            {
                Take();
                if (TakeIf("name")) return ObjectRef("counter");
                var cs = new CounterStmt();
                if (TakeIf("packets")) { cs.InitialPackets = (long)U64(Take()); if (TakeIf("bytes")) cs.InitialBytes = (long)U64(Take()); }
                else if (TakeIf("bytes")) { cs.InitialBytes = (long)U64(Take()); if (TakeIf("packets")) cs.InitialPackets = (long)U64(Take()); }
                return cs;
            }
            case "limit": return Limit();
            case "quota": return Quota();
            case "meter": return Meter(ch, rule);
            case "add" or "update" or "delete" when _s.Peek(1).Text.StartsWith('@'): return Dynset(ch, rule);
            case "log":
            {
                Take(); var desc = new StringBuilder("log");
                while (More && Cur.Text is "prefix" or "level" or "group" or "snaplen" or "queue-threshold" or "flags")
                {
                    var k = Take().Text; var v = Take();
                    desc.Append(' ').Append(k).Append(' ').Append(v.ToString());
                    // flags ip options | flags tcp sequence,options | flags ether | skuid | all
                    if (k == "flags" && v.Text is "ip" or "tcp") desc.Append(' ').Append(Take().Text);
                    while (k == "flags" && TakeIf(",")) desc.Append(',').Append(Take().Text);
                }
                return new LogStmt { Text = desc.ToString() };
            }
            case "accept": Take(); return new VerdictStmt { Verdict = NftVerdict.Accept };
            case "drop": Take(); return new VerdictStmt { Verdict = NftVerdict.Drop };
            case "continue": Take(); return new VerdictStmt { Verdict = NftVerdict.Continue };
            case "return": Take(); return new VerdictStmt { Verdict = NftVerdict.Return };
            case "jump": case "goto":
                Take();
                var target = Take();
                Ident(target, "'{'");
                _jumpTargets.Add((target.Text, target));
                return new VerdictStmt { Verdict = t.Text == "jump" ? NftVerdict.Jump : NftVerdict.Goto, Target = target.Text };
            case "queue":
                Take();
                bool bypass = false;
                while (More && Cur.Text is "num" or "flags" or "bypass" or "fanout" or "to" || (More && (Cur.Is(",") || char.IsDigit(Cur.Text[0]))))
                {
                    bypass |= Cur.Is("bypass");
                    // queue to EXPR [map { k : num }]: the queue number per packet; the model has no queue listener, so
                    // which queue does not change the verdict (it is still parsed, so a bad expression is refused)
                    if (Take().Is("to") && Cur.Kind == TokKind.Word && SelectorWords.Contains(Cur.Text))
                    {
                        var key = Selector();
                        if (TakeIf("map")) MapBody(key, () => (uint)U32(Take()) is var n && n <= ushort.MaxValue ? n : throw Err(Cur, "queue number above 65535"), _ => null);
                    }
                }
                return new VerdictStmt { Verdict = NftVerdict.Queue, QueueBypass = bypass };
            case "reject": return Reject();
            case "snat": case "dnat": case "masquerade": case "redirect": return Nat(rule);
            case "notrack": Take(); return new NotrackStmt();
            case "synproxy": return Synproxy(ch);
            case "secmark": throw Err(t, UnsupportedObject(t.Text));
            case "comment": Take(); rule.Comment = Take().Text; return new NotrackNoop();
            case "meta":
                Take();
                if (Cur.Is("mark") && _s.Peek(1).Is("set") ) { Take(); Take(); return SetMark(ct: false); }
                if (Cur.Is("priority") && _s.Peek(1).Is("set")) { Take(); Take(); return SetPriority(); }
                if (Cur.Is("nftrace") && _s.Peek(1).Is("set")) { Take(); Take(); Take(); return new NftraceSetStmt(); }
                if (Cur.Is("random")) return MetaRandom();
                return Match(ConcatAfter(MetaSel(Take()))); // meta l4proto . th dport vmap @service-nodeports
            case "ct":
                RefuseCtFamily(Cur);
                if (_s.Peek(1).Is("mark") && _s.Peek(2).Is("set")) { Take(); Take(); Take(); return SetMark(ct: true); }
                if (_s.Peek(1).Is("count")) return Connlimit();
                if (_s.Peek(1).Is("event") && _s.Peek(2).Is("set")) { Take(); Take(); Take(); return CtEventSet(); }
                // nft 1.0.6 sends it; nft_ct_set_init has no case for NFT_CT_EXPIRATION (6.18): EOPNOTSUPP
                if (_s.Peek(1).Is("expiration") && _s.Peek(2).Is("set"))
                    throw Err(t, "Could not process rule: Operation not supported (ct expiration set: the kernel cannot set a connection's timeout from a rule)");
                if (_s.Peek(1).Text is "helper" or "timeout" or "expectation" && _s.Peek(2).Is("set")) return CtObjectSet();
                if (_s.Peek(1).Is("zone") && _s.Peek(2).Is("set")) { Take(); Take(); Take(); return CtZoneSet(Conntrack.ConntrackZone.BothDirections); }
                if (_s.Peek(1).Text is "original" or "reply" && _s.Peek(2).Is("zone") && _s.Peek(3).Is("set"))
                {
                    Take(); var d = Take(); Take(); Take();
                    return CtZoneSet(d.Text == "original" ? Conntrack.ConntrackZone.OriginalDirection : Conntrack.ConntrackZone.ReplyDirection);
                }
                if (_s.Peek(1).Is("label") && _s.Peek(2).Is("set")) { Take(); Take(); Take(); return CtLabelSet(); }
                break;
            case "mark":
                if (_s.Peek(1).Is("set")) { Take(); Take(); return SetMark(ct: false); }
                break;
            case "fib": return Fib();
            case "reset" when _s.Peek(1).Is("tcp") && _s.Peek(2).Is("option"): return TcpOptionReset();
            case "tproxy": return Tproxy(ch, rule);
            case "dup": return Dup(ch);
            case "fwd": return Fwd(ch);
        }
        if (t.Kind == TokKind.Word) return Match(Selector());
        throw Err(t, $"syntax error, unexpected '{t}'");
    }

    /// <summary>
    /// meta|ct mark set VALUE | EXPR | EXPR map { k : mark, ... }: a constant (nft folds <c>0x16 and 0x16</c>),
    /// or a 32-bit value an expression loads (numgen, a hash, meta mark, ct mark) through nft_bitwise
    /// (<c>ct mark &amp; 0xffff</c>, <c>ct mark &gt;&gt; 8</c>, <c>(meta mark | 0x10) &lt;&lt; 8</c>), or the data of a
    /// map that expression, masked or not, keys (<c>ip6 saddr and ::ffff map { ... }</c>).
    /// </summary>
    private NftStmt SetMark(bool ct)
    {
        var at = Cur;
        var v = BitwiseValue(NftType.Mark, (t, ty) => ty.Kind == NftTypeKind.Int && ty.Length == 4 ? ToBytes(U32(t), 4) : ty.Parse(t.Text) ?? throw Err(t, ty.Invalid(t.Text)));
        if (v.Sel is null)
        {
            if (v.Const.Length != 4) throw Err(at, "bad mark value");
            return new SetMarkStmt { Ct = ct, Value = (uint)NftBytes.ToUlong(v.Const) };
        }
        var key = v.Selector;
        if (TakeIf("map")) return new SetMarkStmt { Ct = ct, Map = MapBody(key, () => U32(Take()), MarkData) };
        if (key.Length != 4) throw Err(at, $"unsupported: {(ct ? "ct" : "meta")} mark set {key.Text} (a 32-bit value is set)");
        return new SetMarkStmt { Ct = ct, Source = key };
    }

    /// <summary>ct event set new,related,... (or |-joined, or a number): the events, as nft lists them.</summary>
    private NftStmt CtEventSet()
    {
        if (Cur.Is("{")) throw Err(Cur, "syntax error, unexpected '{' (ct event set takes a list of events, not a set)");
        ulong mask = 0; bool numeric = false; var first = Cur;
        do
        {
            var e = Take();
            if (CtEventSetStmt.Names.TryGetValue(e.Text, out int bit)) mask |= 1ul << bit;
            else if (NftType.TryNumber(e.Text, out var n) && n <= uint.MaxValue) { mask |= n; numeric = true; }
            else throw Err(e, $"'{e.Text}' is not a valid ct_event value (new, related, destroy, reply, assured, protoinfo, helper, mark, seqadj, secmark, label)");
        } while (TakeIf(",") || TakeIf("|"));
        var names = CtEventSetStmt.Names.Where(kv => (mask >> kv.Value & 1) != 0).Select(kv => kv.Key).ToList();
        bool exact = mask >> CtEventSetStmt.Names.Count == 0; // every bit has a name
        string text = mask == 0 ? (numeric ? first.Text : "0x0") : exact ? string.Join(',', names) : $"0x{mask:x}";
        return new CtEventSetStmt { Events = text };
    }

    /// <summary>meta priority set none|root|MAJOR:MINOR: a constant classid (an expression's value is not modelled).</summary>
    private NftStmt SetPriority()
    {
        var v = Take();
        if (NftType.TcHandle(v.Text) is not { } h)
            throw Err(v, v.Kind == TokKind.Word && SelectorWords.Contains(v.Text)
                ? $"unsupported: meta priority set {v.Text} (only a constant classid such as 1:2 or none is modelled)"
                : $"bad classid '{v.Text}' (none, root or MAJOR:MINOR in hex)");
        return new SetPriorityStmt { Value = h };
    }

    /// <summary>meta random [&amp; MASK] OP VALUE, with MASK a run of low bits.</summary>
    private NftStmt MetaRandom()
    {
        Take();
        var st = new MetaRandomStmt();
        if (TakeIf("&"))
        {
            var m = Take(); ulong mask = U64(m);
            if (mask > uint.MaxValue || (mask & (mask + 1)) != 0) throw Err(m, $"unsupported: meta random with mask '{m.Text}' (only a run of low bits, such as 2147483647, is modelled)");
            st.Mask = (uint)mask;
        }
        var op = Take();
        st.Op = op.Text switch
        {
            "<" or "lt" => CmpOp.Lt, "<=" or "le" => CmpOp.Le, ">" or "gt" => CmpOp.Gt, ">=" or "ge" => CmpOp.Ge, "==" or "eq" => CmpOp.Eq, "!=" or "ne" => CmpOp.Ne,
            _ => throw Err(op, "unsupported: meta random needs a comparison (<, <=, >, >=, ==, !=)"),
        };
        var v = Take(); ulong value = U64(v);
        if (value > uint.MaxValue) throw Err(v, $"bad value '{v.Text}'");
        st.Value = (uint)value;
        return st;
    }

    private ulong U64(NftTok t) => NftType.TryNumber(t.Text, out var v) ? v : throw Err(t, $"bad number '{t.Text}'");

    /// <summary>A named object of the rule's table (counter name "c", quota name "q").</summary>
    private NftObject NamedObject(string kind, NftTok name)
    {
        var tb = CurrentTable ?? throw Err(name, "object reference outside a table");
        if (!tb.ObjectMap.TryGetValue(name.Text, out var o) || o.Kind != kind) throw Err(name, $"{kind} '{name.Text}' does not exist");
        return o;
    }

    /// <summary>
    /// After <c>counter|quota|limit name</c>: the object's name (nft_objref), or <c>KEY map { k : "name", ... }</c>
    /// or <c>KEY map @NAME</c> of a named object map (nft_objref_map) choosing the object per packet.
    /// </summary>
    private NftStmt ObjectRef(string kind)
    {
        if (!(Cur.Kind == TokKind.Word && SelectorWords.Contains(Cur.Text))) return NamedObject(kind, Take()).Ref;
        var key = Selector();
        if (!TakeIf("map")) throw Err(Cur, $"syntax error, expected 'map' after {kind} name {key.Text}");
        var map = MapBody(key, () => NamedObject(kind, Take()), set => set.ObjectKind == kind ? null : $"not to {kind} objects");
        return new ObjrefMapStmt { Map = map };
    }

    /// <summary>Words that start an expression (not an object or address), for the forms that take either.</summary>
    private static readonly HashSet<string> SelectorWords = new()
    {
        "ip", "ip6", "tcp", "udp", "th", "icmp", "icmpv6", "ether", "vlan", "arp", "meta", "ct", "numgen", "jhash", "symhash",
        "udplite", "sctp", "dccp", "ah", "esp", "comp", "igmp", "exthdr", "hbh", "rt", "rt0", "rt2", "srh", "frag", "dst", "mh",
        "iif", "oif", "iifname", "oifname", "mark", "l4proto", "nfproto", "pkttype",
        "iiftype", "oiftype", "iifgroup", "oifgroup", "cpu", "cgroup",
    };

    /// <summary>An anonymous map's body <c>{ k : data, ... }</c> for <paramref name="key"/>; <paramref name="data"/> reads each element's data.</summary>
    /// <summary>
    /// An anonymous map's body <c>{ k : data, ... }</c> for <paramref name="key"/> (<paramref name="data"/> reads
    /// each element's data), or a named map <c>@NAME</c> whose declared data type <paramref name="fits"/> accepts
    /// (null: it fits; else the reason it does not).
    /// </summary>
    private NftMapLookup MapBody(NftSelector key, Func<object> data, Func<NftSet, string?> fits)
    {
        var types = key is ConcatSelector cs ? cs.Parts.Select(p => p.Type).ToArray() : new[] { key.Type };
        var map = new NftMapLookup { Key = key, Widths = types.Select(t => t.Length).ToArray() };
        if (Cur.Kind == TokKind.Word && Cur.Text.StartsWith('@'))
        {
            var nt = Take();
            var set = NamedMap(nt, key);
            if (fits(set) is { } why) throw Err(nt, $"datatype mismatch: map '{set.Name}' maps to {set.DataText}, {why}");
            map.Set = set; map.Widths = set.KeyTypes.Select(t => t.Length).ToArray();
            return map;
        }
        map.Elements = ParseSetBody(types, vmap: false, data);
        _anonSets++;
        return map;
    }

    /// <summary>ct count [over] N (nft_connlimit).</summary>
    private NftStmt Connlimit()
    {
        Take(); Take();
        bool over = TakeIf("over");
        var n = Take();
        return new ConnlimitStmt { Over = over, Limit = U32(n) };
    }

    /// <summary>limit rate [over] N/unit [burst N packets] | limit rate [over] N bytes-unit/unit [burst N bytes-unit].</summary>
    private NftStmt Limit()
    {
        Take();
        if (TakeIf("name")) return ObjectRef("limit");
        if (!TakeIf("rate")) throw Err(Cur, "syntax error, expected 'rate' after limit");
        var st = new LimitStmt { Over = TakeIf("over") };
        var first = Take();
        string rateText = first.Text, unitWord;
        if (rateText.Contains('/')) { unitWord = rateText[(rateText.IndexOf('/') + 1)..]; rateText = rateText[..rateText.IndexOf('/')]; }
        else
        {
            var bu = Take(); int slash = bu.Text.IndexOf('/');
            if (slash < 0 && More && Cur.Is("/")) { Take(); bu = bu with { Text = $"{bu.Text}/{Take().Text}" }; slash = bu.Text.IndexOf('/'); } // 1 kbytes / second
            if (slash < 0) throw Err(bu, "syntax error, expected bytes-unit/time-unit");
            st.Bytes = true;
            st.Rate = U64(first) * ByteUnit(bu, bu.Text[..slash]);
            unitWord = bu.Text[(slash + 1)..];
        }
        if (!st.Bytes) st.Rate = NftType.TryNumber(rateText, out var r) ? r : throw Err(first, $"bad rate '{first.Text}'");
        if (st.Rate == 0) throw Err(first, "limit rate must be above 0");
        st.UnitSeconds = unitWord switch
        {
            "second" => 1, "minute" => 60, "hour" => 3600, "day" => 86400, "week" => 604800,
            _ => throw Err(first, $"unknown time unit '{unitWord}'"),
        };
        if (TakeIf("burst"))
        {
            var n = Take(); var u = Take();
            ulong burst = U64(n);
            if (u.Text == "packets") { if (st.Bytes) throw Err(u, "a byte limit takes its burst in bytes"); }
            else { if (!st.Bytes) throw Err(u, "a packet limit takes its burst in packets"); burst *= ByteUnit(u, u.Text); }
            st.Burst = (uint)burst;
        }
        return st;
    }

    private static ulong ByteUnit(NftTok t, string w) => w switch
    {
        "bytes" => 1, "kbytes" => 1024, "mbytes" => 1024 * 1024, "gbytes" => 1024UL * 1024 * 1024,
        _ => throw Err(t, $"unknown byte unit '{w}'"),
    };

    /// <summary>quota [over] N bytes-unit [used M bytes-unit] | quota name "q".</summary>
    private NftStmt Quota()
    {
        Take();
        if (TakeIf("name")) return ObjectRef("quota");
        var (over, quota, used) = QuotaBody();
        return new QuotaStmt { Over = over, Quota = quota, InitialUsed = used };
    }

    private (bool Over, long Quota, long Used) QuotaBody()
    {
        bool over = TakeIf("over");
        if (!over) TakeIf("until");
        var n = Take(); var u = Take();
        long quota = (long)(U64(n) * ByteUnit(u, u.Text)), used = 0;
        if (TakeIf("used")) { var un = Take(); var uu = Take(); used = (long)(U64(un) * ByteUnit(uu, uu.Text)); }
        return (over, quota, used);
    }

    /// <summary>nft's time strings: 30s, 1m30s, 2h, 1d, 500ms.</summary>
    internal static long? TimeNs(string w)
    {
        long total = 0; int i = 0;
        if (w.Length == 0) return null;
        while (i < w.Length)
        {
            int start = i;
            while (i < w.Length && char.IsDigit(w[i])) i++;
            if (i == start || !long.TryParse(w[start..i], out var n)) return null;
            int us = i;
            while (i < w.Length && char.IsLetter(w[i])) i++;
            long mul = w[us..i] switch
            {
                "ms" => 1_000_000, "s" or "" => 1_000_000_000, "m" => 60_000_000_000, "h" => 3_600_000_000_000,
                "d" => 86_400_000_000_000, "w" => 604_800_000_000_000, _ => -1,
            };
            if (mul < 0) return null;
            total += n * mul;
        }
        return total;
    }

    private long Time(NftTok t) => TimeNs(t.Text) ?? throw Err(t, $"bad time '{t.Text}'");

    /// <summary>add|update|delete @set { key [timeout T] [counter | limit | quota | ct count] }.</summary>
    private NftStmt Dynset(NftChain ch, NftRule rule)
    {
        var op = Take().Text;
        var nt = Take();
        var tb = ch.Table;
        if (!tb.SetMap.TryGetValue(SetRef(nt), out var set)) throw Err(nt, $"set '{nt.Text[1..]}' does not exist");
        if (!TakeIf("{")) throw Err(Cur, $"syntax error, expected '{{' after {op} {nt.Text}");
        return DynsetBody(ch, rule, op, set, nt, Selector());
    }

    /// <summary>
    /// meter NAME [size N] { key [timeout T] stmt }: nft makes a dynamic set NAME (hidden from listings,
    /// default size 65535, a handle of its own before the rule's) and a dynset <c>add</c> to it (checked
    /// with nft 1.0.6 --debug=netlink).
    /// </summary>
    private NftStmt Meter(NftChain ch, NftRule rule)
    {
        Take();
        var nt = Take();
        int size = 65535;
        if (TakeIf("size")) { var sz = Take(); size = int.TryParse(sz.Text, out var n) && n > 0 ? n : throw Err(sz, $"bad size '{sz.Text}'"); }
        if (!TakeIf("{")) throw Err(Cur, $"syntax error, expected '{{' after meter {nt.Text}");
        var key = Selector();
        var tb = ch.Table;
        if (!tb.SetMap.TryGetValue(nt.Text, out var set))
        {
            var types = key is ConcatSelector cs ? cs.Parts.Select(p => p.Type).ToArray() : new[] { key.Type };
            _anonSets++;
            set = new NftSet
            {
                Table = tb, Name = nt.Text, KeyTypes = types, TypeText = string.Join(" . ", types.Select(t => t.Name)),
                Flags = new[] { "dynamic" }, Size = size, IsMeter = true, Handle = tb.HandleCounter + _anonSets,
            };
            tb.SetMap[set.Name] = set;
        }
        else if (!set.IsMeter) throw Err(nt, $"'{nt.Text}' is a set of {tb}, not a meter");
        return DynsetBody(ch, rule, "add", set, nt, key);
    }

    private NftStmt DynsetBody(NftChain ch, NftRule rule, string op, NftSet set, NftTok nt, NftSelector key)
    {
        if (key.Length != set.KeyTypes.Sum(x => x.Length)) throw Err(nt, $"datatype mismatch: set '{set.Name}' has type {set.TypeText}, the key is {key.Text}");
        var st = new DynsetStmt { Op = op, Set = set, Key = key };
        var inner = new List<NftStmt>();
        while (More && !Cur.Is("}"))
        {
            if (TakeIf("timeout")) { st.TimeoutNs = Time(Take()); continue; }
            if (TakeIf(":")) { st.Data = DynsetData(set, nt); continue; }
            var at = Cur;
            var s = Statement(ch, rule);
            if (s is not (CounterStmt or LimitStmt or QuotaStmt or ConnlimitStmt)) throw Err(at, "unsupported statement in a set element (counter, limit, quota and ct count are modelled)");
            inner.Add(s);
        }
        if (!TakeIf("}")) throw Err(Cur, "syntax error, expected '}'");
        if (set.IsMap && op != "delete" && st.Data is null) throw Err(nt, $"map '{set.Name}' needs ': data' after the key");
        if (st.TimeoutNs is not null && set.IsMeter && !set.Flags.Contains("timeout")) set.Flags = set.Flags.Append("timeout").ToArray();
        if (st.TimeoutNs is not null && !set.Flags.Contains("timeout") && set.TimeoutNs is null)
            throw Err(nt, $"set '{set.Name}' has no timeout flag: elements cannot time out");
        // nft_set_elem_expr_alloc: an expression that needs garbage collection (connlimit) is refused in a set with timeouts
        if (inner.Any(x => x is ConnlimitStmt) && (set.Flags.Contains("timeout") || set.TimeoutNs is not null))
            throw Err(nt, $"Could not process rule: Operation not supported: ct count in set '{set.Name}', which has timeouts");
        st.ElementStmts = inner.ToArray();
        set.UpdatedByRules = true;
        return st;
    }

    private sealed class NotrackNoop : NftStmt { public override bool Eval(NftEvalCtx c) => true; }

    private uint U32(NftTok t)
    {
        if (!NftType.TryNumber(t.Text, out var v) || v > uint.MaxValue) throw Err(t, $"bad value '{t.Text}'");
        return (uint)v;
    }

    private NftStmt Reject()
    {
        Take();
        string desc = "default";
        if (TakeIf("with"))
        {
            var k = Take();
            if (k.Is("tcp")) { var r = Take(); if (!r.Is("reset")) throw Err(r, $"unknown reject type '{r.Text}'"); desc = "tcp reset"; }
            else if (k.Text is "icmp" or "icmpv6" or "icmpx")
            {
                TakeIf("type"); var code = Take();
                desc = $"{k.Text} {code.Text}";
                // plain reject is icmpx port-unreachable (nft lists it so): the per-family default
                if (desc == "icmpx port-unreachable") desc = "default";
                // so is the family's own port unreachable in an ip or ip6 table (nft -j writes plain reject so)
                if ((desc, CurrentTable?.Family) is ("icmp port-unreachable", NftFamily.Ip) or ("icmpv6 port-unreachable", NftFamily.Ip6)) desc = "default";
            }
            else throw Err(k, $"unknown reject type '{k.Text}'");
        }
        return new RejectStmt { Desc = desc };
    }

    /// <summary>
    /// Whether a match gives nft its transport protocol context: a field of a transport header (its
    /// dependency names the protocol; not <c>th</c>), or <c>meta l4proto</c>, <c>ip protocol</c>,
    /// <c>ip6 nexthdr</c>, <c>ct protocol</c> equal to a value or in a set (checked with nft 1.0.6:
    /// <c>!=</c> gives none).
    /// </summary>
    private static bool NamesTransport(NftSelector sel, CmpOp op) => sel switch
    {
        PayloadSelector { NeedL4: >= 0 } or PayloadSelector { NeedL4Alt: >= 0 } or TcpOptionSelector or SctpChunkSelector => true,
        ConcatSelector c => c.Parts.Any(p => NamesTransport(p, op)),
        _ when op == CmpOp.Ne => false,
        MetaSelector { Key: MetaKey.L4Proto } or CtTupleSelector { Key: CtTupleKey.Protocol } => true,
        PayloadSelector { Base: PBase.Network, NeedL3: L3.V4, Offset: 9 } or PayloadSelector { Base: PBase.Network, NeedL3: L3.V6, Offset: 6 } => true,
        _ => false,
    };

    /// <summary>nft refuses a NAT port (a constant, a range, one after a map or in its data) unless the
    /// rule named the transport protocol before it, or the map's key reads a transport header.</summary>
    private void NeedTransport(NftTok at, NftSelector? key = null)
    {
        if (!_transportKnown && !(key is not null && NamesTransport(key, CmpOp.Eq)))
            throw Err(at, "transport protocol mapping is only valid after transport protocol match");
    }

    private static string? MarkData(NftSet set) => set.DataTypes is [{ Kind: NftTypeKind.Int, Length: 4 }] ? null : "not to a mark";

    private NftStmt Fib()
    {
        var t = Take();
        var sel = new FibSelector();
        var words = new List<string>();
        do
        {
            var f = Take(); words.Add(f.Text);
            switch (f.Text)
            {
                case "daddr": sel.Daddr = true; break;
                case "saddr": break;
                case "iif": sel.Iif = true; break;
                case "oif": sel.Oif = true; break;
                case "mark": sel.Mark = true; break;
                default: throw Err(f, $"unsupported fib key '{f.Text}' (saddr, daddr, iif, oif, mark)");
            }
        } while (TakeIf("."));
        if (words.Count(w => w is "saddr" or "daddr") != 1) throw Err(t, "fib: exactly one of saddr and daddr is needed");
        if (sel.Iif && sel.Oif) throw Err(t, "fib: iif and oif are mutually exclusive");
        var res = Take();
        sel.Result = res.Text switch
        {
            "oif" => FibResultKind.Oif, "oifname" => FibResultKind.Oifname, "type" => FibResultKind.Type,
            _ => throw Err(res, $"unsupported fib result '{res.Text}' (oif, oifname, type)"),
        };
        sel.Text = $"fib {string.Join(" . ", words)} {res.Text}";
        // nft_fib_init: the output device cannot be looked up on the output device
        if (sel.Result != FibResultKind.Type && sel.Oif) throw Err(t, $"Could not process rule: Invalid argument: '{sel.Text}' (an oif result cannot be looked up by oif)");
        (_currentRule!.HookRestricted ??= new()).Add(sel);
        // fib ... oif|oifname missing|exists: whether the lookup found a device (NFTA_FIB_F_PRESENT)
        if (Cur.Text is "missing" or "exists" && sel.Result != FibResultKind.Type)
            return new FibPresentStmt { Sel = sel, Present = Take().Text == "exists" };
        // oif with a device name compares the name, as meta oif does (after any operator, ne and eq included)
        var valueTok = More && (int)RelOp(Cur.Text) != -1 && _s.Pos + 1 < _ruleEnd ? _s.Peek(1) : Cur;
        if (sel.Result == FibResultKind.Oif && More && (valueTok.Kind == TokKind.String || (valueTok.Kind == TokKind.Word && !char.IsDigit(valueTok.Text[0]) && valueTok.Text is not ("vmap" or "map"))))
            sel.Result = FibResultKind.Oifname;
        return Match(sel);
    }

    // ---------- selectors ----------
    private NftSelector Selector()
    {
        return ConcatAfter(OneSelector());
    }

    /// <summary><paramref name="first"/>, or the concatenation it starts (<c>first . next . ...</c>).</summary>
    private NftSelector ConcatAfter(NftSelector first)
    {
        var parts = new List<NftSelector> { first };
        while (More && Cur.Is(".")) { Take(); parts.Add(OneSelector()); }
        return parts.Count == 1 ? parts[0] : new ConcatSelector(parts.ToArray());
    }

    private NftSelector OneSelector()
    {
        var t = Take();
        if (t.Is("meta")) return MetaSel(Take());
        if (t.Is("numgen"))
        {
            var kind = Take();
            if (kind.Text is not ("inc" or "random")) throw Err(kind, $"unsupported numgen type '{kind.Text}'");
            var ng = new NumgenSelector { Random = kind.Text == "random", Modulus = Modulus("numgen"), Text = $"numgen {kind.Text}" };
            if (TakeIf("offset")) ng.Offset = (uint)U64(Take());
            return ng;
        }
        if (t.Is("jhash"))
        {
            var src = Selector();
            var h = new JhashSelector { Source = src, Modulus = Modulus("jhash"), Text = $"jhash {src.Text}" };
            if (TakeIf("seed")) { var sd = Take(); h.Seed = U32(sd); }
            if (TakeIf("offset")) h.Offset = U32(Take());
            return h;
        }
        if (t.Is("symhash"))
        {
            var h = new SymhashSelector { Modulus = Modulus("symhash"), Text = "symhash" };
            if (TakeIf("offset")) h.Offset = U32(Take());
            return h;
        }
        if (t.Is("exthdr"))
        {
            var h = Take();
            if (!ExthdrTypes.TryGetValue(h.Text, out var ht)) throw Err(h, $"unsupported expression 'exthdr {h.Text}'");
            return new ExthdrSelector(NftType.Boolean) { HeaderType = ht.Type, RoutingType = ht.Rt, Exists = true, Text = $"exthdr {h.Text}" };
        }
        if (ExthdrTypes.TryGetValue(t.Text, out var hdr)) return ExthdrField(t, hdr);
        if (BareMeta.Contains(t.Text)) return MetaSel(t);
        if (t.Is("socket")) return SocketSel(Take());
        if (t.Is("ct"))
        {
            RefuseCtFamily(t);
            var k = Take();
            bool? reply = k.Text switch { "original" => false, "reply" => true, _ => null };
            if (reply is not null) k = Take();
            if (k.Text == "zone")
                return new CtTupleSelector(NftType.Int2) { Key = CtTupleKey.Zone, Reply = reply == true, Directed = reply is not null, Text = reply is null ? "ct zone" : $"ct {(reply.Value ? "reply" : "original")} zone" };
            if (k.Text == "id" && reply is null) return new CtIdSelector { Text = "ct id" };
            if (CtTuple(k, reply ?? false) is { } tuple) return tuple;
            if (k.Text is "bytes" or "packets" or "avgpkt")
            {
                _readsCtAcct = true;
                return new CtAcctSelector(k.Text, reply) { Text = reply is null ? $"ct {k.Text}" : $"ct {(reply.Value ? "reply" : "original")} {k.Text}" };
            }
            if (reply is not null) throw Err(k, $"unsupported ct expression 'ct {(reply.Value ? "reply" : "original")} {k.Text}'");
            return k.Text switch
            {
                "state" => new MetaSelector(MetaKey.CtState, NftType.CtState) { Text = "ct state" },
                "status" => new MetaSelector(MetaKey.CtStatus, NftType.CtStatus) { Text = "ct status" },
                "direction" => new MetaSelector(MetaKey.CtDir, NftType.CtDir) { Text = "ct direction" },
                "mark" => new MetaSelector(MetaKey.CtMark, NftType.Mark) { Text = "ct mark" },
                "expiration" => new CtExpirationSelector { Text = "ct expiration" },
                "helper" => new CtHelperSelector { Text = "ct helper" },
                "label" => new CtLabelSelector { Text = "ct label" },
                _ => throw Err(k, $"unsupported ct expression 'ct {k.Text}'"),
            };
        }
        if (t.Text is "@ll" or "@nh" or "@th" or "@ih") return RawPayload(t);
        if (t.Is("tcp") && Cur.Is("option")) { Take(); return TcpOption(); }
        if (t.Is("sctp") && Cur.Is("chunk")) { Take(); return SctpChunk(); }
        var f = Cur;
        var field = Take();
        PayloadSelector P(PBase b, int off, int w, NftType ty, L3 l3 = L3.None, int l4 = -1, int shift = 0, ulong mask = 0, int l4alt = -1) =>
            new(ty) { Base = b, Offset = off, Width = w, NeedL3 = l3, NeedL4 = l4, NeedL4Alt = l4alt, Shift = shift, Mask = mask, Text = $"{t.Text} {field.Text}" };
        NftSelector? s = (t.Text, field.Text) switch
        {
            ("ip", "version") => P(PBase.Network, 0, 1, NftType.Int1, L3.V4, shift: 4, mask: 0xF),
            ("ip", "hdrlength") => P(PBase.Network, 0, 1, NftType.Int1, L3.V4, mask: 0xF),
            ("ip", "dscp") => P(PBase.Network, 1, 1, NftType.Dscp, L3.V4, shift: 2, mask: 0x3F),
            ("ip", "ecn") => P(PBase.Network, 1, 1, NftType.Ecn, L3.V4, mask: 0x3),
            ("ip", "length") => P(PBase.Network, 2, 2, NftType.Int2, L3.V4),
            ("ip", "id") => P(PBase.Network, 4, 2, NftType.Int2, L3.V4),
            ("ip", "frag-off") => P(PBase.Network, 6, 2, NftType.Int2, L3.V4),
            ("ip", "ttl") => P(PBase.Network, 8, 1, NftType.Int1, L3.V4),
            ("ip", "protocol") => P(PBase.Network, 9, 1, NftType.InetProto, L3.V4),
            ("ip", "checksum") => P(PBase.Network, 10, 2, NftType.Int2, L3.V4),
            ("ip", "saddr") => P(PBase.Network, 12, 4, NftType.Ipv4Addr, L3.V4),
            ("ip", "daddr") => P(PBase.Network, 16, 4, NftType.Ipv4Addr, L3.V4),
            ("ip6", "version") => P(PBase.Network, 0, 1, NftType.Int1, L3.V6, shift: 4, mask: 0xF),
            ("ip6", "flowlabel") => P(PBase.Network, 0, 4, NftType.Int4, L3.V6, mask: 0xFFFFF),
            // the traffic class spans the first two bytes: version(4) dscp(6) ecn(2) flowlabel(20)
            ("ip6", "dscp") => P(PBase.Network, 0, 2, NftType.Dscp, L3.V6, shift: 6, mask: 0x3F),
            ("ip6", "ecn") => P(PBase.Network, 0, 2, NftType.Ecn, L3.V6, shift: 4, mask: 0x3),
            ("ip6", "length") => P(PBase.Network, 4, 2, NftType.Int2, L3.V6),
            ("ip6", "nexthdr") => P(PBase.Network, 6, 1, NftType.InetProto, L3.V6),
            ("ip6", "hoplimit") => P(PBase.Network, 7, 1, NftType.Int1, L3.V6),
            ("ip6", "saddr") => P(PBase.Network, 8, 16, NftType.Ipv6Addr, L3.V6),
            ("ip6", "daddr") => P(PBase.Network, 24, 16, NftType.Ipv6Addr, L3.V6),
            ("tcp", "sport") => P(PBase.Transport, 0, 2, NftType.InetService, l4: 6),
            ("tcp", "dport") => P(PBase.Transport, 2, 2, NftType.InetService, l4: 6),
            ("tcp", "sequence") => P(PBase.Transport, 4, 4, NftType.Int4, l4: 6),
            ("tcp", "ackseq") => P(PBase.Transport, 8, 4, NftType.Int4, l4: 6),
            ("tcp", "doff") => P(PBase.Transport, 12, 1, NftType.Int1, l4: 6, shift: 4, mask: 0xF),
            ("tcp", "flags") => P(PBase.Transport, 13, 1, NftType.TcpFlags, l4: 6),
            ("tcp", "window") => P(PBase.Transport, 14, 2, NftType.Int2, l4: 6),
            ("tcp", "checksum") => P(PBase.Transport, 16, 2, NftType.Int2, l4: 6),
            ("tcp", "urgptr") => P(PBase.Transport, 18, 2, NftType.Int2, l4: 6),
            ("udp", "sport") => P(PBase.Transport, 0, 2, NftType.InetService, l4: 17),
            ("udp", "dport") => P(PBase.Transport, 2, 2, NftType.InetService, l4: 17),
            ("udp", "length") => P(PBase.Transport, 4, 2, NftType.Int2, l4: 17),
            ("udp", "checksum") => P(PBase.Transport, 6, 2, NftType.Int2, l4: 17),
            ("th", "sport") => P(PBase.Transport, 0, 2, NftType.InetService),
            ("th", "dport") => P(PBase.Transport, 2, 2, NftType.InetService),
            ("icmp", "type") => P(PBase.Transport, 0, 1, NftType.IcmpType, L3.V4, l4: 1),
            ("icmp", "code") => P(PBase.Transport, 1, 1, NftType.IcmpCode, L3.V4, l4: 1),
            ("icmp", "checksum") => P(PBase.Transport, 2, 2, NftType.Int2, L3.V4, l4: 1),
            ("icmp", "id") => Icmp(P(PBase.Transport, 4, 2, NftType.Int2, L3.V4, l4: 1), 0, 8),
            ("icmp", "sequence") => Icmp(P(PBase.Transport, 6, 2, NftType.Int2, L3.V4, l4: 1), 0, 8),
            ("icmp", "mtu") => Icmp(P(PBase.Transport, 6, 2, NftType.Int2, L3.V4, l4: 1), 3),
            ("icmp", "gateway") => Icmp(P(PBase.Transport, 4, 4, NftType.Ipv4Addr, L3.V4, l4: 1), 5),
            ("icmpv6", "type") => P(PBase.Transport, 0, 1, NftType.Icmpv6Type, L3.V6, l4: 58),
            ("icmpv6", "code") => P(PBase.Transport, 1, 1, NftType.Icmpv6Code, L3.V6, l4: 58),
            ("icmpv6", "checksum") => P(PBase.Transport, 2, 2, NftType.Int2, L3.V6, l4: 58),
            ("icmpv6", "id") => Icmp(P(PBase.Transport, 4, 2, NftType.Int2, L3.V6, l4: 58), 128, 129),
            ("icmpv6", "sequence") => Icmp(P(PBase.Transport, 6, 2, NftType.Int2, L3.V6, l4: 58), 128, 129),
            ("icmpv6", "mtu") => Icmp(P(PBase.Transport, 4, 4, NftType.Int4, L3.V6, l4: 58), 2),
            ("icmpv6", "max-delay") => Icmp(P(PBase.Transport, 4, 2, NftType.Int2, L3.V6, l4: 58), 130), // MLD's maximum response delay
            // the other transport headers of nftables' proto.c, each behind its implied meta l4proto
            ("udplite", "sport") => P(PBase.Transport, 0, 2, NftType.InetService, l4: 136),
            ("udplite", "dport") => P(PBase.Transport, 2, 2, NftType.InetService, l4: 136),
            ("udplite", "csumcov") => P(PBase.Transport, 4, 2, NftType.Int2, l4: 136),
            ("udplite", "checksum") => P(PBase.Transport, 6, 2, NftType.Int2, l4: 136),
            ("sctp", "sport") => P(PBase.Transport, 0, 2, NftType.InetService, l4: 132),
            ("sctp", "dport") => P(PBase.Transport, 2, 2, NftType.InetService, l4: 132),
            ("sctp", "vtag") => P(PBase.Transport, 4, 4, NftType.Int4, l4: 132),
            ("sctp", "checksum") => P(PBase.Transport, 8, 4, NftType.Int4, l4: 132),
            ("dccp", "sport") => P(PBase.Transport, 0, 2, NftType.InetService, l4: 33),
            ("dccp", "dport") => P(PBase.Transport, 2, 2, NftType.InetService, l4: 33),
            ("dccp", "type") => P(PBase.Transport, 8, 1, NftType.DccpType, l4: 33, shift: 1, mask: 0xF),
            ("ah", "nexthdr") => P(PBase.Transport, 0, 1, NftType.InetProto, l4: 51),
            ("ah", "hdrlength") => P(PBase.Transport, 1, 1, NftType.Int1, l4: 51),
            ("ah", "reserved") => P(PBase.Transport, 2, 2, NftType.Int2, l4: 51),
            ("ah", "spi") => P(PBase.Transport, 4, 4, NftType.Int4, l4: 51),
            ("ah", "sequence") => P(PBase.Transport, 8, 4, NftType.Int4, l4: 51),
            ("esp", "spi") => P(PBase.Transport, 0, 4, NftType.Int4, l4: 50),
            ("esp", "sequence") => P(PBase.Transport, 4, 4, NftType.Int4, l4: 50),
            ("comp", "nexthdr") => P(PBase.Transport, 0, 1, NftType.InetProto, l4: 108),
            ("comp", "flags") => P(PBase.Transport, 1, 1, NftType.Int1, l4: 108),
            ("comp", "cpi") => P(PBase.Transport, 2, 2, NftType.Int2, l4: 108),
            ("igmp", "type") => P(PBase.Transport, 0, 1, NftType.IgmpType, L3.V4, l4: 2),
            ("igmp", "mrt") => P(PBase.Transport, 1, 1, NftType.Int1, L3.V4, l4: 2),
            ("igmp", "checksum") => P(PBase.Transport, 2, 2, NftType.Int2, L3.V4, l4: 2),
            ("igmp", "group") => P(PBase.Transport, 4, 4, NftType.Ipv4Addr, L3.V4, l4: 2),
            ("ether", "daddr") => P(PBase.Link, 0, 6, NftType.EtherAddr),
            ("ether", "saddr") => P(PBase.Link, 6, 6, NftType.EtherAddr),
            ("ether", "type") => P(PBase.Link, 12, 2, NftType.EtherType),
            // the TCI: pcp(3) dei(1, once cfi) id(12); after `vlan type 8021q|8021ad` the fields are the next tag's
            ("vlan", "id") => P(PBase.Link, 14 + 4 * _vlanDepth, 2, NftType.Int2, mask: 0xFFF),
            ("vlan", "pcp") => P(PBase.Link, 14 + 4 * _vlanDepth, 1, NftType.Int1, shift: 5, mask: 0x7),
            ("vlan", "dei" or "cfi") => P(PBase.Link, 14 + 4 * _vlanDepth, 1, NftType.Int1, shift: 4, mask: 0x1),
            ("vlan", "type") => P(PBase.Link, 16 + 4 * _vlanDepth, 2, NftType.EtherType),
            ("arp", "htype") => P(PBase.Network, 0, 2, NftType.Int2, L3.Arp),
            ("arp", "ptype") => P(PBase.Network, 2, 2, NftType.EtherType, L3.Arp),
            ("arp", "hlen") => P(PBase.Network, 4, 1, NftType.Int1, L3.Arp),
            ("arp", "plen") => P(PBase.Network, 5, 1, NftType.Int1, L3.Arp),
            ("arp", "operation") => P(PBase.Network, 6, 2, NftType.ArpOp, L3.Arp),
            ("arp", "saddr") => ArpAddr(8, 14),
            ("arp", "daddr") => ArpAddr(18, 24),
            _ => null,
        };
        if (s is null)
        {
            if (t.Text is "ip" or "ip6" or "tcp" or "udp" or "th" or "icmp" or "icmpv6" or "ether" or "vlan" or "arp" or "udplite" or "sctp" or "dccp" or "ah" or "esp" or "comp" or "igmp")
                throw Err(field, $"unsupported expression '{t.Text} {field.Text}'");
            if (NotModelled.TryGetValue(t.Text, out var why)) throw Err(t, $"unsupported: {t.Text} ({why})");
            throw Err(t, $"unknown expression '{t.Text}'");
        }
        if (t.Text == "vlan" && field.Text == "cfi") s.Text = "vlan dei"; // nft lists the old name so
        return s;

        // nft's dependency of a field only some ICMP types have (checked with nft 1.0.6 --debug=netlink)
        static PayloadSelector Icmp(PayloadSelector p, params byte[] types) { p.NeedIcmpType = types; return p; }

        NftSelector ArpAddr(int macOff, int ipOff)
        {
            var k = Take();
            if (k.Is("ip")) return P(PBase.Network, ipOff, 4, NftType.Ipv4Addr, L3.Arp);
            if (k.Is("ether")) return P(PBase.Network, macOff, 6, NftType.EtherAddr, L3.Arp);
            throw Err(k, $"unsupported expression 'arp {field.Text} {k.Text}'");
        }
    }

    /// <summary>ct [original|reply] ip|ip6 saddr|daddr, proto-src, proto-dst, l3proto, protocol, zone; null for other keys.</summary>
    private NftSelector? CtTuple(NftTok k, bool reply)
    {
        string dir = reply ? "reply " : "";
        CtTupleSelector T(CtTupleKey key, NftType ty, string text) => new(ty) { Key = key, Reply = reply, Text = $"ct {dir}{text}" };
        if (k.Text is "ip" or "ip6" or "saddr" or "daddr")
        {
            // nft takes the family from the table, else from the rule's network context (meta nfproto ipv4 ct original saddr)
            var fam = k.Text is "ip" or "ip6" ? k.Text : CurrentTable?.Family switch { NftFamily.Ip => "ip", NftFamily.Ip6 => "ip6", _ => null }
                ?? _networkFamily switch { IpFamily.V4 => "ip", IpFamily.V6 => "ip6", _ => null };
            if (fam is null) throw Err(k, $"unsupported: 'ct {dir}{k.Text}' in a {CurrentTable?.Family.ToString().ToLowerInvariant()} table needs ip or ip6 (ct original ip saddr)");
            var f = k.Text is "ip" or "ip6" ? Take() : k;
            if (f.Text is not ("saddr" or "daddr")) throw Err(f, $"unsupported ct expression 'ct {dir}{fam} {f.Text}'");
            return T(f.Text == "saddr" ? CtTupleKey.Saddr : CtTupleKey.Daddr, fam == "ip" ? NftType.Ipv4Addr : NftType.Ipv6Addr, $"{fam} {f.Text}");
        }
        return k.Text switch
        {
            "proto-src" => T(CtTupleKey.ProtoSrc, NftType.InetService, k.Text),
            "proto-dst" => T(CtTupleKey.ProtoDst, NftType.InetService, k.Text),
            "l3proto" => T(CtTupleKey.L3Proto, NftType.NfProto, k.Text),
            "protocol" => T(CtTupleKey.Protocol, NftType.InetProto, k.Text),
            "zone" => T(CtTupleKey.Zone, NftType.Int2, k.Text),
            _ => null,
        };
    }

    /// <summary>IPv6 extension headers by name: next-header number, and the routing type rt0/rt2/srh depend on.</summary>
    private static readonly Dictionary<string, (byte Type, int Rt)> ExthdrTypes = new()
    {
        ["hbh"] = (0, -1), ["rt"] = (43, -1), ["rt0"] = (43, 0), ["rt2"] = (43, 2), ["srh"] = (43, 4), ["frag"] = (44, -1),
        ["dst"] = (60, -1), ["mh"] = (135, -1),
    };

    /// <summary>A field of an IPv6 extension header, at its offset in the header (nftables' exthdr.c tables).</summary>
    private NftSelector ExthdrField(NftTok name, (byte Type, int Rt) hdr)
    {
        var f = Take();
        var w = f.Text;
        int index = 0;
        if (w.EndsWith(']') && w.IndexOf('[') is > 0 and var lb && int.TryParse(w[(lb + 1)..^1], out index) && index > 0) w = w[..lb];
        ExthdrSelector X(int off, int width, NftType ty, int shift = 0, ulong mask = 0) =>
            new(ty) { HeaderType = hdr.Type, RoutingType = hdr.Rt, Offset = off, Width = width, Shift = shift, Mask = mask, Text = $"{name.Text} {f.Text}" };
        ExthdrSelector? s = (name.Text, w, index) switch
        {
            (_, "nexthdr", 0) => X(0, 1, NftType.InetProto),
            ("hbh" or "rt" or "dst" or "mh", "hdrlength", 0) => X(1, 1, NftType.Int1),
            ("rt", "type", 0) => X(2, 1, NftType.Int1),
            ("rt", "seg-left", 0) => X(3, 1, NftType.Int1),
            ("rt0", "reserved", 0) => X(4, 4, NftType.Int4),
            ("rt0", "addr", > 0) => X(8 + (index - 1) * 16, 16, NftType.Ipv6Addr),
            ("rt2", "addr", 0) => X(8, 16, NftType.Ipv6Addr),
            ("srh", "last-entry", 0) => X(4, 1, NftType.Int1),
            ("srh", "flags", 0) => X(5, 1, NftType.Int1),
            ("srh", "tag", 0) => X(6, 2, NftType.Int2),
            ("srh", "sid", > 0) => X(8 + (index - 1) * 16, 16, NftType.Ipv6Addr),
            ("frag", "reserved", 0) => X(1, 1, NftType.Int1),
            ("frag", "frag-off", 0) => X(2, 2, NftType.Int2, shift: 3, mask: 0x1FFF),
            ("frag", "reserved2", 0) => X(3, 1, NftType.Int1, shift: 1, mask: 0x3),
            ("frag", "more-fragments", 0) => X(3, 1, NftType.Int1, mask: 0x1),
            ("frag", "id", 0) => X(4, 4, NftType.Int4),
            ("mh", "type", 0) => X(2, 1, NftType.MhType),
            ("mh", "reserved", 0) => X(3, 1, NftType.Int1),
            ("mh", "checksum", 0) => X(4, 2, NftType.Int2),
            _ => null,
        };
        return s ?? throw Err(f, $"unsupported expression '{name.Text} {f.Text}'");
    }

    private static readonly Dictionary<string, byte> TcpOptionKinds = new()
    {
        ["eol"] = 0, ["nop"] = 1, ["maxseg"] = 2, ["window"] = 3, ["sack-perm"] = 4, ["sack"] = 5, ["sack0"] = 5, ["sack1"] = 5,
        ["sack2"] = 5, ["sack3"] = 5, ["timestamp"] = 8, ["md5sig"] = 19, ["mptcp"] = 30, ["fastopen"] = 34,
    };

    /// <summary>tcp option NAME|N [FIELD] (nftables' tcpopt.c): without a field, a presence test (exists/missing).</summary>
    private NftSelector TcpOption()
    {
        var k = Take();
        if (k.Text.StartsWith('@')) return TcpOptionRaw(k);
        byte kind = TcpOptionKinds.TryGetValue(k.Text, out var named) ? named
            : NftType.TryNumber(k.Text, out var n) && n <= 255 ? (byte)n : throw Err(k, $"unsupported expression 'tcp option {k.Text}'");
        TcpOptionSelector X(int off, int width, NftType ty, int shift = 0, ulong mask = 0, string? field = null) =>
            new(ty) { Kind = kind, Offset = off, Width = width, Shift = shift, Mask = mask, Exists = field is null, Text = $"tcp option {(k.Text == "sack0" ? "sack" : k.Text)}{(field is null ? "" : " " + field)}" };
        if (!(More && Cur.Kind == TokKind.Word && char.IsLetter(Cur.Text[0]) && Cur.Text is not ("exists" or "missing" or "set"))) return X(0, 1, NftType.Boolean);
        var f = Take();
        int sack = k.Text.StartsWith("sack", StringComparison.Ordinal) && k.Text.Length == 5 ? k.Text[4] - '0' : 0;
        TcpOptionSelector? s = (kind, f.Text) switch
        {
            (_, "kind") => X(0, 1, NftType.Int1, field: f.Text),
            ( > 1, "length") => X(1, 1, NftType.Int1, field: f.Text),
            (2, "size") => X(2, 2, NftType.Int2, field: f.Text),
            (3, "count") => X(2, 1, NftType.Int1, field: f.Text),
            (5, "left") => X(2 + sack * 8, 4, NftType.Int4, field: f.Text),
            (5, "right") => X(6 + sack * 8, 4, NftType.Int4, field: f.Text),
            (8, "tsval") => X(2, 4, NftType.Int4, field: f.Text),
            (8, "tsecr") => X(6, 4, NftType.Int4, field: f.Text),
            (30, "subtype") => X(2, 1, NftType.Int1, shift: 4, mask: 0xF, field: f.Text),
            _ => null,
        };
        return s ?? throw Err(f, $"unsupported expression 'tcp option {k.Text} {f.Text}'");
    }

    /// <summary>reset tcp option NAME|N (nft_exthdr with NFT_EXTHDR_OP_TCPOPT and neither register: the strip op).</summary>
    private NftStmt TcpOptionReset()
    {
        Take(); Take(); Take();
        var k = Take();
        byte kind = TcpOptionKinds.TryGetValue(k.Text, out var named) ? named
            : NftType.TryNumber(k.Text, out var n) && n <= 255 ? (byte)n : throw Err(k, $"syntax error, unexpected '{k.Text}' after reset tcp option");
        return new TcpOptionResetStmt { Kind = kind, Text = $"reset tcp option {k.Text}" };
    }

    /// <summary>
    /// tcp option @KIND,OFFSET,LENGTH (bits): nft's raw tcpopt load, <c>exthdr load tcpopt LEN/8 b @ KIND + OFFSET/8</c>
    /// (checked with nft 1.0.6 --debug=netlink). Bit offsets or lengths off a byte boundary are refused.
    /// </summary>
    private NftSelector TcpOptionRaw(NftTok k)
    {
        var text = k.Text;
        while (text.Count(ch => ch == ',') < 2 && More && Cur.Is(",")) { Take(); text += "," + Take().Text; }
        k = k with { Text = text };
        var parts = text[1..].Split(',');
        if (parts.Length != 3 || !NftType.TryNumber(parts[0], out var kind) || kind > 255
            || !int.TryParse(parts[1], out var off) || !int.TryParse(parts[2], out var len) || off < 0 || len <= 0)
            throw Err(k, $"syntax error, expected tcp option @kind,offset,length, found '{k.Text}'");
        if (off % 8 != 0 || len % 8 != 0 || len > 32)
            throw Err(k, $"unsupported: 'tcp option {k.Text}' (a raw option field off a byte boundary or over 32 bits is not modelled)");
        var ty = len switch { 8 => NftType.Int1, 16 => NftType.Int2, _ => NftType.Int4 };
        if (len == 24) throw Err(k, $"unsupported: 'tcp option {k.Text}' (a 24-bit raw option field is not modelled)");
        return new TcpOptionSelector(ty) { Kind = (byte)kind, Offset = off / 8, Width = len / 8, Text = $"tcp option {RawOptionName((byte)kind, off / 8, len / 8) ?? k.Text}" };
    }

    /// <summary>The name nft lists a raw option field by when its option has that field (@2,16,16 is maxseg size).</summary>
    private static string? RawOptionName(byte kind, int off, int width)
    {
        if (TcpOptionKinds.FirstOrDefault(kv => kv.Value == kind).Key is not { } name) return null;
        string? field = (kind, off, width) switch
        {
            (_, 0, 1) => "kind",
            ( > 1, 1, 1) => "length",
            (2, 2, 2) => "size",
            (3, 2, 1) => "count",
            (5, 2, 4) => "left",
            (5, 6, 4) => "right",
            (8, 2, 4) => "tsval",
            (8, 6, 4) => "tsecr",
            _ => null,
        };
        return field is null ? null : $"{name} {field}";
    }

    private static readonly Dictionary<string, byte> SctpChunkTypes = new()
    {
        ["data"] = 0, ["init"] = 1, ["init-ack"] = 2, ["sack"] = 3, ["heartbeat"] = 4, ["heartbeat-ack"] = 5, ["abort"] = 6,
        ["shutdown"] = 7, ["shutdown-ack"] = 8, ["error"] = 9, ["cookie-echo"] = 10, ["cookie-ack"] = 11, ["ecne"] = 12,
        ["cwr"] = 13, ["shutdown-complete"] = 14, ["asconf-ack"] = 128, ["forward-tsn"] = 192, ["asconf"] = 193,
    };

    /// <summary>sctp chunk NAME [FIELD] (nftables' sctp_chunk.c): without a field, a presence test.</summary>
    private NftSelector SctpChunk()
    {
        var k = Take();
        if (!SctpChunkTypes.TryGetValue(k.Text, out var type)) throw Err(k, $"unsupported expression 'sctp chunk {k.Text}'");
        SctpChunkSelector X(int off, int width, NftType ty, string? field = null) =>
            new(ty) { ChunkType = type, Offset = off, Width = width, Exists = field is null, Text = $"sctp chunk {k.Text}{(field is null ? "" : " " + field)}" };
        if (!(More && Cur.Kind == TokKind.Word && char.IsLetter(Cur.Text[0]) && Cur.Text is not ("exists" or "missing"))) return X(0, 1, NftType.Boolean);
        var f = Take();
        SctpChunkSelector? s = (k.Text, f.Text) switch
        {
            (_, "type") => X(0, 1, NftType.Int1, f.Text),
            (_, "flags") => X(1, 1, NftType.Int1, f.Text),
            (_, "length") => X(2, 2, NftType.Int2, f.Text),
            ("data", "tsn") => X(4, 4, NftType.Int4, f.Text),
            ("data", "stream") => X(8, 2, NftType.Int2, f.Text),
            ("data", "ssn") => X(10, 2, NftType.Int2, f.Text),
            ("data", "ppid") => X(12, 4, NftType.Int4, f.Text),
            ("init" or "init-ack", "init-tag") => X(4, 4, NftType.Int4, f.Text),
            ("init" or "init-ack" or "sack", "a-rwnd") => X(8, 4, NftType.Int4, f.Text),
            ("init" or "init-ack", "num-outbound-streams") => X(12, 2, NftType.Int2, f.Text),
            ("init" or "init-ack", "num-inbound-streams") => X(14, 2, NftType.Int2, f.Text),
            ("init" or "init-ack", "initial-tsn") => X(16, 4, NftType.Int4, f.Text),
            ("sack" or "shutdown", "cum-tsn-ack") => X(4, 4, NftType.Int4, f.Text),
            ("sack", "num-gap-ack-blocks") => X(12, 2, NftType.Int2, f.Text),
            ("sack", "num-dup-tsns") => X(14, 2, NftType.Int2, f.Text),
            ("ecne" or "cwr", "lowest-tsn") => X(4, 4, NftType.Int4, f.Text),
            ("asconf" or "asconf-ack", "seqno") => X(4, 4, NftType.Int4, f.Text),
            ("forward-tsn", "new-cum-tsn") => X(4, 4, NftType.Int4, f.Text),
            _ => null,
        };
        return s ?? throw Err(f, $"unsupported expression 'sctp chunk {k.Text} {f.Text}'");
    }

    /// <summary>mod N of numgen and the hashes (NFTA_HASH_MODULUS must be above 0).</summary>
    private uint Modulus(string what)
    {
        if (!TakeIf("mod")) throw Err(Cur, $"syntax error, expected 'mod' after {what}");
        var m = Take(); uint n = U32(m);
        return n > 0 ? n : throw Err(m, $"{what} modulus must be above 0");
    }

    private NftSelector MetaSel(NftTok k) => k.Text switch
    {
        "l4proto" => new MetaSelector(MetaKey.L4Proto, NftType.InetProto) { Text = "meta l4proto" },
        "nfproto" => new MetaSelector(MetaKey.NfProto, NftType.NfProto) { Text = "meta nfproto" },
        "protocol" => new MetaSelector(MetaKey.Protocol, NftType.EtherType) { Text = "meta protocol" },
        "iifname" => new MetaSelector(MetaKey.Iifname, NftType.Ifname) { Text = "iifname" },
        "oifname" => new MetaSelector(MetaKey.Oifname, NftType.Ifname) { Text = "oifname" },
        "iif" => new MetaSelector(MetaKey.Iif, NftType.Int4) { Text = "iif" },
        "oif" => new MetaSelector(MetaKey.Oif, NftType.Int4) { Text = "oif" },
        "mark" => new MetaSelector(MetaKey.Mark, NftType.Mark) { Text = "meta mark" },
        "pkttype" => new MetaSelector(MetaKey.PktType, NftType.PktType) { Text = "meta pkttype" },
        "length" => new MetaSelector(MetaKey.Length, NftType.Int4) { Text = "meta length" },
        "priority" => new MetaSelector(MetaKey.Priority, NftType.ClassId) { Text = "meta priority" },
        "skuid" => new MetaSelector(MetaKey.SkUid, NftType.Uid) { Text = "meta skuid" },
        "skgid" => new MetaSelector(MetaKey.SkGid, NftType.Gid) { Text = "meta skgid" },
        "cpu" => new MetaDevSelector(MetaDevKey.Cpu) { Text = "meta cpu" },
        "iiftype" => new MetaDevSelector(MetaDevKey.IifType) { Text = "meta iiftype" },
        "oiftype" => new MetaDevSelector(MetaDevKey.OifType) { Text = "meta oiftype" },
        "iifgroup" => new MetaDevSelector(MetaDevKey.IifGroup) { Text = "meta iifgroup" },
        "oifgroup" => new MetaDevSelector(MetaDevKey.OifGroup) { Text = "meta oifgroup" },
        "cgroup" => new MetaDevSelector(MetaDevKey.Cgroup) { Text = "meta cgroup" },
        "time" => new MetaTimeSelector(MetaTimeKey.Time) { Text = "meta time" },
        "day" => new MetaTimeSelector(MetaTimeKey.Day) { Text = "meta day" },
        "hour" => new MetaTimeSelector(MetaTimeKey.Hour) { Text = "meta hour" },
        "ibrname" or "ibriport" => BridgeMeta(k, MetaBridgeKey.IbrName, "meta ibrname"),
        "obrname" or "obriport" => BridgeMeta(k, MetaBridgeKey.ObrName, "meta obrname"),
        "ibrpvid" => BridgeMeta(k, MetaBridgeKey.IbrPvid, "meta ibrpvid"),
        "ibrvproto" => BridgeMeta(k, MetaBridgeKey.IbrVproto, "meta ibrvproto"),
        "sdif" or "sdifname" => Sdif(k),
        _ => throw Err(k, $"unsupported expression 'meta {k.Text}'"),
    };

    /// <summary>The bridge meta keys: nft_meta_bridge is registered for the bridge family only (elsewhere nft_meta_get_init: EOPNOTSUPP).</summary>
    private MetaBridgeSelector BridgeMeta(NftTok k, MetaBridgeKey key, string text) =>
        _currentChain?.Table.Family == NftFamily.Bridge ? new MetaBridgeSelector(key) { Text = text }
            : throw Err(k, $"Could not process rule: Operation not supported ({text} is for bridge tables only)");

    /// <summary>meta sdif|sdifname: nft_meta_get_validate_sdif allows ip, ip6 and inet tables at input and forward (checked on 6.18).</summary>
    private MetaSdifSelector Sdif(NftTok k)
    {
        if (_currentChain?.Table.Family is not (NftFamily.Ip or NftFamily.Ip6 or NftFamily.Inet))
            throw Err(k, $"Could not process rule: Operation not supported (meta {k.Text} is for ip, ip6 and inet tables)");
        var sel = new MetaSdifSelector(k.Text == "sdifname") { Text = $"meta {k.Text}" };
        if (_currentChain?.Hook is { } hook && sel.HookProblem(_currentChain.Table.Family, hook) is { } problem)
            throw Err(k, $"Could not process rule: Operation not supported ({problem})");
        // in a regular chain: checked against the base chains that jump to it (ValidateHooks)
        (_currentRule!.HookRestricted ??= new()).Add(sel);
        return sel;
    }

    /// <summary>
    /// FIELD set VALUE: nft_payload_set of a header field or a raw payload (<c>@nh,8,8 set 0x10</c>), or
    /// nft_exthdr's TCP MSS write. The value is a constant, another field of the same width, passed or not
    /// through and/or/xor (<c>ip daddr set ip daddr and 255.255.255.0</c>), or a map's data (<c>ip daddr set
    /// ip daddr map { ... }</c>, <c>numgen inc mod 2 map { ... }</c>); the checksum attributes are the ones
    /// nft gives (PayloadSetSpec). Other fields and values are refused naming why.
    /// </summary>
    private NftStmt PayloadSet(NftSelector sel)
    {
        var at = Take();
        bool mss = sel is TcpOptionSelector { Kind: 2, Offset: 2, Width: 2 };
        if (sel is not (PayloadSelector or TcpOptionSelector or RawPayloadSelector)) throw Err(at, $"unsupported statement '{sel.Text} set'");
        PayloadSelector? field = sel as PayloadSelector;
        PayloadSetSpec? spec = field is null ? null : PayloadSetSpec.Of(field);
        if (sel is RawPayloadSelector raw) (field, spec) = (RawField(raw), PayloadSetSpec.Raw(raw.Base));
        if (!mss && spec is null)
            throw Err(at, $"unsupported: payload statement '{sel.Text} set' ({PayloadSetSpec.Supported} are rewritten; {PayloadSetSpec.WhyNot(sel.Text)})");
        if (!More) throw Err(at, $"syntax error, '{sel.Text} set' needs a value");
        if (Cur.Kind == TokKind.Word && SelectorWords.Contains(Cur.Text) || Cur.Is("("))
        {
            if (mss && Cur.Is("rt") && _s.Pos + 1 < _ruleEnd && _s.Peek(1).Is("mtu")) return RtMtuMss();
            if (mss || Cur.Is("rt"))
                throw Err(Cur, $"unsupported: {sel.Text} set {Cur.Text}{(More && _s.Peek(1).Kind == TokKind.Word ? " " + _s.Peek(1).Text : "")} (a constant or rt mtu is written to the MSS)");
            if (field!.Mask != 0) throw Err(Cur, $"unsupported: {sel.Text} set from an expression (a sub-byte field takes a constant)");
            var keyAt = Cur;
            var v = BitwiseValue(sel.Type, (t, ty) => ValueOf(ty, t));
            var st = spec!.Stmt(field);
            st.Inner = sel is RawPayloadSelector { Base: RawBase.Inner };
            if (v.Sel is null) { st.Constant = Fit(v.Const, field, keyAt); return st; }
            var key = v.Selector;
            if (TakeIf("map"))
            {
                st.Map = MapBody(key, () => Range(sel.Type, Take()).Lo, set => set.DataTypes is [var d] && d.Length == field.Width ? null : $"not to a {sel.Type.Name} value");
                return st;
            }
            if (key.Length != field.Width || key.HostOrder) throw Err(keyAt, $"unsupported: {sel.Text} set {key.Text} (the value must be a header field of the same width, a constant or a map)");
            // nft widens a 1-byte field under a checksum to a 16-bit word with a shift it cannot apply to an expression
            if (v.Steps.Count > 0 && field.Width < 2) throw Err(keyAt, $"Left shift of 8 bits is undefined for type of 8 bits width ({sel.Text} set with an operation)");
            st.Source = key;
            return st;
        }
        var (lo, hi) = Range(sel.Type, Take());
        if (!lo.AsSpan().SequenceEqual(hi)) throw Err(at, $"unsupported: {sel.Text} set with a range");
        if (mss) return new TcpMssSetStmt { Value = (ushort)NftBytes.ToUlong(lo) };
        var stmt = spec!.Stmt(field!);
        stmt.Inner = sel is RawPayloadSelector { Base: RawBase.Inner };
        if (field!.Mask != 0)
        {
            ulong v = lo.Length <= 8 ? NftBytes.ToUlong(lo) : ulong.MaxValue;
            if (v > field.Mask) throw Err(at, $"value {v} does not fit '{sel.Text}'");
            stmt.Value = v;
        }
        else stmt.Constant = Fit(lo, field, at);
        return stmt;
    }

    private byte[] ValueOf(NftType ty, NftTok t) => ty.Parse(t.Text) ?? throw Err(t, ty.Invalid(t.Text));

    private byte[] Fit(byte[] value, PayloadSelector f, NftTok at) =>
        value.Length == f.Width ? value : throw Err(at, $"value of {value.Length} bytes does not fit '{f.Text}' ({f.Width} bytes)");

    /// <summary>A raw payload as the field a statement writes: the bytes that cover its bits, the bits masked in when unaligned.</summary>
    private static PayloadSelector RawField(RawPayloadSelector r)
    {
        int first = r.BitOffset / 8, last = (r.BitOffset + r.BitLength + 7) / 8;
        bool aligned = r.BitOffset % 8 == 0 && r.BitLength % 8 == 0;
        return new PayloadSelector(r.Type)
        {
            Base = r.Base switch { RawBase.Link => PBase.Link, RawBase.Network => PBase.Network, _ => PBase.Transport },
            Offset = first, Width = last - first, Text = r.Text,
            Shift = aligned ? 0 : last * 8 - (r.BitOffset + r.BitLength),
            Mask = aligned ? 0 : r.BitLength == 64 ? ulong.MaxValue : (1UL << r.BitLength) - 1,
        };
    }

    /// <summary>
    /// tcp option maxseg size set rt mtu: nft_rt_get_eval's NFT_RT_TCPMSS, which nft_rt_validate allows
    /// only in forward, output and postrouting chains (a route exists there), and only where the
    /// family is IPv4 or IPv6.
    /// </summary>
    private NftStmt RtMtuMss()
    {
        var at = Take(); Take();
        if (_currentChain?.Table.Family is not (NftFamily.Ip or NftFamily.Ip6 or NftFamily.Inet))
            throw Err(at, "unsupported: rt mtu outside the ip, ip6 and inet families");
        if (_currentChain.Hook is { } hook && hook is not (NftHookPoint.Forward or NftHookPoint.Output or NftHookPoint.Postrouting))
            throw Err(at, $"rt mtu is only valid in forward, output and postrouting (nft_rt_validate), not in a {hook.ToString().ToLowerInvariant()} chain");
        return new TcpMssSetStmt { FromRoute = true };
    }

    /// <summary>
    /// `meta iif . meta oif { "lo" . "lo" }`: an iif/oif part whose value in the set's first element is a
    /// name compares the name, as a lone `meta iif "lo"` does (the element's i-th word, after `{` or `vmap {`).
    /// </summary>
    private ConcatSelector ConcatByName(ConcatSelector sel)
    {
        int at = _s.Pos + (Cur.Is("vmap") || Cur.Is("map") ? 1 : 0);
        if (at >= _ruleEnd || !_s.Peek(at - _s.Pos).Is("{")) return sel;
        var parts = sel.Parts.ToArray();
        for (int i = 0; i < parts.Length; i++)
        {
            var w = _s.Peek(at - _s.Pos + 1 + 2 * i);
            if (parts[i] is MetaSelector { Key: MetaKey.Iif or MetaKey.Oif } ms && (w.Kind == TokKind.String || (w.Kind == TokKind.Word && !char.IsDigit(w.Text[0]))))
                parts[i] = new MetaSelector(ms.Key == MetaKey.Iif ? MetaKey.Iifname : MetaKey.Oifname, NftType.Ifname) { Text = ms.Text };
        }
        return new ConcatSelector(parts) { Text = sel.Text };
    }

    // ---------- relations ----------
    private NftStmt Match(NftSelector sel)
    {
        // iif/oif with a name compare the name (no ifindex table at load time), after any operator (eq and ne too)
        var valueTok = More && (int)RelOp(Cur.Text) != -1 && _s.Pos + 1 < _ruleEnd ? _s.Peek(1) : Cur;
        // meta sdif "lo": nft resolves the name to its ifindex; the sdif device's name compares the same
        if (sel is MetaSdifSelector { Name: false } sd && More && (valueTok.Kind == TokKind.String || (valueTok.Kind == TokKind.Word && !char.IsDigit(valueTok.Text[0]))))
            sel = new MetaSdifSelector(true) { Text = sd.Text };
        if (sel is MetaSelector { Key: MetaKey.Iif or MetaKey.Oif } ms && More && (valueTok.Kind == TokKind.String || (valueTok.Kind == TokKind.Word && !char.IsDigit(valueTok.Text[0]))))
            sel = new MetaSelector(ms.Key == MetaKey.Iif ? MetaKey.Iifname : MetaKey.Oifname, NftType.Ifname) { Text = ms.Text };
        if (sel is ConcatSelector named && named.Parts.Any(p => p is MetaSelector { Key: MetaKey.Iif or MetaKey.Oif })) sel = ConcatByName(named);
        var types = sel is ConcatSelector cs ? cs.Parts.Select(p => p.Type).ToArray() : new[] { sel.Type };
        var widths = types.Select(x => x.Length).ToArray();
        var m = new MatchStmt { Sel = sel, Widths = widths };
        if (!More) throw Err(Cur, $"syntax error, '{sel.Text}' needs a value");
        if (Cur.Is("set")) return PayloadSet(sel);
        if (More && Cur.Text is "&" or "and" or "|" or "or" or "^" or "xor") return MaskedMatch(m, sel.Type);
        if (TakeIf("vmap"))
        {
            m.Vmap = true; m.Op = CmpOp.Eq;
            if (Cur.Kind == TokKind.Word && Cur.Text.StartsWith('@'))
            {
                var nt = Take();
                m.Set = NamedMap(nt, sel);
                if (!m.Set.IsVerdictMap) throw Err(nt, $"datatype mismatch: map '{m.Set.Name}' maps to {m.Set.DataText}, not to verdicts");
                m.Widths = m.Set.KeyTypes.Select(x => x.Length).ToArray();
                return m;
            }
            m.Elements = ParseSetBody(types, vmap: true);
            _anonSets++;
            return m;
        }
        var opTok = Cur;
        m.Op = RelOp(opTok.Text);
        bool explicitOp = (int)m.Op != -1;
        if (explicitOp) Take(); else m.Op = CmpOp.Eq;
        if (Cur.Is("{"))
        {
            if (m.Op is not (CmpOp.Eq or CmpOp.Ne)) throw Err(opTok, "relational operator not allowed with a set");
            var els = ParseSetBody(types, vmap: false);
            if (els.Count != 1) _anonSets++;
            // nft makes a one-element set of one key a plain comparison (a range: `ip daddr { 10.96.0.0/12 }`)
            if (els is [{ Lo: [var one], Hi: [var upTo] }])
            {
                if (one.AsSpan().SequenceEqual(upTo)) m.Value = one; else (m.Lo, m.Hi) = (one, upTo);
                return m;
            }
            m.Elements = els;
            return m;
        }
        if (Cur.Kind == TokKind.Word && Cur.Text.StartsWith('@'))
        {
            var nt = Take();
            var tb = CurrentTable ?? throw Err(nt, "set reference outside a table");
            if (!tb.SetMap.TryGetValue(SetRef(nt), out var set)) throw Err(nt, $"set '{nt.Text[1..]}' does not exist");
            if (set.KeyTypes.Sum(x => x.Length) != sel.Length) throw Err(nt, $"datatype mismatch: set '{set.Name}' has type {set.TypeText}");
            m.Set = set; m.Widths = set.KeyTypes.Select(x => x.Length).ToArray();
            if (m.Op is not (CmpOp.Eq or CmpOp.Ne)) throw Err(opTok, "relational operator not allowed with a set");
            return m;
        }
        if (types.Length > 1)
        {
            var el = Element(types);
            m.Elements = new List<NftElement> { el };
            return m;
        }
        var ty = sel.Type;
        if (ty.Kind == NftTypeKind.CtLabel && m.Op is not (CmpOp.Eq or CmpOp.NoBit or CmpOp.Ne))
            throw Err(opTok, $"unsupported: ct label {opTok.Text} (nft orders the 128 bits byte-swapped; ==, != and the bare label are modelled)");
        if (ty.IsBitmask && (m.Op is CmpOp.Eq or CmpOp.NoBit or CmpOp.Ne))
        {
            var v = BitList(ty);
            if (TakeIf("/"))
            {
                m.Mask = BitList(ty); m.Value = v;
                if (m.Op == CmpOp.NoBit) throw Err(opTok, "syntax error, '!' with a mask");
                return m;
            }
            if (!explicitOp) m.Op = CmpOp.AnyBit;
            m.Value = v;
            return m;
        }
        var (lo, hi) = Range(ty, Take());
        if (lo.AsSpan().SequenceEqual(hi)) m.Value = lo;
        else
        {
            if (m.Op is not (CmpOp.Eq or CmpOp.Ne)) throw Err(opTok, "relational operator not allowed with a range");
            m.Lo = lo; m.Hi = hi;
        }
        return m;
    }

    private NftTable? CurrentTable => _currentChain?.Table;
    private NftChain? _currentChain;
    private NftRule? _currentRule;

    private byte[] BitList(NftType ty, bool commas = true)
    {
        if (ty.Kind == NftTypeKind.CtLabel) return CtLabelSelector.Bytes(LabelBits(commas));
        ulong acc = 0;
        do
        {
            var t = Take();
            if (ty.Symbols!.TryGetValue(t.Text, out var v) || NftType.TryNumber(t.Text, out v)) acc |= v;
            else throw Err(t, ty.Invalid(t.Text));
        } while ((commas && TakeIf(",")) || TakeIf("|"));
        return ToBytes(acc, ty.Length);
    }

    private static byte[] ToBytes(ulong v, int len)
    {
        var b = new byte[len];
        for (int i = len - 1; i >= 0; i--) { b[i] = (byte)v; v >>= 8; }
        return b;
    }

    /// <summary>A value, a parenthesised or |-joined bit expression (for masks).</summary>
    private byte[] ValueExpr(NftType ty)
    {
        bool paren = TakeIf("(");
        if (ty.Kind == NftTypeKind.CtLabel)
        {
            var bits = CtLabelSelector.Bytes(LabelBits(commas: false));
            return !paren || TakeIf(")") ? bits : throw Err(Cur, "syntax error, expected ')'");
        }
        ulong acc = 0; bool any = false; byte[]? single = null;
        do
        {
            var t = Take();
            var b = ty.Parse(t.Text) ?? throw Err(t, ty.Invalid(t.Text));
            if (ty.Length <= 8) { acc |= NftBytes.ToUlong(b); any = true; } else single = b;
        } while (TakeIf("|"));
        if (paren && !TakeIf(")")) throw Err(Cur, "syntax error, expected ')'");
        return single ?? (any ? ToBytes(acc, ty.Length) : throw Err(Cur, "value expected"));
    }

    /// <summary>value, a-b range, addr/len prefix, "eth*" wildcard.</summary>
    private (byte[] Lo, byte[] Hi) Range(NftType ty, NftTok t)
    {
        var w = t.Text;
        if (ty.Kind == NftTypeKind.Ifname)
        {
            if (t.Kind != TokKind.String && t.Kind != TokKind.Word) throw Err(t, $"syntax error, unexpected '{t}'");
            if (w.EndsWith('*') && !w.EndsWith("\\*"))
            {
                var pre = w[..^1]; var lo = NftType.IfnameBytes(pre); var hi = (byte[])lo.Clone();
                for (int i = pre.Length; i < 16; i++) hi[i] = 0xFF;
                return (lo, hi);
            }
            var b = NftType.IfnameBytes(w.Replace("\\*", "*")); return (b, b);
        }
        if (t.Kind != TokKind.Word && !(t.Kind == TokKind.String && ty.Quoted)) throw Err(t, $"syntax error, unexpected '{t}'");
        var one = ty.Parse(w);
        if (one is not null) return (one, one);
        int slash = w.IndexOf('/');
        // an address prefix, or an integer's (meta mark 0xffffff00/24: nft's bitwise mask of the top bits and cmp)
        if (slash > 0 && ty.Kind is NftTypeKind.Ipv4 or NftTypeKind.Ipv6 or NftTypeKind.Int && int.TryParse(w[(slash + 1)..], out var bits))
        {
            var a = ty.Parse(w[..slash]) ?? throw Err(t, ty.Invalid(w));
            if (bits < 0 || bits > ty.Length * 8) throw Err(t, $"bad prefix length in '{w}'");
            return NftBytes.Prefix(a, bits);
        }
        for (int i = w.IndexOf('-'); i > 0; i = w.IndexOf('-', i + 1))
        {
            var a = ty.Parse(w[..i]); var b = ty.Parse(w[(i + 1)..]);
            if (a is not null && b is not null)
            {
                if (a.AsSpan().SequenceCompareTo(b) > 0) throw Err(t, $"range '{w}' has a lower bound above its upper bound");
                return (a, b);
            }
        }
        throw Err(t, ty.Invalid(w));
    }

    private NftElement Element(NftType[] types)
    {
        // `*`: the catch-all element, for the whole key (a concatenation's too)
        if (Cur.Kind == TokKind.Word && Cur.Text == "*") { Take(); return new NftElement { CatchAll = true, Lo = [], Hi = [] }; }
        var el = new NftElement { Lo = new byte[types.Length][], Hi = new byte[types.Length][] };
        for (int i = 0; i < types.Length; i++)
        {
            if (i > 0 && !TakeIf(".")) throw Err(Cur, "syntax error, expected '.' in concatenation");
            var ty = types[i];
            if (ty.IsBitmask)
            {
                var b = BitList(ty, commas: false); // syn | ack
                el.Lo[i] = b; el.Hi[i] = b; continue;
            }
            (el.Lo[i], el.Hi[i]) = Range(ty, Take());
        }
        return el;
    }

    /// <summary>Parses "{ e, e, ... }" (also for named sets' elements), with "key : verdict" in vmaps.</summary>
    private List<NftElement> ParseSetBody(NftType[] types, bool vmap, Func<object>? mapData = null)
    {
        int savedEnd = _ruleEnd; _ruleEnd = int.MaxValue;
        try
        {
            var list = new List<NftElement>();
            _s.SkipNewlines();
            _s.Expect("{");
            while (true)
            {
                _s.SkipNewlines();
                if (_s.Accept("}")) break;
                if (Cur.Is("{") && !vmap && mapData is null)
                {
                    // an anonymous set inside the set: nft merges its elements into the outer one
                    list.AddRange(ParseSetBody(types, false));
                    _s.SkipNewlines();
                    if (_s.Accept(",")) continue;
                    if (_s.Accept("}")) break;
                    throw Err(_s.Peek(), $"syntax error, unexpected '{_s.Peek()}' in set");
                }
                var keyTok = Cur;
                var el = Element(types);
                while (Cur.Text is "timeout" or "expires" or "comment" or "counter")
                {
                    var k = Take();
                    if (k.Text == "timeout") el.TimeoutNs = Time(Take());
                    else if (k.Text == "expires") el.ExpiresNs = Time(Take());
                    else if (k.Text == "comment") Take();
                }
                if (mapData is not null)
                {
                    if (!TakeIf(":")) throw Err(Cur, "syntax error, expected ':' in map");
                    el.Data = mapData();
                }
                if (vmap)
                {
                    if (!TakeIf(":")) throw Err(Cur, "syntax error, expected ':' in verdict map");
                    (el.Verdict, el.Target) = VerdictData();
                    if (el.Target is { } target) _jumpTargets.Add((target, keyTok)); // nft points at the element
                }
                list.Add(el);
                _s.SkipNewlines();
                if (_s.Accept(",")) continue;
                _s.SkipNewlines();
                if (_s.Accept("}")) break;
                throw Err(_s.Peek(), $"syntax error, unexpected '{_s.Peek()}' in set");
            }
            return list;
        }
        finally { _ruleEnd = savedEnd; }
    }
}

internal sealed class RejectStmt : NftStmt
{
    public string Desc = "default";
    public override bool Eval(NftEvalCtx c)
    {
        c.Verdict = NftVerdict.Drop;
        c.Reject = Desc != "default" ? Desc
            : NftSelector.NetProto(c.P) == L3.V6 ? "icmpv6 port-unreachable" : "icmp port-unreachable";
        return true;
    }
}

/// <summary>`meta nftrace set 1`: tracing is the model's own business, so it does nothing; the iptables
/// translator also uses it as the slot for statements nft text cannot express.</summary>
internal sealed class NftraceSetStmt : NftStmt { public override bool Eval(NftEvalCtx c) => true; }
