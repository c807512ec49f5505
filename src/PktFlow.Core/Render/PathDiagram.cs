using System.Text;

namespace PktFlow.Render;

/// <summary>
/// Draws a packet's path as text, in the spirit of the nftables wiki's netfilter hooks picture: the
/// receive side, the routing decision, then input or forward/output, every stage the packet crossed
/// marked with its verdict, the stages it did not reach shown dimmed with a dot.
/// </summary>
public static class PathDiagram
{
    public static string Render(PacketTrace trace, bool color = false)
    {
        var sb = new StringBuilder();
        sb.Append("frame ").Append(trace.Frame).Append("  ").AppendLine(trace.Summary);
        sb.AppendLine();
        HooksPicture(sb, trace, color);
        sb.AppendLine();
        sb.Append("in ").AppendLine(trace.Ingress);
        string? ns = null;
        foreach (var e in trace.Path)
        {
            if (e.Namespace != ns) { ns = e.Namespace; sb.Append("┌ namespace ").AppendLine(ns); }
            string name = e.Hook is { } h ? $"{e.Family?.ToString().ToLowerInvariant()} {HookName(h)}" : e.Function;
            string mark = e.Verdict switch
            {
                Verdict.Drop => "✗",
                Verdict.NotModelled => "·",
                _ => "│",
            };
            string verdict = e.Verdict switch
            {
                Verdict.Pass => "",
                Verdict.NotModelled => " [not modelled]",
                _ => $" [{e.Verdict.ToString().ToUpperInvariant()}]",
            };
            var line = $"{mark} {e.Device,-8} {name,-28}{verdict}";
            if (color) line = Paint(line, e.Verdict);
            sb.Append(line);
            if (e.Verdict != Verdict.NotModelled && e.Detail is { } d) sb.Append("  ").Append(d);
            sb.AppendLine();
        }
        sb.Append("└ ").Append(trace.Fate.ToString().ToUpperInvariant()).Append(": ").Append(trace.Reason);
        if (trace.Egress is { } eg) sb.Append(" (out ").Append(eg).Append(')');
        sb.AppendLine();
        if (trace.Route is { } r) sb.Append("  route: ").AppendLine(r);
        foreach (var g in trace.Generated) sb.Append("  ↩ kernel sends: ").AppendLine(g);
        if (trace.CausedBy is { } cause) sb.Append("  ↩ sent by the kernel in answer to frame ").AppendLine(cause.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var n in trace.Notes) sb.Append("  note: ").AppendLine(n);
        // Across namespaces (or with answers): the hops one column per namespace, children below.
        if (trace.GeneratedTraces.Count > 0 || trace.Path.Select(e => e.Namespace).Distinct().Count() > 1)
            sb.AppendLine().Append(NamespaceColumns.Render(trace));
        return sb.ToString();
    }

    private enum Mark { Not, Passed, NotModelled, Dropped }

    /// <summary>
    /// The netfilter hooks picture: receive, prerouting, the routing decision, then input to a local
    /// process or forward and postrouting to transmit. Crossed stages are [bracketed] (· when the
    /// model does not evaluate them yet), the one that dropped the packet is marked ✗.
    /// </summary>
    private static void HooksPicture(StringBuilder sb, PacketTrace trace, bool color)
    {
        var marks = new Dictionary<string, Mark>();
        foreach (var e in trace.Path)
        {
            var node = NodeOf(e);
            if (node is null) continue;
            var m = e.Verdict switch { Verdict.Drop => Mark.Dropped, Verdict.NotModelled => Mark.NotModelled, _ => Mark.Passed };
            if (!marks.TryGetValue(node, out var old) || m == Mark.Dropped || old == Mark.NotModelled) marks[node] = m;
        }
        string inDev = trace.Ingress.Contains('/') ? trace.Ingress[(trace.Ingress.IndexOf('/') + 1)..] : trace.Ingress;
        string outDev = trace.Egress is { } eg ? eg[(eg.IndexOf('/') + 1)..] : "out";
        string N(string id, string label) => Node(label, marks.GetValueOrDefault(id), color);
        const string arrow = " ─► ";
        if (marks.ContainsKey("routeout") || marks.ContainsKey("arpsend") || marks.ContainsKey("observed"))
        {
            // A packet this host sent: the output half of the picture.
            sb.AppendLine(string.Join(arrow, N("observed", "local process"), N("routeout", "routing"), N("output", "output"),
                N("post", "postrouting"), N("neigh", "neighbour"), N("egress", "netdev egress"), N("tceg", "tc egress"), N("xmit", outDev)));
            return;
        }
        bool arp = marks.ContainsKey("arp");
        var main = string.Join(arrow, N("dev", inDev), N("xdp", "xdp"), N("tc", "tc ingress"), N("ingress", "netdev ingress"));
        if (arp)
        {
            sb.AppendLine(string.Join(arrow, main, N("arp", "arp_rcv"), N("arpin", "arp input"), N("arpproc", "arp_process")));
            return;
        }
        main = string.Join(arrow, main, N("iprcv", "ip_rcv"), N("pre", "prerouting"), N("route", "routing"));
        int branchAt = Visible(main).Length + 1;
        string pad = new(' ', branchAt);
        sb.Append(pad).Append("┌─► ").AppendLine(string.Join(arrow, N("input", "input"), N("local", "local process")));
        sb.Append(main).AppendLine(" ┤");
        sb.Append(pad).Append("└─► ").AppendLine(string.Join(arrow, N("fwd", "forward"), N("post", "postrouting"),
            N("neigh", "neighbour"), N("egress", "netdev egress"), N("tceg", "tc egress"), N("xmit", outDev)));
    }

    private static string? NodeOf(HookEvent e) => e.Hook switch
    {
        NfHook.Ingress => "ingress",
        NfHook.PreRouting => "pre",
        NfHook.LocalIn => "input",
        NfHook.LocalOut => "output",
        NfHook.Forward => "fwd",
        NfHook.PostRouting => "post",
        NfHook.Egress => "egress",
        NfHook.Input when e.Family == NfFamily.Arp => "arpin",
        _ => e.Stage switch
        {
            "EthTypeTrans" or "NetifRx" or "NetifReceiveSkb" or "VlanDoReceive" => "dev",
            "Xdp" => "xdp",
            "TcIngress" => "tc",
            "IpRcv" or "Ipv6Rcv" or "IpRcvOptions" => "iprcv",
            "IpRouteInput" or "Ip6RouteInput" or "IpError" or "Ip6PktDiscard" or "Ip6PktProhibit" or "DstDiscard" or "Ip6McInput" => "route",
            "IpForward" or "Ip6Forward" or "IpFinishOutput" or "Ip6FinishOutput" => "fwd",
            "NeighOutput" or "NeighResolve" => "neigh",
            "TcEgress" => "tceg",
            "DevQueueXmit" => "xmit",
            "ArpRcv" => "arp",
            "ArpProcess" => "arpproc",
            "ArpSend" => "arpsend",
            "RouteOutput" => "routeout",
            "Observed" => "observed",
            "Gro" or "Unsupported" => null,
            _ => "local", // protocol handlers, defragmentation, neighbour discovery
        },
    };

    private static string Node(string label, Mark m, bool color) => m switch
    {
        Mark.Passed => color ? $"\u001b[1;32m[{label}]\u001b[0m" : $"[{label}]",
        Mark.NotModelled => color ? $"\u001b[90m[{label}·]\u001b[0m" : $"[{label}·]",
        Mark.Dropped => color ? $"\u001b[1;31m[{label} ✗]\u001b[0m" : $"[{label} ✗]",
        _ => color ? $"\u001b[2m{label}\u001b[0m" : label,
    };

    private static string Visible(string s) => System.Text.RegularExpressions.Regex.Replace(s, "\u001b\\[[0-9;]*m", "");

    private static string HookName(NfHook h) => h switch
    {
        NfHook.PreRouting => "prerouting",
        NfHook.LocalIn => "input",
        NfHook.Forward => "forward",
        NfHook.LocalOut => "output",
        NfHook.PostRouting => "postrouting",
        NfHook.Ingress => "ingress",
        NfHook.Egress => "egress",
        NfHook.Input => "input",
        NfHook.Output => "output",
        _ => h.ToString().ToLowerInvariant(),
    };

    private static string Paint(string s, Verdict v) => v switch
    {
        Verdict.Drop => $"\u001b[31m{s}\u001b[0m",
        Verdict.NotModelled => $"\u001b[90m{s}\u001b[0m",
        Verdict.Accept => $"\u001b[32m{s}\u001b[0m",
        _ => s,
    };
}
