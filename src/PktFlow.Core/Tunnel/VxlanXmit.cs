using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Tunnel;

/// <summary>
/// VXLAN transmit (drivers/net/vxlan/vxlan_core.c): vxlan_xmit is the device's ndo_start_xmit, so the
/// inner frame has passed the device's taps and tc egress. The FDB gives the remotes of the destination
/// MAC (else of the all-zeros default entry: broadcast and unknown unicast go to each of its remotes,
/// clones to the second and later ones first, the frame itself to the first). vxlan_xmit_one puts on
/// the VXLAN, UDP and outer IPv4 headers and sends the result with udp_tunnel_xmit_skb -> iptunnel_xmit
/// (skb_scrub_packet: no conntrack) -> ip_local_out: the host's LOCAL_OUT and POST_ROUTING hooks,
/// the underlay route and neighbour, as for any packet the host sends. An IPv6 remote takes the same
/// steps with udp_tunnel6_xmit_skb -> ip6tunnel_xmit -> ip6_local_out and an outer IPv6 header.
/// </summary>
public static class VxlanXmit
{
    [KernelSymbol("vxlan_xmit", "drivers/net/vxlan/vxlan_core.c")]
    public static void Xmit(SkBuff skb, TraceBuilder t, Fate fate)
    {
        var dev = skb.Dev;
        if (skb.MacHeader < 0 || skb.Length - skb.MacHeader < EthernetFrame.MinHeaderLength)
        {
            t.Unsupported(skb, $"the packet has no Ethernet header to send on {dev.Name}");
            return;
        }
        var dst = MacAddress.Read(skb.Data[skb.MacHeader..]);
        string which;
        var f = VxlanFdb.Find(skb, dev, dst);
        if (f is not null) which = $"fdb entry {dst}{(f.Value.Learned ? " (learned)" : "")}";
        else
        {
            f = VxlanFdb.Find(skb, dev, MacAddress.Zero);
            which = $"no entry for {dst}: the default entry 00:00:00:00:00:00";
        }
        if (f is not { } found)
        {
            t.Drop(skb, "VxlanXmit", "vxlan_xmit", "VXLAN_NO_REMOTE", $"{dev.Name}: no fdb entry for {dst} and no default (all-zeros) entry: tx_dropped");
            return;
        }
        var remotes = found.Remotes;
        // the walk follows the remote whose datagram the capture showed (Observe mode), else the first
        int follow = 0;
        for (int i = 0; i < remotes.Count; i++)
            if (remotes[i].Ip == skb.SeenVxlanRemote) follow = i;
        t.Stage(skb, "VxlanXmit", "vxlan_xmit", Verdict.Pass,
            $"{dev.Name}: {which} -> {string.Join(", ", remotes)}{(remotes.Count > 1 ? $" (clones to {string.Join(", ", remotes.Skip(1))} first, then the frame to {remotes[0]}; the model follows {remotes[follow]})" : "")}");
        for (int i = 0; i < remotes.Count; i++)
        {
            if (i == follow) continue;
            var remote = remotes[i];
            var clone = skb.Clone();
            skb.Engine.EmitCopy(t, PacketCopy.Of(clone, "vxlan_xmit", $"{dev.Name}: a clone of the frame to {dst} for remote {remote}",
                (s, ct) => XmitOne(s, ct, remote, Fate.Transmitted), synchronous: true));
        }
        XmitOne(skb, t, remotes[follow], fate);
    }

    [KernelSymbol("vxlan_xmit_one", "drivers/net/vxlan/vxlan_core.c")]
    private static void XmitOne(SkBuff skb, TraceBuilder t, VxlanFdb.Rdst rdst, Fate fate)
    {
        var remote = rdst.Ip;
        var ns = skb.Netns;
        var dev = skb.Dev;
        var p = dev.Vxlan!;
        if (remote.IsZero || remote.IsV6 && remote.IsLinkLocal)
        {
            t.Unsupported(skb, $"{dev.Name}: remote {remote}: {(remote.IsZero ? "an unspecified remote" : "a link-local underlay address")} is not modelled");
            return;
        }
        if (VxlanRcv.IsV6(p) != remote.IsV6)
        {
            t.Unsupported(skb, $"{dev.Name}: remote {remote} is not of the family of the device's socket (IPv{(VxlanRcv.IsV6(p) ? 6 : 4)}): vxlan_xmit_one without that socket is not modelled");
            return;
        }
        var inner = skb.Data[skb.MacHeader..];
        NetDevice? lower;
        IpAddr saddr;
        string? outDev;
        if (remote.IsMulticast)
        {
            // a group (`group ADDR dev DEV`, or an fdb entry's multicast dst): the lookup bound to the remote's
            // device finds no route for the group and takes it as on link there (ip_route_output_key_hash_rcu,
            // ip6_route_output's ff00::/8); the source is that device's address (inet_select_addr, ipv6_dev_get_saddr)
            if (rdst.Via is not { } via || ns.Device(via) is not { } viaDev)
            {
                t.Unsupported(skb, $"{dev.Name}: the group {remote} without a device to send it on (no `dev` / `via`): the multicast route lookup is not modelled");
                return;
            }
            if ((p.Local ?? GroupSource(ns, viaDev, remote)) is not { } gs)
            {
                t.Drop(skb, "VxlanXmitOne", "vxlan_xmit_one", "IP_OUTNOROUTES", $"{dev.Name}: {via} has no address to send to the group {remote} from (tx_carrier_errors)");
                return;
            }
            (lower, saddr, outDev) = (viaDev, gs, via);
        }
        else
        {
            // udp_tunnel_dst_lookup: the underlay route from the configured local address (or the one the route
            // prefers), bound to the remote's device (flowi4_oif = remote_ifindex) when it has one
            var src = p.Local ?? Routing.SourceAddress.Select(ns, remote);
            if (src is not { } us)
            {
                t.Drop(skb, "VxlanXmitOne", "vxlan_xmit_one", "IP_OUTNOROUTES", $"{dev.Name}: no route to the remote {remote} (tx_carrier_errors)");
                return;
            }
            saddr = us;
            var res = ns.Fib.Lookup(remote, saddr, "lo", rdst.Via, skb.Mark, nexthopOif: rdst.Via);
            if (!res.Found && rdst.Via is { } oif)
            {
                t.Unsupported(skb, $"{dev.Name}: no route to the remote {remote} out of {oif}: ip_route_output_key_hash_rcu then takes it as on link there, which is not modelled");
                return;
            }
            if (res.Found && res.Route is { } r && r.Device == dev.Name)
            {
                t.Drop(skb, "VxlanXmitOne", "vxlan_xmit_one", "IP_OUTNOROUTES", $"{dev.Name}: the route to {remote} ({r}) goes through {dev.Name} itself (ELOOP)");
                return;
            }
            if (res.Found && res.Route is { Type: RouteType.Local } lr)
            {
                EncapBypassIfLocal(skb, t, rdst, lr);
                return;
            }
            outDev = res.Found ? res.Route?.Device : null;
            lower = outDev is { } rd ? ns.Device(rd) : null;
        }
        // skb_tunnel_check_pmtu: an inner packet that does not fit the underlay's MTU less the headers
        int lowerMtu = lower?.Mtu ?? dev.Mtu;
        int overhead = remote.IsV6 ? VxlanHeader.Ipv6Overhead : VxlanHeader.Ipv4Overhead;
        if (inner.Length - EthernetFrame.MinHeaderLength > lowerMtu - overhead)
        {
            t.Unsupported(skb, $"{dev.Name}: {inner.Length - 14} bytes over an underlay MTU of {lowerMtu} less {overhead}: skb_tunnel_check_pmtu is not modelled "
                + "(it updates the inner route's PMTU; only for a bridge port's frame with DF set does the inner sender get an ICMP error, otherwise the outer packet is fragmented)");
            return;
        }
        byte tos = EcnEncapsulate(p.Tos == 1 ? InnerDsfield(inner) : p.Tos, InnerDsfield(inner));
        // no ttl configured: 1 for a group (measured on 6.18), else for an IPv6 remote the hop limit of the
        // route's device (ip6_dst_hoplimit), for an IPv4 one the default TTL
        byte ttl = p.Ttl != 0 ? p.Ttl : remote.IsMulticast ? (byte)1 : (byte)(remote.IsV6 ? GeneratedHeaders.HopLimit(ns, outDev ?? "all") : GeneratedHeaders.DefaultTtl(ns));
        var range = PortBounds(ns, p);
        int low = range.Low;
        ushort? seen = skb.Engine.VxlanPorts.For(range, inner);
        // a flow the capture has not shown: the port is unknown (never 0); the range's first port stands in, flagged as assumed
        uint label = p.FlowLabel; // `flowlabel N` (cfg.label); `inherit` is refused
        skb.Push(OuterHeaderLength(remote), skb.MacHeader); // `inner` is stale from here
        EncapsulateInPlace(skb.Buffer.AsSpan(0, skb.Length), saddr, remote, p.Vni, p.DstPort, seen ?? (ushort)low, tos, ttl, p.UdpCsum, label);
        skb.MacHeader = -1;
        skb.NetworkHeader = 0;
        skb.Protocol = remote.IsV6 ? EtherTypes.Ipv6 : EtherTypes.Ipv4;
        skb.PktType = PacketType.Host;
        skb.Ct = null; // iptunnel_xmit -> skb_scrub_packet
        skb.NfBridge = null;
        skb.Gso = null;
        t.Stage(skb, "VxlanXmitOne", "vxlan_xmit_one", Verdict.Pass,
            $"{dev.Name}: VNI {p.Vni}, {saddr} > {remote}:{p.DstPort}, "
            + (remote.IsV6 ? $"hop limit {ttl}, traffic class 0x{tos:x2}, flow label 0x{label:x5} ({(label != 0 ? "flowlabel" : "no flowlabel configured")}), UDP checksum {(p.UdpCsum ? "on" : "zero (udp6zerocsumtx)")}; "
                : $"ttl {ttl}, tos 0x{tos:x2}, DF clear, UDP checksum {(p.UdpCsum ? "on" : "off (noudpcsum)")}; ")
            + $"source port: udp_flow_src_port, the inner flow's hash (skb_get_hash, seeded at random each boot) scaled into {range.Low}-{range.High}: "
            + (seen is { } sp ? $"{sp}, as the capture showed for this flow" : $"unknown, not seen for this flow yet: written as {low}, the range's first port, an assumption (rules or conntrack entries that depend on it are judged on that assumed port)") + $"; sent with {(remote.IsV6 ? "ip6_local_out" : "ip_local_out")}");
        IPv4.IpLocalOut.Send(skb, t, saddr, remote, remote.IsMulticast ? lower! : p.Lower is { } l && ns.Device(l) is { } ld ? ld : dev, built: true, oif: rdst.Via);
    }

    /// <summary>
    /// encap_bypass_if_local (localbypass, the default; iproute2 6.1 cannot turn it off): the remote is one of
    /// the host's addresses, so no datagram is made. vxlan_find_vni looks for the device with the VNI on a
    /// socket of the port and family bound to the remote's device (remote_ifindex): the vxlan socket is bound
    /// to none, so a remote with a device (`dev`, `via`) finds nothing and the frame is dropped
    /// (VXLAN_VNI_NOT_FOUND, tx_errors); without one the device with the VNI, the sender itself as a rule,
    /// gets the frame from vxlan_encap_bypass (pkt_type HOST, vxlan_snoop at the loopback address, __netif_rx).
    /// </summary>
    [KernelSymbol("encap_bypass_if_local", "drivers/net/vxlan/vxlan_core.c")]
    private static void EncapBypassIfLocal(SkBuff skb, TraceBuilder t, VxlanFdb.Rdst rdst, Route local)
    {
        var (dev, ns, p) = (skb.Dev, skb.Netns, skb.Dev.Vxlan!);
        NetDevice? to = null;
        if (rdst.Via is null && VxlanRcv.SocketFor(ns, rdst.Ip, p.DstPort) is { } socket)
            foreach (var d in socket)
                if (d.IsUp && d.Vxlan!.Vni == p.Vni) { to = d; break; }
        if (to is null)
        {
            t.Drop(skb, "VxlanXmitOne", "encap_bypass_if_local", "VXLAN_VNI_NOT_FOUND", $"{dev.Name}: remote {rdst.Ip} is local ({local}): no vxlan device with VNI {p.Vni} on a port {p.DstPort} socket "
                + (rdst.Via is { } via ? $"bound to {via} (the remote's device; the vxlan socket is bound to none)" : "that is up") + " (tx_errors)");
            return;
        }
        VxlanEncapBypass(skb, t, to, rdst.Ip);
    }

    // the remote vxlan_snoop learns for a bypassed frame (the loopback of the remote's family)
    private static readonly IpAddr Loopback4 = IpAddr.V4(0x7f000001), Loopback6 = IpAddr.V6(0, 1);

    [KernelSymbol("vxlan_encap_bypass", "drivers/net/vxlan/vxlan_core.c")]
    private static void VxlanEncapBypass(SkBuff skb, TraceBuilder t, NetDevice to, IpAddr remote)
    {
        var from = skb.Dev;
        string learnt = "learning off";
        if (to.Vxlan!.Learning)
        {
            // vxlan_snoop at the loopback address; its verdict is not looked at here
            skb.Dev = to;
            VxlanFdb.Snoop(skb, to, MacAddress.Read(skb.Data[(skb.MacHeader + 6)..]), remote.IsV6 ? Loopback6 : Loopback4, out learnt);
            learnt = "vxlan_snoop: " + learnt;
        }
        t.Stage(skb, "VxlanEncapBypass", "vxlan_encap_bypass", Verdict.Pass, $"{from.Name}: remote {remote} is local: no datagram; the frame is counted sent and handed to __netif_rx on {to.Name} (pkt_type HOST); {learnt}");
        var rx = skb.Clone();
        rx.Dev = to;
        rx.PktType = PacketType.Host;
        rx.NetworkHeader = rx.MacHeader + EthernetFrame.MinHeaderLength;
        // the backlog receives it later: a capture on the device shows it arriving as a frame of its own
        skb.Engine.EmitCopy(t, PacketCopy.Of(rx, "vxlan_encap_bypass", $"{from.Name}: the frame received on {to.Name} (vxlan_encap_bypass)",
            static (s, ct) => Dev.NetifReceiveSkb.Receive(s, ct), synchronous: false, received: true));
        t.End(Fate.Transmitted, "vxlan_encap_bypass");
    }

    /// <summary>
    /// The source of a datagram to a group sent out of <paramref name="dev"/>: IPv4 inet_select_addr (the
    /// device's first address), IPv6 ipv6_dev_get_saddr's scope rule (a link-local address only for a
    /// link-local group, else a wider one first).
    /// </summary>
    private static IpAddr? GroupSource(NetNamespace ns, NetDevice dev, IpAddr group)
    {
        IpAddr? any = null;
        foreach (var a in ns.AddressesOf(dev.Name))
        {
            if (a.Address.IsV6 != group.IsV6) continue;
            if (!group.IsV6 || a.Address.IsLinkLocal == ((group.Hi >> 48 & 0xF) <= 2)) return a.Address;
            any ??= a.Address;
        }
        return any;
    }

    /// <summary>
    /// The ports udp_flow_src_port can give: MIN + hash * (MAX - MIN) / 2^32 from the device's `port MIN MAX`,
    /// else from the namespace's ip_local_port_range (inet_get_local_port_range): MAX itself never
    /// (32768-60998 by default).
    /// </summary>
    public static (int Low, int High) PortBounds(NetNamespace ns, VxlanParameters p)
    {
        if (p.PortMin < p.PortMax) return (p.PortMin, p.PortMax - 1);
        // read as spans: this runs for every packet sent
        var range = (ns.Sysctls.Get("net.ipv4.ip_local_port_range") ?? "").AsSpan().Trim();
        int gap = range.IndexOfAny(' ', '\t');
        return gap > 0 && int.TryParse(range[..gap], out var lo) && int.TryParse(range[gap..].Trim(), out var hi) && lo < hi ? (lo, hi - 1) : (32768, 60998);
    }

    /// <summary>
    /// The outer packet vxlan_build_skb and udp_tunnel_xmit_skb make: IPv4 (no DF, id 0: the kernel's
    /// comes from ip_idents, seeded per boot), UDP to <paramref name="dstPort"/>, the VXLAN header with
    /// the I flag and <paramref name="vni"/>, then the inner frame. The UDP checksum is filled in unless
    /// the device sends zero checksums. For IPv6 addresses udp_tunnel6_xmit_skb's header instead:
    /// <paramref name="tos"/> as the traffic class, <paramref name="ttl"/> as the hop limit, the flow
    /// label vxlan->cfg.label (0 unless `flowlabel` is configured: measured on 6.18, it is not hashed).
    /// </summary>
    public static byte[] Encapsulate(IpAddr src, IpAddr dst, uint vni, ushort dstPort, ushort srcPort, byte tos, byte ttl, bool udpCsum, ReadOnlySpan<byte> innerFrame, uint flowLabel = 0)
    {
        var packet = new byte[OuterHeaderLength(dst) + innerFrame.Length];
        innerFrame.CopyTo(packet.AsSpan(OuterHeaderLength(dst)));
        EncapsulateInPlace(packet, src, dst, vni, dstPort, srcPort, tos, ttl, udpCsum, flowLabel);
        return packet;
    }

    /// <summary>The outer IP, UDP and VXLAN headers: 36 bytes over IPv4, 56 over IPv6.</summary>
    public static int OuterHeaderLength(IpAddr dst) => (dst.IsV6 ? 40 : 20) + UdpHeader.HeaderLength + VxlanHeader.HeaderLength;

    /// <summary>
    /// <see cref="Encapsulate"/> over <paramref name="packet"/> whose inner frame already follows
    /// <see cref="OuterHeaderLength"/> bytes of room (skb_push: no copy of the inner frame).
    /// </summary>
    public static void EncapsulateInPlace(Span<byte> packet, IpAddr src, IpAddr dst, uint vni, ushort dstPort, ushort srcPort, byte tos, byte ttl, bool udpCsum, uint flowLabel = 0)
    {
        int ipLength = dst.IsV6 ? 40 : 20;
        var udp = packet[ipLength..];
        BinaryPrimitives.WriteUInt16BigEndian(udp, srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], dstPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)udp.Length);
        udp[6] = udp[7] = 0;
        VxlanHeader.Write(udp[UdpHeader.HeaderLength..], vni);
        if (udpCsum)
        {
            GeneratedHeaders.TransportChecksum(src, dst, IpProtocol.Udp, udp, 6);
            if (udp[6] == 0 && udp[7] == 0) udp[6] = udp[7] = 0xFF; // a computed 0 is sent as 0xffff (RFC 768)
        }
        if (!dst.IsV6)
        {
            GeneratedHeaders.WriteIpv4(packet, src, dst, IpProtocol.Udp, tos, ttl, dontFragment: false);
            return;
        }
        GeneratedHeaders.WriteIpv6(packet, src, dst, IpProtocol.Udp, ttl);
        // ip6_flow_hdr: version 6, the traffic class, then the 20-bit flow label
        BinaryPrimitives.WriteUInt32BigEndian(packet, 0x6000_0000u | (uint)tos << 20 | flowLabel & 0xF_FFFF);
    }

    /// <summary>ip_tunnel_get_dsfield: the inner IPv4 TOS or IPv6 traffic class, 0 for anything else.</summary>
    private static byte InnerDsfield(ReadOnlySpan<byte> innerFrame)
    {
        if (innerFrame.Length < 16) return 0;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(innerFrame[12..]);
        if (type == EtherTypes.Ipv4 && innerFrame[14] >> 4 == 4) return innerFrame[15];
        if (type == EtherTypes.Ipv6 && innerFrame[14] >> 4 == 6) return (byte)((innerFrame[14] << 4) | (innerFrame[15] >> 4));
        return 0;
    }

    /// <summary>INET_ECN_encapsulate: the outer ECN field copies the inner's, CE becoming ECT(0).</summary>
    private static byte EcnEncapsulate(byte outer, byte inner)
    {
        int ecn = inner & 3;
        return (byte)((outer & ~3) | (ecn == 3 ? 2 : ecn));
    }
}
