using PktFlow.Wire;

namespace PktFlow.Topology;

/// <summary>vxlan devices and their FDB (drivers/net/vxlan/vxlan_core.c: vxlan_newlink, vxlan_fdb_add, vxlan_fdb_delete).</summary>
public sealed partial class NamespaceBuilder
{
    private readonly List<VxlanFdbEntry> _vxlanFdb = new();

    /// <summary>The vxlan configuration of a device, null when it is not a vxlan device.</summary>
    public VxlanParameters? VxlanOf(string name) => Get(name).Vxlan;

    /// <summary>
    /// vxlan_newlink: the lower device must exist; its MTU less the outer headers (50 for IPv4) is the
    /// default MTU (1450 on a 1500 lower device, also without one); a default remote becomes the
    /// all-zeros FDB entry (vxlan_fdb_create in __vxlan_dev_create).
    /// </summary>
    public void AddVxlanDevice(string name, VxlanParameters p, MacAddress? mac, int? mtu)
    {
        if (p.Lower is { } lower && !HasDevice(lower)) throw new TopologyException($"Cannot find device \"{lower}\" (the vxlan device {name}'s dev)");
        int lowerMtu = p.Lower is { } l ? Get(l).Mtu : 1500;
        int overhead = (p.Remote is { IsV6: true } || p.Local is { IsV6: true } ? 40 : 20) + 8 + 8 + 14;
        if (mtu is { } m && m > lowerMtu - overhead && p.Lower is not null)
            throw new TopologyException($"mtu {m} is more than {p.Lower}'s {lowerMtu} less {overhead} bytes of vxlan headers (RTNETLINK answers: Invalid argument)");
        foreach (var d in _devices)
            if (d.Vxlan is { } o && o.Vni == p.Vni && o.DstPort == p.DstPort && (o.Local ?? default).IsV6 == (p.Local ?? default).IsV6)
                throw new TopologyException($"A VXLAN device with the specified VNI {p.Vni} already exists ({d.Name})");
        AddDevice(name, DeviceKind.Vxlan, mac, mtu ?? lowerMtu - overhead);
        Get(name).Vxlan = p;
        if (p.Remote is { } r) _vxlanFdb.Add(new VxlanFdbEntry(name, MacAddress.Zero, r, true, "default remote", p.Lower));
    }

    /// <summary>
    /// vxlan_fdb_add: `add` fails when the MAC has an entry (EEXIST), `append` adds a remote to it (a
    /// remote it has already is EEXIST too), `replace` makes the remote its only one.
    /// </summary>
    public void AddVxlanFdb(VxlanFdbEntry e, string verb)
    {
        if (Get(e.Device).Vxlan is null) throw new TopologyException($"{e.Device} is not a vxlan device");
        bool has = _vxlanFdb.Any(x => x.Device == e.Device && x.Mac == e.Mac);
        if (verb == "replace") _vxlanFdb.RemoveAll(x => x.Device == e.Device && x.Mac == e.Mac);
        else if (has && (verb == "add" || _vxlanFdb.Any(x => x.Device == e.Device && x.Mac == e.Mac && x.Remote == e.Remote)))
            throw new TopologyException($"{e.Device} already has an fdb entry for {e.Mac}{(verb == "add" ? "" : $" with dst {e.Remote}")} (RTNETLINK answers: File exists)");
        _vxlanFdb.Add(e);
    }

    /// <summary>vxlan_fdb_delete: with `dst` one remote, without it the whole entry (ENOENT when there is none).</summary>
    public void DeleteVxlanFdb(string device, MacAddress mac, IpAddr? remote)
    {
        if (_vxlanFdb.RemoveAll(x => x.Device == device && x.Mac == mac && (remote is null || x.Remote == remote)) == 0)
            throw new TopologyException($"no fdb entry for {mac}{(remote is { } r ? $" dst {r}" : "")} on {device} (RTNETLINK answers: No such file or directory)");
    }
}
