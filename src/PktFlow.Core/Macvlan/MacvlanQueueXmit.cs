using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Macvlan;

/// <summary>
/// macvlan_start_xmit -> macvlan_queue_xmit (drivers/net/macvlan.c): what a macvlan sends. In bridge
/// mode a frame for another bridge-mode macvlan of the same lower device is handed over inside the
/// host (dev_forward_skb to the lower device, whose taps see it arrive, and its rx_handler delivers
/// it), and a broadcast is cloned to the other bridge-mode macvlans before it goes out; private and
/// vepa send everything out of the lower device (dev_queue_xmit there: its netdev egress and tc
/// egress), where only a hairpin switch could bring it back.
/// </summary>
public static class MacvlanQueueXmit
{
    [KernelSymbol("macvlan_queue_xmit", "drivers/net/macvlan.c")]
    public static void Run(SkBuff skb, TraceBuilder t, Fate fate)
    {
        var dev = skb.Dev;
        var mv = dev.Macvlan!;
        var lowerNs = skb.Engine.Topology.Namespace(mv.LowerNamespace);
        if (lowerNs?.Device(mv.Lower) is not { } lower)
        {
            t.Unsupported(skb, $"{dev.Name}'s lower device {mv.LowerNamespace}/{mv.Lower} is not in the model");
            return;
        }
        if (skb.MacHeader < 0 || !EthernetFrame.TryParse(skb.Data[skb.MacHeader..], out var eth, out _))
        {
            t.Unsupported(skb, $"the packet has no Ethernet header to send on {dev.Name}");
            return;
        }
        if (++skb.Hops > DevQueueXmit.MaxHops)
        {
            t.Unsupported(skb, $"more than {DevQueueXmit.MaxHops} device crossings: a loop?");
            return;
        }
        var dst = eth.Destination;
        string mode = MacvlanParameters.ModeName(mv.Mode);
        if (mv.Mode == MacvlanMode.Bridge)
        {
            var port = MacvlanPort.Of(skb, lowerNs, lower);
            if (dst.IsMulticast || dst.IsBroadcast)
            {
                // macvlan_broadcast(..., MACVLAN_MODE_BRIDGE): a clone for each other bridge-mode macvlan
                // whose mc_filter has the group (every one for a broadcast), then the world
                var copies = MacvlanPort.BroadcastTargets(port, dev, MacvlanMode.Bridge, dst);
                string what = $"{(dst.IsBroadcast ? "broadcast" : $"multicast {dst}")} from {dev.Name} (bridge): a clone for each other bridge-mode macvlan of {lower.Name} whose mc_filter has it ({MacvlanPort.Names(copies)}, __dev_forward_skb + netif_rx), and out of {lower.Name}";
                if (MacvlanPort.Owner(skb, copies) is { } owner)
                {
                    t.Stage(skb, "MacvlanQueueXmit", "macvlan_broadcast", Verdict.Pass, $"{what}; the model follows the copy to {owner.Ns.Name}/{owner.Dev.Name}, which owns the target");
                    ForwardSkb(skb, t, owner.Ns, owner.Dev);
                    return;
                }
                t.Stage(skb, "MacvlanQueueXmit", "macvlan_broadcast", Verdict.Pass, $"{what}; the model follows the copy out of {lower.Name}");
            }
            else if (MacvlanPort.HashLookup(port, dst) is { } dest && dest.Dev.Macvlan!.Mode == MacvlanMode.Bridge)
            {
                t.Stage(skb, "MacvlanQueueXmit", "macvlan_queue_xmit", Verdict.Pass,
                    $"{dst} is {dest.Ns.Name}/{dest.Dev.Name}'s (bridge), on the same lower device: dev_forward_skb to {lowerNs.Name}/{lower.Name} (for its taps), never on the wire");
                ForwardSkb(skb, t, lowerNs, lower);
                return;
            }
            else
                t.Stage(skb, "MacvlanQueueXmit", "macvlan_queue_xmit", Verdict.Pass,
                    MacvlanPort.HashLookup(port, dst) is { } other
                        ? $"{dst} is {other.Ns.Name}/{other.Dev.Name}'s, in {MacvlanParameters.ModeName(other.Dev.Macvlan!.Mode)} mode: not bridged, out of {lower.Name}"
                        : $"{dst} is no macvlan's of {lower.Name}: out of {lower.Name}");
        }
        else
        {
            string what = dst.IsMulticast || dst.IsBroadcast ? $"{(dst.IsBroadcast ? "the broadcast" : $"multicast {dst}")} reaches no other macvlan of {lower.Name} here"
                : MacvlanPort.HashLookup(MacvlanPort.Of(skb, lowerNs, lower), dst) is { } sib ? $"{dst} is {sib.Ns.Name}/{sib.Dev.Name}'s, on the same lower device, but only bridge mode hands over"
                : $"{dst} is no macvlan's of {lower.Name}";
            t.Stage(skb, "MacvlanQueueXmit", "macvlan_queue_xmit", Verdict.Pass,
                $"{dev.Name} is in {mode} mode: {what}; out of {lower.Name}{(mv.Mode == MacvlanMode.Vepa ? " (a hairpin switch may send it back)" : "")}");
        }
        if (MacvlanPort.Target(skb) is { } target && lowerNs.IsLocalAddress(target))
            t.Stage(skb, "MacvlanQueueXmit", "dev_queue_xmit", Verdict.Pass,
                $"{target} is {lowerNs.Name}'s, but {lowerNs.Name} never gets this: {lower.Name} sends it to the wire, and its rx_handler sees only what it receives (a macvlan cannot talk to its lower device's host)");
        // xmit_world: dev_queue_xmit on the lower device, in its namespace, the skb as it is (no scrub)
        skb.Dev = lower;
        skb.Netns = lowerNs;
        DevQueueXmit.Xmit(skb, t, fate);
    }

    /// <summary>dev_forward_skb to <paramref name="to"/>: is_skb_forwardable, then received there (<see cref="DevForwardSkb"/>).</summary>
    [KernelSymbol("dev_forward_skb", "net/core/dev.c")]
    private static void ForwardSkb(SkBuff skb, TraceBuilder t, NetNamespace ns, NetDevice to)
    {
        if (!DevForwardSkb.IsSkbForwardable(to, skb.Length - skb.MacHeader, skb.Gso is not null))
        {
            t.Drop(skb, "MacvlanQueueXmit", "__dev_forward_skb2", "NOT_SPECIFIED",
                $"{ns.Name}/{to.Name} {(to.IsUp ? $"has MTU {to.Mtu}: the frame ({skb.Length - skb.MacHeader} bytes) is longer than MTU + 14 + VLAN_HLEN" : "is down")}: is_skb_forwardable refuses it");
            return;
        }
        DevForwardSkb.Receive(skb, t, ns, to);
    }
}
