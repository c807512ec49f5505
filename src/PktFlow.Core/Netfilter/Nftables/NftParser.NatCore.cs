namespace PktFlow.Netfilter.Nftables;

internal sealed partial class NftParser
{
    /// <summary>Deleted nat base chains, with when their hooks went (<see cref="NftChain.UnregistrationOrder"/>): their
    /// registrations may still place a nat core (<see cref="NftRuleset.NatCoreRegistration"/>).</summary>
    private readonly List<NftChain> _deletedNatChains = new();

    /// <summary>A delete or flush removes these chains: a nat base chain among them leaves the nat core's user count now.</summary>
    private void NatChainsReleased(IEnumerable<NftChain> removed, int line)
    {
        foreach (var c in removed)
            if (c.IsBase && c.Type == "nat" && c.UnregistrationOrder == 0)
            {
                (c.UnregistrationOrder, c.UnregistrationLine) = (++_registration, line);
                _deletedNatChains.Add(c);
            }
    }

    internal List<NftChain> DeletedNatChains() => _deletedNatChains;
}
