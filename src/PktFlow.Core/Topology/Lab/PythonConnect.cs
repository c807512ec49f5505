using System.Globalization;
using PktFlow.Wire;

namespace PktFlow.Topology.Lab;

/// <summary>
/// The TCP connects a Python client of a traffic script makes, as far as the script says them in
/// literals: `socket.create_connection(("10.2.0.2", 21), timeout=3, source_address=("0.0.0.0", 40021))`
/// (CPython's Lib/socket.py: address, timeout and source_address by position or keyword). A call whose
/// peer or source port is not a literal (taken from sys.argv, a loop variable) names no flow and is
/// passed over, as socat without sourceport= is. `timeout` is how long the connect may take: then
/// create_connection closes its socket (a SYN_SENT socket goes without a segment).
/// </summary>
public static class PythonConnect
{
    public readonly record struct Connect(IpAddr Remote, ushort RemotePort, IpAddr? Local, ushort LocalPort, TimeSpan? Timeout);

    public static IEnumerable<Connect> Read(string code)
    {
        const string call = "create_connection(";
        for (int at = code.IndexOf(call, StringComparison.Ordinal); at >= 0; at = code.IndexOf(call, at + 1, StringComparison.Ordinal))
        {
            int open = at + call.Length - 1, close = Close(code, open);
            if (close < 0) yield break;
            if (Parse(ScapyFrame.SplitTop(code[(open + 1)..close], ',')) is { } c) yield return c;
        }
    }

    private static Connect? Parse(List<string> args)
    {
        string? address = null, timeout = null, source = null;
        int position = 0;
        foreach (var raw in args.Select(a => a.Trim()).Where(a => a.Length > 0))
        {
            int eq = raw.IndexOf('=');
            if (eq > 0 && raw[..eq].Trim() is var name && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                if (name == "address") address = raw[(eq + 1)..].Trim();
                else if (name == "timeout") timeout = raw[(eq + 1)..].Trim();
                else if (name == "source_address") source = raw[(eq + 1)..].Trim();
                continue;
            }
            switch (position++)
            {
                case 0: address = raw; break;
                case 1: timeout = raw; break;
                case 2: source = raw; break;
            }
        }
        if (address is null || source is null || !TryPair(address, out var remote, out var rport) || !TryPair(source, out var local, out var lport) || lport == 0)
            return null;
        if (local.Family != remote.Family && !local.IsZero) return null;
        TimeSpan? t = timeout is not null && double.TryParse(timeout, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s) : null;
        return new Connect(remote, rport, local.IsZero ? null : local, lport, t);
    }

    /// <summary>A literal ("ADDRESS", PORT) tuple.</summary>
    private static bool TryPair(string text, out IpAddr address, out ushort port)
    {
        (address, port) = (default, 0);
        if (!(text.StartsWith('(') && text.EndsWith(')'))) return false;
        var parts = ScapyFrame.SplitTop(text[1..^1], ',');
        if (parts.Count != 2) return false;
        var a = parts[0].Trim();
        return a.Length >= 2 && a[0] is '\'' or '"' && a[^1] == a[0] && IpAddr.TryParse(a[1..^1], out address)
            && ushort.TryParse(parts[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out port);
    }

    /// <summary>The parenthesis that closes the one at <paramref name="open"/>, past quoted strings; -1 if none.</summary>
    internal static int Close(string code, int open)
    {
        int depth = 0;
        char quote = '\0';
        for (int i = open; i < code.Length; i++)
        {
            char c = code[i];
            if (quote != '\0') { if (c == '\\') i++; else if (c == quote) quote = '\0'; continue; }
            if (c is '\'' or '"') quote = c;
            else if (c == '(') depth++;
            else if (c == ')' && --depth == 0) return i;
        }
        return -1;
    }
}
