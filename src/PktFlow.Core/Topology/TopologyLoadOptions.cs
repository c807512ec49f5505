namespace PktFlow.Topology;

/// <summary>
/// How a lab or a snapshot is loaded. By default (strict) a ruleset holding anything the model cannot
/// evaluate (an nft expression or statement, an iptables match or target, in nft text, nft JSON,
/// iptables-save input, lab `nft`/`iptables` commands or a snapshot's nft.json) is refused on load, the
/// error naming the file, the line (or JSON path) and the expression.
/// </summary>
public sealed record TopologyLoadOptions
{
    /// <summary>The default: refuse what the model cannot evaluate.</summary>
    public static readonly TopologyLoadOptions Strict = new();

    /// <summary>
    /// Load such rules instead, marked unsupported: a packet that meets one goes on past it and its trace
    /// says "unsupported: ..." naming the rule (Invoke-PacketFlow / Import-PktFlowTopology -AllowUnsupported).
    /// </summary>
    public bool AllowUnsupported { get; init; }
}
