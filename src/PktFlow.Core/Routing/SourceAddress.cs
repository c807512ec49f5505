using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Routing;

/// <summary>
/// The source address the kernel picks for a packet it sends without one (fl4.saddr = 0): the output
/// route's preferred source, else inet_select_addr on the route's device (a primary address in the
/// subnet of the next hop, else the first one of scope at most the route's); for IPv6
/// ipv6_dev_get_saddr reduced to its first rules (same scope as the destination, longest matching prefix).
/// </summary>
public static class SourceAddress
{
    [KernelSymbol("inet_select_addr", "net/ipv4/devinet.c")]
    [KernelSymbol("ipv6_dev_get_saddr", "net/ipv6/addrconf.c")]
    /// <param name="answered">The packet an ICMP error answers: over a multipath route the nexthop is
    /// chosen first, hashed on that packet (fib_select_path / fib6_select_path with saddr still 0), and
    /// the source is taken from the chosen nexthop's device, as fib_result_prefsrc / ip6_route_get_saddr do.</param>
    public static IpAddr? Select(NetNamespace ns, IpAddr dst, ReadOnlySpan<byte> answered = default)
    {
        var res = ns.Fib.Lookup(dst, null, "lo", null, 0);
        if (!res.Found || res.Route is not { } r) return null;
        if (r.PreferredSource is { } pref) return pref;
        var (device, gateway) = (r.Device, r.Gateway);
        if (r.Nexthops is { Count: > 1 } && !answered.IsEmpty)
        {
            var nh = dst.IsV6
                ? Rt6Multipath.Select(ns, r, answered).Nexthop
                : FibMultipath.Select(ns, r, MultipathFlow.Of(answered, out var inner), inner).Nexthop;
            (device, gateway) = (nh.Device, nh.Gateway);
        }
        var next = gateway ?? dst;
        var candidates = (device is null ? ns.Addresses : ns.AddressesOf(device)).Where(a => a.Address.Family == dst.Family).ToList();
        if (dst.IsV6)
            candidates = candidates.Where(a => a.Address.IsLinkLocal == dst.IsLinkLocal).DefaultIfEmpty(candidates.FirstOrDefault()!).Where(a => a is not null).ToList();
        var inSubnet = candidates.FirstOrDefault(a => a.Prefix.Contains(next));
        return (inSubnet ?? candidates.FirstOrDefault())?.Address
            ?? ns.Addresses.FirstOrDefault(a => a.Address.Family == dst.Family && !a.Address.IsLoopback)?.Address;
    }
}
