using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace PktFlow.Wire;

/// <summary>
/// An IPv4 or IPv6 address as a value type: 128 bits in two ulongs, IPv4 in the low 32 bits of Lo.
/// Used for routing keys and tuples, so no IPAddress objects on the hot path.
/// </summary>
public readonly struct IpAddr : IEquatable<IpAddr>, IComparable<IpAddr>, ISpanFormattable
{
    public readonly ulong Hi;
    public readonly ulong Lo;
    public readonly IpFamily Family;

    private IpAddr(IpFamily family, ulong hi, ulong lo) { Family = family; Hi = hi; Lo = lo; }

    public static IpAddr V4(uint value) => new(IpFamily.V4, 0, value);
    public static IpAddr V6(ulong hi, ulong lo) => new(IpFamily.V6, hi, lo);
    public static readonly IpAddr AnyV4 = V4(0);
    public static readonly IpAddr AnyV6 = V6(0, 0);

    public static IpAddr ReadV4(ReadOnlySpan<byte> four) => V4(BinaryPrimitives.ReadUInt32BigEndian(four));
    public static IpAddr ReadV6(ReadOnlySpan<byte> sixteen) =>
        V6(BinaryPrimitives.ReadUInt64BigEndian(sixteen), BinaryPrimitives.ReadUInt64BigEndian(sixteen[8..]));

    public bool IsV4 => Family == IpFamily.V4;
    public bool IsV6 => Family == IpFamily.V6;
    public int BitLength => IsV4 ? 32 : 128;
    /// <summary>The IPv4 address as a host-order uint (only meaningful for V4).</summary>
    public uint V4Value => (uint)Lo;

    public void Write(Span<byte> dest)
    {
        if (IsV4) BinaryPrimitives.WriteUInt32BigEndian(dest, (uint)Lo);
        else { BinaryPrimitives.WriteUInt64BigEndian(dest, Hi); BinaryPrimitives.WriteUInt64BigEndian(dest[8..], Lo); }
    }

    public bool IsZero => Hi == 0 && Lo == 0;
    public bool IsLoopback => IsV4 ? (V4Value >> 24) == 127 : Hi == 0 && Lo == 1;
    public bool IsMulticast => IsV4 ? (V4Value >> 28) == 0xE : (Hi >> 56) == 0xFF;
    /// <summary>255.255.255.255 (ipv4_is_lbcast).</summary>
    public bool IsLimitedBroadcast => IsV4 && V4Value == 0xFFFF_FFFF;
    /// <summary>0.0.0.0/8 (ipv4_is_zeronet).</summary>
    public bool IsZeroNet => IsV4 && (V4Value >> 24) == 0;
    public bool IsLinkLocal => IsV4 ? (V4Value >> 16) == 0xA9FE : (Hi >> 54) == (0xFE80UL >> 6);

    /// <summary>Bit i counted from the most significant bit of the address (0-based).</summary>
    public bool Bit(int i) => IsV4 ? ((V4Value >> (31 - i)) & 1) != 0
        : i < 64 ? ((Hi >> (63 - i)) & 1) != 0 : ((Lo >> (127 - i)) & 1) != 0;

    /// <summary>The address with all bits after <paramref name="prefixLength"/> cleared.</summary>
    public IpAddr Mask(int prefixLength)
    {
        if (IsV4)
            return V4(prefixLength <= 0 ? 0 : prefixLength >= 32 ? V4Value : V4Value & (0xFFFF_FFFFu << (32 - prefixLength)));
        ulong hi = prefixLength <= 0 ? 0 : prefixLength >= 64 ? Hi : Hi & (ulong.MaxValue << (64 - prefixLength));
        ulong lo = prefixLength <= 64 ? 0 : prefixLength >= 128 ? Lo : Lo & (ulong.MaxValue << (128 - prefixLength));
        return V6(hi, lo);
    }

    /// <summary>The address with all bits after <paramref name="prefixLength"/> set (the subnet broadcast).</summary>
    public IpAddr HostBitsSet(int prefixLength)
    {
        if (IsV4) return V4(prefixLength >= 32 ? V4Value : V4Value | (0xFFFF_FFFFu >> prefixLength));
        ulong hi = prefixLength >= 64 ? Hi : Hi | (ulong.MaxValue >> prefixLength);
        ulong lo = prefixLength >= 128 ? Lo : prefixLength <= 64 ? ulong.MaxValue : Lo | (ulong.MaxValue >> (prefixLength - 64));
        return V6(hi, lo);
    }

    public static bool TryParse(string? s, out IpAddr addr)
    {
        addr = default;
        if (string.IsNullOrEmpty(s) || !IPAddress.TryParse(s, out var ip)) return false;
        // IPAddress.TryParse accepts "1" or "1.2" as IPv4; iproute2 does too, but we insist on the full form.
        if (ip.AddressFamily == AddressFamily.InterNetwork && s.Count(c => c == '.') != 3) return false;
        addr = From(ip);
        return true;
    }

    public static IpAddr Parse(string s) =>
        TryParse(s, out var a) ? a : throw new FormatException($"'{s}' is not an IPv4 or IPv6 address");

    public static IpAddr From(IPAddress ip)
    {
        Span<byte> b = stackalloc byte[16];
        if (ip.AddressFamily == AddressFamily.InterNetwork)
        {
            ip.TryWriteBytes(b, out _);
            return ReadV4(b);
        }
        ip.TryWriteBytes(b, out _);
        return ReadV6(b);
    }

    public IPAddress ToIPAddress()
    {
        Span<byte> b = stackalloc byte[16];
        Write(b);
        return new IPAddress(IsV4 ? b[..4] : b);
    }

    /// <summary>ADDR:PORT, an IPv6 address in brackets ([ADDR]:PORT), as ss and conntrack helpers print an endpoint.</summary>
    public string WithPort(int port) => IsV6 ? $"[{this}]:{port}" : $"{this}:{port}";

    /// <summary>Dotted quad or RFC 5952 text, as iproute2 and tcpdump print it.</summary>
    public override string ToString()
    {
        if (IsV4)
        {
            Span<char> c = stackalloc char[15];
            TryFormat(c, out int n, default, null);
            return new string(c[..n]);
        }
        // .NET formats IPv4-mapped and -compatible forms the way inet_ntop does; good enough for our output.
        return ToIPAddress().ToString();
    }

    /// <summary>Writes the same text as <see cref="ToString()"/>, so interpolated details build no intermediate string.</summary>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        if (!IsV4) return ToIPAddress().TryFormat(destination, out charsWritten);
        uint v = V4Value;
        charsWritten = 0;
        for (int shift = 24; shift >= 0; shift -= 8)
        {
            if (shift != 24)
            {
                if (charsWritten >= destination.Length) return false;
                destination[charsWritten++] = '.';
            }
            if (!((v >> shift) & 0xFF).TryFormat(destination[charsWritten..], out int n, default, System.Globalization.CultureInfo.InvariantCulture)) return false;
            charsWritten += n;
        }
        return true;
    }

    string IFormattable.ToString(string? format, IFormatProvider? formatProvider) => ToString();

    public bool Equals(IpAddr o) => Family == o.Family && Hi == o.Hi && Lo == o.Lo;
    public override bool Equals(object? obj) => obj is IpAddr a && Equals(a);
    public override int GetHashCode() => HashCode.Combine(Family, Hi, Lo);
    public int CompareTo(IpAddr o)
    {
        int c = Family.CompareTo(o.Family);
        if (c != 0) return c;
        c = Hi.CompareTo(o.Hi);
        return c != 0 ? c : Lo.CompareTo(o.Lo);
    }
    public static bool operator ==(IpAddr a, IpAddr b) => a.Equals(b);
    public static bool operator !=(IpAddr a, IpAddr b) => !a.Equals(b);
}

/// <summary>An address prefix such as 10.0.0.0/24 or 2001:db8::/32 (host bits are kept as given).</summary>
public readonly struct IpPrefix : IEquatable<IpPrefix>
{
    public IpAddr Address { get; }
    public int Length { get; }

    public IpPrefix(IpAddr address, int length)
    {
        if (length < 0 || length > address.BitLength)
            throw new ArgumentOutOfRangeException(nameof(length), $"prefix length {length} is out of range for {address}");
        Address = address;
        Length = length;
    }

    public IpFamily Family => Address.Family;
    public IpAddr Network => Address.Mask(Length);
    public bool IsHost => Length == Address.BitLength;
    public bool IsDefault => Length == 0;

    public bool Contains(IpAddr a) => a.Family == Address.Family && a.Mask(Length) == Address.Mask(Length);

    /// <summary>Parses "A/LEN", "A" (a host prefix) or "default" (with the given family).</summary>
    public static bool TryParse(string? s, IpFamily defaultFamily, out IpPrefix prefix)
    {
        prefix = default;
        if (string.IsNullOrEmpty(s)) return false;
        if (s is "default" or "all" or "any")
        {
            prefix = new IpPrefix(defaultFamily == IpFamily.V4 ? IpAddr.AnyV4 : IpAddr.AnyV6, 0);
            return true;
        }
        int slash = s.IndexOf('/');
        if (!IpAddr.TryParse(slash < 0 ? s : s[..slash], out var a)) return false;
        int len = a.BitLength;
        if (slash >= 0 && (!int.TryParse(s[(slash + 1)..], out len) || len < 0 || len > a.BitLength)) return false;
        prefix = new IpPrefix(a, len);
        return true;
    }

    public static IpPrefix Parse(string s) =>
        TryParse(s, IpFamily.V4, out var p) ? p : throw new FormatException($"'{s}' is not a prefix (expected ADDRESS/LENGTH)");

    public override string ToString() => IsDefault ? "default" : IsHost ? Address.ToString() : $"{Address}/{Length}";
    public bool Equals(IpPrefix o) => Address == o.Address && Length == o.Length;
    public override bool Equals(object? obj) => obj is IpPrefix p && Equals(p);
    public override int GetHashCode() => HashCode.Combine(Address, Length);
    public static bool operator ==(IpPrefix a, IpPrefix b) => a.Equals(b);
    public static bool operator !=(IpPrefix a, IpPrefix b) => !a.Equals(b);
}
