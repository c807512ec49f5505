using PktFlow.Wire;

namespace PktFlow.Topology.Lab;

public sealed partial class LabLoader
{
    /// <summary>
    /// `ip link add NAME link DEV [address MAC] type macvlan [mode private|vepa|bridge|passthru|source]
    /// [macaddr add|set MAC...]`: the words after `type macvlan`. ip link's default mode is vepa (the
    /// kernel's, when IFLA_MACVLAN_MODE is absent). Options that change what the port delivers and the
    /// model does not evaluate (nopromisc, bcqueuelen, bclim, flag) are refused. The macvlan is made in
    /// <paramref name="b"/>, its lower device looked up in <paramref name="lowerB"/> (they differ with `netns`).
    /// </summary>
    private void AddMacvlan(NamespaceBuilder b, NamespaceBuilder lowerB, string name, string? link, List<string> options, MacAddress? mac, int? mtu)
    {
        if (link is null) throw Error("a macvlan needs 'link DEV' (its lower device)");
        var mode = MacvlanMode.Vepa;
        var sources = new List<MacAddress>();
        for (int i = 0; i < options.Count; i++)
        {
            switch (options[i])
            {
                case "mode": mode = ModeWord(Need(options, ++i, "macvlan mode")); break;
                case "macaddr":
                    i = MacvlanMacaddr(options, i + 1, sources) - 1;
                    break;
                default:
                    throw Error(MacvlanWords.UnsupportedOption(options[i]), options[i]);
            }
        }
        if (sources.Count > 0 && mode != MacvlanMode.Source) throw Error("macaddr is only for mode source (RTNETLINK answers: Invalid argument)");
        // as for `ip link set`: a lower device the lab never created is a NIC the host has (Docker's parent eth0)
        if (!lowerB.HasDevice(link)) lowerB.AddDevice(link, DeviceKind.Physical);
        var siblings = _namespaces.Values.SelectMany(n => n.MacvlansOn(lowerB.Name, link)).ToList();
        b.AddMacvlanDevice(name, lowerB, link, mode, sources, mac, mtu, siblings);
    }

    private MacvlanMode ModeWord(string m) => MacvlanWords.Mode(m) ?? throw Error(MacvlanWords.BadMode, m);

    /// <summary>`macaddr add|del|set|flush MAC...` from <paramref name="i"/> (after the word macaddr); returns the index after it.</summary>
    private int MacvlanMacaddr(List<string> a, int i, List<MacAddress> sources)
    {
        var op = Need(a, i, "add, del, set or flush");
        switch (op)
        {
            case "add": sources.Add(ParseMac(Need(a, i + 1, "MAC address"))); return i + 2;
            case "del": sources.Remove(ParseMac(Need(a, i + 1, "MAC address"))); return i + 2;
            case "flush": sources.Clear(); return i + 1;
            case "set":
                sources.Clear();
                int j = i + 1;
                for (; j < a.Count && a[j].Contains(':', StringComparison.Ordinal); j++) sources.Add(ParseMac(a[j]));
                return j;
            default: throw Error("macaddr takes add, del, set or flush", op);
        }
    }

    /// <summary>`ip link set DEV type macvlan [mode M] [macaddr ...]` on an existing macvlan.</summary>
    private int MacvlanChange(List<string> a, int i, NamespaceBuilder b, string dev)
    {
        if (b.MacvlanOf(dev) is not { } mv) throw Error($"{dev} is not a macvlan device", dev);
        var sources = mv.SourceMacs.ToList();
        var mode = mv.Mode;
        for (; i < a.Count; i++)
        {
            if (a[i] == "mode")
            {
                var m = Need(a, ++i, "macvlan mode");
                var next = ModeWord(m);
                // macvlan_changelink: passthru is only given at creation, and kept
                if ((mode == MacvlanMode.Passthru) != (next == MacvlanMode.Passthru)) throw Error("passthru is a macvlan's mode from creation on (RTNETLINK answers: Invalid argument)", m);
                mode = next;
            }
            else if (a[i] == "macaddr") i = MacvlanMacaddr(a, i + 1, sources) - 1;
            else throw Error(MacvlanWords.UnsupportedOption(a[i]), a[i]);
        }
        b.SetMacvlan(dev, mv with { Mode = mode, SourceMacs = sources });
        return i;
    }

    /// <summary>Whether a device is the lower device of a macvlan anywhere (it is referred to by name: not renamed by the model).</summary>
    private bool IsMacvlanLower(NamespaceBuilder b, string dev) => _namespaces.Values.Any(n => n.MacvlansOn(b.Name, dev).Any());
}
