namespace PktFlow;

/// <summary>What finally became of a packet.</summary>
public enum Fate
{
    /// <summary>Reached a local protocol handler (tcp_v4_rcv, udp_rcv, icmp_rcv, ...).</summary>
    Delivered,
    /// <summary>Routed and sent out of another device.</summary>
    Forwarded,
    /// <summary>Sent by this host (locally generated).</summary>
    Transmitted,
    /// <summary>Freed with a drop reason (kfree_skb_reason).</summary>
    Dropped,
    /// <summary>Handled and freed by the kernel itself without a drop (ARP, neighbour discovery).</summary>
    Consumed,
    /// <summary>The model cannot say: the reason starts with "unsupported:".</summary>
    Unsupported,
}

/// <summary>Netfilter verdicts and stage outcomes, in the kernel's vocabulary.</summary>
public enum Verdict
{
    /// <summary>The stage passed the packet on (no netfilter verdict involved).</summary>
    Pass,
    Accept,
    Drop,
    Stolen,
    Queue,
    /// <summary>The stage exists in the kernel here but the model does not evaluate it yet.</summary>
    NotModelled,
    /// <summary>nftables: a rule matched with a non-terminal statement, or a chain was left by jump/goto/return.</summary>
    Continue,
    Jump,
    Goto,
    Return,
}

/// <summary>Netfilter families (NFPROTO_*).</summary>
public enum NfFamily { Netdev, Bridge, Arp, Ip, Ip6, Inet }

/// <summary>Netfilter hooks (NF_INET_*, NF_NETDEV_*, NF_ARP_*, NF_BR_*).</summary>
public enum NfHook { Ingress, PreRouting, LocalIn, Forward, LocalOut, PostRouting, Egress, Input, Output }

/// <summary>One step of a packet's path: a kernel stage or a netfilter hook.</summary>
public sealed class HookEvent
{
    public required string Namespace { get; init; }
    public string? Device { get; init; }
    /// <summary>The stage in PascalCase (IpRcv, IpForward, NfHook).</summary>
    public required string Stage { get; init; }
    /// <summary>The kernel function modelled (ip_rcv_core, ip_forward, nf_hook_slow).</summary>
    public required string Function { get; init; }
    public NfFamily? Family { get => _family < 0 ? null : (NfFamily)_family; init => _family = value is { } v ? (sbyte)v : (sbyte)-1; }
    public NfHook? Hook { get => _hook < 0 ? null : (NfHook)_hook; init => _hook = value is { } v ? (sbyte)v : (sbyte)-1; }
    public int? Priority { get => _chain?.Priority; init => Chained().Priority = value; }
    public string? Table { get => _chain?.Table; init => Chained().Table = value; }
    public string? Chain { get => _chain?.Chain; init => Chained().Chain = value; }
    public string? Rule { get => _chain?.Rule; init => Chained().Rule = value; }
    public required Verdict Verdict { get => (Verdict)_verdict; init => _verdict = (byte)value; }
    public string? Detail { get; init; }
    /// <summary>The deciding rule's handle (`nft -a list ruleset`), as nft monitor trace names it.</summary>
    public int? RuleHandle { get => _chain?.RuleHandle; init => Chained().RuleHandle = value; }

    // Most events are stages without a chain: the chain fields live apart, and the enums in a byte
    // each, so an event costs 72 bytes instead of 120 (a packet has a dozen or more).
    private sbyte _family = -1, _hook = -1;
    private byte _verdict;
    private ChainFields? _chain;
    private ChainFields Chained() => _chain ??= new ChainFields();
    private sealed class ChainFields
    {
        public int? Priority, RuleHandle;
        public string? Table, Chain, Rule;
    }

    public override string ToString() =>
        $"{Namespace}/{Device ?? "-"} {Stage} {Verdict}{(Detail is null ? "" : ": " + Detail)}";
}

/// <summary>The result for one input packet: the path it took and its fate.</summary>
public sealed class PacketTrace
{
    /// <summary>The capture file the packet came from.</summary>
    public string? File { get; init; }
    /// <summary>1-based frame number within the file.</summary>
    public long Frame { get; init; }
    public DateTimeOffset Timestamp { get; init; }
    /// <summary>Nanoseconds since the Unix epoch, as captured.</summary>
    public long TimestampNs { get; init; }
    /// <summary>Length on the wire (original length).</summary>
    public int Length { get; init; }
    public int CapturedLength { get; init; }
    /// <summary>One line, as `tcpdump -n` would print it.</summary>
    public string Summary { get; init; } = "";
    /// <summary>Where the packet entered the model: namespace/device.</summary>
    public string Ingress { get; init; } = "";
    public IReadOnlyList<HookEvent> Path { get; init; } = Array.Empty<HookEvent>();
    /// <summary>The route chosen, printed as `ip route` prints it, or null when no route was looked up.</summary>
    public string? Route { get; init; }
    /// <summary>namespace/device the packet left on, when it left.</summary>
    public string? Egress { get; init; }
    public Fate Fate { get; init; }
    /// <summary>Why: a drop reason named after SKB_DROP_REASON_*, the handler it reached, or "unsupported: ...".</summary>
    public string Reason { get; init; } = "";
    /// <summary>Packets the kernel would send in response (ICMP errors, ARP/ND replies, echo replies), described.</summary>
    public IReadOnlyList<string> Generated { get; init; } = Array.Empty<string>();
    /// <summary>Notes about the model's assumptions for this packet (inferred host, unmodelled config...).</summary>
    public IReadOnlyList<string> Notes { get; init; } = Array.Empty<string>();
    /// <summary>With -Outcomes All: every outcome the random rules this packet met could have had (docs/results.md).</summary>
    public IReadOnlyList<RandomOutcome> Outcomes { get; init; } = Array.Empty<RandomOutcome>();
    /// <summary>Multipath choices the kernel makes with a capture's per-boot flow hash (policy 1): any allowed nexthop, one per flow.</summary>
    public IReadOnlyList<Routing.CaptureHashedFlow> CaptureHashed { get; init; } = Array.Empty<Routing.CaptureHashedFlow>();
    /// <summary>
    /// Child traces: every packet the kernel built in answer to this one (ICMP errors, echo replies,
    /// resets, ARP replies, neighbour advertisements), traced through the output path of the namespace
    /// that sent it. Empty for a child trace's own children beyond one level.
    /// </summary>
    public IReadOnlyList<PacketTrace> GeneratedTraces { get; init; } = Array.Empty<PacketTrace>();
    /// <summary>
    /// For a child trace, and for a captured frame the model recognised as one: the frame number of the
    /// packet that caused it. Null otherwise.
    /// </summary>
    public long? CausedBy { get; init; }
    /// <summary>
    /// For a packet left waiting (in a neighbour's queue): what became of it, decided after the packet
    /// by capture time and later packets (Neighbour/NeighQueue). Fate and Reason say what happens when
    /// nothing else intervenes; this is what did. Null when nothing waits.
    /// </summary>
    public Neighbour.LaterFate? Later { get; init; }
    /// <summary>For a child trace: the kernel function that built it (__icmp_send, tcp_v4_send_reset, arp_send...).</summary>
    public string? GeneratedBy { get; init; }
    /// <summary>For a child trace: true when it is a copy of the packet (tc mirred mirror, nft dup), not a packet built in answer.</summary>
    public bool IsCopy { get; init; }
    /// <summary>
    /// In a capture of several devices (tcpdump -i any, a pcapng with an interface per device): for a
    /// frame that is another copy of an earlier frame's packet, seen on a device that packet's trace
    /// crossed, the earlier frame's number (Reason: "copy of frame N seen on DEV"). Null otherwise.
    /// </summary>
    public long? CopyOf { get; init; }
    /// <summary>For a child trace: the bytes the model built, from the network header on (tests compare them with captures).</summary>
    internal byte[]? GeneratedNetwork { get; init; }

    public override string ToString() => $"{Frame} {Summary} -> {Fate} ({Reason})";
}

/// <summary>
/// One way a packet's random rule decisions at a hook could have gone: the choices, their joint
/// probability and what the hook then decided. The replay follows the seeded one (<see cref="Taken"/>).
/// </summary>
public sealed record RandomOutcome
{
    public required string Namespace { get; init; }
    public NfHook Hook { get; init; }
    /// <summary>The choices, one per random rule met, e.g. "rule 4 (meta random &amp; ... ): random &lt; 0.33333".</summary>
    public required IReadOnlyList<string> Choices { get; init; }
    public double Probability { get; init; }
    /// <summary>The hook's verdict on this path: Accept, Drop, Queue.</summary>
    public Verdict Verdict { get; init; }
    /// <summary>The deciding rule (table chain: text # handle), or the policy.</summary>
    public string? DecidedBy { get; init; }
    /// <summary>The NAT this path sets up ("dnat to 10.0.0.5:80"), if any.</summary>
    public string? Nat { get; init; }
    /// <summary>What becomes of the packet: "Dropped: NETFILTER_DROP", or for the seeded path its fate; other accepted paths "continues past the hook".</summary>
    public string Fate { get; init; } = "";
    /// <summary>The outcome the seeded replay took.</summary>
    public bool Taken { get; init; }
    public override string ToString() => $"{Probability:P2} {string.Join(", ", Choices)} -> {Verdict}{(Nat is null ? "" : " " + Nat)} ({Fate}){(Taken ? " [taken]" : "")}";
}
