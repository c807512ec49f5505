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
        skb.NfBridge = new NfBridgeInfo(skb.Dev.Name, null); // nf_bridge_alloc: physindev = the port
        var oldDst = v4 ? before.Destination : Ipv6Header.TryParse(skb.Network, out var h6, out _) ? h6.Destination : default;
        if (!NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.PreRouting, bridge, null)) return false;
        if (!v4) return PreRoutingFinishIpv6(skb, t, bridge, oldDst);
        Ipv4Header.TryParse(skb.Network, out var after, out _);
        if (after.Destination == oldDst) return true;

        var src = EthernetFrame.TryParse(skb.Data[skb.MacHeader..], out var eth, out _) ? eth.Source : default;
        var port = skb.Dev;
        InputRoute rt;
        skb.Dev = bridge; // the route lookup sees the bridge as input device
        try { rt = IpRouteInput.Lookup(skb, after.Source, after.Destination); }
        finally { skb.Dev = port; }
        if (rt.Kind == InputRouteKind.Forward && rt.OutDevice?.Name == bridge.Name)
            return FinishBridge(skb, t, bridge, src, oldDst, after.Destination, rt.NextHop ?? after.Destination);
        UpToHost(skb, t, bridge, src, oldDst, after.Destination, $"{rt.Kind.ToString().ToLowerInvariant()} route", "br_nf_pre_routing_finish");
        return true;
    }

    /// <summary>
    /// br_nf_pre_routing_finish_ipv6 (net/bridge/br_netfilter_ipv6.c): when PRE_ROUTING changed the IPv6
    /// destination, ip6_route_input routes the frame again with the bridge as input device (forwarding
    /// on or off); a route with an error (none, unreachable, prohibit, blackhole) frees it, a route out
    /// of the bridge keeps it bridged towards the neighbour (br_nf_pre_routing_finish_bridge, as for
    /// IPv4), any other (local included: its dst device is not the bridge) sends it up to the host.
    /// Measured on 6.18 (bridge-nf-call-ip6tables=1, ip6 nat DNAT of a bridged echo request to an
    /// address on another port, forwarding 0): the bridge solicited the new destination out of br0 and
    /// the request reached that port, the reply was un-DNATed on the way back.
    /// </summary>
    [KernelSymbol("br_nf_pre_routing_finish_ipv6", "net/bridge/br_netfilter_ipv6.c")]
    private static bool PreRoutingFinishIpv6(SkBuff skb, TraceBuilder t, NetDevice bridge, IpAddr oldDst)
    {
        if (!Ipv6Header.TryParse(skb.Network, out var after, out _)) return true;
        var (dst, source) = (after.Destination, after.Source);
        if (dst == oldDst) return true;
        var src = EthernetFrame.TryParse(skb.Data[skb.MacHeader..], out var eth, out _) ? eth.Source : default;
        if (dst.IsMulticast)
        {
            t.Unsupported(skb, $"DNAT {oldDst} -> {dst} on {bridge.Name}: a multicast destination's ip6_route_input (ip6_mc_input) is not modelled here");
            return false;
        }
        var res = skb.Netns.Fib.Lookup(dst, source, bridge.Name, null, skb.Mark);
        if (!res.Found)
        {
            t.Drop(skb, "BrNfPreRoutingFinishIpv6", "br_nf_pre_routing_finish_ipv6", "NOT_SPECIFIED",
                $"DNAT {oldDst} -> {dst}: ip6_route_input gives {(res.Route is null ? "no route" : $"route {res.Route} ({res.Error})")}: the dst's error frees the frame");
            return false;
        }
        var r = res.Route!;
        if (r.Nexthops is { Count: > 1 })
        {
            t.Unsupported(skb, $"DNAT {oldDst} -> {dst} on {bridge.Name}: a multipath route ({r}) after br_netfilter's IPv6 DNAT is not modelled");
            return false;
        }
        if (r.Type == RouteType.Unicast && r.Device == bridge.Name)
            return FinishBridge(skb, t, bridge, src, oldDst, dst, r.Gateway ?? dst);
        UpToHost(skb, t, bridge, src, oldDst, dst, $"route {r}", "br_nf_pre_routing_finish_ipv6");
        return true;
    }

    /// <summary>The new destination is routed out of the bridge: the frame stays bridged with the neighbour's MAC.</summary>
    [KernelSymbol("br_nf_pre_routing_finish_bridge", "net/bridge/br_netfilter_hooks.c")]
    private static bool FinishBridge(SkBuff skb, TraceBuilder t, NetDevice bridge, MacAddress src, IpAddr oldDst, IpAddr dst, IpAddr nextHop)
    {
        var n = NeighResolve.Resolve(skb, bridge, nextHop);
        var mac = n.State == NeighState.Resolved && !n.Mac.IsZero ? n.Mac : BrPorts.AddressBehind(skb, bridge, nextHop);
        if (mac is not { } neighbour)
        {
            t.Unsupported(skb, $"DNAT to {dst} on {bridge.Name}: the neighbour is not resolved ({n.Detail}); br_nf's neighbour queue is not modelled");
            return false;
        }
        skb.SetEthernet(neighbour, src);
        skb.PktType = PacketType.OtherHost;
        t.Stage(skb, "BrNfPreRoutingFinish", "br_nf_pre_routing_finish_bridge", Verdict.Pass,
            $"DNAT {oldDst} -> {dst}, routed back out of {bridge.Name}: stays bridged, destination MAC {neighbour}");
        FinishBridgeSlow(skb, t, bridge, dst, neighbour);
        return true;
    }

    /// <summary>Any other route: the frame goes up to the host, addressed to the bridge.</summary>
    private static void UpToHost(SkBuff skb, TraceBuilder t, NetDevice bridge, MacAddress src, IpAddr oldDst, IpAddr dst, string route, string function)
    {
        skb.SetEthernet(bridge.Mac, src);
        skb.PktType = PacketType.Host;
        t.Stage(skb, "BrNfPreRoutingFinish", function, Verdict.Pass,
            $"DNAT {oldDst} -> {dst} ({route}): up to the host, destination MAC {bridge.Mac}");
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
            $"{bridge.Name}'s neighbour entry for {target} is not connected: the frame waits in it while {bridge.Name} {(target.IsV4 ? "asks who-has" : "sends a neighbour solicitation for")} {target}; the answer comes in through its port ({learned}) and br_dev_xmit (bridged_dnat) hands the frame back to the bridge");
    }

    /// <summary>br_nf_forward_ip: physoutdev = the port the frame leaves by, then the inet FORWARD hook, in and out = the bridge.</summary>
    [KernelSymbol("br_nf_forward_ip", "net/bridge/br_netfilter_hooks.c")]
    public static bool Forward(SkBuff skb, TraceBuilder t, NetDevice bridge, NetDevice to)
    {
        if (skb.NfBridge is { } nb) skb.NfBridge = nb with { PhysOut = to.Name };
        return NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.Forward, bridge, bridge);
    }

    /// <summary>
    /// br_nf_forward_arp: with net.bridge.bridge-nf-call-arptables = 1 a bridged ARP frame passes the arp
    /// family's NF_ARP_FORWARD hook (in and out the ports). Nothing can be registered there from nftables:
    /// the kernel's arp filter chain type takes input and output only (a forward chain is refused,
    /// NftChainType), and arptables is not modelled (a lab's arptables command is named as
    /// unmodelled). Measured on 6.18: an arp input/output chain on the bridge's host counts the same
    /// with the sysctl 1 or 0 (the broadcast request once, as it goes up to the bridge device; the
    /// bridged unicast reply never), so the stage only says where the hook was.
    /// </summary>
    [KernelSymbol("br_nf_forward_arp", "net/bridge/br_netfilter_hooks.c")]
    public static void ForwardArp(SkBuff skb, TraceBuilder t, NetDevice? from, NetDevice to)
    {
        if (skb.Protocol != EtherTypes.Arp || !On(skb.Netns, "net.bridge.bridge-nf-call-arptables")) return;
        t.Stage(skb, "BrNfForwardArp", "br_nf_forward_arp", Verdict.Pass,
            "bridge-nf-call-arptables=1: NF_ARP_FORWARD, where no nftables chain can be (arp filter chains hook input and output only)");
    }

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
