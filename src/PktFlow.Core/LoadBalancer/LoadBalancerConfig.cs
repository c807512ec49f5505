using PktFlow.Wire;

namespace PktFlow.LoadBalancer;

/// <summary>How a VIP picks a backend for a new flow.</summary>
public enum LbScheduler { RoundRobin, WeightedLeastConnections, SourceHash, Maglev }

/// <summary>How a VIP hands a packet to its backend.</summary>
public enum LbForwardingMode
{
    /// <summary>Destination address and port rewritten to the backend; replies through the load balancer rewritten back.</summary>
    Nat,
    /// <summary>Direct server return: only the destination MAC is rewritten; the backend holds the VIP itself.</summary>
    Dsr,
    /// <summary>IP-in-IP: an outer IPv4/IPv6 header to the backend (Katran).</summary>
    Ipip,
    /// <summary>GUE (variant 1, direct IP in UDP): outer IP and UDP headers to the backend's GUE port (Katran).</summary>
    Gue,
}

/// <summary>One backend of a VIP.</summary>
public sealed record LbBackend
{
    public required string Name { get; init; }
    public required IpAddr Address { get; init; }
    /// <summary>Destination port after NAT (the VIP's port when the file gives none).</summary>
    public ushort? Port { get; init; }
    public int Weight { get; init; } = 1;
    /// <summary>Health at the start of the replay.</summary>
    public bool Up { get; init; } = true;
    /// <summary>"ns/dev" where the backend's packets enter the model, or null: the replay's injection point.</summary>
    public string? At { get; init; }
    /// <summary>The MAC frames to this backend are addressed to, when not the device's at <see cref="At"/>.</summary>
    public MacAddress? Mac { get; init; }
    /// <summary>UDP destination port of the backend's GUE receiver (`ip fou add port N gue`).</summary>
    public ushort GuePort { get; init; } = LoadBalancerConfig.DefaultGuePort;

    public override string ToString() => $"{Name} ({Address}{(Port is { } p ? ":" + p : "")})";
}

/// <summary>A change of a backend's health at a capture time (seconds after the replay's first packet).</summary>
public sealed record LbHealthEvent(double After, string Backend, bool Up);

/// <summary>A virtual service: address, protocol and port, with its scheduler, forwarding mode and backends.</summary>
public sealed record LbVip
{
    public required IpAddr Address { get; init; }
    /// <summary>IPPROTO_TCP or IPPROTO_UDP.</summary>
    public required byte Protocol { get; init; }
    public required ushort Port { get; init; }
    public LbScheduler Scheduler { get; init; } = LbScheduler.Maglev;
    public LbForwardingMode Mode { get; init; } = LbForwardingMode.Nat;
    /// <summary>Maglev lookup table size M (a prime).</summary>
    public int TableSize { get; init; } = LoadBalancerConfig.DefaultMaglevTableSize;
    public required IReadOnlyList<LbBackend> Backends { get; init; }
    public IReadOnlyList<LbHealthEvent> Health { get; init; } = Array.Empty<LbHealthEvent>();

    public override string ToString() => $"{(Protocol == IpProtocol.Tcp ? "tcp" : "udp")} {(Address.IsV6 ? $"[{Address}]" : Address.ToString())}:{Port}";
}

/// <summary>A load balancer placed in front of the modelled host (docs/load-balancer.md).</summary>
public sealed record LoadBalancerConfig
{
    public const ushort DefaultGuePort = 6080;  // Katran's GUE destination port
    public const int DefaultMaglevTableSize = 65537;  // the Maglev paper's M for small backend sets
    public const string DefaultName = "lb";

    /// <summary>The name its stages carry in traces (as a namespace would).</summary>
    public string Name { get; init; } = DefaultName;
    /// <summary>The load balancer's own MAC: the source of frames it sends in NAT and encapsulation modes.</summary>
    public MacAddress Mac { get; init; } = MacAddress.Parse("02:00:00:00:fe:01");
    /// <summary>Outer source address for IPv4 / IPv6 encapsulation.</summary>
    public IpAddr? Source { get; init; }
    public IpAddr? Source6 { get; init; }
    /// <summary>A flow with no packet for this long is over (its connection no longer counts, it may be scheduled anew).</summary>
    public double IdleTimeoutSeconds { get; init; } = 300;
    /// <summary>The most flows the flow table holds (a Katran-style LRU: the least recently used goes first).</summary>
    public int FlowTableSize { get; init; } = LbFlowTable.DefaultCapacity;
    public required IReadOnlyList<LbVip> Vips { get; init; }
    /// <summary>The file it was read from (for messages).</summary>
    public string File { get; init; } = "";
}
