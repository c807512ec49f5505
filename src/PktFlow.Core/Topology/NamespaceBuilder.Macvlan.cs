using PktFlow.Wire;

namespace PktFlow.Topology;

/// <summary>Macvlan devices (drivers/net/macvlan.c, macvlan_common_newlink).</summary>
public sealed partial class NamespaceBuilder
{
    /// <summary>
    /// macvlan_common_newlink: the lower device must exist in <paramref name="lowerNs"/> (this namespace,
    /// or the one `ip link add ... netns` ran in) and be an Ethernet device that is not a
    /// macvlan's own (a macvlan on a macvlan takes that one's lower device: not modelled). passthru
    /// takes the lower device's MAC when none is given (eth_hw_addr_inherit); the MTU is the lower's.
    /// <paramref name="siblings"/>: the macvlans already on that lower device (in any namespace).
    /// </summary>
    public void AddMacvlanDevice(string name, NamespaceBuilder lowerNs, string lower, MacvlanMode mode, IReadOnlyList<MacAddress> sources, MacAddress? mac, int? mtu,
        IReadOnlyList<MacvlanParameters> siblings)
    {
        if (!lowerNs.HasDevice(lower)) throw new TopologyException($"Cannot find device \"{lower}\" (the macvlan {name}'s link)");
        var real = lowerNs.Get(lower);
        if (real.Macvlan is not null) throw new TopologyException($"unsupported: a macvlan on the macvlan {lower} (the kernel puts it on {lower}'s own lower device)");
        if (real.Kind is DeviceKind.Loopback or DeviceKind.Ipip) throw new TopologyException($"{lower} is not an Ethernet device (RTNETLINK answers: Invalid argument)");
        if (real.Master is not null) throw new TopologyException($"unsupported: {lower} is a port of {real.Master}: its rx_handler is the bridge's (RTNETLINK answers: Device or resource busy)");
        // macvlan_port_create: passthru must be the port's only macvlan, and no other may join it
        if (siblings.Any(s => s.Mode == MacvlanMode.Passthru) || mode == MacvlanMode.Passthru && siblings.Count > 0)
            throw new TopologyException($"{lower} already has macvlans: passthru takes the port alone (RTNETLINK answers: Invalid argument)");
        if (mac is null && mode != MacvlanMode.Passthru)
            throw new TopologyException($"unsupported: a macvlan without 'address' gets a random MAC (eth_hw_addr_random); give {name} one");
        AddDevice(name, DeviceKind.Macvlan, mac ?? real.Mac, mtu ?? real.Mtu);
        Get(name).Macvlan = new MacvlanParameters(lower, lowerNs.Name, mode, sources);
    }

    /// <summary>The macvlan parameters of a device (null for other kinds): a device moved to another namespace keeps them.</summary>
    public MacvlanParameters? MacvlanOf(string name) => Get(name).Macvlan;

    public void SetMacvlan(string name, MacvlanParameters? macvlan) => Get(name).Macvlan = macvlan;

    /// <summary>The macvlans of this namespace whose lower device is <paramref name="lowerNamespace"/>/<paramref name="lower"/>.</summary>
    public IEnumerable<MacvlanParameters> MacvlansOn(string lowerNamespace, string lower) =>
        _devices.Select(d => d.Macvlan).OfType<MacvlanParameters>().Where(m => m.Lower == lower && m.LowerNamespace == lowerNamespace);
}
