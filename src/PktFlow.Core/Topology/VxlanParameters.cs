using PktFlow.Wire;

namespace PktFlow.Topology;

/// <summary>
/// A vxlan device's configuration (struct vxlan_config, drivers/net/vxlan/vxlan_core.c) as `ip link add
/// NAME type vxlan id VNI ...` sets it: the VNI, the UDP port its socket listens on and sends to, the
/// default remote (which becomes the all-zeros FDB entry), the local address, the lower device, learning,
/// the outer TTL and TOS (1: inherit from the inner packet), the source port range and the UDP checksum.
/// A multicast <see cref="Remote"/> is `group ADDR` (the kernel keeps both in cfg.remote_ip): the device
/// joins it on its lower device when it opens (vxlan_open -> vxlan_igmp_join).
/// </summary>
public sealed record VxlanParameters(uint Vni, ushort DstPort, IpAddr? Remote, IpAddr? Local, string? Lower, bool Learning,
    byte Ttl, byte Tos, ushort PortMin, ushort PortMax, bool UdpCsum, uint FlowLabel = 0, bool UdpZeroCsum6Rx = false)
{
    // FlowLabel: the IPv6 underlay's `flowlabel N` (cfg.label, 20 bits); UdpZeroCsum6Rx `udp6zerocsumrx`
    // (the IPv6 socket takes UDP checksum 0)

    /// <summary>The port iproute2 leaves to the kernel when `dstport` is not given: the kernel's historical 8472, not IANA's 4789.</summary>
    public const ushort DefaultPort = 8472;

    /// <summary>The group of a multicast underlay (`group ADDR dev DEV`), null for a unicast remote or none.</summary>
    public IpAddr? Group => Remote is { IsMulticast: true } g ? g : null;

    public override string ToString() =>
        $"vxlan id {Vni} dstport {DstPort}{(Remote is { } r ? $" {(r.IsMulticast ? "group" : "remote")} {r}" : "")}{(Local is { } l ? $" local {l}" : "")}{(Lower is { } d ? $" dev {d}" : "")}{(Learning ? "" : " nolearning")}";
}

/// <summary>
/// One vxlan FDB entry (struct vxlan_fdb with its remotes): `bridge fdb append|add MAC dev VX dst IP [via DEV]`.
/// The all-zeros MAC is the default entry: unknown and broadcast destinations go to each of its remotes.
/// <paramref name="Via"/> is the remote's remote_ifindex: the output device its route lookup is bound to
/// (flowi4_oif); the default remote gets the device's `dev`, an entry added without `via` none.
/// </summary>
public sealed record VxlanFdbEntry(string Device, MacAddress Mac, IpAddr Remote, bool Permanent, string Source, string? Via = null)
{
    public override string ToString() => $"{Mac} dev {Device} dst {Remote}{(Via is null ? "" : $" via {Via}")} self {(Permanent ? "permanent" : "static")}";
}

/// <summary>
/// What the model refuses of a vxlan device and its FDB, worded once for the lab loader (which throws
/// it naming the line) and the snapshot loader (which names the device as not modelled).
/// </summary>
public static class VxlanUnsupported
{
    public const string FlowLabelInherit = "unsupported: vxlan flowlabel inherit is not modelled (not measured: iproute2 6.1 here cannot set it)";
    public const string TtlInherit = "unsupported: vxlan ttl inherit is not modelled";
    public const string FdbWithoutDst = "unsupported: a vxlan fdb entry without 'dst' (a local entry) is not modelled";
    public static string CollectMetadata(string word) => $"unsupported: vxlan {word} (collect metadata) is not modelled";
    public static string Df(string word) => $"unsupported: vxlan df {word} is not modelled (only the default, unset)";
    public static string Option(string word) => $"unsupported: vxlan option '{word}' is not modelled";
    public static string FdbAttribute(string word) => $"unsupported: vxlan fdb attribute '{word}' is not modelled";
}
