namespace PktFlow.Netfilter.Nftables;

internal sealed partial class NftParser
{
    private static readonly NftFamily[] NatCoreFamilies = [NftFamily.Ip, NftFamily.Ip6];

    /// <summary>
    /// Per nat core (IPv4, IPv6): the nat chain whose registration registered its hooks. nf_nat_register_fn
    /// registers them when the first nat chain comes (users 0 to 1) and nf_nat_unregister_fn removes them
    /// with the last one, so deleting the first chain while another remains leaves them in place.
    /// </summary>
    private readonly NftChain?[] _natCoreHolder = new NftChain?[2];

    private void NatChainRegistered(NftChain ch)
    {
        for (int i = 0; i < 2; i++)
            if (NftRuleset.NatCoreOf(ch, NatCoreFamilies[i])) _natCoreHolder[i] ??= ch;
    }

    /// <summary>After a delete or flush: a nat core no chain uses any more is unregistered.</summary>
    private void NatChainsReleased()
    {
        for (int i = 0; i < 2; i++)
            if (!_tables.SelectMany(t => t.ChainList).Any(c => c.IsBase && c.Type == "nat" && NftRuleset.NatCoreOf(c, NatCoreFamilies[i])))
                _natCoreHolder[i] = null;
    }

    /// <summary>The deleted chains whose registration still places a nat core.</summary>
    internal List<NftChain> KeptNatCores() => _natCoreHolder.OfType<NftChain>().Distinct()
        .Where(h => !_tables.Contains(h.Table) || !h.Table.ChainList.Contains(h)).ToList();
}
