using System.Text.RegularExpressions;

namespace PktFlow.Topology.Lab;

/// <summary>
/// The frames a Python program of a traffic script writes with scapy's send functions: `sendp(Ether(...)/IP(...)/TCP(...),
/// iface="eth0")` and `srp1`, `srp` write through a packet socket, `send`, `sr1`, `sr` through a raw IP
/// socket; neither is a TCP or UDP socket, so no socket of the sender's is made by them (as with
/// tests/Kernel/bin/sendframe). The packet is the call's first argument (or `x=`), one scapy
/// expression or a list of them, or a name the program bound to one before the call (<see cref="PythonNames"/>);
/// <see cref="ScapyFrame"/> reads each. An argument that is none of these (a comprehension, a
/// name bound elsewhere) is returned without one, for the caller to name in a warning: its frame is never guessed.
/// </summary>
public static partial class ScapySend
{
    /// <summary>
    /// One frame of a send call, <paramref name="Line"/> counted from 0 at the program's first line;
    /// <paramref name="Expression"/> is null when <paramref name="Argument"/> is not written out.
    /// </summary>
    public readonly record struct Frame(int Line, string Function, string Argument, string? Expression);

    // a call not of a method (`s.send(`) and not a definition (`def send(`)
    [GeneratedRegex(@"(?<![\w.])(?<!def\s+)(?<f>sendp|send|srp1|sr1|srp|sr)\s*\(")]
    private static partial Regex Call();

    [GeneratedRegex(@"^\s*def\s+(\w+)\s*\(", RegexOptions.Multiline)]
    private static partial Regex Definition();

    public static IEnumerable<Frame> Read(string code)
    {
        // the program's own function of that name (a `def send(line)` of an FTP client) is not scapy's
        var own = Definition().Matches(code).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        foreach (Match m in Call().Matches(code))
        {
            var function = m.Groups["f"].Value;
            int lineStart = code.LastIndexOf('\n', m.Index) + 1;
            if (own.Contains(function) || code.AsSpan(lineStart, m.Index - lineStart).Contains('#')) continue;
            int open = m.Index + m.Length - 1, close = PythonConnect.Close(code, open);
            if (close < 0) yield break;
            int line = code.AsSpan(0, m.Index).Count('\n');
            var packet = Packet(ScapyFrame.SplitTop(code[(open + 1)..close], ','));
            if (packet is null) continue;
            foreach (var p in packet.StartsWith('[') && packet.EndsWith(']') ? ScapyFrame.SplitTop(packet[1..^1], ',') : [packet])
            {
                var text = p.Trim();
                if (text.Length == 0) continue;
                // a name the program bound to a frame before the call (`syn = Ether()/IP(...)/TCP(...)`): that frame, once per pass of its loops
                if (PythonNames.Frames(code, m.Index, text) is { } bound)
                {
                    foreach (var frame in bound) yield return new Frame(line, function, text, frame);
                    continue;
                }
                // a layer written out: NAME(...) or NAME()/..., not a name bound elsewhere
                bool literal = text.Contains('(') && char.IsAsciiLetterUpper(text[0]);
                if (!literal) { yield return new Frame(line, function, text, null); continue; }
                foreach (var frame in PythonNames.AtCall(code, m.Index, text)) yield return new Frame(line, function, text, frame);
            }
        }
    }

    /// <summary>The call's first positional argument, or its `x=` keyword (scapy's name for the packet).</summary>
    private static string? Packet(List<string> args)
    {
        foreach (var raw in args.Select(a => a.Trim()).Where(a => a.Length > 0))
        {
            int eq = raw.IndexOf('=');
            bool keyword = eq > 0 && raw[eq - 1] is not ('=' or '!' or '<' or '>') && (eq + 1 >= raw.Length || raw[eq + 1] != '=')
                && raw[..eq].Trim().All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
            if (!keyword) return raw;
            if (raw[..eq].Trim() == "x") return raw[(eq + 1)..].Trim();
        }
        return null;
    }
}
