using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Routing;

/// <summary>
/// ECMP for IPv6 (net/ipv6/route.c rt6_multipath_hash and fib6_select_path). The hash is the IPv4 one
/// (fib_multipath_hash_from_keys, keyed by net.ipv4.fib_multipath_hash_seed) over IPv6 flow keys chosen
/// by net.ipv6.fib_multipath_hash_policy: 0 = addresses, flow label and next header of the fixed
/// header (for an ICMPv6 error, those of the datagram inside it: ip6_multipath_l3_keys), 1 = addresses,
/// protocol and ports as the flow dissector finds them, 2 = addresses, flow label and protocol as the
/// dissector finds them (no encapsulation modelled). The siblings of a multipath route get upper bounds
/// from their weights (rt6_multipath_rebalance) and the first whose bound is not below the hash wins.
/// </summary>
public static class Rt6Multipath
{
    private const byte IcmpV6 = 58;

    /// <summary>rt6_multipath_hash for a packet: <paramref name="local"/> when the host sends it (the
    /// struct flowi6 of the output lookup, no skb: the flow label the socket set, normally 0).</summary>
    [KernelSymbol("rt6_multipath_hash", "net/ipv6/route.c")]
    public static (uint Hash, string How, string Tap) Hash(NetNamespace ns, ReadOnlySpan<byte> network, bool local = false) =>
        Hash(ns, network, local, out _);

    private static (uint Hash, string How, string Tap) Hash(NetNamespace ns, ReadOnlySpan<byte> network, bool local, out MultipathFlow keyFlow)
    {
        int policy = FibMultipath.Policy(ns, IpFamily.V6);
        uint seed = FibMultipath.Seed(ns);
        var keys = policy switch
        {
            1 => L4Keys(network, local),
            2 => L4Keys(network, local) with { SourcePort = 0, DestinationPort = 0, FlowLabel = local ? 0 : FlowLabelOf(network) },
            _ => L3Keys(network, local),
        };
        uint hash = FibMultipath.Hash(keys, seed);
        keyFlow = keys;
        string unsupported = policy is 0 or 1 or 2 ? "" : $" (unsupported: hash policy {policy} is hashed as policy 0)";
        string how = $"hash policy {policy}{unsupported} ({FibMultipath.Keys(keys, policy == 1)}{(local && policy != 1 ? ", the output lookup's flow label" : "")}), {FibMultipath.SeedText(seed)}";
        string tap = policy == 1 && !local && (keys.SourcePort | keys.DestinationPort) != 0 ? FibMultipath.CaptureHashNote : "";
        return (hash, how, tap);
    }

    /// <summary>fib6_select_path: the sibling whose upper bound covers the hash, or the group's choice for `nhid`.</summary>
    [KernelSymbol("fib6_select_path", "net/ipv6/route.c")]
    public static FibMultipath.Choice Select(NetNamespace ns, Route route, ReadOnlySpan<byte> network, bool local = false)
    {
        var (hash, how, tap) = Hash(ns, network, local, out var keys);
        MultipathFlow? captured = tap == "" ? null : keys;
        if (route.NexthopId is { } id) return NexthopGroup.Select(ns, route, id, hash, how, tap) with { CaptureHashed = captured };
        var nhs = route.Nexthops!;
        // rt6_multipath_rebalance: a dead sibling (its device down) gets upper bound -1, which no hash is under.
        var upper = FibMultipath.UpperBounds(nhs, nh => FibMultipath.Alive(ns, nh));
        int chosen = Array.FindIndex(upper, u => u >= 0 && hash <= u);
        if (chosen < 0) chosen = Math.Max(0, Array.FindIndex(upper, u => u >= 0));
        return new FibMultipath.Choice(nhs[chosen], hash, $"{how}: hash {hash} -> {nhs[chosen]}; nexthops {FibMultipath.Candidates(nhs, upper)}{tap}")
        {
            CaptureHashed = captured,
            Allowed = captured is null ? Array.Empty<RouteNexthop>() : nhs.Where((_, i) => upper[i] >= 0).ToArray(), // read only for a capture-hashed flow
        };
    }

    private static uint FlowLabelOf(ReadOnlySpan<byte> network) =>
        Ipv6Header.TryParse(network, out var ip6, out _) ? ip6.FlowLabel : 0;

    /// <summary>
    /// ip6_multipath_l3_keys: the fixed header's addresses, flow label and next header, or those of
    /// the datagram inside an ICMPv6 error (destination unreachable, packet too big, time exceeded,
    /// parameter problem: icmpv6_is_err) right after the fixed header (the skb's transport offset).
    /// </summary>
    private static MultipathFlow L3Keys(ReadOnlySpan<byte> network, bool local)
    {
        if (!Ipv6Header.TryParse(network, out var ip6, out _)) return default;
        var key = ip6;
        if (!local && ip6.NextHeader == IcmpV6 && network.Length >= 48 && network[40] is >= 1 and <= 4
            && Ipv6Header.TryParse(network[48..], out var inner, out _))
            key = inner;
        return new MultipathFlow(key.Source, key.Destination, key.NextHeader, 0, 0) { FlowLabel = local ? 0 : key.FlowLabel };
    }

    /// <summary>
    /// The flow dissector's keys (skb_flow_dissect_flow_keys): the protocol after the extension headers
    /// and the ports of TCP, UDP, UDP-Lite, SCTP and DCCP, none for a fragment. A locally sent ICMPv6
    /// message carries its type and code where struct flowi6 keeps the destination port.
    /// </summary>
    private static MultipathFlow L4Keys(ReadOnlySpan<byte> network, bool local)
    {
        if (!Ipv6Header.TryParse(network, out var ip6, out _)) return default;
        var after = network[Ipv6Header.HeaderLength..];
        Ipv6ExtensionHeaders.Walk(ip6.NextHeader, after, out var chain);
        byte proto = chain.UpperProtocol;
        var l4 = chain.UpperOffset <= after.Length ? after[chain.UpperOffset..] : default;
        ushort sport = 0, dport = 0;
        if (!chain.HasFragment && chain.Problem is null && l4.Length >= 4)
        {
            if (proto is IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.UdpLite or IpProtocol.Sctp or 33 /* DCCP */)
                (sport, dport) = (BinaryPrimitives.ReadUInt16BigEndian(l4), BinaryPrimitives.ReadUInt16BigEndian(l4[2..]));
            else if (local && proto == IcmpV6)
                dport = BinaryPrimitives.ReadUInt16BigEndian(l4);
        }
        return new MultipathFlow(ip6.Source, ip6.Destination, proto, sport, dport);
    }
}
