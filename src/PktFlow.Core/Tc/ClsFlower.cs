using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.Tc;

/// <summary>A port key of flower: one port or an inclusive range (dst_port 1000-2000).</summary>
public readonly record struct PortRange(ushort Min, ushort Max)
{
    public bool Contains(ushort p) => p >= Min && p <= Max;
    public override string ToString() => Min == Max ? $"{Min}" : $"{Min}-{Max}";
}

/// <summary>
/// cls_flower (net/sched/cls_flower.c): fl_classify dissects the packet (skb_flow_dissect: Ethernet
/// addresses, the VLAN tag in the skb's metadata, the network protocol, IPv4/IPv6 addresses, the
/// transport protocol, TCP/UDP/SCTP ports, fragment flags) and the filter matches when every key it
/// set equals the packet's under its mask. Port ranges are inclusive (fl_range_port_dst_cmp).
/// </summary>
public sealed class ClsFlower : TcClassifier
{
    public override string Kind => "flower";
    public MacAddress? SrcMac { get; init; }
    public MacAddress? DstMac { get; init; }
    public ushort? VlanId { get; init; }
    public byte? VlanPrio { get; init; }
    public ushort? VlanEthType { get; init; }
    public byte? IpProto { get; init; }
    public IpPrefix? SrcIp { get; init; }
    public IpPrefix? DstIp { get; init; }
    public PortRange? SrcPort { get; init; }
    public PortRange? DstPort { get; init; }
    /// <summary>ip_flags: frag (true) / nofrag (false).</summary>
    public bool? Frag { get; init; }
    /// <summary>ip_flags: firstfrag (true) / nofirstfrag (false).</summary>
    public bool? FirstFrag { get; init; }

    [KernelSymbol("fl_classify", "net/sched/cls_flower.c")]
    public override bool Match(SkBuff skb)
    {
        if (SrcMac is not null || DstMac is not null)
        {
            if (skb.MacHeader < 0 || !EthernetFrame.TryParse(skb.Data[skb.MacHeader..], out var eth, out _)) return false;
            if (SrcMac is { } s && eth.Source != s || DstMac is { } d && eth.Destination != d) return false;
        }
        if (VlanId is not null || VlanPrio is not null || VlanEthType is not null)
        {
            if (!skb.VlanPresent) return false;
            if (VlanId is { } id && skb.VlanId != id) return false;
            if (VlanPrio is { } prio && VlanPcp(skb) != prio) return false;
            if (VlanEthType is { } et && skb.Protocol != et) return false;
        }
        if (IpProto is null && SrcIp is null && DstIp is null && Frag is null && FirstFrag is null) return true;
        if (!Dissect(skb, out var src, out var dst, out byte proto, out bool frag, out bool first, out int l4)) return false;
        if (SrcIp is { } sp && !sp.Contains(src) || DstIp is { } dp && !dp.Contains(dst)) return false;
        if (Frag is { } f && frag != f) return false;
        if (FirstFrag is { } ff && (frag && first) != ff) return false;
        if (IpProto is { } p && proto != p) return false;
        if (SrcPort is null && DstPort is null) return true;
        // ports come from the first fragment only (a later one has none: the dissector leaves them 0)
        var l3 = skb.Network;
        ushort sport = 0, dport = 0;
        if (l4 >= 0 && l4 + 4 <= l3.Length && (!frag || first))
        {
            sport = BinaryPrimitives.ReadUInt16BigEndian(l3[l4..]);
            dport = BinaryPrimitives.ReadUInt16BigEndian(l3[(l4 + 2)..]);
        }
        return (SrcPort is not { } s2 || s2.Contains(sport)) && (DstPort is not { } d2 || d2.Contains(dport));
    }

    /// <summary>The VLAN priority (PCP) as the frame carries it: the model keeps the tag in the bytes.</summary>
    private static int VlanPcp(SkBuff skb)
    {
        if (skb.MacHeader < 0 || skb.Length < skb.MacHeader + 16) return 0;
        return BinaryPrimitives.ReadUInt16BigEndian(skb.Data[(skb.MacHeader + 14)..]) >> 13;
    }

    private static bool Dissect(SkBuff skb, out IpAddr src, out IpAddr dst, out byte proto, out bool frag, out bool first, out int l4)
    {
        src = dst = default; proto = 0; frag = false; first = false; l4 = -1;
        var l3 = skb.Network;
        if (skb.Protocol == EtherTypes.Ipv4)
        {
            if (!Ipv4Header.TryParse(l3, out var ip, out _)) return false;
            src = ip.Source; dst = ip.Destination; proto = ip.Protocol;
            frag = ip.IsFragment; first = ip.FragmentOffset == 0;
            l4 = ip.HeaderLength;
            return true;
        }
        if (skb.Protocol == EtherTypes.Ipv6)
        {
            if (!Ipv6Header.TryParse(l3, out var ip6, out _)) return false;
            src = ip6.Source; dst = ip6.Destination;
            Ipv6ExtensionHeaders.Walk(ip6.NextHeader, ip6.AfterFixedHeader, out var chain);
            proto = chain.UpperProtocol;
            frag = chain.HasFragment; first = chain.FragmentOffset == 0;
            l4 = Ipv6Header.HeaderLength + chain.UpperOffset;
            return true;
        }
        return false;
    }

    public override string ToString()
    {
        var p = new List<string>();
        if (VlanId is { } v) p.Add($"vlan_id {v}");
        if (VlanPrio is { } vp) p.Add($"vlan_prio {vp}");
        if (VlanEthType is { } ve) p.Add($"vlan_ethtype {TcNames.Protocol(ve)}");
        if (DstMac is { } dm) p.Add($"dst_mac {dm}");
        if (SrcMac is { } sm) p.Add($"src_mac {sm}");
        if (IpProto is { } ip) p.Add($"ip_proto {IpProtocol.Name(ip) ?? ip.ToString()}");
        if (DstIp is { } di) p.Add($"dst_ip {di}");
        if (SrcIp is { } si) p.Add($"src_ip {si}");
        if (DstPort is { } dp) p.Add($"dst_port {dp}");
        if (SrcPort is { } sp) p.Add($"src_port {sp}");
        if (Frag is { } f) p.Add(f ? "ip_flags frag" : "ip_flags nofrag");
        if (FirstFrag is { } ff) p.Add(ff ? "ip_flags firstfrag" : "ip_flags nofirstfrag");
        if (SkipSw) p.Add("skip_sw");
        return p.Count == 0 ? "flower" : string.Join(" ", p);
    }
}
