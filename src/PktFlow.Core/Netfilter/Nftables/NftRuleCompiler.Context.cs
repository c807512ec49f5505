namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// Two checks nft 1.0.6 makes on a rule's statements in order (evaluate.c: rule_evaluate and the
/// payload dependency's protocol context), both measured on 6.18 with nft 1.0.6.
/// </summary>
internal sealed partial class NftParser
{
    /// <summary>The protocols the rule fixed so far at the network and transport base (nft's proto_ctx):
    /// null when none. At the transport base nft also keeps every protocol it saw (a set's elements, a
    /// `meta l4proto` after a tcp header): with more than one, even the current one conflicts.</summary>
    private string? _ctxNetwork;
    private (int Proto, string Name)? _ctxTransport;
    private readonly List<(int Proto, string Name)> _ctxTransportSeen = new();
    /// <summary>The terminal statement the rule had so far.</summary>
    private bool _terminated;

    private void StartContext(NftChain ch)
    {
        // an ip or ip6 table fixes its network protocol: `ip6 saddr ::1` in an ip table is refused
        _ctxNetwork = ch.Table.Family switch { NftFamily.Ip => "ip", NftFamily.Ip6 => "ip6", _ => null };
        _ctxTransport = null; _ctxTransportSeen.Clear(); _terminated = false;
    }

    /// <summary>
    /// nft refuses any statement after a terminal one with "Statement after terminal statement has no
    /// effect": verdicts but continue (accept, drop, jump, goto, return, queue), reject, snat, dnat,
    /// masquerade, redirect and fwd. A verdict map, dup, notrack, tproxy or synproxy is not terminal.
    /// </summary>
    private void CheckTerminal(NftTok at, NftStmt st)
    {
        if (at.Is("comment")) return; // the rule's comment, not a statement
        if (_terminated) throw Err(at, "Statement after terminal statement has no effect");
        _terminated = st switch
        {
            VerdictStmt v => v.Verdict != NftVerdict.Continue,
            RejectStmt or NatMapStmt or FwdStmt => true,
            _ => false,
        };
    }

    /// <summary>
    /// A payload of a header whose protocol an earlier statement of the rule fixed otherwise is refused
    /// with "conflicting protocols specified: A vs. B" (payload_dependency's proto_ctx): ip and ip6 headers
    /// after `meta nfproto`, `ether type`, `vlan type` or another ip/ip6 header (or the table's family);
    /// a transport header after `meta l4proto`, `ip protocol`, `ip6 nexthdr` (one value, or a set: any
    /// other element conflicts) or another transport header (`tcp dport 1 meta l4proto udp` then conflicts
    /// with both: "tcp vs. udp" for udp, "udp vs. tcp" for tcp). An icmp/icmpv6 header fixes the network
    /// protocol without checking it; `th`, raw payloads, tcp options, `ct protocol` and != fix nothing.
    /// </summary>
    private void CheckProtocols(NftTok at, NftStmt st)
    {
        if (st is not MatchStmt m) return;
        foreach (var p in Payloads(m.Sel))
        {
            var name = p.Text.Split(' ')[0];
            if (p.Base == PBase.Network && p.NeedL3 is L3.V4 or L3.V6)
            {
                if (_ctxNetwork is { } net && net != name) throw Err(at, $"conflicting protocols specified: {net} vs. {name}");
            }
            if (p.Base == PBase.Transport && p.NeedL4 >= 0 && p.NeedL4Alt < 0)
            {
                if (_ctxTransport is { } cur && cur.Proto != p.NeedL4) throw Err(at, $"conflicting protocols specified: {cur.Name} vs. {name}");
                if (_ctxTransportSeen.Find(e => e.Proto != p.NeedL4) is { Name: { } other }) throw Err(at, $"conflicting protocols specified: {other} vs. {name}");
                if (_ctxTransport is null) SeeTransport(p.NeedL4, name);
            }
            if (p.NeedL3 is L3.V4 or L3.V6) _ctxNetwork ??= p.NeedL3 == L3.V4 ? "ip" : "ip6";
        }
        if (m.Op != CmpOp.Eq || m.Vmap) return;
        var values = m.Value is { } v ? [v] : m.Elements?.Where(e => !e.CatchAll).Select(e => e.Lo[0]).ToList();
        if (values is null || values.Count == 0) return;
        switch (m.Sel)
        {
            case MetaSelector { Key: MetaKey.NfProto } when values is [[2]]: _ctxNetwork = "ip"; break;
            case MetaSelector { Key: MetaKey.NfProto } when values is [[10]]: _ctxNetwork = "ip6"; break;
            case PayloadSelector { Base: PBase.Link, Text: "ether type" or "vlan type" } when values is [[0x08, 0x00]]: _ctxNetwork = "ip"; break;
            case PayloadSelector { Base: PBase.Link, Text: "ether type" or "vlan type" } when values is [[0x86, 0xDD]]: _ctxNetwork = "ip6"; break;
            case MetaSelector { Key: MetaKey.L4Proto }:
            case PayloadSelector { Base: PBase.Network, NeedL3: L3.V4, Offset: 9 }:
            case PayloadSelector { Base: PBase.Network, NeedL3: L3.V6, Offset: 6 }:
                if (values.All(x => x.Length == 1))
                    foreach (var x in values) SeeTransport(x[0], TransportName(x[0]));
                break;
        }
    }

    /// <summary>The transport protocol is now <paramref name="proto"/> (the last element of a set).</summary>
    private void SeeTransport(int proto, string name)
    {
        _ctxTransport = (proto, name);
        if (!_ctxTransportSeen.Exists(e => e.Proto == proto)) _ctxTransportSeen.Add((proto, name));
    }

    private static IEnumerable<PayloadSelector> Payloads(NftSelector s) => s switch
    {
        PayloadSelector p => [p],
        ConcatSelector c => c.Parts.SelectMany(Payloads),
        _ => [],
    };

    private static string TransportName(byte proto) => proto switch
    {
        1 => "icmp", 2 => "igmp", 6 => "tcp", 17 => "udp", 33 => "dccp", 50 => "esp", 51 => "ah", 58 => "icmpv6",
        108 => "comp", 132 => "sctp", 136 => "udplite", _ => proto.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
