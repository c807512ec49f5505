using PktFlow.Datapath;

namespace PktFlow.Tc;

/// <summary>
/// One action of a filter's list (tcf_action_exec runs them in order while they return TC_ACT_PIPE).
/// Control is the TC_ACT_* the action returns after doing its work (`... action skbedit mark 1 pass`).
/// </summary>
public abstract class TcAction
{
    public required TcAct Control { get; init; }
    public abstract string Kind { get; }
    /// <summary>
    /// ops->act: does the work on the packet; returns what the action says (its control, or something
    /// else such as SHOT when it cannot act, or a program's verdict mapped as the action maps it) and a
    /// text for the trace (tcf_action_exec adds the verdict). A redirect it asks for goes in res, and
    /// res.Ended says the trace ended (a program the model cannot follow).
    /// </summary>
    public abstract TcAct Act(SkBuff skb, TraceBuilder t, TcDirection dir, ref TcfResult res, out string text);
    public abstract string Describe();
    public override string ToString() => $"{Describe()} {TcNames.Act(Control)}";
}

/// <summary>act_gact: just a verdict (ok/pass, drop/shot, continue, pipe, reclassify).</summary>
public sealed class GactAction : TcAction
{
    public override string Kind => "gact";
    public override TcAct Act(SkBuff skb, TraceBuilder t, TcDirection dir, ref TcfResult res, out string text) { text = "gact action"; return Control; }
    public override string Describe() => "gact action";
    public override string ToString() => $"gact action {TcNames.Act(Control)}";
}

/// <summary>act_skbedit: sets skb->mark (under a mask), skb->priority, skb->pkt_type.</summary>
public sealed class SkbeditAction : TcAction
{
    public override string Kind => "skbedit";
    public uint? Mark { get; init; }
    public uint MarkMask { get; init; } = 0xFFFFFFFF;
    public uint? Priority { get; init; }
    public PacketType? PacketType { get; init; }

    public override TcAct Act(SkBuff skb, TraceBuilder t, TcDirection dir, ref TcfResult res, out string text)
    {
        if (Mark is { } m) skb.Mark = skb.Mark & ~MarkMask | m & MarkMask;
        if (Priority is { } p) skb.Priority = p;
        if (PacketType is { } pt) skb.PktType = pt;
        text = Describe();
        return Control;
    }

    public override string Describe()
    {
        var parts = new List<string> { "skbedit" };
        if (Priority is { } p) parts.Add($"priority {p >> 16:x}:{p & 0xFFFF:x}");
        if (Mark is { } m) parts.Add(MarkMask == 0xFFFFFFFF ? $"mark {m}" : $"mark {m}/0x{MarkMask:x}");
        if (PacketType is { } pt) parts.Add($"ptype {PtypeName(pt)}");
        return string.Join(' ', parts);
    }

    public static string PtypeName(PacketType pt) => pt switch
    {
        Datapath.PacketType.Host => "host", Datapath.PacketType.Broadcast => "broadcast",
        Datapath.PacketType.Multicast => "multicast", _ => "otherhost",
    };
}

/// <summary>act_vlan: pops the outer tag, pushes a new one, or changes the VID of the outer one.</summary>
public sealed class VlanAction : TcAction
{
    public override string Kind => "vlan";
    /// <summary>"pop", "push" or "modify".</summary>
    public required string Op { get; init; }
    public ushort Id { get; init; }
    public ushort Tpid { get; init; } = Wire.EtherTypes.Vlan;
    public byte PushPriority { get; init; }

    public override TcAct Act(SkBuff skb, TraceBuilder t, TcDirection dir, ref TcfResult res, out string text)
    {
        text = Describe();
        if (skb.MacHeader < 0) { text += ": the packet has no Ethernet header (not modelled)"; return TcAct.Shot; }
        switch (Op)
        {
            case "pop":
                // skb_vlan_pop: without a tag nothing happens
                if (skb.VlanPresent) skb.ClearVlanTag(); else text += " (no tag to pop)";
                break;
            case "push":
                skb.PutVlanTag(Tpid, (ushort)(Id | PushPriority << 13));
                skb.VlanId = Id;
                break;
            default:
                // tcf_vlan_act modify: the outer tag gets the new VID; an untagged packet is left as it is (an error, TC_ACT_SHOT)
                if (!skb.VlanPresent) { text += ": the packet has no tag to modify"; return TcAct.Shot; }
                skb.ClearVlanTag();
                skb.PutVlanTag(Tpid, Id);
                break;
        }
        return Control;
    }

    public override string Describe() => Op == "pop" ? "vlan pop" : $"vlan {Op} id {Id} protocol {TcNames.Protocol(Tpid)} priority {PushPriority}";
}

/// <summary>act_mirred: redirect or mirror (a copy) to a device's egress (dev_queue_xmit) or ingress (netif_receive_skb).</summary>
public sealed class MirredAction : TcAction
{
    public override string Kind => "mirred";
    public required bool Redirect { get; init; }
    public required TcDirection To { get; init; }
    public required string Device { get; init; }

    /// <summary>
    /// tcf_mirred_act: past MIRRED_NEST_LIMIT nested calls, TC_ACT_SHOT; a target that is gone or down
    /// drops a redirect and leaves a mirror doing nothing; a redirect with TC_ACT_STOLEN hands the packet
    /// itself to tcf_classify's caller (<see cref="SchHandle"/>, which walks on) through res; anything
    /// else sends a clone now (<see cref="SchHandle.Mirror"/>) and the original goes on with the control.
    /// </summary>
    public override TcAct Act(SkBuff skb, TraceBuilder t, TcDirection dir, ref TcfResult res, out string text)
    {
        text = Describe();
        var target = skb.Netns.Device(Device);
        if (skb.MirredNest >= SchHandle.MirredNestLimit)
        {
            text += $": mirred nest level {skb.MirredNest + 1} > MIRRED_NEST_LIMIT {SchHandle.MirredNestLimit} (\"Packet exceeded mirred recursion limit\")";
            return TcAct.Shot;
        }
        if (target is null || !target.IsUp)
        {
            text += $": {Device} is {(target is null ? "gone" : "down")}";
            return Redirect ? TcAct.Shot : Control;
        }
        if (Redirect && Control == TcAct.Stolen)
        {
            res.Mirred = this;
            return Control;
        }
        SchHandle.Mirror(skb, t, this, dir);
        return Control;
    }

    public override string Describe() => $"mirred ({(To == TcDirection.Egress ? "Egress" : "Ingress")} {(Redirect ? "Redirect" : "Mirror")} to device {Device})";
}
