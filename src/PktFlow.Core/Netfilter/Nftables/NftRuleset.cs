namespace PktFlow.Netfilter.Nftables;

/// <summary>A loaded nftables ruleset: tables, chains, sets and compiled rules.</summary>
public sealed class NftRuleset
{
    private readonly List<NftTable> _tables;
    /// <summary>Deleted nat base chains with when they went (<see cref="NftChain.UnregistrationOrder"/>): one of them may
    /// have registered the nat core that other nat chains still hold (<see cref="NatCoreRegistration"/>).</summary>
    private readonly List<NftChain> _deletedNatChains;
    private NftRuleset(List<NftTable> tables, List<NftChain>? deletedNatChains = null)
    {
        _tables = tables;
        _deletedNatChains = deletedNatChains ?? new();
        _natCore = [new(() => NatCoreRegisteredBy(NftFamily.Ip)), new(() => NatCoreRegisteredBy(NftFamily.Ip6))];
    }

    public static NftRuleset Empty { get; } = new(new List<NftTable>());
    public IReadOnlyList<NftTable> Tables => _tables;

    /// <summary>Parses nft text; throws <see cref="NftParseException"/> naming file:line:col and the token.</summary>
    public static NftRuleset Parse(string text, string fileName, NftLoadOptions? options = null)
    {
        var tables = new List<NftTable>();
        var parser = new NftParser(options ?? new NftLoadOptions(), tables);
        parser.Load(text, fileName);
        return new NftRuleset(tables, parser.DeletedNatChains());
    }

    public static NftRuleset Load(string path, NftLoadOptions? options = null) => Parse(File.ReadAllText(path), path, options);

    /// <summary>
    /// Reads libnftables-json (`nft -j list ruleset`, or the commands `nft -j -f` takes) into the same
    /// model; throws <see cref="NftParseException"/> naming the file and the JSON path.
    /// </summary>
    public static NftRuleset ParseJson(string json, string fileName, NftLoadOptions? options = null)
    {
        var tables = new List<NftTable>();
        new NftParser(options ?? new NftLoadOptions(), tables).LoadJson(json, fileName);
        return new NftRuleset(tables);
    }

    /// <summary>
    /// Whether `nft -j` would read this input as JSON: it tries JSON first and falls back to the text
    /// syntax when the input is not a JSON object (without -j nft reads text only, and JSON fails).
    /// </summary>
    public static bool LooksLikeJson(string text)
    {
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c)) continue;
            return c == '{';
        }
        return false;
    }

    /// <summary>
    /// Several rulesets loaded one after the other into one namespace (nft files, iptables-restore
    /// input): tables side by side, chains of later parts registered later.
    /// </summary>
    /// <summary>Its tables that <paramref name="other"/> has none of (by family and name), as a ruleset of their own.</summary>
    internal NftRuleset Except(NftRuleset other) => new(_tables.Where(t => other.FindTable(t.Family, t.Name) is null).ToList());

    public static NftRuleset Combine(IEnumerable<NftRuleset> parts)
    {
        var tables = new List<NftTable>();
        var kept = new List<NftChain>();
        int offset = 0;
        foreach (var part in parts)
        {
            int max = 0;
            foreach (var c in part.RegisteredChains)
            {
                c.RegistrationOrder += offset;
                if (c.UnregistrationOrder > 0) c.UnregistrationOrder += offset;
                max = Math.Max(max, Math.Max(c.RegistrationOrder, c.UnregistrationOrder));
            }
            offset = Math.Max(offset, max);
            tables.AddRange(part._tables);
            kept.AddRange(part._deletedNatChains);
        }
        return new NftRuleset(tables, kept);
    }

    /// <summary>
    /// Numbers the base chains' registrations across the parts of a lab's namespace in the order its
    /// commands ran (<see cref="NftChain.LoadStamp"/>, then the order within one command): nft files and
    /// commands, iptables-restore and iptables commands interleave as the lab ran them, so ties of equal
    /// priority, and with the nat core, come out as nf_hook_entries_grow ordered them.
    /// </summary>
    internal void OrderRegistrations()
    {
        // a deleted chain's unregistration is an event of the same clock (it may end the nat core's registration)
        var events = RegisteredChains.Where(c => c.RegistrationOrder > 0).Select(c => (Chain: c, Stamp: c.LoadStamp, Order: c.RegistrationOrder, Gone: false))
            .Concat(_deletedNatChains.Select(c => (Chain: c, Stamp: c.UnloadStamp, Order: c.UnregistrationOrder, Gone: true)))
            .OrderBy(e => e.Stamp).ThenBy(e => e.Order).ToList();
        for (int i = 0; i < events.Count; i++)
            if (events[i].Gone) events[i].Chain.UnregistrationOrder = i + 1;
            else events[i].Chain.RegistrationOrder = i + 1;
        _baseChains.Clear();
        _ingressWithInet.Clear();
    }

    /// <summary>Every chain with a place in the registration order: the tables' chains and the deleted nat chains.</summary>
    internal IEnumerable<NftChain> RegisteredChains => _tables.SelectMany(t => t.Chains).Concat(_deletedNatChains);

    /// <summary>Deleted nat base chains of another part (iptables -X of nat's built-in chains), for <see cref="NatCoreRegistration"/>.</summary>
    internal void AddDeletedNatChains(IEnumerable<NftChain> chains) => _deletedNatChains.AddRange(chains);

    public NftTable? FindTable(NftFamily family, string name) => _tables.Find(t => t.Family == family && t.Name == name);

    private bool? _hasRandom;
    /// <summary>Some rule draws a random number (numgen random, meta random / statistic random, hashes with a
    /// secret seed): only then is there anything for -Outcomes All to enumerate.</summary>
    public bool HasRandomRules => _hasRandom ??= AllRules.Any(r => r.Stmts.Any(s => s.DrawsRandom));

    /// <summary>Some rule reads ct bytes/packets/avgpkt: loading it set net.netfilter.nf_conntrack_acct to 1.</summary>
    public bool TurnsOnConntrackAccounting => AllRules.Any(r => r.TurnsOnCtAcct);

    /// <summary>All rules, in table/chain order.</summary>
    public IEnumerable<NftRule> AllRules => _tables.SelectMany(t => t.Chains).SelectMany(c => c.Rules);

    /// <summary>inet-family ingress chains bound to <paramref name="device"/> (they run at its netdev ingress hook);
    /// asked for every packet received, so built once, on first use (the ruleset is complete by then).</summary>
    public IReadOnlyList<NftChain> InetIngressChains(string device) =>
        (_inetIngress ??= _tables.Where(t => t.Family == NftFamily.Inet).SelectMany(t => t.Chains)
            .Where(c => c.Hook == NftHookPoint.Ingress && c.Device is not null)
            .GroupBy(c => c.Device!).ToDictionary(g => g.Key, g => (IReadOnlyList<NftChain>)g.ToList()))
        .GetValueOrDefault(device, Array.Empty<NftChain>());

    private Dictionary<string, IReadOnlyList<NftChain>>? _inetIngress;

    /// <summary>
    /// The chains at <paramref name="device"/>'s netdev ingress hook for an IPv4/IPv6 packet: its netdev chains
    /// with the inet ingress chains among them, in run order (one hook, nf_hook_entries_grow's order).
    /// </summary>
    public IReadOnlyList<NftChain> IngressChainsWithInet(string device) =>
        _ingressWithInet.GetOrAdd(device, static (d, rs) => rs.BaseChains(NftFamily.Netdev, NftHookPoint.Ingress, d).Concat(rs.InetIngressChains(d))
            .OrderBy(c => c.Priority).ThenByDescending(c => c.RegistrationOrder).ToArray(), this);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, NftChain[]> _ingressWithInet = new();

    /// <summary>
    /// Base chains that run for a packet of <paramref name="packetFamily"/> at <paramref name="hook"/>:
    /// tables of that family (inet for ip/ip6 packets too), sorted by priority; at equal priority the
    /// chain registered LAST runs first (nf_hook_entries_grow inserts a new hook before existing ones
    /// of the same priority; checked with nft 1.0.6: see NftHandleTests.SamePriority_LastRegisteredRunsFirst).
    /// netdev chains (and inet ingress) are per device: <paramref name="device"/> filters them.
    /// </summary>
    public IReadOnlyList<NftChain> BaseChains(NftFamily packetFamily, NftHookPoint hook, string? device = null) =>
        _baseChains.GetOrAdd((packetFamily, hook, device), static (k, rs) => rs.FindBaseChains(k.Family, k.Hook, k.Device), this);

    /// <summary>BaseChains per family, hook and device: asked at every hook of every packet, built once on first use (the ruleset is complete by then).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(NftFamily Family, NftHookPoint Hook, string? Device), NftChain[]> _baseChains = new();

    /// <summary>
    /// When the nat core's hooks (nf_nat_ipv4_ops / nf_nat_ipv6_ops) were registered in the namespace:
    /// nf_nat_register_fn registers them at all four NAT hooks with the first nat base chain of an
    /// ip or inet table (IPv4) / ip6 or inet table (IPv6), whatever that chain's hook; null when none has one.
    /// Deleting that chain leaves the hooks where they are while another nat chain still uses them
    /// (nf_nat_unregister_fn unregisters them with the last user only), whichever tool made the chains:
    /// an iptables-nft nat chain and an nft one count alike (checked on 6.18: scenarios nat-core-kept,
    /// ipt-nft-nat-core-kept).
    /// </summary>
    public int? NatCoreRegistration(bool v6) => _natCore[v6 ? 1 : 0].Value;

    /// <summary>NatCoreRegistration for IPv4 and IPv6, found on first use (the ruleset is complete by then).</summary>
    private readonly Lazy<int?>[] _natCore;

    /// <summary>nf_nat_register_fn / nf_nat_unregister_fn over the namespace's history: the registration of the
    /// nat chain that took the users of <paramref name="l3"/>'s nat core from 0 to 1 last, if some remain.</summary>
    private int? NatCoreRegisteredBy(NftFamily l3)
    {
        var events = _tables.SelectMany(t => t.Chains).Concat(_deletedNatChains)
            .Where(c => c.IsBase && c.Type == "nat" && NatCoreOf(c, l3))
            .SelectMany(c => c.UnregistrationOrder > 0 ? new[] { (c.RegistrationOrder, 1), (c.UnregistrationOrder, -1) } : new[] { (c.RegistrationOrder, 1) })
            .OrderBy(e => e.Item1);
        int users = 0;
        int? registered = null;
        foreach (var (order, change) in events)
        {
            if (change > 0 && users++ == 0) registered = order;
            if (change < 0 && --users == 0) registered = null;
        }
        return registered;
    }

    /// <summary>Whether a nat chain uses the IPv4 (<paramref name="l3"/> ip) or IPv6 nat core: its table's family, or inet for both.</summary>
    internal static bool NatCoreOf(NftChain c, NftFamily l3) => c.Table.Family == l3 || c.Table.Family == NftFamily.Inet;

    private NftChain[] FindBaseChains(NftFamily packetFamily, NftHookPoint hook, string? device)
    {
        var r = new List<NftChain>();
        foreach (var t in _tables)
        {
            bool fam = t.Family == packetFamily
                || (t.Family == NftFamily.Inet && packetFamily is NftFamily.Ip or NftFamily.Ip6);
            if (!fam) continue;
            foreach (var c in t.Chains)
            {
                if (c.Hook != hook) continue;
                if (device is not null && c.Device is not null && c.Device != device) continue;
                r.Add(c);
            }
        }
        r.Sort((a, b) => a.Priority != b.Priority ? a.Priority.CompareTo(b.Priority) : b.RegistrationOrder.CompareTo(a.RegistrationOrder));
        return r.ToArray();
    }
}

/// <summary>Runs the base chains of one hook over a packet, as nft_do_chain does.</summary>
public static class NftEvaluator
{
    private const int MaxJumpDepth = 16; // NFT_JUMP_STACK_SIZE

    /// <param name="filter">Which base chains run (nf_hook_slow's cuts around conntrack and the nat core; default: all).</param>
    /// <param name="state">The namespace's stateful memory for this replay (counters, limits, quotas, sets, random
    /// draws); null: a fresh one, as if the ruleset had just been loaded.</param>
    public static NftHookResult RunHook(NftRuleset rs, NftFamily packetFamily, NftHookPoint hook, INftPacket p, NftChainFilter filter = default, NftState? state = null)
    {
        var runs = new List<NftChainRun>();
        state ??= new NftState(0, "");
        int decisionsBefore = state.Decisions.Count;
        var ctx = new NftEvalCtx { P = p, State = state };
        List<NftRule>? unsupported = null;
        string verdict = "accept";
        var device = hook is NftHookPoint.Egress or NftHookPoint.Postrouting or NftHookPoint.Output ? p.OutputInterface : p.InputInterface;
        var chains = rs.BaseChains(packetFamily, hook, hook is NftHookPoint.Ingress or NftHookPoint.Egress ? device : null);
        for (int k = 0; k < chains.Count; k++)
        {
            var chain = chains[k];
            if (!filter.Includes(chain)) continue;
            var v = RunBaseChain(chain, ctx, runs, ref unsupported);
            if (v == NftVerdict.Drop) { verdict = "drop"; break; }
            if (v == NftVerdict.Queue) { verdict = "queue"; break; }
            if (v == NftVerdict.Stolen) { verdict = "stolen"; break; }
        }
        var decisions = Array.Empty<NftRandomDecision>();
        if (state.Decisions.Count > decisionsBefore)
        {
            // the hook's draws go with its result; the state keeps none of them (one per packet would pile up)
            decisions = state.Decisions.GetRange(decisionsBefore, state.Decisions.Count - decisionsBefore).ToArray();
            state.Decisions.RemoveRange(decisionsBefore, decisions.Length);
        }
        return new NftHookResult(verdict, runs, ctx.Nat, ctx.Reject, (IReadOnlyList<string>?)ctx.Logs ?? Array.Empty<string>())
        {
            CtMark = ctx.CtMark, CtTimeout = ctx.CtTimeout, CtTemplateTimeout = ctx.CtTemplateTimeout, CtHelper = ctx.CtHelper, CtTemplateHelper = ctx.CtTemplateHelper, CtTemplateZone = ctx.CtTemplateZone, CtLabels = ctx.CtLabels, Notrack = ctx.Notrack, UnsupportedRules = (IReadOnlyList<NftRule>?)unsupported ?? Array.Empty<NftRule>(),
            Unknowns = (IReadOnlyList<string>?)ctx.Unknowns ?? Array.Empty<string>(),
            Decisions = decisions, Notes = (IReadOnlyList<string>?)ctx.Notes ?? Array.Empty<string>(), Fwd = ctx.Fwd, Synproxy = ctx.Synproxy,
            Dups = (IReadOnlyList<(DupStmt, byte[])>?)ctx.Dups ?? Array.Empty<(DupStmt, byte[])>(),
        };
    }

    /// <summary>The base chain's policy decides; its counter is what iptables -L -v shows as "(policy ACCEPT N packets, M bytes)".</summary>
    private static NftVerdict Policy(NftChain baseChain, NftEvalCtx ctx, List<NftChainRun> runs)
    {
        var pol = baseChain.PolicyDrop ? NftVerdict.Drop : NftVerdict.Accept;
        ctx.State.Counter(baseChain).Add(ctx.Length);
        runs.Add(new NftChainRun(baseChain, null, pol == NftVerdict.Drop ? "drop" : "accept", "policy"));
        return pol;
    }

    /// <summary>The jump stack, kept between base chains (taken while in use, so a nested run would get its own).</summary>
    [ThreadStatic] private static (NftChain Chain, int Next)[]? t_jumpStack;

    private static NftVerdict RunBaseChain(NftChain baseChain, NftEvalCtx ctx, List<NftChainRun> runs, ref List<NftRule>? unsupported)
    {
        var stack = t_jumpStack ?? new (NftChain, int)[MaxJumpDepth];
        t_jumpStack = null;
        try { return RunBaseChain(baseChain, ctx, runs, ref unsupported, stack); }
        finally { t_jumpStack = stack; }
    }

    private static NftVerdict RunBaseChain(NftChain baseChain, NftEvalCtx ctx, List<NftChainRun> runs, ref List<NftRule>? unsupported, (NftChain Chain, int Next)[] stack)
    {
        int sp = 0;
        var chain = baseChain; int i = 0;
        while (true)
        {
            if (i >= chain.RuleList.Count)
            {
                // ran off the end: return to the caller, or the base chain's policy
                if (sp == 0) return Policy(baseChain, ctx, runs);
                runs.Add(new NftChainRun(chain, null, "return", "return"));
                (chain, i) = stack[--sp];
                continue;
            }
            var rule = chain.RuleList[i++];
            if (rule.Unsupported is not null) { (unsupported ??= new()).Add(rule); continue; }
            ctx.Rule = rule; ctx.Verdict = NftVerdict.None; ctx.JumpTarget = null;
            bool matched = true;
            foreach (var st in rule.Stmts)
            {
                if (!st.Eval(ctx)) { matched = false; break; }
                if (ctx.Verdict != NftVerdict.None) break;
            }
            if (!matched || ctx.Verdict is NftVerdict.None or NftVerdict.Continue) continue;
            switch (ctx.Verdict)
            {
                case NftVerdict.Accept:
                    runs.Add(new NftChainRun(chain, rule, "accept", "rule")); return NftVerdict.Accept;
                case NftVerdict.Drop:
                    runs.Add(new NftChainRun(chain, rule, "drop", "rule")); return NftVerdict.Drop;
                case NftVerdict.Stolen:
                    runs.Add(new NftChainRun(chain, rule, "stolen", "rule")); return NftVerdict.Stolen;
                case NftVerdict.Queue:
                    runs.Add(new NftChainRun(chain, rule, "queue", "rule"));
                    if (!ctx.QueueBypass) return NftVerdict.Queue;
                    // nf_queue finds no listener (-ESRCH) and the bypass flag makes nf_hook_slow go on with the next
                    // hook entry: the rest of this chain is skipped, as after accept
                    (ctx.Notes ??= new()).Add($"queue bypass: no queue listener, the packet continues with the next hook entry ({rule.Text})");
                    return NftVerdict.Accept;
                case NftVerdict.Return:
                    runs.Add(new NftChainRun(chain, rule, "return", "rule"));
                    if (sp == 0) return Policy(baseChain, ctx, runs);
                    (chain, i) = stack[--sp];
                    continue;
                case NftVerdict.Jump:
                case NftVerdict.Goto:
                    var target = chain.Table.FindChain(ctx.JumpTarget!)!;
                    runs.Add(new NftChainRun(chain, rule, ctx.Verdict == NftVerdict.Jump ? "jump" : "goto", "rule"));
                    if (ctx.Verdict == NftVerdict.Jump)
                    {
                        if (sp >= MaxJumpDepth) return NftVerdict.Drop;
                        stack[sp++] = (chain, i);
                    }
                    chain = target; i = 0;
                    continue;
            }
        }
    }
}
