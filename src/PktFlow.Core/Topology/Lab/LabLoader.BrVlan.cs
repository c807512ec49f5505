using System.Globalization;

namespace PktFlow.Topology.Lab;

public sealed partial class LabLoader
{
    /// <summary>
    /// `bridge [-n NS] vlan add|del dev DEV vid N[-M] [pvid] [untagged] [self] [master]` (and `bridge vlan
    /// show`, which changes nothing). Returns false for the other `bridge vlan` commands (set, tunnel
    /// and global options), which stay recorded as not modelled.
    /// </summary>
    private bool BridgeVlan(List<string> w, string ns)
    {
        int i = BridgeNetns(w, ref ns);
        while (i < w.Count && w[i] is "-j" or "-json" or "-d" or "-details" or "-s" or "-c" or "-compressvlans") i++;
        if (i >= w.Count || w[i] is not ("vlan" or "v")) return false;
        var verb = i + 1 < w.Count ? w[i + 1] : "show";
        if (verb is "show" or "list" or "ls" or "s") return true;
        if (verb is not ("add" or "del" or "delete" or "a" or "d")) return false;
        string? dev = null;
        ushort? first = null, last = null;
        bool pvid = false, untagged = false, self = false;
        for (i += 2; i < w.Count; i++)
        {
            switch (w[i])
            {
                case "dev": dev = Need(w, ++i, "device"); break;
                case "vid":
                    var text = Need(w, ++i, "VLAN id");
                    var dash = text.IndexOf('-');
                    first = VlanId(dash < 0 ? text : text[..dash]);
                    last = dash < 0 ? first : VlanId(text[(dash + 1)..]);
                    break;
                case "pvid": pvid = true; break;
                case "untagged": untagged = true; break;
                case "self": self = true; break;
                case "master": break;
                default: return false; // tunnel_info, ... : not modelled
            }
        }
        if (dev is null) throw Error("bridge vlan needs 'dev DEVICE'");
        if (first is null) throw Error("bridge vlan needs 'vid VLAN_ID'");
        var b = _namespaces[ns];
        if (!b.HasDevice(dev)) throw Error($"Cannot find device \"{dev}\"", dev);
        b.BridgeVlan(dev, add: verb is "add" or "a", first.Value, last!.Value, pvid, untagged, self);
        return true;
    }

    private ushort VlanId(string text) =>
        ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v < 4096 ? v : throw Error("invalid VLAN id", text);
}
