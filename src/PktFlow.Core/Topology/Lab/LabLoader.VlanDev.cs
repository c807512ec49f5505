using PktFlow.Wire;

namespace PktFlow.Topology.Lab;

public sealed partial class LabLoader
{
    /// <summary>
    /// `ip link add link DEV name NAME type vlan id N [protocol 802.1Q|802.1ad]`: the words after
    /// `type vlan`. Header reordering, GVRP/MVRP and the priority maps do not change which device
    /// receives or sends a frame; they are kept as unmodelled lines.
    /// </summary>
    private void AddVlan(NamespaceBuilder b, string name, string? link, List<string> options, MacAddress? mac, int? mtu)
    {
        if (link is null) throw Error("a VLAN device needs 'link DEV' (its lower device)");
        int? id = null;
        ushort protocol = EtherTypes.Vlan;
        var other = new List<string>();
        for (int i = 0; i < options.Count; i++)
        {
            switch (options[i])
            {
                case "id": id = ParseInt(Need(options, ++i, "VLAN id")); break;
                case "protocol": protocol = VlanProtocol(Need(options, ++i, "802.1Q or 802.1ad"), "vlan protocol"); break;
                default: other.Add(options[i]); break;
            }
        }
        if (id is not { } vid) throw Error("type vlan needs 'id N'");
        if (vid is < 0 or > 4094) throw Error("vlan id is 0-4094 (RTNETLINK answers: Numerical result out of range)", vid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        b.AddVlanDevice(name, link, (ushort)vid, protocol, mac, mtu);
        if (other.Count > 0) b.NoteUnmodelled($"{_file}:{_cmd.Line}: vlan {name} options {string.Join(' ', other)}");
    }

    /// <summary>A VLAN tag protocol as ip link writes it (a bridge's vlan_protocol, a VLAN device's protocol).</summary>
    private ushort VlanProtocol(string word, string what) => word.ToLowerInvariant() switch
    {
        "802.1q" => EtherTypes.Vlan, "802.1ad" => EtherTypes.QinQ,
        _ => throw Error($"{what} is 802.1Q or 802.1ad (RTNETLINK answers: Protocol not supported)", word),
    };
}
