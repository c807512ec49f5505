using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Nftables;
using PktFlow.Wire;

namespace PktFlow.Netfilter;

/// <summary>
/// get_unique_tuple (net/netfilter/nf_nat_core.c): the connection's new original-direction tuple for a
/// NAT statement, unique in the table so that replies find the connection. In order: source NAT without
/// random keeps the original tuple when it is already in range, or reuses the mapping an existing
/// connection from the same source address and port got (find_appropriate_src); then the manipulated
/// address with the original port is kept when its reply tuple is unused (or the port is the only one
/// allowed); otherwise nf_nat_l4proto_unique_tuple searches the port range from a random offset.
/// </summary>
/// <remarks>
/// The search: the range is the statement's ports, or, without ports, for source NAT of a port below 512
/// 1-511, below 1024 600-1023, else 1024-65535 (destination NAT without ports keeps the port); an ICMP
/// query's identifier is searched over 0-65535. The offset is get_random_u16(), in the model a draw from
/// the replay's seeded generator; at most 128 ports (NF_NAT_MAX_ATTEMPTS) are tried, then a new random
/// offset with half as many tries, down to 16. random / fully-random skip the keeping steps; persistent
/// only changes how an address is chosen from an address range (find_best_ips_proto, <see cref="NfNatRange.FindBestIp"/>).
/// nf_nat_used_tuple_harder's eviction of closing TCP connections is not modelled.
/// </remarks>
internal static class NfNatUniqueTuple
{
    private const int MaxAttempts = 128; // NF_NAT_MAX_ATTEMPTS

    /// <summary>The new original tuple and, in words, how its port was chosen.</summary>
    /// <param name="observed">Observe mode: the tuple the capture shows the packet leaving with after NAT. When the
    /// kernel had to pick a random port, the one it picked is that one (if it is in the range and free here).</param>
    public static (ConntrackTuple Tuple, string How) Choose(ConntrackTable table, NftState random, ConntrackEntry ct, (IpAddr Min, IpAddr Max) range, NatAction nat, bool source,
        ConntrackTuple? observed = null)
    {
        bool InAddressRange(IpAddr a) => a.Family == range.Min.Family && a.CompareTo(range.Min) >= 0 && a.CompareTo(range.Max) <= 0;
        var orig = ConntrackEntry.Invert(ct.Reply); // the current original tuple (after an earlier manipulation)
        bool ports = ConntrackProtocols.HasPorts(orig.Protocol) && !orig.IsIcmp;
        bool specified = nat.PortMin is not null && (ports || orig.IsIcmp);
        int min = nat.PortMin ?? 0, max = nat.PortMax ?? min;
        if (max < min) (min, max) = (max, min);
        bool Used(in ConntrackTuple t) => table.TupleTaken(ConntrackEntry.Invert(t), ct);
        bool KeyInRange(in ConntrackTuple t) => !specified || Key(t, source) is var k && k >= min && k <= max;
        string what = orig.IsIcmp ? "ICMP id" : "port";

        if (source && !nat.RandomAll)
        {
            if (InAddressRange(orig.Source) && KeyInRange(orig))
            {
                if (!Used(orig)) return (orig, $"the original tuple is in range and unused");
            }
            else if (FindAppropriateSource(table, ct, InAddressRange, source) is { } mapped && KeyInRange(mapped) && !Used(mapped))
                return (mapped, $"{what} {Key(mapped, source)}: the mapping of an existing connection from the same source address and {what} (find_appropriate_src)");
        }
        var tuple = WithAddress(orig, NfNatRange.FindBestIp(orig, range.Min, range.Max, nat.Flags.Contains("persistent"), source, ct.Zone), source);
        if (!nat.RandomAll)
        {
            if (specified)
            {
                if (KeyInRange(tuple) && (min == max || !Used(tuple))) return (tuple, $"{what} {Key(tuple, source)} kept (in the statement's range{(min == max ? "" : " and unused")})");
            }
            else if (!Used(tuple)) return (tuple, $"{what} {Key(tuple, source)} kept: the reply tuple it gives is unused");
        }

        // nf_nat_l4proto_unique_tuple
        int lo, size;
        if (orig.IsIcmp) (lo, size) = specified ? (min, max - min + 1) : (0, 65536);
        else if (!ports) return (tuple, "protocol without ports: nothing to search");
        else if (specified) (lo, size) = (min, max - min + 1);
        else if (!source) return (tuple, $"port {Key(tuple, source)} kept: destination NAT without ports never changes it");
        else
        {
            int p = Key(orig, source);
            (lo, size) = p < 512 ? (1, 511) : p < 1024 ? (600, 424) : (1024, 64512);
        }
        string why = nat.RandomAll ? $"{string.Join(" ", nat.Flags.Where(f => f != "persistent"))}: the kernel always picks" : $"{what} {Key(tuple, source)} is taken (its reply tuple belongs to another connection): the kernel picks";
        string rangeText = $"{lo}-{lo + size - 1}";
        if (size == 1)
        {
            var only = WithKey(tuple, (ushort)lo, source);
            return (only, Used(only) ? $"{what} {lo}, the only one in range, is taken: the connection will clash at confirmation" : $"{what} {lo}, the only one in range");
        }
        if (observed is { } seen && WithKey(tuple, Key(seen, source), source) == seen && Key(seen, source) - lo is var at && at >= 0 && at < size && !Used(seen))
            return (seen, $"{why} a random {what} (get_random_u16 offset into {rangeText}); the capture shows the one it picked, {Key(seen, source)}, which the model adopts");
        int attempts = Math.Min(size, MaxAttempts), tries = 0;
        while (true)
        {
            int off = random.RandomU16();
            for (int i = 0; i < attempts; i++, off++)
            {
                tries++;
                tuple = WithKey(tuple, (ushort)(lo + off % size), source);
                if (!Used(tuple))
                    return (tuple, $"{why} a random {what} (get_random_u16 offset into {rangeText}; the model draws it from the replay's seed {random.Seed}, the kernel's value differs): {Key(tuple, source)}{(tries > 1 ? $" after {tries} tries" : "")}");
            }
            if (attempts >= size || attempts < 16)
                return (tuple, $"{why} a random {what} in {rangeText} but found none free: {Key(tuple, source)} clashes at confirmation");
            attempts /= 2;
        }
    }

    /// <summary>find_appropriate_src: an existing source-NATed connection from the same source address,
    /// protocol and port (ICMP id) lends its mapping, when it maps into the statement's address range.</summary>
    private static ConntrackTuple? FindAppropriateSource(ConntrackTable table, ConntrackEntry ct, Func<IpAddr, bool> inRange, bool source)
    {
        var o = ConntrackEntry.Invert(ct.Reply);
        foreach (var e in table.Entries)
        {
            if (ReferenceEquals(e, ct) || !e.SourceNat || e.Zone != ct.Zone) continue;
            var eo = e.Original;
            if (eo.Protocol != o.Protocol || eo.Source != o.Source || eo.SourcePort != o.SourcePort) continue;
            // the other connection's source as NAT made it: its reply tuple's destination (an ICMP id is the reply's id)
            var mappedAddress = e.Reply.Destination;
            if (!inRange(mappedAddress)) continue;
            ushort key = o.IsIcmp ? e.Reply.IcmpId : e.Reply.DestinationPort;
            return WithKey(WithAddress(o, mappedAddress, source), key, source);
        }
        return null;
    }

    /// <summary>The port (or ICMP id) NAT of this type changes.</summary>
    private static ushort Key(in ConntrackTuple t, bool source) => t.IsIcmp ? t.IcmpId : source ? t.SourcePort : t.DestinationPort;

    private static ConntrackTuple WithKey(in ConntrackTuple t, ushort key, bool source) =>
        t.IsIcmp || source ? t with { SourcePort = key } : t with { DestinationPort = key };

    private static ConntrackTuple WithAddress(in ConntrackTuple t, IpAddr address, bool source) =>
        source ? t with { Source = address } : t with { Destination = address };
}
