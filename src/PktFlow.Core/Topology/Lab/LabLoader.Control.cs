namespace PktFlow.Topology.Lab;

/// <summary>
/// A traffic script's control flow, run as bash would on the values the reader knows: `if/elif/else`,
/// `while`/`until` (bounded to <see cref="MaxPasses"/>), `for`, `{ ...; }` groups, `&amp;&amp;` / `||`
/// lists, `!`, `break [N]`, `continue [N]`, `return` and `exit`, with conditions from
/// <see cref="ShellTest"/>, `true`, `false` and `:`. Any other command is taken to succeed: the
/// recorder runs the script under `bash -e` (tests/Kernel/record.sh), so a recorded run had no
/// failing command outside a condition. A condition not known when the script is read (a command's
/// output, a file test) is named in a warning with its line, once, and taken as true; a `while` or
/// `until` on one reads its body once.
/// </summary>
public sealed partial class LabLoader
{
    private abstract record Node(LabCommand At);
    private sealed record Simple(LabCommand At) : Node(At);
    private sealed record Braces(LabCommand At, List<Node> Body) : Node(At);
    private sealed record For(LabCommand At, List<Node> Body) : Node(At);
    private sealed record Loop(LabCommand At, bool Until, List<Node> Condition, List<Node> Body) : Node(At);
    private sealed record If(LabCommand At, List<(List<Node> Condition, List<Node> Body)> Branches, List<Node>? Else) : Node(At);
    private sealed record AndOr(LabCommand At, Node First, List<(string Op, Node Next)> Rest) : Node(At);
    private sealed record Function(LabCommand At, string Name, List<LabCommand> Body) : Node(At);

    /// <summary>A `while`/`until` that has not ended after this many passes is read no further.</summary>
    internal const int MaxPasses = 10_000;

    private enum Jump { None, Break, Continue, Return, Exit }
    private Jump _jump;
    private int _jumpLevels, _loopDepth;

    /// <summary>Reads a traffic script's commands in order, as bash runs them.</summary>
    private void RunScript(List<LabCommand> commands)
    {
        RunBlock(Parse(commands), _shell);
        _jump = Jump.None;
    }

    private List<Node> Parse(IReadOnlyList<LabCommand> commands)
    {
        var list = commands.Where(c => c.Words.Count > 0).ToList();
        int i = 0;
        return ParseBlock(list, ref i);
    }

    /// <summary>Commands up to one whose first word is in <paramref name="ends"/> (left for the caller).</summary>
    private List<Node> ParseBlock(List<LabCommand> cmds, ref int i, params string[] ends)
    {
        var nodes = new List<Node>();
        // a closing word no block waits for (the `}` of a function not taken, whose commands are read where
        // they are written) is a command passed over, as before these were read
        while (i < cmds.Count && !ends.Contains(cmds[i].Words[0]))
            nodes.Add(ParseAndOr(cmds, ref i));
        if (ends.Length > 0 && (i >= cmds.Count || !ends.Contains(cmds[i].Words[0])))
        {
            _cmd = cmds[Math.Min(i, cmds.Count - 1)];
            throw Error($"expected {string.Join(" or ", ends.Select(e => $"'{e}'"))}");
        }
        return nodes;
    }

    private Node ParseAndOr(List<LabCommand> cmds, ref int i)
    {
        var at = cmds[i];
        var first = ParseCommand(cmds, ref i);
        var rest = new List<(string, Node)>();
        while (i < cmds.Count && cmds[i].Connector is { } op) rest.Add((op, ParseCommand(cmds, ref i)));
        return rest.Count == 0 ? first : new AndOr(at, first, rest);
    }

    /// <summary>Drops the reserved word that starts command <paramref name="i"/>: the rest of it, if any, is the next command.</summary>
    private static void Strip(List<LabCommand> cmds, ref int i)
    {
        if (cmds[i].Words.Count > 1) cmds[i] = cmds[i] with { Words = cmds[i].Words.Skip(1).ToList(), Connector = null };
        else i++;
    }

    private Node ParseCommand(List<LabCommand> cmds, ref int i)
    {
        var at = cmds[i];
        _cmd = at;
        switch (at.Words[0])
        {
            case "for":
            {
                i++;
                ParseBlock(cmds, ref i, "do");
                Strip(cmds, ref i);
                var body = ParseBlock(cmds, ref i, "done");
                i++;
                return new For(at, body);
            }
            case "while" or "until":
            {
                Strip(cmds, ref i);
                var condition = ParseBlock(cmds, ref i, "do");
                Strip(cmds, ref i);
                var body = ParseBlock(cmds, ref i, "done");
                i++;
                return new Loop(at, at.Words[0] == "until", condition, body);
            }
            case "if":
            {
                var branches = new List<(List<Node>, List<Node>)>();
                List<Node>? otherwise = null;
                while (true)
                {
                    Strip(cmds, ref i); // `if` or `elif`
                    var condition = ParseBlock(cmds, ref i, "then");
                    Strip(cmds, ref i);
                    branches.Add((condition, ParseBlock(cmds, ref i, "elif", "else", "fi")));
                    if (cmds[i].Words[0] != "elif") break;
                }
                if (cmds[i].Words[0] == "else")
                {
                    Strip(cmds, ref i);
                    otherwise = ParseBlock(cmds, ref i, "fi");
                }
                i++;
                return new If(at, branches, otherwise);
            }
            case "{":
            {
                Strip(cmds, ref i);
                var body = ParseBlock(cmds, ref i, "}");
                i++;
                return new Braces(at, body);
            }
        }
        if (FunctionDefinition(cmds, i) is var end and >= 0)
        {
            var name = at.Words[0].EndsWith("()", StringComparison.Ordinal) ? at.Words[0][..^2] : at.Words[0];
            i = end + 1;
            return new Function(at, name, _functionBody!);
        }
        i++;
        return new Simple(at);
    }

    private bool? RunBlock(List<Node> nodes, Dictionary<string, string> scope)
    {
        bool? status = true;
        foreach (var n in nodes)
        {
            status = Run(n, scope);
            if (_jump != Jump.None) break;
        }
        return status;
    }

    private bool? Run(Node node, Dictionary<string, string> scope)
    {
        switch (node)
        {
            case Simple s: return RunSimple(s.At, scope);
            case Braces g: return RunBlock(g.Body, scope);
            case For f: return RunFor(f, scope);
            case Loop l: return RunLoop(l, scope);
            case If x:
                foreach (var (condition, body) in x.Branches)
                {
                    var c = RunBlock(condition, scope);
                    if (_jump != Jump.None) return c;
                    if (Known(c, condition[0].At, "taken as true")) return RunBlock(body, scope);
                }
                return x.Else is null ? true : RunBlock(x.Else, scope);
            case AndOr a:
            {
                var status = Run(a.First, scope);
                foreach (var (op, next) in a.Rest)
                {
                    if (_jump != Jump.None) break;
                    var known = Known(status, a.At, "taken as true");
                    if (known == (op == "&&")) status = Run(next, scope);
                }
                return status;
            }
            case Function fn:
                _functions[fn.Name] = fn.Body;
                return true;
            default: throw new InvalidOperationException(node.GetType().Name);
        }
    }

    /// <summary>A condition's answer; one not known is named (once per line) and taken as true.</summary>
    private bool Known(bool? status, LabCommand at, string taken)
    {
        if (status is { } s) return s;
        var warning = $"{_file}:{at.Line}: a condition not known when the script is read (a command's output, a file, a name never set): {taken}: {at.Text}";
        if (!_warnings.Contains(warning)) _warnings.Add(warning);
        return true;
    }

    private bool? RunFor(For f, Dictionary<string, string> scope)
    {
        _cmd = f.At;
        var head = Substitute(f.At, scope).Words;
        if (head.Count < 3 || head[2] != "in") throw Error("expected 'for NAME in VALUES; do ...; done'", head.Count > 2 ? head[2] : null);
        var values = head.Skip(3).SelectMany(v => Seq(v) is { } numbers ? numbers : [v]).ToList();
        _loopDepth++;
        try
        {
            foreach (var value in values)
            {
                // the loop variable and what the body assigns stay set after the loop, as in bash
                scope[head[1]] = value;
                RunBlock(f.Body, scope);
                if (EndOfPass()) break;
            }
        }
        finally { _loopDepth--; }
        return true;
    }

    private bool? RunLoop(Loop l, Dictionary<string, string> scope)
    {
        _loopDepth++;
        try
        {
            for (int pass = 0; ; pass++)
            {
                if (pass == MaxPasses)
                {
                    _cmd = l.At;
                    Warn($"'{l.At.Words[0]}' has not ended after {MaxPasses} passes: read no further");
                    break;
                }
                var c = RunBlock(l.Condition, scope);
                if (_jump != Jump.None) break;
                if (c is null) Known(c, l.Condition.Count > 0 ? l.Condition[0].At : l.At, "its body is read once");
                else if (c.Value == l.Until) break;
                RunBlock(l.Body, scope);
                if (EndOfPass() || c is null) break;
            }
        }
        finally { _loopDepth--; }
        return true;
    }

    /// <summary>After a loop's pass: whether the loop ends (break, or a jump out of it), clearing the jump that stops here.</summary>
    private bool EndOfPass()
    {
        switch (_jump)
        {
            case Jump.Break:
                if (--_jumpLevels == 0) _jump = Jump.None;
                return true;
            case Jump.Continue:
                if (--_jumpLevels == 0) { _jump = Jump.None; return false; }
                return true;
            default:
                return _jump != Jump.None;
        }
    }

    private bool? RunSimple(LabCommand cmd, Dictionary<string, string> scope)
    {
        _cmd = cmd;
        var first = cmd.Words[0];
        if (first == "!" && cmd.Words.Count > 1) return !RunSimple(cmd with { Words = cmd.Words.Skip(1).ToList() }, scope);
        switch (first)
        {
            case "true" or ":": return true;
            case "false": return false;
            case "[" or "[[" or "test": return ShellTest.Evaluate(Substitute(cmd, scope).Words, scope);
            case "break" or "continue" or "return" or "exit":
            {
                var w = Substitute(cmd, scope).Words;
                int n = w.Count > 1 && int.TryParse(w[1], out var v) ? v : first is "break" or "continue" ? 1 : 0;
                if (first is "break" or "continue")
                {
                    if (_loopDepth == 0) return true; // bash: only meaningful in a loop
                    // bash 5.2: a count below 1 is "loop count out of range": status 1, and every enclosing loop is left
                    if (n < 1) { (_jump, _jumpLevels) = (Jump.Break, _loopDepth); return false; }
                    (_jump, _jumpLevels) = (first == "break" ? Jump.Break : Jump.Continue, Math.Min(n, _loopDepth));
                    return true;
                }
                // a `return` outside a function (one not taken is read where written) is passed over
                if (first == "return" && _callDepth == 0) return true;
                _jump = first == "exit" ? Jump.Exit : Jump.Return;
                return n == 0;
            }
        }
        if (Assign(cmd, scope)) return true;
        var words = Substitute(cmd, scope);
        if (_capture is not null && words.Words.Count > 0 && words.Words[0] == "echo")
        {
            // `echo ... >&2` prints nothing the substitution takes; an option or another redirection is not read
            if (words.Words.Contains(">&2") || words.Words.Contains("1>&2")) return true;
            if (words.Words.Skip(1).Any(x => x.StartsWith('-') || x.Contains('>'))) _captureSpoiled = true;
            else _capture.Add(string.Join(' ', words.Words.Skip(1)));
            return true;
        }
        Apply(words, HostNamespace);
        return true;
    }
}
