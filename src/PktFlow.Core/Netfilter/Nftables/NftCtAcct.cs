namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// ct [original|reply] bytes|packets|avgpkt (nft_ct_get_eval, NFT_CT_BYTES/PKTS/AVGPKT): a 64-bit
/// count of the connection's accounting; without a direction the sum of both; avgpkt is bytes over
/// packets (0 with no packets). No connection: the rule does not match (NFT_BREAK). Using one turns
/// accounting on for the namespace (nft_ct_get_init -> nf_ct_set_acct), so the model always counts.
/// </summary>
internal sealed class CtAcctSelector : NftSelector
{
    private readonly string _what;
    private readonly bool? _reply;
    public CtAcctSelector(string what, bool? reply) { _what = what; _reply = reply; }
    private static readonly NftType Int8 = NftType.Integer(8);
    public override NftType Type => Int8;
    public override bool HostOrder => true;

    public override bool Load(NftEvalCtx c, Span<byte> d)
    {
        if (c.P.Conntrack is not { Original: not null } ct) return false;
        var (pk, by) = _reply switch
        {
            false => ct.OriginalCounters,
            true => ct.ReplyCounters,
            null => (ct.OriginalCounters.Packets + ct.ReplyCounters.Packets, ct.OriginalCounters.Bytes + ct.ReplyCounters.Bytes),
        };
        ulong v = _what switch { "bytes" => by, "packets" => pk, _ => pk == 0 ? 0 : by / pk };
        for (int i = 7; i >= 0; i--) { d[i] = (byte)v; v >>= 8; }
        return true;
    }
}

/// <summary>
/// ct id (nft_ct_get_eval, NFT_CT_ID -> nf_ct_get_id): siphash of the entry's and its master's kernel
/// addresses, its netns and its original tuple, keyed by a secret drawn once per boot (net_get_random_once).
/// A packet without a connection does not match (NFT_BREAK); one with a connection has an id no replay can
/// know, so the rule's outcome is reported unknown rather than guessed.
/// </summary>
internal sealed class CtIdSelector : NftSelector
{
    public override NftType Type => NftType.Int4;

    public override bool Load(NftEvalCtx c, Span<byte> d)
    {
        if (c.P.Conntrack is null) return false;
        c.Unknown("unsupported: ct id: the kernel siphashes the entry's addresses in kernel memory with a boot-time secret, so a connection's id cannot be known");
        return false;
    }
}
