using PktFlow.Datapath;
using PktFlow.Topology;

namespace PktFlow.Dev;

/// <summary>
/// A veth's ndo_xdp_xmit (drivers/net/veth.c): xdp_frames native XDP sent out of it (XDP_TX from its
/// own program, flushed by veth_xdp_flush_bq; XDP_REDIRECT from another device's, flushed by the
/// devmap bulk queue) go onto its peer's ptr_ring, and the peer's NAPI poll receives them
/// (veth_xdp_rcv_one): the peer's own program runs on the frame, then an skb is built for the stack.
/// No taps and no hooks on the sending side (recorded on 6.18: tests/scenarios/xdp-native-redirect).
/// </summary>
public static class VethXdpXmit
{
    internal static (NetNamespace? Ns, NetDevice? Peer) Peer(SkBuff skb, NetDevice dev)
    {
        var peerNs = skb.Engine.Topology.Namespace(dev.PeerNamespace ?? skb.Netns.Name);
        return (peerNs, dev.Peer is null ? null : peerNs?.Device(dev.Peer));
    }

    /// <summary>
    /// veth_xdp_xmit: the peer must poll a ring (its NAPI exists while it is up with a native XDP
    /// program of its own), else -ENXIO; a frame longer than the peer's MTU + hard_header_len +
    /// VLAN_HLEN is not put on it. Either way the frame is returned without an skb: only the flush's
    /// tracepoint (xdp_bulk_tx for XDP_TX, xdp_devmap_xmit for a redirect) counts it as dropped.
    /// </summary>
    [KernelSymbol("veth_xdp_xmit", "drivers/net/veth.c")]
    internal static void Xmit(SkBuff skb, TraceBuilder t, NetDevice dev, string tracepoint)
    {
        var (peerNs, peer) = Peer(skb, dev);
        if (peerNs is null || peer is null) { t.Unsupported(skb, $"xdp_frame out of {dev.Name}: its peer is outside the model"); return; }
        string to = $"{peerNs.Name}/{peer.Name}";
        if (!peer.IsUp || peer.Xdp is not { } px || !px.RunsNative(peer))
        {
            string why = peer.IsUp ? "no native XDP program, GRO off" : "down";
            t.Drop(skb, "Xdp", "veth_xdp_xmit", $"{tracepoint} -ENXIO",
                $"xdp_frame out of {dev.Name} to {to}: the peer has no NAPI ({why}), so veth_xdp_xmit refuses it (-ENXIO, counted by xdp:{tracepoint})");
            return;
        }
        int max = XdpDoGenericRedirect.MaxFrame(peer);
        if (skb.Length > max)
        {
            t.Drop(skb, "Xdp", "veth_xdp_xmit", tracepoint,
                $"{skb.Length}-byte xdp_frame out of {dev.Name}, {to} takes at most {max} (MTU {peer.Mtu} + 14 + VLAN_HLEN): not put on its ring (a drop in xdp:{tracepoint}, no error)");
            return;
        }
        if (++skb.Hops > DevQueueXmit.MaxHops) { t.Unsupported(skb, $"more than {DevQueueXmit.MaxHops} device crossings: a loop between namespaces?"); return; }
        skb.Dev = dev;
        skb.Engine.OnTransmit?.Invoke(skb.Netns.Name, dev.Name, skb.Data.ToArray());
        t.Stage(skb, "Xdp", "veth_xdp_xmit", Verdict.Pass, $"xdp_frame out of {dev.Name} onto {to}'s ring, past {dev.Name}'s taps");
        RcvOne(skb, t, peerNs, peer);
    }

    /// <summary>
    /// veth_xdp_rcv_one: the peer's program runs on the frame; what it passes becomes a new skb
    /// (__xdp_build_skb_from_frame: no mark, priority, tc_index, socket, conntrack or GSO of the sender's, eth_type_trans) for
    /// napi_gro_receive, where receive goes on past XDP.
    /// </summary>
    [KernelSymbol("veth_xdp_rcv_one", "drivers/net/veth.c")]
    private static void RcvOne(SkBuff skb, TraceBuilder t, NetNamespace peerNs, NetDevice peer)
    {
        // a new skb: none of the sender's metadata, conntrack or offload state comes with the frame
        skb.Mark = 0;
        skb.Priority = 0;
        skb.TcIndex = 0;
        skb.TcCb = null;
        skb.Sk = null;
        skb.Ct = null;
        skb.NfBridge = null;
        skb.Gso = null;
        skb.FragInfo = null;
        skb.IgnoreDf = false;
        skb.MirredNest = 0;
        skb.TransportHeader = -1;
        skb.Netns = peerNs;
        skb.Dev = peer;
        skb.MacHeader = 0;
        skb.NetworkHeader = Math.Min(14, skb.Length);
        if (!NetifReceiveGenericXdp.RunAt(skb, t, "veth_xdp_rcv_one")) return;
        NetifReceiveSkb.EthTypeTrans(skb, t, xdpDone: true);
    }
}
