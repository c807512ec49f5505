using PktFlow.Wire;

namespace PktFlow.Filter;

/// <summary>The address spellings pcap-filter(7) accepts, parsed into the Wire value types.</summary>
internal static class FilterAddresses
{
    /// <summary>
    /// An Ethernet address as pcap-filter(7) spells it: six groups of one or two hex digits separated
    /// by ':', '.' or '-' (mixed is fine), three groups of four ("xxxx.xxxx.xxxx"), or twelve hex digits.
    /// </summary>
    public static bool TryParseMac(string text, out MacAddress mac)
    {
        mac = default;
        ulong value = 0;
        if (text.Length == 12 && AllHex(text))
        {
            mac = new MacAddress(Convert.ToUInt64(text, 16));
            return true;
        }

        var groups = text.Split(':', '.', '-');
        if (groups.Length == 3 && text.IndexOf(':') < 0 && text.IndexOf('-') < 0)
        {
            foreach (string g in groups)
            {
                if (g.Length != 4 || !AllHex(g)) return false;
                value = value << 16 | Convert.ToUInt64(g, 16);
            }

            mac = new MacAddress(value);
            return true;
        }

        if (groups.Length != 6) return false;
        foreach (string g in groups)
        {
            if (g.Length is < 1 or > 2 || !AllHex(g)) return false;
            value = value << 8 | Convert.ToUInt64(g, 16);
        }

        mac = new MacAddress(value);
        return true;
    }

    /// <summary>
    /// A dotted IPv4 address with one to four decimal parts: "10" is 10.0.0.0 with 8 significant
    /// bits, "172.16" 172.16.0.0/16, "192.168.1" /24, a dotted quad /32 (pcap-filter(7) "net").
    /// </summary>
    public static bool TryParseIpv4(string text, out uint address, out int bits)
    {
        address = 0;
        bits = 0;
        var parts = text.Split('.');
        if (parts.Length is < 1 or > 4) return false;
        foreach (string p in parts)
        {
            if (p.Length is < 1 or > 3 || !p.All(char.IsAsciiDigit)) return false;
            int v = int.Parse(p, System.Globalization.CultureInfo.InvariantCulture);
            if (v > 255) return false;
            address = address << 8 | (uint)v;
        }

        bits = parts.Length * 8;
        address <<= 32 - bits;
        return true;
    }

    /// <summary>An IPv6 address (it has a ':'; IPv4-mapped forms such as ::ffff:1.2.3.4 included).</summary>
    public static bool TryParseIpv6(string text, out IpAddr address)
    {
        address = default;
        return text.Contains(':') && IpAddr.TryParse(text, out address) && address.IsV6;
    }

    /// <summary>The IPv4 mask with the top <paramref name="bits"/> bits set.</summary>
    public static uint Mask4(int bits) => bits <= 0 ? 0 : bits >= 32 ? uint.MaxValue : uint.MaxValue << (32 - bits);

    private static bool AllHex(string s)
    {
        foreach (char c in s)
        {
            if (!char.IsAsciiHexDigit(c)) return false;
        }

        return s.Length > 0;
    }
}
