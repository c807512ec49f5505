using PktFlow.Netfilter.Nftables;

namespace PktFlow.Netfilter.Iptables;

/// <summary>MARK/CONNMARK --set-xmark semantics: mark = (mark &amp; ~mask) ^ value (xt_MARK, xt_CONNMARK).</summary>
internal sealed class XmarkStmt : NftStmt
{
    public bool Ct; public uint Value; public uint Mask;
    public override bool Eval(NftEvalCtx c)
    {
        if (Ct) { uint cur = c.CtMark ?? c.P.Conntrack?.Mark ?? 0; c.CtMark = (cur & ~Mask) ^ Value; }
        else c.P.Mark = (c.P.Mark & ~Mask) ^ Value;
        return true;
    }
}

/// <summary>CONNMARK --save-mark (ct mark = meta mark) and --restore-mark (meta mark = ct mark), full masks.</summary>
internal sealed class CopyMarkStmt : NftStmt
{
    public bool Save;
    public override bool Eval(NftEvalCtx c)
    {
        if (Save) c.CtMark = c.P.Mark;
        else c.P.Mark = c.CtMark ?? c.P.Conntrack?.Mark ?? 0;
        return true;
    }
}

/// <summary>xt_statistic --mode random: (random &amp; 0x7FFFFFFF) &lt; probability, from a seeded generator.</summary>
internal sealed class RandomStmt : NftStmt
{
    public uint Probability; public Random Rng = null!; public bool Negate;
    public override bool Eval(NftEvalCtx c)
    {
        uint r;
        lock (Rng) r = (uint)Rng.Next() & 0x7FFFFFFF;
        return (r < Probability) != Negate;
    }
}

/// <summary>
/// xt_statistic --mode nth: a per-rule counter starting at --packet; each packet advances it
/// (wrapping after every-1) and the rule matches when it wraps to 0, as xt_statistic.c does.
/// </summary>
internal sealed class NthStmt : NftStmt
{
    public uint EveryMinus1; public bool Negate;
    private uint _count;
    public uint Count { init => _count = value; }
    public override bool Eval(NftEvalCtx c)
    {
        uint nval;
        lock (this) { nval = _count == EveryMinus1 ? 0 : _count + 1; _count = nval; }
        return (nval == 0) != Negate;
    }
}
