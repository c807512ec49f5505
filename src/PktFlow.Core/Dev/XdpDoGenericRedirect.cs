using PktFlow.Bpf;
using PktFlow.Datapath;
using PktFlow.Topology;

namespace PktFlow.Dev;

/// <summary>
/// xdp_do_generic_redirect (net/core/filter.c) after XDP_REDIRECT in generic XDP: the target
/// bpf_redirect_info holds (an ifindex in the receiving device's namespace, or a devmap element) must
/// be up and take the frame (xdp_ok_fwd_dev); then generic_xdp_tx sends it. A failure returns an
/// error and do_xdp_generic frees the frame with SKB_DROP_REASON_XDP (recorded on 6.18:
/// tests/scenarios/xdp-redirect-veth).
/// </summary>
public static class XdpDoGenericRedirect
{
    public const string DropReason = "XDP";
    private const int VlanHlen = 4;

    [KernelSymbol("xdp_do_generic_redirect", "net/core/filter.c")]
    public static void Redirect(SkBuff skb, TraceBuilder t, XdpContext x)
    {
        if (Target(skb, t, x, Fail) is not var (fwd, what)) return;
        if (OkFwdDev(fwd, skb.Length) is { } err) { Fail(skb, t, err.Errno, $"{what} to {fwd.Name}: {err.Detail}"); return; }
        skb.Dev = fwd;
        GenericXdpTx.Xmit(skb, t, $"XDP_REDIRECT to {fwd.Name} ({what})");
    }

    /// <summary>
    /// The device bpf_redirect_info names, in the receiving device's namespace, with how it was named
    /// ("bpf_redirect, ifindex 3", "bpf_redirect_map devs[0]"); null when there is none (fail was
    /// given the errno and the error) or the model cannot follow it (Unsupported). Generic and native
    /// XDP alike.
    /// </summary>
    internal static (NetDevice Device, string What)? Target(SkBuff skb, TraceBuilder t, XdpContext x, Action<SkBuff, TraceBuilder, string, string> fail)
    {
        var ns = skb.Netns;
        switch (x.RedirectKind)
        {
            case XdpRedirectKind.None:
                fail(skb, t, "EBADRQC", $"XDP_REDIRECT without a target (neither bpf_redirect nor a bpf_redirect_map hit): -EBADRQC");
                return null;
            case XdpRedirectKind.Ifindex:
            {
                var fwd = ns.Device(x.RedirectIfindex);
                if (fwd is null)
                {
                    fail(skb, t, "EINVAL", $"bpf_redirect to ifindex {x.RedirectIfindex}: no such device in {ns.Name} (-EINVAL)");
                    return null;
                }
                return Unsupported(skb, t, fwd, "bpf_redirect") ? null : (fwd, $"bpf_redirect, ifindex {fwd.IfIndex}");
            }
            default:
                return DevMapTarget(skb, t, x);
        }
    }

    /// <summary>
    /// dev_map_generic_redirect / dev_map_enqueue (kernel/bpf/devmap.c): the element's device (struct
    /// bpf_devmap_val: ifindex, then an optional program's fd).
    /// </summary>
    [KernelSymbol("dev_map_generic_redirect", "kernel/bpf/devmap.c")]
    private static (NetDevice, string)? DevMapTarget(SkBuff skb, TraceBuilder t, XdpContext x)
    {
        var value = x.RedirectValue!;
        string elem = $"bpf_redirect_map {x.RedirectMap!.Def.Name}[{x.RedirectKey}]";
        int ifindex = BitConverter.ToInt32(value);
        if (value.Length >= 8 && BitConverter.ToInt32(value, 4) != 0)
        {
            t.Unsupported(skb, $"{elem} names a program to run on the device (bpf_devmap_val.bpf_prog), which the model does not load");
            return null;
        }
        var fwd = skb.Netns.Device(ifindex);
        if (fwd is null)
        {
            // dev_map_update_elem refuses an ifindex without a device, so such an element cannot exist
            t.Unsupported(skb, $"{elem} holds ifindex {ifindex}, which no device of {skb.Netns.Name} has");
            return null;
        }
        return Unsupported(skb, t, fwd, elem) ? null : (fwd, elem);
    }

    /// <summary>
    /// xdp_ok_fwd_dev (include/linux/netdevice.h): the target must be up, and the frame (with its
    /// link-layer header) no longer than its MTU + hard_header_len + VLAN_HLEN.
    /// </summary>
    internal static (string Errno, string Detail)? OkFwdDev(NetDevice fwd, int frameLength)
    {
        if (!fwd.IsUp) return ("ENETDOWN", $"{fwd.Name} is down (-ENETDOWN)");
        int max = MaxFrame(fwd);
        return frameLength > max ? ("EMSGSIZE", $"{frameLength}-byte frame, {fwd.Name} takes at most {max} (MTU {fwd.Mtu} + {HardHeaderLen(fwd)} + VLAN_HLEN) (-EMSGSIZE)") : null;
    }

    /// <summary>The longest frame a device takes from XDP: MTU + hard_header_len + VLAN_HLEN (xdp_ok_fwd_dev, veth_xdp_xmit).</summary>
    internal static int MaxFrame(NetDevice dev) => dev.Mtu + HardHeaderLen(dev) + VlanHlen;

    /// <summary>dev->hard_header_len of the Ethernet devices the model redirects to: ETH_HLEN.</summary>
    private static int HardHeaderLen(NetDevice _) => 14;

    /// <summary>An L3 tunnel has another hard_header_len and takes no Ethernet frame: not followed.</summary>
    private static bool Unsupported(SkBuff skb, TraceBuilder t, NetDevice fwd, string what)
    {
        if (fwd.Kind != DeviceKind.Ipip) return false;
        t.Unsupported(skb, $"{what} to {fwd.Name}, a tunnel device without an Ethernet header");
        return true;
    }

    private static void Fail(SkBuff skb, TraceBuilder t, string errno, string detail) =>
        t.Drop(skb, "Xdp", "xdp_do_generic_redirect", DropReason, detail);
}
