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
    public static IpAddr? Select(NetNamespace ns, IpAddr dst)
    {
        var res = ns.Fib.Lookup(dst, null, "lo", null, 0);
        if (!res.Found || res.Route is not { } r) return null;
        if (r.PreferredSource is { } pref) return pref;
        var next = r.Gateway ?? dst;
        var candidates = (r.Device is null ? ns.Addresses : ns.AddressesOf(r.Device)).Where(a => a.Address.Family == dst.Family).ToList();
        if (dst.IsV6)
            candidates = candidates.Where(a => a.Address.IsLinkLocal == dst.IsLinkLocal).DefaultIfEmpty(candidates.FirstOrDefault()!).Where(a => a is not null).ToList();
        var inSubnet = candidates.FirstOrDefault(a => a.Prefix.Contains(next));
        return (inSubnet ?? candidates.FirstOrDefault())?.Address
            ?? ns.Addresses.FirstOrDefault(a => a.Address.Family == dst.Family && !a.Address.IsLoopback)?.Address;
    }
}
