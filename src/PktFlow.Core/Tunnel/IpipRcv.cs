using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Tunnel;

/// <summary>
/// IP-in-IP receive (net/ipv4/tunnel4.c, ipip.c, ip_tunnel.c): a locally delivered packet of protocol 4
/// goes to tunnel4_rcv, whose ipip handler looks up the tunnel by the outer addresses; the inner packet
/// is received again on the tunnel device (ip_rcv with the tunnel as iif). No tunnel: ICMP port
/// unreachable and the packet is freed.
/// </summary>
public static class IpipRcv
{
    /// <summary>Bounds tunnels inside tunnels (the kernel has no limit but the packet's own length).</summary>
    private const int MaxNesting = 8;

    [KernelSymbol("tunnel4_rcv", "net/ipv4/tunnel4.c")]
    public static void Tunnel4Rcv(SkBuff skb, TraceBuilder t, IpAddr saddr, IpAddr daddr, ReadOnlySpan<byte> inner)
    {
        if (inner.Length < Ipv4Header.MinHeaderLength)
        {
            // pskb_may_pull(skb, sizeof(struct iphdr)) failed.
            t.Drop(skb, "Tunnel4Rcv", "tunnel4_rcv", "NOT_SPECIFIED", $"IP-in-IP payload of {inner.Length} bytes holds no inner IPv4 header");
            return;
        }
        if (IpipTunnelRcv(skb, t, saddr, daddr, inner)) return;
        // No handler took it (ipip_rcv returned -1): tunnel4_rcv answers ICMP port unreachable and frees it.
        t.Generate($"ICMP destination unreachable, port unreachable (code 3), to {saddr}");
        t.Drop(skb, "Tunnel4Rcv", "tunnel4_rcv", "NOT_SPECIFIED",
            $"no ipip tunnel up for {saddr} > {daddr} (and the fallback {IpTunnelParameters.FallbackName} is down): ICMP port unreachable sent to {saddr}");
    }

    /// <summary>ipip_tunnel_rcv: false when no tunnel matches (the packet is not consumed).</summary>
    [KernelSymbol("ipip_rcv", "net/ipv4/ipip.c")]
    private static bool IpipTunnelRcv(SkBuff skb, TraceBuilder t, IpAddr saddr, IpAddr daddr, ReadOnlySpan<byte> inner)
    {
        var tunnel = Lookup(skb.Netns, saddr, daddr, out var how);
        if (tunnel is null) return false;
        var p = tunnel.Tunnel!;
        if (p.Protocol != IpProtocol.IpIp && p.Protocol != 0)
        {
            t.Drop(skb, "IpipRcv", "ipip_rcv", "NOT_SPECIFIED", $"{tunnel.Name} ({how}) takes inner protocol {p.Protocol}, not IPIP (4)");
            return true;
        }
        t.Stage(skb, "IpipRcv", "ipip_rcv", Verdict.Pass, $"ip_tunnel_lookup: {tunnel.Name} ({how})");
        IpTunnelRcv(skb, t, tunnel, inner);
        return true;
    }

    /// <summary>
    /// ip_tunnel_lookup with ipip's TUNNEL_NO_KEY, remote = outer source, local = outer destination, in
    /// the kernel's order: local and remote both match; remote matches and local is any; local matches
    /// and remote is any; then the collect_md (`external`) tunnel; then the fallback tunl0. Only devices
    /// that are up count. Within a step the newest tunnel wins (hlist_add_head).
    /// </summary>
    [KernelSymbol("ip_tunnel_lookup", "net/ipv4/ip_tunnel.c")]
    public static NetDevice? Lookup(NetNamespace ns, IpAddr remote, IpAddr local, out string how)
    {
        var tunnels = ns.Devices.Where(d => d.Tunnel is not null && d.IsUp).Reverse().ToList();
        foreach (var d in tunnels)
            if (!d.Tunnel!.External && d.Tunnel.Local == local && d.Tunnel.Remote == remote) { how = $"local {local} remote {remote}"; return d; }
        foreach (var d in tunnels)
            if (!d.Tunnel!.External && d.Tunnel.Local is null && d.Tunnel.Remote == remote && d.Name != IpTunnelParameters.FallbackName) { how = $"remote {remote}, local any"; return d; }
        foreach (var d in tunnels)
            if (!d.Tunnel!.External && d.Tunnel.Remote is null && d.Tunnel.Local == local) { how = $"local {local}, remote any"; return d; }
        if (tunnels.FirstOrDefault(d => d.Tunnel!.External) is { } md) { how = "external (collect_md): takes what no other tunnel matches"; return md; }
        if (tunnels.FirstOrDefault(d => d.Name == IpTunnelParameters.FallbackName) is { } fb) { how = "the fallback tunnel, any/any"; return fb; }
        how = "";
        return null;
    }

    /// <summary>ip_tunnel_rcv: ECN decapsulation, skb_scrub_packet, then the inner packet is received on the tunnel device (gro_cells_receive).</summary>
    [KernelSymbol("ip_tunnel_rcv", "net/ipv4/ip_tunnel.c")]
    private static void IpTunnelRcv(SkBuff skb, TraceBuilder t, NetDevice tunnel, ReadOnlySpan<byte> inner)
    {
        if (!skb.Buffer.AsSpan(0, skb.Length).Overlaps(inner, out int innerOffset))
            throw new InvalidOperationException("the inner packet is not inside the skb (model bug)");
        byte outerTos = skb.Network[1];
        if (++skb.Hops > MaxNesting * 4)
        {
            t.Unsupported(skb, $"more than {MaxNesting} tunnels inside one another");
            return;
        }
        string ecn = "";
        if (inner[0] >> 4 == 4 && (outerTos & 3) == 3)
        {
            // INET_ECN_decapsulate: outer CE over a not-ECT inner packet is an error; over ECT the inner gets CE.
            if ((inner[1] & 3) == 0)
            {
                t.Drop(skb, "IpTunnelRcv", "ip_tunnel_rcv", "NOT_SPECIFIED", "outer ECN CE over a not-ECT inner packet (IP_ECN_decapsulate)");
                return;
            }
            Ipv4HeaderWriter.SetTos(skb.Buffer.AsSpan(innerOffset), (byte)(inner[1] | 3));
            ecn = "; outer CE copied to the inner header";
        }
        skb.MacHeader = -1;
        skb.NetworkHeader = innerOffset;
        skb.TransportHeader = -1;
        skb.Protocol = inner[0] >> 4 == 6 ? EtherTypes.Ipv6 : EtherTypes.Ipv4;
        skb.PktType = PacketType.Host; // skb_scrub_packet
        skb.Ct = null;
        skb.NfBridge = null;
        skb.Dev = tunnel;
        t.Stage(skb, "IpTunnelRcv", "ip_tunnel_rcv", Verdict.Pass, $"decapsulated: the inner packet is received on {tunnel.Name}{ecn}");
        NetifReceiveSkb.Receive(skb, t);
    }
}
