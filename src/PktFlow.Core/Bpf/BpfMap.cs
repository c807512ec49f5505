namespace PktFlow.Bpf;

/// <summary>BPF_MAP_TYPE_* the model keeps (include/uapi/linux/bpf.h numbers).</summary>
public enum BpfMapType
{
    Hash = 1,
    Array = 2,
    ProgArray = 3,
    PercpuHash = 5,
    PercpuArray = 6,
    LruHash = 9,
    LruPercpuHash = 10,
    /// <summary>Devices for bpf_redirect_map, by index (struct bpf_devmap_val: ifindex, then an optional program).</summary>
    DevMap = 14,
    CpuMap = 16,
    XskMap = 17,
    /// <summary>Devices for bpf_redirect_map, by any 32-bit key.</summary>
    DevMapHash = 25,
}

/// <summary>
/// A map as the object file defines it: immutable. <see cref="InitialValue"/> holds the contents of a
/// global-data map (.data/.rodata/.bss are one-element arrays, as libbpf makes them).
/// <see cref="Pinned"/>: `__uint(pinning, LIBBPF_PIN_BY_NAME)`. <see cref="ProgramSlots"/>: a
/// program array's `.values = { [slot] = &amp;prog }`, slot -> the program's function name.
/// </summary>
public sealed record BpfMapDef(string Name, BpfMapType Type, int KeySize, int ValueSize, int MaxEntries, byte[]? InitialValue = null, bool ReadOnly = false)
{
    public bool Pinned { get; init; }
    public IReadOnlyDictionary<int, string>? ProgramSlots { get; init; }
    public bool IsArray => Type is BpfMapType.Array or BpfMapType.PercpuArray;
    /// <summary>Per-CPU maps are modelled as one CPU: a replay runs on one.</summary>
    public bool IsPerCpu => Type is BpfMapType.PercpuArray or BpfMapType.PercpuHash or BpfMapType.LruPercpuHash;

    /// <summary>
    /// The maps bpf_redirect_map reads. User space fills them (the verifier refuses updates from a
    /// program) and an empty slot of the indexed ones is no element, unlike an array's zeroes.
    /// </summary>
    public bool IsRedirectMap => Type is BpfMapType.DevMap or BpfMapType.DevMapHash or BpfMapType.CpuMap or BpfMapType.XskMap;
    internal bool IsIndexed => Type is BpfMapType.DevMap or BpfMapType.CpuMap or BpfMapType.XskMap;

    public static bool IsModelledType(uint type) => Enum.IsDefined(typeof(BpfMapType), (int)type);

    /// <summary>dev_map_update_elem and its kin refuse an index past max_entries (-E2BIG).</summary>
    internal bool IndexFits(ReadOnlySpan<byte> key) => !IsIndexed || key.Length < 4 || BitConverter.ToUInt32(key) < (uint)MaxEntries;
}

/// <summary>
/// One map's contents during one replay. Values are stable byte arrays, so a pointer a program got
/// from map_lookup_elem stays valid for the run (the kernel frees a deleted element after an RCU
/// grace period, never under a running program). A hash map copies a key only when it inserts it:
/// a lookup, an update in place and a delete compare the program's key bytes through one probe
/// buffer, so the per-packet path allocates nothing.
/// </summary>
public sealed class BpfMapState
{
    public BpfMapDef Def { get; }
    private readonly byte[][]? _array;
    /// <summary>A hash map's elements with their place in <see cref="_order"/>.</summary>
    private readonly Dictionary<BpfKey, (byte[] Value, LinkedListNode<BpfKey> Node)>? _hash;
    /// <summary>A hash map's keys, oldest insertion first: a Dictionary reuses freed slots, so its own order is not insertion order.</summary>
    private readonly LinkedList<BpfKey>? _order;
    /// <summary>The key of the operation at hand, copied in to be compared (never stored in <see cref="_hash"/>).</summary>
    private readonly byte[] _probe;
    private readonly BpfProgram?[]? _progs;

    public BpfMapState(BpfMapDef def)
    {
        Def = def;
        ValueRegion = $"map {def.Name} value";
        _probe = new byte[Math.Max(0, def.KeySize)];
        if (def.Type == BpfMapType.ProgArray) _progs = new BpfProgram?[def.MaxEntries];
        else if (def.IsArray)
        {
            _array = new byte[def.MaxEntries][];
            for (int i = 0; i < _array.Length; i++)
                _array[i] = i == 0 && def.InitialValue is { } init ? (byte[])init.Clone() : new byte[def.ValueSize];
        }
        else (_hash, _order) = (new(), new());
    }

    /// <summary>What a pointer into one of the map's values is called in the VM's region table and errors (made once).</summary>
    internal string ValueRegion { get; }

    /// <summary>The value a BPF_PSEUDO_MAP_VALUE lddw points into: an array's element 0.</summary>
    public byte[]? FirstValue => _array is { Length: > 0 } a ? a[0] : null;

    public int Count => _progs?.Count(p => p is not null) ?? _array?.Length ?? _hash!.Count;

    /// <summary>A program array's slot (what bpf_tail_call jumps to), null when empty or out of range.</summary>
    public BpfProgram? ProgramAt(uint index) => _progs is { } p && index < (uint)p.Length ? p[index] : null;

    /// <summary>Fills a program array's slot, as the loader's map update does before the program is attached.</summary>
    public void SetProgram(int index, BpfProgram? prog)
    {
        if (_progs is null) throw new InvalidOperationException($"map {Def.Name} is not a program array");
        _progs[index] = prog;
    }

    /// <summary>A program array's filled slots, by index.</summary>
    public IEnumerable<(int Index, BpfProgram Program)> Programs() =>
        _progs is null ? [] : _progs.Select((p, i) => (i, p)).Where(x => x.p is not null).Select(x => (x.i, x.p!));

    public byte[]? Lookup(ReadOnlySpan<byte> key)
    {
        if (_progs is not null) return null; // a program array has no value a program could point into
        if (_array is not null)
        {
            uint i = BitConverter.ToUInt32(key);
            return i < (uint)_array.Length ? _array[i] : null;
        }
        return _hash!.TryGetValue(Probe(key), out var e) ? e.Value : null;
    }

    /// <summary>map_update_elem: 0 or a negative errno (-E2BIG when full, -EEXIST/-ENOENT for the flags).</summary>
    public long Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        const ulong NoExist = 1, Exist = 2; // BPF_NOEXIST, BPF_EXIST; 0 is BPF_ANY
        if (flags > Exist || _progs is not null) return -22; // EINVAL (programs go in with SetProgram)
        if (Def.IsIndexed)
        {
            // __dev_map_update_elem (and cpumap, xskmap): an array's slots always exist, empty or not
            if (flags == NoExist) return -17;
            flags = 0;
        }
        if (_array is not null)
        {
            uint i = BitConverter.ToUInt32(key);
            if (i >= (uint)_array.Length) return -7; // E2BIG
            if (flags == NoExist) return -17;         // EEXIST: array elements always exist
            if (Def.ReadOnly) return -1;
            value[..Def.ValueSize].CopyTo(_array[i]);
            return 0;
        }
        if (_hash!.TryGetValue(Probe(key), out var existing))
        {
            if (flags == NoExist) return -17;
            value[..Def.ValueSize].CopyTo(existing.Value); // in place, as htab does for a value of the same size
            return 0;
        }
        if (flags == Exist) return -2; // ENOENT
        if (!Def.IndexFits(key)) return -7; // E2BIG
        if (_hash.Count >= Def.MaxEntries)
        {
            if (Def.Type is not (BpfMapType.LruHash or BpfMapType.LruPercpuHash)) return -7;
            // LRU: the model evicts the oldest insertion
            _hash.Remove(_order!.First!.Value);
            _order.RemoveFirst();
        }
        // a new element: the one place the key is copied into storage of its own
        var k = new BpfKey(key.ToArray());
        _hash[k] = (value[..Def.ValueSize].ToArray(), _order!.AddLast(k));
        return 0;
    }

    public long Delete(ReadOnlySpan<byte> key)
    {
        if (_array is not null || _progs is not null) return -22; // arrays cannot delete (EINVAL)
        if (!_hash!.Remove(Probe(key), out var e)) return -2;
        _order!.Remove(e.Node);
        return 0;
    }

    /// <summary>The key to compare with: the probe buffer holding <paramref name="key"/> (a key of another size, from a caller outside the VM, is copied).</summary>
    private BpfKey Probe(ReadOnlySpan<byte> key)
    {
        if (key.Length != _probe.Length) return new BpfKey(key.ToArray());
        key.CopyTo(_probe);
        return new BpfKey(_probe);
    }

    /// <summary>Every entry, for the cmdlets and tests (hash in insertion order, array by index; a program array's values are empty, see <see cref="Programs"/>).</summary>
    public IEnumerable<(byte[] Key, byte[] Value)> Entries()
    {
        if (_progs is not null)
        {
            foreach (var (i, _) in Programs()) yield return (BitConverter.GetBytes(i), []);
            yield break;
        }
        if (_array is not null)
        {
            for (int i = 0; i < _array.Length; i++) yield return (BitConverter.GetBytes(i), _array[i]);
            yield break;
        }
        foreach (var k in _order!) yield return (k.Bytes, _hash![k].Value);
    }
}

/// <summary>A hash map key compared by its bytes (hashed and compared as spans: no copy to look one up).</summary>
public readonly struct BpfKey(byte[] bytes) : IEquatable<BpfKey>
{
    public byte[] Bytes { get; } = bytes;
    public bool Equals(BpfKey other) => Bytes.AsSpan().SequenceEqual(other.Bytes);
    public override bool Equals(object? obj) => obj is BpfKey k && Equals(k);
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.AddBytes(Bytes);
        return h.ToHashCode();
    }
}
