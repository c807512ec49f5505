using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Topology;

namespace PktFlow.Bridge;

/// <summary>
/// VLAN filtering on a bridge with vlan_filtering 1 (net/bridge/br_vlan.c). The frame's VLAN travels as
/// its outer tag of the bridge's vlan_protocol (the model keeps skb->vlan_tci in the bytes): on ingress
/// an untagged or priority-tagged frame takes the port's PVID, a tagged one must be a member of its VLAN;
/// each way out (a port, or up to the bridge device) must be a member too, and leaves untagged where
/// that VLAN is `untagged`. The kernel frees the frames it refuses with kfree_skb, so their drop reason
/// is NOT_SPECIFIED (checked in the 6.12 source: __allowed_ingress and br_handle_vlan give none).
/// </summary>
public static class BrVlan
{
    /// <summary>
    /// br_allowed_ingress for a frame received on <paramref name="member"/> (a port, or the bridge itself
    /// for frames the host sends through it): <paramref name="vid"/> is the frame's VLAN, 0 when the
    /// bridge does not filter. False when the frame was dropped.
    /// </summary>
    [KernelSymbol("br_allowed_ingress", "net/bridge/br_vlan.c")]
    public static bool AllowedIngress(SkBuff skb, TraceBuilder t, NetDevice br, NetDevice member, out ushort vid)
    {
        vid = 0;
        skb.VlanFiltered = br.VlanOptions.Filtering;
        if (!skb.VlanFiltered) return true;
        var proto = br.VlanOptions.Protocol;
        var tag = OuterTag(skb);
        bool tagged = tag is { } x && x.Tpid == proto;
        string on = member == br ? $"{br.Name} itself (self)" : member.Name;
        // A tag of the other protocol is payload to this bridge (__allowed_ingress pushes it back): untagged.
        string other = tag is { } y && y.Tpid != proto ? $" (its 0x{y.Tpid:x4} tag is payload to an {br.VlanOptions.ProtocolName} bridge)" : "";
        var group = member.Vlans;
        if (!tagged || tag!.Value.Vid == 0)
        {
            string kind = tagged ? "priority-tagged" : "untagged";
            if (group.Pvid == 0)
            {
                t.Drop(skb, "BrAllowedIngress", "br_allowed_ingress", "NOT_SPECIFIED",
                    $"{kind} frame{other} on {on}, which has no PVID (its VLANs: {group}): dropped");
                return false;
            }
            vid = group.Pvid;
            skb.PutVlanTag(proto, vid);
            t.Stage(skb, "BrAllowedIngress", "br_allowed_ingress", Verdict.Pass, $"{kind} frame{other} on {on}: VLAN {vid} (its PVID)");
            t.Note($"{br.Name} filters VLANs (vlan_filtering 1): the frame is in VLAN {vid}");
            return true;
        }
        vid = tag.Value.Vid;
        if (group.Find(vid) is null)
        {
            t.Drop(skb, "BrAllowedIngress", "br_allowed_ingress", "NOT_SPECIFIED",
                $"tagged VLAN {vid} on {on}, which is not a member (its VLANs: {group}): dropped");
            return false;
        }
        t.Stage(skb, "BrAllowedIngress", "br_allowed_ingress", Verdict.Pass, $"tagged VLAN {vid} on {on}: a member");
        t.Note($"{br.Name} filters VLANs (vlan_filtering 1): the frame is in VLAN {vid}");
        return true;
    }

    /// <summary>br_allowed_egress: null when the frame's VLAN may leave by <paramref name="member"/>, else why not.</summary>
    [KernelSymbol("br_allowed_egress", "net/bridge/br_vlan.c")]
    public static string? AllowedEgress(SkBuff skb, NetDevice member) =>
        !skb.VlanFiltered || member.Vlans.Find(skb.VlanId) is not null ? null
        : $"{member.Name} is not a member of VLAN {skb.VlanId} (its VLANs: {member.Vlans})";

    /// <summary>
    /// br_handle_vlan on the way out of <paramref name="member"/>: the tag is popped where the VLAN is
    /// `untagged` there, kept otherwise. False when the frame was dropped (no such VLAN).
    /// </summary>
    [KernelSymbol("br_handle_vlan", "net/bridge/br_vlan.c")]
    public static bool HandleVlan(SkBuff skb, TraceBuilder t, NetDevice member)
    {
        if (!skb.VlanFiltered) return true;
        ushort vid = skb.VlanId;
        if (member.Vlans.Find(vid) is not { } v)
        {
            t.Drop(skb, "BrHandleVlan", "br_handle_vlan", "NOT_SPECIFIED", $"{member.Name} has no VLAN {vid}");
            return false;
        }
        if (v.Untagged) skb.ClearVlanTag();
        t.Stage(skb, "BrHandleVlan", "br_handle_vlan", Verdict.Pass,
            v.Untagged ? $"VLAN {vid} is untagged on {member.Name}: the tag is popped" : $"VLAN {vid} leaves {member.Name} tagged");
        return true;
    }

    /// <summary>The frame's outer VLAN tag (TPID, VID), when it has one.</summary>
    internal static (ushort Tpid, ushort Vid)? OuterTag(SkBuff skb)
    {
        var d = skb.Data;
        int at = skb.MacHeader + 12;
        if (skb.MacHeader < 0 || d.Length < at + 4) return null;
        ushort tpid = BinaryPrimitives.ReadUInt16BigEndian(d[at..]);
        return Wire.EtherTypes.IsVlan(tpid) ? (tpid, (ushort)(BinaryPrimitives.ReadUInt16BigEndian(d[(at + 2)..]) & 0xFFF)) : null;
    }
}
