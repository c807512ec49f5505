namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// The option walk nft_exthdr_tcp_eval and its set/reset twins share: from byte 20 to the header's end,
/// EOL and NOP are one byte, any other option its length byte (a zero length counted as one, so the walk
/// always moves on); the first option of the kind asked for is the one used.
/// </summary>
internal static class NftTcpOption
{
    /// <summary>The first option of <paramref name="kind"/> in <paramref name="tcp"/>'s first <paramref name="hdrLen"/> bytes: its offset and length byte (which may run past the header).</summary>
    public static bool Find(ReadOnlySpan<byte> tcp, int hdrLen, byte kind, out int at, out int len)
    {
        for (int i = 20, l; i < hdrLen - 1; i += l)
        {
            l = tcp[i] <= 1 || tcp[i + 1] == 0 ? 1 : tcp[i + 1]; // optlen
            if (tcp[i] != kind) continue;
            (at, len) = (i, l);
            return true;
        }
        (at, len) = (-1, 0);
        return false;
    }
}
