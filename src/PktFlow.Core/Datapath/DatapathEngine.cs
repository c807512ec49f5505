using PktFlow.Netfilter;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Capture;
using PktFlow.Dev;
using PktFlow.LoadBalancer;
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

/// <summary>How random rule outcomes (numgen random, statistic random) appear in results.</summary>
public enum RandomOutcomes
{
    /// <summary>The seeded draw decides; the trace notes what was drawn.</summary>
    Seeded,
    /// <summary>The seeded draw decides the replay, and every packet that met a random rule lists every alternative with its probability.</summary>
    All,
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
public sealed partial class DatapathEngine
{
    public HostTopology Topology { get; }

    private readonly Dictionary<NetNamespace, NamespaceState> _state = new();

    /// <summary>Observe (the capture is a tap: frames the host sent are traced from where they were sent) or Inject (every frame arrives, as tcpreplay would send it).</summary>
    public ReplayMode Mode { get; init; } = ReplayMode.Observe;

    /// <summary>Forwarded packets the model predicted leaving a device, by their unchanging header fields.</summary>
    private readonly PredictedForwards _predicted = new();

    /// <summary>Packets the kernel generated, traced as children and waiting to be seen on the wire.</summary>
    private readonly ChildTraces _children = new();

    /// <summary>A load balancer in front of the host: packets to its VIPs pass it first and enter at their backend.</summary>
    public Balancer? LoadBalancer { get; init; }

    public DatapathEngine(HostTopology topology) => Topology = topology;

    /// <summary>The seed when the user gives none (Invoke-PacketFlow -Seed).</summary>
    public const int DefaultSeed = 1;

    /// <summary>Seeds the random choices of rules (numgen random, statistic random): the same seed, the same replay.</summary>
    public int Seed { get; init; } = DefaultSeed;

    /// <summary>
    /// When the lab's configuration was made (Unix ns, the capture's clock), when known: timers the lab
    /// started run from there (STP's forward_delay after br_stp_enable_port). Null: long before the capture.
    /// </summary>
    public long? LabDoneNs { get; init; }

    /// <summary>Seeded: random rules follow the seed. All: each packet's result also lists every outcome a random rule could have had.</summary>
    public RandomOutcomes Outcomes { get; init; } = RandomOutcomes.Seeded;

    /// <summary>The judge's pins for multipath choices the kernel made with a capture's per-boot hash; null: the model's own hash.</summary>
    public Routing.CaptureHashedNexthops? CaptureHashedPins { get; init; }

    /// <summary>Called with (namespace, device, frame) for every frame the model transmits (tests compare them with captures).</summary>
    internal Action<string, string, byte[]>? OnTransmit { get; init; }
    /// <summary>The VXLAN source ports the capture showed, by inner flow (one boot's hash secret for every namespace).</summary>
    internal Tunnel.VxlanSourcePorts VxlanPorts { get; } = new();

    internal NamespaceState StateOf(NetNamespace ns) =>
        _state.TryGetValue(ns, out var s) ? s : _state[ns] = new NamespaceState(Seed, ns.Name, ConntrackSettingsOf(ns));

    /// <summary>The namespace's conntrack sysctls; a rule reading ct bytes/packets turned accounting on when it was loaded.</summary>
    private static Netfilter.Conntrack.ConntrackSettings ConntrackSettingsOf(NetNamespace ns)
    {
        var settings = Netfilter.Conntrack.ConntrackSysctls.From(ns.Sysctls) with { LabelNames = ns.ConnLabels };
        return ns.Nft?.TurnsOnConntrackAccounting == true && !settings.Acct ? settings with { Acct = true } : settings;
    }

    /// <summary>What every namespace remembers after the packets so far (conntrack, counters, sets), in topology order.</summary>
    public IReadOnlyList<NamespaceState> States => Topology.Namespaces.Select(StateOf).ToArray();

    /// <summary>The capture time of the latest frame replayed: "now" for listings after the replay.</summary>
    public long LastFrameNs { get; private set; }

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
    /// A TCP/UDP packet whose source address belongs to a modelled namespace was sent by a socket there:
    /// remember it, so that the answers find that socket (connections are not in a lab file).
    /// </summary>
    /// <param name="arrivedFrom">The namespace at the other end of the veth the frame arrived on, if it did.</param>
    private void LearnSender(in CaptureFrame frame, LinkInfo link, (NetNamespace Sender, ConntrackTuple Tuple)? beforeNat, NetNamespace? arrivedFrom)
    {
        var data = frame.Data.Span;
        long nowNs = frame.TimestampNs;
        ushort? ipId = null; // the IPv4 identification, which tells a crafted frame (RawFrame) apart
        if (link.IsEthernet)
        {
            if (!EthernetFrame.TryParse(data, out var eth, out _)) return;
            Learn(eth.EtherType, eth.Payload);
        }
        else Learn(link.EtherType, data[link.NetworkOffset..]);

        void Learn(ushort type, ReadOnlySpan<byte> l3)
        {
            IpAddr src, dst; byte proto; ReadOnlySpan<byte> l4;
            if (type == EtherTypes.Ipv4 && Ipv4Header.TryParse(l3, out var ip, out _) && !ip.IsFragment) { src = ip.Source; dst = ip.Destination; proto = ip.Protocol; l4 = ip.Payload; ipId = ip.Identification; }
            else if (type == EtherTypes.Ipv6 && Ipv6Header.TryParse(l3, out var ip6, out _))
            {
                Ipv6ExtensionHeaders.Walk(ip6.NextHeader, l3[Ipv6Header.HeaderLength..], out var chain);
                if (chain.HasFragment) return;
                src = ip6.Source; dst = ip6.Destination; proto = chain.UpperProtocol; l4 = l3[(Ipv6Header.HeaderLength + chain.UpperOffset)..];
            }
            else return;
            // a VXLAN datagram: the sender that matters is the inner packet's (a pod's socket behind the tunnel)
            if (proto == IpProtocol.Udp && beforeNat is null && VxlanHeader.TryInner(l4, out var innerType, out var innerL3)) { Learn(innerType, innerL3); return; }
            if (proto == IpProtocol.Icmp && l4.Length >= 8 && l4[0] == IcmpHeader.EchoRequest && Owner(src) is { } pinger)
            {
                if (Raw((proto, src, (ushort)(l4[4] << 8 | l4[5]), dst, 0), l4)) return;
                // a ping socket (raw or ICMP datagram): keyed by the echo identifier, for the errors it takes (IcmpUnreach)
                StateOf(pinger).ConnectedSockets.Add((proto, src, (ushort)(l4[4] << 8 | l4[5]), dst, 0), nowNs);
                return;
            }
            if (proto is not (IpProtocol.Tcp or IpProtocol.Udp) || l4.Length < 4) return;
            if (proto == IpProtocol.Tcp && l4.Length < 14) return;
            // a reset comes from the stack, not a socket: it connects nothing, but the connection it aborts is gone
            if (beforeNat is var (sender, pre))
            {
                // traced as its sender wrote it before NAT: that sender's socket
                if (pre.Protocol == proto) Sent(sender, (proto, pre.Source, pre.SourcePort, pre.Destination, pre.DestinationPort), l4);
                return;
            }
            ushort sport = (ushort)(l4[0] << 8 | l4[1]), dport = (ushort)(l4[2] << 8 | l4[3]);
            // arrived from the veth's other end, which has the source address: that namespace sent it,
            // whoever else has the address too (the same 10.1.0.2 in two containers: ct-zone-label)
            if (arrivedFrom is not null && Owns(arrivedFrom)) { Sent(arrivedFrom, (proto, src, sport, dst, dport), l4); return; }
            // else the one whose socket holds the connection already (the model took the peer's SYN there:
            // policy-routing's anycast 203.0.113.10 in isp1 and isp2, the SYN routed to isp2 by its mark)
            if (proto == IpProtocol.Tcp)
                foreach (var owner in Topology.Namespaces)
                    if (Owns(owner) && StateOf(owner).TcpSocks.Find((proto, src, sport, dst, dport), nowNs) is not null)
                    {
                        Sent(owner, (proto, src, sport, dst, dport), l4);
                        return;
                    }
            // an address several namespaces have (an anycast service behind two uplinks): the capture
            // cannot tell which of them sent it, so each is taken to have the socket
            foreach (var owner in Topology.Namespaces)
                if (Owns(owner)) Sent(owner, (proto, src, sport, dst, dport), l4);

            // a transparent listener's connection answers from the address the client asked for
            bool Owns(NetNamespace owner) =>
                owner.IsLocalAddress(src) || StateOf(owner).TransparentConnections.ContainsKey((proto, src, sport, dst, dport));
        }

        void Sent(NetNamespace owner, (byte Protocol, IpAddr Local, ushort LocalPort, IpAddr Remote, ushort RemotePort) key, ReadOnlySpan<byte> l4)
        {
            if (Raw(key, l4)) return;
            var state = StateOf(owner);
            // only a SYN-ACK answers for a listener (TcpSockTable.Sent): no other segment or datagram pays for the lookup
            Topology.ListeningSocket? listener = null;
            if (key.Protocol == IpProtocol.Tcp && (l4[13] & (byte)(TcpFlags.Syn | TcpFlags.Ack)) == (byte)(TcpFlags.Syn | TcpFlags.Ack))
                listener = state.TransparentConnections.TryGetValue(key, out var tc) ? tc.Listener : Socket.SockLookup.Listener(owner, key.Protocol, key.Local, key.LocalPort, state.LabSockets);
            // a connect (SYN): the traffic's client that opened it may give up on its own (socat connect-timeout=)
            TimeSpan? connectTimeout = null;
            if (key.Protocol == IpProtocol.Tcp && (l4[13] & (byte)(TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Rst | TcpFlags.Fin)) == (byte)TcpFlags.Syn)
                foreach (var c in owner.ClientSockets)
                    if (c.Sends(key.Protocol, key.Local, key.LocalPort, key.Remote, key.RemotePort)) connectTimeout = c.ConnectTimeout;
            state.SocketSent(key, l4, nowNs, listener, connectTimeout);
        }

        // a frame the traffic script wrote through a packet socket (sendframe), from whichever namespace
        // (it may carry another's address): no socket sent it, and none is made or moved by it
        bool Raw((byte Protocol, IpAddr Local, ushort LocalPort, IpAddr Remote, ushort RemotePort) key, ReadOnlySpan<byte> l4)
        {
            var all = Topology.Namespaces; // indexed: no enumerator per frame
            for (int i = 0; i < all.Count; i++)
                for (int j = 0; j < all[i].RawFrames.Count; j++)
                    if (all[i].RawFrames[j].Is(key.Protocol, key.Local, key.LocalPort, key.Remote, key.RemotePort, l4, ipId)) return true;
            return false;
        }
    }

    /// <summary>
    /// The seeded path's accept leads to the fate the replay found. A method of its own: a lambda in
    /// Process capturing the builder allocated its closure for every packet, outcomes or not.
    /// </summary>
    private static RandomOutcome[] OutcomesWithFate(TraceBuilder t) =>
        t.Outcomes.Select(o => o.Taken && o.Verdict == Verdict.Accept ? o with { Fate = $"{t.Fate}: {t.Reason}" } : o).ToArray();

    /// <summary>The first namespace that has this address (a loop: it runs for every frame).</summary>
    private NetNamespace? Owner(IpAddr address)
    {
        foreach (var n in Topology.Namespaces)
            if (n.IsLocalAddress(address)) return n;
        return null;
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

    /// <summary>Sets the network header for the load balancer and lets it look at the packet first.</summary>
    private LbOutcome ThroughLoadBalancer(SkBuff skb, TraceBuilder t, LinkInfo link, long frame, ref InjectionPoint at)
    {
        if (link.IsEthernet)
        {
            if (!EthernetFrame.TryParse(skb.Data, out var eth, out _)) return LbOutcome.NotMine;
            skb.MacHeader = 0;
            skb.NetworkHeader = eth.HeaderLength;
            skb.Protocol = eth.EtherType;
        }
        else
        {
            skb.NetworkHeader = link.NetworkOffset;
            skb.Protocol = link.EtherType;
        }
        if (link.IsEthernet && !TraceBackendReply(skb, t, frame, at)) return LbOutcome.Ended;
        var outcome = LoadBalancer!.Receive(skb, t, frame, at, ResolveInjectionPoint, out var target);
        at = target;
        return outcome;
    }

    /// <summary>
    /// A NAT backend's reply, seen on the load balancer's wire, left the backend first: in Observe mode
    /// its way out is traced from its sender (as for any frame seen leaving the backend's device, a
    /// container behind the host's DNAT included) before the load balancer's reverse NAT. False when it
    /// ended inside the backend (the trace then has that fate).
    /// </summary>
    private bool TraceBackendReply(SkBuff skb, TraceBuilder t, long frame, InjectionPoint wire)
    {
        if (Mode != ReplayMode.Observe || LoadBalancer!.ReplyBackendAt(skb, wire, ResolveInjectionPoint) is not { } at) return true;
        var copy = skb.Data.ToArray();
        if (!EthernetFrame.TryParse(copy, out var eth, out _) || !IsLeaving(at, eth.Source, eth.EtherType, copy.AsSpan(eth.HeaderLength))) return true;
        var own = new SkBuff(copy) { Netns = at.Namespace, Dev = at.Device, Engine = this, TimestampNs = skb.TimestampNs, MacHeader = 0, NetworkHeader = eth.HeaderLength, Protocol = eth.EtherType };
        var backend = new TraceBuilder();
        long? causedBy = null;
        PacketTrace? recognised = null;
        ObserveOutbound(own, backend, at, frame, ref causedBy, ref recognised, out _);
        foreach (var e in backend.Path) t.Add(e);
        t.TakeGenerated(backend);
        // sent on the backend's device, it is the frame the load balancer got
        if (backend.Fate is null || backend.Fate is Fate.Transmitted or Fate.Forwarded && backend.Egress == at.ToString()) return true;
        t.End(backend.Fate.Value, backend.Reason, backend.Egress);
        return false;
    }

    /// <summary>The ingress as text, made once while the injection point stays the same (it does for a whole file).</summary>
    private string IngressText(InjectionPoint ingress)
    {
        if (!ReferenceEquals(ingress, _ingress.Point)) _ingress = (ingress, ingress.ToString());
        return _ingress.Text;
    }
    private (InjectionPoint? Point, string Text) _ingress = (null, "");
    private List<HookEvent>? _sparePath;

    public PacketTrace Process(in CaptureFrame frame, string file, InjectionPoint at, IReadOnlyList<string>? notes = null)
    {
        // the path list of the previous packet is reused: only the final array is kept per packet
        var t = _sparePath is { } spare ? new TraceBuilder(spare) : new TraceBuilder();
        _sparePath = null;
        long? causedBy = null;
        PacketTrace? recognised = null;
        (NetNamespace Sender, ConntrackTuple Tuple)? senderBeforeNat = null;
        var ingress = at;
        if (notes is not null) foreach (var n in notes) t.Note(n);
        var data = frame.Data.Span;
        string summary;
        if (frame.TimestampNs > LastFrameNs) LastFrameNs = frame.TimestampNs;
        var skb = new SkBuff(data) { Netns = at.Namespace, Dev = at.Device, Engine = this, TimestampNs = frame.TimestampNs };
        _replaying = (file, frame.Number, frame.TimestampNs);
        long? copyOf = null;
        bool outbound = false;
        string? loopKey = null, ownKey = null;
        BeginCopies(frame.Number);
        (_wire, _leftByWire) = (Mode == ReplayMode.Observe ? at : null, null);
        if (Upcoming is not null && LinkLayer.TryDecode(frame.LinkType, data, out var ahead, out _))
            SeenAfterSnat = ahead.IsEthernet
                ? EthernetFrame.TryParse(data, out var e0, out _) ? LaterAfterSnat(e0.EtherType, e0.Payload) : null
                : LaterAfterSnat(ahead.EtherType, data[ahead.NetworkOffset..]);
        if (!LinkLayer.TryDecode(frame.LinkType, data, out var link, out var error))
        {
            summary = $"[{LinkLayer.Describe(frame.LinkType)}]";
            t.Unsupported(null, error ?? $"link type {(uint)frame.LinkType}");
        }
        else if (LoadBalancer is not null && ThroughLoadBalancer(skb, t, link, frame.Number, ref at) is var lb && lb != LbOutcome.NotMine)
        {
            summary = link.IsEthernet ? PacketSummary.Format(data, 0) : PacketSummary.Format(data[link.NetworkOffset..], link.EtherType);
            if (lb == LbOutcome.Redirected) NetifReceiveSkb.EthTypeTrans(skb, t);
        }
        else if (link.IsEthernet)
        {
            summary = PacketSummary.Format(data, 0);
            if (frame.CapturedLength < frame.OriginalLength)
                t.Note($"captured {frame.CapturedLength} of {frame.OriginalLength} bytes (snaplen): checks see only what was captured");
            if (Mode == ReplayMode.Observe && EthernetFrame.TryParse(data, out var eth, out _))
            {
                skb.MacHeader = 0;
                skb.NetworkHeader = eth.HeaderLength;
                skb.Protocol = eth.EtherType;
                PacketTrace? cameBack = null;
                outbound = IsLeaving(at, eth.Source, eth.EtherType, data[eth.HeaderLength..])
                    && !Macvlan.MacvlanObserve.ComesBack(at, skb, t, data, eth.Source, frame.Number, out cameBack)
                    && !Tunnel.VxlanObserve.ComesBack(at, skb, t, data, eth.Source);
                if (outbound) _wire = null; // only an arriving frame can be forwarded back out (no key per frame sent)
                loopKey = outbound && at.Device.IsLoopback ? CopyKey(skb) : null;
                ownKey = CopiesIn is null ? null : CopyKey(skb);
                if (cameBack is not null) TakeHairpinReturn(cameBack, t);
                else if (TryCopy(skb, t, at, outbound, ref copyOf)) { }
                else if (outbound) ObserveOutbound(skb, t, at, frame.Number, ref causedBy, ref recognised, out senderBeforeNat);
                else if (ObserveArrivingCopy(skb, t, at, frame.Number, ref causedBy, ref recognised)) { }
                else NetifReceiveSkb.EthTypeTrans(skb, t);
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
            skb.NetworkHeader = link.NetworkOffset;
            skb.Protocol = link.EtherType;
            outbound = pktType == PacketType.Outgoing && Mode == ReplayMode.Observe;
            if (outbound) _wire = null;
            loopKey = outbound && at.Device.IsLoopback ? CopyKey(skb) : null;
            // a frame of a multi-device capture gets its Ethernet header back: bridges and ARP need it
            string? cookedNote = null;
            var ethernet = CopiesIn is not null && link.InterfaceIndex is not null && !at.Device.IsLoopback
                ? CookedToEthernet(data, link, at.Device, out cookedNote) : null;
            if (ethernet is not null)
            {
                if (cookedNote is not null) t.Note(cookedNote);
                skb = new SkBuff(ethernet) { Netns = at.Namespace, Dev = at.Device, Engine = this, TimestampNs = frame.TimestampNs, MacHeader = 0, NetworkHeader = 14, Protocol = link.EtherType };
            }
            ownKey = CopiesIn is null ? null : CopyKey(skb);
            if (TryCopy(skb, t, at, outbound, ref copyOf)) { }
            else if (outbound) ObserveOutbound(skb, t, at, frame.Number, ref causedBy, ref recognised, out senderBeforeNat);
            else if (ObserveArrivingCopy(skb, t, at, frame.Number, ref causedBy, ref recognised)) { }
            else if (ethernet is not null) NetifReceiveSkb.EthTypeTrans(skb, t);
            else
                NetifReceiveSkb.ReceiveNetwork(skb, link.EtherType, link.NetworkOffset, pktType, t);
        }
        if (!t.Ended) throw new InvalidOperationException($"frame {frame.Number}: the datapath ended without a fate (model bug)");
        SeenAfterSnat = null;
        EndCopies(t, at, outbound, loopKey, ownKey, frame.TimestampNs);
        // an arriving packet the model sent back out of the capture device: the capture shows that copy next
        var leftBack = _leftByWire;
        (_wire, _leftByWire) = (null, null);
        // a packet traced as its sender wrote it before NAT shows that sender's socket; others are learned
        // as seen. Before the children: an answer the kernel sends at once (a REJECT's reset, a SYN-ACK)
        // reaches the sender's socket, which sent this very packet (iptables-nft frame 14). A copy of an
        // earlier frame (a multi-device capture) was learned there: this copy may show it after NAT, with
        // another namespace's address or a peer the socket never addressed (docker-any-capture).
        // synproxy's packets go in the client's or the server's name: no socket of theirs sent them
        bool inAnothersName = recognised?.GeneratedBy?.StartsWith("synproxy_", StringComparison.Ordinal) == true;
        if (copyOf is null && !inAnothersName) LearnSender(frame, link, senderBeforeNat, outbound || at.Device.PeerNamespace is not { } from ? null : Topology.Namespace(from));
        var children = _children.Trace(this, t, file, frame.Number, frame.TimestampNs, Mode == ReplayMode.Observe ? at : null);
        var trace = new PacketTrace
        {
            File = file,
            Frame = frame.Number,
            TimestampNs = frame.TimestampNs,
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(frame.TimestampNs / 1_000_000).AddTicks(frame.TimestampNs % 1_000_000 / 100),
            Length = frame.OriginalLength,
            CapturedLength = frame.CapturedLength,
            Summary = summary,
            Ingress = IngressText(ingress),
            Path = t.PathArray(out _sparePath),
            Route = t.Route,
            Egress = t.Egress,
            Fate = t.Fate!.Value,
            Reason = t.Reason,
            Generated = t.Generated.ToArray(),
            Notes = t.Notes.ToArray(),
            // the seeded path's accept leads to the fate the replay found
            Outcomes = t.Outcomes.Count == 0 ? Array.Empty<RandomOutcome>() : OutcomesWithFate(t),
            CaptureHashed = t.CaptureHashedFlows.Count == 0 ? Array.Empty<Routing.CaptureHashedFlow>() : t.CaptureHashedFlows.ToArray(),
            GeneratedTraces = children,
            CausedBy = causedBy,
            Later = t.Later,
            GeneratedNetwork = recognised?.GeneratedNetwork,
            CopyOf = copyOf,
        };
        if (outbound) Macvlan.MacvlanObserve.Traced(at, StateOf(at.Namespace), trace);
        if (t.Fate == Fate.Forwarded && t.Egress is { } egress && FlowKey(skb) is { } key)
            // sent back out of the device it arrived on, the copy the tap shows next takes this trace
            _predicted.Add(egress, key, frame.Number, frame.TimestampNs, trace: egress == trace.Ingress ? trace : null);
        else if (leftBack is not null)
            _predicted.Add(trace.Ingress, leftBack, frame.Number, frame.TimestampNs, trace: trace);
        return trace;
    }
}
