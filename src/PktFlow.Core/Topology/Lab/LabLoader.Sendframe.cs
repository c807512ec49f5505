using System.Globalization;
using System.Text.RegularExpressions;
using PktFlow.Wire;

namespace PktFlow.Topology.Lab;

/// <summary>
/// `sendframe [--gap S] DEV FRAME...` in a traffic script (tests/Kernel/bin/sendframe): each FRAME is a
/// scapy expression written to an AF_PACKET socket, so no TCP socket of the namespace sends it and none
/// is made by it (the kernel lists nothing in `ss -tan` for a crafted SYN). The TCP segments it names
/// with literal addresses and ports (`IP(src='A', dst='B', ...)/TCP(sport=N, dport=M, ...)`, IPv6 the
/// same) are declared as the namespace's raw TCP sends (<see cref="NetNamespace.RawTcpSends"/>); a
/// frame whose addresses or ports are left to scapy or to shell variables declares nothing.
/// </summary>
public sealed partial class LabLoader
{
    /// <summary>The frame's first IP layer and the layer after it (an inner IP/TCP of a tunnel is not this namespace's).</summary>
    [GeneratedRegex(@"\bIP(?:v6)?\((?<ip>[^()]*)\)\s*/\s*(?<next>\w+)\((?<tcp>[^/]*)")]
    private static partial Regex IpLayer();

    [GeneratedRegex(@"\bIP(?:v6)?\(")]
    private static partial Regex IpLayerStart();

    private void Sendframe(List<string> w, string ns)
    {
        // the frames are the words after the options and the device
        int i = 1;
        while (i < w.Count && w[i].StartsWith("--", StringComparison.Ordinal)) i += w[i] == "--gap" ? 2 : 1;
        foreach (var frame in w.Skip(i + 1))
            if (IpLayerStart().Match(frame) is { Success: true } first && IpLayer().Match(frame) is { Success: true } m
                && m.Index == first.Index && m.Groups["next"].Value == "TCP"
                && Keyword(m.Groups["ip"].Value, "src") is { } s && IpAddr.TryParse(s, out var src)
                && Keyword(m.Groups["ip"].Value, "dst") is { } d && IpAddr.TryParse(d, out var dst)
                && Port(m.Groups["tcp"].Value, "sport") is { } sport && Port(m.Groups["tcp"].Value, "dport") is { } dport)
                _namespaces[ns].AddRawTcpSend((src, sport, dst, dport));
    }

    /// <summary>A keyword argument given as a quoted literal (name='x' or name="x"), or null.</summary>
    private static string? Keyword(string args, string name) =>
        Regex.Match(args, $@"(?:^|[\s,]){name}\s*=\s*(['""])(?<v>[^'""]*)\1") is { Success: true } m ? m.Groups["v"].Value : null;

    /// <summary>A port argument given as a decimal literal, or null.</summary>
    private static ushort? Port(string args, string name) =>
        Regex.Match(args, $@"(?:^|[\s,]){name}\s*=\s*(?<v>\d+)\s*(?:,|\)|$)") is { Success: true } m
        && ushort.TryParse(m.Groups["v"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : null;
}
