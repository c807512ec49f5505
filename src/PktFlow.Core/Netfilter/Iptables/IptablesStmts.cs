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

