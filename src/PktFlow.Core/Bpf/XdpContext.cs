namespace PktFlow.Bpf;

/// <summary>XDP actions (enum xdp_action, include/uapi/linux/bpf.h).</summary>
public enum XdpAction { Aborted = 0, Drop = 1, Pass = 2, Tx = 3, Redirect = 4 }

/// <summary>
/// What struct bpf_redirect_info holds for XDP_REDIRECT: nothing (map_id 0: xdp_do_generic_redirect
/// fails with -EBADRQC), an ifindex (bpf_redirect, or a bpf_redirect_map miss, which resets map_id
/// to INT_MAX and map_type to UNSPEC), or a devmap element (a bpf_redirect_map hit).
/// </summary>
public enum XdpRedirectKind { None, Ifindex, DevMap }

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
    public XdpRedirectKind RedirectKind { get; private set; }
    /// <summary>For <see cref="XdpRedirectKind.DevMap"/>: the map, its key and a copy of the element (tgt_value).</summary>
    public BpfMapState? RedirectMap { get; private set; }
    public uint RedirectKey { get; private set; }
    public byte[]? RedirectValue { get; private set; }
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
        RedirectKind = XdpRedirectKind.None; // bpf_net_ctx_set clears bpf_redirect_info for each run
        RedirectMap = null;
        RedirectValue = null;
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
            if (flags != 0) return (ulong)XdpAction.Aborted; // bpf_xdp_redirect accepts no flags
            x.RedirectIfindex = (int)(uint)ifindex;
            x.RedirectKind = XdpRedirectKind.Ifindex;
            return (ulong)XdpAction.Redirect;
        })
        .Add(BpfHelperTable.RedirectMap, static (vm, map, key, flags, _, _) => Of(vm)?.RedirectMapElem(vm, map, (uint)key, flags) ?? 0);

    private const ulong ActionMask = 3, FBroadcast = 1 << 3, FExcludeIngress = 1 << 4; // BPF_F_ACTION_MASK, BPF_F_BROADCAST, BPF_F_EXCLUDE_INGRESS

    /// <summary>
    /// __bpf_xdp_redirect_map (net/core/filter.c): the element becomes the target and the helper
    /// returns XDP_REDIRECT; a miss returns the action in the flags' low two bits. Flags beyond those
    /// (and broadcast/exclude-ingress for a devmap) give XDP_ABORTED. XSKMAP and CPUMAP targets are
    /// AF_XDP sockets and CPUs' kthreads, which the model does not have.
    /// </summary>
    private ulong RedirectMapElem(BpfVm vm, ulong handle, uint key, ulong flags)
    {
        var m = vm.MapOf(handle);
        if (m is null) { vm.Fail($"r1 0x{handle:x} is not a map"); return 0; }
        bool dev = m.Def.Type is BpfMapType.DevMap or BpfMapType.DevMapHash;
        switch (m.Def.Type)
        {
            case BpfMapType.XskMap:
                vm.Fail($"unsupported: bpf_redirect_map into {m.Def.Name}, an XSKMAP (AF_XDP sockets are not modelled)");
                return 0;
            case BpfMapType.CpuMap:
                vm.Fail($"unsupported: bpf_redirect_map into {m.Def.Name}, a CPUMAP (redirecting to another CPU's kthread is not modelled)");
                return 0;
            case BpfMapType.DevMap or BpfMapType.DevMapHash:
                break;
            default:
                vm.Fail($"unsupported: bpf_redirect_map on {m.Def.Name}, a {m.Def.Type} map (the verifier refuses it)");
                return 0;
        }
        if ((flags & ~(ActionMask | (dev ? FBroadcast | FExcludeIngress : 0))) != 0) return (ulong)XdpAction.Aborted;
        if ((flags & FBroadcast) != 0)
        {
            vm.Fail($"unsupported: bpf_redirect_map with BPF_F_BROADCAST (every device of {m.Def.Name})");
            return 0;
        }
        var value = m.Lookup(BitConverter.GetBytes(key));
        if (value is null)
        {
            RedirectKind = XdpRedirectKind.Ifindex; // map_id INT_MAX, map_type UNSPEC: the last lookup wins
            return flags & ActionMask;
        }
        RedirectKind = XdpRedirectKind.DevMap;
        RedirectIfindex = (int)key; // ri->tgt_index = index
        RedirectMap = m;
        RedirectKey = key;
        RedirectValue = (byte[])value.Clone();
        return (ulong)XdpAction.Redirect;
    }

    private static XdpContext? Of(BpfVm vm)
    {
        if (vm.Host is XdpContext x) return x;
        vm.Fail("not an XDP program's run");
        return null;
    }
}
