using PktFlow.Datapath;

namespace PktFlow.Bpf;

/// <summary>
/// One entry of a BPF map an attached program kept, after a replay, shaped like a line of
/// <c>bpftool map dump</c>: <c>key: 06 00 00 00  value: 01 00 00 00 00 00 00 00</c>. Arrays list every
/// index, hashes their entries in insertion order (bpftool's order is the kernel's bucket order),
/// program arrays their filled slots with the program's name as the value (bpftool shows its id).
/// Per-CPU maps hold one value: the model runs on one CPU.
/// </summary>
public sealed record BpfMapListing
{
    public required string Namespace { get; init; }
    /// <summary>Where the program is attached: <c>xdp eth0</c>, or the tc filter as <c>tc filter show</c> names it (<c>prog.o:[sec] direct-action</c>).</summary>
    public required string Attach { get; init; }
    public required string Program { get; init; }
    public required string Map { get; init; }
    /// <summary>bpftool's type name: array, hash, prog_array, percpu_array, lru_hash, ...</summary>
    public required string Type { get; init; }
    /// <summary>The key bytes in hex, separated by spaces, as bpftool prints them.</summary>
    public required string Key { get; init; }
    /// <summary>The value bytes in hex, or a program array slot's program.</summary>
    public required string Value { get; init; }
    public required byte[] KeyBytes { get; init; }
    public required byte[] ValueBytes { get; init; }
    /// <summary>The key and the value read as little-endian numbers when they are 1, 2, 4 or 8 bytes (counters), else null.</summary>
    public ulong? KeyNumber { get; init; }
    public ulong? ValueNumber { get; init; }
    public bool Pinned { get; init; }
    /// <summary>The entry as bpftool map dump prints it.</summary>
    public string Line => $"key: {Key}  value: {Value}";

    public static string TypeName(BpfMapType t) => t switch
    {
        BpfMapType.Hash => "hash",
        BpfMapType.Array => "array",
        BpfMapType.ProgArray => "prog_array",
        BpfMapType.PercpuHash => "percpu_hash",
        BpfMapType.PercpuArray => "percpu_array",
        BpfMapType.LruHash => "lru_hash",
        BpfMapType.LruPercpuHash => "lru_percpu_hash",
        _ => t.ToString(),
    };

    /// <summary>Every entry of every map of the namespace's XDP and tc programs, in attachment order.</summary>
    public static IEnumerable<BpfMapListing> List(NamespaceState s) =>
        s.Bpf.Select(x => ($"xdp {x.Key.Name}", x.Value)).Concat(s.TcBpf.Select(x => (x.Key.ToString(), x.Value)))
            .SelectMany(x => Of(s.Name, x.Item1, x.Item2));

    private static IEnumerable<BpfMapListing> Of(string ns, string attach, BpfRuntime rt)
    {
        foreach (var m in rt.Maps)
        {
            var d = m.Def;
            var rows = d.Type == BpfMapType.ProgArray
                ? m.Programs().Select(p => (BitConverter.GetBytes(p.Index), Array.Empty<byte>(), p.Program.Name))
                : m.Entries().Select(e => (e.Key, e.Value, Hex(e.Value)));
            foreach (var (key, value, text) in rows)
                yield return new BpfMapListing
                {
                    Namespace = ns, Attach = attach, Program = rt.Program.Name, Map = d.Name, Type = TypeName(d.Type),
                    Key = Hex(key), Value = text, KeyBytes = key, ValueBytes = value, KeyNumber = Number(key), ValueNumber = Number(value), Pinned = d.Pinned,
                };
        }
    }

    private static string Hex(byte[] b) => string.Join(" ", b.Select(x => x.ToString("x2")));

    private static ulong? Number(byte[] b) => b.Length switch
    {
        1 => b[0],
        2 => BitConverter.ToUInt16(b),
        4 => BitConverter.ToUInt32(b),
        8 => BitConverter.ToUInt64(b),
        _ => null,
    };
}
