using System.Globalization;
using PktFlow.Wire;

namespace PktFlow.Topology.Snapshot;

/// <summary>
/// The parts of a snapshot the model does not evaluate yet (bridge VLANs, tunnel FDB entries it cannot take, an
/// nftables ruleset that cannot be loaded, iptables-save output), turned into "unmodelled
/// configuration" lines that name the file: one line per entry an administrator made. What the kernel
/// makes by itself (a bridge's entries for its own MACs, devices' multicast lists, the default VLAN)
/// and caches (learned neighbours and FDB entries) are left out, so a namespace without configuration
/// of its own has none. Also the static neighbours (`ip -j neigh`), a bridge's static FDB entries and
/// the socket table (`ss -tulnHe`).
/// </summary>
internal static class SnapshotConfiguration
{
    /// <summary>
    /// `ip -j neigh`: entries an administrator made (PERMANENT, NOARP) become the namespace's static
    /// entries; learned ones are a cache of the moment the snapshot was taken and are learned again
    /// from the capture. Proxy entries (neigh-proxy.json: `ip -j neigh show proxy` prints `"proxy": null`) become proxy entries (arp_process answers for them).
    /// </summary>
    public static List<Neighbour> Neighbours(SnapshotJson root, List<string> unmodelled)
    {
        var entries = new List<Neighbour>();
        foreach (var n in root.Items())
        {
            if (n.HasFlag("proxy"))
            {
                var (pdst, pdev) = (n.Req("dst", "an address").Address(), n.Req("dev", "a device name").Text());
                if (pdst.IsV6) unmodelled.Add($"{n.File}: {n.Path}: IPv6 proxy neighbour {pdst} dev {pdev} (proxy_ndp is not modelled)");
                else entries.Add(new Neighbour(pdev, pdst, null, Neighbour.ProxyState));
                continue;
            }
            var states = n.Opt("state")?.Strings() ?? [];
            var state = states.FirstOrDefault(s => s is "PERMANENT" or "NOARP");
            if (state is null) continue;
            var dst = n.Req("dst", "an address").Address();
            var dev = n.Req("dev", "a device name").Text();
            MacAddress? mac = n.Opt("lladdr") is { } ll
                ? MacAddress.TryParse(ll.Text(), out var m) ? m : throw ll.Error("a MAC address")
                : null;
            entries.Add(new Neighbour(dev, dst, mac, state.ToLowerInvariant()));
        }
        return entries;
    }

    /// <summary>
    /// `bridge -j fdb`: a bridge port's static and permanent entries (`master`, no VLAN, no flags) become
    /// the namespace's FDB entries; a modelled vxlan device's own entries go to <paramref name="vxlanFdb"/>
    /// (SnapshotTunnels.VxlanFdb); other tunnel entries and entries with a VLAN or flags are named, not evaluated. Left out: learned entries, a bridge's entries for its own ports' MACs, and `self`
    /// entries of plain devices (their unicast and multicast address lists, filled by the kernel).
    /// </summary>
    public static List<FdbEntry> Fdb(SnapshotJson root, IReadOnlySet<MacAddress> ownMacs,
        IReadOnlyDictionary<string, VxlanParameters?> vxlans, List<VxlanFdbEntry> vxlanFdb, List<string> unmodelled)
    {
        var entries = new List<FdbEntry>();
        foreach (var e in root.Items())
        {
            var macText = e.Req("mac", "a MAC address").String();
            var flags = e.Opt("flags")?.Strings() ?? [];
            var state = e.Opt("state")?.Text() ?? "";
            var dev = e.Req("ifname", "a device name").Text();
            bool tunnel = e.Has("dst") || e.Has("vni") || e.Has("src_vni");
            bool master = e.Has("master");
            if (!master && vxlans.TryGetValue(dev, out var vxlan) && vxlan is not null)
            {
                if (SnapshotTunnels.VxlanFdb(e, dev, vxlan, unmodelled) is { } v) vxlanFdb.Add(v);
                continue;
            }
            if (!tunnel)
            {
                if (!master) continue;                                 // self: the device's own address lists
                if (state is not ("static" or "permanent")) continue;  // learned
                var mac = MacAddress.TryParse(macText, out var m) ? m : throw e.Req("mac", "a MAC address").Error("a MAC address");
                if (state == "permanent" && ownMacs.Contains(mac)) continue;
                if (!e.Has("vlan") && flags.Count == 0 && e.Opt("master")?.Text() != dev)
                {
                    entries.Add(new FdbEntry(mac, dev, state == "static" ? FdbState.Static : FdbState.Permanent, $"{e.File}: {e.Path}"));
                    continue;
                }
            }
            var text = $"fdb {macText} dev {dev}";
            foreach (var key in new[] { "vlan", "dst", "port", "vni", "src_vni", "via", "master" })
                if (e.Opt(key) is { } v) text += $" {key} {v.Text()}";
            if (state.Length > 0) text += " " + state;
            if (flags.Count > 0) text += " " + string.Join(' ', flags);
            unmodelled.Add($"{e.File}: {e.Path}: {text}");
        }
        return entries;
    }

    /// <summary>
    /// `bridge -j vlan`: each port's VLANs and the bridge's own (`self`), with their flags ("PVID",
    /// "Egress Untagged") and ranges (vlanEnd), by device name.
    /// </summary>
    public static Dictionary<string, (List<BrVlan> Vlans, ushort Pvid)> Vlans(SnapshotJson root)
    {
        var groups = new Dictionary<string, (List<BrVlan>, ushort)>(StringComparer.Ordinal);
        foreach (var port in root.Items())
        {
            var name = port.Req("ifname", "a device name").Text();
            var list = new List<BrVlan>();
            ushort pvid = 0;
            foreach (var v in port.Opt("vlans")?.Items() ?? [])
            {
                var first = (ushort)v.Req("vlan", "a VLAN id").Int(1, 4094);
                var last = v.Opt("vlanEnd") is { } end ? (ushort)end.Int(first, 4094) : first;
                var flags = v.Opt("flags")?.Strings() ?? [];
                if (flags.Contains("PVID")) pvid = first;
                for (int vid = first; vid <= last; vid++) list.Add(new BrVlan((ushort)vid, flags.Contains("Egress Untagged")));
            }
            groups[name] = (list, pvid);
        }
        return groups;
    }

    /// <summary>`nft -j list ruleset`: one line per table, chain, rule, set, map, ... (metainfo left out).</summary>
    public static void Nftables(SnapshotJson root, List<string> unmodelled)
    {
        foreach (var item in root.Req("nftables", "the array nft -j prints").Items())
        {
            var members = item.Members().ToList();
            if (members.Count != 1) throw item.Error("an object with one member (table, chain, rule, ...)");
            var (kind, o) = members[0];
            if (kind == "metainfo") continue;
            string Get(string key) => o.Opt(key)?.Text() ?? "?";
            var text = kind switch
            {
                "table" => $"table {Get("family")} {Get("name")}",
                "chain" => $"chain {Get("family")} {Get("table")} {Get("name")}"
                           + (o.Has("hook") ? $" {{ type {Get("type")} hook {Get("hook")}{(o.Has("dev") ? $" device {Get("dev")}" : "")} priority {Get("prio")}; policy {Get("policy")}; }}" : ""),
                "rule" => $"rule {Get("family")} {Get("table")} {Get("chain")} handle {Get("handle")}: {o.Opt("expr")?.Compact() ?? "[]"}"
                          + (o.Opt("comment") is { } c ? $" comment \"{c.Text()}\"" : ""),
                _ => $"{kind} {o.Compact()}",
            };
            unmodelled.Add($"{item.File}: {item.Path}: {text}");
        }
    }

    /// <summary>
    /// iptables-save / ip6tables-save: rules, user chains and built-in chains whose policy is not ACCEPT,
    /// each with its table. iptables-nft's warning that legacy tables exist becomes a line and a warning:
    /// those rules are in force but not in the file.
    /// </summary>
    public static void IptablesSave(string[] lines, string file, List<string> unmodelled, List<string> warnings)
    {
        string table = "filter";
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            string where = $"{file}:{i + 1}";
            if (line.Length == 0 || line == "COMMIT") continue;
            if (line.StartsWith('#'))
            {
                if (line.Contains("legacy", StringComparison.OrdinalIgnoreCase))
                {
                    unmodelled.Add($"{where}: {line.TrimStart('#', ' ')}");
                    warnings.Add($"{where}: {line.TrimStart('#', ' ')}: those rules are not in the snapshot");
                }
                continue;
            }
            if (line.StartsWith('*')) { table = line[1..]; continue; }
            if (line.StartsWith(':'))
            {
                var parts = line[1..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 2) throw new SnapshotException(file, null, i + 1, $"expected ':CHAIN POLICY [packets:bytes]', got '{line}'");
                if (parts[1] == "-") unmodelled.Add($"{where}: -t {table} -N {parts[0]}");
                else if (parts[1] != "ACCEPT") unmodelled.Add($"{where}: -t {table} -P {parts[0]} {parts[1]}");
                continue;
            }
            unmodelled.Add($"{where}: -t {table} {line}");
        }
    }

    /// <summary>
    /// `ss -tulnHe`: TCP listeners and bound UDP sockets. `*` is an IPv6 socket that also takes IPv4
    /// (v6only off); `[::]` one that does not. A socket bound to a device (`0.0.0.0%lo:53`) is kept
    /// with a line saying the device binding is not modelled.
    /// </summary>
    public static List<ListeningSocket> Sockets(string[] lines, string file, List<string> unmodelled)
    {
        var sockets = new List<ListeningSocket>();
        foreach (var (f, line, Bad) in SnapshotConnectedSockets.Lines(lines, file))
        {
            var protocol = f[0] == "tcp" ? SocketProtocol.Tcp : SocketProtocol.Udp;
            var local = f[4];
            if (!SnapshotConnectedSockets.TryEndpoint(local, out var bind, out var port, out var device))
                throw Bad("a local ADDRESS:PORT in the fifth column");
            IpFamily? family = bind?.Family;
            var source = $"{file}:{line}";
            // ss -e adds uid:N (left out for root) for a socket opened by another user: its owner;
            // and fwmark:0xN for a socket with SO_MARK (the mark of its SYN-ACKs and connections)
            uint uid = 0, mark = 0;
            foreach (var x in f.Skip(6))
            {
                if (x.StartsWith("uid:", StringComparison.Ordinal) && uint.TryParse(x[4..], NumberStyles.None, CultureInfo.InvariantCulture, out var u)) uid = u;
                if (x.StartsWith("fwmark:0x", StringComparison.Ordinal) && uint.TryParse(x[9..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var m)) mark = m;
            }
            // a listener ss lists belongs to a server whose program is not known: it keeps listening after
            // an accept (as a forking server does), rather than closing as socat without fork would
            sockets.Add(new ListeningSocket(protocol, port, bind, family, source + ": ss") { Uid = uid, Gid = null, Mark = mark, Fork = protocol == SocketProtocol.Tcp });
            if (device is not null)
                unmodelled.Add($"{source}: {f[0]} socket {local} is bound to device {device}; the binding is not modelled (it takes packets from any device)");
        }
        return sockets;
    }
}
