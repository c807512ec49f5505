using System.Text;

namespace PktFlow.Render;

/// <summary>
/// Draws a packet's path as text, in the spirit of the nftables wiki's netfilter hooks picture: the
/// receive side, the routing decision, then input or forward/output, every stage the packet crossed
/// marked with its verdict, the stages it did not reach shown dimmed with a dot.
/// </summary>
public static class PathDiagram
{
    private static readonly (string Stage, string? Hook, string Label)[] Ingress =
    {
        ("EthTypeTrans", null, "eth_type_trans"), ("NetifRx", null, "netif_receive_skb"),
        ("Xdp", null, "XDP"), ("Gro", null, "GRO"), ("TcIngress", null, "tc ingress"),
        ("NfHook", "Netdev/Ingress", "netdev ingress"), ("VlanDoReceive", null, "vlan"),
    };

    public static string Render(PacketTrace trace, bool color = false)
    {
        var sb = new StringBuilder();
        sb.Append("frame ").Append(trace.Frame).Append("  ").AppendLine(trace.Summary);
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
        foreach (var n in trace.Notes) sb.Append("  note: ").AppendLine(n);
        return sb.ToString();
    }

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
