namespace PktFlow.Topology;

/// <summary>One VLAN of a bridge port or of the bridge itself (struct net_bridge_vlan): its id and BRIDGE_VLAN_INFO_UNTAGGED.</summary>
public sealed record BrVlan(ushort Vid, bool Untagged);

/// <summary>
/// The VLANs of a bridge port, or the bridge's own (`self`, BRIDGE_VLAN_INFO_BRENTRY) VLANs
/// (struct net_bridge_vlan_group): the members and the port VLAN id untagged and priority-tagged
/// frames are given (0: none). Kept whether or not the bridge filters, as the kernel keeps them.
/// </summary>
public sealed class BrVlanGroup
{
    public static readonly BrVlanGroup Empty = new(new SortedDictionary<ushort, BrVlan>(), 0);

    private readonly SortedDictionary<ushort, BrVlan> _vlans;

    public BrVlanGroup(SortedDictionary<ushort, BrVlan> vlans, ushort pvid)
    {
        _vlans = vlans;
        Pvid = pvid;
    }

    /// <summary>br_get_pvid: the VLAN untagged and priority-tagged frames belong to on ingress; 0 when none.</summary>
    public ushort Pvid { get; }
    public IEnumerable<BrVlan> Vlans => _vlans.Values;
    public int Count => _vlans.Count;

    /// <summary>br_vlan_find.</summary>
    public BrVlan? Find(ushort vid) => _vlans.TryGetValue(vid, out var v) ? v : null;

    /// <summary>As `bridge vlan show` prints a group: "1 PVID Egress Untagged, 10".</summary>
    public override string ToString() => _vlans.Count == 0 ? "none" : string.Join(", ", _vlans.Values.Select(v =>
        $"{v.Vid}{(v.Vid == Pvid ? " PVID" : "")}{(v.Untagged ? " Egress Untagged" : "")}"));
}

/// <summary>A bridge's VLAN options (IFLA_BR_VLAN_FILTERING, IFLA_BR_VLAN_PROTOCOL, IFLA_BR_VLAN_DEFAULT_PVID).</summary>
public sealed record BrVlanOptions(bool Filtering, ushort Protocol, ushort DefaultPvid)
{
    public static readonly BrVlanOptions Default = new(false, Wire.EtherTypes.Vlan, 1);

    public string ProtocolName => Protocol == Wire.EtherTypes.QinQ ? "802.1ad" : "802.1Q";
}
