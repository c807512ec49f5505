using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Routing;

/// <summary>What one packet gives the multipath hash (struct flowi4 / flowi6 or the dissected skb).</summary>
public readonly record struct MultipathFlow(IpAddr Source, IpAddr Destination, byte Protocol, ushort SourcePort, ushort DestinationPort)
{
    /// <summary>IPv6 only: the 20-bit flow label (flow_keys.tags.flow_label).</summary>
    public uint FlowLabel { get; init; }

    /// <summary>
    /// The flow of an IPv4 packet as the forwarding path sees it: ports for TCP, UDP, UDP-Lite, SCTP,
    /// DCCP (proto_ports_offset 0) and none for fragments; <paramref name="icmpErrorInner"/> gives the
    /// addresses of the datagram inside an ICMP error (ip_multipath_l3_keys, policy 0).
    /// </summary>
    public static MultipathFlow Of(ReadOnlySpan<byte> network, out MultipathFlow icmpErrorInner)
    {
        icmpErrorInner = default;
        if (!Ipv4Header.TryParse(network, out var ip, out _)) return default;
        var l4 = network[Math.Min(ip.HeaderLength, network.Length)..];
        bool fragment = ip.FragmentOffset != 0 || ip.MoreFragments;
        ushort sport = 0, dport = 0;
        if (!fragment && l4.Length >= 4 && ip.Protocol is IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.UdpLite or IpProtocol.Sctp or 33 /* DCCP */)
        {
            sport = BinaryPrimitives.ReadUInt16BigEndian(l4);
            dport = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
        }
        var flow = new MultipathFlow(ip.Source, ip.Destination, ip.Protocol, sport, dport);
        icmpErrorInner = flow;
        // icmp_is_err: destination unreachable, source quench, redirect, time exceeded, parameter problem.
        if (ip.Protocol == IpProtocol.Icmp && ip.FragmentOffset == 0 && l4.Length >= 8 && l4[0] is 3 or 4 or 5 or 11 or 12
            && Ipv4Header.TryParse(l4[8..], out var inner, out _))
            icmpErrorInner = flow with { Source = inner.Source, Destination = inner.Destination };
        return flow;
    }
}

/// <summary>
/// ECMP for IPv4 (net/ipv4/route.c fib_multipath_hash, net/ipv4/fib_semantics.c fib_rebalance and
/// fib_select_multipath). The kernel hashes a struct flow_keys with SipHash keyed by
/// net.ipv4.fib_multipath_hash_seed (6.11+; unset = a random key per boot), halves the hash and takes
/// the first live nexthop whose upper bound (its cumulative weight scaled to 2^31) is not below it.
/// Checked against `ip route get ... iif` on 6.18 for policies 0 and 1 (tests pin those answers).
/// </summary>
public static class FibMultipath
{
    /// <summary>The chosen nexthop and how: the hash, its policy and seed, every candidate with its weight.</summary>
    public sealed record Choice(RouteNexthop Nexthop, uint Hash, string Detail)
    {
        /// <summary>Set when the kernel would hash a capture's skb->l4_hash instead (policy 1, ports, forwarded): the flow.</summary>
        public MultipathFlow? CaptureHashed { get; init; }
        /// <summary>The nexthops the choice could take (live, or good group members), in order.</summary>
        public IReadOnlyList<RouteNexthop> Allowed { get; init; } = Array.Empty<RouteNexthop>();
    }

    [KernelSymbol("fib_select_multipath", "net/ipv4/fib_semantics.c")]
    public static Choice Select(NetNamespace ns, Route route, MultipathFlow flow, MultipathFlow icmpErrorInner, IpAddr? outputSource = null)
    {
        var nhs = route.Nexthops!;
        int policy = Policy(ns, IpFamily.V4);
        uint seed = Seed(ns);
        var keyFlow = policy switch
        {
            0 => icmpErrorInner with { Protocol = 0, SourcePort = 0, DestinationPort = 0 },
            1 => flow,
            _ => flow with { Protocol = 0, SourcePort = 0, DestinationPort = 0 }, // policy 2 without encapsulation: the outer L3 header
        };
        uint hash = Hash(keyFlow, seed);
        string how = $"hash policy {policy} ({Keys(keyFlow, policy == 1)}), {SeedText(seed)}";
        // Policy 1 short-circuits on skb->l4_hash, which a packet socket's TPACKET_V3 rxhash (a running
        // capture) sets with the per-boot flow key before routing (seen recording ecmp-multipath on 6.18).
        string tap = policy == 1 && outputSource is null && (flow.SourcePort | flow.DestinationPort) != 0 ? CaptureHashNote : "";
        if (route.NexthopId is { } id) return NexthopGroup.Select(ns, route, id, hash, how, tap) with { CaptureHashed = tap == "" ? null : flow };
        // fib_rebalance: nexthops on a down device are dead (RTNH_F_DEAD) and get upper bound -1.
        var upper = UpperBounds(nhs, nh => Alive(ns, nh));
        RouteNexthop? chosen = null, first = null;
        for (int i = 0; i < nhs.Count && chosen is null; i++)
        {
            var nh = nhs[i];
            if (upper[i] < 0) continue;
            bool saddrOk = outputSource is not { } src || ns.AddressesOf(nh.Device).Any(a => a.Address == src);
            if (first is null) first = nh;
            if (hash <= upper[i] && saddrOk) chosen = nh;
        }
        chosen ??= first ?? nhs[0];
        return new Choice(chosen, hash, $"{how}: hash {hash} -> {chosen}; nexthops {Candidates(nhs, upper)}{tap}")
        {
            CaptureHashed = tap == "" ? null : flow,
            Allowed = tap == "" ? Array.Empty<RouteNexthop>() : nhs.Where((_, i) => upper[i] >= 0).ToArray(), // read only for a capture-hashed flow
        };
    }

    internal const string CaptureHashNote =
        "; if a capture (packet socket) saw the packet before routing, it carries the per-boot flow hash (skb->l4_hash) and the kernel uses that instead: any live nexthop";

    /// <summary>net.ipv4/ipv6.fib_multipath_hash_policy of the namespace (0 when unset).</summary>
    internal static int Policy(NetNamespace ns, IpFamily family) =>
        int.TryParse(ns.Sysctls.Get($"net.{(family == IpFamily.V4 ? "ipv4" : "ipv6")}.fib_multipath_hash_policy")?.Trim(), out var p) ? p : 0;

    /// <summary>net.ipv4.fib_multipath_hash_seed, which keys the IPv6 hash as well (fib_multipath_hash_from_keys).</summary>
    internal static uint Seed(NetNamespace ns) =>
        uint.TryParse(ns.Sysctls.Get("net.ipv4.fib_multipath_hash_seed")?.Trim(), out var s) ? s : 0;

    internal static string SeedText(uint seed) => seed == 0
        ? "net.ipv4.fib_multipath_hash_seed is unset: the kernel's key is random per boot, so any live nexthop may be the kernel's choice; the model hashes with seed 0"
        : $"seed {seed}";

    internal static string Keys(MultipathFlow k, bool ports) =>
        $"{k.Source} > {k.Destination}{(k.Source.IsV6 && !ports ? $" flow label 0x{k.FlowLabel:x5} proto {k.Protocol}" : "")}{(ports ? $" proto {k.Protocol} ports {k.SourcePort} > {k.DestinationPort}" : "")}";

    /// <summary>
    /// fib_rebalance, rt6_multipath_rebalance and nh_hthr_group_rebalance alike: a live nexthop's upper
    /// bound is its cumulative weight scaled to 2^31 (rounded to closest) minus one; a dead one gets -1.
    /// </summary>
    internal static long[] UpperBounds(IReadOnlyList<RouteNexthop> nhs, Func<RouteNexthop, bool> alive)
    {
        long total = nhs.Where(alive).Sum(n => (long)n.Weight), w = 0;
        var upper = new long[nhs.Count];
        for (int i = 0; i < nhs.Count; i++)
        {
            upper[i] = -1;
            if (!alive(nhs[i]) || total <= 0) continue;
            w += nhs[i].Weight;
            upper[i] = ((w << 31) + total / 2) / total - 1; // DIV_ROUND_CLOSEST_ULL
        }
        return upper;
    }

    internal static string Candidates(IReadOnlyList<RouteNexthop> nhs, long[] upper) =>
        string.Join(", ", nhs.Select((nh, i) => $"{nh} (upper bound {upper[i]})"));

    internal static bool Alive(NetNamespace ns, RouteNexthop nh) => ns.Device(nh.Device) is { IsUp: true };

    /// <summary>
    /// fib_multipath_hash_from_keys, halved as fib_multipath_hash and rt6_multipath_hash return it:
    /// SipHash-2-4 of struct flow_keys from its basic member (x86-64 layout: basic, tags, vlan, cvlan,
    /// keyid, ports, icmp, then the addresses: 48 bytes with IPv4 addresses, 72 with IPv6, padding
    /// included), after __flow_hash_consistentify ordered addresses and ports, with the key built from
    /// the seed by fib_multipath_hash_construct_key.
    /// </summary>
    [KernelSymbol("fib_multipath_hash", "net/ipv4/route.c")]
    public static uint Hash(MultipathFlow f, uint seed)
    {
        bool v6 = f.Source.IsV6;
        int alen = v6 ? 16 : 4;
        Span<byte> keys = stackalloc byte[v6 ? 72 : 48];
        keys.Clear();
        keys[2] = f.Protocol; // basic.ip_proto (n_proto stays 0)
        BinaryPrimitives.WriteUInt32BigEndian(keys[4..], f.FlowLabel); // tags.flow_label, a raw __be32
        Span<byte> src = stackalloc byte[alen], dst = stackalloc byte[alen];
        f.Source.Write(src);
        f.Destination.Write(dst);
        // __flow_hash_consistentify orders the addresses (IPv4: the raw __be32 values compared as unsigned
        // integers, little-endian loads on x86; IPv6: memcmp) and, independently, the raw ports, so both
        // directions of a flow hash alike.
        ushort sport = BinaryPrimitives.ReverseEndianness(f.SourcePort), dport = BinaryPrimitives.ReverseEndianness(f.DestinationPort);
        int diff = v6 ? dst.SequenceCompareTo(src) : BinaryPrimitives.ReadUInt32LittleEndian(dst).CompareTo(BinaryPrimitives.ReadUInt32LittleEndian(src));
        if (diff < 0)
        {
            var x = src.ToArray(); dst.CopyTo(src); x.CopyTo(dst);
        }
        if (dport < sport) (sport, dport) = (dport, sport);
        BinaryPrimitives.WriteUInt16LittleEndian(keys[28..], sport); // ports.src
        BinaryPrimitives.WriteUInt16LittleEndian(keys[30..], dport); // ports.dst
        src.CopyTo(keys[36..]); // addrs.v4addrs / v6addrs .src
        dst.CopyTo(keys[(36 + alen)..]);
        ulong k = (ulong)seed << 32 | seed;
        uint hash = (uint)SipHash24(k, k, keys);
        if (hash == 0) hash = 1;
        return hash >> 1;
    }

    /// <summary>SipHash-2-4 (Aumasson and Bernstein), the kernel's siphash() over bytes.</summary>
    public static ulong SipHash24(ulong k0, ulong k1, ReadOnlySpan<byte> data)
    {
        ulong v0 = k0 ^ 0x736f6d6570736575UL, v1 = k1 ^ 0x646f72616e646f6dUL, v2 = k0 ^ 0x6c7967656e657261UL, v3 = k1 ^ 0x7465646279746573UL;
        int end = data.Length - data.Length % 8;
        for (int i = 0; i < end; i += 8)
        {
            ulong m = BinaryPrimitives.ReadUInt64LittleEndian(data[i..]);
            v3 ^= m;
            Round(ref v0, ref v1, ref v2, ref v3);
            Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= m;
        }
        ulong b = (ulong)(data.Length & 0xff) << 56;
        for (int i = 0; i < data.Length - end; i++) b |= (ulong)data[end + i] << (8 * i);
        v3 ^= b;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        v0 ^= b;
        v2 ^= 0xff;
        for (int i = 0; i < 4; i++) Round(ref v0, ref v1, ref v2, ref v3);
        return v0 ^ v1 ^ v2 ^ v3;
    }

    private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v0 += v1; v1 = ulong.RotateLeft(v1, 13); v1 ^= v0; v0 = ulong.RotateLeft(v0, 32);
        v2 += v3; v3 = ulong.RotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = ulong.RotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = ulong.RotateLeft(v1, 17); v1 ^= v2; v2 = ulong.RotateLeft(v2, 32);
    }
}
