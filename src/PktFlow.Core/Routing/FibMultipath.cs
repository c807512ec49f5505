using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Routing;

/// <summary>What one IPv4 packet gives the multipath hash (struct flowi4 or the dissected skb).</summary>
public readonly record struct MultipathFlow(IpAddr Source, IpAddr Destination, byte Protocol, ushort SourcePort, ushort DestinationPort)
{
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
    public sealed record Choice(RouteNexthop Nexthop, uint Hash, string Detail);

    [KernelSymbol("fib_select_multipath", "net/ipv4/fib_semantics.c")]
    public static Choice Select(NetNamespace ns, Route route, MultipathFlow flow, MultipathFlow icmpErrorInner, IpAddr? outputSource = null)
    {
        var nhs = route.Nexthops!;
        int policy = int.TryParse(ns.Sysctls.Get("net.ipv4.fib_multipath_hash_policy")?.Trim(), out var p) ? p : 0;
        uint seed = uint.TryParse(ns.Sysctls.Get("net.ipv4.fib_multipath_hash_seed")?.Trim(), out var s) ? s : 0;
        var keyFlow = policy switch
        {
            0 => icmpErrorInner with { Protocol = 0, SourcePort = 0, DestinationPort = 0 },
            1 => flow,
            _ => flow with { Protocol = 0, SourcePort = 0, DestinationPort = 0 }, // policy 2 without encapsulation: the outer L3 header
        };
        uint hash = Hash(keyFlow, seed);
        // fib_rebalance: nexthops on a down device are dead (RTNH_F_DEAD) and get upper bound -1.
        long total = nhs.Where(n => Alive(ns, n)).Sum(n => (long)n.Weight);
        long w = 0;
        RouteNexthop? chosen = null, first = null;
        var parts = new List<string>();
        foreach (var nh in nhs)
        {
            long upper = -1;
            if (Alive(ns, nh) && total > 0)
            {
                w += nh.Weight;
                upper = ((w << 31) + total / 2) / total - 1; // DIV_ROUND_CLOSEST_ULL
            }
            parts.Add($"{nh} (upper bound {upper})");
            if (upper < 0 || chosen is not null) continue;
            bool saddrOk = outputSource is not { } src || ns.AddressesOf(nh.Device).Any(a => a.Address == src);
            if (first is null) first = nh;
            if (hash <= upper && saddrOk) chosen = nh;
        }
        chosen ??= first ?? nhs[0];
        string keys = policy == 1 ? $"{keyFlow.Source} > {keyFlow.Destination} proto {keyFlow.Protocol} ports {keyFlow.SourcePort} > {keyFlow.DestinationPort}" : $"{keyFlow.Source} > {keyFlow.Destination}";
        string seedText = seed == 0
            ? "net.ipv4.fib_multipath_hash_seed is unset: the kernel's key is random per boot, so any live nexthop may be the kernel's choice; the model hashes with seed 0"
            : $"seed {seed}";
        // Policy 1 short-circuits on skb->l4_hash, which a packet socket's TPACKET_V3 rxhash (a running
        // capture) sets with the per-boot flow key before routing (seen recording ecmp-multipath on 6.18).
        string tap = policy == 1 && outputSource is null && (flow.SourcePort | flow.DestinationPort) != 0
            ? "; if a capture (packet socket) saw the packet before routing, it carries the per-boot flow hash (skb->l4_hash) and the kernel uses that instead: any live nexthop"
            : "";
        return new Choice(chosen, hash, $"hash policy {policy} ({keys}), {seedText}: hash {hash} -> {chosen}; nexthops {string.Join(", ", parts)}{tap}");
    }

    private static bool Alive(NetNamespace ns, RouteNexthop nh) => ns.Device(nh.Device) is { IsUp: true };

    /// <summary>
    /// fib_multipath_hash_from_keys for IPv4 keys, halved as fib_multipath_hash returns it: SipHash-2-4
    /// of struct flow_keys from its basic member (48 bytes for IPv4 on x86-64: basic, tags, vlan,
    /// cvlan, keyid, ports, icmp, the two addresses, padding), after __flow_hash_consistentify
    /// ordered addresses and ports, with the key built from the seed by fib_multipath_hash_construct_key.
    /// </summary>
    [KernelSymbol("fib_multipath_hash", "net/ipv4/route.c")]
    public static uint Hash(MultipathFlow f, uint seed)
    {
        Span<byte> keys = stackalloc byte[48];
        keys.Clear();
        keys[2] = f.Protocol; // basic.ip_proto (n_proto stays 0)
        Span<byte> src = stackalloc byte[4], dst = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(src, f.Source.V4Value);
        BinaryPrimitives.WriteUInt32BigEndian(dst, f.Destination.V4Value);
        // __flow_hash_consistentify compares the raw __be32 / __be16 values as integers (little-endian
        // loads on x86) and swaps addresses and ports together, so both directions of a flow hash alike.
        uint s32 = BinaryPrimitives.ReadUInt32LittleEndian(src), d32 = BinaryPrimitives.ReadUInt32LittleEndian(dst);
        ushort sport = BinaryPrimitives.ReverseEndianness(f.SourcePort), dport = BinaryPrimitives.ReverseEndianness(f.DestinationPort);
        if (d32 < s32 || (d32 == s32 && dport < sport))
        {
            var x = src.ToArray(); dst.CopyTo(src); x.CopyTo(dst);
            (sport, dport) = (dport, sport);
        }
        BinaryPrimitives.WriteUInt16LittleEndian(keys[28..], sport); // ports.src
        BinaryPrimitives.WriteUInt16LittleEndian(keys[30..], dport); // ports.dst
        src.CopyTo(keys[36..]); // addrs.v4addrs.src
        dst.CopyTo(keys[40..]); // addrs.v4addrs.dst
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
