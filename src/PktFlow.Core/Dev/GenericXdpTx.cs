using PktFlow.Datapath;

namespace PktFlow.Dev;

/// <summary>
/// generic_xdp_tx (net/core/dev.c): a frame generic XDP sent back (XDP_TX) or redirected goes straight
/// to the device's driver (netdev_start_xmit) under its queue's lock, past what dev_queue_xmit does:
/// no netdev egress hook, no tc egress, no qdisc and no taps (xmit_one's dev_queue_xmit_nit is not on
/// this path, so tcpdump on the sending device does not see it; on a veth the peer does).
/// </summary>
public static class GenericXdpTx
{
    [KernelSymbol("generic_xdp_tx", "net/core/dev.c")]
    public static void Xmit(SkBuff skb, TraceBuilder t, string detail)
    {
        t.Stage(skb, "Xdp", "generic_xdp_tx", Verdict.Pass, $"{detail}: netdev_start_xmit on {skb.Dev.Name}, past the egress hooks and the taps");
        DevQueueXmit.StartXmit(skb, t, Fate.Forwarded, fromXdp: true);
    }
}
