using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.Netfilter.Nftables;

namespace PktFlow.Netfilter;

/// <summary>
/// nft fwd at the netdev hooks: nf_fwd_netdev_egress hands the packet to the device's transmit
/// (dev_queue_xmit, with its egress hooks and driver), as tc mirred redirect does; the rule set's verdict
/// is NF_STOLEN. fwd ip to ADDRESS resolves ADDRESS's neighbour on the device (neigh_xmit), which the
/// model does not follow: that packet ends as unsupported.
/// </summary>
internal static class NfFwdNetdev
{
    [KernelSymbol("nf_fwd_netdev_egress", "net/netfilter/nf_dup_netdev.c")]
    public static void Egress(SkBuff skb, TraceBuilder t, FwdStmt fwd, bool fromIngress)
    {
        if (skb.Netns.Device(fwd.Device) is not { } target)
        {
            // nft_fwd_netdev_eval: no such device, the packet is dropped (dev_get_by_index_rcu failed)
            t.End(Fate.Dropped, $"fwd to {fwd.Device}: no such device");
            return;
        }
        if (fwd.Address is { } addr)
        {
            t.Unsupported(skb, $"fwd ip to {addr} device {fwd.Device}: the neighbour transmit (neigh_xmit) is not modelled");
            return;
        }
        if (skb.MacHeader < 0) { t.Unsupported(skb, $"the packet has no Ethernet header to send on {target.Name}"); return; }
        if (++skb.Hops > DevQueueXmit.MaxHops)
        {
            t.Unsupported(skb, $"more than {DevQueueXmit.MaxHops} device crossings: a fwd loop?");
            return;
        }
        t.Note($"fwd to {target.Name}: the packet is transmitted out of {target.Name} (nf_fwd_netdev_egress)");
        skb.Dev = target;
        DevQueueXmit.Xmit(skb, t, fromIngress ? Fate.Forwarded : Fate.Transmitted);
    }
}
