namespace PktFlow.Netfilter.Nftables;

internal sealed partial class NftParser
{
    /// <summary>A relational operator, in symbols or nft's words (eq, ne, lt, gt, le, ge); -1 when it is none.</summary>
    private static CmpOp RelOp(string w) => w switch
    {
        "==" or "eq" => CmpOp.Eq, "!=" or "ne" => CmpOp.Ne, "<" or "lt" => CmpOp.Lt, ">" or "gt" => CmpOp.Gt,
        "<=" or "le" => CmpOp.Le, ">=" or "ge" => CmpOp.Ge, "!" => CmpOp.NoBit, _ => (CmpOp)(-1),
    };

    /// <summary>
    /// KEY &amp;|and|'|'|or|^|xor CONSTANT ... [OP] VALUE|{ set }: nft folds the chain into one nft_bitwise,
    /// (key &amp; mask) ^ xor (<c>or C</c>: mask ~C, xor C), then compares (a relation or a set lookup).
    /// </summary>
    private NftStmt MaskedMatch(MatchStmt m, NftType ty)
    {
        var steps = new List<BitwiseStep>();
        while (More && Cur.Text is "&" or "and" or "|" or "or" or "^" or "xor")
        {
            var op = Take().Text;
            BitwiseSelector.Add(steps, op, ValueExpr(ty));
        }
        var (mask, xor) = (steps[0].Mask, steps[0].Xor);
        m.Mask = mask;
        m.Xor = xor.Any(b => b != 0) ? xor : null;
        var opTok = Cur;
        var rel = RelOp(opTok.Text);
        if (rel == CmpOp.NoBit) throw Err(opTok, "syntax error, '!' after a mask");
        if ((int)rel == -1) rel = CmpOp.Eq; else Take();
        m.Op = rel;
        if (Cur.Is("{"))
        {
            if (rel is not (CmpOp.Eq or CmpOp.Ne)) throw Err(opTok, "relational operator not allowed with a set");
            var els = ParseSetBody(new[] { ty }, vmap: false);
            if (els.Count != 1) _anonSets++;
            if (els is [{ Lo: [var one], Hi: [var upTo] }] && one.AsSpan().SequenceEqual(upTo)) m.Value = one;
            else m.Elements = els;
            return m;
        }
        m.Value = ValueExpr(ty);
        return m;
    }

    /// <summary>@ll|@nh|@th|@ih,OFFSET,LENGTH (bits): a raw payload expression.</summary>
    private NftSelector RawPayload(NftTok t)
    {
        if (!TakeIf(",")) throw Err(Cur, $"syntax error, expected ',' after {t.Text}");
        var o = Take();
        if (!TakeIf(",")) throw Err(Cur, $"syntax error, expected ',' after {t.Text},{o.Text}");
        var l = Take();
        if (!int.TryParse(o.Text, out var off) || off < 0) throw Err(o, $"bad raw payload offset '{o.Text}'");
        if (!int.TryParse(l.Text, out var len) || len <= 0) throw Err(l, $"bad raw payload length '{l.Text}'");
        if (len > 128) throw Err(l, $"raw payload length {len} is above 128 bits");
        if (!RawPayloadSelector.Loadable(off, len)) throw Err(l, $"unsupported: raw payload {t.Text},{off},{len} (an unaligned field wider than 64 bits)");
        var b = t.Text switch { "@ll" => RawBase.Link, "@nh" => RawBase.Network, "@th" => RawBase.Transport, _ => RawBase.Inner };
        return new RawPayloadSelector(b, off, len) { Text = $"{t.Text},{off},{len}" };
    }
}
