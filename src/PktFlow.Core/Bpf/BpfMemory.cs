namespace PktFlow.Bpf;

/// <summary>
/// The memory a program may touch during one run, as bounded regions. An address is
/// (region index &lt;&lt; 32) + offset, so pointer arithmetic stays inside the integer registers and
/// any access outside a region's bytes (below, above, or a scalar used as a pointer) is found by
/// one comparison. Region 0 is never used: NULL and small scalars fault.
/// </summary>
public sealed class BpfMemory
{
    public const int MaxRegions = 64;
    private readonly Region[] _regions = new Region[MaxRegions];
    private int _count = 1;

    internal struct Region
    {
        public byte[] Buffer;
        public int Start;
        public int Length;
        public bool Writable;
        public BpfContext? Context;
        public string Kind;
    }

    /// <summary>Forget every region (start of a run). Nothing is allocated.</summary>
    public void Clear()
    {
        for (int i = 1; i < _count; i++) _regions[i] = default;
        _count = 1;
    }

    /// <summary>Adds a region and returns its base address, or 0 when the table is full.</summary>
    public ulong Add(byte[] buffer, int start, int length, bool writable, string kind, BpfContext? context = null)
    {
        // the same bytes handed out again (a second lookup of one map value) keep their address
        for (int i = 1; i < _count; i++)
            if (ReferenceEquals(_regions[i].Buffer, buffer) && _regions[i].Start == start && _regions[i].Length == length)
                return (ulong)i << 32;
        if (_count == MaxRegions) return 0;
        _regions[_count] = new Region { Buffer = buffer, Start = start, Length = length, Writable = writable, Context = context, Kind = kind };
        return (ulong)_count++ << 32;
    }

    /// <summary>Changes a region's extent in place (xdp_adjust_head/tail move the packet's bounds).</summary>
    public void Resize(ulong baseAddress, byte[] buffer, int start, int length)
    {
        int i = (int)(baseAddress >> 32);
        _regions[i].Buffer = buffer;
        _regions[i].Start = start;
        _regions[i].Length = length;
    }

    /// <summary>The span an access of size bytes at addr would touch, or false when it leaves its region.</summary>
    public bool TryResolve(ulong addr, int size, bool write, out Span<byte> span)
    {
        span = default;
        ulong idx = addr >> 32;
        if (idx == 0 || idx >= (ulong)_count) return false;
        ref var r = ref _regions[idx];
        uint off = (uint)addr;
        if (r.Context is not null || (write && !r.Writable)) return false;
        if ((ulong)off + (ulong)size > (ulong)r.Length) return false;
        span = r.Buffer.AsSpan(r.Start + (int)off, size);
        return true;
    }

    /// <summary>The context handler of the region addr points into, with the offset inside it.</summary>
    internal BpfContext? ContextAt(ulong addr, out int offset)
    {
        offset = (int)(uint)addr;
        ulong idx = addr >> 32;
        return idx == 0 || idx >= (ulong)_count ? null : _regions[idx].Context;
    }

    /// <summary>What addr points into, for error messages.</summary>
    public string Describe(ulong addr)
    {
        ulong idx = addr >> 32;
        if (idx == 0 || idx >= (ulong)_count) return $"0x{addr:x} is not a pointer into any region";
        ref var r = ref _regions[idx];
        return $"offset {(int)(uint)addr} of {r.Kind} ({r.Length} bytes{(r.Writable ? "" : ", read only")})";
    }
}

/// <summary>
/// A program's context argument (struct xdp_md, struct __sk_buff): the kernel rewrites every
/// access to it into loads from its own structures (convert_ctx_access), so fields like data and
/// data_end read as full pointers though the user-space struct declares them __u32.
/// </summary>
public abstract class BpfContext
{
    /// <summary>A load of size bytes at offset; false when the field cannot be read.</summary>
    public abstract bool Load(BpfVm vm, int offset, int size, out ulong value);
    /// <summary>A store; false when the field is read only or unknown.</summary>
    public virtual bool Store(BpfVm vm, int offset, int size, ulong value) => false;
    public abstract string Kind { get; }

    /// <summary>
    /// BPF_LD_ABS/IND's packet read (bpf_skb_load_helper_8/16/32): the size bytes at offset from
    /// skb->data, big endian. False with no error when they are not there (the program then ends
    /// returning 0); an error when the model cannot answer or the program type has no such loads.
    /// </summary>
    public virtual bool LoadAbs(int offset, int size, out uint value, out string? error)
    {
        value = 0;
        error = $"BPF_LD_ABS/IND with a {Kind} context: the verifier allows them only in socket filter and tc programs";
        return false;
    }
}
