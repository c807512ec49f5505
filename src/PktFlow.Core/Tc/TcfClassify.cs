using PktFlow.Datapath;

namespace PktFlow.Tc;

/// <summary>What classification gave: the TC_ACT_* code, the redirect it asks for, a drop reason other than the hook's own, and the text for the trace.</summary>
public readonly record struct TcResult(TcAct Result, string Text, MirredAction? RedirectTo = null, string? DropReason = null)
{
    /// <summary>The bpf_redirect target of a TC_ACT_REDIRECT (skb_do_redirect).</summary>
    public Bpf.SkbContext? BpfRedirect { get; init; }
    /// <summary>The classifier ended the trace (a program the model cannot follow): nothing more happens.</summary>
    public bool Ended { get; init; }
}

/// <summary>
/// tcf_classify (net/sched/cls_api.c) over chain 0: filters in pref order, then handle order; a
/// filter sees the packet only if its protocol is the packet's (skb_protocol: the VLAN protocol when
/// the skb carries a tag) or all. A classifier that matches runs its actions (tcf_action_exec: in
/// order while they return TC_ACT_PIPE) and its result ends the walk unless it is TC_ACT_UNSPEC
/// (continue); TC_ACT_RECLASSIFY starts again from the first filter, at most 16 times
/// (max_reclassify_loop, then SKB_DROP_REASON_TC_RECLASSIFY_LOOP).
/// </summary>
public static class TcfClassify
{
    private const int MaxReclassifyLoop = 16;

    [KernelSymbol("tcf_classify", "net/sched/cls_api.c")]
    public static TcResult Classify(SkBuff skb, TraceBuilder t, IReadOnlyList<TcFilter> filters, TcDirection dir)
    {
        var texts = new List<string>();
        for (int loop = 0; ; loop++)
        {
            if (loop > MaxReclassifyLoop)
                return new TcResult(TcAct.Shot, $"{string.Join("; ", texts.TakeLast(2))}; reclassified more than {MaxReclassifyLoop} times", null, "TC_RECLASSIFY_LOOP");
            bool reclassify = false;
            ushort proto = skb.VlanPresent ? Wire.EtherTypes.Vlan : skb.Protocol;
            foreach (var f in filters)
            {
                if (f.Protocol != TcFilter.ProtocolAll && f.Protocol != proto) continue;
                string? bpfText = null;
                if (f.Classifier is ClsBpf bpf)
                {
                    if (bpf.SkipSw) continue;
                    var run = bpf.Run(skb, t, dir);
                    if (run.Ended) return new TcResult(TcAct.Shot, "") { Ended = true };
                    if (bpf.DirectAction)
                    {
                        texts.Add($"pref {f.Pref} bpf handle {f.HandleText} ({bpf}): {run.Text} -> {TcNames.Act(run.Result)}");
                        if (run.Result == TcAct.Unspec) continue;
                        return new TcResult(run.Result, string.Join("; ", texts)) { BpfRedirect = run.Redirect };
                    }
                    bpfText = $": {run.Text}";
                    if (run.Result == TcAct.Unspec) { texts.Add($"{Head(f)}{bpfText}, the next filter"); continue; }
                }
                else if (f.Classifier.SkipSw || !f.Classifier.Match(skb) || !f.Classifier.Terminal(f.Actions.Count > 0)) continue;
                var (act, redirect, bpfRedirect, ended, acts) = ActionExec(skb, t, f.Actions, dir);
                if (ended) return new TcResult(TcAct.Shot, "") { Ended = true };
                string head = Head(f) + bpfText;
                texts.Add(acts.Count == 0 ? $"{head}: no actions, {TcNames.Act(act)}" : $"{head}: {string.Join(", ", acts)} -> {TcNames.Act(act)}");
                if (act == TcAct.Reclassify) { reclassify = true; break; }
                if (act == TcAct.Unspec) continue;
                return new TcResult(act, string.Join("; ", texts), redirect) { BpfRedirect = act == TcAct.Redirect ? bpfRedirect : null };
            }
            if (!reclassify)
                return new TcResult(TcAct.Unspec, texts.Count == 0 ? $"no filter of {filters.Count} matched" : $"{string.Join("; ", texts)}; no other filter matched");
        }
    }

    private static string Head(TcFilter f) =>
        $"pref {f.Pref} {f.Classifier.Kind} handle {f.HandleText}{(f.Classifier.ClassId is { } c ? $" classid {c}" : "")} ({f.Classifier})";

    /// <summary>
    /// tcf_action_exec: actions in order while they return TC_ACT_PIPE; the last result is the filter's,
    /// with the mirred redirect or the act_bpf bpf_redirect target it asks for; Ended when a program failed.
    /// </summary>
    [KernelSymbol("tcf_action_exec", "net/sched/act_api.c")]
    private static (TcAct, MirredAction?, Bpf.SkbContext?, bool Ended, List<string>) ActionExec(SkBuff skb, TraceBuilder t, IReadOnlyList<TcAction> actions, TcDirection dir)
    {
        var texts = new List<string>();
        var ret = TcAct.Ok;
        Bpf.SkbContext? bpfRedirect = null;
        foreach (var a in actions)
        {
            string text;
            if (a is ActBpf bpf)
            {
                ret = bpf.Run(skb, t, dir, out text, out bpfRedirect, out bool ended);
                if (ended) return (ret, null, null, true, texts);
            }
            else ret = a.Act(skb, t, out text);
            if (a is MirredAction m)
            {
                var target = skb.Netns.Device(m.Device);
                if (skb.MirredNest >= SchHandle.MirredNestLimit)
                {
                    // tcf_mirred_act: the per-CPU nest level goes past MIRRED_NEST_LIMIT: TC_ACT_SHOT, nothing sent
                    text += $": mirred nest level {skb.MirredNest + 1} > MIRRED_NEST_LIMIT {SchHandle.MirredNestLimit} (\"Packet exceeded mirred recursion limit\")";
                    ret = TcAct.Shot;
                }
                else if (target is null || !target.IsUp)
                {
                    // tcf_mirred_act: a device that is gone or down: a redirect drops the packet, a mirror does nothing
                    text += $": {m.Device} is {(target is null ? "gone" : "down")}";
                    if (m.Redirect) ret = TcAct.Shot;
                }
                else if (m.Redirect && ret == TcAct.Stolen)
                {
                    texts.Add(text + $" {TcNames.Act(ret)}");
                    return (ret, m, null, false, texts);
                }
                else SchHandle.Mirror(skb, t, m, dir);
            }
            texts.Add(a is GactAction ? text : $"{text} {TcNames.Act(ret)}");
            if (ret != TcAct.Pipe) break;
        }
        return (ret, null, bpfRedirect, false, texts);
    }
}
