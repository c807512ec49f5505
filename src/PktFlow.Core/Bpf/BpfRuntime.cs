namespace PktFlow.Bpf;

/// <summary>
/// One attached program during one replay: its VM (reused for every packet), its context and the
/// contents of its maps. iproute2 loads the object anew for each attachment, so maps are not shared
/// between attachments (pinning is not modelled).
/// </summary>
public sealed class BpfRuntime
{
    public BpfProgram Program { get; }
    public BpfVm Vm { get; }
    public BpfMapState[] Maps { get; }
    public XdpContext Xdp { get; } = new();
    public SkbContext Skb { get; } = new();

    public BpfRuntime(BpfProgram program, BpfHelperTable helpers)
    {
        Program = program;
        Vm = new BpfVm(helpers) { Host = Xdp };
        Maps = program.Maps.Select(m => new BpfMapState(m)).ToArray();
    }
}
