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
    /// Puts a packet captured after NAT back into the form it had before (Observe mode: a frame seen
    /// leaving a port was translated on its way there): addresses and ports of <paramref name="before"/>.
    /// </summary>
    internal static void Restore(SkBuff skb, ConntrackTuple before)
    {
        var scratch = new TraceBuilder();
        Rewrite(skb, scratch, source: true, before.Source, before.SourcePort, "");
        Rewrite(skb, scratch, source: false, before.Destination, before.DestinationPort, "");
    }

    /// <summary>Writes an address (and port) into the packet, keeping the IPv4 and transport checksums right.</summary>
    private static void Rewrite(SkBuff skb, TraceBuilder t, bool source, IpAddr address, ushort port, string why)
    {
        var n = skb.Network;
        bool v6 = skb.Protocol == EtherTypes.Ipv6;
        int addrOffset = v6 ? (source ? 8 : 24) : (source ? 12 : 16);
        var old = v6 ? IpAddr.ReadV6(n[addrOffset..]) : IpAddr.ReadV4(n[addrOffset..]);
        if (old.Family != address.Family) return;
        int l4 = -1, end; byte proto;
        IpAddr saddr, daddr;
        if (v6)
        {
            Ipv6Header.TryParse(n, out var ip6, out _);
            Ipv6ExtensionHeaders.Walk(ip6.NextHeader, n[Ipv6Header.HeaderLength..], out var chain);
            proto = chain.UpperProtocol;
            if (!chain.IsNonFirstFragment) l4 = Ipv6Header.HeaderLength + chain.UpperOffset;
            (saddr, daddr, end) = (ip6.Source, ip6.Destination, Ipv6Header.HeaderLength + ip6.PayloadLength);
        }
        else
        {
            Ipv4Header.TryParse(n, out var ip, out _);
            proto = ip.Protocol;
            if (ip.FragmentOffset == 0) l4 = ip.HeaderLength;
            (saddr, daddr, end) = (ip.Source, ip.Destination, ip.TotalLength);
        }
        int csumAt = proto switch { IpProtocol.Tcp => 16, IpProtocol.Udp => 6, IpProtocol.Icmpv6 => 2, _ => -1 };
        bool hasL4Csum = l4 >= 0 && csumAt >= 0 && n.Length >= l4 + csumAt + 2 && !(proto == IpProtocol.Udp && !v6 && BinaryPrimitives.ReadUInt16BigEndian(n[(l4 + 6)..]) == 0);
        // CHECKSUM_PARTIAL (a locally sent packet still on its way to the offload, as veths carry it): the
        // field holds the folded pseudo-header sum, which inet_proto_csum_replace4 updates without
        // complementing, and a port change leaves it alone (the port is summed at transmit).
        int segLength = end > l4 && end <= n.Length ? end - l4 : n.Length - l4;
        bool partial = hasL4Csum && proto is IpProtocol.Tcp or IpProtocol.Udp
            && !Checksum.TransportValid(saddr, daddr, proto, n.Slice(l4, segLength))
            && BinaryPrimitives.ReadUInt16BigEndian(n[(l4 + csumAt)..]) == Checksum.Fold(Checksum.PseudoHeader(saddr, daddr, proto, segLength));
        if (!v6)
        {
            ushort ipc = BinaryPrimitives.ReadUInt16BigEndian(n[10..]);
            BinaryPrimitives.WriteUInt16BigEndian(n[10..], Checksum.ReplaceAddress(ipc, old, address));
        }
        if (hasL4Csum)
        {
            ushort c = BinaryPrimitives.ReadUInt16BigEndian(n[(l4 + csumAt)..]);
            c = Checksum.ReplaceAddress(c, old, address);
            BinaryPrimitives.WriteUInt16BigEndian(n[(l4 + csumAt)..], c);
        }
        address.Write(n[addrOffset..]);
        if (partial)
        {
            var (ns, nd) = source ? (address, daddr) : (saddr, address);
            BinaryPrimitives.WriteUInt16BigEndian(n[(l4 + csumAt)..], Checksum.Fold(Checksum.PseudoHeader(ns, nd, proto, segLength)));
            hasL4Csum = false;
        }
        string portText = "";
        if (l4 >= 0 && proto is IpProtocol.Tcp or IpProtocol.Udp && n.Length >= l4 + 4)
        {
            int at = l4 + (source ? 0 : 2);
            ushort oldPort = BinaryPrimitives.ReadUInt16BigEndian(n[at..]);
            if (oldPort != port)
            {
                BinaryPrimitives.WriteUInt16BigEndian(n[at..], port);
                if (hasL4Csum)
                {
                    ushort c = BinaryPrimitives.ReadUInt16BigEndian(n[(l4 + csumAt)..]);
                    BinaryPrimitives.WriteUInt16BigEndian(n[(l4 + csumAt)..], Checksum.Replace2(c, oldPort, port));
                }
                portText = $" port {oldPort} -> {port}";
            }
        }
        if (old != address || portText.Length > 0)
            t.Stage(skb, "NfNatManip", source ? "nf_nat_manip_pkt (source)" : "nf_nat_manip_pkt (destination)", Verdict.Pass,
                $"{why}: {(source ? "source" : "destination")} {old} -> {address}{portText}");
    }
}
