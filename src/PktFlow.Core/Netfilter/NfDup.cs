using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Nftables;
using PktFlow.Wire;

namespace PktFlow.Netfilter;

/// <summary>
/// The copies nft's dup statement sends, each walked at once (inside the hook, before the original goes
/// on) as a child trace of the frame:
/// - nf_dup_ipv4 / nf_dup_ipv6 (dup to ADDRESS [device DEV]): pskb_copy, untracked (nf_ct_set
///   IP_CT_UNTRACKED), IPv4 DF set, TTL / hop limit one less at PREROUTING and INPUT; routed to ADDRESS
///   (out of DEV when given, FLOWI_FLAG_KNOWN_NH: ADDRESS is the next hop, its destination is left as it
///   is), then ip_local_out / ip6_local_out: the OUTPUT and POSTROUTING hooks run for it, and a dup
///   statement it meets there does nothing (current->in_nf_duplicate).
/// - nf_dup_netdev_egress (netdev dup to DEV): skb_clone with its link-layer header, dev_queue_xmit on
///   DEV; nested deeper than NF_RECURSION_LIMIT the clone is freed.
/// </summary>
internal static class NfDup
{
    /// <summary>NF_RECURSION_LIMIT of nf_dup_netdev.c.</summary>
    private const int RecursionLimit = 2;

    public static void Copy(SkBuff skb, TraceBuilder t, DupStmt dup, byte[] network, NfHook hook)
    {
        if (dup.Address is { } gw) Ip(skb, t, dup, gw, network, hook);
        else Netdev(skb, t, dup, network);
    }

    [KernelSymbol("nf_dup_netdev_egress", "net/netfilter/nf_dup_netdev.c")]
    private static void Netdev(SkBuff skb, TraceBuilder t, DupStmt dup, byte[] network)
    {
        // dev_get_by_index_rcu: no such device, no copy
        if (skb.Netns.Device(dup.Device!) is not { } dev) { t.Note($"{dup}: no device {dup.Device} in {skb.Netns.Name}, no copy"); return; }
        if (skb.MacHeader < 0) { t.Note($"{dup}: the packet has no link-layer header to send on {dev.Name} (not modelled), no copy"); return; }
        if (skb.NfDupRecursion > RecursionLimit)
        {
            t.Note($"{dup}: nf_dup_skb_recursion {skb.NfDupRecursion} > NF_RECURSION_LIMIT {RecursionLimit}: the copy is freed");
            return;
        }
        var clone = skb.Clone();
        clone.ReplaceNetwork(network);
        clone.Dev = dev;
        clone.SeenLeaving = null;
        clone.NfDupRecursion = skb.NfDupRecursion + 1;
        skb.Engine.EmitCopy(t, PacketCopy.Of(clone, "nf_dup_netdev_egress", $"{dup}: a clone (with its link-layer header) sent out of {dev.Name} with dev_queue_xmit; the original goes on",
            static (s, tb) => DevQueueXmit.Xmit(s, tb, Fate.Transmitted), synchronous: true));
    }

    [KernelSymbol("nf_dup_ipv4", "net/ipv4/netfilter/nf_dup_ipv4.c")]
    [KernelSymbol("nf_dup_ipv6", "net/ipv6/netfilter/nf_dup_ipv6.c")]
    private static void Ip(SkBuff skb, TraceBuilder t, DupStmt dup, IpAddr gw, byte[] network, NfHook hook)
    {
        bool v6 = gw.IsV6;
        string fn = v6 ? "nf_dup_ipv6" : "nf_dup_ipv4";
        if (skb.Duplicate) { t.Note($"{dup}: the packet is itself a copy nf_dup is sending (in_nf_duplicate): no copy"); return; }
        if (v6 != (skb.Protocol == EtherTypes.Ipv6)) { t.Note($"{dup}: the packet is not {(v6 ? "IPv6" : "IPv4")}, no copy"); return; }
        var copy = (byte[])network.Clone();
        bool decrement = hook is NfHook.PreRouting or NfHook.LocalIn;
        if (v6)
        {
            if (copy.Length < 40) return;
            if (decrement) copy[7]--;
        }
        else
        {
            if (copy.Length < 20) return;
            // DF, so that the original sender learns a smaller MTU on the copy's route; the checksum as ip_local_out writes it
            copy[6] |= 0x40;
            if (decrement) copy[8]--;
            Ipv4HeaderWriter.UpdateHeaderChecksum(copy);
        }
        var clone = new SkBuff(copy)
        {
            Netns = skb.Netns, Dev = skb.Dev, Engine = skb.Engine, TimestampNs = skb.TimestampNs, Protocol = skb.Protocol, NetworkHeader = 0,
            Mark = skb.Mark, Priority = skb.Priority, Duplicate = true,
            // nf_reset_ct + nf_ct_set(IP_CT_UNTRACKED): not counted towards the original's connection
            Ct = new CtLookup(null, CtState.Untracked, CtDirection.Original, $"untracked: a copy {fn} sends"),
        };
        string ttl = decrement ? $", {(v6 ? "hop limit" : "TTL")} one less ({(v6 ? copy[7] : copy[8])})" : "";
        skb.Engine.EmitCopy(t, PacketCopy.Of(clone, fn, $"{dup}: a copy{(v6 ? "" : " with DF set")}{ttl}, untracked, routed to {gw}{(dup.Device is null ? "" : $" out of {dup.Device}")} and sent with {(v6 ? "ip6_local_out" : "ip_local_out")}; the original goes on",
            (s, tb) => Output(s, tb, gw, dup.Device), synchronous: true));
    }

    /// <summary>nf_dup_ipv4_route / nf_dup_ipv6_route, then ip_local_out: OUTPUT, POSTROUTING, the neighbour of the next hop.</summary>
    private static void Output(SkBuff skb, TraceBuilder t, IpAddr gw, string? oif)
    {
        var ns = skb.Netns;
        bool v6 = gw.IsV6;
        string fn = v6 ? "ip6_route_output" : "ip_route_output_key";
        var res = ns.Fib.Lookup(gw, null, "lo", oif, skb.Mark, nexthopOif: oif);
        t.Route = res.Route?.ToString();
        Topology.NetDevice? dev = null;
        IpAddr nextHop = gw;
        if (res.Found && res.Route!.Type is Topology.RouteType.Unicast)
        {
            dev = res.Route.Device is { } d ? ns.Device(d) : null;
            nextHop = res.Route.Gateway ?? gw;
            t.Stage(skb, "RouteOutput", fn, Verdict.Pass, $"to {gw}{(oif is null ? "" : $" out of {oif}")}: route {res.Route}; next hop {nextHop} (FLOWI_FLAG_KNOWN_NH)");
        }
        else if (oif is not null && !res.Found && ns.Device(oif) is { } forced)
        {
            // ip_route_output_key_hash_rcu: no route with the oif given, "assume that the destination is on link"
            dev = forced;
            t.Route = $"{gw} dev {oif} (assumed on link)";
            t.Stage(skb, "RouteOutput", fn, Verdict.Pass, $"no route to {gw} out of {oif}: taken as on link there (the kernel assumes so when the output device is given)");
        }
        if (dev is null || !dev.IsUp)
        {
            // the route lookup failed: the copy is freed (kfree_skb), the original is not concerned
            t.Drop(skb, "RouteOutput", fn, "NOT_SPECIFIED", res.Route is null ? $"no route to {gw}: the copy is freed" : $"route {res.Route} to {gw}: no usable device, the copy is freed");
            return;
        }
        skb.Dev = dev;
        if (!NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.LocalOut, null, dev)) return;
        if (!NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.PostRouting, null, dev)) return;
        int length = skb.Length - skb.NetworkHeader;
        if (length > dev.Mtu)
        {
            t.Unsupported(skb, $"the copy ({length} bytes) is larger than {dev.Name}'s MTU {dev.Mtu}: its fragmentation or packet too big is not modelled");
            return;
        }
        t.Stage(skb, v6 ? "Ip6FinishOutput" : "IpFinishOutput", v6 ? "ip6_finish_output" : "ip_finish_output", Verdict.Pass, $"{length} bytes fit MTU {dev.Mtu}");
        DevQueueXmit.NeighOutput(skb, t, nextHop, Fate.Transmitted, $"{(v6 ? "ip6_finish_output2" : "ip_finish_output2")} to next hop {nextHop}");
    }
}
