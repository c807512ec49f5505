namespace PktFlow.Topology;

/// <summary>
/// Bridge VLANs (net/bridge/br_vlan.c): a new bridge has VLAN 1 PVID untagged of its own (br_vlan_init),
/// a new port gets the bridge's default PVID untagged (nbp_vlan_init), `bridge vlan add|del` changes a
/// port's or (with `self`) the bridge's VLANs, and vlan_default_pvid moves the default where the user
/// left it alone (__br_vlan_set_default_pvid).
/// </summary>
public sealed partial class NamespaceBuilder
{
    private sealed class VlanState
    {
        public readonly SortedDictionary<ushort, BrVlan> Vlans = new();
        public ushort Pvid;
        public BrVlanOptions Options = BrVlanOptions.Default;

        public BrVlanGroup Freeze() => new(new SortedDictionary<ushort, BrVlan>(Vlans), Pvid);

        /// <summary>vlan_default_pvid(): the group's PVID is <paramref name="vid"/> and that VLAN is untagged, as the default left it.</summary>
        public bool IsDefault(ushort vid) => vid != 0 && Pvid == vid && Vlans.TryGetValue(vid, out var v) && v.Untagged;

        /// <summary>__vlan_add_flags: `pvid` makes it the PVID, its absence takes the PVID away from it; `untagged` likewise.</summary>
        public void Add(ushort vid, bool pvid, bool untagged)
        {
            Vlans[vid] = new BrVlan(vid, untagged);
            if (pvid) Pvid = vid;
            else if (Pvid == vid) Pvid = 0;
        }

        public bool Delete(ushort vid)
        {
            if (!Vlans.Remove(vid)) return false;
            if (Pvid == vid) Pvid = 0;
            return true;
        }
    }

    private readonly Dictionary<string, VlanState> _vlanStates = new();

    private VlanState VlansOf(string device) =>
        _vlanStates.TryGetValue(device, out var s) ? s : _vlanStates[device] = new VlanState();

    /// <summary>br_vlan_init: a new bridge is a member of VLAN 1, its PVID, untagged.</summary>
    private void InitBridgeVlans(string bridge) => VlansOf(bridge).Add(1, pvid: true, untagged: true);

    /// <summary>nbp_vlan_init on enslaving (the bridge's default PVID, untagged) and nbp_vlan_flush on leaving.</summary>
    private void PortVlansOnMasterChange(string port, string? master)
    {
        _vlanStates.Remove(port);
        if (master is not null && Get(master).Kind == DeviceKind.Bridge && VlansOf(master).Options.DefaultPvid is var dp and not 0)
            VlansOf(port).Add(dp, pvid: true, untagged: true);
    }

    /// <summary>IFLA_BR_VLAN_FILTERING (br_vlan_filter_toggle).</summary>
    public void SetVlanFiltering(string bridge, bool on)
    {
        var s = BridgeVlanState(bridge);
        s.Options = s.Options with { Filtering = on };
    }

    /// <summary>IFLA_BR_VLAN_PROTOCOL (__br_vlan_set_proto): 802.1Q or 802.1ad.</summary>
    public void SetVlanProtocol(string bridge, ushort protocol)
    {
        var s = BridgeVlanState(bridge);
        s.Options = s.Options with { Protocol = protocol };
    }

    /// <summary>
    /// IFLA_BR_VLAN_DEFAULT_PVID through rtnetlink (__br_vlan_set_default_pvid, which, unlike the sysfs
    /// file, does not refuse while filtering is on): the bridge and every port whose PVID is still the
    /// old default, untagged, move to the new one (added PVID untagged, the old one deleted); a port
    /// that already has the new VLAN keeps what it has; 0 takes the default away (br_vlan_disable_default_pvid).
    /// </summary>
    public void SetDefaultPvid(string bridge, ushort pvid)
    {
        if (pvid >= 4095) throw new TopologyException($"vlan_default_pvid {pvid} is out of range 0-4094 (RTNETLINK answers: Invalid argument)");
        var br = BridgeVlanState(bridge);
        ushort old = br.Options.DefaultPvid;
        if (old == pvid) return;
        var groups = new List<VlanState> { br };
        groups.AddRange(_devices.Where(d => d.Master == bridge).Select(d => VlansOf(d.Name)));
        foreach (var g in groups)
        {
            bool wasDefault = old == 0 || g.IsDefault(old);
            if (pvid == 0) { if (g.IsDefault(old)) g.Delete(old); continue; }
            if (!wasDefault || g.Vlans.ContainsKey(pvid)) continue;
            g.Add(pvid, pvid: true, untagged: true);
            if (old != 0) g.Delete(old);
        }
        br.Options = br.Options with { DefaultPvid = pvid };
    }

    /// <summary>
    /// `bridge vlan add|del dev DEV vid N[-M] [pvid] [untagged] [self|master]`: <paramref name="self"/>
    /// for the bridge's own VLANs (BRIDGE_FLAGS_SELF), else the VLANs of port <paramref name="device"/>.
    /// </summary>
    public void BridgeVlan(string device, bool add, ushort first, ushort last, bool pvid, bool untagged, bool self)
    {
        var d = Get(device);
        if (first is 0 or >= 4095 || last is 0 or >= 4095 || last < first)
            throw new TopologyException($"invalid VLAN id {first}{(last != first ? "-" + last : "")}: VLAN ids are 1-4094 (RTNETLINK answers: Invalid argument)");
        if (pvid && last != first) throw new TopologyException("a VLAN range cannot be the PVID (RTNETLINK answers: Invalid argument)");
        if (d.Kind == DeviceKind.Bridge && !self)
            throw new TopologyException($"{device} is a bridge, not a bridge port: give 'self' for the bridge's own VLANs (RTNETLINK answers: Operation not supported)");
        if (d.Kind != DeviceKind.Bridge && (d.Master is not { } m || Get(m).Kind != DeviceKind.Bridge))
            throw new TopologyException($"{device} is not a bridge port (RTNETLINK answers: Operation not supported)");
        if (d.Kind != DeviceKind.Bridge && self)
            throw new TopologyException($"'self' on the port {device}: its driver has no VLAN filter of its own (RTNETLINK answers: Operation not supported)");
        var g = VlansOf(device);
        for (int vid = first; vid <= last; vid++)
        {
            if (add) g.Add((ushort)vid, pvid, untagged);
            else if (!g.Delete((ushort)vid))
                throw new TopologyException($"{device} has no VLAN {vid} (RTNETLINK answers: No such file or directory)");
        }
    }

    private VlanState BridgeVlanState(string bridge)
    {
        if (Get(bridge).Kind != DeviceKind.Bridge) throw new TopologyException($"{bridge} is not a bridge");
        return VlansOf(bridge);
    }

    /// <summary>A snapshot's `bridge -j vlan` and `ip -d link` say what each group holds: taken as listed.</summary>
    public void SetListedVlans(string device, IEnumerable<BrVlan> vlans, ushort pvid, BrVlanOptions? options = null)
    {
        RequireListed();
        var s = VlansOf(device);
        s.Vlans.Clear();
        foreach (var v in vlans) s.Vlans[v.Vid] = v;
        s.Pvid = pvid;
        if (options is not null) s.Options = options;
    }

    private BrVlanGroup FrozenVlans(string device) => _vlanStates.TryGetValue(device, out var s) ? s.Freeze() : BrVlanGroup.Empty;
    private BrVlanOptions FrozenVlanOptions(string device) => _vlanStates.TryGetValue(device, out var s) ? s.Options : BrVlanOptions.Default;

    private void RenameVlans(string name, string newName)
    {
        if (_vlanStates.Remove(name, out var s)) _vlanStates[newName] = s;
    }
}
