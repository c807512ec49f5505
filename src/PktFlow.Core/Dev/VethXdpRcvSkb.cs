using PktFlow.Datapath;

namespace PktFlow.Dev;

/// <summary>
/// Native XDP on a veth (drivers/net/veth.c): with a program attached in driver mode the peer's
/// veth_xmit queues the skb on this end's ring and the NAPI poll runs the program in
/// veth_xdp_rcv_skb, before GRO, the taps and tc ingress (as generic XDP does). What differs is
/// seen in the drop's location (veth_xdp_rcv_skb, not do_xdp_generic) and in XDP_TX, which goes
/// back to the peer as an xdp_frame through veth_xdp_xmit (recorded on 6.18:
/// tests/scenarios/xdp-native-veth).
/// </summary>
public static class VethXdpRcvSkb
{
    [KernelSymbol("veth_xdp_rcv_skb", "drivers/net/veth.c")]
    public static bool Run(SkBuff skb, TraceBuilder t) => NetifReceiveGenericXdp.RunAt(skb, t, "veth_xdp_rcv_skb");

    /// <summary>
    /// XDP_TX: veth_xdp_tx, then veth_xdp_flush_bq hands the frame to veth_xdp_xmit, which puts it on
    /// the peer's ring only when the peer polls one (its NAPI exists once it has an XDP program of its
    /// own, or GRO on, which a lab cannot turn on): otherwise -ENXIO, and the frame is returned
    /// (xdp_return_frame) with no skb drop reason; only the xdp:xdp_bulk_tx tracepoint counts it.
    /// </summary>
    [KernelSymbol("veth_xdp_xmit", "drivers/net/veth.c")]
    internal static void XdpTx(SkBuff skb, TraceBuilder t)
    {
        var dev = skb.Dev;
        var peerNs = skb.Engine.Topology.Namespace(dev.PeerNamespace ?? skb.Netns.Name);
        var peer = dev.Peer is null ? null : peerNs?.Device(dev.Peer);
        if (peer is null) { t.Unsupported(skb, $"XDP_TX on {dev.Name}: its peer is outside the model"); return; }
        if (peer.Xdp is { } px && px.RunsNative(peer))
        {
            t.Unsupported(skb, $"XDP_TX on {dev.Name} to {peerNs!.Name}/{peer.Name}, whose native XDP program would take the frame (veth_xdp_rcv_one): not modelled");
            return;
        }
        t.Drop(skb, "Xdp", "veth_xdp_xmit", "xdp_bulk_tx -ENXIO",
            $"XDP_TX back to {peerNs!.Name}/{peer.Name}: the peer has no NAPI (no native XDP program, GRO off), so veth_xdp_xmit refuses the frame (-ENXIO, counted by xdp:xdp_bulk_tx)");
    }
}
