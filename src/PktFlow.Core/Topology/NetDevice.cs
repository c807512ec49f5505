using PktFlow.Wire;

namespace PktFlow.Topology;

/// <summary>Device kinds as `ip -d link` names them (info_kind), plus physical NICs.</summary>
public enum DeviceKind { Physical, Loopback, Veth, Bridge, Dummy, Vlan, Vxlan, Macvlan, Ipip, Other }

/// <summary>One net_device of a namespace, as `ip link` shows it.</summary>
public sealed class NetDevice
{
    public required string Name { get; init; }
    /// <summary>The namespace the device is in.</summary>
    public string Namespace { get; init; } = "";
    public required int IfIndex { get; init; }
    public required DeviceKind Kind { get; init; }
    public MacAddress Mac { get; init; }
    public int Mtu { get; init; } = 1500;
    /// <summary>Administratively up (IFF_UP). Carrier is assumed when up.</summary>
    public bool IsUp { get; init; }
    public string? Master { get; init; }
    /// <summary>For veth: the peer's name (and namespace, when known).</summary>
    public string? Peer { get; init; }
    public string? PeerNamespace { get; init; }
    public bool IsLoopback => Kind == DeviceKind.Loopback;
    /// <summary>The XDP program attached (`ip link set dev X xdp|xdpgeneric obj FILE sec NAME`), or null.</summary>
    public XdpAttachment? Xdp { get; init; }
    /// <summary>dev->group (`ip link set dev X group N`; 0 is iproute2's "default"): what nft's meta iifgroup/oifgroup read.</summary>
    public uint Group { get; init; }
    /// <summary>Bridge port flag BR_HAIRPIN_MODE (`bridge link set dev X hairpin on`): frames may leave by the port they came in on.</summary>
    public bool Hairpin { get; init; }
    /// <summary>The bridge port's STP state as set (`bridge link set dev X state N`); a port that is down is disabled whatever this says.</summary>
    public BrPortState PortState { get; init; } = BrPortState.Forwarding;
    /// <summary>
    /// For a bridge built by a lab: kernel STP ran on it (`stp_state 1`) at some point. With STP still
    /// on and its ports brought up under it, the model runs STP (Bridge/BrStp); otherwise the states
    /// STP left are not known and frames through it are unsupported. (A host snapshot lists the states
    /// as they were: this stays false there.)
    /// </summary>
    public bool KernelStp { get; init; }
    /// <summary>For a bridge: its STP settings (stp_state, priority, forward_delay, hello_time, max_age) and FDB ageing_time.</summary>
    public BrStpConfig Stp { get; init; } = BrStpConfig.Default;
    /// <summary>For a bridge port: its STP number, priority and cost (br_add_if, `bridge link set ... priority|cost`).</summary>
    public BrStpPortConfig? StpPort { get; init; }
    /// <summary>
    /// For a bridge port: its VLANs (`bridge vlan add dev PORT`); for a bridge: its own VLANs
    /// (`bridge vlan add dev BR self`). Used only when the bridge has vlan_filtering on.
    /// </summary>
    public BrVlanGroup Vlans { get; init; } = BrVlanGroup.Empty;
    /// <summary>For a bridge: vlan_filtering, vlan_protocol and vlan_default_pvid.</summary>
    public BrVlanOptions VlanOptions { get; init; } = BrVlanOptions.Default;
    /// <summary>For a VLAN device (`type vlan`): its lower device, VID and tag protocol.</summary>
    public VlanDevParameters? VlanDev { get; init; }
    /// <summary>For an ipip device: its tunnel parameters (struct ip_tunnel_parm).</summary>
    public IpTunnelParameters? Tunnel { get; init; }
    /// <summary>For a vxlan device: its configuration (struct vxlan_config).</summary>
    public VxlanParameters? Vxlan { get; init; }
    /// <summary>For a macvlan device (`type macvlan`): its lower device, mode and source MACs.</summary>
    public MacvlanParameters? Macvlan { get; init; }

    public override string ToString() => Name;
}

/// <summary>
/// A bridge's STP settings as `ip link ... type bridge` sets them (IFLA_BR_STP_STATE, IFLA_BR_PRIORITY,
/// IFLA_BR_FORWARD_DELAY, IFLA_BR_HELLO_TIME, IFLA_BR_MAX_AGE) and its FDB ageing time
/// (IFLA_BR_AGEING_TIME: how long a learned entry lives without a frame from its MAC), times in nanoseconds.
/// </summary>
public sealed record BrStpConfig(bool On, ushort Priority, long ForwardDelayNs, long HelloTimeNs, long MaxAgeNs)
{
    /// <summary>BR_DEFAULT_AGEING_TIME (300 s) unless `ageing_time` set another.</summary>
    public long AgeingTimeNs { get; init; } = 300L * 1_000_000_000;

    /// <summary>The kernel's defaults (br_dev_setup): priority 0x8000, forward_delay 15 s, hello_time 2 s, max_age 20 s, ageing_time 300 s.</summary>
    public static readonly BrStpConfig Default = new(false, 0x8000, 15_000_000_000L, 2_000_000_000L, 20_000_000_000L);
}

/// <summary>
/// A bridge port's STP settings: its number (br_add_if gives the lowest free one from 1), priority
/// (default 32), path cost (null: port_cost by link speed) and whether it was enabled while STP was on
/// (br_stp_enable_port with stp_state 1: it starts listening; a port already forwarding when STP was
/// turned on is not in that case).
/// </summary>
public sealed record BrStpPortConfig(int PortNo, byte Priority, uint? Cost, bool EnabledUnderStp);

/// <summary>Bridge port states (BR_STATE_*, include/uapi/linux/if_bridge.h), numbered as `bridge link set state N` takes them.</summary>
public enum BrPortState : byte { Disabled = 0, Listening = 1, Learning = 2, Forwarding = 3, Blocking = 4 }

/// <summary>
/// The receive side of an ipip device's parameters, as ip_tunnel_lookup matches them: local and remote
/// (null: any), `external` (collect_md: one per namespace, takes what no other tunnel matches) and the
/// inner protocol its mode accepts (4 for `mode ipip`, 0 for `mode any`).
/// </summary>
public sealed record IpTunnelParameters(IpAddr? Local, IpAddr? Remote, bool External, byte Protocol)
{
    /// <summary>The fallback device the ipip module creates in every namespace (`tunl0`, any/any, down until set up).</summary>
    public const string FallbackName = "tunl0";

    public override string ToString() =>
        External ? "external" : $"remote {(Remote?.ToString() ?? "any")} local {(Local?.ToString() ?? "any")}";
}

/// <summary>A receiving FOU/GUE port (`ip fou add port N gue` / `ipproto P`): a UDP encapsulation socket.</summary>
public sealed record FouPort(ushort Port, bool Gue, byte Protocol, IpAddr? Local, bool V6)
{
    public override string ToString() => $"fou port {Port} {(Gue ? "gue" : $"ipproto {Protocol}")}{(Local is { } l ? $" local {l}" : "")}{(V6 ? " -6" : "")}";
}

/// <summary>An address assigned to a device (struct in_ifaddr / inet6_ifaddr).</summary>
public sealed class InterfaceAddress
{
    public required string Device { get; init; }
    /// <summary>Local address and prefix length, host bits kept (10.1.0.1/24).</summary>
    public required IpPrefix Prefix { get; init; }
    public IpAddr? Broadcast { get; init; }
    public AddressScope Scope { get; init; } = AddressScope.Global;
    public IpAddr Address => Prefix.Address;
    public IpFamily Family => Prefix.Family;

    public override string ToString() => $"{Prefix.Address}/{Prefix.Length} dev {Device}";
}

/// <summary>rtm_scope / ifa_scope values (RT_SCOPE_*).</summary>
public enum AddressScope : byte { Global = 0, Site = 200, Link = 253, Host = 254, Nowhere = 255 }

/// <summary>
/// An XDP program on a device: the program, the mode the lab asked for (xdp, xdpgeneric, xdpdrv) and
/// the lab line. On a veth `xdp` (no mode) and `xdpdrv` attach in native mode (veth_xdp_rcv_skb, in
/// the NAPI poll the peer's veth_xmit schedules); `xdpgeneric`, and every mode on the other devices
/// of a lab, run as generic XDP (netif_receive_generic_xdp).
/// </summary>
public sealed record XdpAttachment(Bpf.BpfProgram Program, string Mode, string Source)
{
    /// <summary>Elements the lab put into the program's maps (bpftool map update), in order.</summary>
    public IReadOnlyList<Bpf.BpfMapUpdate> MapUpdates { get; init; } = [];

    /// <summary>Whether the program runs in the veth driver (native mode) rather than as generic XDP.</summary>
    public bool RunsNative(NetDevice dev) => dev.Kind == DeviceKind.Veth && Mode is "xdp" or "xdpdrv";
}
