namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// ct expiration (nft_ct_get_eval, NFT_CT_EXPIRATION): the milliseconds the connection has left, in 32
/// bits: what the tracker set for this packet (nf_conntrack_in refreshed it before any filter chain at
/// priority above -200), 0 while the entry is not confirmed (its first packet). No connection: no match.
/// Checked on 6.18: a UDP flow's first packet sees 0, the next ones exactly 30s.
/// </summary>
internal sealed class CtExpirationSelector : NftSelector
{
    public override NftType Type => NftType.Time;
    public override bool HostOrder => true;

    public override bool Load(NftEvalCtx c, Span<byte> d)
    {
        if (c.P.Conntrack is not { Original: not null } ct) return false;
        uint v = ct.ExpirationMs;
        d[0] = (byte)(v >> 24); d[1] = (byte)(v >> 16); d[2] = (byte)(v >> 8); d[3] = (byte)v;
        return true;
    }
}

/// <summary>
/// ct event set EVENTS (nft_ct_set_eval, NFT_CT_EVENTMASK): which conntrack events (ctnetlink,
/// <c>conntrack -E</c>) the connection reports. The model has no event listeners, so the statement
/// changes nothing it computes; the trace says what was asked.
/// </summary>
internal sealed class CtEventSetStmt : NftStmt
{
    public string Events = "";
    public override bool Eval(NftEvalCtx c)
    {
        if (c.P.Conntrack is { Original: not null })
            (c.Notes ??= new()).Add($"ct event set {Events}: conntrack events are not modelled (no ctnetlink listener); nothing else changes");
        return true;
    }

    /// <summary>nft's ct_event names and their bits (enum ip_conntrack_events).</summary>
    public static readonly IReadOnlyDictionary<string, int> Names = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["new"] = 0, ["related"] = 1, ["destroy"] = 2, ["reply"] = 3, ["assured"] = 4, ["protoinfo"] = 5,
        ["helper"] = 6, ["mark"] = 7, ["seqadj"] = 8, ["secmark"] = 9, ["label"] = 10,
    };
}
