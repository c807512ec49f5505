using System.Net;
using System.Net.Sockets;

namespace PktFlow.Filter;

internal enum TokenKind : byte
{
    End,
    /// <summary>A word: keyword, name, dotted address, IPv6 address, MAC address, port range.</summary>
    Id,
    /// <summary>A C-syntax integer (decimal, 0x hex, 0 octal) that fits 32 bits.</summary>
    Number,
    LParen, RParen, LBracket, RBracket, Colon,
    Not, AndAnd, OrOr,
    Amp, Pipe, Caret, Plus, Minus, Star, Slash, Percent, Shl, Shr,
    Eq, Ne, Lt, Gt, Le, Ge,
}

/// <summary>One token with where it came from (0-based offset and length in the expression).</summary>
internal readonly record struct Token(TokenKind Kind, string Text, int Position, uint Value = 0, bool Escaped = false)
{
    /// <summary>An identifier that is this keyword (an escaped word such as \tcp is never a keyword).</summary>
    public bool Is(string keyword) => Kind == TokenKind.Id && !Escaped && Text == keyword;

    public bool IsAnd => Kind == TokenKind.AndAnd || Is("and");
    public bool IsOr => Kind == TokenKind.OrOr || Is("or");
    public bool IsNot => Kind == TokenKind.Not || Is("not");
    public bool IsRelop => Kind is TokenKind.Eq or TokenKind.Ne or TokenKind.Lt or TokenKind.Gt or TokenKind.Le or TokenKind.Ge;
    public bool IsArithOperator => Kind is TokenKind.Amp or TokenKind.Pipe or TokenKind.Caret or TokenKind.Plus
        or TokenKind.Minus or TokenKind.Star or TokenKind.Slash or TokenKind.Percent or TokenKind.Shl or TokenKind.Shr;

    /// <summary>How the token reads in a message.</summary>
    public string Describe() => Kind == TokenKind.End ? "end of expression" : $"'{Text}'";
}

/// <summary>
/// Splits a pcap-filter expression into tokens the way libpcap's scanner does where it matters:
/// a word may hold letters, digits, '_', '.' and inner '-' (so <c>80-90</c>, <c>tcp-syn</c> and
/// <c>10.1.2.3</c> are single words, and <c>len-20</c> is one unknown word, as in tcpdump); a word
/// with ':' is taken only when it is an IPv6 or MAC address, so <c>ip[2:2]</c> still splits.
/// </summary>
internal static class FilterLexer
{
    public static List<Token> Tokenize(string expression)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (true)
        {
            while (i < expression.Length && char.IsWhiteSpace(expression[i])) i++;
            if (i >= expression.Length)
            {
                tokens.Add(new Token(TokenKind.End, "", expression.Length));
                return tokens;
            }

            char c = expression[i];
            char next = i + 1 < expression.Length ? expression[i + 1] : '\0';
            int start = i;
            if (IsWordChar(c) || (c == ':' && next == ':'))
            {
                tokens.Add(Word(expression, ref i, escaped: false));
                continue;
            }

            if (c == '\\')
            {
                if (!IsWordChar(next))
                {
                    throw Error(expression, start, 1, $"pcap filter: '\\' at column {start + 1} must be followed by a name, as in 'ip proto \\tcp'");
                }

                i++;
                var word = Word(expression, ref i, escaped: true);
                tokens.Add(word with { Kind = TokenKind.Id, Position = start, Escaped = true });
                continue;
            }

            (TokenKind kind, int length) = (c, next) switch
            {
                ('&', '&') => (TokenKind.AndAnd, 2),
                ('|', '|') => (TokenKind.OrOr, 2),
                ('=', '=') => (TokenKind.Eq, 2),
                ('!', '=') => (TokenKind.Ne, 2),
                ('<', '=') => (TokenKind.Le, 2),
                ('>', '=') => (TokenKind.Ge, 2),
                ('<', '<') => (TokenKind.Shl, 2),
                ('>', '>') => (TokenKind.Shr, 2),
                ('(', _) => (TokenKind.LParen, 1),
                (')', _) => (TokenKind.RParen, 1),
                ('[', _) => (TokenKind.LBracket, 1),
                (']', _) => (TokenKind.RBracket, 1),
                (':', _) => (TokenKind.Colon, 1),
                ('!', _) => (TokenKind.Not, 1),
                ('&', _) => (TokenKind.Amp, 1),
                ('|', _) => (TokenKind.Pipe, 1),
                ('^', _) => (TokenKind.Caret, 1),
                ('+', _) => (TokenKind.Plus, 1),
                ('-', _) => (TokenKind.Minus, 1),
                ('*', _) => (TokenKind.Star, 1),
                ('/', _) => (TokenKind.Slash, 1),
                ('%', _) => (TokenKind.Percent, 1),
                ('=', _) => (TokenKind.Eq, 1),
                ('<', _) => (TokenKind.Lt, 1),
                ('>', _) => (TokenKind.Gt, 1),
                _ => (TokenKind.End, 0),
            };
            if (length == 0)
            {
                throw Error(expression, start, 1, $"pcap filter: unexpected character '{c}' at column {start + 1}");
            }

            tokens.Add(new Token(kind, expression.Substring(start, length), start));
            i += length;
        }
    }

    private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.';

    private static Token Word(string s, ref int i, bool escaped)
    {
        int start = i;
        int end = i;
        bool colon = false;
        while (end < s.Length && (IsWordChar(s[end]) || s[end] is '-' or ':'))
        {
            colon |= s[end] == ':';
            end++;
        }

        // A word never ends in '-' (so "len -1" and "tcp-syn|tcp-ack" read as people mean them).
        while (end > start && s[end - 1] == '-') end--;

        if (colon && !IsColonAddress(s.AsSpan(start, end - start)))
        {
            // Not an IPv6 or MAC address: the word stops at the first ':' (as in "ip[6:2]").
            end = s.IndexOf(':', start, end - start);
            while (end > start && s[end - 1] == '-') end--;
        }

        i = end;
        string text = s[start..end];
        bool overflow = false;
        if (!escaped && TryNumber(text, out uint value, out overflow))
        {
            return new Token(TokenKind.Number, text, start, value);
        }

        if (overflow)
        {
            throw Error(s, start, text.Length, $"pcap filter: number {text} at column {start + 1} does not fit in 32 bits");
        }

        return new Token(TokenKind.Id, text, start, Escaped: escaped);
    }

    private static bool IsColonAddress(ReadOnlySpan<char> word) =>
        FilterAddresses.TryParseMac(word.ToString(), out _)
        || (IPAddress.TryParse(word, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6);

    /// <summary>C integer syntax: 0x1F, 017 (octal), 42. False for anything else ("1a", "08", "1.2").</summary>
    private static bool TryNumber(string text, out uint value, out bool overflow)
    {
        value = 0;
        overflow = false;
        if (text.Length == 0 || !char.IsAsciiDigit(text[0])) return false;
        ulong v = 0;
        if (text.Length > 2 && text[0] == '0' && (text[1] is 'x' or 'X'))
        {
            for (int k = 2; k < text.Length; k++)
            {
                if (!char.IsAsciiHexDigit(text[k])) return false;
                v = v * 16 + (ulong)HexValue(text[k]);
                if (v > uint.MaxValue) { overflow = AllMatch(text, 2, char.IsAsciiHexDigit); return false; }
            }
        }
        else if (text[0] == '0')
        {
            for (int k = 1; k < text.Length; k++)
            {
                if (text[k] is < '0' or > '7') return false;
                v = v * 8 + (ulong)(text[k] - '0');
                if (v > uint.MaxValue) { overflow = AllMatch(text, 1, c => c is >= '0' and <= '7'); return false; }
            }
        }
        else
        {
            for (int k = 0; k < text.Length; k++)
            {
                if (!char.IsAsciiDigit(text[k])) return false;
                v = v * 10 + (ulong)(text[k] - '0');
                if (v > uint.MaxValue) { overflow = AllMatch(text, 0, char.IsAsciiDigit); return false; }
            }
        }

        value = (uint)v;
        return true;
    }

    private static bool AllMatch(string text, int from, Func<char, bool> ok)
    {
        for (int k = from; k < text.Length; k++)
        {
            if (!ok(text[k])) return false;
        }

        return true;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    internal static FilterSyntaxException Error(string expression, int position, int length, string message) =>
        new(expression, position, length, message);
}
