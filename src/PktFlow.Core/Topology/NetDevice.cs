using PktFlow.Wire;

namespace PktFlow.Topology;

/// <summary>Device kinds as `ip -d link` names them (info_kind), plus physical NICs.</summary>
public enum DeviceKind { Physical, Loopback, Veth, Bridge, Dummy, Vlan, Vxlan, Macvlan, Other }

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
    /// <summary>Bridge port flag BR_HAIRPIN_MODE (`bridge link set dev X hairpin on`): frames may leave by the port they came in on.</summary>
    public bool Hairpin { get; init; }
    /// <summary>The bridge port's STP state as set (`bridge link set dev X state N`); a port that is down is disabled whatever this says.</summary>
    public BrPortState PortState { get; init; } = BrPortState.Forwarding;

    public override string ToString() => Name;
}

/// <summary>Bridge port states (BR_STATE_*, include/uapi/linux/if_bridge.h), numbered as `bridge link set state N` takes them.</summary>
public enum BrPortState : byte { Disabled = 0, Listening = 1, Learning = 2, Forwarding = 3, Blocking = 4 }

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
