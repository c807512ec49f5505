namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// An anonymous map (nft_lookup with a data register, nft_objref_map): the key an expression loads from
/// the packet picks an element; no element, no match (NFT_BREAK: the rule stops).
/// </summary>
internal sealed class NftMapLookup
{
    public NftSelector Key = null!;
    public List<NftElement> Elements = null!;
    public int[] Widths = Array.Empty<int>();

    public NftElement? Find(NftEvalCtx c)
    {
        Span<byte> k = stackalloc byte[Key.Length];
        if (!Key.Load(c, k)) return null;
        foreach (var e in Elements) if (e.Matches(k, Widths)) return e;
        return null;
    }
}

/// <summary>
/// <c>snat|dnat to KEY map { k : address, ... }</c>: nft_lookup puts the element's address in a register
/// and nft_nat takes it from there, so the address is chosen per packet (numgen inc round robin,
/// jhash of the source, a map of the source address ...).
/// </summary>
internal sealed class NatMapStmt : NftStmt
{
    public NftMapLookup Map = null!;
    public string Kind = ""; public int? PortMin, PortMax; public IReadOnlyList<string> Flags = Array.Empty<string>();
    public string RuleText = "";
    internal override bool DrawsRandom => Map.Key.DrawsRandom;

    public override bool Eval(NftEvalCtx c)
    {
        if (Map.Find(c) is not { Data: string address }) return false;
        c.Verdict = NftVerdict.Accept;
        c.Nat = new NatAction(Kind, address, PortMin, PortMax, RuleText) { Flags = Flags };
        return true;
    }
}

/// <summary>
/// <c>counter|quota|limit name KEY map { k : "object", ... }</c> (nft_objref_map_eval): the element names
/// the stateful object that counts this packet; each object keeps its one shared state.
/// </summary>
internal sealed class ObjrefMapStmt : NftStmt
{
    public NftMapLookup Map = null!;
    internal override bool DrawsRandom => Map.Key.DrawsRandom;

    public override bool Eval(NftEvalCtx c) => Map.Find(c) is { Data: NftStmt objref } && objref.Eval(c);
}
