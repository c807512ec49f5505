namespace PktFlow.Bpf;

/// <summary>XDP actions (enum xdp_action, include/uapi/linux/bpf.h).</summary>
public enum XdpAction { Aborted = 0, Drop = 1, Pass = 2, Tx = 3, Redirect = 4 }

/// <summary>
/// The packet an XDP program sees (struct xdp_buff) and the struct xdp_md view of it:
/// data (0), data_end (4), data_meta (8), ingress_ifindex (12), rx_queue_index (16),
/// egress_ifindex (20), each a __u32 the kernel turns into the real field on load.
/// Generic XDP (netif_receive_generic_xdp) gives XDP_PACKET_HEADROOM = 256 bytes in front.
/// </summary>
public sealed class XdpContext : BpfContext
{
    public const int Headroom = 256;
    /// <summary>Room to grow at the tail: the model gives what a 2 KiB skb data area leaves (an approximation).</summary>
    public const int Tailroom = 256;
    /// <summary>adjust_head keeps sizeof(struct xdp_frame) of the headroom for the frame's metadata.</summary>
    private const int XdpFrameSize = 40;
    private const int EthHlen = 14;

    private byte[] _buf = new byte[2048];
    private ulong _base;
    public int Data { get; private set; }
    public int DataEnd { get; private set; }
    public int DataMeta { get; private set; }
    public int IngressIfindex { get; set; }
    /// <summary>The ifindex bpf_redirect chose (bpf_redirect_info.tgt_index), 0 for none.</summary>
    public int RedirectIfindex { get; set; }
    public override string Kind => "xdp_md";

    /// <summary>Copies the frame in behind the headroom; nothing is allocated once the buffer is large enough.</summary>
    public void Load(ReadOnlySpan<byte> frame, int ifindex)
    {
        int need = Headroom + frame.Length + Tailroom;
        if (_buf.Length < need) _buf = new byte[need];
        Array.Clear(_buf);
        frame.CopyTo(_buf.AsSpan(Headroom));
        Data = DataMeta = Headroom;
        DataEnd = Headroom + frame.Length;
        IngressIfindex = ifindex;
        RedirectIfindex = 0;
    }

    /// <summary>The frame as the program left it.</summary>
    public ReadOnlySpan<byte> Frame => _buf.AsSpan(Data, DataEnd - Data);

    /// <summary>Registers the packet and the context with the VM; returns the context address for r1.</summary>
    public ulong Attach(BpfVm vm)
    {
        _base = vm.Memory.Add(_buf, DataMeta, DataEnd - DataMeta, writable: true, "packet");
        return vm.Memory.Add([], 0, 24, writable: false, "xdp_md", this);
    }

    private ulong Ptr(int at) => _base + (ulong)(at - DataMeta);

    public override bool Load(BpfVm vm, int offset, int size, out ulong value)
    {
        value = offset switch
        {
            0 => Ptr(Data),
            4 => Ptr(DataEnd),
            8 => Ptr(DataMeta),
            12 => (ulong)IngressIfindex,
            16 => 0,
            20 => 0,
            _ => ulong.MaxValue,
        };
        return size == 4 && value != ulong.MaxValue;
    }

    /// <summary>bpf_xdp_adjust_head (net/core/filter.c): moves data by delta inside the headroom.</summary>
    public long AdjustHead(BpfVm vm, int delta)
    {
        int data = Data + delta;
        if (data < XdpFrameSize || data > DataEnd - EthHlen) return -22; // the buffer starts at data_hard_start
        Data = DataMeta = data;
        vm.Memory.Resize(_base, _buf, DataMeta, DataEnd - DataMeta);
        return 0;
    }

    /// <summary>bpf_xdp_adjust_tail: moves data_end; the frame keeps an Ethernet header and stays in the buffer.</summary>
    public long AdjustTail(BpfVm vm, int offset)
    {
        int end = DataEnd + offset;
        if (end < Data + EthHlen || end > _buf.Length) return -22;
        if (offset > 0) Array.Clear(_buf, DataEnd, offset);
        DataEnd = end;
        vm.Memory.Resize(_base, _buf, DataMeta, DataEnd - DataMeta);
        return 0;
    }

    /// <summary>The helpers an XDP program has on top of the common ones.</summary>
    public static BpfHelperTable Helpers() => BpfHelperTable.Common()
        .Add(BpfHelperTable.XdpAdjustHead, static (vm, ctx, delta, _, _, _) => (ulong)(Of(vm)?.AdjustHead(vm, (int)delta) ?? 0))
        .Add(BpfHelperTable.XdpAdjustTail, static (vm, ctx, off, _, _, _) => (ulong)(Of(vm)?.AdjustTail(vm, (int)off) ?? 0))
        .Add(BpfHelperTable.Redirect, static (vm, ifindex, flags, _, _, _) =>
        {
            if (Of(vm) is not { } x) return 0;
            if (flags != 0) return (ulong)XdpAction.Aborted; // XDP accepts no redirect flags
            x.RedirectIfindex = (int)ifindex;
            return (ulong)XdpAction.Redirect;
        });

    private static XdpContext? Of(BpfVm vm)
    {
        if (vm.Host is XdpContext x) return x;
        vm.Fail("not an XDP program's run");
        return null;
    }
}
