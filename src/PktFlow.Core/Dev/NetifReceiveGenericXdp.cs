using PktFlow.Bpf;
using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.Dev;

/// <summary>
/// Generic XDP (net/core/dev.c): the device's program runs on the frame from its Ethernet header,
/// with XDP_PACKET_HEADROOM in front, before taps and tc see it. bpf_prog_run_generic_xdp then
/// takes back what the program did: a moved head or tail becomes the skb's data, and a changed
/// destination MAC or EtherType makes eth_type_trans run again.
/// </summary>
public static class NetifReceiveGenericXdp
{
    /// <summary>
    /// do_xdp_generic frees a frame the program did not pass with plain kfree_skb: the drop reason
    /// is NOT_SPECIFIED (recorded on 6.18 in tests/scenarios/xdp-drop-udp).
    /// </summary>
    private const string DropReason = "NOT_SPECIFIED";

    /// <summary>Runs the program; true when the packet goes on (XDP_PASS).</summary>
    [KernelSymbol("netif_receive_generic_xdp", "net/core/dev.c")]
    public static bool Run(SkBuff skb, TraceBuilder t) => RunAt(skb, t, "netif_receive_generic_xdp");

    /// <summary>
    /// The program's run and its verdict, named after the function that runs it: here, or
    /// veth_xdp_rcv_skb for native XDP on a veth, which frees a dropped or aborted frame as
    /// do_xdp_generic does (kfree_skb, NOT_SPECIFIED) but sends XDP_TX and XDP_REDIRECT as xdp_frames,
    /// or veth_xdp_rcv_one, native XDP on such an xdp_frame arriving from the peer.
    /// </summary>
    internal static bool RunAt(SkBuff skb, TraceBuilder t, string function)
    {
        bool native = function != "netif_receive_generic_xdp";
        // veth_xdp_rcv_one runs on an xdp_frame: what it drops is returned without an skb to free
        string dropReason = function == "veth_xdp_rcv_one" ? "xdp_return_frame" : DropReason;
        var xdp = skb.Dev.Xdp!;
        if (skb.MacHeader != 0) { t.Unsupported(skb, "XDP on a frame without an Ethernet header"); return false; }
        var state = skb.State.Bpf;
        if (!state.TryGetValue(skb.Dev, out var rt)) state[skb.Dev] = rt = new BpfRuntime(xdp.Program, XdpContext.Helpers(), xdp.MapUpdates);
        var before = skb.Data;
        var vm = rt.Vm;
        vm.Reset(rt.Maps);
        vm.TimeNs = (ulong)skb.TimestampNs;
        rt.Xdp.Load(before, skb.Dev.IfIndex);
        var res = vm.Run(xdp.Program, rt.Xdp.Attach(vm));
        string prog = $"{xdp.Mode} {xdp.Program.Name} (sec {xdp.Program.Section})";
        string notes = vm.Notes.Count == 0 ? "" : "; trace_printk: " + string.Join(" | ", vm.Notes);
        if (!res.Ok)
        {
            string what = res.Error!.StartsWith("unsupported:", StringComparison.Ordinal) ? res.Error["unsupported: ".Length..] : res.Error;
            t.Unsupported(skb, $"XDP program {prog}: instruction {res.ErrorInsn}: {what}");
            return false;
        }
        var frame = rt.Xdp.Frame;
        bool changed = !frame.SequenceEqual(before);
        string edit = changed ? $", the program rewrote the frame ({before.Length} -> {frame.Length} bytes)" : "";
        switch ((XdpAction)res.R0)
        {
            case XdpAction.Pass:
                if (changed) TakeBack(skb, frame);
                t.Stage(skb, "Xdp", function, Verdict.Pass, $"{prog}: XDP_PASS{edit}{notes}");
                return true;
            case XdpAction.Drop:
                t.Drop(skb, "Xdp", function, dropReason, $"{prog}: XDP_DROP{notes}");
                return false;
            case XdpAction.Aborted:
                t.Drop(skb, "Xdp", function, dropReason, $"{prog}: XDP_ABORTED (trace_xdp_exception){notes}");
                return false;
            case XdpAction.Tx:
                // do_xdp_generic: the receive path ends here (it returns XDP_DROP without freeing the skb)
                t.Stage(skb, "Xdp", function, Verdict.Stolen, $"{prog}: XDP_TX{edit}{notes}");
                PushBack(skb, frame);
                if (native) VethXdpXmit.Xmit(skb, t, skb.Dev, "xdp_bulk_tx");
                else GenericXdpTx.Xmit(skb, t, $"XDP_TX back out of {skb.Dev.Name}");
                return false;
            case XdpAction.Redirect:
                t.Stage(skb, "Xdp", function, Verdict.Stolen, $"{prog}: XDP_REDIRECT{edit}{notes}");
                PushBack(skb, frame);
                if (native) XdpDoRedirect.Redirect(skb, t, rt.Xdp);
                else XdpDoGenericRedirect.Redirect(skb, t, rt.Xdp);
                return false;
            default:
                // bpf_warn_invalid_xdp_action, then the frame is dropped as for XDP_ABORTED
                t.Drop(skb, "Xdp", function, dropReason, $"{prog}: invalid XDP action {res.R0}{notes}");
                return false;
        }
    }

    /// <summary>
    /// XDP_TX and XDP_REDIRECT: __skb_push(skb, mac_len), the skb is the frame as the program left it
    /// (bpf_prog_run_generic_xdp took back a moved head or tail), from its Ethernet header.
    /// </summary>
    private static void PushBack(SkBuff skb, ReadOnlySpan<byte> frame)
    {
        skb.ReplaceFrame(frame);
        skb.MacHeader = 0;
        skb.NetworkHeader = Math.Min(14, frame.Length);
    }

    /// <summary>eth->h_proto as the kernel compares it: the outer EtherType (a VLAN TPID when tagged).</summary>
    private static ushort HProto(ReadOnlySpan<byte> f) => (ushort)(f[12] << 8 | f[13]);

    /// <summary>
    /// bpf_prog_run_generic_xdp after the program: the skb takes the new frame; the network header
    /// follows the Ethernet header; eth_type_trans runs again when the destination's class (host,
    /// broadcast/multicast) or the EtherType changed.
    /// </summary>
    private static void TakeBack(SkBuff skb, ReadOnlySpan<byte> frame)
    {
        if (!EthernetFrame.TryParse(skb.Data, out var oldEth, out _)) return;
        var oldDst = oldEth.Destination;
        ushort oldType = HProto(skb.Data);
        skb.ReplaceFrame(frame);
        skb.MacHeader = 0;
        if (!EthernetFrame.TryParse(skb.Data, out var eth, out _)) return;
        var dst = eth.Destination;
        if (HProto(skb.Data) != oldType || (dst == skb.Dev.Mac) != (oldDst == skb.Dev.Mac) || dst.IsMulticast != oldDst.IsMulticast)
            NetifReceiveSkb.TypeTrans(skb, eth);
        else
            skb.NetworkHeader = eth.HeaderLength; // skb_reset_network_header after a moved head
    }
}
