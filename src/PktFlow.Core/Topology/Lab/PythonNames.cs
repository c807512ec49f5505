using System.Text;
using System.Text.RegularExpressions;

namespace PktFlow.Topology.Lab;

/// <summary>
/// The names a traffic script's Python program binds before a scapy send call, as far as a frame needs
/// them (tcp-req-err's `syn = Ether(...)/IP(src=src, id=sport)/TCP(sport=sport, ...)` then `srp1(syn)`):
/// the last one-line `NAME = EXPR` before the call, the variables of the `for` loops around that line
/// when they run over a literal tuple or list (`for src, sport in (("10.1.0.9", 40001), ...):`) or
/// `range(...)` (one frame per pass, in order), and module-level constants `A, B = "x", 2`. A name bound
/// any other way (a function's parameter, a value computed at run time) is left as written, for
/// <see cref="ScapyFrame"/> to refuse: a frame is never guessed.
/// </summary>
internal static partial class PythonNames
{
    private const int MaxFrames = 10_000;

    [GeneratedRegex(@"^(?<indent>[ \t]*)(?<name>[A-Za-z_]\w*)[ \t]*=(?!=)[ \t]*(?<value>.+?)[ \t]*$")]
    private static partial Regex Assignment();

    [GeneratedRegex(@"^[ \t]*for[ \t]+(?<targets>.+?)[ \t]+in[ \t]+(?<items>.+?)[ \t]*:[ \t]*(#.*)?$")]
    private static partial Regex ForLoop();

    [GeneratedRegex(@"^(?<names>[A-Za-z_]\w*(?:[ \t]*,[ \t]*[A-Za-z_]\w*)*)[ \t]*=(?!=)[ \t]*(?<values>.+?)[ \t]*$")]
    private static partial Regex Constant();

    [GeneratedRegex(@"^range\(\s*(?<a>-?\d+)\s*(?:,\s*(?<b>-?\d+)\s*)?\)$")]
    private static partial Regex Range();

    [GeneratedRegex(@"^[A-Za-z_]\w*$")]
    private static partial Regex Name();

    /// <summary>
    /// The frame expressions the name <paramref name="argument"/> holds at the call at <paramref name="callAt"/>,
    /// one per pass of the loops around its assignment; null when it is not a name bound on one line before the call.
    /// </summary>
    public static List<string>? Frames(string code, int callAt, string argument)
    {
        if (!Name().IsMatch(argument)) return null;
        var lines = code[..callAt].Split('\n');
        for (int k = lines.Length - 2; k >= 0; k--)
        {
            var m = Assignment().Match(lines[k]);
            if (!m.Success || m.Groups["name"].Value != argument) continue;
            var value = m.Groups["value"].Value;
            if (!char.IsAsciiLetterUpper(value[0]) || !value.Contains('(') || PythonConnect.Close(value, value.IndexOf('(')) < 0) return null;
            var passes = Loops(lines, k, m.Groups["indent"].Length);
            if (passes is null) return null;
            var constants = Constants(lines, k);
            return passes.Select(p => Bind(value, p, constants)).ToList();
        }
        return null;
    }

    /// <summary>A frame written out at the call at <paramref name="callAt"/>: once per pass of the loops around the call, the module's constants bound.</summary>
    public static List<string> AtCall(string code, int callAt, string expression)
    {
        var lines = code[..callAt].Split('\n');
        var call = lines[^1];
        var constants = Constants(lines, lines.Length - 1);
        var passes = Loops(lines, lines.Length - 1, call.Length - call.TrimStart().Length) ?? [new(StringComparer.Ordinal)];
        return passes.Select(p => Bind(expression, p, constants)).ToList();
    }

    /// <summary>The bindings of each pass of the `for` loops that hold line <paramref name="at"/>, outermost first; null when one is not read.</summary>
    private static List<Dictionary<string, string>>? Loops(string[] lines, int at, int indent)
    {
        var passes = new List<Dictionary<string, string>> { new(StringComparer.Ordinal) };
        for (int j = at - 1; j >= 0 && indent > 0; j--)
        {
            var line = lines[j];
            var trimmed = line.TrimStart();
            if (trimmed.Length == 0 || trimmed[0] == '#') continue;
            int own = line.Length - trimmed.Length;
            if (own >= indent) continue;
            indent = own;
            var f = ForLoop().Match(line);
            if (!f.Success)
            {
                // a function's parameters are not known here; another block (if, while, with) holds its lines as they are
                if (trimmed.StartsWith("def ", StringComparison.Ordinal)) return null;
                continue;
            }
            var targets = f.Groups["targets"].Value.Trim('(', ')', ' ').Split(',').Select(t => t.Trim()).ToArray();
            if (!targets.All(t => Name().IsMatch(t)) || Items(f.Groups["items"].Value.Trim(), targets.Length) is not { } items) return null;
            var outer = new List<Dictionary<string, string>>();
            foreach (var item in items)
                foreach (var inner in passes)
                {
                    var d = new Dictionary<string, string>(inner, StringComparer.Ordinal);
                    for (int t = 0; t < targets.Length; t++) d[targets[t]] = item[t];
                    outer.Add(d);
                }
            if (outer.Count > MaxFrames) return null;
            passes = outer;
        }
        return passes;
    }

    /// <summary>A loop's items, each with one literal per target: a literal tuple or list, or range(...).</summary>
    private static List<string[]>? Items(string iterable, int targets)
    {
        if (Range().Match(iterable) is { Success: true } r)
        {
            long a = long.Parse(r.Groups["a"].Value, System.Globalization.CultureInfo.InvariantCulture);
            long? b = r.Groups["b"].Success ? long.Parse(r.Groups["b"].Value, System.Globalization.CultureInfo.InvariantCulture) : null;
            var (from, to) = b is { } end ? (a, end) : (0, a);
            if (targets != 1 || to - from > MaxFrames) return null;
            var numbers = new List<string[]>();
            for (long v = from; v < to; v++) numbers.Add([v.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            return numbers;
        }
        if (Sequence(iterable) is not { } elements) return null;
        var items = new List<string[]>();
        foreach (var e in elements)
        {
            var values = targets == 1 ? [e] : Sequence(e)?.ToArray();
            if (values is null || values.Length != targets || !values.All(IsLiteral)) return null;
            items.Add(values);
        }
        return items;
    }

    /// <summary>The elements of a tuple or list written out, `(a, b)` or `[a, b]`; null otherwise.</summary>
    private static List<string>? Sequence(string text)
    {
        text = text.Trim();
        if (text.Length < 2 || !(text[0] == '(' && text[^1] == ')' || text[0] == '[' && text[^1] == ']')) return null;
        if (PythonConnect.Close(text, 0) != text.Length - 1 && text[0] == '(') return null;
        return ScapyFrame.SplitTop(text[1..^1], ',').Select(e => e.Trim()).Where(e => e.Length > 0).ToList();
    }

    private static bool IsLiteral(string v) =>
        v.Length >= 2 && v[0] is '\'' or '"' && v[^1] == v[0] && v.IndexOf(v[0], 1) == v.Length - 1
        || long.TryParse(v.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? v[2..] : v,
            v.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? System.Globalization.NumberStyles.AllowHexSpecifier : System.Globalization.NumberStyles.AllowLeadingSign,
            System.Globalization.CultureInfo.InvariantCulture, out _);

    /// <summary>Module-level `NAME = literal` and `A, B = literal, literal` before line <paramref name="before"/>, the last binding of each.</summary>
    private static Dictionary<string, string> Constants(string[] lines, int before)
    {
        var constants = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int k = 0; k < Math.Min(before, lines.Length); k++)
        {
            if (Constant().Match(lines[k]) is not { Success: true } m) continue;
            var names = m.Groups["names"].Value.Split(',').Select(n => n.Trim()).ToArray();
            var values = names.Length == 1 ? [m.Groups["values"].Value] : ScapyFrame.SplitTop(m.Groups["values"].Value, ',').Select(v => v.Trim()).ToArray();
            for (int i = 0; i < names.Length; i++)
            {
                // a name bound to anything else later is not this constant any more
                if (values.Length == names.Length && IsLiteral(values[i])) constants[names[i]] = values[i];
                else constants.Remove(names[i]);
            }
        }
        return constants;
    }

    /// <summary>
    /// <paramref name="expression"/> with each name bound in <paramref name="pass"/> or <paramref name="constants"/>
    /// replaced by its literal: not inside quotes, not an attribute (`sa[TCP].seq`), a keyword (`sport=`) or a call.
    /// </summary>
    private static string Bind(string expression, Dictionary<string, string> pass, Dictionary<string, string> constants)
    {
        var result = new StringBuilder();
        for (int i = 0; i < expression.Length;)
        {
            char c = expression[i];
            if (c is '\'' or '"')
            {
                int end = expression.IndexOf(c, i + 1);
                end = end < 0 ? expression.Length : end + 1;
                result.Append(expression, i, end - i);
                i = end;
                continue;
            }
            if (!(char.IsAsciiLetter(c) || c == '_') || i > 0 && (char.IsAsciiLetterOrDigit(expression[i - 1]) || expression[i - 1] is '_' or '.'))
            {
                result.Append(c);
                i++;
                continue;
            }
            int j = i;
            while (j < expression.Length && (char.IsAsciiLetterOrDigit(expression[j]) || expression[j] == '_')) j++;
            var name = expression[i..j];
            var next = expression.AsSpan(j).TrimStart();
            bool keywordOrCall = next.Length > 0 && (next[0] == '(' || next[0] == '=' && (next.Length == 1 || next[1] != '='));
            result.Append(!keywordOrCall && (pass.TryGetValue(name, out var v) || constants.TryGetValue(name, out v)) ? v : name);
            i = j;
        }
        return result.ToString();
    }
}
