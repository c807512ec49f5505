namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// ct helper (nft_ct_get_eval, NFT_CT_HELPER): the name of the helper of the connection's master, a
/// 16-byte string; a connection no helper expected (no master) has none and the rule does not match.
/// So <c>ct helper "ftp"</c> matches the data connections an FTP control connection announced, not the
/// control connection itself.
/// </summary>
internal sealed class CtHelperSelector : NftSelector
{
    /// <summary>nft's string type as NF_CT_HELPER_NAME_LEN bytes, zero-padded.</summary>
    private static readonly NftType HelperName = new("string", NftTypeKind.Ifname, 16);

    public override NftType Type => HelperName;

    public override bool Load(NftEvalCtx c, Span<byte> d)
    {
        if (c.P.Conntrack?.MasterHelper is not { } name) return false;
        d[..16].Clear();
        for (int i = 0; i < name.Length && i < 16; i++) d[i] = (byte)name[i];
        return true;
    }
}
