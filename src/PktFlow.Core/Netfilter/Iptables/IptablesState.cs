using PktFlow.Netfilter.Nftables;

namespace PktFlow.Netfilter.Iptables;

/// <summary>
/// The iptables configuration of one namespace and family as a lab script builds it: iptables-restore
/// input and single iptables commands (-A -I -D -P -N -F -X) in script order, stored as iptables-nft
/// 1.8.9 stores them. Checked with iptables v1.8.9 (nf_tables) in a namespace: a table and each
/// built-in chain appear when first used, chains and rules share the table's handle counter, an
/// inserted rule gets the next handle wherever it lands, handles of deleted rules are not reused.
/// </summary>
public sealed class IptablesState
{
    private readonly bool _v6;
    private readonly List<IptablesRestore.ITable> _tables = new();
    private readonly IptablesLoadOptions _options;
    private readonly List<string> _notes = new();
    private string _file = "";

    public IptablesState(bool ipv6, IptablesLoadOptions? options = null)
    {
        _v6 = ipv6;
        _options = options ?? new IptablesLoadOptions { AllowUnsupported = true };
        _options.IpSets?.Referrers.Add(ReferencedSets);
    }

    /// <summary>The ipsets the current rules' -m set matches hold (released when a rule goes).</summary>
    private IEnumerable<Ipset.IpSet> ReferencedSets() =>
        _tables.SelectMany(t => t.Chains).SelectMany(c => c.Rules).SelectMany(r => r.Customs).OfType<SetMatch>().Select(m => m.Set);

    public string Command => _v6 ? "ip6tables" : "iptables";
    public bool IsEmpty => _tables.Count == 0 && _deletedNat.Count == 0;

    /// <summary>Where the model had to approximate iptables-nft (handles after a restore that replaced commands' tables).</summary>
    public IReadOnlyList<string> Notes => _notes;

    /// <summary>iptables-restore [--noflush]: every table in the input replaces (or, with noflush, extends) the one the namespace has.</summary>
    public void Restore(string text, string file, int firstLine, bool noflush)
    {
        _file = file;
        List<IptablesRestore.ITable> parsed;
        try { parsed = IptablesRestore.ParseFile(text, file, _v6, _options); }
        catch (IptablesParseException e)
        {
            throw new IptablesParseException(file, firstLine + e.Line - 1, e.Token, e.Bare);
        }
        foreach (var t in parsed)
        {
            foreach (var r in t.Chains.SelectMany(c => c.Rules))
            {
                r.Line += firstLine - 1; r.File = file;
                // a rule kept with a load error (AllowUnsupported) names its line in the lab, as a refusal would
                if (r.Error is { } err && err.StartsWith(file + ":", StringComparison.Ordinal) && err.IndexOf(": ", file.Length, StringComparison.Ordinal) is var k and > 0)
                    r.Error = $"{file}:{r.Line}: {err[(k + 2)..]}";
            }
            var old = _tables.Find(x => x.Name == t.Name);
            if (old is null)
            {
                foreach (var c in t.Chains) Register(c);
                _tables.Add(t);
                continue;
            }
            _notes.Add($"{file}:{firstLine}: {Command}-restore{(noflush ? " --noflush" : "")} on table {t.Name} after earlier commands: rule handles are the model's estimate");
            var replaced = noflush ? new List<IptablesRestore.IChain>() : old.Chains.ToList();
            if (!noflush) old.Chains.Clear();
            foreach (var c in t.Chains)
            {
                var into = old.Chains.Find(x => x.Name == c.Name);
                if (into is null)
                {
                    // without --noflush iptables-nft-restore deletes the table and adds it again: every base chain
                    // is registered anew (after an nft chain of equal priority registered meanwhile; 6.18)
                    into = new IptablesRestore.IChain { Name = c.Name, Handle = ++old.Counter, Hook = c.Hook, Type = c.Type, Prio = c.Prio, PrioText = c.PrioText };
                    Register(into);
                    old.Chains.Add(into);
                }
                if (!c.Implicit) into.PolicyDrop = c.PolicyDrop; // a chain only a rule named keeps its policy
            }
            ReleasedAtCommit(replaced);
            foreach (var c in t.Chains)
                foreach (var r in c.Rules)
                {
                    r.Handle = ++old.Counter;
                    old.Chains.Find(x => x.Name == c.Name)!.Rules.Add(r);
                }
        }
    }

    /// <summary>One iptables command line (the words after the program name).</summary>
    public void Apply(IReadOnlyList<string> words, string file, int line)
    {
        _file = file;
        IptablesParseException E(string token, string message) => new(file, line, token, message);
        string table = "filter";
        string? op = null;
        var operands = new List<string>();
        var spec = new List<string>();
        for (int i = 0; i < words.Count; i++)
        {
            var w = words[i];
            switch (w)
            {
                case "-t" or "--table":
                    table = i + 1 < words.Count ? words[++i] : throw E(w, "-t needs a table name");
                    if (table is not ("filter" or "nat" or "mangle" or "raw" or "security")) throw E(table, $"unknown table '{table}'");
                    break;
                case "-w" or "--wait":
                    if (i + 1 < words.Count && int.TryParse(words[i + 1], out _)) i++;
                    break;
                case "-W" or "--wait-interval":
                    i++;
                    break;
                case "-v" or "--verbose" or "-n" or "--numeric" or "-x" or "--exact" or "--line-numbers":
                    break;
                case "-A" or "--append" or "-I" or "--insert" or "-D" or "--delete" or "-P" or "--policy" or "-N" or "--new-chain"
                    or "-F" or "--flush" or "-X" or "--delete-chain" or "-Z" or "--zero" or "-L" or "--list" or "-S" or "--list-rules"
                    or "-C" or "--check" or "-E" or "--rename-chain":
                    if (op is not null) throw E(w, $"only one command per line ({op} and {w})");
                    op = w;
                    // the chain (and for -I a position, for -P a target, for -E a new name) follow the command
                    while (i + 1 < words.Count && !words[i + 1].StartsWith('-') && operands.Count < 2) operands.Add(words[++i]);
                    break;
                default:
                    spec.Add(w);
                    break;
            }
        }
        if (op is null) throw E(words.Count > 0 ? words[0] : Command, $"{Command}: no command (-A, -I, -D, -P, -N, -F, -X)");
        switch (op)
        {
            case "-L" or "--list" or "-S" or "--list-rules" or "-C" or "--check" or "-Z" or "--zero":
                return; // reads or zeroes counters: no change to the rules
            case "-E" or "--rename-chain":
                Rename(_tables.Find(x => x.Name == table), operands, spec, op, E);
                return;
        }
        string chainName = operands.Count > 0 ? operands[0] : op is "-F" or "--flush" or "-X" or "--delete-chain" ? "" : throw E(op, $"{op} needs a chain");
        var t = _tables.Find(x => x.Name == table);
        switch (op)
        {
            case "-N" or "--new-chain":
            {
                t ??= NewTable(table);
                if (t.Chains.Exists(c => c.Name == chainName)) throw E(chainName, $"chain '{chainName}' already exists");
                if (IptablesRestore.BaseChains4.ContainsKey($"{table}/{chainName}")) throw E(chainName, $"'{chainName}' is a built-in chain of table {table}");
                t.Chains.Add(new IptablesRestore.IChain { Name = chainName, Handle = ++t.Counter });
                return;
            }
            case "-P" or "--policy":
            {
                var policy = operands.Count > 1 ? operands[1] : throw E(op, "-P needs a chain and a policy");
                var c = Chain(t ??= NewTable(table), chainName, builtInOnly: true, E);
                if (policy is not ("ACCEPT" or "DROP")) throw E(policy, $"bad policy '{policy}'");
                if (policy == "DROP" && table == "nat") throw E(policy, "nat chains cannot have policy DROP");
                c.PolicyDrop = policy == "DROP";
                return;
            }
            case "-F" or "--flush":
                if (t is null) return;
                foreach (var c in t.Chains.Where(c => chainName.Length == 0 || c.Name == chainName)) c.Rules.Clear();
                if (chainName.Length > 0 && !t.Chains.Exists(c => c.Name == chainName)) throw E(chainName, $"chain '{chainName}' does not exist");
                return;
            case "-X" or "--delete-chain":
            {
                if (t is null) { if (chainName.Length > 0) throw E(chainName, $"chain '{chainName}' does not exist"); return; }
                // without a name iptables-nft 1.8.9 also deletes the built-in chains that are empty with policy
                // ACCEPT (their hooks go; a later command registers them anew); checked on 6.18
                var doomed = t.Chains.Where(c => chainName.Length == 0 ? c.Hook is null || c.Rules.Count == 0 && !c.PolicyDrop : c.Hook is null && c.Name == chainName).ToList();
                if (chainName.Length > 0 && doomed.Count == 0) throw E(chainName, $"chain '{chainName}' does not exist or is built in");
                foreach (var c in doomed)
                {
                    if (c.Rules.Count > 0) throw E(c.Name, $"chain '{c.Name}' is not empty");
                    if (t.Chains.SelectMany(x => x.Rules).Any(r => Targets(r.Source).Contains(c.Name))) throw E(c.Name, $"chain '{c.Name}' is still referenced");
                    t.Chains.Remove(c);
                    if (c.Type == "nat" && c.Hook is not null && c.Registration > 0) _deletedNat.Add((c, _options.NextRegistration!()));
                }
                return;
            }
            case "-D" or "--delete":
            {
                var c = t?.Chains.Find(x => x.Name == chainName) ?? throw E(chainName, $"chain '{chainName}' does not exist");
                if (operands.Count > 1)
                {
                    if (!int.TryParse(operands[1], out var n) || n < 1 || n > c.Rules.Count) throw E(operands[1], $"{chainName} has no rule {operands[1]}");
                    c.Rules.RemoveAt(n - 1);
                    return;
                }
                var text = string.Join(' ', spec);
                var at = c.Rules.FindIndex(r => r.Source == text);
                if (at < 0) throw E(text, $"no rule '{text}' in {chainName} (does a matching rule exist in that chain?)");
                c.Rules.RemoveAt(at);
                return;
            }
            default: // -A, -I
            {
                t ??= NewTable(table);
                var c = Chain(t, chainName, builtInOnly: false, E);
                int position = c.Rules.Count;
                if (op is "-I" or "--insert")
                {
                    position = 0;
                    if (operands.Count > 1)
                    {
                        if (!int.TryParse(operands[1], out var n) || n < 1 || n > c.Rules.Count + 1) throw E(operands[1], $"index of insertion too big or not a number: {operands[1]}");
                        position = n - 1;
                    }
                }
                foreach (var target in Targets(spec))
                    if (!IptablesRestore.Targets.Contains(target) && !t.Chains.Exists(x => x.Name == target))
                        throw E(target, $"unknown target or chain '{target}' (create a chain with -N first)");
                var r = new IptablesRestore.IRule { Line = line, File = file, Source = string.Join(' ', spec) };
                try { IptablesRestore.Translate(r, spec, _v6, table, null, _options, E); }
                catch (IptablesParseException ex) when (ex.Refused) { throw ex.At(E); }
                catch (IptablesParseException ex) { if (!_options.AllowUnsupported) throw; r.Error = ex.Message; r.ErrorToken = ex.Token; }
                r.Handle = ++t.Counter;
                c.Rules.Insert(position, r);
                return;
            }
        }
    }

    /// <summary>
    /// -E OLD NEW as iptables-nft 1.8.9 does it (checked on 6.18): the kernel renames the chain in place, so it
    /// keeps its handle, rules, place in the list and, for a built-in chain, its hook and registration (a
    /// later -A INPUT then makes a new INPUT chain, registered anew; iptables-save no longer shows the
    /// renamed one); a jump or goto to it names the new chain. No handle is used.
    /// </summary>
    private static void Rename(IptablesRestore.ITable? t, List<string> operands, List<string> spec, string op, Func<string, string, IptablesParseException> E)
    {
        if (operands.Count < 2) throw E(op, $"{op} requires old-chain-name and new-chain-name");
        if (spec.Count > 0) throw E(spec[0], $"Bad argument `{spec[0]}'");
        var (from, to) = (operands[0], operands[1]);
        var c = t?.Chains.Find(x => x.Name == from) ?? throw E(from, $"iptables: No chain/target/match by that name ({from})");
        if (IptablesRestore.Targets.Contains(to)) throw E(to, $"iptables: No chain/target/match by that name ('{to}' is a target)");
        if (t!.Chains.Exists(x => x.Name == to)) throw E(to, $"iptables: File exists ({to})");
        c.Name = to;
        // by the rule's own words, so a rule kept with a load error (no JumpTarget) follows the rename too
        foreach (var r in t.Chains.SelectMany(x => x.Rules))
        {
            if (!Targets(r.Source).Contains(from)) continue;
            if (r.JumpTarget == from) r.JumpTarget = to;
            r.Printed = Retarget(r.Printed, from, to);
            r.Eval = Retarget(r.Eval, from, to);
            var words = r.Source.Split(' ');
            for (int i = 0; i + 1 < words.Length; i++)
                if (IsJump(words[i]) && words[i + 1] == from) words[i + 1] = to;
            r.Source = string.Join(' ', words);
        }
    }

    // the verdict comes before a comment in nft's text, so the first "jump OLD" is the rule's own
    private static string Retarget(string text, string from, string to)
    {
        foreach (var verb in new[] { "jump ", "goto " })
            for (int at = text.IndexOf(verb + from, StringComparison.Ordinal); at >= 0; at = text.IndexOf(verb + from, at + 1, StringComparison.Ordinal))
            {
                // "jump OLD-X" names another chain: look on for the bounded one
                int end = at + verb.Length + from.Length;
                if ((at == 0 || text[at - 1] == ' ') && (end == text.Length || text[end] == ' '))
                    return text[..(at + verb.Length)] + to + text[end..];
            }
        return text;
    }

    /// <summary>
    /// The old table's nat chains of a restore that replaced it: iptables-nft-restore deletes the table and adds it
    /// again in one batch, and nf_tables_commit unregisters the old hooks only after the new chains registered
    /// theirs, so the nat core is never left without a user and keeps its place (checked on 6.18: a filter chain
    /// at -100 registered between the first nat rule and the restore still sees the packet before DNAT).
    /// </summary>
    private void ReleasedAtCommit(IEnumerable<IptablesRestore.IChain> replaced)
    {
        var nat = replaced.Where(c => c.Type == "nat" && c.Hook is not null && c.Registration > 0).ToList();
        if (nat.Count == 0 || _options.NextRegistration is null) return;
        int commit = _options.NextRegistration();
        foreach (var c in nat) _deletedNat.Add((c, commit));
    }

    /// <summary>
    /// <c>nft flush table ip filter</c> / <c>nft flush chain ip filter INPUT</c> on a table iptables-nft made: the
    /// rules go, the chains and their policies stay (measured on 6.18: scenario ipt-nft-nft-flush). False when
    /// there is no such table or chain here.
    /// </summary>
    public bool Flush(string table, string? chain)
    {
        var t = _tables.Find(x => x.Name == table);
        if (t is null || chain is not null && !t.Chains.Exists(c => c.Name == chain)) return false;
        foreach (var c in t.Chains.Where(c => chain is null || c.Name == chain)) c.Rules.Clear();
        return true;
    }

    /// <summary>The names of the tables iptables-nft made here.</summary>
    public IReadOnlyList<string> TableNames => _tables.Select(t => t.Name).ToList();

    /// <summary>`nft delete table` of one of its tables: the table goes, and its nat chains' hooks now; false when there is none.</summary>
    public bool DeleteTable(string name)
    {
        var t = _tables.Find(x => x.Name == name);
        if (t is null) return false;
        _tables.Remove(t);
        ReleasedAtCommit(t.Chains); // its own commit: the hooks go now
        return true;
    }

    /// <summary>The tables as the evaluator's ruleset, with the nat chains -X deleted (for where the nat core is).</summary>
    public NftRuleset Build()
    {
        var rs = IptablesRestore.Build(_tables, _file, _v6, _options);
        rs.AddDeletedNatChains(_deletedNat.Select(d => DeletedChain(d.Chain, d.Unregistration)));
        return rs;
    }

    /// <summary>Built-in nat chains -X deleted, with the tick of the lab's clock when their hooks went: the nat core
    /// one of them registered stays while another nat chain, iptables' or nft's, remains (checked on 6.18:
    /// scenario ipt-nft-nat-core-kept).</summary>
    private readonly List<(IptablesRestore.IChain Chain, int Unregistration)> _deletedNat = new();

    private NftChain DeletedChain(IptablesRestore.IChain c, int unregistration) => new()
    {
        Table = new NftTable { Family = _v6 ? NftFamily.Ip6 : NftFamily.Ip, Name = "nat" },
        Name = c.Name, Hook = NftNames.ParseHook(c.Hook!), Type = c.Type, Priority = c.Prio,
        // stamps order them among the lab's commands; the orders only within one stamp, where each is alone
        RegistrationOrder = 1, LoadStamp = c.Registration, UnregistrationOrder = 1, UnloadStamp = unregistration,
    };

    private IptablesRestore.ITable NewTable(string name)
    {
        var t = new IptablesRestore.ITable { Name = name };
        _tables.Add(t);
        return t;
    }

    /// <summary>A built-in chain's hook is registered now (chains of iptables-nft 1.8.9 appear one by one, when a
    /// command first names them, not with their table).</summary>
    private void Register(IptablesRestore.IChain c)
    {
        if (c.Hook is not null) c.Registration = _options.NextRegistration?.Invoke() ?? 0;
    }

    // a built-in chain exists once a command names it (iptables-nft creates it on demand)
    private IptablesRestore.IChain Chain(IptablesRestore.ITable t, string name, bool builtInOnly, Func<string, string, IptablesParseException> E)
    {
        var c = t.Chains.Find(x => x.Name == name);
        if (c is not null)
        {
            if (builtInOnly && c.Hook is null) throw E(name, $"'{name}' is not a built-in chain: it has no policy");
            return c;
        }
        if (!IptablesRestore.BaseChains4.TryGetValue($"{t.Name}/{name}", out var b))
            throw E(name, builtInOnly ? $"'{name}' is not a built-in chain of table {t.Name}" : $"chain '{name}' does not exist in table {t.Name} (create it with -N)");
        c = new IptablesRestore.IChain { Name = name, Handle = ++t.Counter };
        (c.Hook, c.Type, c.Prio, c.PrioText) = b;
        Register(c);
        t.Chains.Add(c);
        return c;
    }

    private static IEnumerable<string> Targets(IReadOnlyList<string> spec)
    {
        for (int i = 0; i + 1 < spec.Count; i++)
            if (IsJump(spec[i])) yield return spec[i + 1];
    }

    private static bool IsJump(string word) => word is "-j" or "--jump" or "-g" or "--goto";

    private static IEnumerable<string> Targets(string source) => Targets(source.Split(' '));
}
