using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.Topology;

namespace PktFlow.Tc;

/// <summary>
/// tc's two hooks in the device path (net/core/dev.c): sch_handle_ingress after the taps on receive
/// (before the netdev netfilter ingress hook) and sch_handle_egress in __dev_queue_xmit (after the
/// netdev egress hook). Each runs tcf_classify over the device's clsact (or ingress) filters and acts
/// on the result: TC_ACT_SHOT frees the packet with SKB_DROP_REASON_TC_INGRESS / TC_EGRESS,
/// TC_ACT_STOLEN (mirred redirect) hands it to another device, anything else lets it go on.
/// The one entry point of the tc model for the rest of the engine.
/// </summary>
public static class SchHandle
{
    /// <summary>Returns true when the packet goes on to the netdev ingress hook and the rest of receive.</summary>
    [KernelSymbol("sch_handle_ingress", "net/core/dev.c")]
    public static bool Ingress(SkBuff skb, TraceBuilder t) => Run(skb, t, TcDirection.Ingress);

    /// <summary>Returns true when the packet goes on to the qdisc and the driver.</summary>
    [KernelSymbol("sch_handle_egress", "net/core/dev.c")]
    public static bool Egress(SkBuff skb, TraceBuilder t) => Run(skb, t, TcDirection.Egress);

    private static bool Run(SkBuff skb, TraceBuilder t, TcDirection dir)
    {
        bool ingress = dir == TcDirection.Ingress;
        string stage = ingress ? "TcIngress" : "TcEgress", fn = ingress ? "sch_handle_ingress" : "sch_handle_egress";
        var tc = skb.Netns.Tc;
        if (tc is null)
        {
            t.NotModelledConstant(skb, stage, fn, "the configuration does not say which tc filters this device has (a snapshot without tc)");
            return true;
        }
        var filters = tc.TryGetValue(skb.Dev.Name, out var cfg) ? ingress ? cfg.Ingress : cfg.Egress : Array.Empty<TcFilter>();
        if (cfg is not null && cfg.NotModelled.TryGetValue(dir, out var why))
        {
            t.NotModelledConstant(skb, stage, fn, $"{cfg.Qdisc} on {skb.Dev.Name}: {why}");
            return true;
        }
        if (filters.Count == 0)
        {
            t.SharedStage(skb, stage, fn, Verdict.Pass, (long)dir, cfg?.Qdisc, static (s, q) =>
                q is null ? $"{s.Dev.Name} has no clsact or ingress qdisc" : $"{q} on {s.Dev.Name}: no filters in this direction");
            return true;
        }
        var r = TcfClassify.Classify(skb, t, filters, dir);
        if (r.Ended) return false;
        string where = $"{(ingress ? "ingress" : "egress")} {skb.Dev.Name}";
        string detail = $"{where}: {r.Text}";
        switch (r.Result)
        {
            case TcAct.Shot:
                t.Drop(skb, stage, fn, r.DropReason ?? (ingress ? "TC_INGRESS" : "TC_EGRESS"), detail);
                return false;
            case TcAct.Trap:
                t.Stage(skb, stage, fn, Verdict.NotModelled, detail);
                t.Unsupported(skb, $"tc action trap ({where}): it hands the packet to the hardware offload, which the model does not have");
                return false;
            case TcAct.Stolen or TcAct.Queued:
                if (r.RedirectTo is { } m)
                {
                    t.Stage(skb, stage, fn, Verdict.Pass, detail);
                    Redirect(skb, t, m, dir);
                    return false;
                }
                t.Stage(skb, stage, fn, Verdict.Pass, detail);
                t.End(Fate.Consumed, $"{fn}: TC_ACT_{r.Result.ToString().ToUpperInvariant()}");
                return false;
            case TcAct.Redirect when r.BpfRedirect is { } to:
                t.Stage(skb, stage, fn, Verdict.Pass, detail);
                DoRedirect(skb, t, to, dir, fn);
                return false;
            default:
                // TC_ACT_OK, PIPE and UNSPEC (no filter took it): the packet goes on
                if (r.Result == TcAct.Ok) detail += SetTcIndex(skb, r.ClassId);
                t.Stage(skb, stage, fn, Verdict.Pass, detail);
                return true;
        }
    }

    /// <summary>
    /// tc_run after TC_ACT_OK (TC_ACT_RECLASSIFY never comes back from a clsact's tcf_classify): skb->tc_index
    /// = TC_H_MIN(res.classid), 0 when the deciding filter gave none, for a later tc program to read
    /// (__sk_buff->tc_index). Judged in tests/scenarios/tc-tcindex. Returns what the trace adds.
    /// </summary>
    private static string SetTcIndex(SkBuff skb, uint classid)
    {
        ushort old = skb.TcIndex, now = (ushort)(classid & 0xFFFF);
        skb.TcIndex = now;
        return now == old ? "" : $"; skb->tc_index {old} -> {now} (TC_H_MIN of classid {ClsBpf.ClassIdText(classid)})";
    }

    /// <summary>
    /// tcf_mirred_act with redirect: the packet itself goes to the target device, to its transmit
    /// (dev_queue_xmit: its egress hooks and driver) or its receive (netif_receive_skb).
    /// </summary>
    [KernelSymbol("tcf_mirred_act", "net/sched/act_mirred.c")]
    private static void Redirect(SkBuff skb, TraceBuilder t, MirredAction m, TcDirection from)
    {
        var target = skb.Netns.Device(m.Device)!;
        if (++skb.Hops > DevQueueXmit.MaxHops)
        {
            t.Unsupported(skb, $"more than {DevQueueXmit.MaxHops} device crossings: a mirred redirect loop?");
            return;
        }
        skb.Dev = target;
        // the rest of this walk runs inside tcf_mirred_act, but from egress to ingress through the backlog (netif_rx)
        skb.MirredNest = m.To == TcDirection.Ingress && from == TcDirection.Egress ? 0 : skb.MirredNest + 1;
        if (m.To == TcDirection.Egress)
        {
            if (skb.MacHeader < 0) { t.Unsupported(skb, $"the packet has no Ethernet header to send on {target.Name}"); return; }
            DevQueueXmit.Xmit(skb, t, from == TcDirection.Ingress ? Fate.Forwarded : Fate.Transmitted);
        }
        else NetifReceiveSkb.Receive(skb, t);
    }

    /// <summary>
    /// skb_do_redirect (net/core/filter.c) after a program's TC_ACT_REDIRECT: the device bpf_redirect
    /// named by ifindex in the packet's namespace gets the packet at its transmit (__bpf_tx_skb:
    /// dev_queue_xmit, whose noop qdisc drops it when the device is down) or, with BPF_F_INGRESS, its
    /// receive (__bpf_rx_skb: ____dev_forward_skb, which refuses a device that is down); an ifindex
    /// without a device frees the packet. Judged in tests/scenarios/tc-bpf-redirect-down.
    /// </summary>
    [KernelSymbol("skb_do_redirect", "net/core/filter.c")]
    private static void DoRedirect(SkBuff skb, TraceBuilder t, Bpf.SkbContext to, TcDirection from, string fn)
    {
        var target = skb.Netns.Device(to.RedirectIfindex);
        if (target is null)
        {
            t.Drop(skb, from == TcDirection.Ingress ? "TcIngress" : "TcEgress", fn, "NOT_SPECIFIED", $"skb_do_redirect: no device with ifindex {to.RedirectIfindex}");
            return;
        }
        if (++skb.Hops > DevQueueXmit.MaxHops)
        {
            t.Unsupported(skb, $"more than {DevQueueXmit.MaxHops} device crossings: a bpf_redirect loop?");
            return;
        }
        skb.Dev = target;
        if (!to.RedirectIngress)
        {
            DevQueueXmit.Xmit(skb, t, from == TcDirection.Ingress ? Fate.Forwarded : Fate.Transmitted);
            return;
        }
        if (!target.IsUp)
        {
            // __dev_forward_skb2: is_skb_forwardable is false for a device without IFF_UP: rx_dropped, kfree_skb
            t.Drop(skb, "DevForwardSkb", "__dev_forward_skb2", "NOT_SPECIFIED",
                $"bpf_redirect to {target.Name} ingress, which is down: is_skb_forwardable refuses it ({target.Name}'s rx dropped)");
            return;
        }
        NetifReceiveSkb.Receive(skb, t);
    }

    /// <summary>MIRRED_NEST_LIMIT: tcf_mirred_act calls nested deeper than this return TC_ACT_SHOT.</summary>
    public const int MirredNestLimit = 4;

    /// <summary>
    /// tcf_mirred_to_dev for a mirror (or a redirect that does not end the action list): skb_clone, and
    /// the clone goes to the target's transmit (dev_queue_xmit: its egress hooks and driver) or receive
    /// (netif_receive_skb from tc ingress; from tc egress netif_rx, the backlog, which runs after the
    /// original's walk). The original goes on with the action's control. The clone is traced as a child
    /// trace, walked (as the kernel runs it) before the original goes on unless it goes through the backlog.
    /// </summary>
    [KernelSymbol("tcf_mirred_to_dev", "net/sched/act_mirred.c")]
    internal static void Mirror(SkBuff skb, TraceBuilder t, MirredAction m, TcDirection from)
    {
        var target = skb.Netns.Device(m.Device)!;
        bool toIngress = m.To == TcDirection.Ingress, atIngress = from == TcDirection.Ingress;
        var clone = skb.Clone();
        clone.Dev = target;
        clone.SeenLeaving = null;
        // a synchronous hand-off runs inside this tcf_mirred_act, one nest level deeper; netif_rx later, from none
        bool backlog = toIngress && !atIngress;
        clone.MirredNest = backlog ? 0 : skb.MirredNest + 1;
        string how = toIngress ? backlog ? "netif_rx: the backlog, after the original" : "netif_receive_skb" : "dev_queue_xmit";
        string what = $"a clone mirrored from {(atIngress ? "ingress" : "egress")} {skb.Dev.Name} to {(toIngress ? "ingress" : "egress")} {target.Name} ({how}); the original goes on";
        skb.Engine.EmitCopy(t, PacketCopy.Of(clone, "tcf_mirred_act", what, toIngress ? CloneReceived : CloneSent, synchronous: !backlog, received: toIngress));
    }

    private static void CloneSent(SkBuff skb, TraceBuilder t)
    {
        if (skb.MacHeader < 0) { t.Unsupported(skb, $"the packet has no Ethernet header to send on {skb.Dev.Name}"); return; }
        DevQueueXmit.Xmit(skb, t, Fate.Transmitted);
    }

    private static void CloneReceived(SkBuff skb, TraceBuilder t) => NetifReceiveSkb.Receive(skb, t);
}
