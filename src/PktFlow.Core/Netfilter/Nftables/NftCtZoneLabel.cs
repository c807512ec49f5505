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
/// nft_ct_set_eval NFT_CT_LABELS (<c>ct label set N | N | M</c>, or the label data of a map an expression
/// keys): nf_connlabels_replace with the value as its own mask ORs the bits into the connection's labels
/// at once; a packet without a conntrack entry (untracked, a template) has none to set, and a map
/// without the key is no match (NFT_BREAK).
/// </summary>
internal sealed class CtLabelSetStmt : NftStmt
{
    public UInt128 Bits;
    public NftMapLookup? Map;
    internal override bool DrawsRandom => Map?.Key.DrawsRandom == true;

    public override bool Eval(NftEvalCtx c)
    {
        var bits = Bits;
        if (Map is not null)
        {
            if (Map.Find(c) is not { Data: UInt128 data }) return false;
            bits = data;
        }
        if (c.P.Conntrack is not { Original: not null } ct) return true;
        c.CtLabels = (c.CtLabels ?? ct.Labels) | bits;
        return true;
    }
}

/// <summary>
/// <c>ct label</c> as a key (nft_ct_get_eval NFT_CT_LABELS): the connection's 128 label bits as the
/// kernel's register holds them (the bitmap's bytes, bit N in byte N/8), all zero when it has none; a
/// packet without a conntrack entry does not match (NFT_BREAK). Being a flags type, <c>ct label N,M</c>
/// is "any of these set" (bitwise and cmp neq 0), while <c>==</c>, <c>!=</c>, sets, maps and verdict
/// maps compare all 128 bits (checked with nft 1.0.6 --debug=netlink). xt_connlabel differs: see
/// <see cref="Iptables.ConnlabelMatch"/>.
/// </summary>
internal sealed class CtLabelSelector : NftSelector
{
    public override NftType Type => NftType.CtLabel;

    public override bool Load(NftEvalCtx c, Span<byte> d)
    {
        if (c.P.Conntrack is not { Original: not null } ct) return false;
        BinaryPrimitives.WriteUInt128LittleEndian(d, c.CtLabels ?? ct.Labels);
        return true;
    }

    /// <summary>Labels as the register's bytes (little-endian: the kernel's unsigned long bitmap on x86 and arm64).</summary>
    public static byte[] Bytes(UInt128 bits)
    {
        var b = new byte[16];
        BinaryPrimitives.WriteUInt128LittleEndian(b, bits);
        return b;
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

    /// <summary>
    /// ct label set N [| M...] | EXPR map { k : N [| M], ... }: nft takes no comma list here (a syntax
    /// error) and no other expression (a datatype mismatch: ct label set ct mark).
    /// </summary>
    private NftStmt CtLabelSet()
    {
        if (Cur.Kind == TokKind.Word && SelectorWords.Contains(Cur.Text))
        {
            var at = Cur;
            var key = Selector();
            if (!TakeIf("map")) throw Err(at, $"datatype mismatch: expected conntrack label, expression has type {key.Type.Name}");
            return new CtLabelSetStmt { Map = MapBody(key, () => LabelBits(commas: false), _ => "a named map of conntrack labels is not modelled (nft 1.0.6 cannot list one)") };
        }
        var st = new CtLabelSetStmt { Bits = LabelBits(commas: false) };
        if (More && Cur.Is(",")) throw Err(Cur, "syntax error, unexpected comma, expecting newline or semicolon");
        return st;
    }

    /// <summary>Label numbers or names joined by | (and , where a list is allowed), as one 128-bit value.</summary>
    private UInt128 LabelBits(bool commas)
    {
        UInt128 bits = 0;
        do bits |= UInt128.One << LabelBit(Take()); while ((commas && TakeIf(",")) || TakeIf("|"));
        return bits;
    }
}
