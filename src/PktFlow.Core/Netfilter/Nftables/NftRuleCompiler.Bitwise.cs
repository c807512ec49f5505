namespace PktFlow.Netfilter.Nftables;

internal sealed partial class NftParser
{
    /// <summary>A statement's value while it is parsed: a constant, or an expression with the nft_bitwise steps after it.</summary>
    private sealed class BitwiseOperand
    {
        public NftSelector? Sel;
        public byte[] Const = Array.Empty<byte>();
        public readonly List<BitwiseStep> Steps = new();
        public NftTok At;
        public NftSelector Selector => Steps.Count == 0 ? Sel! : new BitwiseSelector { Inner = Sel!, Steps = Steps.ToArray(), Text = Sel!.Text };
    }

    /// <summary>
    /// A statement's value with nft's binary operators and their precedence (parser_bison.y: shifts bind
    /// tighter than and, and than xor, xor than or; parentheses group): <c>ct mark &gt;&gt; 8 &amp; 0xff</c>,
    /// <c>(meta mark | 0x10) &lt;&lt; 8</c>. Constants fold as nft folds them; an expression may stand only
    /// on the left, as nft wants ("Right hand side of binary operation must be constant"). Constants take
    /// <paramref name="ty"/>'s syntax (<paramref name="constant"/> reads one token).
    /// </summary>
    private BitwiseOperand BitwiseValue(NftType ty, Func<NftTok, NftType, byte[]> constant) => BwBinary(0, ty, constant);

    /// <summary>The binary operators from the loosest: or, xor, and (shifts below them).</summary>
    private static readonly string[][] BwLevels = { new[] { "|", "or" }, new[] { "^", "xor" }, new[] { "&", "and" } };

    private BitwiseOperand BwBinary(int level, NftType ty, Func<NftTok, NftType, byte[]> k)
    {
        if (level == BwLevels.Length) return BwShift(ty, k);
        var l = BwBinary(level + 1, ty, k);
        while (More && BwLevels[level].Contains(Cur.Text)) { var op = Take(); l = BwCombine(l, op, BwBinary(level + 1, l.Sel?.Type ?? ty, k)); }
        return l;
    }

    /// <summary>x &lt;&lt; N, x &gt;&gt; N (the lexer gives each '&lt;' alone): nft_bitwise's shifts of a 32-bit host-order value.</summary>
    private BitwiseOperand BwShift(NftType ty, Func<NftTok, NftType, byte[]> k)
    {
        var l = BwPrimary(ty, k);
        while (More && Cur.Text is "<" or ">" && _s.Pos + 1 < _ruleEnd && _s.Peek(1).Text == Cur.Text)
        {
            var op = Take(); Take();
            bool left = op.Text == "<";
            var nt = Take();
            int width = (l.Sel?.Length ?? l.Const.Length) * 8;
            if (!NftType.TryNumber(nt.Text, out var n)) throw Err(nt, $"bad shift '{nt.Text}'");
            if (n >= (ulong)width) throw Err(nt, $"{(left ? "Left" : "Right")} shift of {n} bits is undefined for type of {width} bits width");
            if (l.Sel is null)
            {
                var v = (byte[])l.Const.Clone();
                BitwiseSelector.Apply(new[] { new BitwiseStep(left ? BitwiseOp.LShift : BitwiseOp.RShift, v, v, (int)n) }, v);
                l.Const = v;
                continue;
            }
            if (!l.Sel.HostOrder || l.Sel.Length != 4)
                throw Err(op, $"unsupported: a shift of {l.Sel.Text} (nft_bitwise shifts are modelled on 32-bit values such as marks)");
            l.Steps.Add(new BitwiseStep(left ? BitwiseOp.LShift : BitwiseOp.RShift, Array.Empty<byte>(), Array.Empty<byte>(), (int)n));
        }
        return l;
    }

    private BitwiseOperand BwPrimary(NftType ty, Func<NftTok, NftType, byte[]> k)
    {
        var at = Cur;
        if (TakeIf("("))
        {
            var inner = BwBinary(0, ty, k);
            if (!TakeIf(")")) throw Err(Cur, "syntax error, expected ')'");
            return inner;
        }
        if (Cur.Kind == TokKind.Word && SelectorWords.Contains(Cur.Text)) return new BitwiseOperand { Sel = Selector(), At = at };
        return new BitwiseOperand { Const = k(Take(), ty), At = at };
    }

    private BitwiseOperand BwCombine(BitwiseOperand l, NftTok op, BitwiseOperand r)
    {
        if (r.Sel is not null) throw Err(r.At, $"Right hand side of binary operation ({op.Text}) must be constant");
        if (l.Sel is null)
        {
            var steps = new List<BitwiseStep>();
            BitwiseSelector.Add(steps, op.Text, r.Const);
            var v = (byte[])l.Const.Clone();
            if (v.Length != r.Const.Length) throw Err(op, "operands of different widths");
            BitwiseSelector.Apply(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(steps), v);
            l.Const = v;
            return l;
        }
        if (r.Const.Length != l.Sel.Length) throw Err(r.At, $"value of {r.Const.Length} bytes does not fit {l.Sel.Text} ({l.Sel.Length} bytes)");
        BitwiseSelector.Add(l.Steps, op.Text, r.Const);
        return l;
    }
}
