using PktFlow.Dev;
using PktFlow.Netfilter;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Datapath;

/// <summary>
/// Observe mode: the capture is a tap on a device, so frames the host sent are traced from where they
/// were sent: the namespace owning the source, or, behind NAT, the sender before NAT.
/// </summary>
public sealed partial class DatapathEngine
{
    /// <summary>
    /// A frame the capture shows leaving the device. ARP and IP packets with a source address of the
    /// host are traced through the local output path of the namespace that owns the source; others are
    /// matched against the forwards the model predicted from earlier frames.
    /// </summary>
    /// <param name="senderBeforeNat">Set when the packet was traced as its sender wrote it before NAT: that sender and tuple.</param>
    private void ObserveOutbound(SkBuff skb, TraceBuilder t, InjectionPoint at, long frameNumber, ref long? causedBy, ref PacketTrace? recognised,
        out (NetNamespace Sender, ConntrackTuple Tuple)? senderBeforeNat)
    {
        senderBeforeNat = null;
        if (Bridge.BrStpBpdu.TryObserveOwn(skb, t, at.Device)) return; // a bridge's own BPDU
        skb.SeenLeaving = (at.Namespace.Name, at.Device.Name);
        var l3 = skb.Network;
        if (_children.Match(skb.Protocol, l3) is { } child)
        {
            // The packet the model built for an earlier frame: it takes that child's trace.
            TakeChild(child, skb, t, at, outbound: true, frameNumber, ref causedBy, ref recognised);
            // a synproxy SYN-ACK shows the cookie the model could not compute
            if (child.GeneratedBy == "synproxy_send_client_synack" && child.Path.Count > 0 && Topology.Namespace(child.Path[0].Namespace) is { } synackSender)
                Netfilter.NfSynproxy.Learn(StateOf(synackSender), l3, skb.Protocol == EtherTypes.Ipv6);
            return;
        }
        if (ForwardedBack(skb, t, at)) return;
        // a VXLAN datagram: its inner frame, traced from its sender (the frame is replaced: read its L3 again)
        if (Tunnel.VxlanObserve.Unwrap(skb, t, at.Namespace) is not null) l3 = skb.Network;
        if (skb.Protocol == EtherTypes.Arp && ArpPacket.TryParse(l3, out var arp, out _) && arp.IsEthernetIpv4)
        {
            var what = arp.Operation == ArpPacket.Request ? $"request who-has {arp.TargetIp}" : $"reply {arp.SenderIp} is-at {arp.SenderMac}";
            if (ArpSender(skb, at, arp) is var (ns, dev))
            {
                skb.Netns = ns;
                skb.Dev = dev = Vlan.VlanCore.SenderOf(skb, ns, dev);
                t.Stage(skb, "ArpSend", "arp_send", Verdict.Pass, $"the kernel of {ns.Name} sends ARP {what}{(dev == at.Device ? "" : $" on {dev.Name}; seen leaving {at}")}");
                if (!NfHookSlow.Run(skb, t, NfFamily.Arp, NfHook.Output, null, dev)) return;
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
        if (BeforeNat(skb, at) is { } pre && Topology.Namespaces.FirstOrDefault(n => n.IsLocalAddress(pre.Source)) is { } sender)
        {
            senderBeforeNat = (sender, pre);
            TraceAsSentBefore(skb, t, at, sender, pre,
                $"seen leaving {at} as {src} > {dst}, a connection {at.Namespace.Name} NATs: before NAT it was {pre}, sent by {sender.Name}; traced from its output path");
            return;
        }
        var origin = at.Namespace.IsLocalAddress(src) ? at.Namespace : Topology.Namespaces.FirstOrDefault(n => n.IsLocalAddress(src));
        bool transparent = false;
        if (origin is null && TransparentSender(skb) is { } tns) (origin, transparent) = (tns, true);
        if (origin is not null && LooksForwarded(skb, origin) is { } hint)
        {
            var found = SendersBeforeSnat(skb, at);
            if (ChooseSnatSender(found, out var why) is { } chosen)
            {
                senderBeforeNat = (chosen.Sender, chosen.Pre);
                TraceAsSentBefore(skb, t, at, chosen.Sender, chosen.Pre,
                    $"seen leaving {at} as {src} > {dst} with one hop less than {origin.Name}'s default TTL: {why} (as {chosen.Pre}, then source-NATed); traced from its output path");
                return;
            }
            t.Note(found.Count == 0 ? hint : $"{hint}; {why}"
                + " (hosts sending identical flows are indistinguishable from outside the NAT; and the port seen may be one the kernel picked at random for a flow whose own port was taken, so the sender's port cannot be seen either;"
                + " the connected sockets each namespace holds tell them apart: `ss -tun` in a snapshot, the client commands of a lab's traffic script)");
        }
        if (origin is not null)
        {
            skb.Netns = origin;
            Socket.SockLookup.SetOwner(skb, t, LocalSender(skb, origin, src, dst));
            t.Stage(skb, "Observed", "dev_hard_start_xmit", Verdict.Pass, transparent
                ? $"seen leaving {at}; sent by {origin.Name} from {skb.Sk}, a connection tproxy handed to a transparent listener there, as {src}: traced from its output path"
                : $"seen leaving {at}; sent by {origin.Name}, which owns {src}: traced from its output path");
            IPv4.IpLocalOut.Send(skb, t, src, dst, origin == at.Namespace ? at.Device : SenderDevice(skb, origin) ?? at.Device);
            if (t.Fate == Fate.Transmitted && t.Egress != at.ToString())
                t.Note($"the model sends it out {t.Egress}, but the capture saw it leave {at}");
            return;
        }
        if (FlowKey(skb) is { } key && _predicted.TryMatch(at.ToString(), key, skb.TimestampNs, out var cause))
        {
            t.Stage(skb, "Observed", "dev_hard_start_xmit", Verdict.Pass, $"seen leaving {at}: the forwarded copy of frame {cause}, as the model predicted");
            t.End(Fate.Forwarded, $"forwarded copy of frame {cause}", at.ToString());
            return;
        }
        t.Unsupported(skb, $"{src} > {dst} leaves {at} but is neither from this host nor a forward the model predicted from an earlier frame");
    }

    /// <summary>A frame that shows a child trace of an earlier frame (a packet the kernel built or copied): it takes that trace.</summary>
    private void TakeChild(PacketTrace child, SkBuff skb, TraceBuilder t, InjectionPoint at, bool outbound, long frameNumber, ref long? causedBy, ref PacketTrace? recognised)
    {
        causedBy = child.CausedBy;
        recognised = child;
        AdoptChildCopies(child, frameNumber, Crossing(at.Device, outbound), CopyKey(skb));
        foreach (var e in child.Path) t.Add(e);
        foreach (var n in child.Notes) t.Note(n);
        foreach (var g in child.Generated) t.Generate(g);
        t.Note($"{(child.IsCopy ? "a copy the kernel made of" : "sent by the kernel in answer to")} frame {child.CausedBy} ({child.GeneratedBy}): the child trace of that frame");
        t.Route = child.Route;
        t.End(child.Fate, child.Reason, child.Egress);
    }

    /// <summary>
    /// A frame a macvlan sent, coming back from a hairpin switch the lab models: the trace of its sighting
    /// leaving already went through the switch, back in and on (<see cref="Macvlan.MacvlanObserve"/>), so
    /// this sighting shows that trace and walks no namespace a second time (no conntrack entry, socket or
    /// counter sees the packet twice).
    /// </summary>
    private static void TakeHairpinReturn(PacketTrace leaving, TraceBuilder t)
    {
        foreach (var e in leaving.Path) t.Add(e);
        foreach (var g in leaving.Generated) t.Generate(g);
        t.Route = leaving.Route;
        t.End(leaving.Fate, leaving.Reason, leaving.Egress);
    }

    /// <summary>
    /// A frame arriving on a device that is a copy an earlier frame's packet was mirred to (tc mirred
    /// ingress mirror: netif_receive_skb of a clone on that device): it takes that copy's child trace.
    /// </summary>
    private bool ObserveArrivingCopy(SkBuff skb, TraceBuilder t, InjectionPoint at, long frameNumber, ref long? causedBy, ref PacketTrace? recognised)
    {
        if (Mode != ReplayMode.Observe || _children.MatchArriving(at.Device.Name, skb.Protocol, skb.Network) is not { } child) return false;
        TakeChild(child, skb, t, at, outbound: false, frameNumber, ref causedBy, ref recognised);
        return true;
    }

    /// <summary>
    /// The namespace whose transparent listener took the connection this packet belongs to: it answers
    /// from the address the client asked for, which is none of its own (IP_TRANSPARENT).
    /// </summary>
    private NetNamespace? TransparentSender(SkBuff skb)
    {
        if (!ConntrackTable.TryTuple(skb.Network, skb.Protocol == EtherTypes.Ipv6, out var tuple)) return null;
        var key = (tuple.Protocol, tuple.Source, tuple.SourcePort, tuple.Destination, tuple.DestinationPort);
        foreach (var ns in Topology.Namespaces)
            if (StateOf(ns).TransparentConnections.ContainsKey(key)) return ns;
        return null;
    }

    /// <summary>The socket a sent TCP/UDP packet carries; a reset comes from the stack's own control socket, which has no owner.</summary>
    private static Socket.Sock? LocalSender(SkBuff skb, NetNamespace origin, IpAddr src, IpAddr dst) =>
        TcpReset(skb) ? null : Socket.SockLookup.Sender(skb, origin, src, dst);

    private static bool TcpReset(SkBuff skb) =>
        ConntrackTable.TryGetL4(skb.Network, skb.Protocol == EtherTypes.Ipv6, out _, out _, out byte proto, out var l4, out _)
        && proto == IpProtocol.Tcp && TcpHeader.TryParse(l4, out var tcp, out _) && (tcp.Flags & TcpFlags.Rst) != 0;

    /// <summary>
    /// A packet the host forwarded back out of the device it arrived on (ip_forward, with the ICMP
    /// redirect it sends then): the tap saw it arrive, and now sees the forwarded copy leave. It is that
    /// earlier frame's packet, not a new one from its sender: it takes that frame's trace, and nothing
    /// is traced again (no second conntrack lookup, no second answer).
    /// </summary>
    private bool ForwardedBack(SkBuff skb, TraceBuilder t, InjectionPoint at)
    {
        if (FlowKey(skb) is not { } key || _predicted.MatchTrace(at.ToString(), key, skb.TimestampNs) is not { } earlier) return false;
        foreach (var e in earlier.Path) t.Add(e);
        foreach (var n in earlier.Notes) t.Note(n);
        t.Note($"seen leaving {at}: the forwarded copy of frame {earlier.Frame}, which arrived on {at.Device.Name} and was routed back out of it, as the model predicted; the trace is that frame's");
        t.Route = earlier.Route;
        t.End(earlier.Fate, earlier.Reason, earlier.Egress);
        return true;
    }

    /// <summary>
    /// A packet leaving after the NAT of a connection the capture namespace tracks is that connection's
    /// packet as its sender wrote it, before NAT: a reply leaves with the addresses the client used
    /// (un-DNAT), an original-direction packet with the NAT address (SNAT/masquerade). Null when the
    /// packet is not on such a connection or NAT did not change it.
    /// </summary>
    private ConntrackTuple? BeforeNat(SkBuff skb, InjectionPoint at)
    {
        if (!ConntrackTable.TryTupleAnyProtocol(skb.Network, skb.Protocol == EtherTypes.Ipv6, out var seen)) return null;
        var inverse = ConntrackEntry.Invert(seen);
        var table = StateOf(at.Namespace).Conntrack;
        // the first packet of a connection a NAT helper expected: NATed as nf_nat_follow_master will
        if (table.Find(inverse) is not { } e) return table.BeforeFollowMaster(seen);
        var pre = e.Original == inverse ? e.Reply : e.Original;
        return pre == seen ? null : pre;
    }

    /// <summary>
    /// A packet from a local address with one hop less than the namespace's default TTL may have been
    /// forwarded and source-NATed (the first packet of a masqueraded connection): the capture point
    /// cannot tell its sender, so the trace says so instead of guessing.
    /// </summary>
    private static string? LooksForwarded(SkBuff skb, NetNamespace origin)
    {
        var n = skb.Network;
        bool v6 = skb.Protocol == EtherTypes.Ipv6;
        if (n.Length < 20) return null;
        int ttl = v6 ? n[7] : n[8];
        string key = v6 ? "net.ipv6.conf.all.hop_limit" : "net.ipv4.ip_default_ttl";
        int dflt = int.TryParse(origin.Sysctls.Get(key), out var d) ? d : 64;
        return ttl == dflt - 1
            ? $"its {(v6 ? "hop limit" : "TTL")} {ttl} is one less than {origin.Name}'s default {dflt}: it may be a packet another namespace sent, forwarded and source-NATed by {origin.Name}; a capture at this point cannot show its sender"
            : null;
    }

    /// <summary>The packet the sender wrote had one more hop of TTL / hop limit than the forwarded copy.</summary>
    private static void UndoForwardHop(SkBuff skb)
    {
        var n = skb.Network;
        if (skb.Protocol == EtherTypes.Ipv6) { if (n.Length >= 8 && n[7] < 255) n[7]++; return; }
        if (n.Length < 20 || n[8] == 255) return;
        ushort old = (ushort)(n[8] << 8 | n[9]);
        n[8]++;
        ushort csum = (ushort)(n[10] << 8 | n[11]);
        csum = Checksum.Replace2(csum, old, (ushort)(n[8] << 8 | n[9]));
        n[10] = (byte)(csum >> 8); n[11] = (byte)csum;
    }

    /// <summary>
    /// Who sent an ARP packet seen leaving: the capture device itself, or (through a bridge the device
    /// is a port of) the device with the frame's source MAC in the namespace owning the sender address.
    /// </summary>
    private (NetNamespace, NetDevice)? ArpSender(SkBuff skb, InjectionPoint at, ArpPacket arp)
    {
        var senderIp = arp.SenderIp;
        bool Sends(NetNamespace ns) => senderIp.IsZero || ns.IsLocalAddress(senderIp);
        if (skb.MacHeader >= 0 && EthernetFrame.TryParse(skb.Data[skb.MacHeader..], out var eth, out _) && eth.Source != at.Device.Mac)
        {
            var source = eth.Source;
            foreach (var ns in Topology.Namespaces)
                if (Sends(ns) && ns.Devices.FirstOrDefault(d => d.Mac == source && !d.IsLoopback) is { } dev) return (ns, dev);
            return null;
        }
        return Sends(at.Namespace) ? (at.Namespace, at.Device) : null;
    }

    /// <summary>
    /// Whether an Ethernet frame captured on the tap device left through it: its source is the device
    /// itself, or, on a veth that is a bridge port, anything but the device at the other end (frames
    /// the bridge forwards or floods out of the port keep their senders' addresses).
    /// </summary>
    private bool IsLeaving(InjectionPoint at, MacAddress source, ushort etherType, ReadOnlySpan<byte> l3)
    {
        if (source == at.Device.Mac) return true;
        // a macvlan on the device sends with its own MAC (macvlan_queue_xmit; in bridge mode to a sibling
        // the frame shows arriving, by dev_forward_skb, but is traced from its sender all the same)
        if (Macvlan.MacvlanPort.HashLookup(Topology.MacvlanPort(at.Namespace.Name, at.Device.Name), source) is not null) return true;
        if (at.Device.Master is null || at.Device.Kind != DeviceKind.Veth || at.Device.Peer is not { } peerName) return false;
        if (!BridgeCouldSend(at, source, etherType, l3)) return false;
        var peer = Topology.Namespace(at.Device.PeerNamespace ?? at.Namespace.Name)?.Device(peerName);
        // a peer that is itself a bridge port passes on other senders' frames: then the MAC cannot tell;
        // a MAC the model does not know may be behind the peer, so only a known other device counts
        return peer is { Master: null } && source != peer.Mac && KnownDevice(source);
    }

    /// <summary>On a bridge port, a frame with a local source the host could not have sent came in on the port (<see cref="Bridge.BrObserve.CouldBeSentByHost"/>).</summary>
    private static bool BridgeCouldSend(InjectionPoint at, MacAddress source, ushort etherType, ReadOnlySpan<byte> l3) =>
        at.Namespace.Device(at.Device.Master!) is not { } br
        || (source != br.Mac && !at.Namespace.Devices.Any(d => d.Master == br.Name && d.Mac == source))
        || Bridge.BrObserve.CouldBeSentByHost(at.Namespace, br, source, etherType, l3);

    /// <summary>
    /// The device of <paramref name="origin"/> whose MAC is the frame's source: where another namespace
    /// sent what the capture saw (e.g. on a bridge port, a frame bridged from a host behind another port).
    /// </summary>
    private static NetDevice? SenderDevice(SkBuff skb, NetNamespace origin)
    {
        if (skb.MacHeader < 0 || !EthernetFrame.TryParse(skb.Data[skb.MacHeader..], out var eth, out _)) return null;
        var mac = eth.Source;
        return origin.Devices.FirstOrDefault(d => d.Mac == mac && !d.IsLoopback) is { } dev ? Vlan.VlanCore.SenderOf(skb, origin, dev) : null;
    }

    /// <summary>Whether a non-loopback device of the model has this MAC (a loop: a lambda here allocated on every frame).</summary>
    private bool KnownDevice(MacAddress mac)
    {
        foreach (var ns in Topology.Namespaces)
            foreach (var d in ns.Devices)
                if (d.Mac == mac && !d.IsLoopback) return true;
        return false;
    }

    /// <summary>The packet as <paramref name="sender"/> wrote it (<paramref name="pre"/>), traced from its output path.</summary>
    private void TraceAsSentBefore(SkBuff skb, TraceBuilder t, InjectionPoint at, NetNamespace sender, ConntrackTuple pre, string why)
    {
        SeenAfterSnat = ConntrackTable.TryTuple(skb.Network, skb.Protocol == EtherTypes.Ipv6, out var seen) ? seen : null;
        try { TraceAsSentBeforeNat(skb, t, at, sender, pre, why); }
        finally { SeenAfterSnat = null; }
    }

    /// <summary>While a packet seen leaving after source NAT is traced from its sender: the tuple it left
    /// with, so that a port the kernel picked at random is the one the model's binding takes.</summary>
    internal ConntrackTuple? SeenAfterSnat { get; private set; }

    private void TraceAsSentBeforeNat(SkBuff skb, TraceBuilder t, InjectionPoint at, NetNamespace sender, ConntrackTuple pre, string why)
    {
        NfNat.Reconstruct(skb, pre);
        // a NAT helper resized this connection's payload: the numbers as the sender wrote them
        if (StateOf(at.Namespace).Conntrack.Find(pre) is { SeqAdj: not null } adjusted)
            NfConntrackSeqadj.Undo(skb.Network, skb.Protocol == EtherTypes.Ipv6, adjusted, adjusted.Original == pre ? CtDirection.Original : CtDirection.Reply);
        if (sender != at.Namespace) UndoForwardHop(skb);
        skb.Netns = sender;
        Socket.SockLookup.SetOwner(skb, t, LocalSender(skb, sender, pre.Source, pre.Destination));
        t.Stage(skb, "Observed", "dev_hard_start_xmit", Verdict.Pass, why);
        IPv4.IpLocalOut.Send(skb, t, pre.Source, pre.Destination, at.Device);
        if (t.Fate is Fate.Transmitted or Fate.Forwarded && t.Egress != at.ToString())
            t.Note($"the model sends it out {t.Egress}, but the capture saw it leave {at}");
    }
}
