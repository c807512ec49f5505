using PktFlow.Wire;

namespace PktFlow.LoadBalancer;

/// <summary>A flow as the load balancer keys it: protocol, source and destination address and port (the 5-tuple).</summary>
public readonly record struct LbFlowKey(byte Protocol, IpAddr Source, ushort SourcePort, IpAddr Destination, ushort DestinationPort)
{
    /// <summary>
    /// A 64-bit hash of the 5-tuple: FNV-1a over its bytes, then MurmurHash3's fmix64 finalizer so that
    /// flows differing in one bit land far apart in the Maglev table. Deterministic across runs.
    /// </summary>
    public ulong Hash() => LbHash.Finish(LbHash.Address(LbHash.Address(LbHash.Fnv(LbHash.FnvBasis, Protocol), Source), Destination) ^ ((ulong)SourcePort << 16 | DestinationPort) * LbHash.FnvPrime);

    public override string ToString() =>
        $"{(Protocol == IpProtocol.Tcp ? "tcp" : Protocol == IpProtocol.Udp ? "udp" : $"proto {Protocol}")} {Source.WithPort(SourcePort)} > {Destination.WithPort(DestinationPort)}";

}

internal static class LbHash
{
    public const ulong FnvBasis = 0xcbf29ce484222325, FnvPrime = 0x100000001b3;

    public static ulong Fnv(ulong h, byte b) => (h ^ b) * FnvPrime;

    public static ulong Word(ulong h, ulong w)
    {
        for (int i = 56; i >= 0; i -= 8) h = Fnv(h, (byte)(w >> i));
        return h;
    }

    public static ulong Address(ulong h, IpAddr a) => Word(Word(Fnv(h, (byte)a.Family), a.Hi), a.Lo);

    /// <summary>MurmurHash3 fmix64.</summary>
    public static ulong Finish(ulong k)
    {
        k ^= k >> 33; k *= 0xff51afd7ed558ccd;
        k ^= k >> 33; k *= 0xc4ceb9fe1a85ec53;
        k ^= k >> 33;
        return k;
    }
}

/// <summary>One flow the load balancer has scheduled: its backend, when it was last seen, whether it ended.</summary>
public sealed class LbFlow
{
    public required LbService Service { get; init; }
    public int Backend { get; set; }
    public long FirstFrame { get; init; }
    public long LastSeenNs { get; set; }
    /// <summary>FIN or RST seen: the connection no longer counts for least-connections.</summary>
    public bool Ended { get; set; }
    /// <summary>The client's key.</summary>
    public required LbFlowKey Key { get; init; }
    /// <summary>The key the backend's replies carry (NAT only), under which the reverse entry is filed.</summary>
    public LbFlowKey? ReplyKey { get; set; }
    /// <summary>Its place in the table's least-recently-used order.</summary>
    internal LinkedListNode<LbFlow>? Lru;
}

/// <summary>
/// The flow table: flows stick to the backend they were first given while they are alive (no FIN/RST
/// and not idle longer than the timeout, against capture time). NAT flows also have a reverse entry
/// keyed by the backend's reply, so that replies passing back through are rewritten.
/// Bounded as Katran's LRU flow map is: at most <see cref="Capacity"/> flows, the least recently used
/// one going when a new flow needs room (its next packet is scheduled anew, which Maglev sends to
/// the same backend while the backends stay the same); and a flow idle longer than the timeout is
/// forgotten (swept every timeout of capture time), so a long capture keeps no flow per connection
/// it ever saw. A flow that ended (FIN/RST) is kept until it is idle too, so a connection reusing
/// its 5-tuple within the timeout is told apart from a new one.
/// </summary>
public sealed class LbFlowTable(long idleTimeoutNs, int capacity = LbFlowTable.DefaultCapacity)
{
    /// <summary>The model's default bound (flowTableSize): Katran sizes its LRU map by configuration, per CPU.</summary>
    public const int DefaultCapacity = 65536;

    private readonly Dictionary<LbFlowKey, LbFlow> _flows = new();
    private readonly Dictionary<LbFlowKey, LbFlow> _reverse = new();
    /// <summary>Least recently used first.</summary>
    private readonly LinkedList<LbFlow> _lru = new();
    private long _nextSweepNs = long.MinValue;

    public long IdleTimeoutNs { get; } = idleTimeoutNs;
    public int Capacity { get; } = capacity;
    public int Count => _flows.Count;

    public bool Alive(LbFlow f, long nowNs) => !f.Ended && nowNs - f.LastSeenNs <= IdleTimeoutNs;

    public LbFlow? Find(LbFlowKey key) => _flows.GetValueOrDefault(key);
    public LbFlow? FindReverse(LbFlowKey replyKey) => _reverse.GetValueOrDefault(replyKey);

    /// <summary>A packet of the flow at <paramref name="nowNs"/>: it becomes the most recently used.</summary>
    public void Touch(LbFlow f, long nowNs)
    {
        if (nowNs > f.LastSeenNs) f.LastSeenNs = nowNs;
        if (f.Lru is { } node && node != _lru.Last) { _lru.Remove(node); _lru.AddLast(node); }
        Sweep(nowNs);
    }

    public void Add(LbFlow f, LbFlowKey? replyKey)
    {
        if (_flows.TryGetValue(f.Key, out var old)) Remove(old);
        while (_flows.Count >= Capacity && _lru.First is { } oldest) Remove(oldest.Value);
        _flows[f.Key] = f;
        f.Lru = _lru.AddLast(f);
        SetReverse(f, replyKey);
        Live(f.Service).Add(f);
    }

    public void MoveTo(LbFlow f, int backend, LbFlowKey? replyKey)
    {
        RemoveReverse(f);
        f.Backend = backend;
        f.Ended = false;
        SetReverse(f, replyKey);
        Live(f.Service).Add(f);
    }

    private void Remove(LbFlow f)
    {
        RemoveReverse(f);
        Live(f.Service).Remove(f);
        if (f.Lru is { } node) { _lru.Remove(node); f.Lru = null; }
        if (_flows.GetValueOrDefault(f.Key) == f) _flows.Remove(f.Key);
    }

    // LRU order is last-seen order, so the idle flows are at the front.
    private void Sweep(long nowNs)
    {
        if (nowNs < _nextSweepNs) return;
        _nextSweepNs = nowNs + IdleTimeoutNs;
        while (_lru.First is { } oldest && nowNs - oldest.Value.LastSeenNs > IdleTimeoutNs) Remove(oldest.Value);
    }

    private void SetReverse(LbFlow f, LbFlowKey? replyKey)
    {
        f.ReplyKey = replyKey;
        if (replyKey is { } r) _reverse[r] = f;
    }

    private void RemoveReverse(LbFlow f)
    {
        if (f.ReplyKey is { } r && _reverse.GetValueOrDefault(r) == f) _reverse.Remove(r);
    }

    /// <summary>Flows of each service that may still be alive; dead ones are pruned as connections are counted.</summary>
    private readonly Dictionary<LbService, HashSet<LbFlow>> _live = new();

    private HashSet<LbFlow> Live(LbService s) => _live.TryGetValue(s, out var l) ? l : _live[s] = new();

    /// <summary>Live connections per backend of a service (weighted least-connections counts these).</summary>
    public int[] ActiveConnections(LbService service, long nowNs)
    {
        var counts = new int[service.Vip.Backends.Count];
        var live = Live(service);
        live.RemoveWhere(f => !Alive(f, nowNs)); // a flow that comes back is scheduled anew and re-added
        foreach (var f in live) counts[f.Backend]++;
        return counts;
    }
}
