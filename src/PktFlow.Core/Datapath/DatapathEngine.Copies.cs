using PktFlow.Capture;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Datapath;

/// <summary>What became of a traced packet, for the later copies a multi-device capture shows of it.</summary>
internal sealed class CopyOrigin(long frame)
{
    /// <summary>The frame that showed the packet first; 0 for a child trace no frame has shown yet.</summary>
    public long Frame { get; set; } = frame;
    public Fate Fate { get; set; }
    public string Reason { get; set; } = "";
    public string? Egress { get; set; }
}

/// <summary>
/// A capture of several devices of one namespace (tcpdump -i any, or a pcapng with one interface per
/// device) shows a packet once per device it crosses there: dev_queue_xmit_nit hands the taps a copy
/// of every packet sent, __netif_receive_skb_core of every packet received (also when a bridge passes
/// a frame up to its own device). The first copy is traced; every device crossing of that trace in the
/// capture's namespace is remembered with the header fields as they were at that device (after NAT,
/// where NAT ran before it), so that a later frame showing that crossing is recognised as a copy.
/// </summary>
public sealed partial class DatapathEngine
{
    /// <summary>The namespace a capture of several of its devices was taken in; null for a capture of one device.</summary>
    public NetNamespace? CopiesIn { get; init; }

    /// <summary>Device crossings of traced packets in <see cref="CopiesIn"/>, by device and direction ("eth0>" sent, "eth0&lt;" received).</summary>
    private readonly PredictedForwards _copies = new();

    /// <summary>The packet being traced whose crossings are remembered; null between packets and while child traces run.</summary>
    private CopyOrigin? _tracing;

    private static string Crossing(NetDevice dev, bool outbound) => dev.Name + (outbound ? ">" : "<");

    /// <summary>Observe mode: the capture point while a frame's own packet is traced (not its answers).</summary>
    private InjectionPoint? _wire;

    /// <summary>The header fields of the traced packet when it left by the capture point: a same-device forward, whose copy the capture shows next.</summary>
    private string? _leftByWire;

    /// <summary>Called where the kernel's taps see a packet: sent on a device (dev_queue_xmit_nit) or received on one (__netif_receive_skb_core).</summary>
    internal void NoteCrossing(SkBuff skb, bool outbound)
    {
        if (outbound && _wire is { } w && _leftByWire is null && skb.Dev == w.Device && skb.Netns == w.Namespace) _leftByWire = FlowKey(skb);
        if (_tracing is not { } origin || skb.Netns != CopiesIn || CopyKey(skb) is not { } key) return;
        _copies.Add(Crossing(skb.Dev, outbound), key, origin.Frame, skb.TimestampNs, origin);
    }

    /// <summary>The header fields that identify one packet on every device it crosses: <see cref="FlowKey"/>, or an ARP packet's whole payload.</summary>
    private static string? CopyKey(SkBuff skb)
    {
        if (FlowKey(skb) is { } key) return key;
        var n = skb.Network;
        return skb.Protocol == EtherTypes.Arp && n.Length >= 28 ? "arp/" + Convert.ToHexString(n[..28]) : null;
    }

    /// <summary>
    /// A frame of a multi-device capture that shows a crossing of an earlier packet's trace: the result
    /// is that packet's fate, <c>copy of frame N seen on DEV</c>, and <paramref name="copyOf"/> = N.
    /// </summary>
    private bool TryCopy(SkBuff skb, TraceBuilder t, InjectionPoint at, bool outbound, ref long? copyOf)
    {
        if (CopiesIn is null || at.Namespace != CopiesIn || Mode != ReplayMode.Observe || CopyKey(skb) is not { } key) return false;
        if (!_copies.TryTake(Crossing(at.Device, outbound), key, skb.TimestampNs, out _, out var origin) || origin is not { Frame: > 0 and var frame }) return false;
        _tracing = null;
        copyOf = frame;
        t.Stage(skb, "Observed", outbound ? "dev_queue_xmit_nit" : "__netif_receive_skb_core", Verdict.Pass,
            $"seen {(outbound ? "leaving" : "arriving on")} {at}: a copy of frame {frame}, whose trace {(outbound ? "sent it on" : "received it on")} {at.Device.Name} with these addresses, ports and id (the capture has a copy per device the packet crosses)");
        t.End(origin.Fate, $"copy of frame {frame} seen on {at.Device.Name}", origin.Egress);
        return true;
    }

    /// <summary>The crossings of each child trace, until a frame of the capture shows the child (<see cref="AdoptChildCopies"/>).</summary>
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<PacketTrace, CopyOrigin> _childCopies = new();

    /// <summary>Starts remembering the crossings of a child trace about to be walked; they match nothing until a frame shows the child.</summary>
    internal CopyOrigin? BeginChildCopies() => _tracing = CopiesIn is null ? null : new CopyOrigin(0);

    internal void EndChildCopies(CopyOrigin? origin, PacketTrace child)
    {
        _tracing = null;
        if (origin is null) return;
        (origin.Fate, origin.Reason, origin.Egress) = (child.Fate, child.Reason, child.Egress);
        _childCopies.AddOrUpdate(child, origin);
    }

    /// <summary>A frame showed this child (its crossing <paramref name="shown"/>): its other crossings are now copies of that frame.</summary>
    private void AdoptChildCopies(PacketTrace child, long frame, string shown, string? key)
    {
        if (!_childCopies.TryGetValue(child, out var origin)) return;
        origin.Frame = frame;
        if (key is null) return;
        _copies.Rekey(shown, key, origin);
        _copies.Forget(shown, key, origin);
    }

    /// <summary>Starts remembering the crossings of the packet about to be traced (multi-device captures only).</summary>
    private void BeginCopies(long frame) => _tracing = CopiesIn is null ? null : new CopyOrigin(frame);

    /// <summary>
    /// Ends a traced packet's crossings with its fate. A packet sent on a loopback device comes back in
    /// on it (loopback_xmit hands it to netif_rx): that received copy is expected too.
    /// </summary>
    /// <param name="ownKey">The frame's own crossing (the copy the capture showed as this frame): no later frame is that copy.</param>
    private void EndCopies(TraceBuilder t, InjectionPoint at, bool outbound, string? loopKey, string? ownKey, long ts)
    {
        if (_tracing is not { } origin) return;
        _tracing = null;
        // a later packet with the same fields on the same device and direction (a SYN-ACK and a
        // TIME_WAIT ACK, both IP id 0) is a packet of its own, not a copy of this one
        if (ownKey is not null) _copies.Forget(Crossing(at.Device, outbound), ownKey, origin);
        origin.Fate = t.Fate!.Value;
        origin.Reason = t.Reason;
        origin.Egress = t.Egress;
        if (outbound && at.Device.IsLoopback && loopKey is not null) _copies.Add(Crossing(at.Device, false), loopKey, origin.Frame, ts, origin);
    }

    /// <summary>
    /// A Linux cooked (SLL2) frame received on an Ethernet device of the model, given back the Ethernet
    /// header the cooked capture removed, so that it is received as the kernel received it (bridge
    /// ports look up the destination). The header keeps the source address; the destination follows
    /// from the packet type: the device's own address (HOST), broadcast, the multicast group's address,
    /// or for OTHERHOST the next hop the sender's routes give (the sender is the device with the
    /// source address), else the ARP target; an ARP packet sent (OUTGOING) goes to its target, a
    /// request to broadcast. Null when the frame cannot be rebuilt.
    /// </summary>
    private byte[]? CookedToEthernet(ReadOnlySpan<byte> data, LinkInfo link, NetDevice dev, out string? note)
    {
        note = null;
        if (link.HardwareType != 1 || link.LinkAddressLength != 6 || data.Length < link.NetworkOffset) return null;
        var src = MacAddress.Read(data.Slice(link.LinkAddressOffset, 6));
        var l3 = data[link.NetworkOffset..];
        MacAddress dst;
        switch (link.PacketType)
        {
            case LinuxPacketType.Host: dst = dev.Mac; break;
            case LinuxPacketType.Broadcast: dst = MacAddress.Broadcast; break;
            case LinuxPacketType.Multicast:
                if (MulticastMac(link.EtherType, l3) is not { } group) return null;
                dst = group;
                break;
            case LinuxPacketType.Outgoing when link.EtherType == EtherTypes.Llc && StpBpdu.IsStpLlc(l3):
                dst = StpBpdu.GroupAddress; // a bridge's own BPDU (br_send_bpdu)
                break;
            case LinuxPacketType.Outgoing:
                // only ARP: an IP packet seen leaving is traced from its sender, whose neighbour output writes the header
                if (link.EtherType != EtherTypes.Arp || !ArpPacket.TryParse(l3, out var arp, out _) || !arp.IsEthernetIpv4) return null;
                dst = arp.Operation == ArpPacket.Request && arp.TargetMac.IsZero ? MacAddress.Broadcast : arp.TargetMac;
                break;
            case LinuxPacketType.OtherHost:
                if (NextHopMac(src, link.EtherType, l3) is { } hop) dst = hop;
                else
                {
                    dst = MacAddress.Zero;
                    note = "the cooked capture does not keep the destination MAC and the model cannot tell the next hop the sender chose: taken as an unknown unicast address";
                }
                break;
            default: return null;
        }
        var frame = new byte[14 + l3.Length];
        dst.Write(frame);
        src.Write(frame.AsSpan(6));
        // an 802.2 frame carries its length where the EtherType would be
        ushort typeOrLength = link.EtherType == EtherTypes.Llc ? (ushort)l3.Length : link.EtherType;
        frame[12] = (byte)(typeOrLength >> 8);
        frame[13] = (byte)typeOrLength;
        l3.CopyTo(frame.AsSpan(14));
        return frame;
    }

    private static MacAddress? MulticastMac(ushort type, ReadOnlySpan<byte> l3)
    {
        if (type == EtherTypes.Ipv4 && l3.Length >= 20)
            return new MacAddress(0x0100_5E00_0000UL | ((ulong)(l3[17] & 0x7F) << 16) | ((ulong)l3[18] << 8) | l3[19]);
        if (type == EtherTypes.Ipv6 && l3.Length >= 40)
            return new MacAddress(0x3333_0000_0000UL | ((ulong)l3[36] << 24) | ((ulong)l3[37] << 16) | ((ulong)l3[38] << 8) | l3[39]);
        if (type == EtherTypes.Llc && StpBpdu.IsStpLlc(l3)) return StpBpdu.GroupAddress; // a BPDU: the bridge group address
        return null;
    }

    /// <summary>The MAC of the next hop the sender (the model's device with MAC <paramref name="src"/>) routes the packet to.</summary>
    private MacAddress? NextHopMac(MacAddress src, ushort type, ReadOnlySpan<byte> l3)
    {
        if (type == EtherTypes.Arp)
        {
            // a reply goes to the target hardware address; a unicast request (a probe of a known entry) to the target's owner
            if (!ArpPacket.TryParse(l3, out var arp, out _) || !arp.IsEthernetIpv4) return null;
            return arp.TargetMac.IsZero ? OwnerMac(arp.TargetIp) : arp.TargetMac;
        }
        IpAddr dst;
        if (type == EtherTypes.Ipv4 && Ipv4Header.TryParse(l3, out var ip, out _)) dst = ip.Destination;
        else if (type == EtherTypes.Ipv6 && Ipv6Header.TryParse(l3, out var ip6, out _)) dst = ip6.Destination;
        else return null;
        foreach (var ns in Topology.Namespaces)
        {
            if (!ns.Devices.Any(d => d.Mac == src && !d.IsLoopback)) continue;
            var r = ns.Fib.Lookup(dst);
            return OwnerMac(r.Found && r.Route!.Gateway is { } gw ? gw : dst);
        }
        return null;
    }

    /// <summary>The MAC of the (non-loopback) device that has this address, in any namespace.</summary>
    private MacAddress? OwnerMac(IpAddr address)
    {
        foreach (var owner in Topology.Namespaces)
            foreach (var d in owner.Devices)
                if (!d.IsLoopback && owner.AddressesOf(d.Name).Any(a => a.Address == address)) return d.Mac;
        return null;
    }
}

/// <summary>The copy after source NAT of a packet traced from its copy before NAT (multi-device captures).</summary>
public sealed partial class DatapathEngine
{
    /// <summary>The frames after the one being replayed (network header and protocol), set by the replay for a multi-device capture.</summary>
    internal IReadOnlyCollection<(ushort Protocol, byte[] Network)>? Upcoming { get; set; }

    /// <summary>
    /// The tuple a later frame shows this packet leaving with after source NAT: the same destination,
    /// protocol, IPv4 id / IPv6 payload length and transport fields NAT leaves alone (TCP destination
    /// port, sequence and acknowledgment; UDP destination port, length and data; ICMP type, sequence
    /// and data), from another source. Tracing sets it as <see cref="SeenAfterSnat"/> so that a port or
    /// id the kernel picked at random (get_unique_tuple) is the one the model's binding takes.
    /// </summary>
    private Netfilter.Conntrack.ConntrackTuple? LaterAfterSnat(ushort protocol, ReadOnlySpan<byte> l3)
    {
        if (Upcoming is null || NatInvariantKey(protocol, l3, out var source) is not { } key) return null;
        foreach (var (p, n) in Upcoming)
            if (NatInvariantKey(p, n, out var other) == key && other != source
                && Netfilter.Conntrack.ConntrackTable.TryTuple(n, p == EtherTypes.Ipv6, out var tuple)) return tuple;
        return null;
    }

    private static string? NatInvariantKey(ushort protocol, ReadOnlySpan<byte> l3, out IpAddr source)
    {
        source = default;
        IpAddr dst; byte proto; int id; ReadOnlySpan<byte> l4;
        if (protocol == EtherTypes.Ipv4 && Ipv4Header.TryParse(l3, out var ip, out _) && !ip.IsFragment)
        {
            (source, dst, proto, id) = (ip.Source, ip.Destination, ip.Protocol, ip.Identification);
            l4 = ip.Payload;
        }
        else if (protocol == EtherTypes.Ipv6 && Ipv6Header.TryParse(l3, out var ip6, out _))
        {
            (source, dst, proto, id) = (ip6.Source, ip6.Destination, ip6.NextHeader, ip6.PayloadLength);
            l4 = l3[Ipv6Header.HeaderLength..];
        }
        else return null;
        // what NAT rewrites is left out: source port / ICMP id, and the checksums
        string? invariant = proto switch
        {
            IpProtocol.Tcp when l4.Length >= 12 => Convert.ToHexString(l4[2..12]),
            IpProtocol.Udp when l4.Length >= 8 => Convert.ToHexString(l4[2..6]) + Convert.ToHexString(l4[8..Math.Min(l4.Length, 16)]),
            IpProtocol.Icmp or IpProtocol.Icmpv6 when l4.Length >= 8 => Convert.ToHexString(l4[..1]) + Convert.ToHexString(l4[6..Math.Min(l4.Length, 16)]),
            _ => null,
        };
        return invariant is null ? null : $"{dst}/{proto}/{id}/{invariant}";
    }
}
