using PktFlow.Wire;

namespace PktFlow.LoadBalancer;

/// <summary>
/// One VIP at run time: the health of its backends and its scheduler's state. Schedulers see only
/// backends that are up and have a weight above 0.
/// </summary>
public sealed class LbService
{
    public LbVip Vip { get; }
    private readonly bool[] _up;
    private int _rrNext;
    private MaglevTable? _maglev;
    private int[]? _maglevBackends;
    private int[]? _sourceHashBuckets;
    private int _healthApplied;

    /// <summary>IPVS's source hash table size (IP_VS_SH_TAB_BITS = 8).</summary>
    public const int SourceHashBuckets = 256;

    public LbService(LbVip vip)
    {
        Vip = vip;
        _up = vip.Backends.Select(b => b.Up).ToArray();
    }

    public bool IsUp(int backend) => _up[backend];

    /// <summary>Marks a backend up or down; schedulers rebuild their tables.</summary>
    public void SetHealth(int backend, bool up)
    {
        if (_up[backend] == up) return;
        _up[backend] = up;
        _maglev = null;
        _sourceHashBuckets = null;
    }

    /// <summary>Applies the file's health events due by <paramref name="secondsSinceStart"/>; returns what changed.</summary>
    public IEnumerable<string> ApplyHealth(double secondsSinceStart)
    {
        while (_healthApplied < Vip.Health.Count && Vip.Health[_healthApplied].After <= secondsSinceStart)
        {
            var h = Vip.Health[_healthApplied++];
            int i = Index(h.Backend);
            if (_up[i] == h.Up) continue;
            SetHealth(i, h.Up);
            yield return $"backend {Vip.Backends[i]} marked {(h.Up ? "up" : "down")} at +{h.After:0.###} s";
        }
    }

    public int Index(string name)
    {
        for (int i = 0; i < Vip.Backends.Count; i++) if (Vip.Backends[i].Name == name) return i;
        throw new ArgumentException($"VIP {Vip} has no backend named '{name}'");
    }

    private IEnumerable<int> Eligible() => Enumerable.Range(0, _up.Length).Where(i => _up[i] && Vip.Backends[i].Weight > 0);

    /// <summary>Chooses a backend for a new flow, or -1 when none is up; <paramref name="why"/> says how.</summary>
    public int Schedule(LbFlowKey key, int[]? activeConnections, out string why)
    {
        var eligible = Eligible().ToArray();
        if (eligible.Length == 0) { why = "no backend is up (or all have weight 0)"; return -1; }
        switch (Vip.Scheduler)
        {
            case LbScheduler.RoundRobin:
            {
                // The next up backend after the last one chosen, in the file's order (ip_vs_rr).
                for (int n = 0; n < _up.Length; n++)
                {
                    int i = (_rrNext + n) % _up.Length;
                    if (!eligible.Contains(i)) continue;
                    _rrNext = i + 1;
                    why = $"round robin: next up backend in turn ({eligible.Length} up)";
                    return i;
                }
                break;
            }
            case LbScheduler.WeightedLeastConnections:
            {
                // ip_vs_wlc: the lowest connections/weight, compared as conns_a * weight_b < conns_b * weight_a; first in order on a tie.
                var conns = activeConnections ?? new int[_up.Length];
                int best = eligible[0];
                foreach (var i in eligible.Skip(1))
                    if ((long)conns[i] * Vip.Backends[best].Weight < (long)conns[best] * Vip.Backends[i].Weight) best = i;
                why = $"weighted least connections: {conns[best]} live connection(s) / weight {Vip.Backends[best].Weight} is the lowest ("
                    + string.Join(", ", eligible.Select(i => $"{Vip.Backends[i].Name} {conns[i]}/{Vip.Backends[i].Weight}")) + ")";
                return best;
            }
            case LbScheduler.SourceHash:
            {
                _sourceHashBuckets ??= BuildSourceHash(eligible);
                int bucket = SourceHashBucket(key.Source);
                why = $"source hash: {key.Source} -> bucket {bucket} of {SourceHashBuckets}";
                return _sourceHashBuckets[bucket];
            }
            case LbScheduler.Maglev:
            {
                if (_maglev is null)
                {
                    _maglevBackends = eligible;
                    _maglev = new MaglevTable(eligible.Select(i => (Vip.Backends[i].Name, Vip.Backends[i].Weight)).ToList(), Vip.TableSize);
                }
                var h = key.Hash();
                int slot = (int)(h % (ulong)_maglev.Size);
                why = $"maglev: 5-tuple hash 0x{h:x16} -> slot {slot} of {_maglev.Size} ({eligible.Length} backends in the table)";
                return _maglevBackends![_maglev.Lookup(h)];
            }
        }
        why = "no backend";
        return -1;
    }

    /// <summary>ip_vs_sh_hashkey (port not mixed in): hash_32 of the address folded to 32 bits, i.e. times GOLDEN_RATIO_32, top 8 bits.</summary>
    public static int SourceHashBucket(IpAddr source)
    {
        uint fold = source.IsV4 ? source.V4Value : (uint)(source.Hi >> 32) ^ (uint)source.Hi ^ (uint)(source.Lo >> 32) ^ (uint)source.Lo;
        return (int)((fold * 0x61C88647u) >> 24);
    }

    /// <summary>
    /// ip_vs_sh_reassign: the buckets are dealt to the backends in turn, each taking as many consecutive
    /// buckets as its weight. Unlike IPVS (which keeps a down backend's buckets and fails those clients
    /// unless sh-fallback is set), the table is dealt over the backends that are up.
    /// </summary>
    private int[] BuildSourceHash(int[] eligible)
    {
        var buckets = new int[SourceHashBuckets];
        int b = 0, taken = 0;
        for (int i = 0; i < SourceHashBuckets; i++)
        {
            buckets[i] = eligible[b];
            if (++taken >= Vip.Backends[eligible[b]].Weight) { taken = 0; b = (b + 1) % eligible.Length; }
        }
        return buckets;
    }
}
