using PktFlow.Datapath;

namespace PktFlow.Dev;

/// <summary>
/// Native XDP on a veth (drivers/net/veth.c): with a program attached in driver mode the peer's
/// veth_xmit queues the skb on this end's ring and the NAPI poll runs the program in
/// veth_xdp_rcv_skb, before GRO, the taps and tc ingress (as generic XDP does). What differs is
/// seen in the drop's location (veth_xdp_rcv_skb, not do_xdp_generic) and in XDP_TX and
/// XDP_REDIRECT, which send the frame on as an xdp_frame (VethXdpXmit, XdpDoRedirect; recorded on
/// 6.18: tests/scenarios/xdp-native-veth, xdp-native-redirect).
/// </summary>
public static class VethXdpRcvSkb
{
    [KernelSymbol("veth_xdp_rcv_skb", "drivers/net/veth.c")]
    public static bool Run(SkBuff skb, TraceBuilder t) => NetifReceiveGenericXdp.RunAt(skb, t, "veth_xdp_rcv_skb");
}
