namespace PktFlow.Tc;

/// <summary>TC_ACT_* (include/uapi/linux/pkt_cls.h): what an action or a classification returns.</summary>
public enum TcAct
{
    Unspec = -1,
    Ok = 0,
    Reclassify = 1,
    Shot = 2,
    Pipe = 3,
    Stolen = 4,
    Queued = 5,
    Repeat = 6,
    Redirect = 7,
    Trap = 8,
}

/// <summary>The two clsact hooks: ingress (sch_handle_ingress) and egress (sch_handle_egress).</summary>
public enum TcDirection { Ingress, Egress }

/// <summary>What one classifier looks at; the filter around it gives the order and the actions.</summary>
public abstract class TcClassifier
{
    /// <summary>cls kind as `tc filter show` names it: u32, flower, matchall.</summary>
    public abstract string Kind { get; }
    /// <summary>skip_sw: the filter is for the hardware only and never runs in software.</summary>
    public bool SkipSw { get; init; }
    /// <summary>The classid/flowid the filter gives (skb->tc_index on ingress); not a verdict.</summary>
    public string? ClassId { get; init; }
    /// <summary>
    /// Whether a match ends the classification with the filter's actions. u32 keys are "terminal"
    /// only with an action or a classid (TC_U32_TERMINAL, set by tc); a non-terminal match goes on.
    /// </summary>
    public virtual bool Terminal(bool hasActions) => true;
    public abstract bool Match(Datapath.SkBuff skb);
    /// <summary>The classid as a number: res.classid of a match (cls_bpf: also skb->tc_classid when its program starts, and what -1 returns).</summary>
    public uint ClassIdValue { get; init; }

    /// <summary>
    /// tp->classify (u32_classify, fl_classify, mall_classify): on a match res takes the filter's classid
    /// and the filter's actions run (tcf_exts_exec); TC_ACT_UNSPEC when it does not match (the next
    /// filter). line: what the trace says of this filter, null for nothing.
    /// </summary>
    public virtual TcAct Classify(Datapath.SkBuff skb, Datapath.TraceBuilder t, TcFilter f, TcDirection dir, ref TcfResult res, out string? line)
    {
        line = null;
        if (SkipSw || !Match(skb) || !Terminal(f.Actions.Count > 0)) return TcAct.Unspec;
        res.ClassId = ClassIdValue;
        return TcfClassify.ActionExec(skb, t, f, dir, ref res, TcfClassify.Head(f), out line);
    }
}

/// <summary>
/// struct tcf_result as the model fills it during one classification: the classid of the match, and
/// what a verdict that takes the packet away asks for (a mirred redirect's device with TC_ACT_STOLEN,
/// a bpf_redirect target with TC_ACT_REDIRECT); Ended when a program the model cannot follow ended the trace.
/// </summary>
public struct TcfResult
{
    public uint ClassId;
    public MirredAction? Mirred;
    public Bpf.SkbContext? BpfRedirect;
    public bool Ended;
}

/// <summary>One filter of a clsact (or ingress) qdisc's chain 0, as `tc filter add` made it.</summary>
public sealed record TcFilter(TcDirection Direction, int Pref, ushort Protocol, uint Handle, TcClassifier Classifier, IReadOnlyList<TcAction> Actions, string Source)
{
    /// <summary>ETH_P_ALL: the filter sees every protocol.</summary>
    public const ushort ProtocolAll = 0x0003;
    public string ProtocolName => TcNames.Protocol(Protocol);
    /// <summary>As `tc filter show` heads it (the u32 handle in its hash-table notation).</summary>
    public override string ToString() =>
        $"filter {Direction.ToString().ToLowerInvariant()} protocol {ProtocolName} pref {Pref} {Classifier.Kind} chain 0 handle {HandleText}";
    public string HandleText => Classifier.Kind == "u32" ? $"{Handle >> 20:x}::{Handle & 0xFFF:x}" : $"0x{Handle:x}";
}

/// <summary>The tc configuration of one device: the qdisc that holds filters and the filters per direction, in classification order.</summary>
public sealed record TcDeviceConfig(string Device, string Qdisc, IReadOnlyList<TcFilter> Ingress, IReadOnlyList<TcFilter> Egress)
{
    /// <summary>Why a direction's filters are not evaluated (a snapshot listing the model cannot read), per direction.</summary>
    public IReadOnlyDictionary<TcDirection, string> NotModelled { get; init; } = new Dictionary<TcDirection, string>();
}

/// <summary>Names tc prints for EtherTypes (ll_proto_n2a) and back.</summary>
public static class TcNames
{
    private static readonly (string Name, ushort Proto)[] Table =
    {
        ("all", 0x0003), ("ip", 0x0800), ("ipv6", 0x86DD), ("arp", 0x0806), ("802.1Q", 0x8100), ("802.1ad", 0x88A8), ("rarp", 0x8035), ("mpls_uc", 0x8847),
    };

    public static string Protocol(ushort p)
    {
        foreach (var (n, v) in Table) if (v == p) return n;
        return $"0x{p:x4}";
    }

    public static ushort? ParseProtocol(string s)
    {
        foreach (var (n, v) in Table) if (string.Equals(n, s, StringComparison.OrdinalIgnoreCase)) return v;
        if (s is "ipv4") return 0x0800;
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && ushort.TryParse(s[2..], System.Globalization.NumberStyles.HexNumber, null, out var h)) return h;
        return null;
    }

    public static string Act(TcAct a) => a switch
    {
        TcAct.Ok => "pass", TcAct.Shot => "drop", TcAct.Unspec => "continue", TcAct.Pipe => "pipe", TcAct.Reclassify => "reclassify",
        TcAct.Stolen => "stolen", TcAct.Trap => "trap", _ => a.ToString().ToLowerInvariant(),
    };
}
