using PktFlow.Netfilter;
using PktFlow.Datapath;
using PktFlow.Neighbour;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Dev;

/// <summary>The transmit end of the path: neighbour output, then __dev_queue_xmit (see kernel-path.md, "Transmit").</summary>
public static class DevQueueXmit
{
    /// <summary>Upper bound on devices crossed by one packet, against loops between namespaces.</summary>
    public const int MaxHops = 64;

    [KernelSymbol("neigh_output", "include/net/neighbour.h")]
    /// <summary>
    /// ip_eth_mc_map (01:00:5e and the group's low 23 bits), ipv6_eth_mc_map (33:33 and its low 32 bits),
    /// the broadcast address for anything else (a broadcast next hop).
    /// </summary>
    [KernelSymbol("arp_mc_map", "net/ipv4/arp.c")]
    [KernelSymbol("ndisc_mc_map", "net/ipv6/ndisc.c")]
    internal static MacAddress McMap(IpAddr group) =>
        !group.IsMulticast ? MacAddress.Broadcast
        : group.IsV6 ? new MacAddress(0x3333_0000_0000UL | (group.Lo & 0xFFFF_FFFFUL))
        : new MacAddress(0x0100_5E00_0000UL | (group.V4Value & 0x7F_FFFFUL));

    public static void NeighOutput(SkBuff skb, TraceBuilder t, IpAddr nextHop, Fate fate, string detail)
    {
        var dev = skb.Dev;
        if (nextHop.IsMulticast || nextHop.IsLimitedBroadcast || IsSubnetBroadcast(skb, nextHop))
        {
            // Multicast and broadcast map straight to a link-layer address: no resolution (arp_constructor /
            // ndisc_constructor: NUD_NOARP with arp_mc_map's or ndisc_mc_map's address, or the device's broadcast)
            if (!dev.Mac.IsZero) skb.SetEthernet(McMap(nextHop), dev.Mac);
            t.Stage(skb, "NeighOutput", "neigh_output", Verdict.Pass, $"{detail}: {nextHop} is multicast/broadcast, no resolution needed");
            Xmit(skb, t, fate);
            return;
        }
        var n = NeighResolve.Resolve(skb, dev, nextHop, learn: true);
        switch (n.State)
        {
            case NeighState.Resolved:
                t.Stage(skb, "NeighOutput", "neigh_output", Verdict.Pass, $"{detail}: {n.Detail}");
                if (!n.Mac.IsZero) skb.SetEthernet(n.Mac, dev.Mac);
                Xmit(skb, t, fate);
                return;
            case NeighState.Assumed:
                t.NotModelled(skb, "NeighOutput", "neigh_output", $"{detail}: {n.Detail}");
                Xmit(skb, t, fate);
                return;
            case NeighState.Unsupported:
                t.Unsupported(skb, $"{detail}: {n.Detail}");
                return;
        }
        // __neigh_event_send: the packet waits in the neighbour's queue while the kernel probes;
        // with no answer neigh_invalidate tells the sender the host is unreachable and frees it.
        bool v6 = nextHop.IsV6;
        var n3 = skb.Network;
        var source = v6 ? IpAddr.ReadV6(n3[8..]) : IpAddr.ReadV4(n3[12..]);
        var later = NeighQueue.Enqueue(skb, t, dev, nextHop, $"{detail}: {n.Detail}");
        t.Later = later;
        // neigh_invalidate -> error_report -> dst_link_failure answers every packet still queued
        // (ipv4_link_failure: host unreachable; ip6_link_failure: address unreachable). Built now,
        // sent when the entry fails; a packet pushed out of the queue later gets none (LaterFate.Answered).
        if (later.AtNs > skb.TimestampNs)
        {
            string when = $" when the entry fails, +{(later.AtNs - skb.TimestampNs) / 1_000_000} ms";
            if (v6) IPv6.Icmp6Send.Error(skb, t, IPv6.Icmp6Send.DestUnreach, 3, 0, $"ICMPv6 destination unreachable, address unreachable, to {source}{when}");
            else IPv4.IcmpSend.Error(skb, t, IPv4.IcmpSend.DestUnreach, 1, 0, false, $"ICMP host unreachable to {source}{when}");
        }
        t.Drop(skb, "NeighResolve", "neigh_invalidate", later.Reason,
            $"{n.Detail}: the queued packet is dropped when resolution fails, +{(later.AtNs - skb.TimestampNs) / 1_000_000} ms after it arrived (unless a later packet pushes it out of the queue: see Later)");
    }

    private static bool IsSubnetBroadcast(SkBuff skb, IpAddr a)
    {
        if (!a.IsV4) return false;
        foreach (var x in skb.Netns.AddressesOf(skb.Dev.Name))
            if (x.Family == IpFamily.V4 && x.Prefix.Length < 31 && x.Address.HostBitsSet(x.Prefix.Length) == a) return true;
        return false;
    }

    [KernelSymbol("__dev_queue_xmit", "net/core/dev.c")]
    public static void Xmit(SkBuff skb, TraceBuilder t, Fate fate)
    {
        var dev = skb.Dev;
        if (!NfHookSlow.Run(skb, t, NfFamily.Netdev, NfHook.Egress, null, dev)) return;
        if (!Tc.SchHandle.Egress(skb, t)) return;
        if (!dev.IsUp)
        {
            // a device that is down has the noop qdisc (dev_deactivate, or never activated): its enqueue drops
            // (recorded on 6.18: a tc bpf_redirect to a veth that is down, tests/scenarios/tc-bpf-redirect-down)
            t.Drop(skb, "DevQueueXmit", "__dev_queue_xmit", "QDISC_DROP", $"{dev.Name} is down: noop qdisc");
            return;
        }
        if (NoCarrier(skb, dev) is { } why)
        {
            // linkwatch's dev_deactivate gave the device the noop qdisc, whose enqueue drops (tx_dropped)
            t.Drop(skb, "DevQueueXmit", "__dev_queue_xmit", "QDISC_DROP", $"{dev.Name} has no carrier ({why}): noop qdisc, before the taps");
            return;
        }
        skb.Engine.NoteCrossing(skb, outbound: true); // dev_queue_xmit_nit: the taps see it leave (a bridge device too)
        StartXmit(skb, t, fate, fromXdp: false);
    }

    /// <summary>A veth has carrier only while its peer is up (veth_open/veth_close); null when it has.</summary>
    private static string? NoCarrier(SkBuff skb, NetDevice dev)
    {
        if (dev.Kind != DeviceKind.Veth || dev.Peer is null) return null;
        var peerNs = skb.Engine.Topology.Namespace(dev.PeerNamespace ?? skb.Netns.Name);
        return peerNs?.Device(dev.Peer) is { IsUp: false } peer ? $"its peer {peerNs.Name}/{peer.Name} is down" : null;
    }

    /// <summary>
    /// The device's ndo_start_xmit: br_dev_xmit, vlan_dev_hard_start_xmit, veth_xmit, or a driver that
    /// puts the frame on the wire. dev_hard_start_xmit comes here after the taps; generic_xdp_tx directly.
    /// </summary>
    internal static void StartXmit(SkBuff skb, TraceBuilder t, Fate fate, bool fromXdp)
    {
        var dev = skb.Dev;
        if (dev.Kind == DeviceKind.Bridge) { Bridge.BrDevXmit.Xmit(skb, t, fate); return; }
        if (dev.VlanDev is not null) { Vlan.VlanCore.HardStartXmit(skb, t, fate); return; }
        if (dev.Macvlan is not null) { Macvlan.MacvlanQueueXmit.Run(skb, t, fate); return; }
        Macvlan.MacvlanPort.NoteLowerXmit(skb, t);
        if (skb.MacHeader >= 0) skb.Engine.OnTransmit?.Invoke(skb.Netns.Name, dev.Name, skb.Data[skb.MacHeader..].ToArray());
        if (dev.Kind == DeviceKind.Veth && dev.Peer is not null)
        {
            VethXmit(skb, t, fate);
            return;
        }
        if (dev.Vxlan is not null) { Tunnel.VxlanXmit.Xmit(skb, t, fate); return; }
        if (!fromXdp) t.SharedStage(skb, "DevQueueXmit", "dev_hard_start_xmit", Verdict.Pass, 0, 0, static (s, _) => $"sent on {s.Dev.Name}");
        SentOn(skb, t, fate, fromXdp);
    }

    /// <summary>Ends the walk on the device: its reason and egress text are the same for every packet, made once.</summary>
    private static void SentOn(SkBuff skb, TraceBuilder t, Fate fate, bool fromXdp = false)
    {
        var state = skb.State;
        t.End(fate, fromXdp ? state.DeviceText(skb.Dev, "xdp-reason", static (_, d) => $"generic_xdp_tx on {d.Name}")
                : state.DeviceText(skb.Dev, "reason", static (_, d) => $"dev_queue_xmit on {d.Name}"),
            state.DeviceText(skb.Dev, "egress", static (s, d) => $"{s.Name}/{d.Name}"));
    }

    /// <summary>
    /// veth_xmit: what one end transmits the peer receives, in the peer's namespace; the skb is
    /// scrubbed when it changes namespace (mark cleared) and receive starts again at eth_type_trans.
    /// </summary>
    [KernelSymbol("veth_xmit", "drivers/net/veth.c")]
    private static void VethXmit(SkBuff skb, TraceBuilder t, Fate fate)
    {
        var dev = skb.Dev;
        var peerNs = skb.Engine.Topology.Namespace(dev.PeerNamespace ?? skb.Netns.Name);
        var peer = peerNs?.Device(dev.Peer!);
        if (peerNs is null || peer is null)
        {
            t.Stage(skb, "DevQueueXmit", "dev_hard_start_xmit", Verdict.Pass, $"sent on {dev.Name}; its peer {dev.Peer} is outside the model");
            SentOn(skb, t, fate);
            return;
        }
        if (++skb.Hops > MaxHops)
        {
            t.Unsupported(skb, $"more than {MaxHops} device crossings: a loop between namespaces?");
            return;
        }
        if (!peer.IsUp)
        {
            // Only generic_xdp_tx gets here with the peer down (a stack packet met the noop qdisc of a
            // device without carrier): ____dev_forward_skb's is_skb_forwardable refuses it, plain
            // kfree_skb (recorded on 6.18 by hand: a generic XDP bpf_redirect into such a veth).
            t.Drop(skb, "VethXmit", "__dev_forward_skb2", "NOT_SPECIFIED",
                $"{dev.Name} -> {peerNs.Name}/{peer.Name}, which is down: is_skb_forwardable refuses it ({dev.Name}'s tx dropped, {peer.Name}'s rx dropped)");
            return;
        }
        t.Stage(skb, "VethXmit", "veth_xmit", Verdict.Pass, $"{dev.Name} -> {peerNs.Name}/{peer.Name}");
        DevForwardSkb.Receive(skb, t, peerNs, peer);
    }
}
