using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.IPv6;
using PktFlow.Offload;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.IPv4;

/// <summary>
/// __ip_finish_output for a GSO skb (net/ipv4/ip_output.c): when every segment fits the MTU the
/// super-packet goes on whole (the device, or validate_xmit_skb in software, cuts it later); when
/// not (a GRO packet forwarded with DF clear, a sender's gso_size made for a bigger MTU), it is
/// segmented here and each segment goes through ip_fragment: fragmented when DF is clear, ICMP frag
/// needed and dropped when DF is set without ignore_df. IPv6 is the same shape (Ip6FinishOutputGso).
/// </summary>
public static class IpFinishOutputGso
{
    /// <summary>Returns false for a packet that is not GSO (the caller goes on with ip_fragment's checks).</summary>
    [KernelSymbol("ip_finish_output_gso", "net/ipv4/ip_output.c")]
    public static bool Output(SkBuff skb, TraceBuilder t, NetDevice outDev, IpAddr nextHop, Fate fate, string via, int mtu) =>
        Run(skb, t, outDev, nextHop, fate, via, mtu, v6: false);

    internal static bool Run(SkBuff skb, TraceBuilder t, NetDevice outDev, IpAddr nextHop, Fate fate, string via, int mtu, bool v6)
    {
        if (skb.Gso is not { } gso) return false;
        string s = v6 ? "Ip6FinishOutputGso" : "IpFinishOutputGso", f = v6 ? "ip6_finish_output_gso" : "ip_finish_output_gso";
        // IP6SKB_FAKEJUMBO: a jumbogram this host's ip6_xmit made is not validated (its hop-by-hop header goes before segmentation)
        bool fakeJumbo = v6 && gso.JumboHbh && fate == Fate.Transmitted;
        if (fakeJumbo || gso.ValidateNetworkLength(mtu))
        {
            t.Stage(skb, s, f, Verdict.Pass,
                $"{gso.Describe()}: {(fakeJumbo ? "a jumbogram of this host's own (IP6SKB_FAKEJUMBO, not validated)" : $"segments of {gso.SegmentLength} bytes fit MTU {mtu}")}; sent whole, segmented by {outDev.Name}'s TSO/GSO or validate_xmit_skb");
            DevQueueXmit.NeighOutput(skb, t, nextHop, fate, via);
            return true;
        }
        var segments = SkbGsoSegment.Segment(skb.Network, gso);
        t.Stage(skb, s, f, Verdict.Pass,
            $"{gso.Describe()}: segments of {gso.SegmentLength} bytes > MTU {mtu}: skb_gso_segment cuts {segments.Count} segments, each {(v6 ? "longer than the MTU through ip6_fragment" : "through ip_fragment")}; the trace follows the last");
        skb.Gso = null;
        for (int i = 0; i < segments.Count - 1; i++)
            IpFragment.OnScratch(skb, t, segments[i], v6 ? EtherTypes.Ipv6 : EtherTypes.Ipv4, outDev, $"segment {i + 1} of {segments.Count} ({segments[i].Length} bytes)",
                (seg, scratch) => SendSegment(seg, scratch, outDev, nextHop, fate, via, mtu, v6));
        skb.ReplaceNetwork(segments[^1]);
        SendSegment(skb, t, outDev, nextHop, fate, via, mtu, v6);
        return true;
    }

    private static void SendSegment(SkBuff seg, TraceBuilder t, NetDevice outDev, IpAddr nextHop, Fate fate, string via, int mtu, bool v6)
    {
        if (v6 ? Ip6Fragment.Output(seg, t, outDev, nextHop, fate, via, mtu) : IpFragment.Output(seg, t, outDev, nextHop, fate, via, mtu)) return;
        t.Stage(seg, v6 ? "Ip6FinishOutput" : "IpFinishOutput", v6 ? "ip6_finish_output" : "ip_finish_output", Verdict.Pass,
            $"segment of {seg.Length - seg.NetworkHeader} bytes fits MTU {mtu}");
        DevQueueXmit.NeighOutput(seg, t, nextHop, fate, via);
    }
}
