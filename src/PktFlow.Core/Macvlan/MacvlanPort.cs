using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Macvlan;

/// <summary>
/// The macvlan port of a lower device (struct macvlan_port, drivers/net/macvlan.c): the macvlans on it
/// and the lookups macvlan_handle_frame and macvlan_queue_xmit make. A macvlan is in the port's hash
/// only while it is up (macvlan_open adds it, macvlan_stop removes it).
/// </summary>
public static class MacvlanPort
{
    public static IReadOnlyList<(NetNamespace Ns, NetDevice Dev)> Of(SkBuff skb, NetNamespace lowerNs, NetDevice lower) =>
        skb.Engine.Topology.MacvlanPort(lowerNs.Name, lower.Name);

    /// <summary>macvlan_hash_lookup: the up macvlan of the port with this MAC.</summary>
    [KernelSymbol("macvlan_hash_lookup", "drivers/net/macvlan.c")]
    public static (NetNamespace Ns, NetDevice Dev)? HashLookup(IReadOnlyList<(NetNamespace Ns, NetDevice Dev)> port, MacAddress mac)
    {
        foreach (var v in port)
            if (v.Dev.IsUp && v.Dev.Mac == mac) return v;
        return null;
    }

    /// <summary>
    /// macvlan_broadcast's choice: the up macvlans of the port whose mode is among <paramref name="modes"/>,
    /// other than <paramref name="src"/>, whose mc_filter passes <paramref name="dst"/> (<see cref="MacvlanMcFilter"/>).
    /// </summary>
    [KernelSymbol("macvlan_broadcast", "drivers/net/macvlan.c")]
    public static List<(NetNamespace Ns, NetDevice Dev)> BroadcastTargets(IReadOnlyList<(NetNamespace Ns, NetDevice Dev)> port, NetDevice? src, MacvlanMode modes, MacAddress dst)
    {
        var list = new List<(NetNamespace, NetDevice)>();
        foreach (var v in port)
            if (v.Dev.IsUp && v.Dev != src && (v.Dev.Macvlan!.Mode & modes) != 0 && MacvlanMcFilter.Passes(v.Ns, v.Dev, dst) is not null) list.Add(v);
        return list;
    }

    /// <summary>
    /// Of the copies a broadcast makes, the one the trace follows (a trace has one fate): toward the
    /// namespace that owns the frame's target address (an ARP request's target, an IP destination); null
    /// when none does, and the original goes on.
    /// </summary>
    public static (NetNamespace Ns, NetDevice Dev)? Owner(SkBuff skb, List<(NetNamespace Ns, NetDevice Dev)> copies)
    {
        if (Target(skb) is not { } a) return null;
        foreach (var c in copies)
            if (c.Ns.IsLocalAddress(a)) return c;
        return null;
    }

    /// <summary>The address a frame is for: an ARP request's target, a neighbour solicitation's, an IP destination.</summary>
    public static IpAddr? Target(SkBuff skb)
    {
        IpAddr? target = null;
        var l3 = skb.Network;
        if (skb.Protocol == EtherTypes.Arp && ArpPacket.TryParse(l3, out var arp, out _) && arp.IsEthernetIpv4) target = arp.TargetIp;
        else if (skb.Protocol == EtherTypes.Ipv4 && Ipv4Header.TryParse(l3, out var ip, out _)) target = ip.Destination;
        else if (skb.Protocol == EtherTypes.Ipv6 && Ipv6Header.TryParse(l3, out var ip6, out _))
        {
            target = ip6.Destination;
            // a solicitation goes to the target's solicited-node group: the namespace owning the target takes it
            if (ip6.NextHeader == IpProtocol.Icmpv6 && Icmpv6Header.TryParse(l3[Ipv6Header.HeaderLength..], out var icmp, out _)
                && icmp.Type == Icmpv6Header.NeighborSolicitation && icmp.TargetAddress != IpAddr.AnyV6)
                target = icmp.TargetAddress;
        }
        return target;
    }

    /// <summary>The names of copies for a stage's text: "mv1 (c1), mv2 (c2)".</summary>
    public static string Names(IEnumerable<(NetNamespace Ns, NetDevice Dev)> copies)
    {
        var s = string.Join(", ", copies.Select(c => $"{c.Ns.Name}/{c.Dev.Name}"));
        return s.Length == 0 ? "none" : s;
    }

    /// <summary>
    /// A frame the lower device itself sends for one of its macvlans (or a broadcast) goes to the wire:
    /// macvlan_handle_frame is its rx_handler and sees only what it receives. Said in the trace, since
    /// it is why the host cannot reach its macvlans.
    /// </summary>
    public static void NoteLowerXmit(SkBuff skb, TraceBuilder t)
    {
        var port = skb.Engine.Topology.MacvlanPort(skb.Netns.Name, skb.Dev.Name);
        if (port.Count == 0 || skb.MacHeader < 0 || !EthernetFrame.TryParse(skb.Data[skb.MacHeader..], out var eth, out _)) return;
        var dst = eth.Destination;
        if (eth.Source != skb.Dev.Mac) return; // a macvlan's frame (macvlan_queue_xmit said where it went)
        string? whose = dst.IsBroadcast ? $"the broadcast does not reach its macvlans {Names(port)}"
            : HashLookup(port, dst) is { } v ? $"{dst} is {v.Ns.Name}/{v.Dev.Name}'s, a macvlan on it, which does not get it" : null;
        if (whose is null) return;
        t.Stage(skb, "MacvlanLowerXmit", "dev_hard_start_xmit", Verdict.Pass,
            $"{skb.Dev.Name} sends it to the wire: {whose} (macvlan_handle_frame, {skb.Dev.Name}'s rx_handler, sees only what {skb.Dev.Name} receives; a lower device cannot talk to its own macvlans)");
    }
}
