using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.IPv4;

/// <summary>
/// rt_nexthop / rt6_nexthop as ip_finish_output2 and ip6_finish_output2 call them: the route's gateway, or
/// for a route without one the packet's destination as it is then, after the hooks (a payload statement
/// such as <c>ip daddr set</c> in forward or output sends the packet to the new address's neighbour; the
/// route itself was chosen for the old one).
/// </summary>
internal static class RtNexthop
{
    public static IpAddr Of(SkBuff skb, IpAddr? gateway, IpAddr routedTo)
    {
        if (gateway is { } gw) return gw;
        var n = skb.Network;
        if (routedTo.IsV4 && n.Length >= 20 && n[0] >> 4 == 4) return IpAddr.ReadV4(n.Slice(16, 4));
        if (!routedTo.IsV4 && n.Length >= 40 && n[0] >> 4 == 6) return IpAddr.ReadV6(n.Slice(24, 16));
        return routedTo;
    }
}
