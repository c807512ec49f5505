using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.Netfilter;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Bridge;

/// <summary>
/// Bridge output (net/bridge/br_forward.c): br_forward to one port, br_flood to every other port.
/// Each copy passes NF_BR_FORWARD (NF_BR_LOCAL_OUT when the host sent it through the bridge device),
/// NF_BR_POST_ROUTING (with br_netfilter's inet FORWARD and POST_ROUTING for bridged IP frames), then
/// dev_queue_xmit on the port (a veth port crosses into its peer's namespace).
/// </summary>
public static class BrForward
{
    /// <summary>
    /// br_forward / __br_forward / br_forward_finish for one port; the trace follows the frame out of
    /// <paramref name="to"/>. <paramref name="from"/> is null for frames the host sends (local_orig).
    /// </summary>
    [KernelSymbol("br_forward", "net/bridge/br_forward.c")]
    public static void Forward(SkBuff skb, TraceBuilder t, NetDevice br, NetDevice? from, NetDevice to, bool brnf, bool localOrig, Fate fate)
    {
        if (ShouldDeliver(skb, from, to) is { } why)
        {
            t.Drop(skb, "BrForward", "br_forward", "NOT_SPECIFIED", $"should_deliver fails: {why}");
            return;
        }
        if (!Hooks(skb, t, br, from, to, brnf, localOrig)) return;
        Transmit(skb, t, to, fate);
    }

    /// <summary>
    /// should_deliver: null when a copy may leave by <paramref name="to"/>: not the port it came in on
    /// unless that port is in hairpin mode, the port in forwarding state, and (VLAN filtering) a member
    /// of the frame's VLAN (br_allowed_egress). Otherwise why not.
    /// </summary>
    [KernelSymbol("should_deliver", "net/bridge/br_forward.c")]
    internal static string? ShouldDeliver(SkBuff skb, NetDevice? from, NetDevice to)
    {
        if (from?.Name == to.Name && !to.Hairpin) return $"{to.Name} is the port the frame came in on (hairpin off)";
        if (!to.IsUp) return $"{to.Name} is down (port disabled)";
        if (BrStp.PortState(skb, to) is var state && state != BrPortState.Forwarding) return $"{to.Name} is in {state.ToString().ToLowerInvariant()} state";
        return BrVlan.AllowedEgress(skb, to);
    }

    /// <summary>
    /// __br_forward: br_handle_vlan (the tag popped where the VLAN is untagged on <paramref name="to"/>),
    /// then NF_BR_FORWARD or NF_BR_LOCAL_OUT and NF_BR_POST_ROUTING for the copy sent out of
    /// <paramref name="to"/>; br_netfilter's inet hooks only for a copy that leaves untagged.
    /// </summary>
    private static bool Hooks(SkBuff skb, TraceBuilder t, NetDevice br, NetDevice? from, NetDevice to, bool brnf, bool localOrig)
    {
        t.Stage(skb, "BrForward", "__br_forward", Verdict.Pass, $"{(from is null ? br.Name : from.Name)} -> {to.Name}");
        if (!BrVlan.HandleVlan(skb, t, to)) return false;
        brnf &= BrNetfilter.TakesTag(skb, skb.Netns);
        if (localOrig)
        {
            if (!NfHookSlow.Run(skb, t, NfFamily.Bridge, NfHook.LocalOut, null, to)) return false;
        }
        else
        {
            if (!NfHookSlow.Run(skb, t, NfFamily.Bridge, NfHook.Forward, from, to)) return false;
            if (brnf && !BrNetfilter.Forward(skb, t, br, to)) return false;
            BrNetfilter.ForwardArp(skb, t, from, to);
        }
        if (!NfHookSlow.Run(skb, t, NfFamily.Bridge, NfHook.PostRouting, null, to)) return false;
        if (brnf && !localOrig && !BrNetfilter.PostRouting(skb, t, br)) return false;
        return true;
    }

    [KernelSymbol("br_dev_queue_push_xmit", "net/bridge/br_forward.c")]
    private static void Transmit(SkBuff skb, TraceBuilder t, NetDevice to, Fate fate)
    {
        skb.Dev = to;
        skb.NetworkHeader = skb.MacHeader + (EthernetFrame.TryParse(skb.Data[skb.MacHeader..], out var eth, out _) ? eth.HeaderLength : 14);
        DevQueueXmit.Xmit(skb, t, fate);
    }

    /// <summary>
    /// br_flood: a copy to every other port in forwarding state (and back out of the ingress port in
    /// hairpin mode), each through its own hooks, then (when
    /// <paramref name="localRcv"/>) a copy up to the host. A trace has one fate, so the model follows one
    /// copy to its end (the copy up to the host is received on the bridge device alongside, its stages,
    /// chains and answers added to the trace): among the copies that survive their hooks, the one toward the device that owns the
    /// destination MAC (a veth peer), else the first in port-list order; the copy up to the host only
    /// when no port copy survives. This matches the kernel's record, which ends a flooded frame where the
    /// port copies end. Every copy's hooks appear in the trace, and a stage lists the ports that got one.
    /// </summary>
    [KernelSymbol("br_flood", "net/bridge/br_forward.c")]
    public static void Flood(SkBuff skb, TraceBuilder t, NetDevice br, NetDevice? from, bool localRcv, bool brnf, Fate fate, bool localOrig = false)
    {
        var ports = BrPorts.Of(skb.Netns, br).Where(p => ShouldDeliver(skb, from, p) is null).ToList();
        EthernetFrame.TryParse(skb.Data[skb.MacHeader..], out var eth, out _);
        var dst = eth.Destination;
        var survivors = new List<(NetDevice Port, SkBuff Copy)>();
        var outcome = new List<string>();
        string? lastDrop = null;
        foreach (var p in ports)
        {
            var copy = Clone(skb);
            var scratch = new TraceBuilder();
            bool ok = Hooks(copy, scratch, br, from, p, brnf, localOrig);
            foreach (var e in scratch.Path) t.Add(e);
            foreach (var n in scratch.Notes) t.Note(n);
            t.TakeGenerated(scratch);
            if (ok) { survivors.Add((p, copy)); outcome.Add(p.Name); }
            else { lastDrop = scratch.Reason; outcome.Add($"{p.Name} ({scratch.Fate} {scratch.Reason})".TrimEnd()); }
            if (ok && p.Name == from?.Name) BrObserve.ExpectHairpinCopy(copy, p);
        }
        var follow = Preferred(skb, survivors, dst);
        // a capture of every device sees the copies the model does not follow leave too
        foreach (var (port, copy) in survivors)
            if (port != follow.Port) { copy.Dev = port; copy.Engine.NoteCrossing(copy, outbound: true); }
        string copies = outcome.Count == 0 ? "no other port in forwarding state" : $"copies to {string.Join(", ", outcome)}";
        // br_pass_frame_up's own VLAN check (the bridge's `self` VLANs) decides whether the host gets a copy.
        string? notUp = localRcv ? BrVlan.AllowedEgress(skb, br) : null;
        string up = !localRcv ? "" : notUp is null ? $", and up to {br.Name}" : $", not up to {br.Name} ({notUp})";
        if (follow.Port is not null)
        {
            if (localRcv && notUp is null && from is not null)
            {
                // The copy up to the host is received again on the bridge device (br_pass_frame_up):
                // its chains (an arp input chain on the bridge, ip input for a broadcast) and what the
                // host answers are the kernel's too; the trace's fate stays the port copy's.
                var scratch = new TraceBuilder();
                BrHandleFrame.PassFrameUp(Clone(skb), scratch, from, br, brnf);
                foreach (var e in scratch.Path) t.Add(e);
                foreach (var n in scratch.Notes) t.Note(n);
                t.TakeGenerated(scratch);
            }
            t.Stage(skb, "BrFlood", "br_flood", Verdict.Pass, $"{copies}{up}; the model follows the copy out of {follow.Port.Name}");
            Transmit(follow.Copy, t, follow.Port, fate);
            return;
        }
        if (localRcv && from is not null)
        {
            t.Stage(skb, "BrFlood", "br_flood", Verdict.Pass, $"{copies}{up}; the model follows the copy up to {br.Name}");
            BrHandleFrame.PassFrameUp(skb, t, from, br, brnf);
            return;
        }
        if (lastDrop is not null)
        {
            t.Stage(skb, "BrFlood", "br_flood", Verdict.Drop, $"{copies}: every copy was dropped");
            t.End(Fate.Dropped, lastDrop);
            return;
        }
        t.Drop(skb, "BrFlood", "br_flood", "NOT_SPECIFIED", $"{copies}: the frame is freed");
    }

    /// <summary>
    /// The flooded copy the trace follows: the copy the capture saw leave its port (Observe mode), else
    /// the one toward the device that owns the destination MAC, else toward the owner of the
    /// destination address (an ARP request's target, an IP destination), else the first.
    /// </summary>
    private static (NetDevice Port, SkBuff Copy) Preferred(SkBuff skb, List<(NetDevice Port, SkBuff Copy)> survivors, MacAddress dst)
    {
        if (survivors.Count == 0) return default;
        if (skb.SeenLeaving is { } seen && seen.Namespace == skb.Netns.Name
            && survivors.FirstOrDefault(s => s.Port.Name == seen.Device) is { Port: not null } captured) return captured;
        if (survivors.FirstOrDefault(s => BrPorts.MacBehind(skb, s.Port) == dst) is { Port: not null } byMac) return byMac;
        if (TargetAddress(skb) is { } target)
        {
            var owner = BrPorts.AddressBehind(skb, skb.Netns.Device(survivors[0].Port.Master!)!, target);
            if (owner is { } mac && survivors.FirstOrDefault(s => BrPorts.MacBehind(skb, s.Port) == mac) is { Port: not null } byAddress) return byAddress;
        }
        return survivors[0];
    }

    private static IpAddr? TargetAddress(SkBuff skb)
    {
        var l3 = skb.Network;
        if (skb.Protocol == EtherTypes.Arp && ArpPacket.TryParse(l3, out var arp, out _) && arp.IsEthernetIpv4) return arp.TargetIp;
        if (skb.Protocol == EtherTypes.Ipv4 && Ipv4Header.TryParse(l3, out var ip, out _)) return ip.Destination;
        if (skb.Protocol == EtherTypes.Ipv6 && Ipv6Header.TryParse(l3, out var ip6, out _)) return ip6.Destination;
        return null;
    }

    /// <summary>skb_clone for a flooded copy: its own bytes, the same metadata.</summary>
    internal static SkBuff Clone(SkBuff skb) => new(skb.Data)
    {
        Netns = skb.Netns, Dev = skb.Dev, Engine = skb.Engine, TimestampNs = skb.TimestampNs,
        MacHeader = skb.MacHeader, NetworkHeader = skb.NetworkHeader, TransportHeader = skb.TransportHeader,
        Protocol = skb.Protocol, PktType = skb.PktType, Mark = skb.Mark, Ct = skb.Ct,
        VlanId = skb.VlanId, VlanPresent = skb.VlanPresent, VlanFiltered = skb.VlanFiltered, Hops = skb.Hops,
        SeenVxlanRemote = skb.SeenVxlanRemote,
    };
}

/// <summary>
/// Frames the host sends through a bridge device (net/bridge/br_device.c): br_dev_xmit looks the
/// destination up in the FDB and hands the frame to br_forward (local_orig: NF_BR_LOCAL_OUT, then
/// NF_BR_POST_ROUTING on the port) or floods it to every port.
/// </summary>
public static class BrDevXmit
{
    [KernelSymbol("br_dev_xmit", "net/bridge/br_device.c")]
    public static void Xmit(SkBuff skb, TraceBuilder t, Fate fate)
    {
        var br = skb.Dev;
        var ns = skb.Netns;
        if (br.KernelStp && !(br.Stp.On && BrStp.Modelled(ns, br)))
        {
            t.Unsupported(skb, BrPorts.StpStates(br));
            return;
        }
        if (skb.MacHeader < 0 || !EthernetFrame.TryParse(skb.Data[skb.MacHeader..], out var eth, out _))
        {
            t.Unsupported(skb, $"the packet has no Ethernet header to send through {br.Name}");
            return;
        }
        var dst = eth.Destination;
        // The host sending through the bridge enters it like a port: the bridge's own VLANs and PVID.
        if (!BrVlan.AllowedIngress(skb, t, br, br, out var vid)) return;
        string inVlan = vid == 0 ? "" : $" in VLAN {vid}";
        if (dst.IsBroadcast || dst.IsMulticast)
        {
            t.Stage(skb, "BrDevXmit", "br_dev_xmit", Verdict.Pass, $"{(dst.IsBroadcast ? "broadcast" : $"multicast {dst}")}: flooded to every port");
            LearnArpAnswer(skb, t, br, vid);
            BrForward.Flood(skb, t, br, null, localRcv: false, brnf: false, fate, localOrig: true);
            return;
        }
        if (BrFdb.IsLocal(ns, br, dst, vid))
        {
            // The local fdb entry has no port: br_forward gets no destination and frees the frame.
            t.Drop(skb, "BrDevXmit", "br_dev_xmit", "NOT_SPECIFIED", $"{dst} is {br.Name}'s own (local fdb entry): nowhere to send it");
            return;
        }
        if (BrFdb.Of(skb.State, ns, br, skb.TimestampNs).Find(dst, skb.TimestampNs, vid, BrStp.FdbHold(skb, br)) is { } entry && ns.Device(entry.Port) is { } to)
        {
            t.Stage(skb, "BrDevXmit", "br_dev_xmit", Verdict.Pass, $"{dst} {(entry.IsStatic ? "has a static entry" : "is learned")} on {to.Name}{inVlan}");
            BrForward.Forward(skb, t, br, null, to, brnf: false, localOrig: true, fate);
            return;
        }
        t.Stage(skb, "BrDevXmit", "br_dev_xmit", Verdict.Pass, $"{dst} is not in {br.Name}'s fdb{inVlan}: unknown unicast, flooded to every port");
        BrForward.Flood(skb, t, br, null, localRcv: false, brnf: false, fate, localOrig: true);
    }

    // The host's ARP request is answered by the owner of the target behind one of the ports: that reply
    // is a frame received on the port, so the bridge learns the owner's MAC there (the capture may
    // never show the reply, taken on another port).
    private static void LearnArpAnswer(SkBuff skb, TraceBuilder t, NetDevice br, ushort vid)
    {
        if (skb.Protocol != EtherTypes.Arp || !ArpPacket.TryParse(skb.Network, out var arp, out _) || !arp.IsEthernetIpv4
            || arp.Operation != ArpPacket.Request || BrPorts.LearnAnswer(skb, br, arp.TargetIp, vid) is not { } learned) return;
        t.Stage(skb, "BrFdbUpdate", "br_fdb_update", Verdict.Pass, $"{arp.TargetIp} answers the request through its port: {learned}");
    }
}
