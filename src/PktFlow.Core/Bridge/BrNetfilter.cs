using System.Runtime.CompilerServices;
using PktFlow.Datapath;
using PktFlow.IPv4;
using PktFlow.Neighbour;
using PktFlow.Netfilter;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Bridge;

/// <summary>
/// br_netfilter (net/bridge/br_netfilter_hooks.c): with net.bridge.bridge-nf-call-iptables (IPv4) or
/// -ip6tables (IPv6) = 1 in the bridge's namespace, bridged IP frames also traverse the inet
/// PRE_ROUTING, FORWARD and POST_ROUTING hooks from inside the bridge hooks (BRNF priority 0). As the
/// kernel does (and as the recorded scenarios show: iifname/oifname "docker0"), the inet hooks see the
/// bridge device, not the ports, as in/out device. The recording kernel has br_netfilter built in, so
/// an unset sysctl reads 1 (tests/scenarios/README.md); only an explicit 0 switches it off.
/// </summary>
public static class BrNetfilter
{
    /// <summary>skbs whose inet PRE_ROUTING already ran inside the bridge and that went up to the host (nf_bridge info).</summary>
    private static readonly ConditionalWeakTable<SkBuff, object> PassedPreRouting = new();

    public static bool Enabled(NetNamespace ns, ushort protocol) => protocol switch
    {
        EtherTypes.Ipv4 => On(ns, "net.bridge.bridge-nf-call-iptables"),
        EtherTypes.Ipv6 => On(ns, "net.bridge.bridge-nf-call-ip6tables"),
        _ => false,
    };

    /// <summary>
    /// IS_IP / is_vlan_ip: a frame that carries a VLAN tag (skb_vlan_tag_present) passes br_netfilter's
    /// inet hooks only with net.bridge.bridge-nf-filter-vlan-tagged = 1 (default 0).
    /// </summary>
    public static bool TakesTag(SkBuff skb, NetNamespace ns) =>
        !skb.VlanPresent || (ns.Sysctls.Get("net.bridge.bridge-nf-filter-vlan-tagged") ?? "0").Trim() != "0";

    private static bool On(NetNamespace ns, string key) => (ns.Sysctls.Get(key) ?? "1").Trim() != "0";

    /// <summary>
    /// br_nf_pre_routing + br_nf_pre_routing_finish: the inet PRE_ROUTING hook with the bridge as input
    /// device; when it changed the IPv4 destination (DNAT), the frame is routed again: to a neighbour on
    /// the same bridge it stays bridged with that neighbour's MAC (br_nf_pre_routing_finish_bridge),
    /// otherwise it goes up to the host (destination MAC = the bridge's). Returns false when dropped.
    /// </summary>
    [KernelSymbol("br_nf_pre_routing", "net/bridge/br_netfilter_hooks.c")]
    public static bool PreRouting(SkBuff skb, TraceBuilder t, NetDevice bridge)
    {
        bool v4 = skb.Protocol == EtherTypes.Ipv4;
        Ipv4Header before = default;
        if (v4 ? !Ipv4Header.TryParse(skb.Network, out before, out _) : !Ipv6Header.TryParse(skb.Network, out _, out _))
        {
            // br_validate_ipv4 / br_validate_ipv6 free a bad header.
            t.Drop(skb, "BrNfPreRouting", "br_nf_pre_routing", "IP_INHDR", "br_netfilter: the IP header does not validate");
            return false;
        }
        t.Stage(skb, "BrNfPreRouting", "br_nf_pre_routing", Verdict.Pass, $"bridge-nf-call-ip{(v4 ? "" : "6")}tables=1: inet PRE_ROUTING with in {bridge.Name}");
        var oldDst = v4 ? before.Destination : default;
        if (!NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.PreRouting, bridge, null)) return false;
        if (!v4) return true; // IPv6 DNAT re-routing (br_nf_pre_routing_finish_ipv6) is not modelled
        Ipv4Header.TryParse(skb.Network, out var after, out _);
        if (after.Destination == oldDst) return true;

        var src = EthernetFrame.TryParse(skb.Data[skb.MacHeader..], out var eth, out _) ? eth.Source : default;
        var port = skb.Dev;
        InputRoute rt;
        skb.Dev = bridge; // the route lookup sees the bridge as input device
        try { rt = IpRouteInput.Lookup(skb, after.Source, after.Destination); }
        finally { skb.Dev = port; }
        if (rt.Kind == InputRouteKind.Forward && rt.OutDevice?.Name == bridge.Name)
        {
            var nextHop = rt.NextHop ?? after.Destination;
            var n = NeighResolve.Resolve(skb, bridge, nextHop);
            var mac = n.State == NeighState.Resolved && !n.Mac.IsZero ? n.Mac : BrPorts.AddressBehind(skb, bridge, nextHop);
            if (mac is not { } neighbour)
            {
                t.Unsupported(skb, $"DNAT to {after.Destination} on {bridge.Name}: the neighbour is not resolved ({n.Detail}); br_nf's neighbour queue is not modelled");
                return false;
            }
            var nmac = neighbour;
            skb.SetEthernet(nmac, src);
            skb.PktType = PacketType.OtherHost;
            t.Stage(skb, "BrNfPreRoutingFinish", "br_nf_pre_routing_finish_bridge", Verdict.Pass,
                $"DNAT {oldDst} -> {after.Destination}, routed back out of {bridge.Name}: stays bridged, destination MAC {nmac}");
            FinishBridgeSlow(skb, t, bridge, after.Destination, nmac);
            return true;
        }
        skb.SetEthernet(bridge.Mac, src);
        skb.PktType = PacketType.Host;
        t.Stage(skb, "BrNfPreRoutingFinish", "br_nf_pre_routing_finish", Verdict.Pass,
            $"DNAT {oldDst} -> {after.Destination} ({rt.Kind.ToString().ToLowerInvariant()} route): up to the host, destination MAC {bridge.Mac}");
        return true;
    }

    /// <summary>
    /// br_nf_pre_routing_finish_bridge takes the fast way (neigh_hh_bridge, then br_handle_frame_finish)
    /// only when the host's neighbour entry is connected (NUD_CONNECTED with a cached header); otherwise
    /// the frame goes to neigh->output with bridged_dnat set: it waits while the host sends an ARP
    /// request out of the bridge, the answer enters on the neighbour's port (br_fdb_update learns it),
    /// and br_dev_xmit hands the frame back to br_handle_frame_finish
    /// (br_nf_pre_routing_finish_bridge_slow), which now finds the port. The model keeps no neighbour
    /// cache, so it reads the FDB: an entry connected at most reachable_time ago (up to 45 s) was
    /// confirmed by a frame through the port, which the FDB keeps for 300 s, so a neighbour behind a
    /// port the FDB does not know is not connected. Recorded: kube-proxy-clusterip frame 22 (the
    /// host's ARP request for the new endpoint follows, the SYN is forwarded to its port alone);
    /// checked on 6.18 with a third port: it saw the bridge's ARP request but not the DNATed frame,
    /// and the inet FORWARD counter counted it once.
    /// </summary>
    [KernelSymbol("br_nf_pre_routing_finish_bridge_slow", "net/bridge/br_netfilter_hooks.c")]
    private static void FinishBridgeSlow(SkBuff skb, TraceBuilder t, NetDevice bridge, IpAddr target, MacAddress mac)
    {
        if (BrFdb.Of(skb.State, skb.Netns, bridge, skb.TimestampNs).Find(mac, skb.TimestampNs, 0, BrStp.FdbHold(skb, bridge)) is not null) return;
        if (BrPorts.LearnAnswer(skb, bridge, target, vid: 0) is not { } learned) return;
        t.Stage(skb, "BrNfPreRoutingFinishBridgeSlow", "br_nf_pre_routing_finish_bridge_slow", Verdict.Pass,
            $"{bridge.Name}'s neighbour entry for {target} is not connected: the frame waits in it while {bridge.Name} asks who-has {target}; the answer comes in through its port ({learned}) and br_dev_xmit (bridged_dnat) hands the frame back to the bridge");
    }

    /// <summary>br_nf_forward_ip: the inet FORWARD hook, in and out = the bridge.</summary>
    [KernelSymbol("br_nf_forward_ip", "net/bridge/br_netfilter_hooks.c")]
    public static bool Forward(SkBuff skb, TraceBuilder t, NetDevice bridge) =>
        NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.Forward, bridge, bridge);

    /// <summary>br_nf_post_routing: the inet POST_ROUTING hook, out = the bridge.</summary>
    [KernelSymbol("br_nf_post_routing", "net/bridge/br_netfilter_hooks.c")]
    public static bool PostRouting(SkBuff skb, TraceBuilder t, NetDevice bridge) =>
        NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.PostRouting, null, bridge);

    /// <summary>Remembers that this skb's inet PRE_ROUTING ran inside the bridge before it went up to the host.</summary>
    internal static void MarkPassedUp(SkBuff skb) => PassedPreRouting.AddOrUpdate(skb, skb);

    /// <summary>
    /// ip_sabotage_in (NF_IP_PRI_FIRST at inet PRE_ROUTING): a frame br_netfilter already took through
    /// PRE_ROUTING inside the bridge is not run through it again when ip_rcv sees it on the bridge
    /// device (NF_STOP). Returns true when the hook is to be skipped. ip_rcv / ipv6_rcv call it
    /// before their PRE_ROUTING hook.
    /// </summary>
    [KernelSymbol("ip_sabotage_in", "net/bridge/br_netfilter_hooks.c")]
    public static bool IpSabotageIn(SkBuff skb, TraceBuilder t)
    {
        if (!PassedPreRouting.TryGetValue(skb, out _)) return false;
        PassedPreRouting.Remove(skb);
        t.Stage(skb, "IpSabotageIn", "ip_sabotage_in", Verdict.Pass, "PRE_ROUTING already ran inside the bridge (br_netfilter): NF_STOP");
        return true;
    }
}
