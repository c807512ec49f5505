using PktFlow.Bpf;
using PktFlow.Datapath;
using PktFlow.Topology;

namespace PktFlow.Dev;

/// <summary>
/// xdp_do_redirect (net/core/filter.c) after XDP_REDIRECT in native XDP (veth_xdp_rcv_skb has already
/// consumed the skb: the frame is an xdp_frame from here on). The target (bpf_redirect's ifindex or a
/// devmap element, as for generic XDP) gets it through __xdp_enqueue: it must take xdp_frames at all
/// (NETDEV_XDP_ACT_NDO_XMIT: a veth does while its peer has a native program, which gives the peer
/// its NAPI; a bridge never does) and pass xdp_ok_fwd_dev. A refusal frees the frame with no skb and
/// no drop reason: only xdp:xdp_redirect_err tells (recorded on 6.18:
/// tests/scenarios/xdp-native-redirect). Otherwise the frame waits in the target's bulk queue until
/// the NAPI poll ends (xdp_do_flush), when the target's ndo_xdp_xmit takes it.
/// </summary>
public static class XdpDoRedirect
{
    [KernelSymbol("xdp_do_redirect", "net/core/filter.c")]
    public static void Redirect(SkBuff skb, TraceBuilder t, XdpContext x)
    {
        if (XdpDoGenericRedirect.Target(skb, t, x, Fail) is not var (fwd, what)) return;
        if (!TakesXdpFrames(skb, t, fwd, out var why)) { if (why is not null) Fail(skb, t, "EOPNOTSUPP", $"{what} to {fwd.Name}: {why} (-EOPNOTSUPP)"); return; }
        if (XdpDoGenericRedirect.OkFwdDev(fwd, skb.Length) is { } err) { Fail(skb, t, err.Errno, $"{what} to {fwd.Name}: {err.Detail}"); return; }
        t.Stage(skb, "Xdp", "xdp_do_redirect", Verdict.Pass, $"XDP_REDIRECT to {fwd.Name} ({what}): queued for its ndo_xdp_xmit at the end of the NAPI poll (xdp_do_flush)");
        VethXdpXmit.Xmit(skb, t, fwd, "xdp_devmap_xmit");
    }

    /// <summary>
    /// NETDEV_XDP_ACT_NDO_XMIT on the target (veth_xdp_set_features: a veth whose peer has a native XDP
    /// program; GRO, the other way, is off in a lab). False with why null when the model stopped the
    /// packet itself (a peer outside the model).
    /// </summary>
    private static bool TakesXdpFrames(SkBuff skb, TraceBuilder t, NetDevice fwd, out string? why)
    {
        why = null;
        if (fwd.Kind != DeviceKind.Veth || fwd.Peer is null)
        {
            why = $"a {fwd.Kind.ToString().ToLowerInvariant()} device has no ndo_xdp_xmit";
            return false;
        }
        var (peerNs, peer) = VethXdpXmit.Peer(skb, fwd);
        if (peer is null)
        {
            t.Unsupported(skb, $"XDP_REDIRECT to {fwd.Name}: its peer is outside the model");
            return false;
        }
        if (peer.Xdp is { } px && px.RunsNative(peer)) return true;
        why = $"its peer {peerNs!.Name}/{peer.Name} has no native XDP program (no NAPI), so {fwd.Name} does not take xdp_frames";
        return false;
    }

    private static void Fail(SkBuff skb, TraceBuilder t, string errno, string detail) =>
        t.Drop(skb, "Xdp", "xdp_do_redirect", $"xdp_redirect_err -{errno}", detail + ": the xdp_frame is returned (xdp:xdp_redirect_err, no skb drop reason)");
}
