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
    public static void Setup(SkBuff skb, TraceBuilder t, ConntrackEntry entry, NatAction nat, NfHook hook, NetDevice dev, CtDirection dir = CtDirection.Original)
    {
        bool destination = nat.Kind is "dnat" or "redirect";
        if (destination != hook is NfHook.PreRouting or NfHook.LocalOut)
        {
            t.Note($"{nat.Kind} at the {hook} hook is not where the kernel applies it; ignored ({nat.RuleText})");
            return;
        }
        IpAddr address; IpAddr? max = null;
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
        else if (NfNatRange.Range(nat, ConntrackEntry.Invert(entry.Reply), destination) is { } range) (address, max) = range;
        else
        {
            t.Note($"{nat.Kind}: address '{nat.Address}' is not of the connection's family ({nat.RuleText})");
            return;
        }
        var (changed, how) = Bind(skb.State.Conntrack, skb.State.Nft, entry, (address, max ?? address), nat, destination, destination ? null : skb.Engine.SeenAfterSnat);
        if (max is { } last && last != address)
            how = $"address {(destination ? entry.Reply.Source : entry.Reply.Destination)} of {address}-{last} (find_best_ips_proto{(nat.Flags.Contains("persistent") ? ", persistent" : "")}), {how}";
        t.Stage(skb, "NfNatSetupInfo", "nf_nat_setup_info", Verdict.Pass,
            $"{nat.Kind}: {how}; the connection's reply tuple is {(changed ? "now " : "unchanged, ")}{entry.Reply} ({nat.RuleText})");
        ApplyBinding(skb, t, entry, dir, hook);
    }

    /// <summary>
    /// The binding of nf_nat_setup_info for one manipulation type: get_unique_tuple on the current original
    /// tuple, the reply tuple its inverse (nf_conntrack_alter_reply), IPS_SRC_NAT / IPS_DST_NAT when it
    /// changed. Returns whether it did and, in words, how the tuple was chosen.
    /// </summary>
    internal static (bool Changed, string How) Bind(ConntrackTable table, NftState random, ConntrackEntry entry, (IpAddr Min, IpAddr Max) range, NatAction nat, bool destination,
        ConntrackTuple? observed = null)
    {
        var current = ConntrackEntry.Invert(entry.Reply);
        var (tuple, how) = NfNatUniqueTuple.Choose(table, random, entry, range, nat, source: !destination, observed: observed);
        bool changed = tuple != current;
        if (changed)
        {
            entry.Reply = ConntrackEntry.Invert(tuple);
            if (destination) entry.DestinationNat = true; else entry.SourceNat = true;
        }
        return (changed, how);
    }

    /// <summary>The manipulation type a hook does: destination at PRE_ROUTING / LOCAL_OUT, source at POST_ROUTING / LOCAL_IN (HOOK2MANIP).</summary>
    private static bool? IsSourceManip(NfHook hook) => hook switch
    {
        NfHook.PreRouting or NfHook.LocalOut => false,
        NfHook.PostRouting or NfHook.LocalIn => true,
        _ => null,
    };

    /// <summary>nf_nat_initialized: the binding of this hook's manipulation type is set (IPS_SRC_NAT_DONE /
    /// IPS_DST_NAT_DONE). A confirmed entry has both: its first packet crossed a hook of each type.</summary>
    public static bool Initialized(ConntrackEntry entry, NfHook hook) => entry.Confirmed || IsSourceManip(hook) switch
    {
        true => entry.SourceNatDone,
        false => entry.DestinationNatDone,
        null => false,
    };

    /// <summary>After the nat chains of a hook ran for a connection: its binding, or the null binding
    /// (nf_nat_alloc_null_binding), is set for that manipulation type.</summary>
    public static void MarkInitialized(ConntrackEntry entry, NfHook hook)
    {
        if (IsSourceManip(hook) is not { } source) return;
        if (source) entry.SourceNatDone = true; else entry.DestinationNatDone = true;
    }

    /// <summary>nf_nat_packet: rewrite this packet from the connection's binding, for this hook's manipulation type.</summary>
    [KernelSymbol("nf_nat_packet", "net/netfilter/nf_nat_core.c")]
    public static void ApplyBinding(SkBuff skb, TraceBuilder t, ConntrackEntry entry, CtDirection dir, NfHook hook)
    {
        bool dstManip = hook is NfHook.PreRouting or NfHook.LocalOut;
        bool srcManip = hook is NfHook.PostRouting or NfHook.LocalIn;
        var o = entry.Original;
        var r = entry.Reply;
        // an ICMP query's identifier is the same in both tuples; NAT maps it like a port (nf_nat_icmp_manip_pkt)
        ushort? id = o.IsIcmp && o.IcmpId != r.IcmpId ? dir == CtDirection.Original ? r.IcmpId : o.IcmpId : null;
        if (dir == CtDirection.Original)
        {
            if (dstManip && entry.DestinationNat) Rewrite(skb, t, source: false, r.Source, r.SourcePort, "DNAT", id);
            if (srcManip && entry.SourceNat) Rewrite(skb, t, source: true, r.Destination, r.DestinationPort, "SNAT", id);
        }
        else
        {
            if (dstManip && entry.SourceNat) Rewrite(skb, t, source: false, o.Source, o.SourcePort, "reply to SNAT", id);
            if (srcManip && entry.DestinationNat) Rewrite(skb, t, source: true, o.Destination, o.DestinationPort, "reply to DNAT", id);
        }
    }

    /// <summary>
    /// An ICMP error RELATED to a NATed connection (nf_nat_icmp_reply_translation): where this hook's
    /// manipulation type, seen from the error's direction, is one the connection has, the quoted packet
    /// is made to look as it was before NAT (the other direction's tuple, the opposite manipulation) and
    /// the outer header as the answer to it; the ICMP checksum is computed afresh. Returns false when the
    /// packet is not such an error (the ordinary binding applies).
    /// </summary>
    [KernelSymbol("nf_nat_icmp_reply_translation", "net/netfilter/nf_nat_proto.c")]
    public static bool IcmpReplyTranslation(SkBuff skb, TraceBuilder t, ConntrackEntry entry, CtDirection dir, NfHook hook)
    {
        bool v6 = skb.Protocol == EtherTypes.Ipv6;
        if (IsSourceManip(hook) is not { } srcManip || IcmpErrorOffsets(skb.Network, v6) is not var (l4, end)) return false;
        // statusbit: this manipulation type, flipped for the reply direction
        bool natOfThisType = srcManip == (dir == CtDirection.Original) ? entry.SourceNat : entry.DestinationNat;
        if (!natOfThisType) return true;
        var other = dir == CtDirection.Original ? entry.Reply : entry.Original;
        var quoted = skb.Network[(l4 + 8)..end];
        // the quoted packet travelled the other way: opposite manipulation, the other direction's tuple
        bool innerSource = !srcManip;
        if (!AddressRewrite.Rewrite(quoted, v6, innerSource, innerSource ? other.Source : other.Destination,
                innerSource ? other.SourcePort : other.DestinationPort, out var innerOld, out _, quoted: true)) return true;
        if (other.IsIcmp) AddressRewrite.RewriteIcmpId(quoted, v6, other.IcmpId, out _);
        var target = ConntrackEntry.Invert(other);
        AddressRewrite.Rewrite(skb.Network, v6, srcManip, srcManip ? target.Source : target.Destination, 0, out var outerOld, out _);
        var icmp = skb.Network[l4..end];
        icmp[2] = icmp[3] = 0;
        ushort sum = v6
            ? Checksum.Transport(IpAddr.ReadV6(skb.Network[8..]), IpAddr.ReadV6(skb.Network[24..]), IpProtocol.Icmpv6, icmp)
            : Checksum.Internet(icmp);
        icmp[2] = (byte)(sum >> 8); icmp[3] = (byte)sum;
        t.Stage(skb, "NfNatIcmpReplyTranslation", "nf_nat_icmp_reply_translation", Verdict.Pass,
            $"ICMP error about {(dir == CtDirection.Original ? "a reply" : "an original-direction packet")} of a NATed connection: outer {(srcManip ? "source" : "destination")} " +
            $"{outerOld} -> {(srcManip ? target.Source : target.Destination)}, quoted {(innerSource ? "source" : "destination")} {innerOld} -> {(innerSource ? other.Source : other.Destination)}");
        return true;
    }

    /// <summary>
    /// The first check of nf_nat_icmp_reply_translation, run by nf_nat's hook at LOCAL_OUT for the
    /// redirect ip_forward generated (nf_ct_attach gave it the connection, ctinfo RELATED_REPLY):
    /// "redirects on non-null nats must be dropped", and so is one whose connection has not had both
    /// manipulations set up (IPS_NAT_DONE_MASK), as for its first packet, which has not reached
    /// POSTROUTING yet. Only where nf_nat's hooks are registered: an ip or inet nat chain.
    /// </summary>
    public static bool DropsRedirect(SkBuff skb, TraceBuilder t, CtLookup ct)
    {
        if (ct.Entry is not { } entry || ct.State != CtState.Related || skb.Protocol != EtherTypes.Ipv4) return false;
        if (!Ipv4Header.TryParse(skb.Network, out var ip, out _) || ip.Protocol != IpProtocol.Icmp || ip.IsFragment
            || ip.Payload.Length < 1 || ip.Payload[0] != IcmpHeader.Redirect) return false;
        if (skb.Netns.Nft is not { } rs || !rs.Tables.Any(tb => tb.Family is NftFamily.Ip or NftFamily.Inet && tb.Chains.Any(c => c.Type == "nat"))) return false;
        bool complete = ct.NatComplete ?? (entry.SourceNatDone && entry.DestinationNatDone);
        string? why = !complete ? "the connection's NAT is not complete (IPS_NAT_DONE_MASK: the packet it answers had not reached POSTROUTING)"
            : entry.SourceNat || entry.DestinationNat ? "the connection is NATed (not a null binding)" : null;
        if (why is null) return false;
        t.Drop(skb, "NfNatIcmpReplyTranslation", "nf_nat_icmp_reply_translation", "NETFILTER_DROP", $"ICMP redirect about {entry.Original}: dropped, {why}");
        return true;
    }

    /// <summary>
    /// nf_nat_ipv4_fn / nf_nat_ipv6_fn: an ICMP(v6) packet related to a connection is only translated
    /// (nf_nat_icmp_reply_translation); the nat chains never see it, whatever manipulation is still unset.
    /// </summary>
    public static bool IsRelatedIcmp(SkBuff skb)
    {
        if (skb.Ct?.State != CtState.Related) return false;
        var n = skb.Network;
        if (skb.Protocol == EtherTypes.Ipv6)
        {
            if (!Ipv6Header.TryParse(n, out var ip6, out _)) return false;
            Ipv6ExtensionHeaders.Walk(ip6.NextHeader, n[Ipv6Header.HeaderLength..], out var chain);
            return chain.UpperProtocol == IpProtocol.Icmpv6;
        }
        return Ipv4Header.TryParse(n, out var ip, out _) && ip.Protocol == IpProtocol.Icmp;
    }

    /// <summary>Where the ICMP/ICMPv6 error message of an unfragmented packet starts and ends, or null
    /// when the packet is not an error carrying a quoted header. A redirect is left out: one that
    /// survives <see cref="DropsRedirect"/> is about a null binding, which translation leaves alone.</summary>
    private static (int L4, int End)? IcmpErrorOffsets(ReadOnlySpan<byte> n, bool v6)
    {
        if (v6)
        {
            if (!Ipv6Header.TryParse(n, out var ip6, out _)) return null;
            Ipv6ExtensionHeaders.Walk(ip6.NextHeader, n[Ipv6Header.HeaderLength..], out var chain);
            int at = Ipv6Header.HeaderLength + chain.UpperOffset, end6 = Math.Min(n.Length, Ipv6Header.HeaderLength + ip6.PayloadLength);
            return chain.UpperProtocol == IpProtocol.Icmpv6 && !chain.IsNonFirstFragment && end6 >= at + 8 + Ipv6Header.HeaderLength && n[at] < 128 ? (at, end6) : null;
        }
        if (!Ipv4Header.TryParse(n, out var ip, out _) || ip.Protocol != IpProtocol.Icmp || ip.IsFragment) return null;
        int l4 = ip.HeaderLength, end = Math.Min(n.Length, (int)ip.TotalLength);
        return end >= l4 + 8 + 20 && n[l4] is 3 or 4 or 11 or 12 ? (l4, end) : null;
    }

    /// <summary>
    /// Undoes a connection's NAT on a packet seen after it (Observe mode: a capture point behind the
    /// NAT): the packet gets the addresses and ports of <paramref name="preNat"/>, checksums kept right,
    /// without a trace stage.
    /// </summary>
    public static void Reconstruct(SkBuff skb, ConntrackTuple preNat)
    {
        Rewrite(skb, null, source: true, preNat.Source, preNat.SourcePort, "", preNat.IsIcmp ? preNat.IcmpId : null);
        Rewrite(skb, null, source: false, preNat.Destination, preNat.DestinationPort, "");
    }

    /// <summary>Writes an address (and port) into the packet, keeping the IPv4 and transport checksums right.</summary>
    private static void Rewrite(SkBuff skb, TraceBuilder? t, bool source, IpAddr address, ushort port, string why, ushort? icmpId = null)
    {
        bool v6 = skb.Protocol == EtherTypes.Ipv6;
        if (!AddressRewrite.Rewrite(skb.Network, v6, source, address, port, out var old, out var oldPort)) return;
        string portText = oldPort is { } was ? $" port {was} -> {port}" : "";
        if (icmpId is { } id && AddressRewrite.RewriteIcmpId(skb.Network, v6, id, out var oldId) && oldId != id) portText = $" ICMP id {oldId} -> {id}";
        if (t is not null && (old != address || portText.Length > 0))
            t.Stage(skb, "NfNatManip", source ? "nf_nat_manip_pkt (source)" : "nf_nat_manip_pkt (destination)", Verdict.Pass,
                $"{why}: {(source ? "source" : "destination")} {old} -> {address}{portText}");
    }
}
