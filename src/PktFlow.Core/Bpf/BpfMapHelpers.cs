namespace PktFlow.Bpf;

/// <summary>bpf_map_lookup_elem / update / delete (kernel/bpf/helpers.c) over <see cref="BpfMapState"/>.</summary>
internal static class BpfMapHelpers
{
    public static ulong Lookup(BpfVm vm, ulong map, ulong keyPtr, ulong _3, ulong _4, ulong _5)
    {
        if (Map(vm, map) is not { } m || m.Def.Type == BpfMapType.CpuMap && Refused(vm, m, "bpf_map_lookup_elem")) return 0;
        var key = vm.Bytes(keyPtr, m.Def.KeySize, false, "key");
        if (key.IsEmpty && m.Def.KeySize > 0) return 0;
        var value = m.Lookup(key);
        if (value is null) return 0;
        ulong addr = vm.Memory.Add(value, 0, value.Length, !m.Def.ReadOnly, m.ValueRegion);
        if (addr == 0) vm.Fail($"more than {BpfMemory.MaxRegions} pointers in one run");
        return addr;
    }

    public static ulong Update(BpfVm vm, ulong map, ulong keyPtr, ulong valuePtr, ulong flags, ulong _5)
    {
        if (Map(vm, map) is not { } m || Refused(vm, m, "bpf_map_update_elem")) return 0;
        var key = vm.Bytes(keyPtr, m.Def.KeySize, false, "key");
        var value = vm.Bytes(valuePtr, m.Def.ValueSize, false, "value");
        if (key.Length != m.Def.KeySize || value.Length != m.Def.ValueSize) return 0;
        return (ulong)m.Update(key, value, flags);
    }

    public static ulong Delete(BpfVm vm, ulong map, ulong keyPtr, ulong _3, ulong _4, ulong _5)
    {
        if (Map(vm, map) is not { } m || Refused(vm, m, "bpf_map_delete_elem")) return 0;
        var key = vm.Bytes(keyPtr, m.Def.KeySize, false, "key");
        if (key.Length != m.Def.KeySize) return 0;
        return (ulong)m.Delete(key);
    }

    /// <summary>check_map_func_compatibility: a program may only redirect through a devmap, cpumap or xskmap, and look up the first and last.</summary>
    private static bool Refused(BpfVm vm, BpfMapState m, string helper)
    {
        if (!m.Def.IsRedirectMap) return false;
        vm.Fail($"unsupported: {helper} on {m.Def.Name}, a {m.Def.Type} map (the verifier refuses it: user space fills such maps)");
        return true;
    }

    private static BpfMapState? Map(BpfVm vm, ulong handle)
    {
        var m = vm.MapOf(handle);
        if (m is null) vm.Fail($"r1 0x{handle:x} is not a map");
        // the verifier allows a program array only as bpf_tail_call's map (check_map_func_compatibility)
        else if (m.Def.Type == BpfMapType.ProgArray) { vm.Fail($"map {m.Def.Name} is a program array: only bpf_tail_call may use it"); return null; }
        return m;
    }
}
