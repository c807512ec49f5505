namespace PktFlow.Bpf;

/// <summary>
/// The skb helpers of net/core/filter.c as a tc program sees them: offsets count from skb->data
/// (the Ethernet header), errors are the kernel's negative errnos. Checksums are updated
/// incrementally (RFC 1624) in the packet; skb->csum (CHECKSUM_COMPLETE) and CHECKSUM_PARTIAL
/// packets are not modelled, the packets the model replays carry full checksums.
/// </summary>
internal static class SkbHelpers
{
    private const long EFault = -14, EInval = -22;
    private const ulong FRecomputeCsum = 1, FInvalidateHash = 2, FIngress = 1;
    private const ulong FHdrFieldMask = 0xF, FPseudoHdr = 0x10, FMarkMangled0 = 0x20, FMarkEnforce = 0x40, FIpv6 = 0x80;
    private const int TcActShot = 2, TcActRedirect = 7;

    private static ulong Err(long e) => (ulong)e;

    /// <summary>bpf_skb_load_bytes(skb, offset, to, len): the destination is zeroed when the bytes are not there.</summary>
    public static ulong LoadBytes(BpfVm vm, ulong ctx, ulong offset, ulong to, ulong len, ulong _)
    {
        if (SkbContext.Of(vm) is not { } s) return 0;
        if (!vm.Memory.TryResolve(to, (int)len, write: true, out var dst) || len == 0) { vm.Fail($"bpf_skb_load_bytes: destination {vm.Memory.Describe(to)} cannot take {len} bytes"); return 0; }
        if (offset > 0xFFFF || offset + len > (ulong)s.Length) { dst.Clear(); return Err(EFault); }
        s.Frame.Slice((int)offset, (int)len).CopyTo(dst);
        return 0;
    }

    /// <summary>bpf_skb_store_bytes(skb, offset, from, len, flags).</summary>
    public static ulong StoreBytes(BpfVm vm, ulong ctx, ulong offset, ulong from, ulong len, ulong flags)
    {
        if (SkbContext.Of(vm) is not { } s) return 0;
        if (!vm.Memory.TryResolve(from, (int)len, write: false, out var src) || len == 0) { vm.Fail($"bpf_skb_store_bytes: source {vm.Memory.Describe(from)} has no {len} bytes"); return 0; }
        if ((flags & ~(FRecomputeCsum | FInvalidateHash)) != 0) return Err(EInval);
        if (offset > 0xFFFF || offset + len > (ulong)s.Length) return Err(EFault);
        src.CopyTo(s.Frame.Slice((int)offset, (int)len));
        return 0;
    }

    /// <summary>bpf_l3_csum_replace(skb, offset, from, to, flags): the low 4 bits of flags are the field size (0: to is a checksum difference).</summary>
    public static ulong L3CsumReplace(BpfVm vm, ulong ctx, ulong offset, ulong from, ulong to, ulong flags)
    {
        if (SkbContext.Of(vm) is not { } s) return 0;
        if ((flags & ~FHdrFieldMask) != 0) return Err(EInval);
        if (offset > 0xFFFF || offset + 2 > (ulong)s.Length) return Err(EFault);
        if ((flags & FHdrFieldMask) == 0 && from != 0) return Err(EInval);
        return Err(Update(s.Frame.Slice((int)offset, 2), from, to, flags));
    }

    /// <summary>bpf_l4_csum_replace: as l3, with BPF_F_MARK_MANGLED_0 (a zero UDP checksum stays zero, a result of zero becomes 0xffff).</summary>
    public static ulong L4CsumReplace(BpfVm vm, ulong ctx, ulong offset, ulong from, ulong to, ulong flags)
    {
        if (SkbContext.Of(vm) is not { } s) return 0;
        if ((flags & ~(FMarkMangled0 | FMarkEnforce | FPseudoHdr | FHdrFieldMask | FIpv6)) != 0) return Err(EInval);
        if (offset > 0xFFFF || offset + 2 > (ulong)s.Length) return Err(EFault);
        var field = s.Frame.Slice((int)offset, 2);
        bool mmzero = (flags & FMarkMangled0) != 0;
        if (mmzero && Get(field) == 0) return 0;
        if (Update(field, from, to, flags) != 0) return Err(EInval);
        if (mmzero && Get(field) == 0) Put(field, 0xFFFF); // CSUM_MANGLED_0
        return 0;
    }

    /// <summary>bpf_redirect(ifindex, flags) for tc: remembers the target; skb_do_redirect acts on it after TC_ACT_REDIRECT.</summary>
    public static ulong Redirect(BpfVm vm, ulong ifindex, ulong flags, ulong _, ulong __, ulong ___)
    {
        if (SkbContext.Of(vm) is not { } s) return 0;
        if ((flags & ~FIngress) != 0) return TcActShot;
        s.RedirectIfindex = (int)(uint)ifindex;
        s.RedirectIngress = (flags & FIngress) != 0;
        return TcActRedirect;
    }

    /// <summary>The update by field size (flags' low 4 bits): 0 adds to as a checksum difference, 2 and 4 replace from by to.</summary>
    private static long Update(Span<byte> field, ulong from, ulong to, ulong flags)
    {
        switch (flags & FHdrFieldMask)
        {
            case 0: Put(field, Replace(Get(field), 0, (uint)to, 4)); return 0;
            case 2 or 4: Put(field, Replace(Get(field), (uint)from, (uint)to, (int)(flags & FHdrFieldMask))); return 0;
            default: return EInval;
        }
    }

    // The checksum field and the values are taken as they lie in memory (the program passes
    // network-order values): one's complement sums do not depend on the byte order.
    private static ushort Get(Span<byte> f) => (ushort)(f[0] | f[1] << 8);
    private static void Put(Span<byte> f, ushort v) { f[0] = (byte)v; f[1] = (byte)(v >> 8); }

    /// <summary>HC' = ~(~HC + ~m + m') over 16-bit words (RFC 1624); size 2 uses the low word of from and to.</summary>
    internal static ushort Replace(ushort sum, uint from, uint to, int size)
    {
        ulong acc = (ushort)~sum;
        acc += (ushort)~from + (ulong)(ushort)to;
        if (size == 4) acc += (ushort)~(from >> 16) + (ulong)(ushort)(to >> 16);
        while (acc >> 16 != 0) acc = (acc & 0xFFFF) + (acc >> 16);
        return (ushort)~acc;
    }
}
