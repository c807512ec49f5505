using System.Globalization;
using System.Text.RegularExpressions;

namespace PktFlow.Topology.Lab;

/// <summary>
/// Shell functions of a traffic script: `NAME() { CMD; ... }` whose commands use their positional
/// parameters as `$1`...`${N}` or in the expansions <see cref="ShellParameter"/> reads, with `local
/// NAME=value` of their own, `return [N]` and `exit [N]`. A call `NAME ARG...` runs the body with them bound (a
/// parameter not given is empty, as in bash), `$((...))` on them evaluated (<see cref="ShellArithmetic"/>).
/// A function that does more (`shift`, `"$@"`, an assignment to a global) is not taken for one: its
/// commands are read where it is written, so a frame built from its parameters is named in a warning
/// rather than guessed. A command substitution `$(NAME ARG...)` or `$(echo ...)` is what the echo
/// commands it runs print (<see cref="CommandOutput"/>).
/// </summary>
public sealed partial class LabLoader
{
    private readonly Dictionary<string, List<LabCommand>> _functions = new(StringComparer.Ordinal);
    private int _callDepth;

    /// <summary>The body of the function <see cref="FunctionDefinition"/> last read.</summary>
    private List<LabCommand>? _functionBody;

    /// <summary>
    /// When <paramref name="start"/> defines a function this reader takes, leaves its body in
    /// <see cref="_functionBody"/> and returns the index of its closing `}`; else -1.
    /// </summary>
    private int FunctionDefinition(List<LabCommand> commands, int start)
    {
        var w = commands[start].Words;
        // `NAME() {` or `NAME () {`
        int brace = w[0].EndsWith("()", StringComparison.Ordinal) ? 1 : w.Count > 1 && w[1] == "()" ? 2 : -1;
        var name = brace == 1 ? w[0][..^2] : w[0];
        if (brace < 0 || brace >= w.Count || w[brace] != "{" || !IsShellName().IsMatch(name)) return -1;
        var body = new List<LabCommand>();
        if (w.Count > brace + 1) body.Add(commands[start] with { Words = w.Skip(brace + 1).ToList() });
        int depth = 0;
        for (int j = start + 1; j < commands.Count; j++)
        {
            var first = commands[j].Words[0];
            if (first == "{") depth++;
            if (first == "}" && depth-- == 0)
            {
                // `local NAME=value` binds in the call; an assignment to a global is not followed out of the function
                if (!body.All(c => c.Words[0] is not ("shift" or "set" or "declare" or "read")
                        && (c.Words[0] == "local" ? c.Words.Count > 1 && c.Words.Skip(1).All(x => ShellWords.IsAssignment(x, out _, out _)) : !c.Words.All(x => ShellWords.IsAssignment(x, out _, out _)))
                        && !c.Words.Any(ParameterOperation().IsMatch)))
                    return -1;
                _functionBody = body;
                return j;
            }
            body.Add(commands[j]);
        }
        return -1;
    }

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex IsShellName();

    /// <summary>`$@`, `$*`, `$#`, `$?`, `${#...}`, `${1/a/b}`: more than a parameter's value or the expansions <see cref="ShellParameter"/> reads.</summary>
    [GeneratedRegex(@"\$[@*#?!$]|\$\{(?:[@*#!]|\d+[^}\d#%:])")]
    private static partial Regex ParameterOperation();

    /// <summary>What the echo commands of a command substitution print, while one is read; else null.</summary>
    private List<string>? _capture;
    /// <summary>Set when a command run inside the substitution prints what the reader does not know.</summary>
    private bool _captureSpoiled;

    /// <summary>
    /// The output of the command substitution `$(<paramref name="command"/>)` in <paramref name="scope"/>:
    /// one `echo WORD...` or a call of a function this reader takes whose commands print only with echo
    /// (bridge-stp's and the fragment scenarios' frame builders), or `seq` on integer literals; trailing
    /// newlines dropped as bash does. Null when it runs anything else, or an echoed word has an expansion left.
    /// </summary>
    private string? CommandOutput(string command, Dictionary<string, string> scope)
    {
        var cmds = ShellWords.Split(command, new Dictionary<string, string>(), assignments: true).ToList();
        if (cmds.Count != 1 || cmds[0].Connector is not null) return null;
        var call = Substitute(cmds[0], scope).Words;
        if (call.Count == 0 || call.Any(x => x.Contains("${", StringComparison.Ordinal) || x.Contains("$(", StringComparison.Ordinal))) return null;
        if (call[0] == "seq") return Seq($"$({string.Join(' ', call)})") is { } numbers ? string.Join('\n', numbers) : null;
        if (call[0] != "echo" && !_functions.ContainsKey(call[0])) return null;
        var (outer, outerSpoiled, saved, loops) = (_capture, _captureSpoiled, _cmd, _loopDepth);
        (_capture, _captureSpoiled, _loopDepth) = ([], false, 0);
        try
        {
            RunSimple(cmds[0] with { Words = call }, scope);
            // the substitution runs in a subshell: an `exit` in it ends only that
            _jump = Jump.None;
            var printed = string.Join('\n', _capture).TrimEnd('\n');
            return _captureSpoiled || printed.Contains("${", StringComparison.Ordinal) || printed.Contains("$(", StringComparison.Ordinal) ? null : printed;
        }
        finally { (_capture, _captureSpoiled, _cmd, _loopDepth) = (outer, outerSpoiled, saved, loops); }
    }

    /// <summary>A call's scope: the script's variables, and its arguments as $1...$N (a parameter not given is empty).</summary>
    private Dictionary<string, string> Parameters(IReadOnlyList<string> call)
    {
        var parameters = new Dictionary<string, string>(_shell, StringComparer.Ordinal);
        for (int i = 1; i < Math.Max(10, call.Count); i++)
            parameters[i.ToString(CultureInfo.InvariantCulture)] = i < call.Count ? call[i] : "";
        return parameters;
    }

    /// <summary>Runs the body of the function <paramref name="cmd"/> calls, if it calls one.</summary>
    private bool CallFunction(LabCommand cmd)
    {
        if (!_functions.TryGetValue(cmd.Words[0], out var body)) return false;
        if (_callDepth >= 16) throw Error("shell functions call each other more than 16 deep", cmd.Words[0]);
        // the call sees the script's variables; its parameters and locals are its own
        var parameters = Parameters(cmd.Words);
        _callDepth++;
        try
        {
            RunBlock(Parse(body), parameters);
            if (_jump == Jump.Return) _jump = Jump.None;
        }
        finally { _callDepth--; }
        return true;
    }
}
