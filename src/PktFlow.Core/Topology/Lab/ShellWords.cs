using System.Text;

namespace PktFlow.Topology.Lab;

/// <summary>One simple command of a lab script: its words and the line it started on.</summary>
public sealed record LabCommand(int Line, IReadOnlyList<string> Words, string Text)
{
    /// <summary>The body of a here-document given to the command (`nft -f - &lt;&lt;EOF`), else null.</summary>
    public string? HereDoc { get; init; }
    /// <summary>The line the here-document's body starts on (for a program in it to name its own lines).</summary>
    public int HereDocLine { get; init; }
    /// <summary>How the command joins the one before it: "&amp;&amp;", "||", or null (`;`, a newline, `&amp;`).</summary>
    public string? Connector { get; init; }
}

/// <summary>
/// Splits the bash subset labs are written in into simple commands: quotes, backslash escapes and
/// line continuations, comments, `;`, `&amp;&amp;`, `||`, a trailing `&amp;`, and NAME=value variables
/// expanded as $NAME / ${NAME}, indexed arrays (`NAME=(a "b c")`, `NAME+=(d)`, one word per element
/// from "${NAME[@]}"), here-documents (`&lt;&lt;EOF`, `&lt;&lt;-EOF`, `&lt;&lt;'EOF'`), subshell groups
/// `( a; b )` (their commands in order), command substitutions `$(...)` kept as written (quotes and
/// all, for the reader to evaluate in its own scope; one in double quotes marked <see cref="Quoted"/>),
/// and the `&amp;&amp;` / `||` that join a command to the one before (<see cref="LabCommand.Connector"/>). A pipe is kept as a "|" word: the lab loader reports a pipeline
/// as a command it does not understand; the traffic reader takes each side as its own command.
/// </summary>
public static class ShellWords
{
    /// <param name="assignments">Whether a command of only NAME=value words is yielded too, and every $NAME left
    /// as ${NAME} (the traffic reader evaluates them in order, in loops, conditions and functions); assignments
    /// are applied to <paramref name="variables"/> either way.</param>
    public static IEnumerable<LabCommand> Split(string text, Dictionary<string, string>? variables = null, bool assignments = false)
    {
        variables ??= new Dictionary<string, string>();
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        int line = 1, startLine = 1;
        var raw = new StringBuilder();
        string? hereDelimiter = null;
        bool hereStripTabs = false;
        string? hereBody = null;
        int hereLine = 0;
        int groups = 0, substitutions = 0; // open `( ... )` subshell groups, open `$( ... )` in words
        string? array = null; // the NAME of an open `NAME=(` / `NAME+=(` (its elements are the words up to `)`)
        bool arrayAppend = false;
        var unknownArrays = new HashSet<string>(StringComparer.Ordinal);
        string? connector = null; // the `&&` or `||` before the command being read
        // the traffic reader runs the script (loops, conditions): a name is expanded when its command runs, not here
        var known = assignments ? new Dictionary<string, string>() : variables;

        LabCommand? Flush()
        {
            EndWord();
            substitutions = 0; // one left open does not reach into the next command
            if (words.Count == 0) { raw.Clear(); return null; } // `a &&` and a newline: the connector waits for b
            // Leading NAME=value words are assignments (they apply to the rest of the script here).
            int i = 0;
            // A value from `$(...)` or `$((...))` is not known here: the word stays, for the loader to refuse or pass over.
            while (i < words.Count && IsAssignment(words[i], out var n, out var v) && !v.Contains("$(", StringComparison.Ordinal)) { variables[n] = v; i++; }
            // its earlier value is no longer the name's: a later $NAME is left for the reader to evaluate or name
            if (i < words.Count && IsAssignment(words[i], out var unknown, out _)) variables.Remove(unknown);
            if (assignments && words.TrueForAll(x => IsAssignment(x, out _, out _))) i = 0;
            var cmd = i < words.Count ? new LabCommand(startLine, words.Skip(i).ToList(), raw.ToString().Trim().TrimEnd(';', '&', '|').TrimEnd()) { HereDoc = hereBody, HereDocLine = hereLine, Connector = connector } : null;
            hereBody = null;
            connector = null;
            words.Clear();
            raw.Clear();
            return cmd;
        }

        void EndWord()
        {
            if (!inWord) return;
            var w = word.ToString();
            word.Clear(); inWord = false;
            // NAME="${A[@]}" joins the elements with spaces, as bash does in an assignment
            if (IsAssignment(w, out _, out _) && words.TrueForAll(x => IsAssignment(x, out _, out _)))
                words.Add(w.Replace(EmptyArray.ToString(), "").Replace(ArraySeparator, ' '));
            // "${EMPTY[@]}" alone is no word at all
            else if (w == EmptyArray.ToString()) { }
            // an array's "${NAME[@]}" holds its elements apart by ArraySeparator: one word each
            else words.AddRange(w.Replace(EmptyArray.ToString(), "").Split(ArraySeparator));
        }

        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (words.Count == 0 && !inWord && !char.IsWhiteSpace(c)) startLine = line;
            if (c != '\n') raw.Append(c);
            switch (c)
            {
                case '\\' when i + 1 < text.Length && text[i + 1] == '\n':
                    i++; line++; EndWord(); break;
                case '\\' when i + 1 < text.Length:
                    word.Append(text[++i]); raw.Append(text[i]); inWord = true; break;
                case '\'':
                {
                    int end = text.IndexOf('\'', i + 1);
                    if (end < 0) end = text.Length;
                    word.Append(text, i + 1, end - i - 1);
                    raw.Append(text, i + 1, Math.Min(end + 1, text.Length) - i - 1);
                    line += text.AsSpan(i, end - i).Count('\n');
                    i = end; inWord = true; break;
                }
                case '"':
                {
                    int j = i + 1;
                    for (; j < text.Length && text[j] != '"'; j++)
                    {
                        if (text[j] == '\\' && j + 1 < text.Length && text[j + 1] is '"' or '\\' or '$') { word.Append(text[++j]); continue; }
                        if (text[j] == '$' && SubstitutionEnd(text, j) is var close and > 0)
                        {
                            word.Append(Quoted).Append(text, j, close + 1 - j);
                            line += text.AsSpan(j, close - j).Count('\n');
                            j = close;
                            continue;
                        }
                        if (text[j] == '$') { j = Expand(text, j, word, known) - 1; continue; }
                        if (text[j] == '\n') line++;
                        word.Append(text[j]);
                    }
                    raw.Append(text, i + 1, Math.Min(j + 1, text.Length) - i - 1);
                    i = j; inWord = true; break;
                }
                case '$' when SubstitutionEnd(text, i) is var close and > 0:
                    raw.Append(text, i + 1, close - i);
                    word.Append(text, i, close + 1 - i);
                    line += text.AsSpan(i, close - i).Count('\n');
                    i = close; inWord = true; break;
                case '$':
                {
                    int at = i;
                    i = Expand(text, i, word, known) - 1;
                    raw.Append(text, at + 1, i - at);
                    inWord = true; break;
                }
                case '#' when !inWord:
                    while (i + 1 < text.Length && text[i + 1] != '\n') i++;
                    break;
                case '<' when !inWord && i + 1 < text.Length && text[i + 1] == '<' && (i + 2 >= text.Length || text[i + 2] != '<'):
                {
                    // <<[-]WORD: the lines after this one, up to WORD, are the command's standard input.
                    int j = i + 2;
                    hereStripTabs = j < text.Length && text[j] == '-';
                    if (hereStripTabs) j++;
                    while (j < text.Length && text[j] is ' ' or '\t') j++;
                    int k = j;
                    while (k < text.Length && !char.IsWhiteSpace(text[k]) && text[k] is not (';' or '&' or '|')) k++;
                    hereDelimiter = text[j..k].Trim('\'', '"');
                    raw.Append(text, i + 1, k - i - 1);
                    i = k - 1;
                    break;
                }
                case '\n' when array is not null:
                    EndWord(); line++; break;
                case '\n':
                {
                    if (hereDelimiter is not null)
                    {
                        var body = new StringBuilder();
                        hereLine = line + 1;
                        int p = i + 1;
                        while (p < text.Length)
                        {
                            int eol = text.IndexOf('\n', p);
                            if (eol < 0) eol = text.Length;
                            var lineText = text[p..eol];
                            line++;
                            p = eol + 1;
                            if ((hereStripTabs ? lineText.TrimStart('\t') : lineText).TrimEnd('\r') == hereDelimiter) break;
                            body.Append(hereStripTabs ? lineText.TrimStart('\t') : lineText).Append('\n');
                        }
                        hereBody = body.ToString();
                        hereDelimiter = null;
                        i = p - 1; // the loop's i++ lands on the first character after the delimiter line
                    }
                    var cmd = Flush(); if (cmd is not null) yield return cmd;
                    line++; break;
                }
                case ';':
                {
                    var cmd = Flush(); if (cmd is not null) yield return cmd;
                    break;
                }
                // `2>&1`, `>&2`, `&>FILE` are redirections, not a background `&`: part of the word
                case '&' when inWord && word.Length > 0 && word[^1] == '>':
                case '&' when i + 1 < text.Length && text[i + 1] == '>':
                    word.Append(c); inWord = true; break;
                case '&' or '|':
                {
                    bool list = i + 1 < text.Length && text[i + 1] == c;
                    // inside `[[ ... ]]` `&&` and `||` are the test's own operators
                    if (list && !inWord && words.LastIndexOf("[[") > words.LastIndexOf("]]")) { words.Add(new string(c, 2)); i++; break; }
                    if (list) i++;
                    else if (c == '|') { EndWord(); words.Add("|"); break; }
                    var cmd = Flush(); if (cmd is not null) yield return cmd;
                    if (list) connector = c == '&' ? "&&" : "||";
                    break;
                }
                // `$((n + 1))`, `$(f a b)`: one word, spaces and all
                case ' ' or '\t' when substitutions > 0:
                    word.Append(c); break;
                case ' ' or '\t' or '\r':
                    EndWord(); break;
                case '(' when words.Count == 0 && inWord && IsArrayStart(word.ToString(), out var name, out arrayAppend):
                    array = name; word.Clear(); inWord = false; break;
                case ')' when array is not null && substitutions == 0:
                {
                    EndWord();
                    var key = array + "[@]";
                    var elements = arrayAppend && variables.TryGetValue(key, out var had) && had != EmptyArray.ToString() ? words.Prepend(had) : words;
                    // an element with an expansion left (a loop's $h) is the reader's to evaluate in order: the array is not known here
                    if (assignments && (words.Any(x => x.Contains("${", StringComparison.Ordinal) || x.Contains("$(", StringComparison.Ordinal)) || arrayAppend && unknownArrays.Contains(array)))
                    { unknownArrays.Add(array); variables.Remove(key); }
                    else { unknownArrays.Remove(array); variables[key] = words.Count == 0 && elements == words ? EmptyArray.ToString() : string.Join(ArraySeparator, elements); }
                    var assigned = assignments ? new LabCommand(startLine, words.Prepend(array + (arrayAppend ? "+=(" : "=(")).ToList(), raw.ToString().Trim()) : null;
                    words.Clear();
                    raw.Clear();
                    array = null;
                    if (assigned is not null) yield return assigned;
                    break;
                }
                // A subshell group `( a; b ) | c` runs its commands in order: each is a command here.
                case '(' when words.Count == 0 && !inWord:
                    groups++; break;
                case '(' when inWord && word.Length > 0 && (word[^1] == '$' || substitutions > 0):
                    substitutions++; word.Append(c); break;
                case ')' when substitutions > 0:
                    substitutions--; word.Append(c); break;
                case ')' when groups > 0:
                {
                    groups--;
                    var cmd = Flush(); if (cmd is not null) yield return cmd;
                    break;
                }
                default:
                    word.Append(c); inWord = true; break;
            }
        }
        var last = Flush();
        if (last is not null) yield return last;
    }

    /// <summary>Marks a command substitution written in double quotes: its output is one word, not split at spaces.</summary>
    public const char Quoted = '\u001d';

    /// <summary>
    /// For a `$(` at <paramref name="i"/> (not `$((`), the index of the `)` that closes it: quotes and
    /// nested parentheses inside are skipped over, as bash parses the command in it; else -1.
    /// </summary>
    public static int SubstitutionEnd(string text, int i)
    {
        if (i + 2 >= text.Length || text[i] != '$' || text[i + 1] != '(' || text[i + 2] == '(') return -1;
        int depth = 0;
        for (int j = i + 1; j < text.Length; j++)
        {
            switch (text[j])
            {
                case '\\': j++; break;
                case '\'': j = text.IndexOf('\'', j + 1); if (j < 0) return -1; break;
                case '"':
                    for (j++; j < text.Length && text[j] != '"'; j++) if (text[j] == '\\') j++;
                    break;
                case '(': depth++; break;
                case ')' when --depth == 0: return j;
            }
        }
        return -1;
    }

    private static int Expand(string text, int i, StringBuilder into, Dictionary<string, string> vars)
    {
        int j = i + 1;
        string name;
        if (j < text.Length && text[j] == '{')
        {
            int end = text.IndexOf('}', j);
            if (end < 0) { into.Append('$'); return i + 1; }
            name = text[(j + 1)..end];
            j = end + 1;
        }
        else
        {
            int s = j;
            while (j < text.Length && (char.IsLetterOrDigit(text[j]) || text[j] == '_')) j++;
            name = text[s..j];
            if (name.Length == 0) { into.Append('$'); return i + 1; }
        }
        if (vars.TryGetValue(name, out var v)) into.Append(v);
        else if (ShellParameter.Evaluate(name, vars) is { } value) into.Append(value);
        else into.Append("${").Append(name).Append('}'); // left visible so the loader can name it
        return j;
    }

    /// <summary>Keeps an array's elements apart inside the one string its "${NAME[@]}" expands to.</summary>
    internal const char ArraySeparator = '\u001f';

    /// <summary>What an array without elements expands to: a word of only this is dropped, as bash drops "${EMPTY[@]}".</summary>
    internal const char EmptyArray = '\u001e';

    /// <summary>`NAME=` or `NAME+=` right before a `(`: an array assignment.</summary>
    internal static bool IsArrayStart(string w, out string name, out bool append)
    {
        append = w.EndsWith("+=", StringComparison.Ordinal);
        name = w.Length > 1 && w[^1] == '=' ? w[..^(append ? 2 : 1)] : "";
        return name.Length > 0 && (char.IsLetter(name[0]) || name[0] == '_') && name.All(c => char.IsLetterOrDigit(c) || c == '_');
    }

    /// <summary>`NAME=value`: a shell variable assignment word.</summary>
    public static bool IsAssignment(string w, out string name, out string value)
    {
        int eq = w.IndexOf('=');
        name = eq > 0 ? w[..eq] : "";
        value = eq > 0 ? w[(eq + 1)..] : "";
        return eq > 0 && (char.IsLetter(name[0]) || name[0] == '_') && name.All(c => char.IsLetterOrDigit(c) || c == '_');
    }
}
