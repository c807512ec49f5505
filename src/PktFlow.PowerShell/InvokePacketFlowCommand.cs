using System.Collections.ObjectModel;
using System.Management.Automation;
using PktFlow.Capture;
using PktFlow.Filter;
using PktFlow.LoadBalancer;
using PktFlow.Replay;
using PktFlow.Topology;
using PktFlow.Topology.Lab;

namespace PktFlow.PowerShell;

/// <summary>
/// Invoke-PacketFlow: replays capture files through the modelled host and writes one
/// PktFlow.PacketTrace per packet (or one error record per unreadable record).
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "PacketFlow")]
[OutputType(typeof(PacketTrace))]
public sealed class InvokePacketFlowCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "Path", "PSPath")]
    [ValidateNotNullOrEmpty]
    public string[] Pcap { get; set; } = Array.Empty<string>();

    /// <summary>A lab file of iproute2/sysctl commands describing the host (docs/lab-format.md).</summary>
    [Parameter]
    public string? Lab { get; set; }

    /// <summary>A topology from Import-PktFlowTopology.</summary>
    [Parameter]
    public HostTopology? Topology { get; set; }

    /// <summary>Where packets arrive: "namespace/device" or "device"; "any" or "namespace/any": each frame at the device it was captured on (tcpdump -i any, pcapng interfaces).</summary>
    [Parameter]
    public string? InjectAt { get; set; }

    /// <summary>Observe (default): the capture is a tap, frames the host sent are traced from where they were sent. Inject: every frame arrives on the device, as tcpreplay sends it.</summary>
    [Parameter]
    public Datapath.ReplayMode Mode { get; set; } = Datapath.ReplayMode.Observe;

    /// <summary>A tcpdump-style filter on the input packets.</summary>
    [Parameter]
    public string? Filter { get; set; }

    /// <summary>A load balancer file (docs/load-balancer.md): packets to its VIPs pass it first and enter at the chosen backend.</summary>
    [Parameter]
    public string? LoadBalancer { get; set; }

    /// <summary>Stop after this many packets (after -Filter).</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long First { get; set; } = long.MaxValue;

    /// <summary>Seeds random rules (numgen random, -m statistic --mode random): the same seed gives the same replay. Default 1.</summary>
    [Parameter]
    public int Seed { get; set; } = Datapath.DatapathEngine.DefaultSeed;

    /// <summary>Seeded (default): random rules follow -Seed. All: each trace's Outcomes also lists every outcome they could have had, with its probability.</summary>
    [Parameter]
    public Datapath.RandomOutcomes Outcomes { get; set; } = Datapath.RandomOutcomes.Seeded;

    /// <summary>
    /// When the lab was applied (its ports came up), on the capture's clock: timers the lab starts run
    /// from there (a bridge with stp_state 1: listening, learning, forwarding by forward_delay). Without
    /// it such a bridge is taken as settled long before the capture.
    /// </summary>
    [Parameter]
    public DateTimeOffset? LabTime { get; set; }

    /// <summary>
    /// With -Lab (or a lab found next to the capture): load rules the model cannot evaluate, marked
    /// unsupported, instead of refusing the lab; a packet that meets one goes on past it and its trace says
    /// "unsupported: ...". A -Topology was loaded by Import-PktFlowTopology, whose own -AllowUnsupported decided.
    /// </summary>
    [Parameter]
    public SwitchParameter AllowUnsupported { get; set; }

    /// <summary>Stores what the replay left behind (conntrack, counters, sets; one PktFlow.Replay.ReplayState per capture file) in this variable.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StateVariable { get; set; }

    private ReplayRunner? _runner;
    private readonly CancellationTokenSource _cancel = new();

    protected override void BeginProcessing()
    {
        CaptureFilter? filter = null;
        if (Filter is not null)
        {
            try { filter = CaptureFilter.Parse(Filter); }
            catch (FilterSyntaxException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, "PktFlow.FilterSyntax", ErrorCategory.InvalidArgument, Filter));
            }
        }
        string? lab = null;
        if (Lab is not null)
        {
            lab = GetUnresolvedProviderPathFromPSPath(Lab);
            if (!File.Exists(lab))
                ThrowTerminatingError(new ErrorRecord(new FileNotFoundException($"lab file '{lab}' does not exist"), "PktFlow.LabNotFound", ErrorCategory.ObjectNotFound, Lab));
        }
        LoadBalancerConfig? lb = null;
        if (LoadBalancer is not null)
        {
            var path = GetUnresolvedProviderPathFromPSPath(LoadBalancer);
            try { lb = LoadBalancerConfigReader.LoadFile(path); }
            catch (Exception e) when (e is LoadBalancerConfigException or IOException or UnauthorizedAccessException)
            {
                ThrowTerminatingError(new ErrorRecord(e, e is LoadBalancerConfigException ? "PktFlow.LoadBalancerConfig" : "PktFlow.LoadBalancerNotFound",
                    e is LoadBalancerConfigException ? ErrorCategory.InvalidData : ErrorCategory.ObjectNotFound, LoadBalancer));
            }
        }
        _runner = new ReplayRunner(new ReplayOptions { LabPath = lab, Topology = Topology, InjectAt = InjectAt, Filter = filter, First = First, Mode = Mode, Seed = Seed, Outcomes = Outcomes, LoadBalancer = lb, AllowUnsupported = AllowUnsupported.IsPresent,
            LabDoneNs = LabTime is { } at ? (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100 : null });
    }

    protected override void ProcessRecord()
    {
        foreach (var p in Pcap)
        {
            if (_runner!.Done) return;
            foreach (var path in Resolve(p)) ReplayFile(path);
        }
    }

    private IEnumerable<string> Resolve(string p)
    {
        Collection<string> paths;
        try { paths = GetResolvedProviderPathFromPSPath(p, out _); }
        catch (ItemNotFoundException e)
        {
            WriteError(new ErrorRecord(e, "PktFlow.CaptureNotFound", ErrorCategory.ObjectNotFound, p));
            yield break;
        }
        foreach (var path in paths) yield return path;
    }

    private void ReplayFile(string path)
    {
        var progress = new ProgressRecord(1, "Invoke-PacketFlow", Path.GetFileName(path));
        var events = _runner!.Run(path, _cancel.Token).GetEnumerator();
        try
        {
            while (true)
            {
                try
                {
                    if (!events.MoveNext()) break;
                }
                catch (CaptureFormatException e)
                {
                    WriteError(new ErrorRecord(e, $"PktFlow.Capture.{e.Code}", ErrorCategory.InvalidData, path));
                    return;
                }
                catch (LabException e)
                {
                    ThrowTerminatingError(new ErrorRecord(e, "PktFlow.LabError", ErrorCategory.InvalidData, e.File));
                }
                catch (LoadBalancerConfigException e)
                {
                    ThrowTerminatingError(new ErrorRecord(e, "PktFlow.LoadBalancerConfig", ErrorCategory.InvalidData, LoadBalancer));
                }
                catch (ArgumentException e)
                {
                    ThrowTerminatingError(new ErrorRecord(e, "PktFlow.InjectionPoint", ErrorCategory.InvalidArgument, InjectAt ?? path));
                }
                catch (IOException e)
                {
                    WriteError(new ErrorRecord(e, "PktFlow.CaptureUnreadable", ErrorCategory.ReadError, path));
                    return;
                }
                switch (events.Current)
                {
                    case TraceEvent te: WriteObject(te.Trace); break;
                    case ProblemEvent pe:
                        WriteError(new ErrorRecord(new InvalidDataException(pe.Problem.Message), $"PktFlow.Capture.{pe.Problem.Code}",
                            ErrorCategory.InvalidData, pe.Problem.File)
                        { ErrorDetails = new ErrorDetails(pe.Problem.Message) { RecommendedAction = "The frames before this offset were replayed; repair or re-capture the file to see the rest." } });
                        break;
                    case InfoEvent ie:
                        if (ie.IsWarning) WriteWarning(ie.Message); else WriteVerbose(ie.Message);
                        break;
                    case ProgressEvent pg when pg.Length > 0:
                        progress.PercentComplete = (int)Math.Clamp(100 * pg.Position / pg.Length, 0, 100);
                        progress.StatusDescription = $"{pg.Frames} frames";
                        WriteProgress(progress);
                        break;
                }
            }
        }
        finally
        {
            events.Dispose();
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }
    }

    protected override void EndProcessing()
    {
        if (_runner is null) return;
        LastReplay.Set(_runner.States);
        if (StateVariable is not null) SessionState.PSVariable.Set(StateVariable, _runner.States.ToArray());
    }

    protected override void StopProcessing() => _cancel.Cancel();
}
