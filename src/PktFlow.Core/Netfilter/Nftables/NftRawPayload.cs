namespace PktFlow.Netfilter.Nftables;

/// <summary>The bases of a raw payload expression (<c>@ll</c>, <c>@nh</c>, <c>@th</c>, <c>@ih</c>): NFT_PAYLOAD_*_HEADER.</summary>
internal enum RawBase { Link, Network, Transport, Inner }

/// <summary>
/// nft_payload with a raw base, <c>@BASE,OFFSET,LENGTH</c> in bits (nft loads the bytes that cover the
/// bits and masks them; here the bits become an integer of LENGTH bits, which compares the same). No
/// dependency is implied. The transport base needs a transport header (not a later fragment); the inner
/// base starts after a TCP (doff) or UDP/UDP-Lite header (nft_payload_inner_offset), else NFT_BREAK.
/// </summary>
internal sealed class RawPayloadSelector : NftSelector
{
    private readonly NftType _type;
    public readonly RawBase Base;
    public readonly int BitOffset, BitLength;
    public RawPayloadSelector(RawBase b, int bitOffset, int bitLength)
    {
        Base = b; BitOffset = bitOffset; BitLength = bitLength;
        _type = NftType.Integer((bitLength + 7) / 8);
    }
    public override NftType Type => _type;

    /// <summary>Whether the model can load it: byte-aligned, or unaligned within 64 bits.</summary>
    public static bool Loadable(int bitOffset, int bitLength) =>
        bitLength > 0 && bitLength <= 128 && (bitOffset % 8 == 0 && bitLength % 8 == 0 || (bitOffset % 8) + bitLength <= 64);

    /// <summary>nft_payload_inner_offset within the transport header <paramref name="th"/>: after TCP's doff or the 8-byte UDP/UDP-Lite header; -1 for another protocol.</summary>
    internal static int InnerStart(byte l4, ReadOnlySpan<byte> th) => l4 switch
    {
        6 when th.Length >= 20 => (th[12] >> 4) * 4,
        17 or 136 when th.Length >= 8 => 8,
        _ => -1,
    };

    public override bool Load(NftEvalCtx c, Span<byte> dst)
    {
        var p = c.P;
        ReadOnlySpan<byte> b;
        switch (Base)
        {
            case RawBase.Link: b = p.Link; if (b.Length == 0) return false; break;
            case RawBase.Network: b = p.Network; break;
            default:
                if (p.TransportOffset < 0 || p.TransportOffset > p.Network.Length) return false;
                b = p.Network[p.TransportOffset..];
                if (Base == RawBase.Inner)
                {
                    int inner = InnerStart(p.L4Protocol, b);
                    if (inner < 0 || inner > b.Length) return false;
                    b = b[inner..];
                }
                break;
        }
        int first = BitOffset / 8, last = (BitOffset + BitLength + 7) / 8;
        if (b.Length < last) return false;
        if (BitOffset % 8 == 0 && BitLength % 8 == 0) { b[first..last].CopyTo(dst); return true; }
        ulong v = 0;
        foreach (var x in b[first..last]) v = (v << 8) | x;
        int trailing = last * 8 - (BitOffset + BitLength);
        v = (v >> trailing) & (BitLength == 64 ? ulong.MaxValue : (1UL << BitLength) - 1);
        for (int i = dst.Length - 1; i >= 0; i--) { dst[i] = (byte)v; v >>= 8; }
        return true;
    }
}
