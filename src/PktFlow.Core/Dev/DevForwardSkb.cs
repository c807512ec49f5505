using PktFlow.Datapath;
using PktFlow.Topology;

namespace PktFlow.Dev;

/// <summary>
/// __dev_forward_skb2 (net/core/dev.c): how veth_xmit and macvlan's dev_forward_skb hand a frame to a
/// device that receives it as if from the wire.
/// </summary>
public static class DevForwardSkb
{
    /// <summary>VLAN_HLEN: is_skb_forwardable leaves room for one VLAN tag.</summary>
    public const int VlanHlen = 4;

    /// <summary>
    /// is_skb_forwardable: <paramref name="to"/> is up and the frame (from its MAC header) is at most its
    /// MTU + the Ethernet header + VLAN_HLEN; a GSO packet is always forwardable.
    /// </summary>
    [KernelSymbol("is_skb_forwardable", "net/core/dev.c")]
    public static bool IsSkbForwardable(NetDevice to, int frameLength, bool gso) =>
        to.IsUp && (frameLength <= to.Mtu + Wire.EthernetFrame.MinHeaderLength + VlanHlen || gso);

    /// <summary>
    /// What follows the check: skb_scrub_packet (the conntrack reference always, the mark across namespaces), the priority cleared even
    /// within one, skb_orphan, outside any tcf_mirred_act (received from the backlog by netif_rx), and
    /// eth_type_trans on <paramref name="to"/> parses the frame again from its MAC header.
    /// </summary>
    [KernelSymbol("__dev_forward_skb2", "net/core/dev.c")]
    public static void Receive(SkBuff skb, TraceBuilder t, NetNamespace ns, NetDevice to)
    {
        if (skb.MacHeader < 0)
        {
            t.Unsupported(skb, $"the packet has no Ethernet header to hand to {to.Name}");
            return;
        }
        if (ns != skb.Netns) skb.Mark = 0; // skb_scrub_packet(skb, xnet)
        skb.Ct = null; // skb_scrub_packet: nf_reset_ct, whether or not the peer is in another namespace
        skb.Priority = 0;
        skb.NfBridge = null; // skb_scrub_packet: skb_ext_reset
        skb.Sk = null;
        skb.MirredNest = 0;
        skb.Netns = ns;
        skb.Dev = to;
        skb.TransportHeader = -1;
        skb.NetworkHeader = skb.MacHeader;
        NetifReceiveSkb.EthTypeTrans(skb, t);
    }
}
