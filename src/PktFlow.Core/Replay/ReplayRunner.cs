using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Filter;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Replay;

public sealed class ReplayOptions
{
    /// <summary>Lab file; when null a lab next to the capture is used, else a host is inferred.</summary>
    public string? LabPath { get; init; }
    /// <summary>An already built topology (takes precedence over LabPath).</summary>
    public HostTopology? Topology { get; init; }
    /// <summary>"ns/dev" or "dev"; when null the single device, or the one frames are addressed to.</summary>
    public string? InjectAt { get; init; }
    public CaptureFilter? Filter { get; init; }
    /// <summary>Observe (default: the capture is a tap) or Inject (every frame arrives).</summary>
    public ReplayMode Mode { get; init; } = ReplayMode.Observe;
    /// <summary>A load balancer in front of the host (docs/load-balancer.md); its state starts afresh for each capture.</summary>
    public LoadBalancer.LoadBalancerConfig? LoadBalancer { get; init; }
    /// <summary>Stop after this many packets (after the filter), over all files.</summary>
    public long First { get; init; } = long.MaxValue;
}

/// <summary>
/// Replays capture files through the datapath: resolves the topology and the injection point, reads
/// frames in constant memory, applies the filter, and yields one event per packet or problem.
/// </summary>
public sealed class ReplayRunner
{
    public static readonly string[] LabNamesNextToCapture = { "{0}.lab", "{0}.lab.sh", "lab.sh" };

    private readonly ReplayOptions _options;
    private long _emitted;

    public ReplayRunner(ReplayOptions options) => _options = options;

    public bool Done => _emitted >= _options.First;

    /// <summary>The lab file that goes with a capture, by the naming convention, or null.</summary>
    public static string? FindLabNextTo(string capturePath)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(capturePath)) ?? ".";
        var stem = Path.GetFileNameWithoutExtension(capturePath);
        foreach (var pattern in LabNamesNextToCapture)
        {
            var candidate = Path.Combine(dir, string.Format(pattern, stem));
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    public IEnumerable<ReplayEvent> Run(string capturePath, CancellationToken cancel = default)
    {
        if (Done) yield break;
        HostTopology topology;
        var notes = new List<string>();
        if (_options.Topology is not null) topology = _options.Topology;
        else if (_options.LabPath is not null) topology = LabLoader.LoadFile(_options.LabPath);
        else if (FindLabNextTo(capturePath) is { } lab)
        {
            topology = LabLoader.LoadFile(lab);
            yield return new InfoEvent($"{Path.GetFileName(capturePath)}: using the lab file next to it, {lab}");
        }
        else
        {
            (topology, var description) = HostInference.Infer(capturePath);
            notes.Add(description);
            yield return new InfoEvent(description, IsWarning: true);
        }
        foreach (var w in topology.Warnings) yield return new InfoEvent(w, IsWarning: true);

        var engine = new DatapathEngine(topology)
        {
            Mode = _options.Mode,
            LoadBalancer = _options.LoadBalancer is { } lb ? new LoadBalancer.Balancer(lb) : null,
        };
        engine.LoadBalancer?.Validate(engine.ResolveInjectionPoint);
        InjectionPoint at;
        if (_options.InjectAt is not null) at = engine.ResolveInjectionPoint(_options.InjectAt);
        else
        {
            var guess = engine.DefaultInjectionPoint(CountDestinationMacs(capturePath), out var how);
            at = guess ?? throw new ArgumentException(
                $"{capturePath}: cannot tell which device of {topology.Source} the packets arrive on; pass -InjectAt ns/dev (devices: {string.Join(", ", topology.Host.Devices.Where(d => !d.IsLoopback).Select(d => d.Name))})");
            if (topology.Host.Devices.Count(d => !d.IsLoopback) > 1) notes.Add($"injected at {at}: {how} (use -InjectAt to choose)");
        }

        var senders = WireSenders(capturePath, at.Device.Mac, out var scanned);
        engine.ObserveSenders(at, senders);
        if (scanned >= SenderScanLimit)
            notes.Add($"neighbours on {at} were judged from the first {SenderScanLimit} frames (who sends on the wire)");

        using var reader = CaptureReader.Open(capturePath);
        var warnedLinkTypes = new HashSet<LinkType>();
        long frames = 0;
        while (!Done)
        {
            cancel.ThrowIfCancellationRequested();
            var status = reader.Read(out var frame, out var problem);
            if (status == CaptureReadStatus.End) break;
            if (status == CaptureReadStatus.Problem)
            {
                yield return new ProblemEvent(problem!);
                continue;
            }
            frames++;
            if ((frames & 0x3FF) == 0) yield return new ProgressEvent(capturePath, reader.Position, reader.Length, frames);
            if (_options.Filter is { } f)
            {
                if (warnedLinkTypes.Add(frame.LinkType) && f.CheckLinkType(frame.LinkType) is { } refusal)
                    yield return new InfoEvent($"{Path.GetFileName(capturePath)}: -Filter '{f.Expression}': {refusal} (tcpdump refuses it; no frame of this link type matches)", IsWarning: true);
                if (!f.Matches(frame.LinkType, frame.Data.Span, frame.OriginalLength)) continue;
            }
            _emitted++;
            yield return new TraceEvent(engine.Process(frame, capturePath, at, notes));
        }
    }

    public const int SenderScanLimit = 1_000_000;

    /// <summary>Addresses that send frames on the captured wire (not the host itself): ARP senders, IP/IPv6 sources.</summary>
    private static HashSet<IpAddr> WireSenders(string capturePath, MacAddress hostMac, out long scanned)
    {
        var set = new HashSet<IpAddr>();
        scanned = 0;
        using var reader = CaptureReader.Open(capturePath);
        while (scanned < SenderScanLimit)
        {
            var s = reader.Read(out var frame, out _);
            if (s == CaptureReadStatus.End) break;
            if (s != CaptureReadStatus.Frame) continue;
            scanned++;
            var data = frame.Data.Span;
            if (!LinkLayer.TryDecode(frame.LinkType, data, out var link, out _)) continue;
            ushort type = link.EtherType;
            var l3 = data[link.NetworkOffset..];
            if (link.IsEthernet)
            {
                if (!EthernetFrame.TryParse(data, out var eth, out _) || eth.Source == hostMac) continue;
                type = eth.EtherType;
                l3 = eth.Payload;
            }
            else if (link.PacketType == LinuxPacketType.Outgoing) continue;
            if (type == EtherTypes.Arp && ArpPacket.TryParse(l3, out var arp, out _) && arp.IsEthernetIpv4 && !arp.SenderIp.IsZero) set.Add(arp.SenderIp);
            else if (type == EtherTypes.Ipv4 && Ipv4Header.TryParse(l3, out var ip, out _)) set.Add(ip.Source);
            else if (type == EtherTypes.Ipv6 && Ipv6Header.TryParse(l3, out var ip6, out _) && !ip6.Source.IsZero) set.Add(ip6.Source);
        }
        return set;
    }

    private static Dictionary<MacAddress, int> CountDestinationMacs(string capturePath)
    {
        var counts = new Dictionary<MacAddress, int>();
        using var reader = CaptureReader.Open(capturePath);
        for (int i = 0; i < HostInference.FramesToLook; i++)
        {
            var s = reader.Read(out var frame, out _);
            if (s == CaptureReadStatus.End) break;
            if (s == CaptureReadStatus.Frame && frame.LinkType == LinkType.Ethernet && EthernetFrame.TryParse(frame.Data.Span, out var eth, out _))
                counts[eth.Destination] = counts.GetValueOrDefault(eth.Destination) + 1;
        }
        return counts;
    }
}
