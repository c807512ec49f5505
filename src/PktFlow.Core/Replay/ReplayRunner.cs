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
    /// <summary>Seeds random rules (numgen random, statistic random).</summary>
    public int Seed { get; init; } = DatapathEngine.DefaultSeed;
    /// <summary>Seeded, or All: list every outcome of random rules in each trace.</summary>
    public RandomOutcomes Outcomes { get; init; } = RandomOutcomes.Seeded;
    /// <summary>The judge's pins for multipath choices made with a capture's per-boot hash (Routing.CaptureHashedNexthops).</summary>
    public Routing.CaptureHashedNexthops? CaptureHashedPins { get; init; }
    /// <summary>When the lab was applied (Unix ns, the capture's clock); null: long before the capture (see DatapathEngine.LabDoneNs).</summary>
    public long? LabDoneNs { get; init; }
    /// <summary>Load rules the model cannot evaluate, marked unsupported, instead of refusing the lab (<see cref="TopologyLoadOptions"/>).</summary>
    public bool AllowUnsupported { get; init; }
    /// <summary>Called with (namespace, device, frame) for every frame the model transmits (tests compare them with a recording's).</summary>
    internal Action<string, string, byte[]>? OnTransmit { get; init; }
}

/// <summary>
/// What the modelled host remembers after replaying one capture file: conntrack, netfilter counters,
/// quotas and set contents, per namespace. Read it with <see cref="Counters"/>, <see cref="SetElements"/>
/// and <see cref="Conntrack"/> (Get-PktFlowCounter, Get-PktFlowSet, Get-PktFlowConntrack).
/// </summary>
public sealed class ReplayState
{
    private readonly DatapathEngine _engine;
    internal ReplayState(string file, DatapathEngine engine) { File = file; _engine = engine; }

    public string File { get; }
    public int Seed => _engine.Seed;
    public HostTopology Topology => _engine.Topology;
    public IReadOnlyList<NamespaceState> Namespaces => _engine.States;

    private IEnumerable<(NamespaceState State, Netfilter.Nftables.NftRuleset Rules)> WithRules(string? ns) =>
        Topology.Namespaces.Where(n => ns is null || n.Name == ns).Zip(Namespaces.Where(n => ns is null || n.Name == ns))
            .Where(x => x.First.Nft is not null).Select(x => (x.Second, x.First.Nft!));

    public IEnumerable<Netfilter.NetfilterCounter> Counters(string? ns = null) => WithRules(ns).SelectMany(x => Netfilter.NfStateListing.Counters(x.State.Name, x.State.Nft, x.Rules));
    public IEnumerable<Netfilter.NetfilterSetElement> SetElements(string? ns = null) => WithRules(ns).SelectMany(x => Netfilter.NfStateListing.SetElements(x.State.Name, x.State.Nft, x.Rules));
    public IEnumerable<Netfilter.ConntrackListing> Conntrack(string? ns = null) =>
        Namespaces.Where(n => ns is null || n.Name == ns).SelectMany(Netfilter.NfStateListing.Conntrack);
    /// <summary>The expectations conntrack helpers made and no connection used yet (conntrack -L expect).</summary>
    public IEnumerable<Netfilter.ConntrackExpectListing> ConntrackExpectations(string? ns = null) =>
        Namespaces.Where(n => ns is null || n.Name == ns).SelectMany(Netfilter.NfStateListing.Expectations);
    /// <summary>The path MTUs each namespace learned and still holds at the last frame (ip route show cache).</summary>
    public IEnumerable<Routing.RouteCacheEntry> RouteCache(string? ns = null) =>
        Namespaces.Where(n => ns is null || n.Name == ns).SelectMany(n => Routing.RouteCacheEntry.List(n, _engine.LastFrameNs));
    /// <summary>The TCP sockets each namespace has at the last frame: lab listeners and connections with their state (ss -tan).</summary>
    public IEnumerable<Socket.SocketListing> Sockets(string? ns = null) =>
        Topology.Namespaces.Zip(Namespaces).Where(x => ns is null || x.First.Name == ns)
            .SelectMany(x => Socket.SocketListing.List(x.First, x.Second, _engine.LastFrameNs));
    /// <summary>The maps of each namespace's attached XDP and tc programs at the end of the replay (bpftool map dump).</summary>
    public IEnumerable<Bpf.BpfMapListing> BpfMaps(string? ns = null) =>
        Namespaces.Where(n => ns is null || n.Name == ns).SelectMany(Bpf.BpfMapListing.List);
    public override string ToString() => $"replay of {System.IO.Path.GetFileName(File)} (seed {Seed}, {Namespaces.Count} namespace(s))";
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

    private readonly List<ReplayState> _states = new();
    /// <summary>The state each replayed file left behind, in order (one engine per file).</summary>
    public IReadOnlyList<ReplayState> States => _states;

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

    private TopologyLoadOptions LoadOptions => new() { AllowUnsupported = _options.AllowUnsupported };

    public IEnumerable<ReplayEvent> Run(string capturePath, CancellationToken cancel = default)
    {
        if (Done) yield break;
        HostTopology topology;
        bool inferred = false;
        var notes = new List<string>();
        if (_options.Topology is not null) topology = _options.Topology;
        else if (_options.LabPath is not null) topology = LabLoader.LoadFile(_options.LabPath, null, LoadOptions);
        else if (FindLabNextTo(capturePath) is { } lab)
        {
            // a recorded scenario's layout (lab.sh, traffic.sh, wire.pcap): its traffic's client sockets too, as the judge reads them
            var traffic = Path.GetFileName(lab) == "lab.sh" && Path.Combine(Path.GetDirectoryName(lab) ?? ".", "traffic.sh") is var t && File.Exists(t) ? t : null;
            topology = LabLoader.LoadFile(lab, traffic, LoadOptions);
            yield return new InfoEvent($"{Path.GetFileName(capturePath)}: using the lab file next to it, {lab}{(traffic is null ? "" : $", and the client sockets {traffic} opens")}");
        }
        else
        {
            (topology, var description) = HostInference.Infer(capturePath);
            inferred = true;
            notes.Add(description);
            yield return new InfoEvent(description, IsWarning: true);
        }
        foreach (var w in topology.Warnings) yield return new InfoEvent(w, IsWarning: true);

        var points = CapturePoints.For(topology, _options.InjectAt, capturePath, inferred);
        if (points is not null)
            yield return new InfoEvent($"{Path.GetFileName(capturePath)}: a capture of several devices of {points.Namespace.Name}: each frame enters at the device it was captured on, and later copies of a packet are recognised as copies");
        var engine = new DatapathEngine(topology)
        {
            CopiesIn = points?.Namespace,
            Mode = _options.Mode,
            Seed = _options.Seed,
            Outcomes = _options.Outcomes,
            CaptureHashedPins = _options.CaptureHashedPins,
            LabDoneNs = _options.LabDoneNs,
            LoadBalancer = _options.LoadBalancer is { } lb ? new LoadBalancer.Balancer(lb) : null,
            OnTransmit = _options.OnTransmit,
        };
        engine.LoadBalancer?.Validate(engine.ResolveInjectionPoint);
        _states.Add(new ReplayState(capturePath, engine));
        InjectionPoint at;
        if (points is not null) at = new InjectionPoint(points.Namespace, points.Namespace.Devices[0]); // each frame's own device replaces it
        else if (_options.InjectAt is not null) at = engine.ResolveInjectionPoint(_options.InjectAt);
        else
        {
            var guess = engine.DefaultInjectionPoint(CountDestinationMacs(capturePath), out var how);
            at = guess ?? throw new ArgumentException(
                $"{capturePath}: cannot tell which device of {topology.Source} the packets arrive on; pass -InjectAt ns/dev (devices: {string.Join(", ", topology.Host.Devices.Where(d => !d.IsLoopback).Select(d => d.Name))})");
            if (topology.Host.Devices.Count(d => !d.IsLoopback) > 1) notes.Add($"injected at {at}: {how} (use -InjectAt to choose)");
        }

        var single = at;
        var senders = WireSenders(capturePath, f => points is null ? single : points.TryResolve(f, out var p, out _) ? p : null, out var scanned);
        if (points is null) engine.ObserveSenders(at, senders.GetValueOrDefault(at) ?? new HashSet<IpAddr>());
        else foreach (var (point, set) in senders) engine.ObserveSenders(point, set);
        if (scanned >= SenderScanLimit)
            notes.Add($"neighbours on {(points is null ? at.ToString() : $"the devices of {points.Namespace.Name}")} were judged from the first {SenderScanLimit} frames (who sends on the wire)");

        using var reader = CaptureReader.Open(capturePath);
        using var ahead = points is null ? null : new Lookahead(capturePath);
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
            var frameAt = at;
            if (points is not null)
            {
                if (!points.TryResolve(frame, out var point, out var error))
                {
                    yield return new ProblemEvent(new CaptureProblem(capturePath, frame.FileOffset, CaptureProblemCodes.InterfaceNotInModel, $"{Path.GetFileName(capturePath)}: {error}", fatal: false));
                    continue;
                }
                frameAt = point!;
                engine.Upcoming = ahead!.After(frame.Number);
            }
            _emitted++;
            yield return new TraceEvent(engine.Process(frame, capturePath, frameAt, notes));
        }
    }

    public const int SenderScanLimit = 1_000_000;

    /// <summary>Addresses that send frames on each captured wire (not the host itself): ARP senders, IP/IPv6 sources.</summary>
    private static Dictionary<InjectionPoint, HashSet<IpAddr>> WireSenders(string capturePath, Func<CaptureFrame, InjectionPoint?> pointOf, out long scanned)
    {
        var byPoint = new Dictionary<InjectionPoint, HashSet<IpAddr>>();
        scanned = 0;
        using var reader = CaptureReader.Open(capturePath);
        while (scanned < SenderScanLimit)
        {
            var s = reader.Read(out var frame, out _);
            if (s == CaptureReadStatus.End) break;
            if (s != CaptureReadStatus.Frame) continue;
            scanned++;
            if (pointOf(frame) is not { } point) continue;
            var hostMac = point.Device.Mac;
            if (!byPoint.TryGetValue(point, out var set)) byPoint[point] = set = new HashSet<IpAddr>();
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
        return byPoint;
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
