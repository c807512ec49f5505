namespace PktFlow.Bpf;

/// <summary>
/// One attached program during one replay: its VM (reused for every packet), its context and the
/// contents of its maps. iproute2 loads the object anew for each attachment, so maps are not shared
/// between attachments (pinned maps shared by name are not modelled).
/// </summary>
public sealed class BpfRuntime
{
    public BpfProgram Program { get; }
    public BpfVm Vm { get; }
    public BpfMapState[] Maps { get; }
    public XdpContext Xdp { get; } = new();
    public SkbContext Skb { get; } = new();

    public BpfRuntime(BpfProgram program, BpfHelperTable helpers, IReadOnlyList<BpfMapUpdate>? updates = null)
    {
        Program = program;
        Vm = new BpfVm(helpers) { Host = Xdp };
        Maps = program.Maps.Select(m => new BpfMapState(m)).ToArray();
        foreach (var m in Maps) FillProgramArray(m);
        foreach (var u in updates ?? [])
        {
            // the lab loader checked the map, the sizes and the index; what is left is the flags' verdict
            var map = Maps.First(m => m.Def.Name == u.MapName);
            if (map.Update(u.Key, u.Value, u.Flags) is < 0 and var err)
                throw new InvalidOperationException($"{u.Source}: map update of {u.MapName} failed ({err})");
        }
    }

    /// <summary>
    /// libbpf fills a program array's slots from `.values` when it loads the object; when the loader
    /// (tc, ip) exits, the last user reference to an unpinned array goes and the kernel empties it
    /// (map_release_uref -> bpf_fd_array_map_clear), before any packet. A pinned one keeps its slots.
    /// </summary>
    private void FillProgramArray(BpfMapState m)
    {
        if (m.Def.ProgramSlots is not { } slots || !m.Def.Pinned) return;
        foreach (var (slot, name) in slots)
            if (name == Program.Name) m.SetProgram(slot, Program);
    }
}
