namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// nft_limit (net/netfilter/nft_limit.c): a token bucket counted in nanoseconds of credit on the capture
/// clock. Packets: each costs unit/rate ns and the bucket holds burst (default 5) of them; bytes: a
/// packet costs unit*len/rate ns and the bucket holds unit*(rate+burst)/rate ns. The bucket starts full
/// and refills by the time elapsed since the last packet, capped at the bucket size. Matches while
/// within the rate (<c>over</c>: while above it). iptables-nft stores <c>-m limit</c> as this expression.
/// </summary>
internal sealed class LimitStmt : NftStmt
{
    public const uint DefaultPacketBurst = 5; // NFT_LIMIT_PKT_BURST_DEFAULT
    public bool Bytes, Over;
    public ulong Rate, UnitSeconds;
    public uint Burst;

    public ulong Nsecs => UnitSeconds * 1_000_000_000UL;

    /// <summary>tokens_max of nft_limit_init.</summary>
    public ulong TokensMax => Bytes
        ? (ulong)((UInt128)Nsecs * (Rate + Burst) / Rate)
        : Nsecs / Rate * (Burst == 0 ? DefaultPacketBurst : Burst);

    /// <summary>What one packet of <paramref name="len"/> bytes costs.</summary>
    public ulong Cost(long len) => Bytes ? (ulong)((UInt128)Nsecs * (ulong)len / Rate) : Nsecs / Rate;

    public override bool Eval(NftEvalCtx c)
    {
        long now = c.State.NowNs;
        var b = c.State.Bucket(this, c.ElementKey, TokensMax, now);
        // nft_limit_eval: refill by the time since the last packet (the capture clock never runs backwards here).
        ulong tokens = b.Tokens + (ulong)Math.Max(0, now - b.LastNs);
        if (tokens > TokensMax) tokens = TokensMax;
        b.LastNs = now;
        ulong cost = Cost(c.Length);
        bool over;
        if (tokens >= cost) { b.Tokens = tokens - cost; over = false; }
        else { b.Tokens = tokens; over = true; }
        return over == Over;
    }
}

/// <summary>
/// nft_quota: every packet that reaches it adds skb->len to what is consumed; the packet is over quota
/// when consumed &gt; quota (a packet that uses the last byte exactly still passes: recorded on 6.18 in
/// tests/scenarios/nft-limit-quota-sets; older kernels compared with &gt;=). Matches until then
/// (<c>over</c>: from then on). A named quota shares its use.
/// </summary>
internal sealed class QuotaStmt : NftStmt
{
    public long Quota, InitialUsed; public bool Over;
    public NftObject? Object;
    public override bool Eval(NftEvalCtx c)
    {
        object key = Object ?? (object)this;
        long used = c.State.QuotaUsed(key, Object?.InitialBytes ?? InitialUsed) + c.Length;
        c.State.SetQuotaUsed(key, used);
        bool spent = used > (Object?.QuotaBytes ?? Quota);
        return spent == (Object?.Over ?? Over);
    }
}

/// <summary><c>counter name "c"</c>: a named counter object (nft_objref) counts the packet.</summary>
internal sealed class ObjCounterStmt : NftStmt
{
    public NftObject Object = null!;
    public override bool Eval(NftEvalCtx c)
    {
        var v = c.State.PeekCounter(Object) ?? InitCounter(c.State, Object);
        v.Add(c.Length);
        return true;
    }

    internal static NftCounterValue InitCounter(NftState s, NftObject o)
    {
        var v = s.Counter(o); v.Packets = o.InitialPackets; v.Bytes = o.InitialBytes; return v;
    }
}

/// <summary>
/// numgen (nft_numgen.c) as a selector: <c>inc</c> counts 0, 1, ... modulus-1 and wraps (the counter
/// starts at modulus-1 so the first packet gets 0); <c>random</c> scales a random u32 into [0, modulus)
/// (reciprocal_scale). Both add the offset.
/// </summary>
internal sealed class NumgenSelector : NftSelector
{
    public bool Random; public uint Modulus, Offset;
    public override NftType Type => NftType.Int4;
    public override bool HostOrder => true;
    public override bool DrawsRandom => Random;

    public override bool Load(NftEvalCtx c, Span<byte> dst)
    {
        uint v;
        if (Random)
        {
            var alts = new string[Modulus]; var probs = new double[Modulus];
            for (uint k = 0; k < Modulus; k++) { alts[k] = $"numgen {k + Offset}"; probs[k] = Share(k, Modulus); }
            v = (uint)c.State.Choose(c.Rule, alts, probs, r => (int)Scale(r)) + Offset;
        }
        else
        {
            uint old = c.State.Sequence(this, Modulus - 1);
            uint next = old + 1 < Modulus ? old + 1 : 0;
            c.State.SetSequence(this, next);
            v = next + Offset;
        }
        dst[0] = (byte)(v >> 24); dst[1] = (byte)(v >> 16); dst[2] = (byte)(v >> 8); dst[3] = (byte)v;
        return true;
    }

    /// <summary>reciprocal_scale(r, modulus).</summary>
    private uint Scale(uint r) => (uint)((ulong)r * Modulus >> 32);

    /// <summary>The exact share of the 2^32 random values that scale to <paramref name="k"/>.</summary>
    public static double Share(uint k, uint modulus)
    {
        static ulong FirstAt(ulong k, ulong m) => (k << 32) / m + ((k << 32) % m == 0 ? 0UL : 1UL);
        return (double)(FirstAt(k + 1, modulus) - FirstAt(k, modulus)) / 4294967296.0;
    }
}

/// <summary>
/// xt_statistic --mode random / nft <c>meta random &amp; 0x7fffffff &lt; P</c>: matches when 31 random
/// bits are below the probability scaled to 2^31 (negated: at or above it).
/// </summary>
internal sealed class RandomStmt : NftStmt
{
    public uint Probability; public bool Negate;
    internal override bool DrawsRandom => true;
    public override bool Eval(NftEvalCtx c)
    {
        double p = Probability / 2147483648.0;
        // alternative 0 is "below the probability": the rule's match unless negated
        int chosen = c.State.Choose(c.Rule, new[] { $"random < {p:0.#####}", $"random >= {p:0.#####}" }, new[] { p, 1 - p },
            r => (r & 0x7FFFFFFF) < Probability ? 0 : 1);
        return (chosen == 0) != Negate;
    }
}

/// <summary>
/// nft <c>meta random [&amp; MASK] OP VALUE</c> (nft_meta's prandom_u32): a random u32, masked, compared.
/// The mask must be a run of low bits (what iptables-nft and kube-proxy write), so that the chance of a
/// match is exact: the share of the masked values that satisfy the comparison.
/// </summary>
internal sealed class MetaRandomStmt : NftStmt
{
    public uint Mask = uint.MaxValue; public CmpOp Op; public uint Value;
    internal override bool DrawsRandom => true;

    public double Probability
    {
        get
        {
            ulong n = (ulong)Mask + 1, v = Value;
            ulong count = Op switch
            {
                CmpOp.Lt => Math.Min(v, n), CmpOp.Le => Math.Min(v + 1, n),
                CmpOp.Gt => n - Math.Min(v + 1, n), CmpOp.Ge => n - Math.Min(v, n),
                CmpOp.Eq => v < n ? 1UL : 0UL, _ => v < n ? n - 1 : n,
            };
            return (double)count / n;
        }
    }

    private bool Test(uint r)
    {
        uint m = r & Mask;
        return Op switch
        {
            CmpOp.Lt => m < Value, CmpOp.Le => m <= Value, CmpOp.Gt => m > Value, CmpOp.Ge => m >= Value,
            CmpOp.Eq => m == Value, _ => m != Value,
        };
    }

    public override bool Eval(NftEvalCtx c)
    {
        double p = Probability;
        int chosen = c.State.Choose(c.Rule, new[] { "meta random matches", "meta random does not match" }, new[] { p, 1 - p }, r => Test(r) ? 0 : 1);
        return chosen == 0;
    }
}

/// <summary>
/// xt_statistic --mode nth: a per-rule counter starting at --packet; each packet advances it
/// (wrapping after every-1) and the rule matches when it wraps to 0, as xt_statistic.c does.
/// </summary>
internal sealed class NthStmt : NftStmt
{
    public uint EveryMinus1, Start; public bool Negate;
    public override bool Eval(NftEvalCtx c)
    {
        uint old = c.State.Sequence(this, Start);
        uint next = old == EveryMinus1 ? 0 : old + 1;
        c.State.SetSequence(this, next);
        return (next == 0) != Negate;
    }
}

/// <summary>
/// nft_dynset: <c>add</c>/<c>update</c>/<c>delete @set { key [timeout T] [stmt] }</c> from a rule.
/// add inserts the key if absent (an existing element keeps its expiry); update also restarts the
/// timeout of an existing one; both fail (the rule stops) when the set is full; the element's own
/// statements (counter, limit, quota, ct count: a meter) then run for that element: the ones the rule
/// that added it carried (nft_dynset_new clones them into the element). delete removes the key.
/// </summary>
internal sealed class DynsetStmt : NftStmt
{
    public string Op = "add";
    public NftSet Set = null!;
    public NftSelector Key = null!;
    public long? TimeoutNs;
    public NftStmt[] ElementStmts = Array.Empty<NftStmt>();
    /// <summary>For a map: the data (or verdict) a new element carries.</summary>
    public NftElement? Data;
    internal override bool DrawsRandom => Key.DrawsRandom || Data?.Data is NftSelector { DrawsRandom: true };

    /// <summary>
    /// A new element's data: the constant, or the value the data expression loads from this packet (loaded into
    /// its register before the dynset runs: a packet it cannot be loaded from stops the rule).
    /// </summary>
    private bool DataOf(NftEvalCtx c, out object? data)
    {
        data = Data?.Data;
        if (data is not NftSelector sel) return true;
        var d = new byte[sel.Length];
        if (!sel.Load(c, d)) return false;
        data = NftMapData.Of(Set.DataTypes, d);
        return true;
    }

    public override bool Eval(NftEvalCtx c)
    {
        var k = new byte[Key.Length];
        if (!Key.Load(c, k) || !DataOf(c, out var data)) return false;
        var entries = c.State.Set(Set);
        long now = c.State.NowNs;
        entries.RemoveAll(e => e.ExpiresNs <= now);
        var widths = Set.KeyTypes.Select(t => t.Length).ToArray();
        var hit = entries.Find(e => e.Element.Matches(k, widths));
        if (Op == "delete") { if (hit is not null) entries.Remove(hit); return true; }
        long? timeout = TimeoutNs ?? Set.TimeoutNs;
        if (hit is null)
        {
            if (entries.Count >= (Set.Size ?? 65535)) return false;
            var bytes = k; var lo = new byte[widths.Length][];
            int o = 0;
            for (int i = 0; i < widths.Length; i++) { lo[i] = bytes[o..(o + widths[i])]; o += widths[i]; }
            hit = new NftSetEntry { Element = new NftElement { Lo = lo, Hi = lo, Data = data, Verdict = Data?.Verdict ?? default, Target = Data?.Target }, Dynamic = true, TimeoutNs = timeout, ExpiresNs = now + timeout, CreatedNs = now, Exprs = ElementStmts };
            entries.Add(hit);
        }
        else if (Op == "update" && timeout is not null) { hit.TimeoutNs = timeout; hit.ExpiresNs = now + timeout; }
        // nft_dynset_eval: an element already there keeps its data (neither add nor update rewrites it; checked on 6.18)
        // nft_set_elem_update_expr: the element's own expressions run (those of the rule that added it)
        if (hit.Exprs is not { Length: > 0 } exprs) return true;
        var (saveEl, saveKey) = (c.Element, c.ElementKey);
        c.Element = hit; c.ElementKey = $"{Convert.ToHexString(k)}@{hit.CreatedNs}"; // a re-added element starts a fresh limit
        try
        {
            foreach (var s in exprs) if (!s.Eval(c)) return false;
            return true;
        }
        finally { (c.Element, c.ElementKey) = (saveEl, saveKey); }
    }
}
