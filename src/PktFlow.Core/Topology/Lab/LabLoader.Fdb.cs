using PktFlow.Wire;

namespace PktFlow.Topology.Lab;

public sealed partial class LabLoader
{
    /// <summary>
    /// `bridge [-n NS] fdb add|replace|del MAC dev PORT master [permanent|local|static|temp|dynamic]`: an
    /// entry of the bridge's FDB. Returns false for what stays recorded as not modelled: entries
    /// without `master` (iproute2 then sends NTF_SELF: the device's own address list), `self`, `vlan`,
    /// tunnel attributes (dst, vni, ...) and flags such as sticky or extern_learn.
    /// </summary>
    private bool BridgeFdb(List<string> w, string ns)
    {
        int i = BridgeNetns(w, ref ns);
        if (i + 1 >= w.Count || w[i] != "fdb" || w[i + 1] is not ("add" or "replace" or "del" or "delete")) return false;
        var verb = w[i + 1];
        var mac = ParseMac(Need(w, i + 2, "MAC address"));
        string? dev = null;
        bool master = false;
        FdbState state = FdbState.Permanent; // iproute2's default for a master entry, as `bridge fdb show` lists it
        for (i += 3; i < w.Count; i++)
        {
            switch (w[i])
            {
                case "dev": dev = Need(w, ++i, "device"); break;
                case "master": master = true; break;
                case "permanent" or "local": state = FdbState.Permanent; break;
                case "static" or "temp": state = FdbState.Static; break;
                case "dynamic": state = FdbState.Dynamic; break;
                default: return false;
            }
        }
        if (dev is null) throw Error("expected 'dev DEVICE'");
        if (!master) return false;
        var b = _namespaces[ns];
        if (!b.HasDevice(dev)) throw Error($"Cannot find device \"{dev}\"", dev);
        if (verb is "del" or "delete") b.DeleteFdb(mac, dev);
        else b.AddFdb(new FdbEntry(mac, dev, state, $"{_file}:{_cmd.Line}"), replace: verb == "replace");
        return true;
    }
}
