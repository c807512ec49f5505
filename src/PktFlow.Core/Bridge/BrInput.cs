using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.Netfilter;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Bridge;

/// <summary>
/// Receive on a bridge port (net/bridge/br_input.c): br_handle_frame is the port's rx_handler, called
/// by __netif_receive_skb_core. NF_BR_PRE_ROUTING (with br_netfilter's inet PRE_ROUTING inside it),
/// then br_handle_frame_finish: FDB learning and the destination lookup, which sends the frame up to
/// the host (br_pass_frame_up), forwards it to one port (br_forward) or floods it (br_flood).
/// See kernel-path.md, "Bridge".
/// </summary>
public static class BrHandleFrame
{
    [KernelSymbol("br_handle_frame", "net/bridge/br_input.c")]
    public static void Receive(SkBuff skb, TraceBuilder t)
    {
        var port = skb.Dev;
        var ns = skb.Netns;
        var br = BrPorts.BridgeOf(ns, port);
        if (br is null)
        {
            t.Unsupported(skb, $"{port.Name} is enslaved to {port.Master}, which is not a bridge of {ns.Name} (bonding, VRF, ... are not modelled)");
            return;
        }
        // STP that ran and was turned off leaves the ports where it put them, which the model cannot tell
        bool stpOn = br.Stp.On && BrStp.Modelled(ns, br);
        if (br.KernelStp && !stpOn)
        {
            t.Unsupported(skb, BrPorts.StpStates(br));
            return;
        }
        if (skb.MacHeader < 0 || !EthernetFrame.TryParse(skb.Data[skb.MacHeader..], out var eth, out _))
        {
            t.Unsupported(skb, $"a frame without an Ethernet header on bridge port {port.Name}");
            return;
        }
        var src = eth.Source;
        var dst = eth.Destination;
        if (stpOn && BrStpBpdu.TryObserveOwn(skb, t, port)) return;
        if (BrObserve.TryReattribute(skb, t, port, br, src)) return;
        if (src.IsMulticast || src.IsZero)
        {
            t.Drop(skb, "BrHandleFrame", "br_handle_frame", "MAC_INVALID_SOURCE", $"source MAC {src} is not a valid unicast address");
            return;
        }
        var stp = stpOn ? BrStp.Of(skb, br) : null;
        if (stp is not null) BrStpBpdu.Changes(skb, t, stp);
        var state = stp?.StateOf(port) ?? port.PortState;
        if ((dst.Value & 0xFFFF_FFFF_FFF0UL) == 0x0180_C200_0000UL && !(dst == StpBpdu.GroupAddress && stp is null))
        {
            if (dst != StpBpdu.GroupAddress)
            {
                t.Unsupported(skb, $"link-local group address {dst} (LACP, LLDP, 802.1X) is not modelled");
                return;
            }
            LocalFinish(skb, t, port, br, src, state);
            return;
        }
        // With STP off the bridge group address is bridged like any multicast ("must forward to keep loop detection").
        if (!br.IsUp)
        {
            // A port of a bridge that is down is BR_STATE_DISABLED: br_handle_frame frees the frame.
            t.Drop(skb, "BrHandleFrame", "br_handle_frame", "BRIDGE_INGRESS_STP_STATE", $"{br.Name} is down: its port {port.Name} is disabled");
            return;
        }
        if (state is not (BrPortState.Forwarding or BrPortState.Learning))
        {
            t.Drop(skb, "BrHandleFrame", "br_handle_frame", "BRIDGE_INGRESS_STP_STATE", $"{port.Name} is in {state.ToString().ToLowerInvariant()} state: what it receives is freed");
            return;
        }
        t.Stage(skb, "BrHandleFrame", "br_handle_frame", Verdict.Pass, $"{port.Name} is a port of {br.Name} ({state.ToString().ToLowerInvariant()} state)");

        // br_handle_frame: a frame to the bridge's own address is the host's, decided before the hook (a
        // bridge prerouting rule rewriting ether daddr to it leaves pkt_type OTHERHOST: ip_rcv drops it, 6.18)
        if (dst == br.Mac) skb.PktType = PacketType.Host;
        if (!NfHookSlow.Run(skb, t, NfFamily.Bridge, NfHook.PreRouting, port, null)) return;
        // br_netfilter takes a frame whose VLAN tag is still on only with bridge-nf-filter-vlan-tagged (IS_IP, is_vlan_ip).
        bool brnf = BrNetfilter.Enabled(ns, skb.Protocol) && BrNetfilter.TakesTag(skb, ns);
        if (brnf && !BrNetfilter.PreRouting(skb, t, br)) return;
        Finish(skb, t, port, br, brnf, state);
    }

    /// <summary>
    /// The bridge group address with STP on: __br_handle_local_finish learns the source (on a learning
    /// or forwarding port) and the frame goes on to the port's protocol handlers (llc_rcv, br_stp_rcv),
    /// never through the bridge hooks.
    /// </summary>
    [KernelSymbol("__br_handle_local_finish", "net/bridge/br_input.c")]
    private static void LocalFinish(SkBuff skb, TraceBuilder t, NetDevice port, NetDevice br, MacAddress src, BrPortState state)
    {
        var learned = state is BrPortState.Learning or BrPortState.Forwarding
            ? BrFdb.Of(skb.State, skb.Netns, br, skb.TimestampNs).Update(src, port.Name, skb.TimestampNs, 0, BrStp.FdbHold(skb, br))
            : $"{src} not learned ({port.Name} is {state.ToString().ToLowerInvariant()})";
        t.Stage(skb, "BrHandleFrame", "br_handle_frame", Verdict.Pass,
            $"to the bridge group address with STP on: {learned}; passed on to {port.Name}'s protocol handlers ({port.Name} {state.ToString().ToLowerInvariant()})");
        NetifReceiveSkb.ProtocolHandlers(skb, t);
    }

    [KernelSymbol("br_handle_frame_finish", "net/bridge/br_input.c")]
    private static void Finish(SkBuff skb, TraceBuilder t, NetDevice port, NetDevice br, bool brnf, BrPortState state)
    {
        if (!BrVlan.AllowedIngress(skb, t, br, port, out var vid)) return;
        EthernetFrame.TryParse(skb.Data[skb.MacHeader..], out var eth, out _);
        var src = eth.Source;
        var dst = eth.Destination; // br_netfilter may have rewritten it (DNAT)
        var fdb = BrFdb.Of(skb.State, skb.Netns, br, skb.TimestampNs);
        string learned = BrFdb.IsLocal(skb.Netns, br, src, vid)
            ? $"source {src} is one of {br.Name}'s own (local) addresses: br_fdb_update leaves the entry where it is (\"own address as source address\" warning)"
            : fdb.Update(src, port.Name, skb.TimestampNs, vid, BrStp.FdbHold(skb, br));
        string inVlan = vid == 0 ? "" : $" in VLAN {vid}";

        if (state == BrPortState.Learning)
        {
            t.Drop(skb, "BrHandleFrameFinish", "br_handle_frame_finish", "BRIDGE_INGRESS_STP_STATE", $"{learned}; {port.Name} is in learning state: the frame goes no further");
            return;
        }
        if (dst.IsBroadcast || dst.IsMulticast)
        {
            t.Stage(skb, "BrHandleFrameFinish", "br_handle_frame_finish", Verdict.Pass,
                $"{learned}; {(dst.IsBroadcast ? "broadcast" : $"multicast {dst}")}: flooded, and a copy goes up to {br.Name}");
            BrForward.Flood(skb, t, br, port, localRcv: true, brnf, Fate.Forwarded);
            return;
        }
        if (BrFdb.IsLocal(skb.Netns, br, dst, vid))
        {
            t.Stage(skb, "BrHandleFrameFinish", "br_handle_frame_finish", Verdict.Pass,
                $"{learned}; {dst} is {LocalOwner(skb.Netns, br, dst)} (local fdb entry{inVlan}): up to the host");
            PassFrameUp(skb, t, port, br, brnf);
            return;
        }
        if (fdb.Find(dst, skb.TimestampNs, vid, BrStp.FdbHold(skb, br)) is { } entry && skb.Netns.Device(entry.Port) is { } to)
        {
            t.Stage(skb, "BrHandleFrameFinish", "br_handle_frame_finish", Verdict.Pass, $"{learned}; {dst} {(entry.IsStatic ? "has a static entry" : "is learned")} on {to.Name}{inVlan}");
            BrForward.Forward(skb, t, br, port, to, brnf, localOrig: false, Fate.Forwarded);
            return;
        }
        t.Stage(skb, "BrHandleFrameFinish", "br_handle_frame_finish", Verdict.Pass, $"{learned}; {dst} is not in {br.Name}'s fdb{inVlan}: unknown unicast, flooded");
        BrForward.Flood(skb, t, br, port, localRcv: false, brnf, Fate.Forwarded);
    }

    /// <summary>
    /// br_pass_frame_up: with VLAN filtering the bridge is a port like any other (br_allowed_egress on
    /// its own `self` VLANs, then br_handle_vlan: up untagged where that VLAN is untagged, tagged
    /// otherwise, for a VLAN device on the bridge to take); NF_BR_LOCAL_IN, then the frame is received
    /// again on the bridge device (netif_receive_skb with skb->dev = the bridge): taps, tc and netdev
    /// ingress of the bridge, then ip_rcv / arp_rcv with the bridge as input device.
    /// </summary>
    [KernelSymbol("br_pass_frame_up", "net/bridge/br_input.c")]
    internal static void PassFrameUp(SkBuff skb, TraceBuilder t, NetDevice port, NetDevice br, bool brnf)
    {
        if (BrVlan.AllowedEgress(skb, br) is { } why)
        {
            t.Drop(skb, "BrPassFrameUp", "br_pass_frame_up", "NOT_SPECIFIED", $"br_allowed_egress: {why} (bridge vlan add dev {br.Name} vid {skb.VlanId} self)");
            return;
        }
        if (!BrVlan.HandleVlan(skb, t, br)) return;
        if (!NfHookSlow.Run(skb, t, NfFamily.Bridge, NfHook.LocalIn, port, null)) return;
        t.Stage(skb, "BrPassFrameUp", "br_pass_frame_up", Verdict.Pass, $"received again on {br.Name}");
        if (brnf) BrNetfilter.MarkPassedUp(skb);
        EthernetFrame.TryParse(skb.Data[skb.MacHeader..], out var eth, out _);
        skb.Dev = br;
        skb.TransportHeader = -1;
        var dst = eth.Destination;
        if (dst.IsMulticast || dst == br.Mac && skb.PktType == PacketType.Host)
        {
            skb.NetworkHeader = skb.MacHeader;
            NetifReceiveSkb.EthTypeTrans(skb, t);
        }
        else // another local entry, or the bridge's address written by a rule after br_handle_frame: pkt_type stays what the port's eth_type_trans set (br_handle_frame makes only the bridge's own MAC HOST)
            NetifReceiveSkb.ReceiveNetwork(skb, skb.Protocol, skb.MacHeader + eth.HeaderLength, dst == br.Mac ? skb.PktType : dst == port.Mac ? PacketType.Host : PacketType.OtherHost, t);
    }

    private static string LocalOwner(NetNamespace ns, NetDevice br, MacAddress mac) =>
        mac == br.Mac ? $"{br.Name}'s own address" : BrPorts.Of(ns, br).Any(p => p.Mac == mac) ? "a port's own address" : "a permanent entry";
}
