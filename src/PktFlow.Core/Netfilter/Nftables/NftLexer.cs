using System.Text;

namespace PktFlow.Netfilter.Nftables;

internal enum TokKind { Word, String, Punct, Newline, Eof }

/// <summary>A token with its source position (1-based line and column).</summary>
internal readonly record struct NftTok(TokKind Kind, string Text, string File, int Line, int Col)
{
    public bool Is(string s) => Kind is TokKind.Word or TokKind.Punct && Text == s;
    public bool IsSep => Kind == TokKind.Newline || Is(";");
    public override string ToString() => Kind == TokKind.String ? "\"" + Text + "\"" : Text;
}

/// <summary>
/// Splits nft text into words, strings and punctuation. A word keeps the characters nft values
/// use (addresses, prefixes, ranges, ports, wildcards: 10.0.0.0/8, 1-1024, fe80::1, 10.0.0.2:80,
/// eth*); the parser splits ranges and ports where the context says so.
/// </summary>
internal static class NftLexer
{
    internal static bool IsWordChar(char c) =>
        char.IsLetterOrDigit(c) || c is '_' or '.' or ':' or '/' or '-' or '*' or '$' or '@' or '[' or ']' or '%';

    private static readonly HashSet<string> VerdictWords = ["accept", "drop", "continue", "return", "jump", "goto", "queue"];

    /// <summary>The word after blanks from <paramref name="i"/> on ("" when none).</summary>
    private static string NextWord(string text, int i)
    {
        while (i < text.Length && text[i] is ' ' or '\t') i++;
        int s = i;
        while (i < text.Length && char.IsLetter(text[i])) i++;
        return text[s..i];
    }

    public static List<NftTok> Lex(string text, string file)
    {
        var toks = new List<NftTok>();
        int line = 1, lineStart = 0, i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            int col = i - lineStart + 1;
            if (c == '\n') { toks.Add(new(TokKind.Newline, "\\n", file, line, col)); i++; line++; lineStart = i; continue; }
            if (c == '\\' && i + 1 < text.Length && (text[i + 1] == '\n' || text[i + 1] == '\r'))
            {
                i++; if (text[i] == '\r') i++; if (i < text.Length && text[i] == '\n') i++;
                line++; lineStart = i; continue;
            }
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c == '#') { while (i < text.Length && text[i] != '\n') i++; continue; }
            if (c == '"')
            {
                var sb = new StringBuilder(); i++;
                while (i < text.Length && text[i] != '"' && text[i] != '\n') sb.Append(text[i++]);
                if (i >= text.Length || text[i] != '"') throw new NftParseException(file, line, col, "\"", "unterminated string");
                i++;
                toks.Add(new(TokKind.String, sb.ToString(), file, line, col));
                continue;
            }
            if (c is '!' or '=' or '<' or '>')
            {
                if (i + 1 < text.Length && text[i + 1] == '=') { toks.Add(new(TokKind.Punct, text.Substring(i, 2), file, line, col)); i += 2; continue; }
                toks.Add(new(TokKind.Punct, c.ToString(), file, line, col)); i++; continue;
            }
            if (c is '{' or '}' or '(' or ')' or ';' or ',' or '&' or '|' or '^' or '+')
            { toks.Add(new(TokKind.Punct, c.ToString(), file, line, col)); i++; continue; }
            if (IsWordChar(c))
            {
                int s = i;
                while (i < text.Length && IsWordChar(text[i])) i++;
                // "25:accept", "::1:drop": a map key written against its verdict (nft's scanner ends the
                // key at the colon before a verdict word)
                int v = text.LastIndexOf(':', i - 1, i - s);
                if (v > s && VerdictWords.Contains(text[(v + 1)..i]))
                {
                    toks.Add(new(TokKind.Word, text[s..v], file, line, col));
                    toks.Add(new(TokKind.Word, ":", file, line, col + v - s));
                    toks.Add(new(TokKind.Word, text[(v + 1)..i], file, line, col + v + 1 - s));
                    continue;
                }
                if (i - s > 1 && text[i - 1] == ':' && text[i - 2] != ':' && VerdictWords.Contains(NextWord(text, i)))
                {
                    // "::dddd: drop": the same with a space before the verdict
                    toks.Add(new(TokKind.Word, text[s..(i - 1)], file, line, col));
                    toks.Add(new(TokKind.Word, ":", file, line, col + i - 1 - s));
                    continue;
                }
                toks.Add(new(TokKind.Word, text[s..i], file, line, col));
                continue;
            }
            throw new NftParseException(file, line, col, c.ToString(), $"syntax error, unexpected '{c}'");
        }
        toks.Add(new(TokKind.Eof, "end of file", file, line, i - lineStart + 1));
        return toks;
    }
}

/// <summary>Cursor over a token list.</summary>
internal sealed class NftTokenStream
{
    private readonly List<NftTok> _t;
    public int Pos;
    public NftTokenStream(List<NftTok> t) { _t = t; }
    public NftTok Peek(int k = 0) => _t[Math.Min(Pos + k, _t.Count - 1)];
    public NftTok Next() { var t = Peek(); if (Pos < _t.Count - 1) Pos++; return t; }
    public bool Accept(string s) { if (Peek().Is(s)) { Pos++; return true; } return false; }
    /// <summary>Puts <paramref name="t"/> at <paramref name="index"/> and returns the token it replaces (to read part of a word as tokens of its own).</summary>
    public NftTok Replace(int index, NftTok t) { var old = _t[index]; _t[index] = t; return old; }
    public void SkipNewlines() { while (Peek().Kind == TokKind.Newline) Pos++; }
    public void SkipSeps() { while (Peek().IsSep) Pos++; }
    public NftTok Expect(string s)
    {
        var t = Peek();
        if (!t.Is(s)) throw Error(t, $"syntax error, expected '{s}', got '{t}'");
        return Next();
    }
    public static NftParseException Error(NftTok t, string msg) => new(t.File, t.Line, t.Col, t.Text, msg);

    /// <summary>
    /// nft's grammar ends each line of a block (a rule; a chain's hook, policy, device or comment; a
    /// chain, set, map or object block inside a table) with a newline or ';' (stmt_separator), so
    /// nft 1.0.6 refuses `accept }` and `chain c { ... } }` on one line. Its wording: the unexpected
    /// keyword bare, punctuation quoted.
    /// </summary>
    public void ExpectSeparator()
    {
        var t = Peek();
        if (t.IsSep || t.Kind == TokKind.Eof) return;
        throw Error(t, $"syntax error, unexpected {(t.Kind == TokKind.Word ? t.Text : $"'{t.Text}'")}, expecting newline or semicolon");
    }
}
