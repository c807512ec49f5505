using PktFlow.Capture;
using PktFlow.Dev;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Datapath;

/// <summary>Where captured packets enter the model: a device of a namespace.</summary>
public sealed record InjectionPoint(NetNamespace Namespace, NetDevice Device)
{
    public override string ToString() => $"{Namespace.Name}/{Device.Name}";
}

/// <summary>
/// The engine's entry: one captured frame in, one <see cref="PacketTrace"/> out. Stateless between
/// packets for now (conntrack, neighbour tables and FDB learning arrive with later issues).
/// </summary>
public sealed class DatapathEngine
{
    public HostTopology Topology { get; }

    private readonly Dictionary<NetNamespace, NamespaceState> _state = new();

    public DatapathEngine(HostTopology topology) => Topology = topology;

    internal NamespaceState StateOf(NetNamespace ns) =>
        _state.TryGetValue(ns, out var s) ? s : _state[ns] = new NamespaceState();

    /// <summary>Parses "ns/dev" or "dev" (in the host namespace) against the topology.</summary>
    public InjectionPoint ResolveInjectionPoint(string spec)
    {
        var slash = spec.IndexOf('/');
        var ns = slash < 0 ? Topology.Host : Topology.Namespace(spec[..slash])
            ?? throw new ArgumentException($"-InjectAt {spec}: no namespace '{spec[..slash]}' in {Topology.Source} (namespaces: {string.Join(", ", Topology.Namespaces.Select(n => n.Name))})");
        var devName = slash < 0 ? spec : spec[(slash + 1)..];
        var dev = ns.Device(devName)
            ?? throw new ArgumentException($"-InjectAt {spec}: no device '{devName}' in namespace {ns.Name} (devices: {string.Join(", ", ns.Devices.Select(d => d.Name))})");
        return new InjectionPoint(ns, dev);
    }

    /// <summary>
    /// The default ingress: the only non-loopback device of the host namespace, or the one whose MAC
    /// the capture's frames are addressed to. Null when it cannot be told.
    /// </summary>
    public InjectionPoint? DefaultInjectionPoint(IReadOnlyDictionary<MacAddress, int>? destinationMacCounts, out string how)
    {
        var ns = Topology.Host;
        var candidates = ns.Devices.Where(d => !d.IsLoopback).ToList();
        if (candidates.Count == 1) { how = $"the only device of {ns.Name}"; return new InjectionPoint(ns, candidates[0]); }
        if (destinationMacCounts is not null)
        {
            var best = candidates.Select(d => (d, n: destinationMacCounts.GetValueOrDefault(d.Mac))).OrderByDescending(x => x.n).FirstOrDefault();
            if (best.d is not null && best.n > 0) { how = $"most frames are addressed to {best.d.Name}'s MAC {best.d.Mac}"; return new InjectionPoint(ns, best.d); }
        }
        how = "";
        return null;
    }

    /// <summary>Tells the model which addresses send on the wire at a device (see <see cref="NamespaceState.ObservedSenders"/>).</summary>
    public void ObserveSenders(InjectionPoint at, IEnumerable<IpAddr> senders) =>
        StateOf(at.Namespace).ObservedSenders[at.Device.Name] = senders.ToHashSet();

    public PacketTrace Process(in CaptureFrame frame, string file, InjectionPoint at, IReadOnlyList<string>? notes = null)
    {
        var t = new TraceBuilder();
        if (notes is not null) foreach (var n in notes) t.Note(n);
        var data = frame.Data.Span;
        string summary;
        var skb = new SkBuff(data) { Netns = at.Namespace, Dev = at.Device, Engine = this, TimestampNs = frame.TimestampNs };
        if (!LinkLayer.TryDecode(frame.LinkType, data, out var link, out var error))
        {
            summary = $"[{LinkLayer.Describe(frame.LinkType)}]";
            t.Unsupported(null, error ?? $"link type {(uint)frame.LinkType}");
        }
        else if (link.IsEthernet)
        {
            summary = PacketSummary.Format(data, 0);
            if (frame.CapturedLength < frame.OriginalLength)
                t.Note($"captured {frame.CapturedLength} of {frame.OriginalLength} bytes (snaplen): checks see only what was captured");
            if (EthernetFrame.TryParse(data, out var eth, out _) && eth.Source == at.Device.Mac)
                t.Unsupported(skb, $"frame was sent by {at} (source MAC {eth.Source} is its own): tracing the local output path is not modelled yet");
            else
                NetifReceiveSkb.EthTypeTrans(skb, t);
        }
        else
        {
            summary = PacketSummary.Format(data[link.NetworkOffset..], link.EtherType);
            var pktType = link.PacketType switch
            {
                LinuxPacketType.Broadcast => PacketType.Broadcast,
                LinuxPacketType.Multicast => PacketType.Multicast,
                LinuxPacketType.OtherHost => PacketType.OtherHost,
                LinuxPacketType.Outgoing => PacketType.Outgoing,
                _ => PacketType.Host,
            };
            if (pktType == PacketType.Outgoing)
                t.Unsupported(skb, "frame is marked outgoing in the capture: tracing the local output path is not modelled yet");
            else
                NetifReceiveSkb.ReceiveNetwork(skb, link.EtherType, link.NetworkOffset, pktType, t);
        }
        if (!t.Ended) throw new InvalidOperationException($"frame {frame.Number}: the datapath ended without a fate (model bug)");
        return new PacketTrace
        {
            File = file,
            Frame = frame.Number,
            TimestampNs = frame.TimestampNs,
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(frame.TimestampNs / 1_000_000).AddTicks(frame.TimestampNs % 1_000_000 / 100),
            Length = frame.OriginalLength,
            CapturedLength = frame.CapturedLength,
            Summary = summary,
            Ingress = at.ToString(),
            Path = t.Path.ToArray(),
            Route = t.Route,
            Egress = t.Egress,
            Fate = t.Fate!.Value,
            Reason = t.Reason,
            Generated = t.Generated.ToArray(),
            Notes = t.Notes.ToArray(),
        };
    }
}
