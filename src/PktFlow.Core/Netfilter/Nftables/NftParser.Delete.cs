namespace PktFlow.Netfilter.Nftables;

internal sealed partial class NftParser
{
    /// <summary>
    /// <c>delete table [family] NAME</c> and <c>delete chain [family] TABLE NAME</c>: the table (with all it
    /// holds) or the chain is gone, and a base chain's hook with it (nf_unregister_net_hook); added again
    /// later it is registered anew, after everything registered meanwhile (checked on 6.18: it then runs
    /// before a chain of equal priority registered in between). As the kernel refuses it, a chain that still
    /// has rules or is the target of a jump, goto or verdict map cannot be deleted (EBUSY).
    /// </summary>
    private void DeleteCommand()
    {
        var what = _s.Next();
        var tb = FindTable();
        if (what.Is("table"))
        {
            _tables.Remove(tb);
            NatChainsReleased(tb.ChainList, what.Line);
            EndCommand();
            return;
        }
        var nameTok = _s.Peek();
        var ch = ChainOf(tb);
        if (ch.RuleList.Count > 0)
            throw NftTokenStream.Error(nameTok, $"Could not process rule: Device or resource busy: {ch} still has rules (flush it first)");
        if (Jumpers(tb, ch.Name) is { } by)
            throw NftTokenStream.Error(nameTok, $"Could not process rule: Device or resource busy: {ch} is the target of '{by.Text}' in {by.Chain}");
        tb.ChainList.Remove(ch);
        NatChainsReleased([ch], what.Line);
        EndCommand();
    }

    /// <summary>A rule of the table that jumps or goes to <paramref name="chain"/> (directly or in a verdict map), or null.</summary>
    private static NftRule? Jumpers(NftTable tb, string chain)
    {
        foreach (var c in tb.ChainList)
            foreach (var r in c.RuleList)
                foreach (var st in r.Stmts)
                {
                    if (st is VerdictStmt { Target: { } t } && t == chain) return r;
                    if (st is MatchStmt { Vmap: true } m && (m.Elements ?? m.Set!.Elements).Any(e => e.Target == chain)) return r;
                }
        return null;
    }
}
