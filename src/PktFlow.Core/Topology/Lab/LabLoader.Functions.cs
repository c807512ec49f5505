using System.Globalization;
using System.Text.RegularExpressions;

namespace PktFlow.Topology.Lab;

/// <summary>
/// Shell functions of a traffic script: `NAME() { CMD; ... }` whose commands use their positional
/// parameters as `$1`...`${N}` or in the expansions <see cref="ShellParameter"/> reads, with `local
/// NAME=value` of their own. A call `NAME ARG...` applies the body with them bound (a parameter not given
/// is empty, as in bash), `$((...))` on them evaluated (<see cref="ShellArithmetic"/>). A function that
/// does more (`shift`, `"$@"`, `return`, an assignment to a global) is not taken for one: its commands are
/// read where it is written, so a frame built from its parameters is named in a warning rather than guessed.
/// </summary>
public sealed partial class LabLoader
{
    private readonly Dictionary<string, List<LabCommand>> _functions = new(StringComparer.Ordinal);
    private int _callDepth;

    /// <summary>
    /// When <paramref name="start"/> defines a function this reader takes, records it and returns the
    /// index of its closing `}`; else -1.
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
                if (!body.All(c => c.Words[0] is not ("shift" or "return" or "exit" or "set" or "declare" or "read")
                        && (c.Words[0] == "local" ? c.Words.Count > 1 && c.Words.Skip(1).All(x => ShellWords.IsAssignment(x, out _, out _)) : !c.Words.All(x => ShellWords.IsAssignment(x, out _, out _)))
                        && !c.Words.Any(ParameterOperation().IsMatch)))
                    return -1;
                _functions[name] = body;
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

    /// <summary>
    /// A word that is all `$(NAME ARG...)`, NAME a function this reader takes whose body is only `local`
    /// assignments and one `echo WORD...` (bridge-stp's frame builders): what the echo prints, its words
    /// joined by spaces. Any other word, or an echo with an expansion left, is returned as written.
    /// </summary>
    private string CommandSubstitution(string word)
    {
        if (!word.StartsWith("$(", StringComparison.Ordinal) || word.StartsWith("$((", StringComparison.Ordinal) || !word.EndsWith(')')) return word;
        var calls = ShellWords.Split(word[2..^1]).ToList();
        if (calls.Count != 1 || !_functions.TryGetValue(calls[0].Words[0], out var body)) return word;
        var echoes = body.Where(c => c.Words[0] != "local").ToList();
        if (echoes.Count != 1 || echoes[0].Words[0] != "echo" || echoes[0].Words.Skip(1).Any(x => x.StartsWith('-'))) return word;
        var scope = Parameters(calls[0].Words);
        foreach (var local in body.Where(c => c.Words[0] == "local")) Assign(local, scope);
        var printed = string.Join(' ', Substitute(echoes[0], scope).Words.Skip(1));
        return printed.Contains("${", StringComparison.Ordinal) || printed.Contains("$(", StringComparison.Ordinal) ? word : printed;
    }

    /// <summary>A call's scope: the script's variables, and its arguments as $1...$N (a parameter not given is empty).</summary>
    private Dictionary<string, string> Parameters(IReadOnlyList<string> call)
    {
        var parameters = new Dictionary<string, string>(_shell, StringComparer.Ordinal);
        for (int i = 1; i < Math.Max(10, call.Count); i++)
            parameters[i.ToString(CultureInfo.InvariantCulture)] = i < call.Count ? call[i] : "";
        return parameters;
    }

    /// <summary>Applies the body of the function <paramref name="cmd"/> calls, if it calls one.</summary>
    private bool CallFunction(LabCommand cmd)
    {
        if (!_functions.TryGetValue(cmd.Words[0], out var body)) return false;
        if (_callDepth >= 16) throw Error("shell functions call each other more than 16 deep", cmd.Words[0]);
        // the call sees the script's variables; its parameters and locals are its own
        var parameters = Parameters(cmd.Words);
        _callDepth++;
        try { ApplyBody(body, parameters); }
        finally { _callDepth--; }
        return true;
    }
}
