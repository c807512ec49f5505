using PktFlow.Datapath;

namespace PktFlow.Tc;

/// <summary>What classification gave: the TC_ACT_* code, the redirect it asks for, a drop reason other than the hook's own, and the text for the trace.</summary>
public readonly record struct TcResult(TcAct Result, string Text, MirredAction? RedirectTo = null, string? DropReason = null)
{
    /// <summary>The bpf_redirect target of a TC_ACT_REDIRECT (skb_do_redirect).</summary>
    public Bpf.SkbContext? BpfRedirect { get; init; }
    /// <summary>The classifier ended the trace (a program the model cannot follow): nothing more happens.</summary>
    public bool Ended { get; init; }
    /// <summary>res.classid of the filter that decided (0 when none did or it gives none).</summary>
    public uint ClassId { get; init; }
}

/// <summary>
/// tcf_classify (net/sched/cls_api.c) over chain 0: filters in pref order, then handle order; a
/// filter sees the packet only if its protocol is the packet's (skb_protocol: the VLAN protocol when
/// the skb carries a tag) or all. Each filter's classifier decides (tp->classify: a match runs its
/// actions, tcf_action_exec, in order while they return TC_ACT_PIPE); the first result other than
/// TC_ACT_UNSPEC (continue) ends the walk; TC_ACT_RECLASSIFY starts again from the first filter, at
/// most 16 times (max_reclassify_loop, then SKB_DROP_REASON_TC_RECLASSIFY_LOOP).
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
            var res = new TcfResult();
            var err = TcAct.Unspec;
            ushort proto = skb.VlanPresent ? Wire.EtherTypes.Vlan : skb.Protocol;
            foreach (var f in filters)
            {
                if (f.Protocol != TcFilter.ProtocolAll && f.Protocol != proto) continue;
                err = f.Classifier.Classify(skb, t, f, dir, ref res, out string? line);
                if (res.Ended) return new TcResult(TcAct.Shot, "") { Ended = true };
                if (line is not null) texts.Add(line);
                if (err == TcAct.Reclassify) break;
                if (err != TcAct.Unspec)
                    return new TcResult(err, string.Join("; ", texts), res.Mirred) { BpfRedirect = err == TcAct.Redirect ? res.BpfRedirect : null, ClassId = res.ClassId };
            }
            if (err != TcAct.Reclassify)
                return new TcResult(TcAct.Unspec, texts.Count == 0 ? $"no filter of {filters.Count} matched" : $"{string.Join("; ", texts)}; no other filter matched");
        }
    }

    /// <summary>A filter as the trace names it.</summary>
    internal static string Head(TcFilter f) =>
        $"pref {f.Pref} {f.Classifier.Kind} handle {f.HandleText}{(f.Classifier.ClassId is { } c ? $" classid {c}" : "")} ({f.Classifier})";

    /// <summary>
    /// tcf_exts_exec -> tcf_action_exec: the filter's actions in order while they return TC_ACT_PIPE; the
    /// last result is the filter's (none: TC_ACT_OK). line: head, then each action with its verdict.
    /// </summary>
    [KernelSymbol("tcf_action_exec", "net/sched/act_api.c")]
    internal static TcAct ActionExec(SkBuff skb, TraceBuilder t, TcFilter f, TcDirection dir, ref TcfResult res, string head, out string? line)
    {
        line = null;
        var ret = TcAct.Ok;
        List<string>? texts = null;
        foreach (var a in f.Actions)
        {
            ret = a.Act(skb, t, dir, ref res, out string text);
            if (res.Ended) return ret;
            (texts ??= new()).Add($"{text} {TcNames.Act(ret)}");
            if (ret != TcAct.Pipe) break;
        }
        line = texts is null ? $"{head}: no actions, {TcNames.Act(ret)}" : $"{head}: {string.Join(", ", texts)} -> {TcNames.Act(ret)}";
        return ret;
    }
}
