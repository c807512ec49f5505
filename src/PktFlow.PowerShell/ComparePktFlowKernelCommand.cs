using System.Management.Automation;
using PktFlow.Judge;

namespace PktFlow.PowerShell;

/// <summary>
/// Compare-PktFlowKernel: the judge. Replays each recorded scenario (tests/scenarios/NAME: lab.sh,
/// wire.pcap, kernel.json) through the model and compares every frame with what the kernel did.
/// </summary>
[Cmdlet(VerbsData.Compare, "PktFlowKernel")]
[OutputType(typeof(ScenarioJudgement))]
public sealed class ComparePktFlowKernelCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "Path")]
    public string[] Scenario { get; set; } = Array.Empty<string>();

    protected override void ProcessRecord()
    {
        foreach (var s in Scenario)
        {
            var dir = GetUnresolvedProviderPathFromPSPath(s);
            if (!File.Exists(Path.Combine(dir, "kernel.json")))
            {
                WriteError(new ErrorRecord(new FileNotFoundException($"{dir} has no kernel.json: record it first (build.ps1 Record -Scenario NAME)"),
                    "PktFlow.ScenarioNotRecorded", ErrorCategory.ObjectNotFound, dir));
                continue;
            }
            try { WriteObject(ScenarioJudge.Judge(dir)); }
            catch (Exception e) when (e is IOException or System.Text.Json.JsonException or Topology.Lab.LabException or ArgumentException or KeyNotFoundException)
            {
                WriteError(new ErrorRecord(e, "PktFlow.ScenarioUnreadable", ErrorCategory.InvalidData, dir));
            }
        }
    }
}
