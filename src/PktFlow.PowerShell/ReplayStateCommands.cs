using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using PktFlow.Netfilter;
using PktFlow.Replay;

namespace PktFlow.PowerShell;

/// <summary>
/// The last replay of each runspace, so that Get-PktFlowCounter and friends work right after
/// Invoke-PacketFlow without a variable. Weakly keyed: a closed runspace lets go of it.
/// </summary>
internal static class LastReplay
{
    private static readonly ConditionalWeakTable<Runspace, List<ReplayState>> ByRunspace = new();

    public static void Set(IReadOnlyList<ReplayState> states)
    {
        if (Runspace.DefaultRunspace is { } rs) ByRunspace.AddOrUpdate(rs, states.ToList());
    }

    public static IReadOnlyList<ReplayState> Get() =>
        Runspace.DefaultRunspace is { } rs && ByRunspace.TryGetValue(rs, out var s) ? s : Array.Empty<ReplayState>();
}

/// <summary>Common parameters: which replay (default: the last Invoke-PacketFlow of this session) and namespace.</summary>
public abstract class ReplayStateCommand : PSCmdlet
{
    /// <summary>A replay's state, from Invoke-PacketFlow -StateVariable; default: the last replay in this session.</summary>
    [Parameter(ValueFromPipeline = true)]
    public ReplayState[]? State { get; set; }

    /// <summary>Only this namespace.</summary>
    [Parameter(Position = 0)]
    public string? Namespace { get; set; }

    protected IEnumerable<ReplayState> States()
    {
        var states = State ?? (IReadOnlyList<ReplayState>)LastReplay.Get();
        if (states.Count == 0)
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException("no replay yet: run Invoke-PacketFlow first, or pass -State from Invoke-PacketFlow -StateVariable"),
                "PktFlow.NoReplay", ErrorCategory.ObjectNotFound, null));
        return states;
    }
}

/// <summary>Get-PktFlowCounter: netfilter counters after a replay (rule counters, policies, named counters, quotas), like nft list ruleset / iptables -L -v -n.</summary>
[Cmdlet(VerbsCommon.Get, "PktFlowCounter")]
[OutputType(typeof(NetfilterCounter))]
public sealed class GetPktFlowCounterCommand : ReplayStateCommand
{
    /// <summary>Only this table.</summary>
    [Parameter]
    public string? Table { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var s in States())
            foreach (var c in s.Counters(Namespace)) if (Table is null || c.Table == Table) WriteObject(c);
    }
}

/// <summary>Get-PktFlowSet: the elements of named sets after a replay, with what rules added and the time left.</summary>
[Cmdlet(VerbsCommon.Get, "PktFlowSet")]
[OutputType(typeof(NetfilterSetElement))]
public sealed class GetPktFlowSetCommand : ReplayStateCommand
{
    /// <summary>Only this set.</summary>
    [Parameter]
    public string? Name { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var s in States())
            foreach (var e in s.SetElements(Namespace)) if (Name is null || e.Set == Name) WriteObject(e);
    }
}

/// <summary>Get-PktFlowConntrack: the conntrack table of each namespace after a replay, like conntrack -L;
/// with -Expect the expectations conntrack helpers made, like conntrack -L expect.</summary>
[Cmdlet(VerbsCommon.Get, "PktFlowConntrack", DefaultParameterSetName = EntriesSet)]
[OutputType(typeof(ConntrackListing), ParameterSetName = [EntriesSet])]
[OutputType(typeof(ConntrackExpectListing), ParameterSetName = [ExpectSet])]
public sealed class GetPktFlowConntrackCommand : ReplayStateCommand
{
    private const string EntriesSet = "Entries", ExpectSet = "Expect";

    /// <summary>List the expectations (conntrack -L expect) instead of the entries.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ExpectSet)]
    public SwitchParameter Expect { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var s in States())
        {
            if (Expect) foreach (var x in s.ConntrackExpectations(Namespace)) WriteObject(x);
            else foreach (var e in s.Conntrack(Namespace)) WriteObject(e);
        }
    }
}

/// <summary>Get-PktFlowRouteCache: the path MTUs each namespace learned from ICMP errors and still holds after a replay, like ip route show cache.</summary>
[Cmdlet(VerbsCommon.Get, "PktFlowRouteCache")]
[OutputType(typeof(PktFlow.Routing.RouteCacheEntry))]
public sealed class GetPktFlowRouteCacheCommand : ReplayStateCommand
{
    protected override void ProcessRecord()
    {
        foreach (var s in States())
            foreach (var e in s.RouteCache(Namespace)) WriteObject(e);
    }
}

/// <summary>Get-PktFlowSocket: the TCP and UDP sockets each namespace has after a replay (lab listeners and UDP sockets, connections with their state), like ss -tan and ss -uan.</summary>
[Cmdlet(VerbsCommon.Get, "PktFlowSocket")]
[OutputType(typeof(PktFlow.Socket.SocketListing))]
public sealed class GetPktFlowSocketCommand : ReplayStateCommand
{
    /// <summary>Only sockets in this state (LISTEN, ESTABLISHED, TIME_WAIT, ..., UNCONN).</summary>
    [Parameter]
    public string? TcpState { get; set; }

    /// <summary>Only sockets of this protocol.</summary>
    [Parameter]
    [ValidateSet("tcp", "udp")]
    public string? Protocol { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var s in States())
            foreach (var e in s.Sockets(Namespace))
                if ((TcpState is null || string.Equals(e.State, TcpState, StringComparison.OrdinalIgnoreCase))
                    && (Protocol is null || string.Equals(e.Protocol, Protocol, StringComparison.OrdinalIgnoreCase))) WriteObject(e);
    }
}

/// <summary>Get-PktFlowBpfMap: the maps of the XDP and tc programs each namespace ran, after a replay, like bpftool map dump.</summary>
[Cmdlet(VerbsCommon.Get, "PktFlowBpfMap")]
[OutputType(typeof(PktFlow.Bpf.BpfMapListing))]
public sealed class GetPktFlowBpfMapCommand : ReplayStateCommand
{
    /// <summary>Only this map (its name in the object file).</summary>
    [Parameter]
    public string? Name { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var s in States())
            foreach (var e in s.BpfMaps(Namespace)) if (Name is null || e.Map == Name) WriteObject(e);
    }
}
