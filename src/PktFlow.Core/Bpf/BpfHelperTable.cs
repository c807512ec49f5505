namespace PktFlow.Bpf;

/// <summary>
/// Helpers by number (enum bpf_func_id, include/uapi/linux/bpf.h). A program type starts from
/// <see cref="Common"/> and adds its own (XDP, tc); a number without an entry ends the run with
/// "unsupported: bpf helper N", as a program the model cannot follow must not be guessed at.
/// </summary>
public sealed class BpfHelperTable
{
    public const int Size = 256;
    private readonly BpfHelper?[] _fns = new BpfHelper?[Size];

    public BpfHelper? this[int id] => _fns[id];

    public BpfHelperTable Add(int id, BpfHelper fn)
    {
        _fns[id] = fn;
        return this;
    }

    public BpfHelperTable With(BpfHelperTable more)
    {
        for (int i = 0; i < Size; i++) if (more._fns[i] is { } f) _fns[i] = f;
        return this;
    }

    // the numbers the model names (FN(...) order of __BPF_FUNC_MAPPER)
    public const int MapLookupElem = 1, MapUpdateElem = 2, MapDeleteElem = 3, KtimeGetNs = 5, TracePrintk = 6,
        GetPrandomU32 = 7, GetSmpProcessorId = 8, SkbStoreBytes = 9, L3CsumReplace = 10, L4CsumReplace = 11, TailCall = 12,
        Redirect = 23, XdpAdjustHead = 44, SkbLoadBytes = 26, XdpAdjustMeta = 54, RedirectMap = 51,
        XdpAdjustTail = 65, KtimeGetBootNs = 125, KtimeGetCoarseNs = 160;

    public static string NameOf(int id) => id switch
    {
        MapLookupElem => "bpf_map_lookup_elem",
        MapUpdateElem => "bpf_map_update_elem",
        MapDeleteElem => "bpf_map_delete_elem",
        KtimeGetNs => "bpf_ktime_get_ns",
        TracePrintk => "bpf_trace_printk",
        GetPrandomU32 => "bpf_get_prandom_u32",
        GetSmpProcessorId => "bpf_get_smp_processor_id",
        SkbStoreBytes => "bpf_skb_store_bytes",
        L3CsumReplace => "bpf_l3_csum_replace",
        L4CsumReplace => "bpf_l4_csum_replace",
        TailCall => "bpf_tail_call",
        Redirect => "bpf_redirect",
        SkbLoadBytes => "bpf_skb_load_bytes",
        XdpAdjustHead => "bpf_xdp_adjust_head",
        XdpAdjustMeta => "bpf_xdp_adjust_meta",
        RedirectMap => "bpf_redirect_map",
        XdpAdjustTail => "bpf_xdp_adjust_tail",
        KtimeGetBootNs => "bpf_ktime_get_boot_ns",
        KtimeGetCoarseNs => "bpf_ktime_get_coarse_ns",
        _ => $"bpf helper {id}",
    };

    /// <summary>The helpers every program type has: maps, time, trace_printk, the CPU number.</summary>
    public static BpfHelperTable Common() => new BpfHelperTable()
        .Add(MapLookupElem, BpfMapHelpers.Lookup)
        .Add(MapUpdateElem, BpfMapHelpers.Update)
        .Add(MapDeleteElem, BpfMapHelpers.Delete)
        .Add(KtimeGetNs, static (vm, _, _, _, _, _) => vm.TimeNs)
        .Add(KtimeGetBootNs, static (vm, _, _, _, _, _) => vm.TimeNs)
        .Add(KtimeGetCoarseNs, static (vm, _, _, _, _, _) => vm.TimeNs)
        .Add(GetSmpProcessorId, static (_, _, _, _, _, _) => 0)
        .Add(TracePrintk, BpfTracePrintk.Call);
}
