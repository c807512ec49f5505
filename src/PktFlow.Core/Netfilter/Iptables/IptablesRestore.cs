using System.Globalization;
using System.Net;
using System.Text;
using PktFlow.Netfilter.Nftables;

namespace PktFlow.Netfilter.Iptables;

/// <summary>An iptables-save input error: "file:line: message", naming the offending token.</summary>
public sealed class IptablesParseException : Exception
{
    public string FileName { get; }
    public int Line { get; }
    public string Token { get; }
    /// <summary>The kernel or iptables itself refuses the rule (not a limit of the model): never kept as an unsupported rule.</summary>
    public bool Refused { get; init; }
    public IptablesParseException(string file, int line, string token, string message) : base($"{file}:{line}: {message}")
    { FileName = file; Line = line; Token = token; }

    /// <summary>The message without its "file:line: " prefix.</summary>
    public string Bare => Message[(Message.IndexOf(": ", StringComparison.Ordinal) + 2)..];

    /// <summary>The same refusal, placed by <paramref name="at"/> (the rule's own file and line).</summary>
    internal IptablesParseException At(Func<string, string, IptablesParseException> at) => at(Token, Bare);
}

/// <summary>Load switches for iptables-save input.</summary>
public sealed class IptablesLoadOptions
{
    /// <summary>Keep rules the evaluator cannot run, marked <see cref="NftRule.Unsupported"/> (message names the iptables line).</summary>
    public bool AllowUnsupported { get; init; }

    /// <summary>The namespace's cttimeout policies (nfct add timeout) by name, as they are when a rule is
    /// added: <c>-j CT --timeout NAME</c> finds its policy here (xt_ct_set_timeout).</summary>
    public IReadOnlyDictionary<string, Conntrack.ConntrackTimeoutPolicy>? CtTimeouts { get; init; }

    /// <summary>Conntrack label names for -m connlabel --label NAME (libxt_connlabel's /etc/xtables/connlabel.conf); null: bit numbers only.</summary>
    public Conntrack.ConnLabelMap? ConnLabels { get; init; }

    /// <summary>The namespace's clock of nft and iptables commands: a built-in chain created now takes the next
    /// tick as its registration (null: registrations in file order).</summary>
    internal Func<int>? NextRegistration { get; init; }

    /// <summary>The namespace's ipsets as they are when a rule is added: -m set --match-set NAME finds its set here.</summary>
    public Ipset.IpSetTable? IpSets { get; init; }
}

/// <summary>
/// Translates iptables-save / ip6tables-save output the way iptables-nft 1.8.9 (nf_tables) stores it:
/// one table per section (family ip or ip6) holding only the chains the file declares; handles per table,
/// chains first in declaration order, then rules in file order (no handles for anonymous sets: the
/// multiport/conntrack/etc. matches are xtables compat expressions). Rule text is what nft 1.0.6 prints.
/// Checked against iptables v1.8.9 (nf_tables) and nftables v1.0.6 in a network namespace.
/// </summary>
public static partial class IptablesRestore
{
    /// <summary>The ruleset as `nft -a list ruleset` prints it after iptables-restore (with handles as comments).</summary>
    public static string Translate(string iptablesSaveText, string fileName, bool ipv6)
    {
        var tables = ParseFile(iptablesSaveText, fileName, ipv6, new IptablesLoadOptions { AllowUnsupported = true });
        var sb = new StringBuilder();
        int th = 0;
        foreach (var t in tables)
        {
            sb.Append($"table {(ipv6 ? "ip6" : "ip")} {t.Name} {{ # handle {++th}\n");
            bool firstChain = true;
            foreach (var c in t.Chains)
            {
                if (!firstChain) sb.Append('\n');
                firstChain = false;
                sb.Append($"\tchain {c.Name} {{ # handle {c.Handle}\n");
                if (c.Hook is not null) sb.Append($"\t\ttype {c.Type} hook {c.Hook} priority {c.PrioText}; policy {(c.PolicyDrop ? "drop" : "accept")};\n");
                foreach (var r in c.Rules) sb.Append($"\t\t{r.Printed} # handle {r.Handle}\n");
                sb.Append("\t}\n");
            }
            sb.Append("}\n");
        }
        return sb.ToString();
    }

    /// <summary>Loads the file into an <see cref="NftRuleset"/> the <see cref="NftEvaluator"/> runs; rule texts and handles are iptables-nft's.</summary>
    public static NftRuleset Load(string iptablesSaveText, string fileName, bool ipv6, IptablesLoadOptions? options = null)
    {
        options ??= new IptablesLoadOptions();
        return Build(ParseFile(iptablesSaveText, fileName, ipv6, options), fileName, ipv6, options);
    }

    /// <summary>The tables as the evaluator's ruleset: nft text compiled once, then iptables-nft's handles and texts.</summary>
    internal static NftRuleset Build(List<ITable> tables, string fileName, bool ipv6, IptablesLoadOptions options)
    {
        var ev = new StringBuilder();
        string fam = ipv6 ? "ip6" : "ip";
        foreach (var t in tables)
        {
            ev.Append($"table {fam} {t.Name} {{\n");
            foreach (var c in t.Chains)
            {
                ev.Append($"chain {c.Name} {{\n");
                if (c.Hook is not null) ev.Append($"type {c.Type} hook {c.Hook} priority {c.Prio}; policy {(c.PolicyDrop ? "drop" : "accept")};\n");
                foreach (var r in c.Rules) ev.Append(r.Error is null ? r.Eval : "counter").Append('\n');
                ev.Append("}\n");
            }
            ev.Append("}\n");
        }
        var rs = NftRuleset.Parse(ev.ToString(), fileName + " (translated)", new NftLoadOptions { AllowUnsupported = true, AllowIncludes = false, AnyName = true });
        foreach (var t in tables)
        {
            var nt = rs.FindTable(ipv6 ? NftFamily.Ip6 : NftFamily.Ip, t.Name)!;
            int max = 0;
            foreach (var c in t.Chains)
            {
                var nc = nt.FindChain(c.Name)!;
                nc.Handle = c.Handle; max = Math.Max(max, c.Handle);
                nc.LoadStamp = c.Registration;
                for (int i = 0; i < c.Rules.Count; i++)
                {
                    var r = c.Rules[i]; var nr = nc.Rules[i];
                    nr.Handle = r.Handle; max = Math.Max(max, r.Handle);
                    nr.Text = r.Printed; nr.Comment = r.Comment; nr.SourceFile = r.File ?? fileName; nr.SourceLine = r.Line;
                    string? err = r.Error ?? (nr.Unsupported is not null ? $"{r.File ?? fileName}:{r.Line}: cannot evaluate '{r.Printed}' ({nr.Unsupported})" : null);
                    if (err is not null)
                    {
                        if (!options.AllowUnsupported) throw new IptablesParseException(r.File ?? fileName, r.Line, r.ErrorToken ?? r.Source, err[(err.IndexOf(": ", StringComparison.Ordinal) + 2)..]);
                        nr.Unsupported = err; nr.Stmts = Array.Empty<NftStmt>(); continue;
                    }
                    if (r.Customs.Count > 0)
                    {
                        var st = nr.Stmts; int k = 0;
                        for (int j = 0; j < st.Length; j++)
                            if (st[j] is NftraceSetStmt) st[j] = r.Customs[k++];
                    }
                }
            }
            nt.HandleCounter = max;
        }
        return rs;
    }

    // ---------------------------------------------------------------- model
    internal sealed class ITable { public string Name = ""; public List<IChain> Chains = new(); public int Counter; }
    internal sealed class IChain
    {
        public string Name = ""; public int Handle; public string? Hook; public string Type = "filter"; public int Prio; public string PrioText = "";
        public bool PolicyDrop; public List<IRule> Rules = new();
        /// <summary>When iptables-nft registered this built-in chain's hook in the lab (<see cref="IptablesLoadOptions.NextRegistration"/>); 0: unknown.</summary>
        public int Registration;
        /// <summary>A built-in chain a rule named without a <c>:CHAIN POLICY</c> line: its policy is whatever the kernel has.</summary>
        public bool Implicit;
    }
    internal sealed class IRule
    {
        public int Line; public string? File; public int Handle; public string Source = ""; public string Printed = ""; public string Eval = "";
        public string? Comment; public string? Error; public string? ErrorToken; public List<NftStmt> Customs = new();
        /// <summary>The user chain a -j/-g of this rule names (iptables -E renames it here too).</summary>
        public string? JumpTarget;
    }

    private const string Placeholder = "meta nftrace set 1";

    /// <summary>iptables-nft-restore makes a built-in chain a rule appends to without declaring it (1.8.9, checked on 6.18).</summary>
    private static IChain? ImplicitBuiltIn(ITable t, string name)
    {
        if (!BaseChains4.TryGetValue(t.Name + "/" + name, out var b)) return null;
        var ch = new IChain { Name = name, Handle = ++t.Counter, Implicit = true };
        (ch.Hook, ch.Type, ch.Prio, ch.PrioText) = b;
        t.Chains.Add(ch);
        return ch;
    }

    internal static readonly Dictionary<string, (string Hook, string Type, int Prio, string PrioText)> BaseChains4 = new()
    {
        ["raw/PREROUTING"] = ("prerouting", "filter", -300, "raw"), ["raw/OUTPUT"] = ("output", "filter", -300, "raw"),
        ["mangle/PREROUTING"] = ("prerouting", "filter", -150, "mangle"), ["mangle/INPUT"] = ("input", "filter", -150, "mangle"),
        ["mangle/FORWARD"] = ("forward", "filter", -150, "mangle"), ["mangle/OUTPUT"] = ("output", "route", -150, "mangle"),
        ["mangle/POSTROUTING"] = ("postrouting", "filter", -150, "mangle"),
        ["nat/PREROUTING"] = ("prerouting", "nat", -100, "dstnat"), ["nat/INPUT"] = ("input", "nat", 100, "100"),
        ["nat/OUTPUT"] = ("output", "nat", -100, "-100"), ["nat/POSTROUTING"] = ("postrouting", "nat", 100, "srcnat"),
        ["filter/INPUT"] = ("input", "filter", 0, "filter"), ["filter/FORWARD"] = ("forward", "filter", 0, "filter"),
        ["filter/OUTPUT"] = ("output", "filter", 0, "filter"),
        // iptables-nft registers security at 150 (observed: "priority 150"), not NF_IP_PRI_SECURITY (50)
        ["security/INPUT"] = ("input", "filter", 150, "150"), ["security/FORWARD"] = ("forward", "filter", 150, "150"),
        ["security/OUTPUT"] = ("output", "filter", 150, "150"),
    };

    internal static List<ITable> ParseFile(string text, string file, bool ipv6, IptablesLoadOptions opt)
    {
        var tables = new List<ITable>();
        ITable? cur = null;
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var pending = new List<(IRule R, string Chain, List<string> Args, ITable T)>();
        for (int ln = 1; ln <= lines.Length; ln++)
        {
            var line = lines[ln - 1].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            IptablesParseException E(string tok, string msg) => new(file, ln, tok, msg);
            if (line.StartsWith('*'))
            {
                if (cur is not null) throw E(line, $"table '{cur.Name}' not committed before '{line}'");
                var name = line[1..];
                if (name is not ("filter" or "nat" or "mangle" or "raw" or "security")) throw E(name, $"unknown table '{name}'");
                cur = tables.Find(t => t.Name == name);
                if (cur is null) { cur = new ITable { Name = name }; tables.Add(cur); }
                continue;
            }
            if (line == "COMMIT") { if (cur is null) throw E("COMMIT", "COMMIT outside a table"); cur = null; continue; }
            if (cur is null) throw E(line.Split(' ')[0], $"'{line.Split(' ')[0]}' outside a table (missing *table line)");
            if (line.StartsWith(':'))
            {
                var parts = line[1..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 2) throw E(line, "bad chain line");
                var name = parts[0]; var pol = parts[1];
                if (cur.Chains.Exists(c => c.Name == name)) continue;
                var ch = new IChain { Name = name, Handle = ++cur.Counter };
                if (BaseChains4.TryGetValue(cur.Name + "/" + name, out var b))
                {
                    (ch.Hook, ch.Type, ch.Prio, ch.PrioText) = b;
                    if (pol == "DROP") ch.PolicyDrop = true;
                    else if (pol != "ACCEPT") throw E(pol, $"bad policy '{pol}' for built-in chain {name}");
                    if (ch.PolicyDrop && cur.Name == "nat") throw E(pol, "nat chains cannot have policy DROP");
                }
                else if (pol != "-") throw E(pol, $"chain '{name}' is not a built-in chain of table {cur.Name}; policy must be '-'");
                cur.Chains.Add(ch);
                continue;
            }
            var args = Tokenize(line, E);
            int a0 = 0;
            string? counters = null;
            if (args.Count > 0 && args[0].StartsWith('[')) { counters = args[0]; a0 = 1; }
            if (args.Count < a0 + 2 || args[a0] is not ("-A" or "--append")) throw E(args.Count > a0 ? args[a0] : line, $"unsupported command '{(args.Count > a0 ? args[a0] : line)}'");
            var chainName = args[a0 + 1];
            var r = new IRule { Line = ln, Source = line };
            pending.Add((r, chainName, args.GetRange(a0 + 2, args.Count - a0 - 2), cur));
            try { Translate(r, args.GetRange(a0 + 2, args.Count - a0 - 2), ipv6, cur.Name, counters, opt, E); }
            catch (IptablesParseException ex) when (ex.Refused) { throw ex.At(E); }
            catch (IptablesParseException ex) { r.Error = ex.Message; r.ErrorToken = ex.Token; }
            var chain = cur.Chains.Find(c => c.Name == chainName) ?? ImplicitBuiltIn(cur, chainName) ?? throw E(chainName, $"chain '{chainName}' does not exist");
            // xt_check_target: SYNPROXY's hooks are LOCAL_IN and FORWARD
            if (chainName is "PREROUTING" or "OUTPUT" or "POSTROUTING" && r.Customs.Exists(c => c is SynproxyStmt))
                throw E("SYNPROXY", $"SYNPROXY: RULE_APPEND failed (Invalid argument): the target is usable from INPUT and FORWARD only, not {chainName}");
            chain.Rules.Add(r);
        }
        if (cur is not null) throw new IptablesParseException(file, Array.FindLastIndex(lines, l => l.Trim().Length > 0) + 1, "COMMIT", $"table '{cur.Name}' has no COMMIT");
        // rule handles come after all chains of the table, in file order; jump targets must exist
        foreach (var t in tables)
        {
            foreach (var p in pending.Where(p => p.T == t)) p.R.Handle = ++t.Counter;
            foreach (var p in pending.Where(p => p.T == t))
            {
                var args = p.Args;
                for (int i = 0; i + 1 < args.Count; i++)
                    if (args[i] is "-j" or "--jump" or "-g" or "--goto" && !Targets.Contains(args[i + 1]) && !t.Chains.Exists(c => c.Name == args[i + 1]))
                    {
                        if (!opt.AllowUnsupported || (args[i] is "-g" or "--goto"))
                            throw new IptablesParseException(file, p.R.Line, args[i + 1], $"unknown target or chain '{args[i + 1]}'");
                        p.R.Error ??= $"{file}:{p.R.Line}: unknown target or chain '{args[i + 1]}'";
                    }
            }
        }
        return tables;
    }

    internal static readonly HashSet<string> Targets = new()
    { "ACCEPT", "DROP", "RETURN", "REJECT", "LOG", "MARK", "CONNMARK", "MASQUERADE", "SNAT", "DNAT", "REDIRECT", "NOTRACK", "CT", "CLASSIFY", "TPROXY", "NFQUEUE", "QUEUE", "SYNPROXY", "SET" };

    internal static List<string> Tokenize(string line, Func<string, string, IptablesParseException> E)
    {
        var r = new List<string>(); var sb = new StringBuilder(); bool inQ = false, any = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (inQ)
            {
                if (c == '\\' && i + 1 < line.Length) { sb.Append(line[++i]); continue; }
                if (c == '"') { inQ = false; continue; }
                sb.Append(c); continue;
            }
            if (c == '"') { inQ = true; any = true; continue; }
            if (c == ' ' || c == '\t') { if (any || sb.Length > 0) r.Add(sb.ToString()); sb.Clear(); any = false; continue; }
            sb.Append(c);
        }
        if (inQ) throw E("\"", "unterminated quoted string");
        if (any || sb.Length > 0) r.Add(sb.ToString());
        return r;
    }

    // ---------------------------------------------------------------- one rule
    private sealed class L4Match { public string? Sport, Dport, Flags, FlagsEval; }

    private static readonly Dictionary<string, int> ProtoNums = new(StringComparer.OrdinalIgnoreCase)
    { ["tcp"] = 6, ["udp"] = 17, ["icmp"] = 1, ["icmpv6"] = 58, ["ipv6-icmp"] = 58, ["gre"] = 47, ["esp"] = 50, ["ah"] = 51, ["sctp"] = 132, ["igmp"] = 2, ["udplite"] = 136, ["ipip"] = 4, ["ospf"] = 89, ["vrrp"] = 112 };
    private static readonly Dictionary<int, string> ProtoNames = new()
    { [6] = "tcp", [17] = "udp", [1] = "icmp", [58] = "ipv6-icmp", [47] = "gre", [50] = "esp", [51] = "ah", [132] = "sctp", [2] = "igmp", [136] = "udplite", [4] = "ipip", [89] = "ospf", [112] = "vrrp" };

    internal static void Translate(IRule r, List<string> a, bool v6, string table, string? counters, IptablesLoadOptions opt,
        Func<string, string, IptablesParseException> E)
    {
        string ipk = v6 ? "ip6" : "ip";
        string? iif = null, oif = null, saddr = null, daddr = null; int? proto = null; bool protoNeg = false;
        var mods = new List<(string P, string Ev)>(); // printed, eval (in order)
        L4Match? l4 = null; int l4Index = -1;
        L4Match? sctp = null; int sctpIndex = -1; // -p sctp --sport/--dport (checked with iptables-nft on 6.18)
        string? verdictP = null, verdictE = null; string? target = null; bool isGoto = false;
        var tOpts = new List<(string K, string? V, bool Neg)>();
        string curMod = "";
        int limitAt = -1; string limitRate = "3/hour"; uint limitBurst = LimitStmt.DefaultPacketBurst; // xt_limit's defaults
        bool neg = false; IptablesParseException? deferred = null;
        SocketMatchStmt? socketMatch = null;
        ConnlabelMatch? connlabel = null;
        ConnbytesMatch? connbytes = null; int connbytesIndex = -1;
        SetMatch? setMatch = null;
        PhysdevMatch? physdev = null; var physdevs = new List<PhysdevMatch>();
        for (int i = 0; i < a.Count; i++)
        {
            var o = a[i];
            if (o == "!") { neg = true; continue; }
            string V() { if (i + 1 >= a.Count) throw E(o, $"option '{o}' needs a value"); return a[++i]; }
            bool n = neg; neg = false;
            if (target is not null && o.StartsWith("--")) { string? v = TargetFlag(o) ? null : V(); tOpts.Add((o, v, n)); continue; }
            switch (o)
            {
                case "-s": case "--source": saddr = (n ? "!= " : "") + Addr(V(), v6, E); continue;
                case "-d": case "--destination": daddr = (n ? "!= " : "") + Addr(V(), v6, E); continue;
                case "-i": case "--in-interface": iif = (n ? "!= " : "") + Ifname(V()); continue;
                case "-o": case "--out-interface": oif = (n ? "!= " : "") + Ifname(V()); continue;
                case "-p": case "--protocol":
                {
                    var p = V().ToLowerInvariant();
                    if (p == "all" || p == "0") { proto = null; continue; }
                    if (ProtoNums.TryGetValue(p, out var pn)) proto = pn;
                    else if (int.TryParse(p, out pn) && pn is > 0 and < 256) proto = pn;
                    else throw E(p, $"unknown protocol '{p}'");
                    if (proto == 58 && !v6 || proto == 1 && v6) throw E(p, $"protocol '{p}' is not valid for {(v6 ? "ip6tables" : "iptables")}");
                    protoNeg = n; continue;
                }
                case "-m": case "--match":
                    curMod = V();
                    if (curMod is not ("tcp" or "udp" or "sctp" or "multiport" or "conntrack" or "state" or "mark" or "connmark" or "comment" or "addrtype" or "icmp" or "icmp6" or "limit" or "statistic" or "socket" or "owner" or "connbytes" or "helper" or "connlabel" or "set" or "physdev"))
                        throw E(curMod, $"unknown match '{curMod}'");
                    if (curMod is "tcp" or "udp") { l4 = new L4Match(); l4Index = mods.Count; mods.Add(("", "")); }
                    if (curMod is "sctp" && sctp is null) { sctp = new L4Match(); sctpIndex = mods.Count; mods.Add(("", "")); }
                    if (curMod is "connbytes" && connbytes is null) { connbytes = new ConnbytesMatch(); connbytesIndex = mods.Count; mods.Add(("", "")); }
                    if (curMod is "connlabel")
                    {
                        r.Customs.Add(connlabel = new ConnlabelMatch { Bit = -1 });
                        mods.Add(("xt match connlabel", Placeholder));
                    }
                    if (curMod is "set")
                    {
                        r.Customs.Add(setMatch = new SetMatch());
                        mods.Add(("xt match set", Placeholder));
                    }
                    if (curMod is "physdev")
                    {
                        r.Customs.Add(physdev = new PhysdevMatch());
                        physdevs.Add(physdev);
                        mods.Add(("xt match physdev", Placeholder));
                    }
                    if (curMod is "socket")
                    {
                        // iptables-nft keeps xt_socket as a compat match (nft lists it `xt match socket`)
                        r.Customs.Add(socketMatch = new SocketMatchStmt());
                        mods.Add(("xt match socket", Placeholder));
                    }
                    continue;
                case "-j": case "--jump":
                    target = V(); curMod = "";
                    // xt_SET changes the sets while packets pass: the model's sets are configuration, fixed for a replay
                    if (target == "SET") throw E(target, "unsupported: -j SET --add-set/--del-set/--map-set (sets changed by packets are not modelled)");
                    continue;
                case "-g": case "--goto": target = V(); isGoto = true; curMod = ""; continue;
                case "-c": case "--set-counters": counters = $"[{V()}:{V()}]"; continue;
            }
            if (!o.StartsWith("--")) throw E(o, $"unknown option '{o}'");
            if (curMod == "socket" && socketMatch is not null)
            {
                if (n) throw E(o, $"option '{o}' of -m socket cannot be negated");
                switch (o)
                {
                    case "--transparent": socketMatch.Transparent = true; continue;
                    case "--nowildcard": socketMatch.NoWildcard = true; continue;
                    case "--restore-skmark": socketMatch.RestoreSkmark = true; continue;
                }
                throw E(o, $"unknown option '{o}' for match 'socket'");
            }
            if (curMod == "connbytes" && connbytes!.Option(o, V, n, E)) continue;
            if (curMod == "connlabel") { ConnlabelOption(connlabel!, o, V, n, opt, E); continue; }
            if (curMod == "set") { SetOption(setMatch!, o, V, n, opt, E); continue; }
            if (curMod == "physdev") { PhysdevOption(physdev!, o, V, n, E); continue; }
            if (curMod == "owner")
            {
                // iptables-nft writes the owner match as nft's meta skuid / skgid (nft lists them unqualified)
                if (o is not ("--uid-owner" or "--gid-owner")) throw E(o, $"unsupported: owner option '{o}' (--uid-owner and --gid-owner are modelled)");
                var id = V();
                if (!System.Text.RegularExpressions.Regex.IsMatch(id, @"^\d+(-\d+)?$")) throw E(id, $"owner {o} {id}: user and group names are not resolved; write the numeric id");
                var key = o == "--uid-owner" ? "skuid" : "skgid";
                mods.Add(($"{key} {(n ? "!= " : "")}{id}", $"meta {key} {(n ? "!= " : "")}{id}"));
                continue;
            }
            string pname = proto is { } pp && ProtoNames.TryGetValue(pp, out var nm) ? nm : "";
            if (curMod == "multiport")
            {
                if (o is not ("--dports" or "--destination-ports" or "--sports" or "--source-ports")) throw E(o, $"unsupported multiport option '{o}'");
                if (pname is not ("tcp" or "udp")) throw E(o, "multiport needs -p tcp or -p udp");
                var items = V().Split(',').Select(x => PortRange(x, E)).ToList();
                string field = o.StartsWith("--d") ? "dport" : "sport";
                string val = items.Count == 1 ? items[0] : "{ " + string.Join(", ", items) + " }";
                var s = $"{pname} {field} {(n ? "!= " : "")}{val}";
                mods.Add((s, s)); continue;
            }
            switch (o)
            {
                case "--sport": case "--source-port": case "--dport": case "--destination-port": case "--tcp-flags": case "--syn":
                {
                    if (pname == "sctp" && o.Contains("port"))
                    {
                        if (sctp is null) { sctp = new L4Match(); sctpIndex = mods.Count; mods.Add(("", "")); }
                        var sp = $"sctp {(o.StartsWith("--s") ? "sport" : "dport")} {(n ? "!= " : "")}{PortRange(V(), E)}";
                        if (o.StartsWith("--s")) sctp.Sport = sp; else sctp.Dport = sp;
                        continue;
                    }
                    if (pname is not ("tcp" or "udp") || (o is "--tcp-flags" or "--syn" && pname != "tcp")) throw E(o, $"option '{o}' needs -p tcp{(o.Contains("port") ? ", -p udp or -p sctp" : "")}");
                    if (l4 is null) { l4 = new L4Match(); l4Index = mods.Count; mods.Add(("", "")); }
                    if (o is "--syn") { l4.Flags = $"tcp flags {(n ? "!= " : "")}syn / fin,syn,rst,ack"; l4.FlagsEval = l4.Flags; continue; }
                    if (o is "--tcp-flags")
                    {
                        var mask = Flags(V(), E); var cmp = Flags(V(), E);
                        if (cmp.Length == 0) l4.Flags = n ? $"tcp flags & ({mask.Replace(",", " | ")}) != 0" : $"tcp flags ! {mask}";
                        else l4.Flags = $"tcp flags {(n ? "!= " : "")}{cmp} / {mask}";
                        l4.FlagsEval = cmp.Length == 0 ? (n ? null : l4.Flags) : l4.Flags;
                        if (l4.FlagsEval is null) throw E(o, "negated '--tcp-flags ... NONE' is not supported");
                        continue;
                    }
                    var pr = PortRange(V(), E);
                    var txt = $"{pname} {(o.Contains('s') && o.StartsWith("--s") ? "sport" : "dport")} {(n ? "!= " : "")}{pr}";
                    if (o.StartsWith("--s")) l4.Sport = txt; else l4.Dport = txt;
                    continue;
                }
                case "--ctstate": case "--state":
                {
                    if (curMod is not ("conntrack" or "state")) throw E(o, $"option '{o}' needs -m conntrack or -m state");
                    var st = V().Split(',').Select(x => x.Trim().ToUpperInvariant()).ToList();
                    var order = new[] { "INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED" };
                    var nat = new[] { "SNAT", "DNAT" };
                    foreach (var x in st) if (!order.Contains(x) && !(curMod == "conntrack" && nat.Contains(x))) throw E(x, $"unknown conntrack state '{x}'");
                    if (st.Any(nat.Contains))
                    {
                        // xt_conntrack's virtual states: the connection's IPS_SRC_NAT / IPS_DST_NAT status bits.
                        // iptables-nft keeps the match as xtables compat; its effect is ct status.
                        if (st.Any(order.Contains)) throw E(o, $"--ctstate mixing {string.Join(",", st.Where(order.Contains))} with {string.Join(",", st.Where(nat.Contains))} is not modelled");
                        var bits = string.Join(",", nat.Where(st.Contains).Select(x => x.ToLowerInvariant()));
                        mods.Add(("xt match \"conntrack\"", n ? $"ct status & ({bits.Replace(",", " | ")}) == 0" : $"ct status {bits}"));
                        continue;
                    }
                    var s = $"ct state {(n ? "! " : "")}{string.Join(",", order.Where(st.Contains).Select(x => x.ToLowerInvariant()))}";
                    mods.Add((s, s)); continue;
                }
                case "--mark":
                {
                    var (v, m) = ValMask(V(), E);
                    if (curMod == "mark")
                    {
                        var s = m == 0xFFFFFFFF ? $"meta mark {(n ? "!= " : "")}0x{v:x8}" : $"meta mark & 0x{m:x8} {(n ? "!=" : "==")} 0x{v:x8}";
                        mods.Add((s, s)); continue;
                    }
                    if (curMod == "connmark")
                    {
                        var p = m == 0xFFFFFFFF ? $"ct mark {(n ? "!= " : "")}0x{v:x}" : $"ct mark and 0x{m:x} {(n ? "!=" : "==")} 0x{v:x}";
                        var e = m == 0xFFFFFFFF ? $"ct mark {(n ? "!= " : "")}0x{v:x}" : $"ct mark & 0x{m:x} {(n ? "!=" : "==")} 0x{v:x}";
                        mods.Add((p, e)); continue;
                    }
                    throw E(o, "option '--mark' needs -m mark or -m connmark");
                }
                case "--comment": if (curMod != "comment") throw E(o, "option '--comment' needs -m comment"); r.Comment = V(); continue;
                case "--helper":
                {
                    // iptables-nft translates -m helper natively: ct helper "NAME" (the master's helper; checked on 6.18)
                    if (curMod != "helper") throw E(o, "option '--helper' needs -m helper");
                    var s = $"ct helper {(n ? "!= " : "")}\"{V()}\"";
                    mods.Add((s, s)); continue;
                }
                case "--dst-type": case "--src-type":
                {
                    if (curMod != "addrtype") throw E(o, $"option '{o}' needs -m addrtype");
                    var ty = V().ToLowerInvariant();
                    var s = $"fib {(o == "--dst-type" ? "daddr" : "saddr")} type {(n ? "!= " : "")}{ty}";
                    mods.Add((s, s)); continue;
                }
                case "--limit-iface-in": case "--limit-iface-out":
                {
                    // fib ... . iif/oif: the evaluator checks "local" against the model's local addresses only
                    var idx = mods.FindLastIndex(x => x.P.StartsWith("fib "));
                    if (idx < 0) throw E(o, $"option '{o}' needs --src-type/--dst-type first");
                    var (p0, e0) = mods[idx]; var key = o.EndsWith("in") ? " . iif" : " . oif";
                    var fi = p0.IndexOf(" type", StringComparison.Ordinal);
                    mods[idx] = (p0[..fi] + key + p0[fi..], e0); continue;
                }
                case "--icmp-type": case "--icmpv6-type":
                {
                    if ((proto != 1 || v6) && o == "--icmp-type" || (proto != 58 || !v6) && o == "--icmpv6-type") throw E(o, $"option '{o}' needs -p {(v6 ? "icmpv6" : "icmp")}");
                    var val = V();
                    var (ty, code, name) = Icmp(val, v6, E);
                    string k = v6 ? "icmpv6" : "icmp";
                    if (ty < 0) { var s = $"{ipk} {(v6 ? "nexthdr" : "protocol")} {(v6 ? "ipv6-icmp" : "icmp")}"; mods.Add((s, $"meta l4proto {(v6 ? 58 : 1)}")); continue; }
                    if (code is null)
                    { var s = $"{k} type {(n ? "!= " : "")}{name ?? ty.ToString()}"; mods.Add((s, $"{k} type {(n ? "!= " : "")}{ty}")); continue; }
                    if (n) throw E(val, "negated icmp type with code is not supported");
                    mods.Add(($"xt match {k}", $"{k} type {ty} {k} code {code}")); continue;
                }
                case "--limit": case "--limit-burst":
                {
                    if (curMod != "limit") throw E(o, $"option '{o}' needs -m limit");
                    var v = V();
                    if (limitAt < 0) { limitAt = mods.Count; mods.Add(("", "")); }
                    if (o == "--limit-burst")
                    {
                        if (!uint.TryParse(v, out limitBurst) || limitBurst == 0) throw E(v, $"bad --limit-burst '{v}'");
                    }
                    else
                    {
                        var parts = v.Split('/'); var unit = parts.Length > 1 ? parts[1] switch { "s" or "sec" or "second" => "second", "m" or "min" or "minute" => "minute", "h" or "hour" => "hour", "d" or "day" => "day", _ => throw E(v, $"bad limit '{v}'") } : "second";
                        if (!uint.TryParse(parts[0], out var rate) || rate == 0) throw E(v, $"bad limit '{v}'");
                        limitRate = $"{rate}/{unit}";
                    }
                    // iptables-nft stores -m limit as nft's limit expression; nft prints a burst other than 5
                    var s = $"limit rate {limitRate}{(limitBurst != LimitStmt.DefaultPacketBurst ? $" burst {limitBurst} packets" : "")}";
                    mods[limitAt] = (s, s);
                    continue;
                }
                case "--mode":
                {
                    if (curMod != "statistic") throw E(o, "option '--mode' needs -m statistic");
                    var mode = V();
                    if (mode == "random")
                    {
                        double p = 0;
                        if (i + 2 < a.Count + 1 && i + 1 < a.Count && a[i + 1] == "--probability") { i++; var pv = V(); if (!double.TryParse(pv, NumberStyles.Float, CultureInfo.InvariantCulture, out p) || p < 0 || p > 1) throw E(pv, $"bad probability '{pv}'"); }
                        else throw E(mode, "--mode random needs --probability");
                        uint prob = (uint)Math.Round(p * 0x80000000, MidpointRounding.AwayFromZero);
                        var s = $"meta random & 2147483647 {(n ? ">=" : "<")} {prob}";
                        r.Customs.Add(new RandomStmt { Probability = prob, Negate = n }); // drawn from the replay's seed
                        mods.Add((s, Placeholder)); continue;
                    }
                    if (mode == "nth")
                    {
                        uint every = 0, packet = 0;
                        while (i + 2 < a.Count && a[i + 1] is "--every" or "--packet")
                        {
                            var k = a[++i]; var vv = a[++i];
                            if (!uint.TryParse(vv, out var x)) throw E(vv, $"bad {k} '{vv}'");
                            if (k == "--every") every = x; else packet = x;
                        }
                        if (every == 0 || packet >= every) throw E(mode, "--mode nth needs --every N (and --packet below N)");
                        var s = $"numgen inc mod {every} {(n ? "!= " : "")}{packet}";
                        // libxt_statistic stores every - 1 and starts the counter at (every - 1) - packet: with
                        // --every 2 --packet 0 the first packet matches (recorded: kube-proxy-clusterip)
                        r.Customs.Add(new NthStmt { EveryMinus1 = every - 1, Start = every - 1 - packet, Negate = n });
                        mods.Add((s, Placeholder)); continue;
                    }
                    throw E(mode, $"unknown statistic mode '{mode}'");
                }
            }
            throw E(o, $"unknown option '{o}'{(curMod.Length > 0 ? $" for match '{curMod}'" : "")}");
        }
        if (neg) throw E("!", "'!' not followed by an option");
        if (l4 is not null)
        {
            var s = string.Join(" ", new[] { l4.Sport, l4.Dport, l4.Flags }.Where(x => x is not null));
            var e = string.Join(" ", new[] { l4.Sport, l4.Dport, l4.FlagsEval }.Where(x => x is not null));
            mods[l4Index] = (s, e);
        }
        if (connbytes is not null) mods[connbytesIndex] = connbytes.Translate(E);
        foreach (var pd in physdevs)
            if (pd is { In: null, Out: null, IsIn: null, IsOut: null, IsBridged: null }) throw E("physdev", "PHYSDEV: no physdev option specified");
        if (r.Customs.OfType<SetMatch>().Any(s => s.Src.Length == 0)) throw E("set", "You must specify `--match-set' with proper arguments");
        if (connlabel is { Bit: < 0 }) throw E("connlabel", "connlabel: option \"--label\" must be specified");
        if (sctp is not null)
        {
            // iptables-nft writes SCTP ports as payload matches, but keeps the l4proto match before them
            var ports = string.Join(" ", new[] { sctp.Sport, sctp.Dport }.Where(x => x is not null));
            mods[sctpIndex] = (ports, ports);
        }
        // target
        if (target is not null) (verdictP, verdictE) = Target(r, target, isGoto, tOpts, v6, table, E, protoNeg ? null : proto, opt);
        // assemble: iif, oif, l4proto, saddr, daddr, matches, counter, target
        var P = new List<string>(); var Ev = new List<string>();
        if (iif is not null) { P.Add("iifname " + iif); Ev.Add("iifname " + iif); }
        if (oif is not null) { P.Add("oifname " + oif); Ev.Add("oifname " + oif); }
        if (proto is { } pr2)
        {
            bool elided = !protoNeg && l4 is not null && mods[l4Index].P.Length > 0;
            if (!elided) P.Add($"meta l4proto {(protoNeg ? "!= " : "")}{(ProtoNames.TryGetValue(pr2, out var pn2) ? pn2 : pr2.ToString())}");
            Ev.Add($"meta l4proto {(protoNeg ? "!= " : "")}{pr2}");
        }
        if (saddr is not null) { P.Add($"{ipk} saddr {saddr}"); Ev.Add($"{ipk} saddr {saddr}"); }
        if (daddr is not null) { P.Add($"{ipk} daddr {daddr}"); Ev.Add($"{ipk} daddr {daddr}"); }
        foreach (var (p, e) in mods) { if (p.Length > 0) P.Add(p); if (e.Length > 0) Ev.Add(e); }
        var (cp, cb) = ParseCounters(counters, E);
        P.Add($"counter packets {cp} bytes {cb}"); Ev.Add($"counter packets {cp} bytes {cb}");
        if (verdictP is not null) { P.Add(verdictP); Ev.Add(verdictE!); }
        r.Printed = string.Join(" ", P); r.Eval = string.Join(" ", Ev);
        if (deferred is not null) throw deferred;
    }

    private static bool TargetFlag(string o) => o is "--sack-perm" or "--timestamp" or "--ecn" or "--queue-bypass" or "--queue-cpu-fanout" or "--fail-open" or "--random" or "--persistent" or "--random-fully" or "--notrack" or "--save-mark" or "--restore-mark" or "--log-tcp-sequence" or "--log-tcp-options" or "--log-ip-options" or "--log-uid" or "--log-macdecode";

    private static (string, string) Target(IRule r, string t, bool isGoto, List<(string K, string? V, bool Neg)> o,
        bool v6, string table, Func<string, string, IptablesParseException> E, int? proto = null, IptablesLoadOptions? opt = null)
    {
        string? Get(string k, string? alt = null) => o.Find(x => x.K == k || x.K == alt).V;
        bool Has(string k) => o.Exists(x => x.K == k);
        void Only(params string[] ks) { foreach (var x in o) if (!ks.Contains(x.K)) throw E(x.K, $"unknown option '{x.K}' for target {t}"); }
        string Same(string s) => s;
        switch (t)
        {
            case "ACCEPT": Only(); return ("accept", "accept");
            case "DROP": Only(); return ("drop", "drop");
            case "RETURN": Only(); return ("return", "return");
            case "QUEUE": Only(); return ("queue num 0", "queue num 0");
            case "NFQUEUE":
            {
                // iptables-nft lists it as nft does: queue num N|A-B [bypass,fanout]; no listener is modelled, so
                // without bypass the packet is dropped (nf_queue -ESRCH) and with it the packet goes on
                Only("--queue-num", "--queue-balance", "--queue-bypass", "--queue-cpu-fanout", "--fail-open");
                string num = Get("--queue-balance") is { } bal ? bal.Replace(':', '-') : Get("--queue-num") ?? "0";
                foreach (var n in num.Split('-'))
                    if (!ushort.TryParse(n, out _)) throw E(num, $"NFQUEUE: bad queue number '{num}'");
                var flags = new List<string>();
                if (Has("--queue-bypass")) flags.Add("bypass");
                if (Has("--queue-cpu-fanout")) flags.Add("fanout");
                var txt = $"queue num {num}" + (flags.Count > 0 ? " " + string.Join(",", flags) : "");
                return (txt, txt);
            }
            case "REJECT":
            {
                Only("--reject-with");
                var w = Get("--reject-with");
                string? s = w switch
                {
                    null or "icmp-port-unreachable" or "port-unreach" or "icmp6-port-unreachable" => "",
                    "tcp-reset" or "tcp-rst" => "tcp reset",
                    "icmp-net-unreachable" or "net-unreach" => "icmp type net-unreachable",
                    "icmp-host-unreachable" or "host-unreach" => "icmp type host-unreachable",
                    "icmp-proto-unreachable" or "proto-unreach" => "icmp type prot-unreachable",
                    "icmp-net-prohibited" or "net-prohib" => "icmp type net-prohibited",
                    "icmp-host-prohibited" or "host-prohib" => "icmp type host-prohibited",
                    "icmp-admin-prohibited" or "admin-prohib" => "icmp type admin-prohibited",
                    "icmp6-no-route" or "no-route" => "icmpv6 type no-route",
                    "icmp6-adm-prohibited" or "adm-prohibited" => "icmpv6 type admin-prohibited",
                    "icmp6-addr-unreachable" or "addr-unreach" => "icmpv6 type addr-unreachable",
                    _ => null,
                };
                if (s is null || (v6 && s.StartsWith("icmp ")) || (!v6 && s.StartsWith("icmpv6"))) throw E(w!, $"unknown --reject-with '{w}'");
                if (table is not ("filter" or "mangle" or "security")) throw E(t, $"REJECT is not valid in table {table}");
                var txt = s.Length == 0 ? "reject" : "reject with " + s;
                return (txt, txt);
            }
            case "LOG":
            {
                Only("--log-prefix", "--log-level", "--log-tcp-sequence", "--log-tcp-options", "--log-ip-options", "--log-uid", "--log-macdecode");
                var sb = new StringBuilder("log"); var ev = new StringBuilder("log");
                if (Get("--log-prefix") is { } pf) { sb.Append($" prefix \"{pf}\""); ev.Append($" prefix \"{pf.Replace('"', '\'')}\""); }
                if (Get("--log-level") is { } lv)
                {
                    var names = new[] { "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug" };
                    int li = int.TryParse(lv, out var x) ? x : Array.IndexOf(names, lv switch { "warning" => "warn", "error" => "err", "panic" => "emerg", _ => lv });
                    if (li < 0 || li > 7) throw E(lv, $"unknown log level '{lv}'");
                    if (li != 4) { sb.Append($" level {names[li]}"); ev.Append($" level {names[li]}"); }
                }
                return (sb.ToString(), ev.ToString());
            }
            case "MARK": case "CONNMARK":
            {
                bool ct = t == "CONNMARK";
                string mk = ct ? "ct mark" : "meta mark", cur = ct ? "ct mark" : "mark";
                if (ct && Has("--save-mark")) { Only("--save-mark"); r.Customs.Add(new CopyMarkStmt { Save = true }); return ("ct mark set mark", Placeholder); }
                if (ct && Has("--restore-mark")) { Only("--restore-mark"); r.Customs.Add(new CopyMarkStmt { Save = false }); return ("meta mark set ct mark", Placeholder); }
                Only("--set-mark", "--set-xmark", "--or-mark", "--and-mark", "--xor-mark");
                if (o.Count != 1) throw E(t, $"{t} needs exactly one of --set-mark/--set-xmark/--or-mark/--and-mark/--xor-mark");
                var (k, v, _) = o[0];
                var (val, mask) = ValMask(v!, E);
                uint mark, msk;
                switch (k)
                {
                    case "--set-mark": mark = val; msk = val | mask; break;
                    case "--set-xmark": mark = val; msk = mask; break;
                    case "--or-mark": mark = val; msk = val; break;
                    case "--and-mark": mark = 0; msk = ~val; break;
                    default: mark = val; msk = 0; break;
                }
                string p = mark == 0 ? $"{mk} set {cur} and 0x{~msk:x}"
                    : mark == msk ? $"{mk} set {cur} or 0x{mark:x}"
                    : msk == 0 ? $"{mk} set {cur} xor 0x{mark:x}"
                    : msk == 0xFFFFFFFF ? $"{mk} set 0x{mark:x}"
                    : $"{mk} set {cur} and 0x{~msk:x} xor 0x{mark:x}";
                if (msk == 0xFFFFFFFF) return (p, $"{mk} set 0x{mark:x}");
                r.Customs.Add(new XmarkStmt { Ct = ct, Value = mark, Mask = msk });
                return (p, Placeholder);
            }
            case "CLASSIFY":
            {
                // xt_CLASSIFY: skb->priority = the class; libxt_CLASSIFY reads MAJOR:MINOR in hex, xt_CLASSIFY registers for mangle only
                Only("--set-class");
                var cls = Get("--set-class") ?? throw E(t, "CLASSIFY needs --set-class MAJOR:MINOR");
                if (cls.StartsWith(':') || cls.EndsWith(':') || NftType.TcHandle(cls) is not { } h || cls is "none" or "root") throw E(cls, $"bad class '{cls}' (MAJOR:MINOR in hex)");
                if (table != "mangle") throw E(t, "CLASSIFY is only valid in table mangle");
                var s = $"meta priority set {NftType.TcHandleText(h)}";
                return (s, s);
            }
            case "MASQUERADE": case "REDIRECT":
            {
                Only("--to-ports", "--random", "--random-fully");
                if (table != "nat") throw E(t, $"{t} is only valid in table nat");
                var kw = t.ToLowerInvariant();
                var ports = Get("--to-ports");
                var s = kw + (ports is null ? "" : " to :" + ports.Replace(':', '-')) + Flags(o);
                return (s, s);
            }
            case "SNAT": case "DNAT":
            {
                Only(t == "SNAT" ? "--to-source" : "--to-destination", "--to", "--random", "--persistent", "--random-fully");
                if (table != "nat") throw E(t, $"{t} is only valid in table nat");
                var to = Get(t == "SNAT" ? "--to-source" : "--to-destination", "--to") ?? throw E(t, $"{t} needs {(t == "SNAT" ? "--to-source" : "--to-destination")}");
                string addr = to, port = "";
                if (v6) { if (to.StartsWith('[')) { int rb = to.IndexOf(']'); addr = to[1..rb]; port = to[(rb + 1)..].TrimStart(':'); } }
                else { int c = to.IndexOf(':'); if (c >= 0) { addr = to[..c]; port = to[(c + 1)..]; } }
                if (addr.Length == 0) throw E(to, $"{t} needs an address in '{to}'");
                NatTo(addr, port, v6, E);
                var txt = $"{t.ToLowerInvariant()} to {(v6 && port.Length > 0 ? $"[{addr}]" : addr)}{(port.Length > 0 ? ":" + port.Replace(':', '-') : "")}{Flags(o)}";
                return (txt, txt);
            }
            case "TPROXY":
            {
                Only("--on-port", "--on-ip", "--tproxy-mark");
                if (table != "mangle") throw E(t, "TPROXY is only valid in table mangle");
                var tp = new TproxyTargetStmt();
                if (Get("--on-port") is { } port && (!ushort.TryParse(port, out tp.Port))) throw E(port, $"bad --on-port '{port}'");
                if (Get("--on-ip") is { } ip)
                {
                    if (!PktFlow.Wire.IpAddr.TryParse(ip, out var a) || a.IsV6 != v6) throw E(ip, $"bad --on-ip '{ip}'");
                    tp.Address = a;
                }
                if (Get("--tproxy-mark") is { } mk) (tp.Value, tp.Mask) = ValMask(mk, E);
                if (!proto.HasValue || proto is not (6 or 17)) throw E(t, "TPROXY can be used only with -p tcp or -p udp");
                r.Customs.Add(tp);
                // a compat target: nft lists it `xt target TPROXY`
                return ("xt target TPROXY", Placeholder);
            }
            case "SYNPROXY":
            {
                // ipt_SYNPROXY / ip6t_SYNPROXY: -p tcp only (synproxy_tg4_check); iptables-nft keeps it as an xt
                // target, which nft lists in xt's own order: sack-perm timestamp wscale N mss N ecn
                Only("--sack-perm", "--timestamp", "--wscale", "--mss", "--ecn");
                if (proto != 6) throw E(t, "SYNPROXY: RULE_APPEND failed (Invalid argument): the target needs -p tcp");
                var words = new List<string>();
                var options = SynproxyOptions.None;
                byte wscale = 0; ushort mssValue = 0;
                if (Has("--sack-perm")) { words.Add("sack-perm"); options |= SynproxyOptions.SackPerm; }
                if (Has("--timestamp")) { words.Add("timestamp"); options |= SynproxyOptions.Timestamp; }
                if (Get("--wscale") is { } ws) { if (!byte.TryParse(ws, out wscale)) throw E(ws, $"SYNPROXY: bad --wscale '{ws}'"); words.Add($"wscale {ws}"); options |= SynproxyOptions.Wscale; }
                if (Get("--mss") is { } mss) { if (!ushort.TryParse(mss, out mssValue)) throw E(mss, $"SYNPROXY: bad --mss '{mss}'"); words.Add($"mss {mss}"); options |= SynproxyOptions.Mss; }
                if (Has("--ecn")) { words.Add("ecn"); options |= SynproxyOptions.Ecn; }
                // xt's own flag test (synproxy_tg4 / synproxy_tg6), not nft's statement
                r.Customs.Add(new SynproxyStmt { Info = new SynproxyInfo(options, mssValue, wscale) { Xt = true }, Xt = true });
                return (string.Join(" ", words.Prepend("synproxy")), Placeholder);
            }
            case "NOTRACK": Only(); if (table != "raw") throw E(t, "NOTRACK is only valid in table raw"); return ("notrack", "notrack");
            case "CT":
                if (table != "raw") throw E(t, "CT is only valid in table raw");
                return CtTarget(r, t, o, v6, proto, opt, E);
        }
        foreach (var x in o) throw E(x.K, $"unknown option '{x.K}' for jump to chain {t}");
        var j = (isGoto ? "goto " : "jump ") + t;
        r.JumpTarget = t;
        return (Same(j), j);

        // libxt_NAT's parse_to: addresses without a prefix, of the table's family, a port range low-high
        static void NatTo(string addr, string port, bool v6, Func<string, string, IptablesParseException> E)
        {
            var ends = addr.Split('-');
            var ips = new PktFlow.Wire.IpAddr[ends.Length];
            for (int i = 0; i < ends.Length; i++)
                if (ends.Length > 2 || !PktFlow.Wire.IpAddr.TryParse(ends[i], out ips[i]) || ips[i].IsV6 != v6 || ends[i].Contains('/'))
                    throw E(addr, $"Bad IP address \"{(ends.Length > 2 ? addr : ends[i])}\"");
            // iptables loads it; the kernel's find_best_ips_proto then picks from a range that wraps around
            if (ips.Length == 2 && ips[0].CompareTo(ips[1]) > 0) throw E(addr, $"unsupported: a reversed address range '{addr}'");
            if (port.Split(new[] { '-', ':' }) is [var lo, var hi] && ushort.TryParse(lo, out var a) && ushort.TryParse(hi, out var b) && b < a)
                throw E(port, $"Port range `{hi}' funky");
        }

        static string Flags(List<(string K, string? V, bool Neg)> o) =>
            (o.Exists(x => x.K == "--random") ? " random" : "") + (o.Exists(x => x.K == "--random-fully") ? " fully-random" : "") + (o.Exists(x => x.K == "--persistent") ? " persistent" : "");
    }

    // ---------------------------------------------------------------- helpers
    private static (long, long) ParseCounters(string? c, Func<string, string, IptablesParseException> E)
    {
        if (c is null) return (0, 0);
        var p = c.Trim('[', ']').Split(':');
        if (p.Length != 2 || !long.TryParse(p[0], out var a) || !long.TryParse(p[1], out var b)) throw E(c, $"bad counters '{c}'");
        return (a, b);
    }

    private static string Ifname(string v) => "\"" + (v.EndsWith('+') ? v[..^1] + "*" : v) + "\"";

    private static string Addr(string v, bool v6, Func<string, string, IptablesParseException> E)
    {
        if (v.Contains(',')) throw E(v, $"multiple addresses '{v}' are not supported (iptables expands them into several rules)");
        var s = v.Split('/');
        if (!IPAddress.TryParse(s[0], out var ip) || (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6) != v6)
            throw E(v, $"host/network '{s[0]}' not found");
        int max = v6 ? 128 : 32, bits = max;
        if (s.Length > 1)
        {
            if (int.TryParse(s[1], out var b) && b >= 0 && b <= max) bits = b;
            else if (!v6 && IPAddress.TryParse(s[1], out var m))
            {
                uint mv = (uint)IPAddress.NetworkToHostOrder(BitConverter.ToInt32(m.GetAddressBytes(), 0));
                bits = System.Numerics.BitOperations.PopCount(mv);
                if (bits != 32 && mv != ~((1u << (32 - bits)) - 1) || bits == 32 && mv != 0xFFFFFFFF) throw E(v, $"non-contiguous mask in '{v}'");
            }
            else throw E(v, $"invalid mask '{s[1]}'");
        }
        var bytes = ip.GetAddressBytes();
        for (int i = 0; i < bytes.Length; i++)
        {
            int keep = Math.Clamp(bits - i * 8, 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }
        var a = new IPAddress(bytes).ToString();
        return bits == max ? a : $"{a}/{bits}";
    }

    private static string PortRange(string v, Func<string, string, IptablesParseException> E)
    {
        var p = v.Split(':');
        int Port(string x, int dflt) => x.Length == 0 ? dflt : int.TryParse(x, out var n) && n is >= 0 and <= 65535 ? n : throw E(v, $"invalid port '{v}'");
        if (p.Length == 1) return Port(p[0], -1).ToString();
        if (p.Length != 2) throw E(v, $"invalid port range '{v}'");
        int lo = Port(p[0], 0), hi = Port(p[1], 65535);
        if (lo > hi) throw E(v, $"invalid port range '{v}'");
        return lo == hi ? lo.ToString() : $"{lo}-{hi}";
    }

    private static string Flags(string v, Func<string, string, IptablesParseException> E)
    {
        var order = new[] { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };
        var names = new[] { "fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr" };
        var set = v.ToUpperInvariant().Split(',').ToHashSet();
        if (set.Contains("NONE")) return "";
        if (set.Contains("ALL")) set = order.ToHashSet();
        foreach (var f in set) if (!order.Contains(f)) throw E(f, $"unknown TCP flag '{f}'");
        return string.Join(",", order.Select((f, i) => set.Contains(f) ? names[i] : null).Where(x => x is not null));
    }

    private static (uint, uint) ValMask(string v, Func<string, string, IptablesParseException> E)
    {
        var p = v.Split('/');
        uint N(string x) => x.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? (uint.TryParse(x[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var h) ? h : throw E(v, $"bad value '{v}'"))
            : (uint.TryParse(x, out var d) ? d : throw E(v, $"bad value '{v}'"));
        return (N(p[0]), p.Length > 1 ? N(p[1]) : 0xFFFFFFFF);
    }

    private static readonly Dictionary<string, (int T, int? C)> Icmp4 = new()
    {
        ["any"] = (-1, null), ["echo-reply"] = (0, null), ["pong"] = (0, null), ["destination-unreachable"] = (3, null),
        ["network-unreachable"] = (3, 0), ["host-unreachable"] = (3, 1), ["protocol-unreachable"] = (3, 2), ["port-unreachable"] = (3, 3),
        ["fragmentation-needed"] = (3, 4), ["source-route-failed"] = (3, 5), ["network-unknown"] = (3, 6), ["host-unknown"] = (3, 7),
        ["network-prohibited"] = (3, 9), ["host-prohibited"] = (3, 10), ["communication-prohibited"] = (3, 13),
        ["source-quench"] = (4, null), ["redirect"] = (5, null), ["echo-request"] = (8, null), ["ping"] = (8, null),
        ["router-advertisement"] = (9, null), ["router-solicitation"] = (10, null), ["time-exceeded"] = (11, null), ["ttl-exceeded"] = (11, null),
        ["ttl-zero-during-transit"] = (11, 0), ["ttl-zero-during-reassembly"] = (11, 1), ["parameter-problem"] = (12, null),
        ["timestamp-request"] = (13, null), ["timestamp-reply"] = (14, null), ["address-mask-request"] = (17, null), ["address-mask-reply"] = (18, null),
    };
    private static readonly Dictionary<string, (int T, int? C)> Icmp6 = new()
    {
        ["destination-unreachable"] = (1, null), ["no-route"] = (1, 0), ["communication-prohibited"] = (1, 1), ["address-unreachable"] = (1, 3),
        ["port-unreachable"] = (1, 4), ["packet-too-big"] = (2, null), ["time-exceeded"] = (3, null), ["ttl-exceeded"] = (3, null),
        ["parameter-problem"] = (4, null), ["echo-request"] = (128, null), ["ping"] = (128, null), ["echo-reply"] = (129, null), ["pong"] = (129, null),
        ["router-solicitation"] = (133, null), ["router-advertisement"] = (134, null), ["neighbour-solicitation"] = (135, null), ["neighbor-solicitation"] = (135, null),
        ["neighbour-advertisement"] = (136, null), ["neighbor-advertisement"] = (136, null), ["redirect"] = (137, null),
    };
    private static readonly Dictionary<int, string> Icmp4Names = new() { [0] = "echo-reply", [3] = "destination-unreachable", [4] = "source-quench", [5] = "redirect", [8] = "echo-request", [9] = "router-advertisement", [10] = "router-solicitation", [11] = "time-exceeded", [12] = "parameter-problem", [13] = "timestamp-request", [14] = "timestamp-reply", [15] = "info-request", [16] = "info-reply", [17] = "address-mask-request", [18] = "address-mask-reply" };
    private static readonly Dictionary<int, string> Icmp6Names = new() { [1] = "destination-unreachable", [2] = "packet-too-big", [3] = "time-exceeded", [4] = "parameter-problem", [128] = "echo-request", [129] = "echo-reply", [133] = "nd-router-solicit", [134] = "nd-router-advert", [135] = "nd-neighbor-solicit", [136] = "nd-neighbor-advert", [137] = "nd-redirect" };

    /// <summary>An ICMP type name or TYPE/CODE as a (type, code) pair (code 0 when the name has none); null when unknown.</summary>
    internal static (int Type, int Code)? IcmpTypeCode(string v, bool v6)
    {
        try { var (t, c, _) = Icmp(v, v6, (tok, msg) => new IptablesParseException("", 0, tok, msg)); return t < 0 ? null : (t, c ?? 0); }
        catch (IptablesParseException) { return null; }
    }

    /// <summary>A protocol name iptables knows, as its number.</summary>
    internal static byte? ProtocolNumber(string name) => ProtoNums.TryGetValue(name, out var n) ? (byte)n : null;

    private static (int Type, int? Code, string? Name) Icmp(string v, bool v6, Func<string, string, IptablesParseException> E)
    {
        int t; int? c = null;
        if ((v6 ? Icmp6 : Icmp4).TryGetValue(v.ToLowerInvariant(), out var tc)) (t, c) = tc;
        else
        {
            var p = v.Split('/');
            if (!int.TryParse(p[0], out t) || t is < 0 or > 255) throw E(v, $"unknown icmp type '{v}'");
            if (p.Length > 1) c = int.TryParse(p[1], out var cc) && cc is >= 0 and <= 255 ? cc : throw E(v, $"unknown icmp type '{v}'");
        }
        if (t < 0) return (t, null, null);
        return (t, c, (v6 ? Icmp6Names : Icmp4Names).GetValueOrDefault(t));
    }
}
