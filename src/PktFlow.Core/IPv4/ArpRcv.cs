using PktFlow.Netfilter;
using PktFlow.Topology;
using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.IPv4;

/// <summary>net/ipv4/arp.c: arp_rcv and arp_process. The kernel answers requests for its own addresses.</summary>
public static class ArpRcv
{
    [KernelSymbol("arp_rcv", "net/ipv4/arp.c")]
    public static void Receive(SkBuff skb, TraceBuilder t)
    {
        if (!ArpPacket.TryParse(skb.Network, out var arp, out var error) || !arp.IsEthernetIpv4)
        {
            t.Drop(skb, "ArpRcv", "arp_rcv", "NOT_SPECIFIED", error ?? $"ARP hardware/protocol lengths {arp.HardwareLength}/{arp.ProtocolLength} are not Ethernet/IPv4");
            return;
        }
        if (skb.PktType == PacketType.OtherHost)
        {
            t.Stage(skb, "ArpRcv", "arp_rcv", Verdict.Pass, "ARP frame for another host (pkt_type OTHERHOST): consumed without processing");
            t.End(Fate.Consumed, "arp_rcv (not for this host)");
            return;
        }
        t.Stage(skb, "ArpRcv", "arp_rcv", Verdict.Pass, $"ARP op {arp.Operation}, {arp.SenderIp} ({arp.SenderMac}) asks about {arp.TargetIp}");
        if (!NfHookSlow.Run(skb, t, NfFamily.Arp, NfHook.Input, skb.Dev, null)) return;
        ArpProcess(skb, t, arp.Operation, arp.SenderIp, arp.SenderMac, arp.TargetIp);
    }

    /// <summary>
    /// arp_process: a request from 0.0.0.0 (duplicate address detection) is answered when the target is
    /// local on the device; any other request is routed as ip_route_input_noref would route a packet
    /// from the sender to the target: a local target is answered unless arp_ignore or arp_filter say
    /// otherwise; with forwarding on, a unicast route out of another device is answered with our MAC
    /// when proxy_arp allows it (arp_fwd_proxy, medium_id), a route back out of the receiving device when
    /// proxy_arp_pvlan does (arp_fwd_pvlan), or when `ip neigh add proxy` lists the target.
    /// </summary>
    [KernelSymbol("arp_process", "net/ipv4/arp.c")]
    private static void ArpProcess(SkBuff skb, TraceBuilder t, ushort op, IpAddr sip, MacAddress sha, IpAddr tip)
    {
        var ns = skb.Netns;
        var dev = skb.Dev;
        if (op is not (ArpPacket.Request or ArpPacket.Reply))
        {
            Done(skb, t, $"ARP operation {op} is ignored");
            return;
        }
        bool routeLocalnet = ns.Sysctls.ConfIsOn("ipv4", "all", "route_localnet") || ns.Sysctls.ConfIsOn("ipv4", dev.Name, "route_localnet");
        if (tip.IsMulticast || (tip.IsLoopback && !routeLocalnet))
        {
            Done(skb, t, $"target {tip} is multicast or loopback: ignored");
            return;
        }
        if (sip.IsZero)
        {
            // inet_addr_type_dev_table: the target must be local in the device's table
            if (op == ArpPacket.Request && ns.IsLocalAddress(tip) && ArpIgnore.Check(ns, dev, sip, tip) is var dadWhy)
            {
                if (dadWhy is null) Reply(skb, t, sip, sha, tip, "");
                else Done(skb, t, $"{tip} is local but {dadWhy}: no reply", "arp_process (arp_ignore)");
                return;
            }
            Done(skb, t, op == ArpPacket.Reply ? $"ARP reply from 0.0.0.0 ({sha}): ignored" : $"duplicate address probe for {tip}, not local here: no reply");
            return;
        }
        string learn = ns.AddressesOf(dev.Name).Any(a => a.Family == IpFamily.V4 && a.Prefix.Contains(sip))
            ? $"; an existing neighbour entry for {sip} would be updated to {sha}" : "";
        if (op == ArpPacket.Reply)
        {
            Done(skb, t, $"ARP reply {sip} is-at {sha}{learn}");
            return;
        }
        var rt = IpRouteInput.Lookup(skb, sip, tip);
        if (rt.Kind == InputRouteKind.Local)
        {
            if ((ArpIgnore.Check(ns, dev, sip, tip) ?? ArpIgnore.Filter(ns, dev, sip, tip)) is { } why)
            {
                Done(skb, t, $"{tip} is local but {why}: no reply", "arp_process (arp_ignore)");
                return;
            }
            Reply(skb, t, sip, sha, tip, "");
            return;
        }
        if (rt.Kind == InputRouteKind.Forward && rt.Route is { Type: RouteType.Unicast } && ProxyReason(ns, dev, rt.OutDevice!, sip, tip) is { } proxy)
        {
            int delayJiffies = int.TryParse(ns.Sysctls.Get($"net.ipv4.neigh.{dev.Name}.proxy_delay") ?? ns.Sysctls.Get("net.ipv4.neigh.default.proxy_delay"), out var d) ? d : 80;
            string delay = skb.PktType == PacketType.Host || delayJiffies == 0 ? "" : $" after a random delay below {delayJiffies * 10} ms (pneigh_enqueue: proxy_delay {delayJiffies})";
            Reply(skb, t, sip, sha, tip, $" for {tip} ({proxy}){delay}");
            return;
        }
        Done(skb, t, rt.Kind == InputRouteKind.Forward
            ? $"{tip} is not local, routed out of {rt.OutDevice!.Name}{(rt.OutDevice == dev ? " (the receiving device)" : "")}: no proxy reply{learn}"
            : $"routing {sip} -> {tip} as ip_route_input would: {rt.Detail}; no reply{learn}");
    }

    /// <summary>Why arp_process answers for a target routed elsewhere, or null when it does not.</summary>
    internal static string? ProxyReason(NetNamespace ns, NetDevice dev, NetDevice outDev, IpAddr sip, IpAddr tip)
    {
        if (outDev != dev)
        {
            if (ArpFwdProxy(ns, dev, outDev) is { } why) return why;
            foreach (var n in ns.Neighbours)
                if (n.IsProxy && n.Device == dev.Name && n.Address == tip) return $"proxy entry {tip} dev {dev.Name}";
            return null;
        }
        // arp_fwd_pvlan: private VLAN proxy on the same segment, never for a self probe; the device's own setting only
        return sip != tip && ns.Sysctls.ConfIsOn("ipv4", dev.Name, "proxy_arp_pvlan") ? $"proxy_arp_pvlan on {dev.Name}" : null;
    }

    /// <summary>
    /// arp_fwd_proxy: proxy_arp on (conf.all or the device); medium_id 0 (the default) answers, -1 never,
    /// another id only when the route's device has a different id that is not -1.
    /// </summary>
    [KernelSymbol("arp_fwd_proxy", "net/ipv4/arp.c")]
    private static string? ArpFwdProxy(NetNamespace ns, NetDevice dev, NetDevice outDev)
    {
        if (!ns.Sysctls.ConfIsOn("ipv4", "all", "proxy_arp") && !ns.Sysctls.ConfIsOn("ipv4", dev.Name, "proxy_arp")) return null;
        int imi = MediumId(ns, dev);
        if (imi == 0) return $"proxy_arp, route out of {outDev.Name}";
        if (imi == -1) return null;
        int omi = MediumId(ns, outDev);
        return omi != imi && omi != -1 ? $"proxy_arp, route out of {outDev.Name}, medium_id {imi} vs {omi}" : null;
    }

    private static int MediumId(NetNamespace ns, NetDevice dev) =>
        int.TryParse(ns.Sysctls.Conf("ipv4", dev.Name, "medium_id"), out var v) ? v : 0;

    private static void Reply(SkBuff skb, TraceBuilder t, IpAddr sip, MacAddress sha, IpAddr tip, string proxy)
    {
        var dev = skb.Dev;
        ArpSend.Reply(skb, t, sip, sha, tip, $"ARP reply {tip} is-at {dev.Mac}{proxy} to {(sip.IsZero ? $"{sha} (duplicate address probe: unicast to the prober, arp_send_dst dest_hw=sha)" : sip.ToString())}");
        Done(skb, t, $"{(proxy.Length == 0 ? $"{tip} is local" : "proxy")}: ARP reply {tip} is-at {dev.Mac}{proxy} sent{(sip.IsZero ? "" : $"; neighbour {sip} lladdr {sha} learned")}",
            "arp_process (reply sent)");
    }

    private static void Done(SkBuff skb, TraceBuilder t, string detail, string end = "arp_process")
    {
        t.Stage(skb, "ArpProcess", "arp_process", Verdict.Pass, detail);
        t.End(Fate.Consumed, end);
    }
}
