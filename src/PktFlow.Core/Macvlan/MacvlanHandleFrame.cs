using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Macvlan;

/// <summary>
/// macvlan_handle_frame, the rx_handler of a device with macvlans on it (drivers/net/macvlan.c). Only
/// what the lower device receives meets it: what the lower device's own namespace sends leaves by the
/// wire, so the host never reaches its macvlans directly (nor they the host).
/// </summary>
public static class MacvlanHandleFrame
{
    /// <summary>
    /// True when the handler took the frame (a macvlan received it, or it was freed); false for
    /// RX_HANDLER_PASS: the lower device's own protocol handlers go on with it.
    /// </summary>
    [KernelSymbol("macvlan_handle_frame", "drivers/net/macvlan.c")]
    public static bool Run(SkBuff skb, TraceBuilder t)
    {
        var lower = skb.Dev;
        var lowerNs = skb.Netns;
        var port = MacvlanPort.Of(skb, lowerNs, lower);
        if (port.Count == 0 || skb.MacHeader < 0 || !EthernetFrame.TryParse(skb.Data[skb.MacHeader..], out var eth, out _)) return false;
        var dst = eth.Destination;
        var sourceCopies = ForwardSource(port, eth.Source);
        if (dst.IsMulticast || dst.IsBroadcast) return Multicast(skb, t, port, eth.Source, dst, sourceCopies);

        (NetNamespace Ns, NetDevice Dev)? vlan;
        if (port[0].Dev.Macvlan!.Mode == MacvlanMode.Passthru) vlan = port[0]; // the port's only macvlan takes everything
        else vlan = MacvlanPort.HashLookup(port, dst);
        if (vlan is not { } v || v.Dev.Macvlan!.Mode == MacvlanMode.Source)
        {
            // a source-mode macvlan's copy is followed when the lower device's own stack would not take the frame
            if (sourceCopies.Count > 0 && dst != lower.Mac)
            {
                t.Stage(skb, "MacvlanHandleFrame", "macvlan_forward_source", Verdict.Pass,
                    $"{eth.Source} is a source of {MacvlanPort.Names(sourceCopies)} (mode source): a clone each (netif_rx); the original goes on to {lower.Name}'s own stack (not followed)");
                ReceiveCopy(skb, sourceCopies[0], dst == sourceCopies[0].Dev.Mac ? PacketType.Host : skb.PktType, t);
                return true;
            }
            t.Stage(skb, "MacvlanHandleFrame", "macvlan_handle_frame", Verdict.Pass,
                $"no macvlan on {lower.Name} has {dst}: RX_HANDLER_PASS, {lower.Name}'s own stack takes it{SourceText(sourceCopies)}");
            return false;
        }
        if (!v.Dev.IsUp)
        {
            // passthru: the port's macvlan is down (a hashed one is always up)
            t.Drop(skb, "MacvlanHandleFrame", "macvlan_handle_frame", "NOT_SPECIFIED", $"{v.Ns.Name}/{v.Dev.Name} (passthru) is down: freed");
            return true;
        }
        t.Stage(skb, "MacvlanHandleFrame", "macvlan_handle_frame", Verdict.Pass,
            $"{dst} is {v.Ns.Name}/{v.Dev.Name}'s ({MacvlanParameters.ModeName(v.Dev.Macvlan!.Mode)}): skb->dev = {v.Dev.Name}, pkt_type HOST, RX_HANDLER_ANOTHER (received again there){SourceText(sourceCopies)}");
        skb.Dev = v.Dev;
        skb.Netns = v.Ns;
        skb.PktType = PacketType.Host;
        if (++skb.Hops > DevQueueXmit.MaxHops) { t.Unsupported(skb, $"more than {DevQueueXmit.MaxHops} device crossings: a loop?"); return true; }
        NetifReceiveSkb.Receive(skb, t); // __netif_receive_skb_core's another_round: taps, tc and hooks of the macvlan
        return true;
    }

    /// <summary>
    /// A broadcast or multicast frame. One the port's own private or passthru macvlan sent (a VEPA
    /// switch sent it back) goes to that macvlan alone; otherwise macvlan_broadcast_enqueue queues a
    /// clone for the port's work item (macvlan_process_broadcast, which clones it again for each macvlan
    /// its sender's mode lets it reach) and the lower device's own stack takes the original first.
    /// </summary>
    private static bool Multicast(SkBuff skb, TraceBuilder t, IReadOnlyList<(NetNamespace Ns, NetDevice Dev)> port, MacAddress source, MacAddress dst,
        IReadOnlyList<(NetNamespace Ns, NetDevice Dev)> sourceCopies)
    {
        var lower = skb.Dev;
        var src = MacvlanPort.HashLookup(port, source);
        var kind = dst.IsBroadcast ? PacketType.Broadcast : PacketType.Multicast;
        if (src is { } s && s.Dev.Macvlan!.Mode is not (MacvlanMode.Vepa or MacvlanMode.Bridge))
        {
            t.Stage(skb, "MacvlanHandleFrame", "macvlan_broadcast_one", Verdict.Pass,
                $"sent by {s.Ns.Name}/{s.Dev.Name} ({MacvlanParameters.ModeName(s.Dev.Macvlan.Mode)}) and come back: forwarded to it alone (RX_HANDLER_CONSUMED)");
            ReceiveCopy(skb, s, kind, t);
            return true;
        }
        var filter = dst.IsBroadcast ? PortFilter.Queue : MacvlanMcFilter.Port(port, dst);
        if (filter == PortFilter.None)
        {
            t.Stage(skb, "MacvlanHandleFrame", "macvlan_handle_frame", Verdict.Pass,
                $"multicast {dst}: no macvlan of {lower.Name} joined a group with its hash (the port's mc_filter): RX_HANDLER_PASS, {lower.Name}'s own stack takes it{SourceText(sourceCopies)}");
            return false;
        }
        var modes = src is null ? MacvlanMode.Private | MacvlanMode.Vepa | MacvlanMode.Passthru | MacvlanMode.Bridge
            : src.Value.Dev.Macvlan!.Mode == MacvlanMode.Vepa ? MacvlanMode.Vepa | MacvlanMode.Bridge
            : MacvlanMode.Vepa; // bridge-mode siblings already got it from macvlan_queue_xmit
        var copies = MacvlanPort.BroadcastTargets(port, src?.Dev, modes, dst);
        string from = src is { } f ? $"from {f.Ns.Name}/{f.Dev.Name} ({MacvlanParameters.ModeName(f.Dev.Macvlan!.Mode)})" : "from outside the port";
        string fn = filter == PortFilter.Queue ? "macvlan_broadcast_enqueue" : "macvlan_multicast_rx";
        string what = filter == PortFilter.Queue
            ? $"{(dst.IsBroadcast ? "broadcast" : $"multicast {dst} (in the port's bc_filter: joined by more than {MacvlanMcFilter.BcCutoff} macvlan, or hashed with broadcast)")} {from}: a clone queued for the port's work item, which clones it for {MacvlanPort.Names(copies)} (their mc_filter; netif_rx) after {lower.Name}'s own stack has taken the original{SourceText(sourceCopies)}"
            : $"multicast {dst} {from}, in the port's mc_filter but not its bc_filter (one macvlan joined it): cloned at once for {MacvlanPort.Names(copies)} (their mc_filter; netif_rx), then {lower.Name}'s own stack takes the original{SourceText(sourceCopies)}";
        if (MacvlanPort.Owner(skb, copies) is { } owner)
        {
            t.Stage(skb, "MacvlanHandleFrame", fn, Verdict.Pass, $"{what}; the model follows the copy to {owner.Ns.Name}/{owner.Dev.Name}, which owns the target");
            ReceiveCopy(skb, owner, kind, t);
            return true;
        }
        t.Stage(skb, "MacvlanHandleFrame", fn, Verdict.Pass, $"{what}; the model follows the original");
        return false;
    }

    /// <summary>macvlan_forward_source: the up source-mode macvlans that list the frame's source MAC (macaddr add) get a clone each.</summary>
    [KernelSymbol("macvlan_forward_source", "drivers/net/macvlan.c")]
    private static IReadOnlyList<(NetNamespace Ns, NetDevice Dev)> ForwardSource(IReadOnlyList<(NetNamespace Ns, NetDevice Dev)> port, MacAddress source)
    {
        // every frame the lower device receives asks: no list unless a source-mode macvlan lists the sender
        List<(NetNamespace, NetDevice)>? list = null;
        foreach (var v in port)
            if (v.Dev.Macvlan is { Mode: MacvlanMode.Source } m && v.Dev.IsUp && m.SourceMacs.Contains(source)) (list ??= new()).Add(v);
        return list ?? (IReadOnlyList<(NetNamespace Ns, NetDevice Dev)>)[];
    }

    private static string SourceText(IReadOnlyList<(NetNamespace Ns, NetDevice Dev)> copies) =>
        copies.Count == 0 ? "" : $"; {MacvlanPort.Names(copies)} (mode source, listing the sender) get a clone each (not followed)";

    /// <summary>
    /// A clone handed to a macvlan with netif_rx: skb->dev is the macvlan and the receive starts again
    /// there from the backlog (no scrub: the namespace changes with the device).
    /// </summary>
    private static void ReceiveCopy(SkBuff skb, (NetNamespace Ns, NetDevice Dev) to, PacketType pktType, TraceBuilder t)
    {
        var copy = Bridge.BrForward.Clone(skb);
        copy.Dev = to.Dev;
        copy.Netns = to.Ns;
        copy.PktType = pktType;
        if (++copy.Hops > DevQueueXmit.MaxHops) { t.Unsupported(copy, $"more than {DevQueueXmit.MaxHops} device crossings: a loop?"); return; }
        NetifReceiveSkb.Receive(copy, t);
    }
}
