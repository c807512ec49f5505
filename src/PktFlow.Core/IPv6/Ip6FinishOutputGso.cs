using PktFlow.Datapath;
using PktFlow.IPv4;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.IPv6;

/// <summary>
/// __ip6_finish_output for a GSO skb (net/ipv6/ip6_output.c, ip6_finish_output_gso): whole when every
/// segment fits the MTU; otherwise segmented here (ip6_finish_output_gso_slowpath_drop), a segment
/// longer than the MTU through ip6_fragment and a shorter one (the last) sent as it is, so that no
/// atomic fragment is made (RFC 8021). The walk is IPv4's (<see cref="IpFinishOutputGso"/>).
/// </summary>
public static class Ip6FinishOutputGso
{
    /// <summary>Returns false for a packet that is not GSO.</summary>
    [KernelSymbol("ip6_finish_output_gso", "net/ipv6/ip6_output.c")]
    public static bool Output(SkBuff skb, TraceBuilder t, NetDevice outDev, IpAddr nextHop, Fate fate, string via, int mtu) =>
        IpFinishOutputGso.Run(skb, t, outDev, nextHop, fate, via, mtu, v6: true);
}
