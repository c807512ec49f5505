using System.Text;

namespace PktFlow.Render;

/// <summary>One hop of a packet's way: a namespace, and what happened there in a word or two.</summary>
public readonly record struct Hop(string Namespace, string Label, bool Dropped);

/// <summary>
/// The path across namespaces: the stages of a trace condensed to hops (device arrivals, ip_rcv,
/// the netfilter hooks, routing, bridge forwarding, veth crossings, the protocol handler), drawn one
/// column per namespace in the order the packet crossed them, with its child traces (the packets the
/// kernel sent in answer) below in the same columns.
/// </summary>
public static class NamespaceColumns
{
    private const int MaxWidth = 30;

    /// <summary>The hops of one trace, consecutive repeats (several chains at one hook) merged.</summary>
    public static IReadOnlyList<Hop> Hops(PacketTrace trace)
    {
        var hops = new List<Hop>();
        foreach (var e in trace.Path)
        {
            if (Label(e, trace) is not { } label) continue;
            bool dropped = e.Verdict == Verdict.Drop;
            var hop = new Hop(e.Namespace, label, dropped);
            if (hops.Count > 0 && hops[^1].Namespace == hop.Namespace && hops[^1].Label == hop.Label)
            {
                if (dropped) hops[^1] = hop;
                continue;
            }
            hops.Add(hop);
        }
        if (trace.Path.Count > 0)
            hops.Add(new Hop(trace.Path[^1].Namespace, End(trace), trace.Fate == Fate.Dropped));
        return hops;
    }

    /// <summary>The hops on one line: "(host) eth0 -> ip_rcv -> PREROUTING -> ... -> (c1) eth0 -> ...".</summary>
    public static string Line(PacketTrace trace)
    {
        var sb = new StringBuilder();
        string? ns = null;
        foreach (var h in Hops(trace))
        {
            if (sb.Length > 0) sb.Append(" -> ");
            if (h.Namespace != ns) { ns = h.Namespace; sb.Append('(').Append(ns).Append(") "); }
            sb.Append(h.Label);
        }
        return sb.ToString();
    }

    /// <summary>The columns picture of a trace and its child traces.</summary>
    public static string Render(PacketTrace trace)
    {
        var sections = new List<(string Title, IReadOnlyList<Hop> Hops)> { ($"frame {trace.Frame}", Hops(trace)) };
        foreach (var c in trace.GeneratedTraces) sections.Add(($"↩ {c.GeneratedBy}: {c.Summary}", Hops(c)));
        var columns = sections.SelectMany(s => s.Hops).Select(h => h.Namespace).Distinct().ToList();
        var width = columns.ToDictionary(c => c, c => Math.Max(c.Length, sections.SelectMany(s => s.Hops).Where(h => h.Namespace == c).Select(h => Math.Min(MaxWidth, h.Label.Length + 2)).DefaultIfEmpty(0).Max()));
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(" │ ", columns.Select(c => c.PadRight(width[c]))).TrimEnd());
        sb.AppendLine(string.Join("─┼─", columns.Select(c => new string('─', width[c]))));
        foreach (var (title, hops) in sections)
        {
            if (sections.Count > 1) sb.AppendLine(title);
            string? previous = null;
            foreach (var h in hops)
            {
                string text = (previous is not null && previous != h.Namespace ? "→ " : "  ") + h.Label + (h.Dropped ? " ✗" : "");
                if (text.Length > width[h.Namespace]) text = text[..(width[h.Namespace] - 1)] + "…";
                sb.AppendLine(string.Join(" │ ", columns.Select(c => (c == h.Namespace ? text : "").PadRight(width[c]))).TrimEnd());
                previous = h.Namespace;
            }
        }
        return sb.ToString();
    }

    private static string End(PacketTrace t) => t.Fate switch
    {
        Fate.Delivered => $"delivered ({t.Reason})",
        Fate.Dropped => $"dropped {t.Reason}",
        Fate.Forwarded or Fate.Transmitted => t.Egress is { } eg ? $"out {eg[(eg.IndexOf('/') + 1)..]}" : t.Fate.ToString().ToLowerInvariant(),
        Fate.Unsupported => "unsupported (see the stages)",
        _ => $"{t.Fate.ToString().ToLowerInvariant()} {t.Reason}".TrimEnd(),
    };

    /// <summary>A stage's hop label, or null for stages that say nothing about the way (taps, tc, GRO, conntrack).</summary>
    private static string? Label(HookEvent e, PacketTrace t)
    {
        if (e.Hook is { } hook)
        {
            string name = hook switch
            {
                NfHook.PreRouting => "PREROUTING", NfHook.LocalIn or NfHook.Input => "INPUT", NfHook.Forward => "FORWARD",
                NfHook.LocalOut or NfHook.Output => "OUTPUT", NfHook.PostRouting => "POSTROUTING", NfHook.Ingress => "ingress", _ => "egress",
            };
            if (hook is NfHook.Ingress or NfHook.Egress && e.Verdict is Verdict.NotModelled or Verdict.Accept or Verdict.Pass && e.Table is null) return null;
            return e.Family switch
            {
                NfFamily.Bridge => "bridge " + name,
                NfFamily.Arp => "arp " + name,
                NfFamily.Netdev => "netdev " + name,
                _ => name,
            };
        }
        if (e.Verdict == Verdict.NotModelled && e.Stage is "Xdp" or "Gro" or "TcIngress" or "TcEgress") return null;
        return e.Stage switch
        {
            "EthTypeTrans" => e.Device,
            // tc shows where a filter took the packet (a match, a drop); a device without filters says nothing
            "TcIngress" or "TcEgress" => e.Verdict == Verdict.Drop || e.Detail?.Contains(" pref ", StringComparison.Ordinal) == true ? (e.Stage == "TcIngress" ? "tc ingress" : "tc egress") : null,
            // a program that sent the frame back or redirected it turns the way
            "Xdp" when e.Verdict == Verdict.Stolen => e.Detail?.Contains("XDP_TX", StringComparison.Ordinal) == true ? "XDP_TX" : "XDP_REDIRECT",
            // native XDP's xdp_frame leaving by a veth (veth_xdp_xmit), as veth_xmit shows an skb's
            "Xdp" when e.Function == "veth_xdp_xmit" && e.Verdict == Verdict.Pass => $"{e.Device} (veth)",
            "NetifRx" or "NetifReceiveSkb" or "Xdp" or "Gro" or "NfConntrackIn" or "NfConfirm" or "BrHandleFrameFinish" or "BrNfPreRoutingFinish" => null,
            "IpRcv" => t.Summary.StartsWith("IP6", StringComparison.Ordinal) ? "ipv6_rcv" : "ip_rcv",
            "IpRouteInput" or "Ip6RouteInput" or "RouteOutput" => "route",
            "IpForward" or "Ip6Forward" or "IpFinishOutput" or "Ip6FinishOutput" => e.Verdict == Verdict.Drop ? e.Function : null,
            "NeighOutput" or "NeighResolve" => e.Verdict == Verdict.Drop ? "neighbour" : null,
            "BrHandleFrame" => $"{e.Device} (bridge port)",
            "BrForward" or "BrFlood" => "bridge forward",
            "BrPassFrameUp" => "up to the bridge",
            "BrDevXmit" => $"{e.Device} (bridge)",
            "VethXmit" => $"{e.Device} (veth)",
            "DevQueueXmit" => e.Device,
            "NfNatManip" or "NfNatSetupInfo" => "NAT",
            "NfConntrackHelper" => e.Verdict == Verdict.Drop ? "conntrack helper" : null,
            "Observed" => "sent",
            "Unsupported" => null, // the last hop says what is not modelled
            _ => e.Function,
        };
    }
}
