using System.Buffers.Binary;

namespace PktFlow.Bpf;

/// <summary>
/// The struct __sk_buff view a tc (cls_bpf) program has of a packet (include/uapi/linux/bpf.h),
/// as tc_cls_act_convert_ctx_access rewrites it: every field a __u32 read from the skb, data,
/// data_meta and data_end full packet pointers (cls_bpf pushes the MAC header back at ingress, so
/// data is the Ethernet header in both directions). Writes to mark, priority, tc_index, tc_classid,
/// queue_mapping and cb[] are kept and taken back into the skb after the run.
/// </summary>
public sealed class SkbContext : BpfContext
{
    // offsets in struct __sk_buff
    private const int OffLen = 0, OffPktType = 4, OffMark = 8, OffQueueMapping = 12, OffProtocol = 16, OffVlanPresent = 20,
        OffVlanTci = 24, OffVlanProto = 28, OffPriority = 32, OffIngressIfindex = 36, OffIfindex = 40, OffTcIndex = 44,
        OffCb = 48, OffHash = 68, OffTcClassid = 72, OffData = 76, OffDataEnd = 80, OffDataMeta = 140;

    private byte[] _buf = new byte[2048];
    private ulong _base;
    public int Length { get; private set; }
    public uint PktType { get; set; }
    public uint Mark { get; set; }
    public uint QueueMapping { get; set; }
    /// <summary>skb->protocol in host order (the context gives the __be16 as it lies in memory).</summary>
    public ushort Protocol { get; set; }
    public bool VlanPresent { get; set; }
    public ushort VlanTci { get; set; }
    public ushort VlanProto { get; set; }
    public uint Priority { get; set; }
    public int IngressIfindex { get; set; }
    public int Ifindex { get; set; }
    public ushort TcIndex { get; set; }
    public uint TcClassid { get; set; }
    public uint[] Cb { get; } = new uint[5];
    /// <summary>The ifindex bpf_redirect chose (bpf_redirect_info.tgt_index) and whether BPF_F_INGRESS was given.</summary>
    public int RedirectIfindex { get; set; }
    public bool RedirectIngress { get; set; }
    /// <summary>Where the network header starts in <see cref="Frame"/> (SKF_NET_OFF loads count from there).</summary>
    public int NetworkOffset { get; set; } = 14;
    public override string Kind => "__sk_buff";

    private const int SkfNetOff = -0x100000, SkfLlOff = -0x200000;

    /// <summary>
    /// bpf_skb_load_helper_*: a non-negative offset counts from skb->data (the Ethernet header at
    /// tc); a negative one from the network header (SKF_NET_OFF + n) or the MAC header
    /// (SKF_LL_OFF + n), as bpf_internal_load_pointer_neg_helper reads them. Bytes past the end of
    /// the packet are not there.
    /// </summary>
    public override bool LoadAbs(int offset, int size, out uint value, out string? error)
    {
        value = 0;
        error = null;
        long pos = offset >= 0 ? offset : offset >= SkfNetOff ? NetworkOffset + (long)(offset - SkfNetOff) : offset >= SkfLlOff ? offset - SkfLlOff : long.MinValue;
        if (pos == long.MinValue) return false;
        if (pos < 0) { error = $"unsupported: BPF_LD_ABS/IND at offset {offset} reads the headroom before the MAC header"; return false; }
        if (pos + size > Length) return false;
        var b = _buf.AsSpan((int)pos, size);
        value = size switch { 1 => b[0], 2 => BinaryPrimitives.ReadUInt16BigEndian(b), _ => BinaryPrimitives.ReadUInt32BigEndian(b) };
        return true;
    }

    /// <summary>Copies the frame (from its Ethernet header) in; the caller sets the metadata fields.</summary>
    public void Load(ReadOnlySpan<byte> frame)
    {
        if (_buf.Length < frame.Length) _buf = new byte[frame.Length];
        frame.CopyTo(_buf);
        Length = frame.Length;
        RedirectIfindex = 0;
        RedirectIngress = false;
    }

    /// <summary>The frame as the program left it.</summary>
    public Span<byte> Frame => _buf.AsSpan(0, Length);

    /// <summary>Registers the packet and the context with the VM; returns the context address for r1.</summary>
    public ulong Attach(BpfVm vm)
    {
        _base = vm.Memory.Add(_buf, 0, Length, writable: true, "packet");
        return vm.Memory.Add([], 0, 192, writable: false, "__sk_buff", this);
    }

    public override bool Load(BpfVm vm, int offset, int size, out ulong value)
    {
        value = 0;
        if (offset is OffData or OffDataEnd or OffDataMeta)
        {
            if (size != 4) return false;
            value = offset == OffDataEnd ? _base + (ulong)Length : _base;
            return true;
        }
        // narrow loads (bpf_ctx_narrow_access_ok) read the low-addressed bytes of the __u32
        int field = offset & ~3, shift = (offset & 3) * 8;
        if (size is not (1 or 2 or 4) || (offset & (size - 1)) != 0 || (offset & 3) + size > 4) return false;
        ulong? v = field switch
        {
            OffLen => (ulong)Length,
            OffPktType => PktType,
            OffMark => Mark,
            OffQueueMapping => QueueMapping,
            OffProtocol => BinaryPrimitives.ReverseEndianness(Protocol),
            OffVlanPresent => VlanPresent ? 1u : 0u,
            OffVlanTci => VlanTci,
            OffVlanProto => BinaryPrimitives.ReverseEndianness(VlanProto),
            OffPriority => Priority,
            OffIngressIfindex => (ulong)IngressIfindex,
            OffIfindex => (ulong)Ifindex,
            OffTcIndex => TcIndex,
            >= OffCb and < OffHash => Cb[(field - OffCb) / 4],
            OffTcClassid => TcClassid,
            _ => null,
        };
        if (v is null)
        {
            vm.Fail(field == OffHash ? "unsupported: __sk_buff hash (skb->hash is not modelled)" : $"unsupported: __sk_buff field at offset {offset}");
            return false;
        }
        value = (v.Value >> shift) & (size == 4 ? 0xFFFFFFFFUL : (1UL << (size * 8)) - 1);
        return true;
    }

    public override bool Store(BpfVm vm, int offset, int size, ulong value)
    {
        if (size != 4 || (offset & 3) != 0) return false;
        uint v = (uint)value;
        switch (offset)
        {
            case OffMark: Mark = v; return true;
            case OffPriority: Priority = v; return true;
            case OffTcIndex: TcIndex = (ushort)v; return true;
            case OffTcClassid: TcClassid = v; return true;
            case OffQueueMapping: QueueMapping = v; return true;
            case >= OffCb and < OffHash: Cb[(offset - OffCb) / 4] = v; return true;
            default: return false;
        }
    }

    /// <summary>The helpers a tc program has on top of the common ones.</summary>
    public static BpfHelperTable Helpers() => BpfHelperTable.Common()
        .Add(BpfHelperTable.SkbLoadBytes, SkbHelpers.LoadBytes)
        .Add(BpfHelperTable.SkbStoreBytes, SkbHelpers.StoreBytes)
        .Add(BpfHelperTable.L3CsumReplace, SkbHelpers.L3CsumReplace)
        .Add(BpfHelperTable.L4CsumReplace, SkbHelpers.L4CsumReplace)
        .Add(BpfHelperTable.Redirect, SkbHelpers.Redirect);

    internal static SkbContext? Of(BpfVm vm)
    {
        if (vm.Host is SkbContext x) return x;
        vm.Fail("not a tc program's run");
        return null;
    }
}
