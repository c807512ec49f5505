namespace PktFlow.Netfilter.Nftables;

/// <summary>A counter value (struct nft_counter): packets and bytes.</summary>
internal sealed class NftCounterValue
{
    public long Packets, Bytes;
    public void Add(long bytes) { Packets++; Bytes += bytes; }
    public NftCounterValue Clone() => new() { Packets = Packets, Bytes = Bytes };
}

/// <summary>struct nft_limit: the token bucket's tokens (ns of credit) and when it was last refilled.</summary>
internal sealed class NftLimitBucket
{
    public ulong Tokens; public long LastNs;
    public NftLimitBucket Clone() => new() { Tokens = Tokens, LastNs = LastNs };
}

/// <summary>One element of a set as the replay left it: key, when it expires, per-element counter.</summary>
internal sealed class NftSetEntry
{
    public required NftElement Element { get; init; }
    /// <summary>Capture time (ns) after which it is gone; null: no timeout.</summary>
    public long? ExpiresNs;
    public long? TimeoutNs;
    /// <summary>Added by a rule during the replay (add/update @set), not declared in the ruleset.</summary>
    public bool Dynamic;
    public long CreatedNs;
    public NftCounterValue? Counter;
    /// <summary>The stateful expressions the element carries (cloned from the rule that added it, as nft_dynset_new does).</summary>
    public NftStmt[]? Exprs;
    public NftSetEntry Clone() => new() { Element = Element, ExpiresNs = ExpiresNs, TimeoutNs = TimeoutNs, Dynamic = Dynamic, CreatedNs = CreatedNs, Counter = Counter?.Clone(), Exprs = Exprs };
}

/// <summary>One random choice a rule made for a packet (numgen random, meta random / statistic random).</summary>
public sealed record NftRandomDecision(string Rule, int RuleHandle, IReadOnlyList<string> Alternatives, IReadOnlyList<double> Probabilities, int Chosen);

/// <summary>
/// What the stateful parts of one namespace's ruleset remember during one replay: rule and named
/// counters, quotas used, limit token buckets, numgen/nth counters, dynamic set contents, the
/// connections each <c>ct count</c> remembers, the buckets unseeded hashes drew, and the seeded
/// random generator. The ruleset itself stays immutable configuration; everything that changes lives
/// here (one instance per namespace per replay), so two replays never share state.
/// </summary>
public sealed class NftState
{
    private readonly Dictionary<object, NftCounterValue> _counters = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<(object, string?), NftLimitBucket> _limits = new();
    private readonly Dictionary<object, long> _quotaUsed = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<object, uint> _sequences = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<NftSet, List<NftSetEntry>> _sets = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<(object, string?), List<NftConnKey>> _connLists = new();
    private readonly Dictionary<(object, string), (uint Bucket, long LastNs)> _hashDraws = new();
    private long _nextDrawSweepNs = long.MinValue;
    private Random _rng;
    /// <summary>Forced choices for the every-outcome enumeration (null: draw from the seeded generator).</summary>
    internal IReadOnlyList<int>? Script;
    internal readonly List<NftRandomDecision> Decisions = new();

    /// <param name="seed">The replay's seed (Invoke-PacketFlow -Seed).</param>
    /// <param name="scope">The namespace name: each namespace draws its own sequence from the same seed.</param>
    public NftState(int seed, string scope)
    {
        Seed = seed; Scope = scope;
        _rng = new Random(unchecked(seed * 31 + StableHash(scope)));
    }

    public int Seed { get; }
    public string Scope { get; }

    /// <summary>Capture time of the last packet evaluated (what timeouts and limits are measured against).</summary>
    public long NowNs { get; internal set; }
    /// <summary>Capture time of the first packet: when a loaded element's timeout started counting.</summary>
    public long? StartNs { get; private set; }

    public void Advance(long nowNs)
    {
        StartNs ??= nowNs;
        if (nowNs > NowNs) NowNs = nowNs;
    }

    private static int StableHash(string s)
    {
        uint h = 2166136261;
        foreach (var ch in s) { h ^= ch; h *= 16777619; }
        return (int)h;
    }

    internal NftCounterValue Counter(object key) => _counters.TryGetValue(key, out var c) ? c : _counters[key] = new NftCounterValue();
    internal NftCounterValue? PeekCounter(object key) => _counters.GetValueOrDefault(key);

    internal NftLimitBucket Bucket(object key, string? element, ulong full, long nowNs) =>
        _limits.TryGetValue((key, element), out var b) ? b : _limits[(key, element)] = new NftLimitBucket { Tokens = full, LastNs = nowNs };

    internal long QuotaUsed(object key, long initial) => _quotaUsed.TryGetValue(key, out var u) ? u : initial;
    internal void SetQuotaUsed(object key, long used) => _quotaUsed[key] = used;

    /// <summary>The nf_conncount list of a <c>ct count</c> (per rule, or per set element).</summary>
    internal List<NftConnKey> ConnList(object key, string? element) =>
        _connLists.TryGetValue((key, element), out var l) ? l : _connLists[(key, element)] = new List<NftConnKey>();

    /// <summary>
    /// How long a key an unseeded hash drew a bucket for is remembered without a packet: 600 s of
    /// capture time, nf_conntrack_generic_timeout, the longest an idle flow of any protocol stays
    /// known before established TCP. The kernel's hash holds no state (the same key always lands in
    /// the same bucket under the rule's secret seed); the model's draw stands for that unknown seed,
    /// so it is kept while the key's flow can still be one connection, and a key back after that
    /// draws again, as likely as the first draw to match the kernel. A long capture with a new key
    /// per flow thus does not keep one draw per flow it ever saw.
    /// </summary>
    public const long HashDrawIdleNs = 600L * 1_000_000_000;
    /// <summary>Keys whose draw is remembered (including idle ones not swept yet).</summary>
    public int HashDrawCount => _hashDraws.Count;

    /// <summary>The bucket an unseeded hash drew for a key (null: not drawn yet, or forgotten), and remembering it.</summary>
    internal uint? HashDraw(object key, string flow)
    {
        if (!_hashDraws.TryGetValue((key, flow), out var v) || NowNs - v.LastNs > HashDrawIdleNs) return null;
        if (NowNs > v.LastNs) _hashDraws[(key, flow)] = (v.Bucket, NowNs);
        return v.Bucket;
    }

    internal void SetHashDraw(object key, string flow, uint bucket)
    {
        _hashDraws[(key, flow)] = (bucket, NowNs);
        if (NowNs < _nextDrawSweepNs) return;
        _nextDrawSweepNs = NowNs + HashDrawIdleNs / 10;
        List<(object, string)>? idle = null;
        foreach (var (k, v) in _hashDraws)
            if (NowNs - v.LastNs > HashDrawIdleNs) (idle ??= []).Add(k);
        if (idle is not null) foreach (var k in idle) _hashDraws.Remove(k);
    }

    internal uint Sequence(object key, uint initial) => _sequences.TryGetValue(key, out var v) ? v : initial;
    internal void SetSequence(object key, uint v) => _sequences[key] = v;

    /// <summary>A set's live contents (copied from the declared elements on first use).</summary>
    internal List<NftSetEntry> Set(NftSet set)
    {
        if (_sets.TryGetValue(set, out var l)) return l;
        l = set.Elements.Select(e =>
        {
            long? timeout = e.TimeoutNs ?? set.TimeoutNs, left = e.ExpiresNs ?? timeout;
            return new NftSetEntry { Element = e, TimeoutNs = timeout, ExpiresNs = left is { } x ? (StartNs ?? NowNs) + x : null };
        }).ToList();
        return _sets[set] = l;
    }

    internal bool HasLiveContents(NftSet set) => _sets.ContainsKey(set);

    /// <summary>
    /// A random draw: 32 bits from the seeded generator, or, when the every-outcome enumeration forces
    /// this decision, a value that leads to the forced alternative.
    /// </summary>
    internal int Choose(NftRule rule, IReadOnlyList<string> alternatives, IReadOnlyList<double> probabilities, Func<uint, int> outcomeOf)
    {
        int index = Decisions.Count, chosen;
        if (Script is not null) chosen = index < Script.Count ? Script[index] : 0;
        else chosen = outcomeOf(unchecked((uint)_rng.NextInt64(0, 1L << 32)));
        Decisions.Add(new NftRandomDecision(rule.Text, rule.Handle, alternatives, probabilities, chosen));
        return chosen;
    }

    /// <summary>get_random_u16 for the NAT port search (nf_nat_l4proto_unique_tuple): drawn from the seeded generator, so a replay with the same seed picks the same ports.</summary>
    internal ushort RandomU16() => (ushort)_rng.Next(0, 65536);

    /// <summary>A copy to evaluate an alternative in without touching this replay's state.</summary>
    internal NftState CloneForDryRun(IReadOnlyList<int> script)
    {
        var c = new NftState(Seed, Scope) { NowNs = NowNs, StartNs = StartNs, Script = script };
        foreach (var (k, v) in _counters) c._counters[k] = v.Clone();
        foreach (var (k, v) in _limits) c._limits[k] = v.Clone();
        foreach (var (k, v) in _quotaUsed) c._quotaUsed[k] = v;
        foreach (var (k, v) in _sequences) c._sequences[k] = v;
        foreach (var (k, v) in _sets) c._sets[k] = v.Select(e => e.Clone()).ToList();
        foreach (var (k, v) in _connLists) c._connLists[k] = new List<NftConnKey>(v);
        foreach (var (k, v) in _hashDraws) c._hashDraws[k] = v;
        return c;
    }
}
