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
    /// <summary>The one address the statement leads to for <paramref name="current"/> (the connection's
    /// original tuple as earlier manipulations left it), or null when a range leaves a choice.</summary>
    public static IpAddr? Address(NatAction nat, Conntrack.ConntrackTuple current, bool destination)
    {
        var kept = destination ? current.Destination : current.Source;
        if (nat.Address is null) return kept;
        if (Bounds(nat) is not var (min, max) || min.Family != kept.Family) return null;
        if (nat.Netmap) return Netmap(kept, min, max);
        return min == max ? min : null;
    }

    /// <summary>The first and last address of the statement's range: <c>a</c>, <c>a-b</c>, <c>a/n</c>, or Address with AddressMax.</summary>
    public static (IpAddr Min, IpAddr Max)? Bounds(NatAction nat)
    {
        var text = nat.Address!;
        if (nat.AddressMax is { } hi)
            return IpAddr.TryParse(text, out var a) && IpAddr.TryParse(hi, out var b) ? (a, b) : null;
        if (IpAddr.TryParse(text, out var one)) return (one, one);
        if (text.Split('/') is [var net, var len] && IpAddr.TryParse(net, out var n) && int.TryParse(len, out var l))
            return (n.Mask(l), n.HostBitsSet(l));
        int dash = text.IndexOf('-');
        return dash > 0 && IpAddr.TryParse(text[..dash], out var lo) && IpAddr.TryParse(text[(dash + 1)..], out var up) ? (lo, up) : null;
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
