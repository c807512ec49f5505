using System.Management.Automation;
using PktFlow.Topology;
using PktFlow.Topology.Lab;

namespace PktFlow.PowerShell;

/// <summary>
/// Import-PktFlowTopology: builds the host model once, from a lab file (-Lab) or from a snapshot of a
/// live host made by scripts/pktflow-collect.sh (-Snapshot), for -Topology and for inspection. With a
/// lab, -Traffic adds the client sockets the lab's traffic script opens.
/// </summary>
[Cmdlet(VerbsData.Import, "PktFlowTopology", DefaultParameterSetName = LabSet)]
[OutputType(typeof(HostTopology))]
public sealed class ImportPktFlowTopologyCommand : PSCmdlet
{
    private const string LabSet = "Lab", SnapshotSet = "Snapshot";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = LabSet)]
    public string Lab { get; set; } = "";

    /// <summary>The lab's traffic script: read only for the client sockets its commands open (socat TCP:/UDP: with sourceport=, ping -e), nothing run.</summary>
    [Parameter(ParameterSetName = LabSet)]
    public string? Traffic { get; set; }

    /// <summary>A snapshot directory written by pktflow-collect.sh (one folder per namespace).</summary>
    [Parameter(Mandatory = true, ParameterSetName = SnapshotSet)]
    public string Snapshot { get; set; } = "";

    /// <summary>
    /// Load rules the model cannot evaluate (nft expressions, iptables matches), marked unsupported: a packet
    /// that meets one goes on past it and its trace says "unsupported: ...". Without it such a ruleset is
    /// refused, naming the file, line and expression.
    /// </summary>
    [Parameter]
    public SwitchParameter AllowUnsupported { get; set; }

    protected override void EndProcessing()
    {
        var path = GetUnresolvedProviderPathFromPSPath(ParameterSetName == SnapshotSet ? Snapshot : Lab);
        var options = new TopologyLoadOptions { AllowUnsupported = AllowUnsupported.IsPresent };
        try
        {
            var topology = ParameterSetName == SnapshotSet ? Topology.Snapshot.SnapshotLoader.Load(path, options)
                : LabLoader.LoadFile(path, Traffic is null ? null : GetUnresolvedProviderPathFromPSPath(Traffic), options);
            foreach (var w in topology.Warnings) WriteWarning(w);
            WriteObject(topology);
        }
        catch (LabException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "PktFlow.LabError", ErrorCategory.InvalidData, e.File));
        }
        catch (Topology.Snapshot.SnapshotException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "PktFlow.SnapshotError", ErrorCategory.InvalidData, e.File));
        }
        catch (IOException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "PktFlow.TopologyNotFound", ErrorCategory.ObjectNotFound, path));
        }
    }
}

/// <summary>New-PktFlowTopology: a topology from lab commands given inline (pipeline or -Command).</summary>
[Cmdlet(VerbsCommon.New, "PktFlowTopology")]
[OutputType(typeof(HostTopology))]
public sealed class NewPktFlowTopologyCommand : PSCmdlet
{
    /// <summary>Lab lines: iproute2 and sysctl commands, as in a lab file.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string[] Command { get; set; } = Array.Empty<string>();

    /// <summary>Load rules the model cannot evaluate, marked unsupported, instead of refusing them (as Import-PktFlowTopology -AllowUnsupported).</summary>
    [Parameter]
    public SwitchParameter AllowUnsupported { get; set; }

    private readonly List<string> _lines = new();

    protected override void ProcessRecord() => _lines.AddRange(Command);

    protected override void EndProcessing()
    {
        try
        {
            var topology = LabLoader.Load(string.Join('\n', _lines) + "\n", "New-PktFlowTopology", new TopologyLoadOptions { AllowUnsupported = AllowUnsupported.IsPresent });
            foreach (var w in topology.Warnings) WriteWarning(w);
            WriteObject(topology);
        }
        catch (LabException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "PktFlow.LabError", ErrorCategory.InvalidData, e.Command));
        }
    }
}
