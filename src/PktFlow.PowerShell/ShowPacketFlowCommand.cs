using System.Management.Automation;
using PktFlow.Render;

namespace PktFlow.PowerShell;

/// <summary>Show-PacketFlow: draws each trace's path as a text diagram (stages, verdicts, fate).</summary>
[Cmdlet(VerbsCommon.Show, "PacketFlow")]
[OutputType(typeof(string))]
public sealed class ShowPacketFlowCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public PacketTrace[] Trace { get; set; } = Array.Empty<PacketTrace>();

    /// <summary>Colour drops red and unmodelled stages grey (ANSI).</summary>
    [Parameter]
    public SwitchParameter Color { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var t in Trace) WriteObject(PathDiagram.Render(t, Color.IsPresent));
    }
}
