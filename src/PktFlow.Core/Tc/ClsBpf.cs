using PktFlow.Bpf;
using PktFlow.Datapath;

namespace PktFlow.Tc;

/// <summary>
/// cls_bpf (`tc filter add ... bpf [da] obj FILE [sec NAME] [classid C]`). In direct-action mode the
/// program's return code is the filter's verdict (cls_bpf_exec_opcode: OK, SHOT, STOLEN, TRAP,
/// REDIRECT and UNSPEC as they are, anything else, PIPE and RECLASSIFY too, becomes UNSPEC: the next
/// filter). Without da it is a classid: 0 is no match (the next filter), -1 the filter's own classid,
/// anything else that classid, and on a match the filter's actions run (tcf_exts_exec; none: TC_ACT_OK).
/// The program sees the packet from its Ethernet header in both directions.
/// </summary>
public sealed class ClsBpf : TcClassifier
{
    public override string Kind => "bpf";
    public required BpfProgram Program { get; init; }
    public required string File { get; init; }
    /// <summary>`da`: the return code is the verdict (exts_integrated); otherwise it is a classid.</summary>
    public bool DirectAction { get; init; } = true;
    /// <summary>Not used: <see cref="Classify"/> runs the program, whose return code is the match.</summary>
    public override bool Match(SkBuff skb) => throw new InvalidOperationException("cls_bpf matches by running its program (Classify)");

    public override string ToString() => _text ??= $"{Path.GetFileName(File)}:[{Program.Section}]{(DirectAction ? " direct-action" : "")}";
    private string? _text;

    /// <summary>A classid as tc prints it (MAJ:MIN in hex).</summary>
    public static string ClassIdText(uint c) => $"{c >> 16:x}:{c & 0xFFFF:x}";

    /// <summary>
    /// The program runs with skb->tc_classid = the filter's classid (prog->res.classid). Direct action:
    /// its return code through cls_bpf_exec_opcode is the filter's verdict and res.classid is
    /// TC_H_MAJ(the filter's classid) | skb->tc_classid as the program left it. Classid mode: 0 is no match,
    /// -1 the filter's own classid, anything else that classid, and a match runs the filter's actions.
    /// </summary>
    [KernelSymbol("cls_bpf_classify", "net/sched/cls_bpf.c")]
    public override TcAct Classify(SkBuff skb, TraceBuilder t, TcFilter f, TcDirection dir, ref TcfResult res, out string? line)
    {
        line = null;
        if (SkipSw) return TcAct.Unspec;
        if (!RunProgram(this, Program, Who, skb, t, dir, ClassIdValue, out int code, out string detail, out var ctx))
        {
            res.Ended = true;
            return TcAct.Shot;
        }
        if (DirectAction)
        {
            var act = code switch
            {
                (int)TcAct.Ok or (int)TcAct.Shot or (int)TcAct.Stolen or (int)TcAct.Trap or (int)TcAct.Redirect or (int)TcAct.Unspec => (TcAct)code,
                _ => TcAct.Unspec,
            };
            if (act == TcAct.Redirect) res.BpfRedirect = ctx;
            // exts_integrated: res.classid is the filter's major with the minor the program left in skb->tc_classid
            res.ClassId = (ClassIdValue & 0xFFFF0000) | ctx.TcClassid;
            line = $"pref {f.Pref} bpf handle {f.HandleText} ({this}): program returned {ReturnText(code, act, ctx)}{detail} -> {TcNames.Act(act)}";
            return act;
        }
        uint classid = code == -1 ? ClassIdValue : (uint)code;
        string what = code switch { 0 => "0 (no match)", -1 => $"-1 (the filter's classid {ClassIdText(classid)})", _ => $"classid {ClassIdText(classid)}" };
        string head = $"{TcfClassify.Head(f)}: program returned {what}{detail}";
        if (code == 0)
        {
            line = $"{head}, the next filter";
            return TcAct.Unspec;
        }
        res.ClassId = classid;
        return TcfClassify.ActionExec(skb, t, f, dir, ref res, head, out line);
    }

    /// <summary>Who ran the program, for a trace that ends unsupported (made once).</summary>
    private string Who => _who ??= $"cls_bpf {this}";
    private string? _who;

    /// <summary>A TC_ACT_* return code as the trace names it, with the bpf_redirect target of a TC_ACT_REDIRECT.</summary>
    internal static string ReturnText(int code, TcAct act, SkbContext ctx) =>
        (code is >= -1 and <= 8 ? $"TC_ACT_{((TcAct)code).ToString().ToUpperInvariant()}" : code.ToString())
        + (act == TcAct.Redirect ? $" to ifindex {ctx.RedirectIfindex}{(ctx.RedirectIngress ? " ingress" : "")}" : "");

    /// <summary>
    /// One run of a tc program (cls_bpf or act_bpf) on the skb from its Ethernet header (at ingress
    /// __skb_push(mac_len) first): the skb takes back what the program wrote. False when the run
    /// failed (the trace ends unsupported, naming who ran it); detail lists the program's edits.
    /// </summary>
    internal static bool RunProgram(object owner, BpfProgram program, string who, SkBuff skb, TraceBuilder t, TcDirection dir, uint classid,
        out int code, out string detail, out SkbContext ctx)
    {
        code = 0; detail = "";
        ctx = null!;
        if (skb.MacHeader < 0)
        {
            t.Unsupported(skb, $"{who}: the packet has no Ethernet header");
            return false;
        }
        var state = skb.State.TcBpf;
        if (!state.TryGetValue(owner, out var rt)) state[owner] = rt = new BpfRuntime(program, SkbContext.Helpers());
        ctx = rt.Skb;
        ctx.Load(skb.Buffer.AsSpan(skb.MacHeader, skb.Length - skb.MacHeader));
        ctx.PktType = (uint)skb.PktType;
        ctx.Mark = skb.Mark;
        ctx.Priority = skb.Priority;
        ctx.Protocol = skb.Protocol;
        ctx.VlanPresent = skb.VlanPresent;
        ctx.VlanTci = skb.VlanPresent ? skb.VlanId : (ushort)0;
        ctx.VlanProto = skb.VlanPresent ? Wire.EtherTypes.Vlan : (ushort)0;
        ctx.Ifindex = skb.Dev.IfIndex;
        // skb->skb_iif: the receiving device at ingress; at egress the model does not keep it (0: a local packet's)
        ctx.IngressIfindex = dir == TcDirection.Ingress ? skb.Dev.IfIndex : 0;
        ctx.QueueMapping = 0; // the model's devices have one queue
        ctx.TcIndex = skb.TcIndex;
        ctx.TcClassid = classid;
        ctx.NetworkOffset = skb.NetworkHeader - skb.MacHeader;
        if (skb.TcCb is { } cb) cb.CopyTo(ctx.Cb, 0); else Array.Clear(ctx.Cb);
        var vm = rt.Vm;
        vm.Reset(rt.Maps);
        vm.Host = ctx;
        vm.TimeNs = (ulong)skb.TimestampNs;
        var res = vm.Run(program, ctx.Attach(vm));
        string notes = (vm.TailCalls == 0 && vm.TailCallLog.Count == 0 ? "" : $" ({vm.TailCallText})")
            + (vm.Notes.Count == 0 ? "" : "; trace_printk: " + string.Join(" | ", vm.Notes));
        if (!res.Ok)
        {
            string what = res.Error!.StartsWith("unsupported: ", StringComparison.Ordinal) ? res.Error["unsupported: ".Length..] : res.Error;
            t.Unsupported(skb, $"{who}: instruction {res.ErrorInsn}: {what}");
            return false;
        }
        string edits = (ctx.Mark != skb.Mark ? $", mark 0x{skb.Mark:x} -> 0x{ctx.Mark:x}" : "")
            + (ctx.Priority != skb.Priority ? $", priority {skb.Priority} -> {ctx.Priority}" : "")
            + (ctx.TcIndex != skb.TcIndex ? $", tc_index {skb.TcIndex} -> {ctx.TcIndex}" : "")
            + (ctx.TcClassid != classid ? $", tc_classid {ClassIdText(classid)} -> {ClassIdText(ctx.TcClassid)}" : "")
            + (ctx.Frame.SequenceEqual(skb.Buffer.AsSpan(skb.MacHeader, skb.Length - skb.MacHeader)) ? "" : ", the program rewrote the packet");
        // the skb takes back what the program wrote (the headers stay: the length cannot change without adjust_room, not modelled)
        ctx.Frame.CopyTo(skb.Buffer.AsSpan(skb.MacHeader));
        skb.Mark = ctx.Mark;
        skb.Priority = ctx.Priority;
        skb.TcIndex = ctx.TcIndex;
        if (skb.TcCb is not null || ctx.Cb.AsSpan().IndexOfAnyExcept(0u) >= 0) ctx.Cb.CopyTo(skb.TcCb ??= new uint[5], 0);
        code = (int)(uint)res.R0;
        detail = edits + notes;
        return true;
    }
}
