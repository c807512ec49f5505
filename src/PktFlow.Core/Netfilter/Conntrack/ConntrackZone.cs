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
