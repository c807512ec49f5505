using PktFlow.Bpf;
using PktFlow.Datapath;

namespace PktFlow.Tc;

/// <summary>
/// act_bpf (`action bpf obj FILE [sec NAME] [CONTROL]`, a BPF_PROG_TYPE_SCHED_ACT program): the
/// program's return code is the action's verdict as tcf_bpf_act maps it: TC_ACT_OK, SHOT, PIPE,
/// RECLASSIFY and REDIRECT as they are, TC_ACT_UNSPEC (-1) the action's own control (default pipe),
/// anything else (STOLEN, TRAP, QUEUED, ...) TC_ACT_UNSPEC. Read from net/sched/act_bpf.c: the 6.18
/// recording kernel has no CONFIG_NET_ACT_BPF, so no scenario checks it.
/// </summary>
public sealed class ActBpf : TcAction
{
    public override string Kind => "bpf";
    public required BpfProgram Program { get; init; }
    public required string File { get; init; }

    public override string Describe() => $"bpf {Path.GetFileName(File)}:[{Program.Section}]";

    /// <summary>Runs the program and maps its return code as tcf_bpf_act does; a TC_ACT_REDIRECT's bpf_redirect target goes in res.</summary>
    [KernelSymbol("tcf_bpf_act", "net/sched/act_bpf.c")]
    public override TcAct Act(SkBuff skb, TraceBuilder t, TcDirection dir, ref TcfResult res, out string text)
    {
        text = Describe();
        // qdisc_skb_cb(skb)->tc_classid is whatever an earlier cls_bpf left there: the model starts it at 0
        if (!ClsBpf.RunProgram(this, Program, Who, skb, t, dir, 0, out int code, out string detail, out var ctx))
        {
            res.Ended = true;
            return TcAct.Shot;
        }
        var act = code switch
        {
            (int)TcAct.Ok or (int)TcAct.Shot or (int)TcAct.Pipe or (int)TcAct.Reclassify or (int)TcAct.Redirect => (TcAct)code,
            (int)TcAct.Unspec => Control,
            _ => TcAct.Unspec,
        };
        if (act == TcAct.Redirect) res.BpfRedirect = ctx;
        text += $": program returned {ClsBpf.ReturnText(code, act, ctx)}{detail}{(code == (int)TcAct.Unspec ? $" (the action's control, {TcNames.Act(Control)})" : "")}";
        return act;
    }

    /// <summary>Who ran the program, for a trace that ends unsupported (made once).</summary>
    private string Who => _who ??= $"act_bpf {Describe()}";
    private string? _who;
}
