using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.Dev;

/// <summary>The transmit end of the path: neighbour output, then __dev_queue_xmit (see kernel-path.md, "Transmit").</summary>
public static class DevQueueXmit
{
    [KernelSymbol("neigh_output", "include/net/neighbour.h")]
    public static void NeighOutput(SkBuff skb, TraceBuilder t, IpAddr nextHop, Fate fate, string detail)
    {
        t.NotModelled(skb, "NeighOutput", "neigh_output",
            $"{detail}: neighbour resolution is not modelled yet (the next hop's MAC is assumed known)");
        Xmit(skb, t, fate);
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
