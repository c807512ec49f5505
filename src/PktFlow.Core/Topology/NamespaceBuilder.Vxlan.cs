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
    /// default MTU (1450 on a 1500 lower device, also without one) and, checked on 6.18, the most a
    /// requested one keeps: vxlan_config_apply lowers a larger one silently (only a later `ip link set mtu`
    /// is refused, <see cref="SetVxlanMtu"/>). A default remote becomes the all-zeros FDB entry
    /// (vxlan_fdb_create in __vxlan_dev_create). Two devices with a VNI and port share a socket only in
    /// different families (the remote's or local address's, vxlan_vni_in_use).
    /// </summary>
    public void AddVxlanDevice(string name, VxlanParameters p, MacAddress? mac, int? mtu)
    {
        if (p.Lower is { } lower && !HasDevice(lower)) throw new TopologyException($"Cannot find device \"{lower}\" (the vxlan device {name}'s dev)");
        int lowerMtu = p.Lower is { } l ? Get(l).Mtu : 1500;
        int max = lowerMtu - VxlanOverhead(p);
        foreach (var d in _devices)
            if (d.Vxlan is { } o && o.Vni == p.Vni && o.DstPort == p.DstPort && IsV6(o) == IsV6(p))
                throw new TopologyException($"A VXLAN device with the specified VNI {p.Vni} already exists ({d.Name})");
        AddDevice(name, DeviceKind.Vxlan, mac, mtu is { } m && (p.Lower is null || m <= max) ? m : max);
        Get(name).Vxlan = p;
        if (p.Remote is { } r) _vxlanFdb.Add(new VxlanFdbEntry(name, MacAddress.Zero, r, true, "default remote", p.Lower));
    }

    /// <summary>vxlan_change_mtu: with a lower device, more than its MTU less the outer headers is EINVAL.</summary>
    private void SetVxlanMtu(Dev d, VxlanParameters p, int mtu)
    {
        if (p.Lower is { } l && HasDevice(l) && mtu > Get(l).Mtu - VxlanOverhead(p))
            throw new TopologyException($"mtu {mtu} is more than {l}'s {Get(l).Mtu} less {VxlanOverhead(p)} bytes of vxlan headers (RTNETLINK answers: Invalid argument)");
        d.Mtu = mtu;
    }

    private static bool IsV6(VxlanParameters p) => p.Remote is { IsV6: true } || p.Local is { IsV6: true };

    /// <summary>The outer IP, UDP, VXLAN and Ethernet headers (VXLAN_HEADROOM / VXLAN6_HEADROOM).</summary>
    private static int VxlanOverhead(VxlanParameters p) => IsV6(p) ? VxlanHeader.Ipv6Overhead : VxlanHeader.Ipv4Overhead;

    /// <summary>
    /// vxlan_fdb_add -> vxlan_fdb_update (checked on 6.18): `add` (NLM_F_EXCL) fails when the MAC has an entry
    /// (EEXIST). On an existing entry `append` adds a remote only to the all-zeros or a multicast MAC
    /// (vxlan_fdb_append; one it lists already is a no-op) and leaves a unicast one as it is; `replace` is
    /// refused for those (EOPNOTSUPP) and on a unicast entry rewrites its first remote unless it lists the
    /// new one already (vxlan_fdb_replace), keeping the others. A remote is its address and its via device.
    /// </summary>
    public void AddVxlanFdb(VxlanFdbEntry e, string verb)
    {
        if (Get(e.Device).Vxlan is null) throw new TopologyException($"{e.Device} is not a vxlan device");
        bool unicast = !e.Mac.IsZero && !e.Mac.IsMulticast;
        if (verb == "replace" && !unicast)
            throw new TopologyException($"{e.Mac} on {e.Device}: Cannot replace non-unicast fdb entries (RTNETLINK answers: Operation not supported)");
        int first = _vxlanFdb.FindIndex(x => x.Device == e.Device && x.Mac == e.Mac);
        if (first < 0) { _vxlanFdb.Add(e); return; }
        if (verb == "add") throw new TopologyException($"{e.Device} already has an fdb entry for {e.Mac} (RTNETLINK answers: File exists)");
        bool listed = _vxlanFdb.Any(x => x.Device == e.Device && x.Mac == e.Mac && x.Remote == e.Remote && x.Via == e.Via);
        if (listed) return;
        if (verb == "replace") _vxlanFdb[first] = e;
        else if (!unicast) _vxlanFdb.Add(e);
    }

    /// <summary>vxlan_fdb_delete: with `dst` one remote, without it the whole entry (ENOENT when there is none).</summary>
    public void DeleteVxlanFdb(string device, MacAddress mac, IpAddr? remote)
    {
        if (_vxlanFdb.RemoveAll(x => x.Device == device && x.Mac == mac && (remote is null || x.Remote == remote)) == 0)
            throw new TopologyException($"no fdb entry for {mac}{(remote is { } r ? $" dst {r}" : "")} on {device} (RTNETLINK answers: No such file or directory)");
    }
}
