using PktFlow.Datapath;
using PktFlow.IPv4;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Neighbour;

/// <summary>How the model resolved a next hop's link-layer address.</summary>
public enum NeighState { Resolved, Failed, Assumed, Unsupported }

public readonly record struct NeighResult(NeighState State, MacAddress Mac, string Detail);

/// <summary>
/// Neighbour resolution (net/core/neighbour.c, arp_solicit / ndisc_solicit) against the model: a next hop
/// behind a veth answers if its namespace owns the address (arp_ignore 0: any local address; 1: on the
/// receiving device); on the captured wire a next hop answers if it speaks in the capture; elsewhere
/// the model cannot know and assumes it answers, saying so.
/// </summary>
public static class NeighResolve
{
    [KernelSymbol("__neigh_event_send", "net/core/neighbour.c")]
    /// <param name="learn">The packet waits for the answer (ip_finish_output2): a bridge learns where it came from.</param>
    public static NeighResult Resolve(SkBuff skb, NetDevice dev, IpAddr nextHop, bool learn = false)
    {
        if (StaticEntry(skb.Netns, dev, nextHop) is { } entry)
            return entry.State is "failed" or "incomplete" || entry.LinkLayer is null
                ? new(NeighState.Failed, default, $"the neighbour table says {entry}")
                : new(NeighState.Resolved, entry.LinkLayer.Value, $"static neighbour {entry}");
        // A VLAN device's request goes out tagged on its lower device: the segment is the lower's
        // (the model does not narrow it to the VLAN's members).
        while (dev.VlanDev is { } v && skb.Netns.Device(v.Lower) is { } lower) dev = lower;
        if (dev.Macvlan is { } mv) return MacvlanSegment(skb, dev, mv, nextHop, new Asker(skb, dev));
        if (dev.Kind is DeviceKind.Veth or DeviceKind.Bridge)
        {
            // the set of visited devices is only needed once a bridge is on the way (most veths lead straight to a peer)
            if (AcrossSegment(skb, skb.Netns, dev, nextHop, seen: null, new Asker(skb, dev)) is { } found)
            {
                // Resolving took an ARP exchange the capture does not hold: the owner's reply entered the
                // bridge on its port, and br_handle_frame_finish learnt its MAC there (br_fdb_update), so
                // the packet that waited for it is forwarded to that port, not flooded as unknown unicast.
                if (learn && found.State == NeighState.Resolved && dev.Kind == DeviceKind.Bridge
                    && Bridge.BrFdb.Of(skb.State, skb.Netns, dev, skb.TimestampNs).Find(found.Mac, skb.TimestampNs, 0, Bridge.BrStp.FdbHold(skb, dev)) is null)
                    Bridge.BrPorts.LearnAnswer(skb, dev, nextHop, vid: 0);
                return found;
            }
        }
        if (skb.State.ObservedSenders.TryGetValue(dev.Name, out var senders))
            return WireAnswer(senders, nextHop);
        return new(NeighState.Assumed, default, $"{dev.Name} is not the capture point and leads outside the model, so whether {nextHop} answers is not known; assumed reachable");
    }

    /// <summary>
    /// A macvlan's request: in bridge mode its bridge-mode siblings on the lower device get it (the first
    /// that owns the address answers); then it leaves by the lower device, onto the lower device's
    /// segment, but never reaches the lower device's own namespace.
    /// </summary>
    static NeighResult MacvlanSegment(SkBuff skb, NetDevice dev, MacvlanParameters mv, IpAddr nextHop, Asker sip)
    {
        var lowerNs = skb.Engine.Topology.Namespace(mv.LowerNamespace);
        if (lowerNs?.Device(mv.Lower) is not { } lower)
            return new(NeighState.Unsupported, default, $"{dev.Name}'s lower device {mv.LowerNamespace}/{mv.Lower} is not in the model");
        if (mv.Mode == MacvlanMode.Bridge)
            foreach (var (ns, sib) in skb.Engine.Topology.MacvlanPort(lowerNs.Name, lower.Name))
                if (sib != dev && sib.IsUp && sib.Macvlan!.Mode == MacvlanMode.Bridge && Owns(ns, sib, nextHop, sip))
                    return new(NeighState.Resolved, sib.Mac, $"{nextHop} is {ns.Name}/{sib.Name} ({sib.Mac}), a bridge-mode macvlan on {lower.Name} too");
        // a switch in hairpin mode behind the lower device (a VEPA switch: a bridge port with hairpin on)
        // sends the request back, and macvlan_handle_frame floods it to the modes its sender's allows
        var modes = mv.Mode == MacvlanMode.Vepa ? MacvlanMode.Vepa | MacvlanMode.Bridge : mv.Mode == MacvlanMode.Bridge ? MacvlanMode.Vepa : 0;
        if (modes != 0 && HairpinBehind(skb, lowerNs, lower) is { } sw)
            foreach (var (ns, sib) in skb.Engine.Topology.MacvlanPort(lowerNs.Name, lower.Name))
                if (sib != dev && sib.IsUp && (sib.Macvlan!.Mode & modes) != 0 && Owns(ns, sib, nextHop, sip))
                    return new(NeighState.Resolved, sib.Mac, $"{nextHop} is {ns.Name}/{sib.Name} ({sib.Mac}), a macvlan on {lower.Name} too: the request comes back through {sw}, in hairpin mode");
        string host = lowerNs.IsLocalAddress(nextHop) ? $"; {lowerNs.Name}, which has {nextHop}, never gets it: a macvlan's frames leave by {lower.Name}, and its rx_handler sees only what arrives" : "";
        var found = lower.Kind is DeviceKind.Veth or DeviceKind.Bridge ? AcrossSegment(skb, lowerNs, lower, nextHop, seen: null, sip) : null;
        if (found is { } r) return r with { Detail = r.Detail + host };
        if (skb.Engine.StateOf(lowerNs).ObservedSenders.TryGetValue(lower.Name, out var senders))
        {
            var w = WireAnswer(senders, nextHop);
            return w with { Detail = w.Detail + host };
        }
        return new(NeighState.Assumed, default, $"{lower.Name}, {dev.Name}'s lower device, leads outside the model, so whether {nextHop} answers is not known; assumed reachable{host}");
    }

    /// <summary>The bridge port in hairpin mode at the other end of a veth lower device ("ns/port"), or null.</summary>
    static string? HairpinBehind(SkBuff skb, NetNamespace ns, NetDevice lower)
    {
        if (lower.Kind != DeviceKind.Veth || lower.Peer is not { } peerName) return null;
        var peerNs = skb.Engine.Topology.Namespace(lower.PeerNamespace ?? ns.Name);
        return peerNs?.Device(peerName) is { Hairpin: true, IsUp: true, Master: not null } port ? $"{peerNs.Name}/{port.Name}" : null;
    }

    // a loop, not FirstOrDefault with a lambda: this runs for every packet sent
    static Topology.Neighbour? StaticEntry(NetNamespace ns, NetDevice dev, IpAddr nextHop)
    {
        foreach (var n in ns.Neighbours)
            if (n.Device == dev.Name && n.Address == nextHop && !n.IsProxy) return n;
        return null;
    }

    // The ARP request (or neighbour solicitation) floods the L2 segment behind dev: across veth pairs
    // and through every forwarding port of a bridge, in whichever namespace they are. The first
    // interface on the segment that owns the address answers with its own MAC (a bridge answers with
    // the bridge device's MAC). Null: the segment reaches the captured wire or the edge of the model.
    static NeighResult? AcrossSegment(SkBuff skb, NetNamespace ns, NetDevice dev, IpAddr nextHop, HashSet<(string, string)>? seen, Asker sip)
    {
        if (dev.Kind != DeviceKind.Bridge) return AcrossPort(skb, ns, dev, nextHop, seen, sip);
        if (!(seen ??= new()).Add((ns.Name, dev.Name)))
            return new(NeighState.Failed, default, $"no address {nextHop} on the segment behind {dev.Name}");
        NeighResult? edge = null;
        foreach (var port in ns.Devices)
        {
            if (port.Master != dev.Name || !port.IsUp) continue;
            var r = AcrossPort(skb, ns, port, nextHop, seen, sip);
            if (r is { State: NeighState.Resolved }) return r;
            if (r is null || r.Value.State is NeighState.Unsupported or NeighState.Assumed) edge ??= r ?? new(NeighState.Assumed, default, $"{port.Name} leads outside the model");
        }
        return edge is { State: NeighState.Unsupported } ? edge : edge is null
            ? new(NeighState.Failed, default, $"no port of {ns.Name}/{dev.Name} leads to {nextHop}")
            : null;
    }

    static NeighResult? AcrossPort(SkBuff skb, NetNamespace ns, NetDevice port, IpAddr nextHop, HashSet<(string, string)>? seen, Asker sip)
    {
        if (port.Kind != DeviceKind.Veth || port.Peer is not { } peerName)
            return skb.Engine.StateOf(ns).ObservedSenders.TryGetValue(port.Name, out var senders) ? WireAnswer(senders, nextHop) : null;
        var peerNs = skb.Engine.Topology.Namespace(port.PeerNamespace ?? ns.Name);
        var peer = peerNs?.Device(peerName);
        if (peerNs is null || peer is null)
            return new(NeighState.Unsupported, default, $"the peer of {port.Name} ({peerName}) is not in the model");
        if (!peer.IsUp)
            return new(NeighState.Failed, default, $"{peerNs.Name}/{peer.Name} is down: nothing answers");
        (seen ??= new()).Add((peerNs.Name, peer.Name));
        if (peer.Master is { } master && peerNs.Device(master) is { } bridge)
        {
            // the request enters the bridge: delivered up to the bridge device, and flooded on
            if (bridge.IsUp && Owns(peerNs, bridge, nextHop, sip))
                return new(NeighState.Resolved, bridge.Mac, $"{nextHop} is {peerNs.Name}/{bridge.Name} ({bridge.Mac}), across {port.Name} and the bridge port {peer.Name}");
            return AcrossSegment(skb, peerNs, bridge, nextHop, seen, sip);
        }
        return Owns(peerNs, peer, nextHop, sip)
            ? new(NeighState.Resolved, peer.Mac, $"{nextHop} is {peerNs.Name}/{peer.Name} ({peer.Mac}), across the veth pair {port.Name}")
            : new(NeighState.Failed, default, $"no address {nextHop} behind {port.Name} ({peerNs.Name}/{peer.Name} does not have it)");
    }

    /// <summary>
    /// Whether <paramref name="dev"/> answers a request from <paramref name="sip"/> for <paramref name="address"/>
    /// with its own MAC: arp_process for a local target that arp_ignore and arp_filter let it answer, or
    /// its proxy path (proxy_arp, proxy_arp_pvlan, a proxy entry). IPv6: any local address (ndisc).
    /// </summary>
    static bool Owns(NetNamespace ns, NetDevice dev, IpAddr address, Asker asker)
    {
        if (address.IsV6) return ns.IsLocalAddress(address);
        bool local = ns.IsLocalAddress(address);
        // the requester's address matters only to arp_ignore 2, arp_filter and the proxy path: found when asked
        if (local && ArpIgnore.Level(ns, dev) is not 2 && !ArpIgnore.Filters(ns, dev))
            return ArpIgnore.Check(ns, dev, default, address) is null;
        if (!local && !ns.Sysctls.Ipv4Forwarding(dev.Name)) return false;
        var sip = asker.Source(address);
        if (local) return (ArpIgnore.Check(ns, dev, sip, address) ?? ArpIgnore.Filter(ns, dev, sip, address)) is null;
        if (sip.IsZero) return false;
        var rt = ns.Fib.Lookup(address, sip, dev.Name, null, 0);
        return rt.Found && rt.Route!.Type == RouteType.Unicast && (rt.Route.Device ?? rt.Route.Nexthops?[0].Device) is { } outName
            && ns.Device(outName) is { IsUp: true } outDev && ArpRcv.ProxyReason(ns, dev, outDev, sip, address) is not null;
    }

    /// <summary>Who sends the request: the sender address arp_solicit writes into it (ArpSend.SolicitSource), worked out only when needed.</summary>
    readonly record struct Asker(SkBuff Skb, NetDevice Dev)
    {
        public IpAddr Source(IpAddr target) => ArpSend.SolicitSource(Skb, Dev, target) ?? default;
    }

    static NeighResult WireAnswer(HashSet<IpAddr> senders, IpAddr nextHop) =>
        senders.Contains(nextHop)
            ? new(NeighState.Resolved, default, $"{nextHop} is on the wire (it sends frames in this capture), so it resolves")
            : new(NeighState.Failed, default, $"{nextHop} never sends anything in this capture, so it would not answer");
}
