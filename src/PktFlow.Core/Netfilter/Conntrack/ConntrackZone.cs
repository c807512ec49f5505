namespace PktFlow.Netfilter.Conntrack;

/// <summary>
/// struct nf_conntrack_zone: a zone id and the directions it applies to (NF_CT_ZONE_DIR_ORIG = 1,
/// NF_CT_ZONE_DIR_REPL = 2; NF_CT_DEFAULT_ZONE_DIR both). A tuple is hashed and compared with the id of
/// its own direction (nf_ct_zone_id): a zone set for the original direction only (<c>ct original zone
/// set</c>, <c>-j CT --zone-orig</c>) keys the reply tuple in zone 0.
/// </summary>
public readonly record struct ConntrackZone(ushort Id, byte Dir = ConntrackZone.BothDirections)
{
    public const byte OriginalDirection = 1, ReplyDirection = 2, BothDirections = 3;

    public static readonly ConntrackZone Default = new(0);

    /// <summary>NF_CT_FLAG_MARK (<c>-j CT --zone mark</c>): a template's zone whose id is the packet's mark when
    /// nf_conntrack_in looks the packet up, not its own (0).</summary>
    public bool FromMark { get; init; }

    /// <summary>
    /// nf_ct_zone_tmpl: the zone a packet carrying this template is looked up and tracked in; with
    /// <see cref="FromMark"/> the mark it has then, cut to the zone id's 16 bits (mark 0x10007 is zone 7:
    /// checked on 6.18, scenario iptables-ct-zone-mark), in the template's directions.
    /// </summary>
    public ConntrackZone ForPacket(uint mark) => FromMark ? new((ushort)mark, Dir) : this;

    public static implicit operator ConntrackZone(ushort id) => new(id);

    /// <summary>nf_ct_zone_id: the id for tuples of <paramref name="d"/>, or 0 when the zone does not apply there.</summary>
    public ushort IdFor(CtDirection d) => (Dir & (1 << (int)d)) != 0 ? Id : (ushort)0;

    /// <summary>How conntrack -L words it: zone=N (both directions), zone-orig=N or zone-reply=N; "" for zone 0.</summary>
    public string ListingWord(CtDirection? tupleDir) => Id == 0 ? "" : (Dir, tupleDir) switch
    {
        (BothDirections, null) => $" zone={Id}",
        (OriginalDirection, CtDirection.Original) => $" zone-orig={Id}",
        (ReplyDirection, CtDirection.Reply) => $" zone-reply={Id}",
        _ => "",
    };
}
