using PktFlow.Netfilter.Nftables;
using PktFlow.Wire;

namespace PktFlow.Netfilter;

/// <summary>
/// The address range of a NAT statement as nf_nat_setup_info receives it (struct nf_nat_range2): none (no
/// NF_NAT_RANGE_MAP_IPS: the address stays), one address, a range <c>a-b</c> or a prefix, or a range whose
/// network part replaces the packet's (NF_NAT_RANGE_NETMAP, nft_nat_setup_netmap).
/// </summary>
internal static class NfNatRange
{
    /// <summary>The address range the statement gives nf_nat_setup_info for <paramref name="current"/> (the
    /// connection's original tuple as earlier manipulations left it): no address keeps the current one, netmap
    /// narrows the range to one address; null when the range is of the other family (an inet table's
    /// <c>snat ip6 to</c> meeting an IPv4 connection). The range was parsed and checked when the ruleset loaded.</summary>
    public static (IpAddr Min, IpAddr Max)? Range(NatAction nat, Conntrack.ConntrackTuple current, bool destination)
    {
        var kept = destination ? current.Destination : current.Source;
        if (nat.AddressMin is not { } min) return (kept, kept);
        var max = nat.AddressMax ?? min;
        if (min.Family != kept.Family) return null;
        if (nat.Netmap) { var one = Netmap(kept, min, max); return (one, one); }
        return (min, max);
    }

    /// <summary>
    /// find_best_ips_proto (net/netfilter/nf_nat_core.c): the address of a range for a connection. A jhash2 of
    /// the source address (the 16 bytes of union nf_inet_addr, words as a little-endian CPU reads them) with the
    /// initial value the destination's last word xor the zone id (0 with persistent) scales into the range,
    /// 32 bits at a time; after a word below the range's end the remaining words take the full 32-bit range;
    /// without persistent each step mixes in the destination's word (for DNAT the one just chosen).
    /// </summary>
    public static IpAddr FindBestIp(in Conntrack.ConntrackTuple tuple, IpAddr min, IpAddr max, bool persistent, bool source, ushort zone)
    {
        if (min == max) return min;
        Span<byte> src = stackalloc byte[16], dst = stackalloc byte[16], lo = stackalloc byte[16], hi = stackalloc byte[16];
        src.Clear(); dst.Clear(); lo.Clear(); hi.Clear();
        tuple.Source.Write(src); tuple.Destination.Write(dst); min.Write(lo); max.Write(hi);
        int last = min.IsV4 ? 0 : 3;
        static uint Cpu(ReadOnlySpan<byte> b, int i) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(b[(4 * i)..]);
        static uint Net(ReadOnlySpan<byte> b, int i) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(b[(4 * i)..]);
        uint j = Nftables.NftHashes.Jhash(src, persistent ? 0 : Cpu(dst, last) ^ zone);
        var chosen = source ? src : dst;
        bool fullRange = false;
        for (int i = 0; i <= last; i++)
        {
            uint minip = fullRange ? 0 : Net(lo, i);
            uint dist = fullRange ? ~0u : Net(hi, i) - minip + 1;
            uint v = minip + Nftables.NftHashes.Scale(j, dist);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(chosen[(4 * i)..], v);
            if (v != Net(hi, i)) fullRange = true;
            if (!persistent) j ^= Cpu(dst, i);
        }
        return min.IsV4 ? IpAddr.ReadV4(chosen) : IpAddr.ReadV6(chosen);
    }

    /// <summary>nft_nat_setup_netmap (net/netfilter/nft_nat.c): the bits where the range's ends agree come from the range, the others from the packet.</summary>
    public static IpAddr Netmap(IpAddr packet, IpAddr min, IpAddr max)
    {
        if (packet.IsV4)
        {
            uint mask = ~(min.V4Value ^ max.V4Value);
            return IpAddr.V4((packet.V4Value & ~mask) | (min.V4Value & mask));
        }
        Span<byte> p = stackalloc byte[16], lo = stackalloc byte[16], hi = stackalloc byte[16];
        packet.Write(p); min.Write(lo); max.Write(hi);
        for (int i = 0; i < 16; i++)
        {
            byte mask = (byte)~(lo[i] ^ hi[i]);
            p[i] = (byte)((p[i] & ~mask) | (lo[i] & mask));
        }
        return IpAddr.ReadV6(p);
    }
}
