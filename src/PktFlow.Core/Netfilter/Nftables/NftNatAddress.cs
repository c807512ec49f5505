using PktFlow.Wire;

namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// The address of a NAT statement or of NAT map data as nft reads it when the ruleset loads: one address, a
/// range <c>a-b</c> or a prefix <c>a/n</c> (host bits of <c>a</c> dropped: nft lists <c>10.0.0.1/8</c> as
/// <c>10.0.0.0/8</c>), turned into the first and last address nft_nat gets in its registers. What nft 1.0.6
/// refuses here (checked with <c>nft -c -f</c>) is refused with its words.
/// </summary>
internal static class NftNatAddress
{
    /// <summary>The range's first and last address, or the reason nft refuses <paramref name="text"/> (in nft's words);
    /// <paramref name="family"/> (null: either) is the family the statement or table wants;
    /// <paramref name="errorAt"/> is where in the text the refused part starts (nft points at the second address).</summary>
    public static (IpAddr Min, IpAddr Max)? Parse(string text, IpFamily? family, out string? error, out int errorAt)
    {
        error = null; errorAt = 0;
        if (text.Split('/') is [var net, var len])
        {
            if (One(net, family, out error) is not { } n) return null;
            if (!int.TryParse(len, System.Globalization.NumberStyles.None, null, out var l) || l > n.BitLength)
            {
                error = $"Prefix length {len} is invalid for type of {n.BitLength} bits width";
                return null;
            }
            return (n.Mask(l), n.HostBitsSet(l));
        }
        int dash = text.IndexOf('-');
        if (dash > 0)
        {
            if (One(text[..dash], family, out error) is not { } lo) return null;
            if (One(text[(dash + 1)..], family ?? lo.Family, out error) is not { } hi) { errorAt = dash + 1; return null; }
            if (lo.CompareTo(hi) > 0) { error = "Range has zero or negative size"; return null; }
            return (lo, hi);
        }
        return One(text, family, out error) is { } a ? (a, a) : null;
    }

    private static IpAddr? One(string text, IpFamily? family, out string? error)
    {
        error = null;
        if (!IpAddr.TryParse(text, out var a)) error = $"Could not resolve hostname: '{text}' is not an address";
        else if (family is { } f && a.Family != f) error = $"Could not resolve hostname: Address family for hostname not supported ('{text}' is not {(f == IpFamily.V4 ? "IPv4" : "IPv6")})";
        else return a;
        return null;
    }

    /// <summary>A range as nft lists it: one address, a prefix when the range is one (<c>10.0.0.0/24</c>), else <c>a-b</c>.</summary>
    public static string Text(IpAddr min, IpAddr max)
    {
        if (min == max) return min.ToString();
        if (min.Family != max.Family) return $"{min}-{max}";
        int l = 0;
        while (l < min.BitLength && min.Bit(l) == max.Bit(l)) l++;
        return min == min.Mask(l) && max == min.HostBitsSet(l) ? $"{min}/{l}" : $"{min}-{max}";
    }
}
