namespace PktFlow.Wire;

/// <summary>
/// Appends text to a caller-provided char span without allocating; once full it silently drops the
/// rest and sets <see cref="Overflowed"/>. Used by <see cref="PacketSummary"/>.
/// </summary>
internal ref struct SummaryWriter
{
    private readonly Span<char> _buffer;
    private int _pos;

    public SummaryWriter(Span<char> buffer) { _buffer = buffer; _pos = 0; Overflowed = false; }

    public readonly int Length => _pos;
    public bool Overflowed { get; private set; }
    public readonly ReadOnlySpan<char> Written => _buffer[.._pos];

    public void Append(char c)
    {
        if (_pos < _buffer.Length) _buffer[_pos++] = c;
        else Overflowed = true;
    }

    public void Append(string? s) => Append(s.AsSpan());

    public void Append(ReadOnlySpan<char> s)
    {
        int n = Math.Min(s.Length, _buffer.Length - _pos);
        s[..n].CopyTo(_buffer[_pos..]);
        _pos += n;
        if (n < s.Length) Overflowed = true;
    }

    public void Append(uint v)
    {
        if (v.TryFormat(_buffer[_pos..], out int n, default, System.Globalization.CultureInfo.InvariantCulture)) _pos += n;
        else Overflowed = true;
    }

    public void Append(int v)
    {
        if (v < 0) { Append('-'); Append((uint)(-(long)v)); }
        else Append((uint)v);
    }

    public void Append(ulong v)
    {
        if (v.TryFormat(_buffer[_pos..], out int n, default, System.Globalization.CultureInfo.InvariantCulture)) _pos += n;
        else Overflowed = true;
    }

    /// <summary>Lower-case hex without prefix; at least <paramref name="minDigits"/> digits.</summary>
    public void AppendHex(ulong v, int minDigits = 1)
    {
        int digits = 1;
        for (ulong t = v >> 4; t != 0; t >>= 4) digits++;
        digits = Math.Max(digits, minDigits);
        for (int i = digits - 1; i >= 0; i--) Append(HexDigit((int)(v >> (4 * i)) & 0xF));
    }

    public void AppendHexBytes(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes) { Append(HexDigit(b >> 4)); Append(HexDigit(b & 0xF)); }
    }

    private static char HexDigit(int n) => (char)(n < 10 ? '0' + n : 'a' + n - 10);

    public void AppendMac(MacAddress mac)
    {
        ulong v = mac.Value;
        for (int i = 0; i < 6; i++)
        {
            if (i > 0) Append(':');
            AppendHex((v >> (40 - 8 * i)) & 0xFF, 2);
        }
    }

    public void AppendIpv4(uint v)
    {
        Append(v >> 24); Append('.'); Append((v >> 16) & 0xFF); Append('.'); Append((v >> 8) & 0xFF); Append('.'); Append(v & 0xFF);
    }

    public void AppendIp(IpAddr a)
    {
        if (a.IsV4) AppendIpv4(a.V4Value);
        else AppendIpv6(a.Hi, a.Lo);
    }

    /// <summary>RFC 5952 / inet_ntop text: the longest run (first on a tie) of two or more zero words
    /// becomes "::"; ::a.b.c.d and ::ffff:a.b.c.d keep the IPv4 tail in dotted form.</summary>
    public void AppendIpv6(ulong hi, ulong lo)
    {
        Span<ushort> w = stackalloc ushort[8];
        for (int i = 0; i < 4; i++)
        {
            w[i] = (ushort)(hi >> (48 - 16 * i));
            w[i + 4] = (ushort)(lo >> (48 - 16 * i));
        }
        int bestBase = -1, bestLen = 0, curBase = -1, curLen = 0;
        for (int i = 0; i < 8; i++)
        {
            if (w[i] == 0)
            {
                if (curBase < 0) { curBase = i; curLen = 1; } else curLen++;
            }
            else if (curBase >= 0)
            {
                if (curLen > bestLen) { bestBase = curBase; bestLen = curLen; }
                curBase = -1;
            }
        }
        if (curBase >= 0 && curLen > bestLen) { bestBase = curBase; bestLen = curLen; }
        if (bestLen < 2) bestBase = -1;

        for (int i = 0; i < 8; i++)
        {
            if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen)
            {
                if (i == bestBase) Append(':');
                continue;
            }
            if (i != 0) Append(':');
            if (i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && w[5] == 0xFFFF)))
            {
                AppendIpv4((uint)lo);
                return;
            }
            AppendHex(w[i]);
        }
        if (bestBase >= 0 && bestBase + bestLen == 8) Append(':');
    }
}
