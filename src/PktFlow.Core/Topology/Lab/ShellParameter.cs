using System.Globalization;
using System.Text;

namespace PktFlow.Topology.Lab;

/// <summary>
/// Bash's parameter expansion of a name the reader knows: `${NAME}`, prefix and suffix removal
/// `${NAME#PAT}` `${NAME##PAT}` `${NAME%PAT}` `${NAME%%PAT}` (PAT literal characters and `*`), and
/// substrings `${NAME:OFF}` `${NAME:OFF:LEN}` (a negative OFF counts from the end, written `: -1` or
/// `:(-1)` as bash needs). Any other form, or a name not known, is left as written for the reader to
/// name in a warning.
/// </summary>
public static class ShellParameter
{
    /// <summary><paramref name="word"/> with every `${...}` the reader can evaluate replaced by its value.</summary>
    public static string Expand(string word, IReadOnlyDictionary<string, string> names)
    {
        if (!word.Contains("${", StringComparison.Ordinal)) return word;
        var result = new StringBuilder();
        int from = 0;
        for (int at = word.IndexOf("${", StringComparison.Ordinal); at >= 0; at = word.IndexOf("${", from, StringComparison.Ordinal))
        {
            int end = word.IndexOf('}', at);
            if (end < 0) break;
            result.Append(word, from, at - from);
            var inner = word[(at + 2)..end];
            result.Append(Evaluate(inner, names) ?? word[at..(end + 1)]);
            from = end + 1;
        }
        return result.Append(word, from, word.Length - from).ToString();
    }

    /// <summary>The value of `${<paramref name="inner"/>}`, or null when it is not a form this reader evaluates.</summary>
    public static string? Evaluate(string inner, IReadOnlyDictionary<string, string> names)
    {
        int n = 0;
        bool digits = inner.Length > 0 && char.IsAsciiDigit(inner[0]);
        while (n < inner.Length && (digits ? char.IsAsciiDigit(inner[n]) : char.IsAsciiLetterOrDigit(inner[n]) || inner[n] == '_')) n++;
        if (n == 0) return null;
        // "${NAME[@]}": the array's elements, kept apart as ShellWords keeps them (the caller splits them into words)
        if (inner[n..] == "[@]") return names.GetValueOrDefault(inner[..n] + "[@]");
        if (!names.TryGetValue(inner[..n], out var value)) return null;
        var op = inner[n..];
        if (op.Length == 0) return value;
        return op[0] switch
        {
            '#' when op.StartsWith("##", StringComparison.Ordinal) => RemovePrefix(value, op[2..], longest: true),
            '#' => RemovePrefix(value, op[1..], longest: false),
            '%' when op.StartsWith("%%", StringComparison.Ordinal) => RemoveSuffix(value, op[2..], longest: true),
            '%' => RemoveSuffix(value, op[1..], longest: false),
            ':' => Substring(value, op[1..]),
            _ => null,
        };
    }

    private static string? RemovePrefix(string value, string pattern, bool longest)
    {
        if (!IsPattern(pattern)) return null;
        for (int k = longest ? value.Length : 0; longest ? k >= 0 : k <= value.Length; k += longest ? -1 : 1)
            if (Matches(value[..k], pattern)) return value[k..];
        return value;
    }

    private static string? RemoveSuffix(string value, string pattern, bool longest)
    {
        if (!IsPattern(pattern)) return null;
        for (int k = longest ? 0 : value.Length; longest ? k <= value.Length : k >= 0; k += longest ? 1 : -1)
            if (Matches(value[k..], pattern)) return value[..k];
        return value;
    }

    /// <summary>Literal characters and `*` only: `?`, brackets, escapes and nested expansions are not read.</summary>
    private static bool IsPattern(string pattern) => pattern.All(c => c is not ('?' or '[' or ']' or '\\' or '$' or '{' or '(' or '!' or '@' or '+'));

    /// <summary>Whether all of <paramref name="text"/> matches the glob <paramref name="pattern"/>.</summary>
    private static bool Matches(string text, string pattern)
    {
        if (pattern.Length == 0) return text.Length == 0;
        if (pattern[0] == '*')
        {
            for (int k = 0; k <= text.Length; k++)
                if (Matches(text[k..], pattern[1..])) return true;
            return false;
        }
        return text.Length > 0 && text[0] == pattern[0] && Matches(text[1..], pattern[1..]);
    }

    /// <summary>`OFF` or `OFF:LEN` after the name's colon; bash's negative LEN counts back from the end.</summary>
    private static string? Substring(string value, string spec)
    {
        // `${v:-x}` is a default value, not a substring
        if (spec.Length == 0 || spec[0] is '-' or '=' or '?' or '+') return null;
        var parts = spec.Split(':');
        if (parts.Length > 2 || Number(parts[0]) is not { } offset) return null;
        if (offset < 0) offset += value.Length;
        if (offset < 0) return ""; // bash expands an offset before the start to nothing
        offset = Math.Min(offset, value.Length);
        if (parts.Length == 1) return value[offset..];
        if (Number(parts[1]) is not { } length) return null;
        int stop = length < 0 ? value.Length + length : offset + length;
        // a negative length that ends before the offset is an error in bash: not read
        return stop < offset ? null : value[offset..Math.Min(stop, value.Length)];
    }

    private static int? Number(string text)
    {
        var t = text.Trim();
        if (t.StartsWith('(') && t.EndsWith(')')) t = t[1..^1].Trim();
        return int.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;
    }
}
