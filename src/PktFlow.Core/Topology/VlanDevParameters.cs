namespace PktFlow.Topology;

/// <summary>
/// An 802.1Q VLAN device's parameters (struct vlan_dev_priv): the lower device it is stacked on
/// (real_dev), its VID and the tag protocol it receives and pushes (ETH_P_8021Q or ETH_P_8021AD).
/// </summary>
public sealed record VlanDevParameters(string Lower, ushort Id, ushort Protocol)
{
    public override string ToString() => $"link {Lower} id {Id} protocol {(Protocol == Wire.EtherTypes.QinQ ? "802.1ad" : "802.1Q")}";
}
