using PktFlow.Netfilter;
using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.IPv6;
using PktFlow.Routing;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.IPv4;

/// <summary>
/// The local output path for a packet this host sent (ip_local_out / ip6_local_out): the output route
/// lookup, the LOCAL_OUT hook, then ip_output / ip6_output as for forwarded packets. Used to trace the
/// frames a capture shows leaving the host (Observe mode).
/// </summary>
public static class IpLocalOut
{
    /// <param name="preferredOif">The device the sender bound to, for destinations that need one
    /// (multicast, broadcast, IPv6 link-local): the device the capture saw the packet on.</param>
    /// <summary>
    /// fib_select_path for a multipath route: the flow as struct flowi4 carries it (an ICMP message's
    /// type and code sit where the destination port is), and a nexthop whose device has the source address.
    /// </summary>
    [KernelSymbol("fib_select_path", "net/ipv4/fib_frontend.c")]
    private static RouteNexthop? SelectPath(SkBuff skb, TraceBuilder t, Route r, IpAddr src, byte[]? hashedPacket)
    {
        const string Cause = "; hashed on the packet the error answers";
        if (src.IsV6)
        {
            var six = Rt6Multipath.Select(skb.Netns, r, hashedPacket ?? skb.Network, local: hashedPacket is null);
            t.Stage(skb, "Fib6SelectPath", "fib6_select_path", Verdict.Pass, six.Detail + (hashedPacket is null ? "" : Cause));
            return six.Nexthop;
        }
        FibMultipath.Choice choice;
        if (hashedPacket is not null)
        {
            var cause = MultipathFlow.Of(hashedPacket, out var inner);
            choice = FibMultipath.Select(skb.Netns, r, cause, inner, src);
        }
        else
        {
            var flow = MultipathFlow.Of(skb.Network, out _);
            if (flow.Protocol == IpProtocol.Icmp && Ipv4Header.TryParse(skb.Network, out var ip, out _) && skb.Network.Length >= ip.HeaderLength + 2)
                flow = flow with { SourcePort = 0, DestinationPort = (ushort)(skb.Network[ip.HeaderLength] << 8 | skb.Network[ip.HeaderLength + 1]) };
            choice = FibMultipath.Select(skb.Netns, r, flow, flow, src);
        }
        t.Stage(skb, "FibSelectMultipath", "fib_select_multipath", Verdict.Pass, choice.Detail + (hashedPacket is null ? "" : Cause));
        return choice.Nexthop;
    }

    [KernelSymbol("ip_local_out", "net/ipv4/ip_output.c")]
    [KernelSymbol("ip6_local_out", "net/ipv6/output_core.c")]
    /// <param name="hashedPacket">The packet an ICMP error answers: the multipath hash is that of its flow.</param>
    /// <param name="built">A packet the model built (a child trace): too big for the device it is
    /// fragmented as ip_append_data would have cut it; a captured one that big is a GSO super-packet.</param>
    /// <param name="loopback">Follow a packet for a local address over lo (loopback_xmit, received again
    /// on lo): only for callers whose packets the model follows there (synproxy's SYN to a local listener).</param>
    /// <param name="oif">The output device the lookup is bound to (flowi4_oif), null for none.</param>
    public static void Send(SkBuff skb, TraceBuilder t, IpAddr src, IpAddr dst, NetDevice preferredOif, byte[]? hashedPacket = null, bool built = false, bool loopback = false, string? oif = null)
    {
        var ns = skb.Netns;
        bool v6 = dst.IsV6;
        string fn = v6 ? "ip6_route_output" : "ip_route_output_key";
        NetDevice outDev;
        IpAddr? gateway = null; // the route's (or chosen nexthop's) gateway; none: the destination is the next hop
        int? routeMtu = null; // ip_skb_dst_mtu / ip6_skb_dst_mtu: the route's mtu metric before the device's
        Routing.PmtuExceptions.Entry? learned = null;
        if (dst.IsMulticast || dst.IsLimitedBroadcast || (v6 && dst.IsLinkLocal))
        {
            outDev = preferredOif;
            t.Route = v6 && dst.IsMulticast ? $"multicast ff00::/8 dev {outDev.Name} table local" : null;
            t.Stage(skb, "RouteOutput", fn, Verdict.Pass, $"{dst} needs an output device; the sender used {outDev.Name}");
        }
        else
        {
            var res = ns.Fib.Lookup(dst, src, "lo", oif, skb.Mark, nexthopOif: oif); // output lookups carry iif lo (LOOPBACK_IFINDEX)
            t.Route = res.Route?.ToString();
            if (!res.Found)
            {
                t.Drop(skb, "RouteOutput", fn, "IP_OUTNOROUTES", res.Route is null ? $"no route to {dst}: the sender gets ENETUNREACH" : $"route {res.Route}: the sender gets an error");
                return;
            }
            var r = res.Route!;
            if (r.Type is RouteType.Local or RouteType.Anycast)
            {
                if (!loopback || ns.Device("lo") is not { IsUp: true } lo)
                {
                    t.Unsupported(skb, $"{dst} is local to {ns.Name}: delivery over loopback is not modelled yet");
                    return;
                }
                t.Stage(skb, "RouteOutput", fn, Verdict.Pass, $"route {r}: out by lo");
                LoopbackXmit(skb, t, lo);
                return;
            }
            var dev = r.Type == RouteType.Broadcast ? preferredOif : r.Device is null ? null : ns.Device(r.Device);
            if (dev is null || !dev.IsUp)
            {
                t.Drop(skb, "RouteOutput", fn, "IP_OUTNOROUTES", $"route {r}: its device is missing or down");
                return;
            }
            outDev = dev;
            gateway = r.Gateway;
            if (r.Mtu != 0) routeMtu = r.Mtu;
            // ipv4_mtu / ip6_mtu: a path MTU learned from an ICMP error (its exception) comes before the route's metric
            learned = skb.State.Pmtu.Find(dst, skb.TimestampNs);
            if (learned is not null) routeMtu = learned.Mtu;
            t.Stage(skb, "RouteOutput", fn, Verdict.Pass, learned is null ? $"route {r}" : $"route {r}; {learned.Describe(skb.TimestampNs)}");
            if (r.Nexthops is { Count: > 1 } && SelectPath(skb, t, r, src, hashedPacket) is { } nh)
            {
                if (ns.Device(nh.Device) is not { IsUp: true } nhDev)
                {
                    t.Drop(skb, "RouteOutput", fn, "IP_OUTNOROUTES", $"nexthop {nh}: its device is missing or down");
                    return;
                }
                (outDev, gateway) = (nhDev, nh.Gateway);
            }
        }
        skb.Dev = outDev;
        if (!NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.LocalOut, null, outDev)) return;
        if (!NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.PostRouting, null, outDev)) return;
        Finish(skb, t, v6, dst, outDev, gateway, routeMtu, learned, built);
    }

    /// <summary>
    /// A packet for the namespace's own address: the output hooks with lo as the device, then
    /// loopback_xmit hands it to netif_rx, and it is received on lo (pkt_type HOST) with the conntrack
    /// the output path gave it.
    /// </summary>
    [KernelSymbol("loopback_xmit", "drivers/net/loopback.c")]
    private static void LoopbackXmit(SkBuff skb, TraceBuilder t, NetDevice lo)
    {
        skb.Dev = lo;
        if (!NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.LocalOut, null, lo)) return;
        if (!NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.PostRouting, null, lo)) return;
        skb.Engine.NoteCrossing(skb, outbound: true);
        t.Stage(skb, "LoopbackXmit", "loopback_xmit", Verdict.Pass, "sent over lo: netif_rx receives it again on lo");
        skb.PktType = PacketType.Host;
        Dev.NetifReceiveSkb.Receive(skb, t);
    }

    private static void Finish(SkBuff skb, TraceBuilder t, bool v6, IpAddr dst, NetDevice outDev, IpAddr? gateway, int? routeMtu, Routing.PmtuExceptions.Entry? learned, bool built)
    {
        var nextHop = RtNexthop.Of(skb, gateway, dst); // no gateway: the destination as the hooks left it
        int length = skb.Length - skb.NetworkHeader;
        if (built && !v6 && IpFragment.Output(skb, t, outDev, nextHop, Fate.Transmitted, $"ip_finish_output2 to next hop {nextHop}", routeMtu)) return;
        if (built && v6 && IPv6.Ip6Fragment.Output(skb, t, outDev, nextHop, Fate.Transmitted, $"ip6_finish_output2 to next hop {nextHop}", routeMtu)) return;
        string via = $"{(v6 ? "ip6_finish_output2" : "ip_finish_output2")} to next hop {nextHop}";
        if (learned is not null && length > learned.Mtu && length <= outDev.Mtu)
        {
            t.Stage(skb, v6 ? "Ip6FinishOutput" : "IpFinishOutput", v6 ? "ip6_finish_output" : "ip_finish_output", Verdict.Pass,
                $"{length} bytes > the learned path MTU {learned.Mtu}, sent whole: its socket does not use the path MTU (IP_PMTUDISC_PROBE or INTERFACE, or a raw socket writing its own header)");
            DevQueueXmit.NeighOutput(skb, t, nextHop, Fate.Transmitted, via);
            return;
        }
        // a captured frame longer than the MTU left the sender as one GSO skb: its gso_size as the
        // sender's TCP / UDP_SEGMENT chose it for this route
        int mtu = routeMtu ?? outDev.Mtu;
        if (!built && length > mtu && skb.Gso is null)
            skb.Gso = Offload.GsoSizeInference.Infer(skb.State.Gso, skb.Network, mtu, outDev.Name, skb.TimestampNs);
        if (!v6 && IpFinishOutputGso.Output(skb, t, outDev, nextHop, Fate.Transmitted, via, mtu)) return;
        if (v6 && IPv6.Ip6FinishOutputGso.Output(skb, t, outDev, nextHop, Fate.Transmitted, via, mtu)) return;
        if (length > outDev.Mtu)
            t.NotModelled(skb, v6 ? "Ip6FinishOutput" : "IpFinishOutput", v6 ? "ip6_finish_output" : "ip_finish_output",
                $"{length} bytes > MTU {outDev.Mtu}: a super-packet as captured that is neither TCP nor UDP (sent whole)");
        else
            t.Stage(skb, v6 ? "Ip6FinishOutput" : "IpFinishOutput", v6 ? "ip6_finish_output" : "ip_finish_output", Verdict.Pass,
                learned is null ? $"{length} bytes fit MTU {outDev.Mtu}" : $"{length} bytes fit the learned path MTU {learned.Mtu}");
        DevQueueXmit.NeighOutput(skb, t, nextHop, Fate.Transmitted, via);
    }
}
