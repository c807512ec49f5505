using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Tunnel;

/// <summary>
/// A VXLAN datagram (over IPv4 or IPv6) a capture shows leaving the host's underlay device (Observe mode): vxlan_xmit_one
/// made it from an inner frame that crossed one of the host's vxlan devices, so the model traces that
/// inner frame from its sender (a pod behind a bridge, the host itself) through the vxlan device and back
/// out of the underlay, rather than as a datagram the host wrote.
/// </summary>
public static class VxlanObserve
{
    /// <summary>
    /// Replaces <paramref name="skb"/>'s frame with the inner one when it is a VXLAN datagram from an
    /// address of <paramref name="ns"/> to the port and VNI of one of its vxlan devices; the inner IPv4
    /// TTL gets back the hop ip_forward took when the device is routed to (not a bridge port) and the
    /// inner source is not the host's own. Returns the device, or null when the frame is not such a datagram.
    /// </summary>
    public static NetDevice? Unwrap(SkBuff skb, TraceBuilder t, NetNamespace ns)
    {
        if (!OuterUdp(skb, out var source, out var destination, out var segment) || !ns.IsLocalAddress(source)
            || !UdpHeader.TryParse(segment, out var udp, out _)) return null;
        if (!VxlanHeader.TryParse(udp.Payload, out var vh) || !vh.HasVni || vh.ReservedBitsSet || vh.Payload.Length < EthernetFrame.MinHeaderLength) return null;
        (ushort port, uint vni) = (udp.DestinationPort, vh.Vni);
        var dev = ns.Devices.FirstOrDefault(d => d.Vxlan is { } p && d.IsUp && p.DstPort == port && p.Vni == vni && VxlanRcv.IsV6(p) == source.IsV6);
        if (dev is null) return null;
        var inner = vh.Payload.ToArray();
        skb.Engine.VxlanPorts.Saw(VxlanXmit.PortBounds(ns, dev.Vxlan!), inner, udp.SourcePort);
        string hop = "";
        if (dev.Master is null && inner.Length >= 34 && BinaryPrimitives.ReadUInt16BigEndian(inner.AsSpan(12)) == EtherTypes.Ipv4
            && Ipv4Header.TryParse(inner.AsSpan(14), out var iip, out _) && !ns.IsLocalAddress(iip.Source) && iip.Ttl < 255)
        {
            inner[14 + 8]++;
            Ipv4HeaderWriter.UpdateHeaderChecksum(inner.AsSpan(14));
            hop = $"; its TTL {iip.Ttl + 1} as sent, before {ns.Name} forwarded it to {dev.Name}";
        }
        t.Note($"seen leaving as a VXLAN datagram {source}:{udp.SourcePort} > {destination}:{udp.DestinationPort} VNI {vh.Vni}, made by {dev.Name}: the inner frame is traced from its sender through vxlan_xmit{hop}");
        skb.SeenVxlanRemote = destination;
        skb.ReplaceFrame(inner);
        skb.MacHeader = 0;
        skb.NetworkHeader = EthernetFrame.MinHeaderLength;
        skb.Protocol = BinaryPrimitives.ReadUInt16BigEndian(inner.AsSpan(12));
        return dev;
    }

    /// <summary>
    /// A frame with <paramref name="at"/>'s own source MAC on a vxlan device whose default remote is one of
    /// the host's addresses and bound to no device: vxlan_encap_bypass hands what it sends back to it, so
    /// the second sighting of the same bytes (<see cref="SeenAgain"/>) is the frame arriving.
    /// </summary>
    public static bool ComesBack(InjectionPoint at, SkBuff skb, TraceBuilder t, ReadOnlySpan<byte> data, MacAddress source)
    {
        if (at.Device.Vxlan is not { Remote: { IsMulticast: false } r, Lower: null } || source != at.Device.Mac || !at.Namespace.IsLocalAddress(r)) return false;
        if (!SeenAgain.Repeats(at, skb, data, out long after)) return false;
        t.Note($"the frame seen leaving {at} {after / 1000} us before, again: remote {r} is local, and vxlan_encap_bypass hands it back to {at.Device.Name}");
        return true;
    }

    /// <summary>The UDP segment of an unfragmented IPv4 packet, or of an IPv6 packet whose next header is UDP (no extension headers).</summary>
    private static bool OuterUdp(SkBuff skb, out IpAddr source, out IpAddr destination, out ReadOnlySpan<byte> segment)
    {
        source = destination = default;
        segment = default;
        if (skb.Protocol == EtherTypes.Ipv4 && Ipv4Header.TryParse(skb.Network, out var ip, out _) && ip.Protocol == IpProtocol.Udp && !ip.IsFragment)
        {
            (source, destination) = (ip.Source, ip.Destination);
            segment = ip.Payload;
        }
        else if (skb.Protocol == EtherTypes.Ipv6 && Ipv6Header.TryParse(skb.Network, out var ip6, out _) && ip6.NextHeader == IpProtocol.Udp)
        {
            (source, destination) = (ip6.Source, ip6.Destination);
            segment = ip6.Payload;
        }
        else return false;
        return true;
    }
}
