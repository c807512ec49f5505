using PktFlow.Wire;

namespace PktFlow.Topology;

/// <summary>VLAN devices (net/8021q/vlan_netlink.c): `ip link add link DEV name NAME type vlan id N`.</summary>
public sealed partial class NamespaceBuilder
{
    /// <summary>
    /// vlan_newlink: the lower device must exist, the VID be 0-4094 and free on it for this protocol;
    /// without an address the device takes its lower device's (vlan_dev_init), and its MTU too.
    /// </summary>
    public void AddVlanDevice(string name, string lower, ushort id, ushort protocol, MacAddress? mac, int? mtu)
    {
        if (!HasDevice(lower)) throw new TopologyException($"Cannot find device \"{lower}\" (the VLAN device {name}'s link)");
        if (id > 4094) throw new TopologyException($"vlan id {id} is out of range 0-4094 (RTNETLINK answers: Numerical result out of range)");
        var real = Get(lower);
        if (_devices.Any(d => d.VlanDev is { } v && v.Lower == lower && v.Id == id && v.Protocol == protocol))
            throw new TopologyException($"{lower} already has a VLAN device with id {id} (RTNETLINK answers: File exists)");
        AddDevice(name, DeviceKind.Vlan, mac ?? real.Mac, mtu ?? real.Mtu);
        Get(name).VlanDev = new VlanDevParameters(lower, id, protocol);
    }

    /// <summary>A VLAN device follows its lower device's rename (it refers to it by name here).</summary>
    private void RenameVlanLowers(string name, string newName)
    {
        foreach (var d in _devices)
            if (d.VlanDev is { } v && v.Lower == name) d.VlanDev = v with { Lower = newName };
    }
}
