using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Tunnel;

/// <summary>
/// VXLAN receive (drivers/net/vxlan/vxlan_core.c). Each vxlan device that is up holds a UDP socket on
/// its port (vxlan_open -> vxlan_sock_add, bound to the wildcard address whatever `local` says; devices
/// with the same port share it). A datagram to that port has been through the whole local input path
/// of the outer packet first: PRE_ROUTING, routing, LOCAL_IN (where conntrack confirms the outer UDP
/// entry, which stays as any UDP flow's) and udp_rcv's checksum check; udp_queue_rcv_one_skb then gives
/// it to the socket's encap_rcv, vxlan_rcv. The inner frame is scrubbed (__iptunnel_pull_header ->
/// skb_scrub_packet: no conntrack, a new nf_trace) and received on the vxlan device by gro_cells_receive,
/// from eth_type_trans on: its taps, tc, netdev ingress, a bridge's rx_handler or ip_rcv with iif the device.
/// </summary>
public static class VxlanRcv
{
    /// <summary>Bounds tunnels inside tunnels (the kernel has no limit but the packet's own length).</summary>
    private const int MaxNesting = 8;

    /// <summary>
    /// The vxlan devices whose socket takes a datagram to <paramref name="dport"/> (vxlan_find_sock: one
    /// socket per port and family, opened by any device that is up), or null when no such socket exists.
    /// </summary>
    public static IReadOnlyList<NetDevice>? SocketFor(NetNamespace ns, IpAddr daddr, ushort dport)
    {
        List<NetDevice>? devices = null;
        foreach (var d in ns.Devices)
            if (d.Vxlan is { } p && p.DstPort == dport && IsV6(p) == daddr.IsV6) (devices ??= new()).Add(d);
        if (devices is null) return null;
        foreach (var d in devices) if (d.IsUp) return devices;
        return null;
    }

    /// <summary>
    /// vxlan_igmp_join: a vxlan device that is up with a group has joined it on its lower device
    /// (ip_mc_join_group / ipv6_sock_mc_join), so the device takes datagrams to the group
    /// (ip_check_mc_rcu, ipv6_chk_mcast_addr). The name of such a device, or null.
    /// </summary>
    [KernelSymbol("vxlan_igmp_join", "drivers/net/vxlan/vxlan_multicast.c")]
    public static string? JoinedBy(NetNamespace ns, string lowerDevice, IpAddr group)
    {
        foreach (var d in ns.Devices)
            if (d.IsUp && d.Vxlan is { Group: { } g, Lower: { } l } && g == group && l == lowerDevice) return d.Name;
        return null;
    }

    /// <summary>
    /// Whether the IPv6 socket of <paramref name="socket"/>'s devices takes a UDP checksum of 0 (`udp6zerocsumrx`:
    /// vxlan_socket_create clears use_udp6_rx_checksums, udp_set_no_check6_rx); devices share a socket only
    /// with the same receive flags (vxlan_find_sock), so the first one says.
    /// </summary>
    public static bool TakesZeroChecksum6(IReadOnlyList<NetDevice> socket) => socket[0].Vxlan!.UdpZeroCsum6Rx;

    /// <summary>The socket's family: IPv6 when the device's remote or local address is (VXLAN_F_IPV6).</summary>
    public static bool IsV6(VxlanParameters p) => p.Remote is { IsV6: true } || p.Local is { IsV6: true };

    [KernelSymbol("vxlan_rcv", "drivers/net/vxlan/vxlan_core.c")]
    public static void Rcv(SkBuff skb, TraceBuilder t, IReadOnlyList<NetDevice> socket, IpAddr saddr, ReadOnlySpan<byte> udpPayload)
    {
        if (!VxlanHeader.TryParse(udpPayload, out var vh))
        {
            Drop(skb, t, "PKT_TOO_SMALL", $"{udpPayload.Length} bytes after the UDP header: no room for a VXLAN header (pskb_may_pull)");
            return;
        }
        if (!vh.HasVni)
        {
            Drop(skb, t, "VXLAN_INVALID_HDR", $"VXLAN flags 0x{vh.FlagsWord >> 24:x2} without the I flag (VXLAN_HF_VNI)");
            return;
        }
        uint vni = vh.Vni;
        // vxlan_vs_find_vni: the device with the VNI among those on the socket; vxlan_stop took a device
        // that is down off it (vxlan_sock_release -> vxlan_vs_del_dev)
        NetDevice? dev = null;
        foreach (var d in socket)
            if (d.IsUp && d.Vxlan!.Vni == vni) { dev = d; break; }
        if (dev is null)
        {
            Drop(skb, t, "VXLAN_VNI_NOT_FOUND", $"no vxlan device that is up with VNI {vni} on port {socket[0].Vxlan!.DstPort} (devices: {string.Join(", ", socket.Select(d => $"{d.Name} VNI {d.Vxlan!.Vni}{(d.IsUp ? "" : " (down)")}"))})");
            return;
        }
        var inner = vh.Payload;
        if (inner.Length < EthernetFrame.MinHeaderLength)
        {
            // __iptunnel_pull_header: pskb_may_pull(hdr_len + ETH_HLEN) fails
            Drop(skb, t, "NOMEM", $"{dev.Name}: {inner.Length} bytes after the VXLAN header, less than an Ethernet header");
            return;
        }
        if (vh.ReservedBitsSet)
        {
            // no GBP / GPE / remote checksum offload configured: what is left unparsed makes it malformed
            Drop(skb, t, "VXLAN_INVALID_HDR", $"{dev.Name}: reserved VXLAN bits set (flags word 0x{vh.FlagsWord:x8}, last byte 0x{udpPayload[7]:x2}); rx_frame_errors");
            return;
        }
        var src = MacAddress.Read(inner[6..12]);
        if (src == dev.Mac)
        {
            Drop(skb, t, "LOCAL_MAC", $"{dev.Name}: the inner source {src} is the device's own address (a loop or a multicast echo)");
            return;
        }
        string learnt = "learning off (nolearning)";
        if (dev.Vxlan!.Learning)
        {
            if (VxlanFdb.Snoop(skb, dev, src, saddr, out learnt) is { } reason)
            {
                Drop(skb, t, reason, $"{dev.Name}: vxlan_snoop: {learnt}");
                return;
            }
            learnt = "vxlan_snoop: " + learnt;
        }
        // vxlan_ecn_decapsulate: the outer ECN bits, in the IPv4 TOS or the IPv6 traffic class (bits 4-5 of byte 1)
        var outer = skb.Network;
        int outerEcn = outer[0] >> 4 == 6 ? (outer[1] >> 4) & 3 : outer[1] & 3;
        if (outerEcn == 3)
        {
            t.Unsupported(skb, $"{dev.Name}: outer ECN CE: vxlan_ecn_decapsulate is not modelled");
            return;
        }
        if (++skb.Hops > MaxNesting * 4)
        {
            t.Unsupported(skb, $"more than {MaxNesting} tunnels inside one another");
            return;
        }
        t.Stage(skb, "VxlanRcv", "vxlan_rcv", Verdict.Pass, $"VNI {vni} -> {dev.Name}; {learnt}; the inner frame ({inner.Length} bytes) is received on {dev.Name}");
        skb.ReplaceFrame(inner); // a move to the buffer's start (CopyTo copes with the overlap)
        skb.MacHeader = 0;
        skb.NetworkHeader = EthernetFrame.MinHeaderLength;
        skb.Ct = null; // skb_scrub_packet: the inner packet gets its own conntrack entry
        skb.NfBridge = null;
        skb.Sk = null;
        skb.Dev = dev;
        NetifReceiveSkb.EthTypeTrans(skb, t);
    }

    public const string LcoNote = "checksum computed by local checksum offload over an inner checksum left for offload (CHECKSUM_PARTIAL, captured on the sender): treated as verified";

    /// <summary>
    /// Whether a datagram for a vxlan socket that arrived over a veth or loopback (directly or through a
    /// bridge with a veth port) has a checksum that is right once the inner TCP or UDP checksum, left as
    /// the pseudo-header sum for offload (CHECKSUM_PARTIAL, as a capture on the sender shows it), is filled
    /// in: udp_set_csum computes the outer checksum by local checksum offload (LCO,
    /// Documentation/networking/checksum-offloads.rst) as if the inner one were complete, and a receiver
    /// on a veth gets the skb with the offload still pending, so the kernel does not check it. A physical
    /// NIC hands over a finished checksum, and other ports' datagrams are not a vxlan device's.
    /// </summary>
    public static bool LocalChecksumOffload(SkBuff skb, IpAddr saddr, IpAddr daddr, ReadOnlySpan<byte> udpSegment)
    {
        if (udpSegment.Length < UdpHeader.HeaderLength || !OverVeth(skb.Netns, skb.Dev)
            || SocketFor(skb.Netns, daddr, System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(udpSegment[2..])) is null) return false;
        const int eth = UdpHeader.HeaderLength + VxlanHeader.HeaderLength;
        if (udpSegment.Length < eth + EthernetFrame.MinHeaderLength + 20 || udpSegment[eth + 12] != 0x08 || udpSegment[eth + 13] != 0x00) return false;
        var copy = udpSegment.ToArray();
        var ip = copy.AsSpan(eth + EthernetFrame.MinHeaderLength);
        if (!Ipv4Header.TryParse(ip, out var h, out _) || h.IsFragment || h.TotalLength > ip.Length) return false;
        int offset = h.Protocol switch { IpProtocol.Tcp => 16, IpProtocol.Udp => 6, _ => -1 };
        var l4 = ip[h.HeaderLength..h.TotalLength];
        if (offset < 0 || l4.Length < offset + 2) return false;
        ushort stored = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(l4[offset..]);
        if (stored != Checksum.Fold(Checksum.PseudoHeader(h.Source, h.Destination, h.Protocol, l4.Length))) return false;
        GeneratedHeaders.TransportChecksum(h.Source, h.Destination, h.Protocol, l4, offset);
        return Checksum.TransportValid(saddr, daddr, IpProtocol.Udp, copy);
    }

    /// <summary>Whether <paramref name="dev"/> is a veth or loopback, or a bridge with a veth port.</summary>
    private static bool OverVeth(NetNamespace ns, NetDevice dev) =>
        dev.Kind is DeviceKind.Veth or DeviceKind.Loopback
        || dev.Kind == DeviceKind.Bridge && HasVethPort(ns, dev);

    private static bool HasVethPort(NetNamespace ns, NetDevice bridge)
    {
        foreach (var d in ns.Devices) if (d.Master == bridge.Name && d.Kind == DeviceKind.Veth) return true;
        return false;
    }

    private static void Drop(SkBuff skb, TraceBuilder t, string reason, string detail) =>
        t.Drop(skb, "VxlanRcv", "vxlan_rcv", reason, detail);
}
