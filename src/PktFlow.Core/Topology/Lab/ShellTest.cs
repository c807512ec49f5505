using System.Globalization;

namespace PktFlow.Topology.Lab;

/// <summary>
/// Bash's conditional commands `[ EXPR ]`, `test EXPR` and `[[ EXPR ]]` on values the reader knows:
/// strings (`-n`, `-z`, a lone operand, `=`, `==`, `!=`), integers (`-eq -ne -lt -le -gt -ge`; in
/// `[[ ]]` an operand may be arithmetic on known names, as bash evaluates it), `!`, `-a`/`-o` (`&amp;&amp;`/`||`
/// in `[[ ]]`) and parentheses. The answer is null, "not known when the script is read", for an operand
/// with an expansion left (a command's output, a name never set), a file test (`-e`, `-f`...), a
/// pattern (`[[ $x == a* ]]`), `=~`, and string order (`&lt;`, `&gt;`): the caller names the line.
/// </summary>
public static class ShellTest
{
    private static readonly HashSet<string> Integer = ["-eq", "-ne", "-lt", "-le", "-gt", "-ge"];
    private static readonly HashSet<string> Text = ["=", "==", "!="];
    // operators whose answer depends on the machine (files, terminals, variables by name) or that this reader does not evaluate
    private static readonly HashSet<string> Unknown = ["<", ">", "=~", "-nt", "-ot", "-ef"];
    private const string FileTests = "abcdefghkprstuwxGLNOSv";

    /// <summary>
    /// <paramref name="words"/> is the whole command (`[ ... ]`, `test ...`, `[[ ... ]]`); true or false
    /// as bash answers, or null when the answer is not known here. A malformed expression is false, as
    /// bash's status 2 is.
    /// </summary>
    public static bool? Evaluate(IReadOnlyList<string> words, IReadOnlyDictionary<string, string> names)
    {
        bool extended = words[0] == "[[";
        var close = extended ? "]]" : words[0] == "[" ? "]" : null;
        if (close is not null && words[^1] != close) return false;
        var args = words.Skip(1).Take(words.Count - 1 - (close is null ? 0 : 1)).ToList();
        if (args.Any(a => a.Contains("${", StringComparison.Ordinal) || a.Contains("$(", StringComparison.Ordinal))) return null;
        var p = new Parser(args, extended, names);
        try
        {
            if (args.Count == 0) return false;
            var v = p.Or();
            return p.AtEnd ? v : false;
        }
        catch (FormatException) { return false; }
    }

    private sealed class Parser(List<string> args, bool extended, IReadOnlyDictionary<string, string> names)
    {
        private int _at;
        public bool AtEnd => _at == args.Count;

        private string? Peek(int ahead = 0) => _at + ahead < args.Count ? args[_at + ahead] : null;

        public bool? Or()
        {
            var v = And();
            while (Peek() is "-o" && !extended || Peek() is "||" && extended)
            {
                _at++;
                var r = And();
                v = v == true || r == true ? true : v is null || r is null ? null : false;
            }
            return v;
        }

        private bool? And()
        {
            var v = Not();
            while (Peek() is "-a" && !extended || Peek() is "&&" && extended)
            {
                _at++;
                var r = Not();
                v = v == false || r == false ? false : v is null || r is null ? null : true;
            }
            return v;
        }

        private bool? Not()
        {
            // `[ ! = x ]`: a `!` before a binary operator is an operand
            if (Peek() == "!" && !IsBinary(Peek(1))) { _at++; return !Not(); }
            return Primary();
        }

        private bool? Primary()
        {
            var first = Peek() ?? throw new FormatException("an operand is missing");
            if (first == "(" && !IsBinary(Peek(1)))
            {
                _at++;
                var v = Or();
                if (Peek() != ")") throw new FormatException("no closing parenthesis");
                _at++;
                return v;
            }
            if (IsBinary(Peek(1)) && Peek(2) is { } right)
            {
                var op = Peek(1)!;
                _at += 3;
                return Binary(first, op, right);
            }
            if (first.Length == 2 && first[0] == '-' && Peek(1) is { } operand && !IsJoin(operand))
            {
                _at += 2;
                return first[1] switch
                {
                    'n' => operand.Length > 0,
                    'z' => operand.Length == 0,
                    _ when FileTests.Contains(first[1]) => null,
                    _ => throw new FormatException($"unary operator expected: {first}"),
                };
            }
            _at++;
            return first.Length > 0;
        }

        private bool IsJoin(string word) => extended ? word is "&&" or "||" or ")" : word is "-a" or "-o" or ")";

        private static bool IsBinary(string? op) => op is not null && (Integer.Contains(op) || Text.Contains(op) || Unknown.Contains(op));

        private bool? Binary(string left, string op, string right)
        {
            if (Unknown.Contains(op)) return null;
            if (Text.Contains(op))
            {
                // in [[ ]] the right side is a pattern: one with glob characters is not matched here
                if (extended && right.IndexOfAny(['*', '?', '[']) >= 0) return null;
                return (left == right) == (op != "!=");
            }
            if (Int(left) is not { } a || Int(right) is not { } b) return extended ? null : throw new FormatException("integer expression expected");
            return op switch
            {
                "-eq" => a == b,
                "-ne" => a != b,
                "-lt" => a < b,
                "-le" => a <= b,
                "-gt" => a > b,
                _ => a >= b,
            };
        }

        /// <summary>An integer operand: a literal in `[ ]`; in `[[ ]]` arithmetic on known names too.</summary>
        private long? Int(string operand) =>
            long.TryParse(operand.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v
            : extended ? ShellArithmetic.Evaluate(operand, names) : null;
    }
}
