namespace PktFlow.Netfilter.Nftables;

internal sealed partial class NftParser
{
    /// <summary>Deleted nat base chains, with when their hooks went (<see cref="NftChain.UnregistrationOrder"/>): their
    /// registrations may still place a nat core (<see cref="NftRuleset.NatCoreRegistration"/>).</summary>
    private readonly List<NftChain> _deletedNatChains = new();

    /// <summary>A delete or flush removes these chains: a nat base chain among them leaves the nat core's user
    /// count at the commit (<see cref="DeletedNatChains"/>), not at this line.</summary>
    private void NatChainsReleased(IEnumerable<NftChain> removed, int line)
    {
        foreach (var c in removed)
            if (c.IsBase && c.Type == "nat" && c.UnregistrationLine == 0)
            {
                c.UnregistrationLine = line;
                _deletedNatChains.Add(c);
            }
    }

    /// <summary>
    /// The text is one transaction (nft -f): nf_tables_commit unregisters a deleted base chain's hook only
    /// after every chain the batch adds has registered its own (nf_tables_addchain, at prepare). A nat chain
    /// added again in the same file (`delete table ip nat` then `table ip nat { ... }`, `flush ruleset` then
    /// the ruleset) therefore joins the nat core while the old one still holds it, and the core keeps its
    /// place (checked on 6.18: a filter chain at -100 registered between the two still sees the packet
    /// before DNAT; as separate nft commands the core moves after it).
    /// </summary>
    internal List<NftChain> DeletedNatChains()
    {
        foreach (var c in _deletedNatChains)
            if (c.UnregistrationOrder == 0) c.UnregistrationOrder = ++_registration;
        return _deletedNatChains;
    }
}
