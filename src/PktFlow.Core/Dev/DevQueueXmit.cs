using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.Dev;

/// <summary>The transmit end of the path: neighbour output, then __dev_queue_xmit (see kernel-path.md, "Transmit").</summary>
public static class DevQueueXmit
{
    [KernelSymbol("neigh_output", "include/net/neighbour.h")]
    public static void NeighOutput(SkBuff skb, TraceBuilder t, IpAddr nextHop, Fate fate, string detail)
    {
        if (!skb.State.ObservedSenders.TryGetValue(skb.Dev.Name, out var senders))
        {
            t.NotModelled(skb, "NeighOutput", "neigh_output",
                $"{detail}: {skb.Dev.Name} is not the capture point, so whether {nextHop} answers ARP/ND is not known; assumed reachable");
            Xmit(skb, t, fate);
            return;
        }
        if (senders.Contains(nextHop))
        {
            t.Stage(skb, "NeighOutput", "neigh_output", Verdict.Pass, $"{detail}: {nextHop} is on the wire (it sends frames in this capture), so it resolves");
            Xmit(skb, t, fate);
            return;
        }
        // __neigh_event_send: the packet waits in the neighbour's queue while the kernel probes
        // (3 ARP requests / neighbour solicitations, a second apart); with no answer neigh_invalidate
        // frees it and tells the sender the host is unreachable.
        bool v6 = nextHop.IsV6;
        Ip(skb, out var source);
        t.Generate(v6 ? $"3 neighbour solicitations for {nextHop}, then ICMPv6 address unreachable to {source}"
                      : $"3 ARP requests for {nextHop}, then ICMP host unreachable to {source}");
        t.Drop(skb, "NeighResolve", v6 ? "neigh_invalidate" : "neigh_invalidate", v6 ? "NOT_SPECIFIED" : "NEIGH_FAILED",
            $"{detail}: {nextHop} never sends anything in this capture, so it would not answer {(v6 ? "neighbour solicitations" : "ARP")}: the queued packet is dropped when resolution fails");
    }

    private static void Ip(SkBuff skb, out IpAddr source)
    {
        var n = skb.Network;
        source = skb.Protocol == EtherTypes.Ipv6 ? IpAddr.ReadV6(n[8..]) : IpAddr.ReadV4(n[12..]);
    }

    [KernelSymbol("__dev_queue_xmit", "net/core/dev.c")]
    public static void Xmit(SkBuff skb, TraceBuilder t, Fate fate)
    {
        var dev = skb.Dev;
        t.NfHook(skb, NfFamily.Netdev, NfHook.Egress);
        t.NotModelled(skb, "TcEgress", "sch_handle_egress", "tc is not modelled yet");
        if (!dev.IsUp)
        {
            t.Drop(skb, "DevQueueXmit", "__dev_queue_xmit", "DEV_READY", $"{dev.Name} is down");
            return;
        }
        t.Stage(skb, "DevQueueXmit", "dev_hard_start_xmit", Verdict.Pass, $"sent on {dev.Name}");
        t.End(fate, $"dev_queue_xmit on {dev.Name}", $"{skb.Netns.Name}/{dev.Name}");
    }
}
