using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.Topology;

namespace PktFlow.Vlan;

/// <summary>
/// 802.1Q VLAN devices (net/8021q): a tagged frame on a device with a VLAN device of that VID and
/// protocol is untagged and received again on the VLAN device; what a VLAN device sends gets the tag
/// pushed and leaves by its lower device.
/// </summary>
public static class VlanCore
{
    /// <summary>The VLAN device on <paramref name="lower"/> for this tag (vlan_find_dev), if any.</summary>
    public static NetDevice? FindDev(NetNamespace ns, NetDevice lower, ushort tpid, ushort vid) =>
        ns.Devices.FirstOrDefault(d => d.VlanDev is { } v && v.Lower == lower.Name && v.Id == vid && v.Protocol == tpid);

    /// <summary>
    /// Observe mode: the device that sent a captured frame whose source MAC is <paramref name="byMac"/>'s.
    /// When the frame carries the tag of a VLAN device on it (or of it), that VLAN device sent it and
    /// vlan_dev_hard_start_xmit pushed the tag: the tag comes off, as the sender wrote the frame.
    /// </summary>
    public static NetDevice SenderOf(SkBuff skb, NetNamespace ns, NetDevice byMac)
    {
        if (Bridge.BrVlan.OuterTag(skb) is not { } tag) return byMac;
        var vlan = byMac.VlanDev is { } v && v.Id == tag.Vid && v.Protocol == tag.Tpid ? byMac : FindDev(ns, byMac, tag.Tpid, tag.Vid);
        if (vlan is null) return byMac;
        skb.ClearVlanTag();
        return vlan;
    }

    /// <summary>
    /// vlan_do_receive, from __netif_receive_skb_core before the rx_handler: true when the frame now
    /// belongs to a VLAN device (untagged, skb->dev switched: receive goes another round); false when
    /// there is none (<paramref name="freed"/>: there is one but it is down, and the frame was freed).
    /// </summary>
    [KernelSymbol("vlan_do_receive", "net/8021q/vlan_core.c")]
    public static bool DoReceive(SkBuff skb, TraceBuilder t, out bool freed)
    {
        freed = false;
        if (Bridge.BrVlan.OuterTag(skb) is not { } tag || FindDev(skb.Netns, skb.Dev, tag.Tpid, tag.Vid) is not { } vlan) return false;
        if (!vlan.IsUp)
        {
            t.Drop(skb, "VlanDoReceive", "vlan_do_receive", "NOT_SPECIFIED", $"VID {tag.Vid} belongs to {vlan.Name}, which is down");
            freed = true;
            return false;
        }
        var lower = skb.Dev;
        skb.Dev = vlan;
        // The lower device thought it not local: the VLAN device may have a MAC of its own.
        string host = "";
        if (skb.PktType == PacketType.OtherHost && skb.MacHeader >= 0 && Wire.MacAddress.Read(skb.Data[skb.MacHeader..]) == vlan.Mac)
        {
            skb.PktType = PacketType.Host;
            host = $", pkt_type HOST: {vlan.Mac} is {vlan.Name}'s address";
        }
        skb.ClearVlanTag();
        t.Stage(skb, "VlanDoReceive", "vlan_do_receive", Verdict.Pass, $"VID {tag.Vid} on {lower.Name}: untagged, received on {vlan.Name}{host}");
        return true;
    }

    /// <summary>vlan_dev_hard_start_xmit: the VLAN device's tag goes on and the frame is queued on the lower device.</summary>
    [KernelSymbol("vlan_dev_hard_start_xmit", "net/8021q/vlan_dev.c")]
    public static void HardStartXmit(SkBuff skb, TraceBuilder t, Fate fate)
    {
        var dev = skb.Dev;
        var v = dev.VlanDev!;
        if (skb.Netns.Device(v.Lower) is not { } lower)
        {
            t.Unsupported(skb, $"{dev.Name}'s lower device {v.Lower} is not in {skb.Netns.Name}");
            return;
        }
        if (skb.MacHeader < 0)
        {
            t.Unsupported(skb, $"the packet has no Ethernet header to tag on {dev.Name}");
            return;
        }
        if (++skb.Hops > DevQueueXmit.MaxHops)
        {
            t.Unsupported(skb, $"more than {DevQueueXmit.MaxHops} device crossings: a loop?");
            return;
        }
        skb.PutVlanTag(v.Protocol, v.Id);
        t.Stage(skb, "VlanDevHardStartXmit", "vlan_dev_hard_start_xmit", Verdict.Pass, $"{dev.Name}: tag VID {v.Id} (0x{v.Protocol:x4}) pushed, queued on {lower.Name}");
        skb.Dev = lower;
        DevQueueXmit.Xmit(skb, t, fate);
    }
}
