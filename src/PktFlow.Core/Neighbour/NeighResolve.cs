using PktFlow.Datapath;
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
    public static NeighResult Resolve(SkBuff skb, NetDevice dev, IpAddr nextHop)
    {
        if (skb.Netns.Neighbours.FirstOrDefault(n => n.Device == dev.Name && n.Address == nextHop) is { } entry)
            return entry.State is "failed" or "incomplete" || entry.LinkLayer is null
                ? new(NeighState.Failed, default, $"the neighbour table says {entry}")
                : new(NeighState.Resolved, entry.LinkLayer.Value, $"static neighbour {entry}");
        if (dev.Kind == DeviceKind.Veth && dev.Peer is { } peerName)
        {
            var peerNs = skb.Engine.Topology.Namespace(dev.PeerNamespace ?? skb.Netns.Name);
            var peer = peerNs?.Device(peerName);
            if (peerNs is null || peer is null)
                return new(NeighState.Unsupported, default, $"the peer of {dev.Name} ({peerName}) is not in the model");
            if (peer.Master is { } master)
                return new(NeighState.Unsupported, default, $"{peerNs.Name}/{peer.Name} is a port of {master}: bridged neighbours are not modelled yet");
            if (!peer.IsUp)
                return new(NeighState.Failed, default, $"{peerNs.Name}/{peer.Name} is down: nothing answers");
            int ignore = int.TryParse(peerNs.Sysctls.Get($"net.ipv4.conf.{peer.Name}.arp_ignore") ?? peerNs.Sysctls.Get("net.ipv4.conf.all.arp_ignore"), out var v) ? v : 0;
            bool owns = nextHop.IsV6 || ignore == 0
                ? peerNs.IsLocalAddress(nextHop)
                : peerNs.AddressesOf(peer.Name).Any(a => a.Address == nextHop);
            return owns
                ? new(NeighState.Resolved, peer.Mac, $"{nextHop} is {peerNs.Name}/{peer.Name} ({peer.Mac}), across the veth pair")
                : new(NeighState.Failed, default, $"no address {nextHop} behind {dev.Name} ({peerNs.Name}/{peer.Name} does not have it)");
        }
        if (skb.State.ObservedSenders.TryGetValue(dev.Name, out var senders))
            return senders.Contains(nextHop)
                ? new(NeighState.Resolved, default, $"{nextHop} is on the wire (it sends frames in this capture), so it resolves")
                : new(NeighState.Failed, default, $"{nextHop} never sends anything in this capture, so it would not answer");
        return new(NeighState.Assumed, default, $"{dev.Name} is not the capture point and leads outside the model, so whether {nextHop} answers is not known; assumed reachable");
    }
}

