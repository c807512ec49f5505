using PktFlow.Netfilter;
using PktFlow.Datapath;
using PktFlow.IPv4;
using PktFlow.Routing;
using PktFlow.Topology;
using PktFlow.Socket;
using PktFlow.Wire;

namespace PktFlow.IPv6;

/// <summary>net/ipv6/ip6_input.c and the input route lookup of net/ipv6/route.c.</summary>
public static class Ip6Input
{
    [KernelSymbol("ipv6_rcv", "net/ipv6/ip6_input.c")]
    [KernelSymbol("ip6_rcv_core", "net/ipv6/ip6_input.c")]
    public static void Ipv6Rcv(SkBuff skb, TraceBuilder t)
    {
        skb.FragInfo = null; // ip6_rcv_core clears IP6CB(skb)
        const string S = "Ipv6Rcv", F = "ip6_rcv_core";
        if (skb.PktType == PacketType.OtherHost) { t.Drop(skb, S, F, "OTHERHOST", "packet is not for this host (pkt_type OTHERHOST)"); return; }
        if (skb.Netns.Sysctls.Ipv6Disabled(skb.Dev.Name)) { t.Drop(skb, S, F, "IPV6DISABLED", $"IPv6 is disabled on {skb.Dev.Name}"); return; }
        var data = skb.Network;
        if (!Ipv6Header.TryParse(data, out var ip6, out var error)) { t.Drop(skb, S, F, "IP_INHDR", error ?? "IPv6 header cut short"); return; }
        if (ip6.HeaderProblem() is { } p) { t.Drop(skb, S, F, "UNHANDLED_PROTO", p); return; }
        var src = ip6.Source;
        var dst = ip6.Destination;
        if ((src.IsLoopback || dst.IsLoopback) && !skb.Dev.IsLoopback) { t.Drop(skb, S, F, "IP_INHDR", "::1 as source or destination arriving on a real device (RFC 4291 2.5.3)"); return; }
        if (dst.IsMulticast && McScope(dst) == 1 && !skb.Dev.IsLoopback) { t.Drop(skb, S, F, "IP_INHDR", $"interface-local multicast {dst} from another node (RFC 4291 errata 3480)"); return; }
        if (dst.IsMulticast && McScope(dst) == 0) { t.Drop(skb, S, F, "IP_INHDR", $"multicast {dst} with reserved scope 0 (RFC 4291 2.7)"); return; }
        if (src.IsMulticast) { t.Drop(skb, S, F, "IP_INHDR", $"multicast source {src} (RFC 4291 2.7)"); return; }
        if (!ip6.IsJumbo)
        {
            int total = Ipv6Header.HeaderLength + ip6.PayloadLength;
            if (total > data.Length) { t.Drop(skb, S, F, "PKT_TOO_SMALL", $"IPv6 payload length {ip6.PayloadLength} > {data.Length - Ipv6Header.HeaderLength} bytes present"); return; }
            skb.TrimNetwork(total);
        }
        else t.Note("IPv6 jumbo payload (payload length 0 with hop-by-hop): the frame's length is used");
        Ipv6ExtensionHeaders.Walk(ip6.NextHeader, skb.Network[Ipv6Header.HeaderLength..], out var chain);
        if (chain.HasHopByHop && chain.Problem is { } hbh && hbh.Contains("hop-by-hop", StringComparison.OrdinalIgnoreCase))
        {
            t.Drop(skb, S, F, "IP_INHDR", hbh);
            return;
        }
        string gso = Offload.GsoReceive.Note(skb);
        t.Stage(skb, S, F, Verdict.Pass, $"IPv6 {src} > {dst}, hop limit {ip6.HopLimit}{(chain.HeaderCount > 0 ? $", {chain.HeaderCount} extension header(s)" : "")}{gso}");
        // br_netfilter's ip_sabotage_in (NF_IP_PRI_FIRST) ends PRE_ROUTING for a frame that already passed it inside the bridge.
        if (!Bridge.BrNetfilter.IpSabotageIn(skb, t) && !NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.PreRouting, skb.Dev, null)) return;
        Ipv6Header.TryParse(skb.Network, out ip6, out _); // NAT may have rewritten it
        Ip6RcvFinish(skb, t, ip6.Source, ip6.Destination);
    }

    private static int McScope(IpAddr a) => (int)((a.Hi >> 48) & 0xF);

    [KernelSymbol("ip6_rcv_finish", "net/ipv6/ip6_input.c")]
    [KernelSymbol("ip6_route_input", "net/ipv6/route.c")]
    private static void Ip6RcvFinish(SkBuff skb, TraceBuilder t, IpAddr src, IpAddr dst)
    {
        var ns = skb.Netns;
        if (dst.IsMulticast)
        {
            t.Route = $"multicast ff00::/8 dev {skb.Dev.Name} table local";
            Ip6McInput(skb, t, dst);
            return;
        }
        var res = ns.Fib.Lookup(dst, src, skb.Dev.Name, null, skb.Mark);
        t.Route = res.Route?.ToString();
        if (!res.Found)
        {
            // ip6_pkt_discard / ip6_pkt_prohibit / dst_discard: the reject routes' dst.input.
            t.Stage(skb, "Ip6RouteInput", "ip6_route_input", Verdict.Pass, res.Route is null ? $"no route to {dst}" : $"route {res.Route}");
            switch (res.Error)
            {
                case FibError.Blackhole:
                    t.Drop(skb, "DstDiscard", "dst_discard", "NOT_SPECIFIED", "blackhole route: dropped silently");
                    break;
                case FibError.Prohibited:
                    Icmp6Send.Error(skb, t, Icmp6Send.DestUnreach, 1, 0, $"ICMPv6 destination unreachable, administratively prohibited, to {src}");
                    t.Drop(skb, "Ip6PktProhibit", "ip6_pkt_prohibit", "IP_INNOROUTES", $"prohibit route: ICMPv6 administratively prohibited sent to {src}");
                    break;
                default:
                    Icmp6Send.Error(skb, t, Icmp6Send.DestUnreach, 0, 0, $"ICMPv6 destination unreachable, no route, to {src}");
                    t.Drop(skb, "Ip6PktDiscard", "ip6_pkt_discard", "IP_INNOROUTES",
                        $"{(res.Route is null ? "no route" : "unreachable route")}: ICMPv6 no route to destination sent to {src}");
                    break;
            }
            return;
        }
        var r = res.Route!;
        if (r.Type is RouteType.Local or RouteType.Anycast)
        {
            t.Stage(skb, "Ip6RouteInput", "ip6_route_input", Verdict.Pass, $"{(r.Type == RouteType.Anycast ? "subnet-router anycast" : "local")} route {r}");
            Ip6LocalDeliver(skb, t, src, dst, broadcast: false);
            return;
        }
        t.Stage(skb, "Ip6RouteInput", "ip6_route_input", Verdict.Pass, $"forward via {r}");
        RouteNexthop? nexthop = null;
        if (r.Nexthops is { Count: > 1 })
        {
            var choice = Routing.CaptureHashedNexthops.Apply(Routing.Rt6Multipath.Select(ns, r, skb.Network), skb, t);
            t.Stage(skb, "Fib6SelectPath", "fib6_select_path", Verdict.Pass, choice.Detail);
            nexthop = choice.Nexthop;
        }
        Ip6Forward.Forward(skb, t, r, src, dst, nexthop);
    }

    /// <summary>ip6_mc_input: deliver only groups the device has joined (ipv6_chk_mcast_addr).</summary>
    [KernelSymbol("ip6_mc_input", "net/ipv6/ip6_input.c")]
    private static void Ip6McInput(SkBuff skb, TraceBuilder t, IpAddr dst)
    {
        var ns = skb.Netns;
        var dev = skb.Dev.Name;
        string? why = Joined(ns, dev, dst);
        if (why is null)
        {
            t.Drop(skb, "Ip6McInput", "ip6_mc_input", "NOT_SPECIFIED", $"{dev} has not joined {dst} (no socket in the lab joins it; multicast routing is off)");
            return;
        }
        t.Stage(skb, "Ip6McInput", "ip6_mc_input", Verdict.Pass, $"{dst}: {why}");
        Ipv6Header.TryParse(skb.Network, out var ip6, out _);
        Ip6LocalDeliver(skb, t, ip6.Source, dst, broadcast: true);
    }

    /// <summary>The groups every IPv6 device joins by itself: all-nodes, solicited-node of each address, all-routers when forwarding.</summary>
    private static string? Joined(NetNamespace ns, string dev, IpAddr g)
    {
        const ulong ff02 = 0xFF02UL << 48;
        if (g.Hi == ff02 && g.Lo == 1) return "all-nodes group, joined by every device";
        if (g.Hi == (0xFF01UL << 48) && g.Lo == 1) return "interface-local all-nodes";
        if (ns.Sysctls.Ipv6Forwarding && (g.Hi == ff02 || g.Hi == 0xFF05UL << 48) && g.Lo == 2) return "all-routers group (forwarding is on)";
        if (g.Hi == ff02 && (g.Lo >> 24) == 0x1_FF)
            foreach (var a in ns.AddressesOf(dev))
                if (a.Family == IpFamily.V6 && (a.Address.Lo & 0xFFFFFF) == (g.Lo & 0xFFFFFF))
                    return $"solicited-node group of {a.Address}";
        if (Tunnel.VxlanRcv.JoinedBy(ns, dev, g) is { } vx) return $"joined by {vx} (vxlan_igmp_join)";
        return null;
    }

    /// <summary>
    /// ipv6_frag_rcv: queue the fragment by (source, destination, id); the one that completes the
    /// datagram carries on as the whole packet, its fragment header removed (ip6_frag_reasm).
    /// </summary>
    [KernelSymbol("ipv6_frag_rcv", "net/ipv6/reassembly.c")]
    /// <param name="conntrack">nf_ct_frag6_gather: the datagram keeps frag_max_size for ip6_fragment.</param>
    internal static bool Ipv6FragRcv(SkBuff skb, TraceBuilder t, IpAddr src, IpAddr dst, bool conntrack = false)
    {
        var net = skb.Network;
        var after = net[Ipv6Header.HeaderLength..];
        byte next = net[6];
        int off = 0, nextFieldAt = 6;
        while (next is IpProtocol.HopByHop or IpProtocol.Routing or IpProtocol.DestOpts && off + 2 <= after.Length)
        {
            nextFieldAt = Ipv6Header.HeaderLength + off;
            next = after[off];
            off += (after[off + 1] + 1) * 8;
        }
        if (next != IpProtocol.Fragment || off + 8 > after.Length)
        {
            t.Drop(skb, "Ipv6FragRcv", "ipv6_frag_rcv", "IP_INHDR", "fragment header cut short");
            return false;
        }
        byte upper = after[off];
        int field = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(after[(off + 2)..]);
        uint id = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(after[(off + 4)..]);
        // The unfragmentable part, with the header before the fragment header now naming the upper protocol.
        var header = net[..(Ipv6Header.HeaderLength + off)].ToArray();
        header[nextFieldAt] = upper;
        var whole = skb.State.Fragments.Add(src, dst, IpProtocol.Fragment, id, field & 0xFFF8, (field & 1) != 0, false,
            header, after[(off + 8)..], skb.TimestampNs, out var detail, out var info);
        if (whole is null && IPv4.IpInput.SeenLeavingAsFragment(skb, t, "Ipv6FragRcv", "ipv6_frag_rcv", detail)) return true;
        if (whole is null)
        {
            t.Stage(skb, "Ipv6FragRcv", "ipv6_frag_rcv", Verdict.Stolen, detail);
            t.End(Fate.Consumed, "ipv6_frag_rcv (held for reassembly)");
            return false;
        }
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(whole.AsSpan(4), (ushort)(whole.Length - Ipv6Header.HeaderLength));
        skb.ReplaceNetwork(whole);
        // nf_ct_frag6_reasm: frag_max_size = IPv6 header + the largest payload_len, fragment header included.
        if (conntrack && info is not null) skb.FragInfo = info with { MaxSize = info.MaxSize + 8 };
        t.Stage(skb, "Ipv6FragRcv", "ipv6_frag_rcv", Verdict.Pass, detail);
        return true;
    }

    [KernelSymbol("ip6_input", "net/ipv6/ip6_input.c")]
    [KernelSymbol("ip6_input_finish", "net/ipv6/ip6_input.c")]
    private static void Ip6LocalDeliver(SkBuff skb, TraceBuilder t, IpAddr src, IpAddr dst, bool broadcast)
    {
        if (!NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.LocalIn, skb.Dev, null)) return;
        Ipv6Header.TryParse(skb.Network, out var ip6, out _);
        var after = skb.Network[Ipv6Header.HeaderLength..];
        Ipv6ExtensionHeaders.Walk(ip6.NextHeader, after, out var chain);
        if (chain.Problem is { } problem)
        {
            t.Generate($"ICMPv6 parameter problem to {src}");
            t.Drop(skb, "Ip6InputFinish", "ip6_protocol_deliver_rcu", "IP_INHDR", problem);
            return;
        }
        if (chain.HasFragment)
        {
            if (!Ipv6FragRcv(skb, t, src, dst)) return;
            Ipv6Header.TryParse(skb.Network, out ip6, out _);
            after = skb.Network[Ipv6Header.HeaderLength..];
            Ipv6ExtensionHeaders.Walk(ip6.NextHeader, after, out chain);
        }
        if (chain.HasRouting && chain.SegmentsLeft > 0)
        {
            t.Unsupported(skb, $"IPv6 routing header type {chain.RoutingType} with {chain.SegmentsLeft} segments left: ipv6_rthdr_rcv is not modelled yet");
            return;
        }
        LocalDeliver.Transport(skb, t, chain.UpperProtocol, src, dst, after[chain.UpperOffset..], broadcast);
    }
}
