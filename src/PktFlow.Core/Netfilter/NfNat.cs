using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Nftables;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Netfilter;

/// <summary>
/// NAT as nf_nat does it: the first packet of a connection gets a binding from a nat chain's statement
/// (nf_nat_setup_info), stored in the conntrack entry as its changed reply tuple; every later packet of
/// the connection, in both directions, is rewritten from that binding (nf_nat_packet): destination
/// manipulations at PRE_ROUTING / LOCAL_OUT, source ones at POST_ROUTING / LOCAL_IN.
/// </summary>
public static class NfNat
{
    [KernelSymbol("nf_nat_setup_info", "net/netfilter/nf_nat_core.c")]
    public static void Setup(SkBuff skb, TraceBuilder t, ConntrackEntry entry, NatAction nat, NfHook hook, NetDevice dev)
    {
        bool destination = nat.Kind is "dnat" or "redirect";
        if (destination != hook is NfHook.PreRouting or NfHook.LocalOut)
        {
            t.Note($"{nat.Kind} at the {hook} hook is not where the kernel applies it; ignored ({nat.RuleText})");
            return;
        }
        var reply = entry.Reply;
        IpAddr address;
        if (nat.Kind == "masquerade")
        {
            var family = entry.Original.Source.Family;
            var a = skb.Netns.AddressesOf(dev.Name).FirstOrDefault(x => x.Family == family && x.Scope == AddressScope.Global);
            if (a is null) { t.Note($"masquerade: {dev.Name} has no address to use"); return; }
            address = a.Address;
        }
        else if (nat.Kind == "redirect")
        {
            var a = skb.Netns.AddressesOf(dev.Name).FirstOrDefault(x => x.Family == entry.Original.Destination.Family);
            address = a?.Address ?? (entry.Original.Destination.IsV4 ? IpAddr.V4(0x7F00_0001) : IpAddr.V6(0, 1));
        }
        else if (nat.Address is null || !IpAddr.TryParse(nat.Address, out address))
        {
            t.Note($"{nat.Kind}: address '{nat.Address}' is not modelled ({nat.RuleText})");
            return;
        }
        bool ports = entry.Original.Protocol is IpProtocol.Tcp or IpProtocol.Udp;
        if (destination)
        {
            ushort port = ports && nat.PortMin is { } p ? (ushort)p : reply.SourcePort;
            entry.Reply = reply with { Source = address, SourcePort = ports ? port : reply.SourcePort };
            entry.DestinationNat = true;
        }
        else
        {
            ushort port = ports && nat.PortMin is { } p ? (ushort)p : reply.DestinationPort;
            entry.Reply = reply with { Destination = address, DestinationPort = ports ? port : reply.DestinationPort };
            entry.SourceNat = true;
        }
        t.Stage(skb, "NfNatSetupInfo", "nf_nat_setup_info", Verdict.Pass, $"{nat.Kind}: the connection's reply tuple is now {entry.Reply} ({nat.RuleText})");
        ApplyBinding(skb, t, entry, CtDirection.Original, hook);
    }

    /// <summary>nf_nat_packet: rewrite this packet from the connection's binding, for this hook's manipulation type.</summary>
    [KernelSymbol("nf_nat_packet", "net/netfilter/nf_nat_core.c")]
    public static void ApplyBinding(SkBuff skb, TraceBuilder t, ConntrackEntry entry, CtDirection dir, NfHook hook)
    {
        bool dstManip = hook is NfHook.PreRouting or NfHook.LocalOut;
        bool srcManip = hook is NfHook.PostRouting or NfHook.LocalIn;
        var o = entry.Original;
        var r = entry.Reply;
        if (dir == CtDirection.Original)
        {
            if (dstManip && entry.DestinationNat) Rewrite(skb, t, source: false, r.Source, r.SourcePort, "DNAT");
            if (srcManip && entry.SourceNat) Rewrite(skb, t, source: true, r.Destination, r.DestinationPort, "SNAT");
        }
        else
        {
            if (dstManip && entry.SourceNat) Rewrite(skb, t, source: false, o.Source, o.SourcePort, "reply to SNAT");
            if (srcManip && entry.DestinationNat) Rewrite(skb, t, source: true, o.Destination, o.DestinationPort, "reply to DNAT");
        }
    }

    /// <summary>
    /// Undoes a connection's NAT on a packet seen after it (Observe mode: a capture point behind the
    /// NAT): the packet gets the addresses and ports of <paramref name="preNat"/>, checksums kept right,
    /// without a trace stage.
    /// </summary>
    public static void Reconstruct(SkBuff skb, ConntrackTuple preNat)
    {
        Rewrite(skb, null, source: true, preNat.Source, preNat.SourcePort, "");
        Rewrite(skb, null, source: false, preNat.Destination, preNat.DestinationPort, "");
    }

    /// <summary>Writes an address (and port) into the packet, keeping the IPv4 and transport checksums right.</summary>
    private static void Rewrite(SkBuff skb, TraceBuilder? t, bool source, IpAddr address, ushort port, string why)
    {
        var n = skb.Network;
        bool v6 = skb.Protocol == EtherTypes.Ipv6;
        int addrOffset = v6 ? (source ? 8 : 24) : (source ? 12 : 16);
        var old = v6 ? IpAddr.ReadV6(n[addrOffset..]) : IpAddr.ReadV4(n[addrOffset..]);
        if (old.Family != address.Family) return;
        int l4 = -1, end = n.Length; byte proto;
        if (v6)
        {
            Ipv6Header.TryParse(n, out var ip6, out _);
            Ipv6ExtensionHeaders.Walk(ip6.NextHeader, n[Ipv6Header.HeaderLength..], out var chain);
            proto = chain.UpperProtocol;
            end = Math.Min(n.Length, Ipv6Header.HeaderLength + ip6.PayloadLength);
            if (!chain.IsNonFirstFragment) l4 = Ipv6Header.HeaderLength + chain.UpperOffset;
        }
        else
        {
            Ipv4Header.TryParse(n, out var ip, out _);
            proto = ip.Protocol;
            if (ip.TotalLength >= ip.HeaderLength) end = Math.Min(n.Length, (int)ip.TotalLength);
            if (ip.FragmentOffset == 0) l4 = ip.HeaderLength;
        }
        int csumAt = proto switch { IpProtocol.Tcp => 16, IpProtocol.Udp => 6, IpProtocol.Icmpv6 => 2, _ => -1 };
        bool hasL4Csum = l4 >= 0 && csumAt >= 0 && n.Length >= l4 + csumAt + 2 && !(proto == IpProtocol.Udp && !v6 && BinaryPrimitives.ReadUInt16BigEndian(n[(l4 + 6)..]) == 0);
        // A segment whose checksum is still left for offload (CHECKSUM_PARTIAL: the field holds the folded
        // pseudo-header sum) is updated as inet_proto_csum_replace4 does for it: only the pseudo-header
        // part follows the new address, the ports are not summed yet.
        bool partial = hasL4Csum && IsPartial(n, v6, l4, end, proto, csumAt);
        if (!v6)
        {
            ushort ipc = BinaryPrimitives.ReadUInt16BigEndian(n[10..]);
            BinaryPrimitives.WriteUInt16BigEndian(n[10..], Checksum.ReplaceAddress(ipc, old, address));
        }
        if (hasL4Csum && !partial)
        {
            ushort c = BinaryPrimitives.ReadUInt16BigEndian(n[(l4 + csumAt)..]);
            c = Checksum.ReplaceAddress(c, old, address);
            BinaryPrimitives.WriteUInt16BigEndian(n[(l4 + csumAt)..], c);
        }
        address.Write(n[addrOffset..]);
        string portText = "";
        if (l4 >= 0 && proto is IpProtocol.Tcp or IpProtocol.Udp && n.Length >= l4 + 4)
        {
            int at = l4 + (source ? 0 : 2);
            ushort oldPort = BinaryPrimitives.ReadUInt16BigEndian(n[at..]);
            if (oldPort != port)
            {
                BinaryPrimitives.WriteUInt16BigEndian(n[at..], port);
                if (hasL4Csum && !partial)
                {
                    ushort c = BinaryPrimitives.ReadUInt16BigEndian(n[(l4 + csumAt)..]);
                    BinaryPrimitives.WriteUInt16BigEndian(n[(l4 + csumAt)..], Checksum.Replace2(c, oldPort, port));
                }
                portText = $" port {oldPort} -> {port}";
            }
        }
        if (partial)
            BinaryPrimitives.WriteUInt16BigEndian(n[(l4 + csumAt)..], PartialSum(n, v6, proto, end - l4));
        if (t is not null && (old != address || portText.Length > 0))
            t.Stage(skb, "NfNatManip", source ? "nf_nat_manip_pkt (source)" : "nf_nat_manip_pkt (destination)", Verdict.Pass,
                $"{why}: {(source ? "source" : "destination")} {old} -> {address}{portText}");
    }

    static bool IsPartial(ReadOnlySpan<byte> n, bool v6, int l4, int end, byte proto, int csumAt)
    {
        if (end < l4 + csumAt + 2) return false;
        var segment = n[l4..end];
        var (src, dst) = Addresses(n, v6);
        return !Checksum.TransportValid(src, dst, proto, segment)
            && BinaryPrimitives.ReadUInt16BigEndian(segment[csumAt..]) == PartialSum(n, v6, proto, segment.Length);
    }

    static ushort PartialSum(ReadOnlySpan<byte> n, bool v6, byte proto, int length)
    {
        var (src, dst) = Addresses(n, v6);
        return Checksum.Fold(Checksum.PseudoHeader(src, dst, proto, length));
    }

    static (IpAddr src, IpAddr dst) Addresses(ReadOnlySpan<byte> n, bool v6) => v6
        ? (IpAddr.ReadV6(n[8..]), IpAddr.ReadV6(n[24..]))
        : (IpAddr.ReadV4(n[12..]), IpAddr.ReadV4(n[16..]));
}
