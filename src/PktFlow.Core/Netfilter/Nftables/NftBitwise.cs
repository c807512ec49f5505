namespace PktFlow.Netfilter.Nftables;

/// <summary>One nft_bitwise of a statement's value: <c>(reg &amp; Mask) ^ Xor</c> (and, or, xor folded) or a shift.</summary>
internal readonly record struct BitwiseStep(BitwiseOp Op, byte[] Mask, byte[] Xor, int Bits);

/// <summary>NFT_BITWISE_BOOL, NFT_BITWISE_LSHIFT, NFT_BITWISE_RSHIFT.</summary>
internal enum BitwiseOp { Bool, LShift, RShift }

/// <summary>
/// An expression's value passed through nft_bitwise as nft emits it for a statement
/// (<c>meta mark set ct mark &gt;&gt; 8</c>, <c>ct mark set (meta mark | 0x10) &lt;&lt; 8</c>,
/// <c>ip daddr set ip daddr and 255.255.255.0</c>, a map key <c>ip6 saddr and ::ffff map { ... }</c>):
/// and/or/xor in a row fold into one <c>(reg &amp; mask) ^ xor</c> over the value's bytes; a shift
/// (nft_bitwise_eval_lshift/rshift) moves a 32-bit host-order register, as a mark is held.
/// </summary>
internal sealed class BitwiseSelector : NftSelector
{
    public required NftSelector Inner;
    public required BitwiseStep[] Steps;
    public override NftType Type => Inner.Type;
    public override bool HostOrder => Inner.HostOrder;
    public override bool DrawsRandom => Inner.DrawsRandom;

    public override bool Load(NftEvalCtx c, Span<byte> dst)
    {
        if (!Inner.Load(c, dst)) return false;
        Apply(Steps, dst[..Length]);
        return true;
    }

    public static void Apply(ReadOnlySpan<BitwiseStep> steps, Span<byte> v)
    {
        foreach (var s in steps)
        {
            if (s.Op == BitwiseOp.Bool)
            {
                for (int i = 0; i < v.Length; i++) v[i] = (byte)((v[i] & s.Mask[i]) ^ s.Xor[i]);
                continue;
            }
            ulong x = NftBytes.ToUlong(v);
            x = s.Op == BitwiseOp.LShift ? x << s.Bits : x >> s.Bits;
            for (int i = v.Length - 1; i >= 0; i--) { v[i] = (byte)x; x >>= 8; }
        }
    }

    /// <summary>Folds <paramref name="op"/> with constant <paramref name="c"/> into the last and/or/xor step, or adds one.</summary>
    public static void Add(List<BitwiseStep> steps, string op, byte[] c)
    {
        BitwiseStep s = steps.Count > 0 && steps[^1].Op == BitwiseOp.Bool ? steps[^1]
            : new(BitwiseOp.Bool, Enumerable.Repeat((byte)0xFF, c.Length).ToArray(), new byte[c.Length], 0);
        if (steps.Count > 0 && steps[^1].Op == BitwiseOp.Bool) steps.RemoveAt(steps.Count - 1);
        var mask = (byte[])s.Mask.Clone(); var xor = (byte[])s.Xor.Clone();
        for (int i = 0; i < c.Length; i++)
        {
            switch (op)
            {
                case "&" or "and": mask[i] &= c[i]; xor[i] &= c[i]; break;
                case "|" or "or": mask[i] &= (byte)~c[i]; xor[i] = (byte)((xor[i] & ~c[i]) | c[i]); break;
                default: xor[i] ^= c[i]; break;
            }
        }
        steps.Add(s with { Mask = mask, Xor = xor });
    }
}
