using PktFlow.Tc;

namespace PktFlow.Topology;

/// <summary>tc clsact/ingress qdiscs and their filters (tc qdisc add / tc filter add), with the kernel's refusals.</summary>
public sealed partial class NamespaceBuilder
{
    private sealed class TcDev
    {
        public required string Qdisc;
        public IReadOnlyDictionary<TcDirection, string> NotModelled = new Dictionary<TcDirection, string>();
        public readonly List<TcFilter> Filters = new();
        public int NextHt = 0x800; // u32 hash tables are numbered per qdisc (tc_u_common), both directions
        public readonly Dictionary<(TcDirection, int), (uint Ht, uint NextNode)> U32Tps = new();
    }

    private readonly Dictionary<string, TcDev> _tc = new();
    /// <summary>False for a listed namespace whose snapshot has no tc output: tc is then not modelled.</summary>
    private bool _tcKnown;

    /// <summary>The namespace's tc configuration is complete as given (a lab; a snapshot with tc output).</summary>
    public void DeclareTcKnown() => _tcKnown = true;

    /// <summary>tc qdisc add dev D clsact|ingress: one per device (ingress and clsact exclude each other).</summary>
    public void AddTcQdisc(string dev, string kind)
    {
        Get(dev);
        if (_tc.ContainsKey(dev)) throw new TopologyException("Error: Exclusivity flag on, cannot modify.");
        _tc[dev] = new TcDev { Qdisc = kind };
    }

    /// <summary>tc qdisc del dev D clsact|ingress: the qdisc goes with every filter on it.</summary>
    public void DeleteTcQdisc(string dev, string kind)
    {
        Get(dev);
        if (!_tc.TryGetValue(dev, out var q) || q.Qdisc != kind) throw new TopologyException("Error: Cannot find specified qdisc on specified device.");
        _tc.Remove(dev);
    }

    /// <summary>
    /// tc filter add: pref 0 lets the kernel choose (49152 in an empty chain, else one less than the
    /// first pref: tcf_auto_prio). Filters of one pref share a classifier instance, so kind and
    /// protocol must be the same. With an `ingress` qdisc an egress filter lands in its one block
    /// (ffff:fff3 resolves to the qdisc ffff:), as the kernel does. Returns the filter as added.
    /// </summary>
    public TcFilter AddTcFilter(string dev, TcDirection dir, int pref, ushort protocol, TcClassifier cls, IReadOnlyList<TcAction> actions, string source)
    {
        Get(dev);
        if (!_tc.TryGetValue(dev, out var q)) throw new TopologyException("Error: Parent Qdisc doesn't exists.");
        if (q.Qdisc == "ingress") dir = TcDirection.Ingress;
        foreach (var a in actions.OfType<MirredAction>())
            if (!HasDevice(a.Device)) throw new TopologyException($"Cannot find device \"{a.Device}\"");
        var chain = q.Filters.Where(f => f.Direction == dir).ToList();
        if (pref == 0) pref = chain.Count == 0 ? 49152 : chain.Min(f => f.Pref) - 1;
        var same = chain.Where(f => f.Pref == pref).ToList();
        if (same.Count > 0)
        {
            if (same[0].Classifier.Kind != cls.Kind) throw new TopologyException("Error: Specified filter kind does not match existing one.");
            if (same[0].Protocol != protocol) throw new TopologyException("Error: Protocol mismatch for filter with specified priority.");
            if (cls is ClsMatchall) throw new TopologyException("a matchall filter already exists at this pref (RTNETLINK answers: File exists)");
        }
        uint handle;
        if (cls is ClsU32)
        {
            if (!q.U32Tps.TryGetValue((dir, pref), out var tp)) tp = ((uint)q.NextHt++, 0x800);
            handle = tp.Ht << 20 | tp.NextNode;
            q.U32Tps[(dir, pref)] = (tp.Ht, tp.NextNode + 1);
        }
        else handle = (uint)same.Count + 1;
        var filter = new TcFilter(dir, pref, protocol, handle, cls, actions, source);
        q.Filters.Add(filter);
        return filter;
    }

    public string? TcQdiscOf(string dev) => _tc.TryGetValue(dev, out var q) ? q.Qdisc : null;

    /// <summary>tc filter del: the direction's filters, or those of one pref (ENOENT when none).</summary>
    public void DeleteTcFilters(string dev, TcDirection dir, int pref)
    {
        if (!_tc.TryGetValue(dev, out var q)) throw new TopologyException("Error: Parent Qdisc doesn't exists.");
        if (q.Qdisc == "ingress") dir = TcDirection.Ingress;
        int n = q.Filters.RemoveAll(f => f.Direction == dir && (pref == 0 || f.Pref == pref));
        if (n == 0 && pref != 0) throw new TopologyException("Error: Filter with specified priority/protocol not found.");
        foreach (var k in q.U32Tps.Keys.Where(k => k.Item1 == dir && (pref == 0 || k.Item2 == pref)).ToList()) q.U32Tps.Remove(k);
    }

    private void ForgetTcOf(string dev) => _tc.Remove(dev);

    private void RenameTc(string name, string newName)
    {
        if (_tc.Remove(name, out var q)) _tc[newName] = q;
    }

    /// <summary>Classification order: pref, then handle (u32 nodes and flower handles grow in insertion order).</summary>
    private IReadOnlyDictionary<string, TcDeviceConfig>? BuildTc()
    {
        if (!_tcKnown && _listed) return null;
        return _tc.ToDictionary(kv => kv.Key, kv => new TcDeviceConfig(kv.Key, kv.Value.Qdisc,
            Order(kv.Value.Filters, TcDirection.Ingress), Order(kv.Value.Filters, TcDirection.Egress)) { NotModelled = kv.Value.NotModelled });
    }

    private static IReadOnlyList<TcFilter> Order(List<TcFilter> filters, TcDirection dir) =>
        filters.Where(f => f.Direction == dir).OrderBy(f => f.Pref).ThenBy(f => f.Handle).ToList();

    /// <summary>A snapshot lists the filters as they are: no checks; a direction it could not read is not modelled.</summary>
    public void AddListedTc(string dev, string qdisc, IEnumerable<TcFilter> filters, IReadOnlyDictionary<TcDirection, string> notModelled)
    {
        RequireListed();
        var q = new TcDev { Qdisc = qdisc, NotModelled = notModelled };
        q.Filters.AddRange(filters);
        _tc[dev] = q;
    }
}
