using System.Globalization;
using System.Text;

namespace PktFlow.Topology.Lab;

/// <summary>
/// Bash's arithmetic expansion `$((EXPR))` over integers: literals (decimal, 0x hex), names of values
/// the reader knows (a for loop's variable, a function's $1), + - * / % with their precedence,
/// unary minus and parentheses. An expansion with anything else (a name it does not know, an
/// assignment `n += 1`, a comparison) is left as written, for the reader to name in a warning.
/// </summary>
public static class ShellArithmetic
{
    /// <summary><paramref name="word"/> with every `$((...))` the reader can evaluate replaced by its value.</summary>
    public static string Expand(string word, IReadOnlyDictionary<string, string> names)
    {
        int at = word.IndexOf("$((", StringComparison.Ordinal);
        if (at < 0) return word;
        var result = new StringBuilder();
        int from = 0;
        for (; at >= 0; at = word.IndexOf("$((", from, StringComparison.Ordinal))
        {
            int end = Close(word, at + 2);
            if (end < 0 || end + 1 >= word.Length || word[end + 1] != ')') break;
            result.Append(word, from, at - from);
            var expression = word[(at + 3)..end];
            result.Append(Evaluate(expression, names) is { } v ? v.ToString(CultureInfo.InvariantCulture) : word[at..(end + 2)]);
            from = end + 2;
        }
        return result.Append(word, from, word.Length - from).ToString();
    }

    /// <summary>The value of <paramref name="expression"/>, or null when it is not the arithmetic this reader evaluates.</summary>
    public static long? Evaluate(string expression, IReadOnlyDictionary<string, string> names)
    {
        var p = new Parser(expression, names);
        try
        {
            var v = p.Sum();
            return p.AtEnd ? v : null;
        }
        catch (FormatException) { return null; }
        catch (DivideByZeroException) { return null; }
    }

    /// <summary>The parenthesis closing the one at <paramref name="open"/>, or -1.</summary>
    private static int Close(string text, int open)
    {
        int depth = 0;
        for (int i = open; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')' && --depth == 0) return i;
        }
        return -1;
    }

    private sealed class Parser(string text, IReadOnlyDictionary<string, string> names)
    {
        private int _at;

        public bool AtEnd { get { Skip(); return _at == text.Length; } }

        public long Sum()
        {
            long v = Product();
            while (Next('+', '-') is { } op) v = op == '+' ? v + Product() : v - Product();
            return v;
        }

        private long Product()
        {
            long v = Unary();
            while (Next('*', '/', '%') is { } op)
            {
                long r = Unary();
                v = op == '*' ? v * r : op == '/' ? v / r : v % r;
            }
            return v;
        }

        private long Unary()
        {
            if (Next('-') is not null) return -Unary();
            if (Next('+') is not null) return Unary();
            if (Next('(') is not null)
            {
                long v = Sum();
                return Next(')') is not null ? v : throw new FormatException("no closing parenthesis");
            }
            Skip();
            int start = _at;
            while (_at < text.Length && (char.IsAsciiLetterOrDigit(text[_at]) || text[_at] == '_')) _at++;
            var token = text[start.._at];
            if (token.Length == 0) throw new FormatException("expected a number or a name");
            // a name's value is itself read as a number (bash evaluates it the same way)
            var literal = char.IsAsciiDigit(token[0]) ? token : names.TryGetValue(token, out var value) ? value.Trim() : throw new FormatException($"unknown name {token}");
            return Number(literal);
        }

        private static long Number(string literal)
        {
            bool hex = literal.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
            bool negative = !hex && literal.StartsWith('-');
            var digits = hex ? literal[2..] : negative ? literal[1..] : literal;
            // a leading 0 is octal in bash: not read here rather than read as decimal
            if (!hex && digits.Length > 1 && digits[0] == '0') throw new FormatException("octal");
            return long.TryParse(digits, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? negative ? -n : n : throw new FormatException($"not a number: {literal}");
        }

        /// <summary>Consumes the next character when it is one of <paramref name="ops"/>.</summary>
        private char? Next(params char[] ops)
        {
            Skip();
            if (_at < text.Length && Array.IndexOf(ops, text[_at]) >= 0)
            {
                // `**`, `++`, `--`, `+=`...: operators this reader does not evaluate
                if (_at + 1 < text.Length && (text[_at + 1] == '=' || text[_at + 1] == text[_at] && text[_at] is '*' or '+' or '-')) throw new FormatException("operator");
                return text[_at++];
            }
            return null;
        }

        private void Skip()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at])) _at++;
        }
    }
}
