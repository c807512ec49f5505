using System.Buffers.Binary;
using System.Globalization;

namespace PktFlow.Wire;

/// <summary>A 48-bit Ethernet address held in a ulong (value type, no allocation).</summary>
public readonly struct MacAddress : IEquatable<MacAddress>, ISpanFormattable
{
    private readonly ulong _value; // low 48 bits, network order (first octet highest)

    public MacAddress(ulong value) => _value = value & 0xFFFF_FFFF_FFFFUL;

    public static readonly MacAddress Zero = default;
    public static readonly MacAddress Broadcast = new(0xFFFF_FFFF_FFFFUL);

    public ulong Value => _value;
    public bool IsBroadcast => _value == 0xFFFF_FFFF_FFFFUL;
    /// <summary>Group bit (I/G) set: multicast or broadcast (is_multicast_ether_addr).</summary>
    public bool IsMulticast => (_value & 0x0100_0000_0000UL) != 0;
    public bool IsZero => _value == 0;

    public static MacAddress Read(ReadOnlySpan<byte> six)
    {
        ulong v = (ulong)BinaryPrimitives.ReadUInt16BigEndian(six) << 32 | BinaryPrimitives.ReadUInt32BigEndian(six[2..]);
        return new MacAddress(v);
    }

    public void Write(Span<byte> six)
    {
        BinaryPrimitives.WriteUInt16BigEndian(six, (ushort)(_value >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(six[2..], (uint)_value);
    }

    public static bool TryParse(string? s, out MacAddress mac)
    {
        mac = default;
        if (s is null) return false;
        var parts = s.Split(':', '-');
        if (parts.Length != 6) return false;
        ulong v = 0;
        foreach (var p in parts)
        {
            if (p.Length is < 1 or > 2 || !byte.TryParse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b)) return false;
            v = v << 8 | b;
        }
        mac = new MacAddress(v);
        return true;
    }

    public static MacAddress Parse(string s) =>
        TryParse(s, out var m) ? m : throw new FormatException($"'{s}' is not a MAC address (expected aa:bb:cc:dd:ee:ff)");

    public override string ToString()
    {
        Span<char> c = stackalloc char[17];
        TryFormat(c, out _, default, null);
        return new string(c);
    }

    /// <summary>Writes the same text as <see cref="ToString()"/>, so interpolated details build no intermediate string.</summary>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        charsWritten = 0;
        if (destination.Length < 17) return false;
        for (int i = 0; i < 6; i++)
        {
            byte b = (byte)(_value >> (40 - 8 * i));
            destination[i * 3] = Hex(b >> 4);
            destination[i * 3 + 1] = Hex(b & 0xF);
            if (i < 5) destination[i * 3 + 2] = ':';
        }
        charsWritten = 17;
        return true;
        static char Hex(int n) => (char)(n < 10 ? '0' + n : 'a' + n - 10);
    }

    string IFormattable.ToString(string? format, IFormatProvider? formatProvider) => ToString();

    public bool Equals(MacAddress other) => _value == other._value;
    public override bool Equals(object? obj) => obj is MacAddress m && Equals(m);
    public override int GetHashCode() => _value.GetHashCode();
    public static bool operator ==(MacAddress a, MacAddress b) => a._value == b._value;
    public static bool operator !=(MacAddress a, MacAddress b) => a._value != b._value;
}
