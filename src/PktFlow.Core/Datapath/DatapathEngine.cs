using PktFlow.Netfilter;
using PktFlow.Capture;
using PktFlow.Dev;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Datapath;

/// <summary>How frames of a capture are replayed.</summary>
public enum ReplayMode
{
    /// <summary>The capture is a tap on the device: frames arriving are injected, frames the host sent are traced from where they were sent.</summary>
    Observe,
    /// <summary>Every frame arrives on the device, as tcpreplay would send it.</summary>
    Inject,
}

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

    /// <summary>Observe (the capture is a tap: frames the host sent are traced from where they were sent) or Inject (every frame arrives, as tcpreplay would send it).</summary>
    public ReplayMode Mode { get; init; } = ReplayMode.Observe;

    /// <summary>Forwarded packets the model predicted leaving a device, by their unchanging header fields.</summary>
    private readonly Dictionary<(string Egress, string Key), long> _predicted = new();

    /// <summary>Packets the kernel generated, traced as children and waiting to be seen on the wire.</summary>
    private readonly ChildTraces _children = new();

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

    /// <summary>
    /// A frame the capture shows leaving the device. ARP and IP packets with a source address of the
    /// host are traced through the local output path of the namespace that owns the source; others are
    /// matched against the forwards the model predicted from earlier frames.
    /// </summary>
    private void ObserveOutbound(SkBuff skb, TraceBuilder t, InjectionPoint at, long frameNumber, ref long? causedBy, ref PacketTrace? recognised)
    {
        var l3 = skb.Network;
        if (_children.Match(skb.Protocol, l3) is { } child)
        {
            // The packet the model built for an earlier frame: it takes that child's trace.
            causedBy = child.CausedBy;
            recognised = child;
            foreach (var e in child.Path) t.Add(e);
            foreach (var n in child.Notes) t.Note(n);
            foreach (var g in child.Generated) t.Generate(g);
            t.Note($"sent by the kernel in answer to frame {child.CausedBy} ({child.GeneratedBy}): the child trace of that frame");
            t.Route = child.Route;
            t.End(child.Fate, child.Reason, child.Egress);
            return;
        }
        if (skb.Protocol == EtherTypes.Arp && ArpPacket.TryParse(l3, out var arp, out _) && arp.IsEthernetIpv4)
        {
            var what = arp.Operation == ArpPacket.Request ? $"request who-has {arp.TargetIp}" : $"reply {arp.SenderIp} is-at {arp.SenderMac}";
            if (at.Namespace.IsLocalAddress(arp.SenderIp) || arp.SenderIp.IsZero)
            {
                t.Stage(skb, "ArpSend", "arp_send", Verdict.Pass, $"the kernel of {at.Namespace.Name} sends ARP {what}");
                if (!NfHookSlow.Run(skb, t, NfFamily.Arp, NfHook.Output, null, at.Device)) return;
                DevQueueXmit.Xmit(skb, t, Fate.Transmitted); // across a veth pair the peer receives it
            }
            else t.Unsupported(skb, $"ARP {what} leaves {at} for an address this host does not have (proxy ARP is not modelled)");
            return;
        }
        IpAddr src, dst;
        if (skb.Protocol == EtherTypes.Ipv4 && Ipv4Header.TryParse(l3, out var ip, out _)) { src = ip.Source; dst = ip.Destination; }
        else if (skb.Protocol == EtherTypes.Ipv6 && Ipv6Header.TryParse(l3, out var ip6, out _)) { src = ip6.Source; dst = ip6.Destination; }
        else
        {
            t.Unsupported(skb, $"outbound frame with EtherType 0x{skb.Protocol:x4}");
            return;
        }
        var origin = at.Namespace.IsLocalAddress(src) ? at.Namespace : Topology.Namespaces.FirstOrDefault(n => n.IsLocalAddress(src));
        if (origin is not null)
        {
            skb.Netns = origin;
            t.Stage(skb, "Observed", "dev_hard_start_xmit", Verdict.Pass, $"seen leaving {at}; sent by {origin.Name}, which owns {src}: traced from its output path");
            IPv4.IpLocalOut.Send(skb, t, src, dst, at.Device);
            if (t.Fate == Fate.Transmitted && t.Egress != at.ToString())
                t.Note($"the model sends it out {t.Egress}, but the capture saw it leave {at}");
            return;
        }
        if (FlowKey(skb) is { } key && _predicted.TryGetValue((at.ToString(), key), out var cause))
        {
            t.Stage(skb, "Observed", "dev_hard_start_xmit", Verdict.Pass, $"seen leaving {at}: the forwarded copy of frame {cause}, as the model predicted");
            t.End(Fate.Forwarded, $"forwarded copy of frame {cause}", at.ToString());
            return;
        }
        t.Unsupported(skb, $"{src} > {dst} leaves {at} but is neither from this host nor a forward the model predicted from an earlier frame");
    }

    /// <summary>
    /// A TCP/UDP packet whose source address belongs to a modelled namespace was sent by a socket there:
    /// remember it, so that the answers find that socket (connections are not in a lab file).
    /// </summary>
    private void LearnSender(in CaptureFrame frame, LinkInfo link)
    {
        var data = frame.Data.Span;
        if (link.IsEthernet)
        {
            if (!EthernetFrame.TryParse(data, out var eth, out _)) return;
            Learn(eth.EtherType, eth.Payload);
        }
        else Learn(link.EtherType, data[link.NetworkOffset..]);

        void Learn(ushort type, ReadOnlySpan<byte> l3)
        {
            IpAddr src, dst; byte proto; ReadOnlySpan<byte> l4;
            if (type == EtherTypes.Ipv4 && Ipv4Header.TryParse(l3, out var ip, out _) && !ip.IsFragment) { src = ip.Source; dst = ip.Destination; proto = ip.Protocol; l4 = ip.Payload; }
            else if (type == EtherTypes.Ipv6 && Ipv6Header.TryParse(l3, out var ip6, out _))
            {
                Ipv6ExtensionHeaders.Walk(ip6.NextHeader, l3[Ipv6Header.HeaderLength..], out var chain);
                if (chain.HasFragment) return;
                src = ip6.Source; dst = ip6.Destination; proto = chain.UpperProtocol; l4 = l3[(Ipv6Header.HeaderLength + chain.UpperOffset)..];
            }
            else return;
            if (proto is not (IpProtocol.Tcp or IpProtocol.Udp) || l4.Length < 4) return;
            if (proto == IpProtocol.Tcp && (l4.Length < 14 || (l4[13] & 0x04) != 0)) return; // a reset comes from the stack, not a socket
            var owner = Topology.Namespaces.FirstOrDefault(n => n.IsLocalAddress(src));
            if (owner is null) return;
            ushort sport = (ushort)(l4[0] << 8 | l4[1]), dport = (ushort)(l4[2] << 8 | l4[3]);
            StateOf(owner).ConnectedSockets.Add((proto, src, sport, dst, dport));
        }
    }

    /// <summary>The header fields forwarding does not change: addresses, protocol, IPv4 id / IPv6 payload length, ports.</summary>
    private static string? FlowKey(SkBuff skb)
    {
        var n = skb.Network;
        if (skb.Protocol == EtherTypes.Ipv4 && Ipv4Header.TryParse(n, out var ip, out _))
        {
            var l4 = ip.Payload;
            return $"{ip.Source}>{ip.Destination}/{ip.Protocol}/{ip.Identification}/{(l4.Length >= 4 ? Convert.ToHexString(l4[..4]) : "")}";
        }
        if (skb.Protocol == EtherTypes.Ipv6 && Ipv6Header.TryParse(n, out var ip6, out _))
        {
            var after = n[Ipv6Header.HeaderLength..];
            return $"{ip6.Source}>{ip6.Destination}/{ip6.NextHeader}/{ip6.PayloadLength}/{(after.Length >= 4 ? Convert.ToHexString(after[..4]) : "")}";
        }
        return null;
    }

    public PacketTrace Process(in CaptureFrame frame, string file, InjectionPoint at, IReadOnlyList<string>? notes = null)
    {
        var t = new TraceBuilder();
        long? causedBy = null;
        PacketTrace? recognised = null;
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
            if (Mode == ReplayMode.Observe && EthernetFrame.TryParse(data, out var eth, out _) && eth.Source == at.Device.Mac)
            {
                skb.MacHeader = 0;
                skb.NetworkHeader = eth.HeaderLength;
                skb.Protocol = eth.EtherType;
                ObserveOutbound(skb, t, at, frame.Number, ref causedBy, ref recognised);
            }
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
            if (pktType == PacketType.Outgoing && Mode == ReplayMode.Observe)
            {
                skb.NetworkHeader = link.NetworkOffset;
                skb.Protocol = link.EtherType;
                ObserveOutbound(skb, t, at, frame.Number, ref causedBy, ref recognised);
            }
            else
                NetifReceiveSkb.ReceiveNetwork(skb, link.EtherType, link.NetworkOffset, pktType, t);
        }
        if (!t.Ended) throw new InvalidOperationException($"frame {frame.Number}: the datapath ended without a fate (model bug)");
        var children = _children.Trace(this, t, file, frame.Number, frame.TimestampNs, Mode == ReplayMode.Observe ? at : null);
        LearnSender(frame, link);
        if (t.Fate == Fate.Forwarded && t.Egress is { } egress && FlowKey(skb) is { } key)
            _predicted[(egress, key)] = frame.Number;
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
            GeneratedTraces = children,
            CausedBy = causedBy,
            GeneratedNetwork = recognised?.GeneratedNetwork,
        };
    }
}
