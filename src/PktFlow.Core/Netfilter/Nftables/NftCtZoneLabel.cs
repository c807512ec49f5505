using System.Buffers.Binary;
using PktFlow.Netfilter.Conntrack;

namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// nft_ct_set_zone_eval (<c>ct [original|reply] zone set VALUE</c>): a packet that has no conntrack yet
/// gets a conntrack template carrying the zone, which nf_conntrack_in keys its lookup with; a packet that
/// already has one (a chain after conntrack at -200, an earlier template) is left as it is. A template
/// replaces an earlier notrack (nf_ct_get finds no conntrack on an untracked packet).
/// </summary>
internal sealed class CtZoneSetStmt : NftStmt
{
    public ushort Value; public byte Dir = ConntrackZone.BothDirections;
    public NftMapLookup? Map;
    internal override bool DrawsRandom => Map?.Key.DrawsRandom == true;

    public override bool Eval(NftEvalCtx c)
    {
        ushort v = Value;
        if (Map is not null)
        {
            if (Map.Find(c) is not { Data: uint data }) return false;
            v = (ushort)data;
        }
        if (c.P.Conntrack is not null || c.CtTemplateZone is not null || c.CtTemplateTimeout is not null || c.CtTemplateHelper is not null)
            return true; // already tracked or templated: nothing changes
        c.CtTemplateZone = new ConntrackZone(v, Dir);
        c.Notrack = false;
        return true;
    }
}

/// <summary>
/// nft_ct_set_eval NFT_CT_LABELS (<c>ct label set N</c>): nf_connlabels_replace ORs the bit into the
/// connection's labels at once; a packet without a conntrack entry (untracked, a template) has none to set.
/// </summary>
internal sealed class CtLabelSetStmt : NftStmt
{
    public UInt128 Bits;
    public override bool Eval(NftEvalCtx c)
    {
        if (c.P.Conntrack is not { Original: not null } ct) return true;
        c.CtLabels = (c.CtLabels ?? ct.Labels) | Bits;
        return true;
    }
}

/// <summary>
/// <c>ct label [!=] N[,N...]</c> (nft_ct_get NFT_CT_LABELS, bitwise and cmp): some of the bits are set
/// (with != none of them). A packet without a conntrack entry does not match either way (NFT_BREAK).
/// xt_connlabel (<c>-m connlabel --label N [--set]</c>) differs: see <see cref="Iptables.ConnlabelMatch"/>.
/// </summary>
internal sealed class CtLabelMatch : NftStmt
{
    public UInt128 Bits; public bool Negated;
    public override bool Eval(NftEvalCtx c)
    {
        if (c.P.Conntrack is not { Original: not null } ct) return false;
        bool any = ((c.CtLabels ?? ct.Labels) & Bits) != 0;
        return any != Negated;
    }
}

internal sealed partial class NftParser
{
    /// <summary>ct [original|reply] zone set VALUE | EXPR map { k : zone, ... } (a 16-bit zone).</summary>
    private NftStmt CtZoneSet(byte dir)
    {
        if (Cur.Kind == TokKind.Word && SelectorWords.Contains(Cur.Text))
        {
            var at = Cur;
            var key = Selector();
            if (!TakeIf("map")) throw Err(at, $"datatype mismatch: expected integer, expression has type {key.Type.Name} (ct zone set takes a number or a map's data)");
            return new CtZoneSetStmt { Dir = dir, Map = MapBody(key, () => Zone(Take()), ZoneData) };
        }
        return new CtZoneSetStmt { Dir = dir, Value = (ushort)Zone(Take()) };
    }

    private uint Zone(NftTok t) => NftType.TryNumber(t.Text, out var v) ? v <= ushort.MaxValue ? (uint)v : throw Err(t, $"Value {t.Text} exceeds valid range 0-65535") : throw Err(t, $"bad zone '{t.Text}'");

    private static string? ZoneData(NftSet set) => set.DataTypes is [{ Kind: NftTypeKind.Int, Length: <= 4 }] ? null : "not to a zone";

    /// <summary>
    /// A conntrack label: its bit number 0..127, or a name the ruleset's connlabel.conf gives
    /// (<see cref="NftLoadOptions.ConnLabels"/>, nft's /etc/connlabel.conf).
    /// </summary>
    private int LabelBit(NftTok t)
    {
        if (NftType.TryNumber(t.Text, out var n))
            return n <= 127 ? (int)n : throw Err(t, $"{t.Text}: bit {n} out of range (128 max)");
        if (_opt.ConnLabels?.Bit(t.Text) is { } bit) return bit;
        throw Err(t, $"connlabel.conf: could not parse conntrack label \"{t.Text}\" ({(_opt.ConnLabels is null ? "no connlabel.conf was given: use the bit number or give the file" : $"not in {_opt.ConnLabels.Source}")})");
    }

    /// <summary>ct label set N | ct label [!=] N[,N...]: sets and anonymous sets of labels are refused.</summary>
    private NftStmt CtLabel()
    {
        if (TakeIf("set"))
        {
            var t = Take();
            if (More && Cur.Is(",")) throw Err(Cur, "syntax error, unexpected comma, expecting newline or semicolon");
            return new CtLabelSetStmt { Bits = UInt128.One << LabelBit(t) };
        }
        if (Cur.Is("==")) throw Err(Cur, "unsupported: ct label == (an exact comparison of all 128 bits); ct label N and ct label != N are modelled");
        bool neg = TakeIf("!=");
        if (Cur.Is("{") || Cur.Is("@")) throw Err(Cur, "unsupported: a set of conntrack labels (ct label N or ct label N,M is modelled)");
        UInt128 bits = 0;
        do bits |= UInt128.One << LabelBit(Take()); while (TakeIf(","));
        return new CtLabelMatch { Bits = bits, Negated = neg };
    }
}
