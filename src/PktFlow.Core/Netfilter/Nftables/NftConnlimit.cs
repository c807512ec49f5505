namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// nft_connlimit (<c>ct count [over] N</c>, net/netfilter/nft_connlimit.c) over nf_conncount's list
/// (net/netfilter/nf_conncount.c): per rule, or per set element when a dynset carries it. Each packet
/// walks the list: connections conntrack no longer holds are evicted, TCP ones already closed
/// (TIME_WAIT, CLOSE) are ditched; meeting the packet's own connection ends the walk without adding it;
/// otherwise the connection is appended. The rule goes on while the count is at most N (<c>over</c>:
/// above N). A packet without a tuple is dropped, as the kernel does.
/// </summary>
/// <remarks>
/// The kernel skips the walk when the list was already collected in the same jiffy (and may then add a
/// connection twice); the model always walks, as the kernel does for packets at least a jiffy apart.
/// Whether two packets less than a jiffy apart (1/HZ: 1-10 ms) shared one depends on where the jiffy
/// boundary fell, which a capture does not hold, so the shortcut cannot be replayed from timestamps.
/// </remarks>
internal sealed class ConnlimitStmt : NftStmt
{
    public uint Limit; public bool Over;

    public override bool Eval(NftEvalCtx c)
    {
        if (c.P.ConnCountKey is not { } key)
        {
            c.Verdict = NftVerdict.Drop; // nf_ct_get_tuplepr failed: NF_DROP
            return true;
        }
        var list = c.State.ConnList(this, c.ElementKey);
        if (!Counted(c.P, list, key)) list.Add(key);
        return list.Count > Limit == Over;
    }

    /// <summary>__nf_conncount_add's walk: evicts what is gone or closed; true when <paramref name="key"/> is listed already.</summary>
    private static bool Counted(INftPacket p, List<NftConnKey> list, NftConnKey key)
    {
        for (int i = 0; i < list.Count; i++)
        {
            var presence = p.FindConnection(list[i]);
            if (presence == NftConnPresence.Gone) { list.RemoveAt(i--); continue; }
            if (list[i] == key) return true;
            if (presence == NftConnPresence.Closed) list.RemoveAt(i--);
        }
        return false;
    }
}
