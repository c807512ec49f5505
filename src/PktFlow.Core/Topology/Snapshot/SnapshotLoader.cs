using System.Text.Json;
using PktFlow.Wire;

namespace PktFlow.Topology.Snapshot;

/// <summary>
/// Builds a <see cref="HostTopology"/> from a host snapshot written by scripts/pktflow-collect.sh
/// (format in scripts/README.md). A snapshot is ground truth: devices, addresses and the routes of
/// every table are taken exactly as the kernel listed them (nothing is derived, unlike a lab), sysctls
/// as `sysctl -a` read them, policy rules, static neighbours, bridge ports' static FDB entries,
/// listening sockets from `ss`, the nftables ruleset, vxlan devices with their own FDB and macvlans
/// (SnapshotTunnels). What the model does not evaluate (VLANs, tunnel options the lab loader refuses,
/// rules with selectors it lacks, iptables-save text) becomes the namespace's
/// unmodelled configuration, one line per entry, naming the file. Errors name the file, the JSON path
/// or line, and what was expected.
/// </summary>
public static class SnapshotLoader
{
    /// <summary>The folder of the namespace the collector ran in (normally the root namespace).</summary>
    public const string HostFolder = "host";

    /// <summary>Files every namespace folder must have.</summary>
    public static readonly IReadOnlyList<string> RequiredFiles = ["link.json", "addr.json", "route4.json", "route6.json"];

    /// <summary>Files a namespace folder has unless the manifest says why not (tool missing or failed).</summary>
    public static readonly IReadOnlyList<string> OptionalFiles =
        ["rule4.json", "rule6.json", "neigh.json", "fdb.json", "vlan.json", "nft.json", "iptables.txt", "ip6tables.txt", "ss.txt", "sysctl.txt", "netns.json", "tc-qdisc.json", "tc-filter.txt"];

    public static HostTopology Load(string dir) => Load(dir, null);

    /// <param name="options">Null: <see cref="TopologyLoadOptions.Strict"/>: an nft.json rule the model cannot
    /// evaluate, or a ruleset it cannot load, refuses the snapshot naming the file and JSON path.</param>
    public static HostTopology Load(string dir, TopologyLoadOptions? options)
    {
        options ??= TopologyLoadOptions.Strict;
        if (!Directory.Exists(dir)) throw new SnapshotException(dir, "no such directory (expected a snapshot folder written by scripts/pktflow-collect.sh)");
        var manifest = SnapshotManifest.Read(dir);
        if (manifest.Namespaces.Count == 0)
            throw new SnapshotException(SnapshotManifest.FileName, "the snapshot holds no namespace (did -p match none, with -H?)");
        var context = new Context(dir, manifest, ReadTableNames(dir), options.AllowUnsupported);
        var parsed = manifest.Namespaces.Select(context.Namespace).ToList();
        ResolvePeers(parsed, context.Warnings);
        ResolveMacvlanLowers(parsed);
        var namespaces = parsed.Select(p => p.Build()).ToList();
        return new HostTopology(namespaces, dir, context.Warnings);
    }

    /// <summary>rt_tables.txt: the iproute2 table names of the host (`100 vpn`), so `"table": "vpn"` can be read.</summary>
    private static Dictionary<string, uint> ReadTableNames(string dir)
    {
        var names = new Dictionary<string, uint>(StringComparer.Ordinal);
        var path = Path.Combine(dir, "rt_tables.txt");
        if (!File.Exists(path)) return names;
        var lines = File.ReadAllLines(path);
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var f = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 2 || !TryParseNumber(f[0], out var id))
                throw new SnapshotException("rt_tables.txt", null, i + 1, $"expected 'ID NAME', got '{line}'");
            names.TryAdd(f[1], id);
        }
        return names;
    }

    private static bool TryParseNumber(string s, out uint value) =>
        s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.TryParse(s.AsSpan(2), System.Globalization.NumberStyles.HexNumber, null, out value)
            : uint.TryParse(s, out value);

    /// <summary>A device as link.json lists it, with what veth peer resolution needs.</summary>
    private sealed class DeviceRecord
    {
        public required NetDevice Device;
        public required string File;
        public string? LinkName;
        public int? LinkIndex, LinkNetnsId;
        public string? Peer, PeerNamespace;
        /// <summary>A macvlan's mode and sources; its lower device is resolved with the veth peers.</summary>
        public SnapshotTunnels.MacvlanConfig? MacvlanConfig;
        public MacvlanParameters? Macvlan;
        /// <summary>"FILE: [N]", to name the device in what is not modelled.</summary>
        public string Where = "";
    }

    private sealed class NamespaceRecord
    {
        public required string Name;
        public required NamespaceBuilder Builder;
        public readonly List<DeviceRecord> Devices = new();
        /// <summary>netns.json: the ids this namespace gives the named namespaces it sees.</summary>
        public readonly Dictionary<int, string> NsIds = new();
        /// <summary>Addresses wait for their devices, which wait for peer resolution.</summary>
        public readonly List<InterfaceAddress> Addresses = new();
        /// <summary>Policy rules per family as listed; a family without a rule file keeps the kernel's defaults.</summary>
        public readonly Dictionary<IpFamily, List<Routing.FibRule>> Rules = new();
        public readonly List<Neighbour> Neighbours = new();
        public readonly List<FdbEntry> Fdb = new();
        /// <summary>The vxlan devices' own FDB entries (`self` with `dst`), each remote a row as `bridge fdb` lists them.</summary>
        public readonly List<VxlanFdbEntry> VxlanFdb = new();
        /// <summary>`bridge -j vlan`: each device's VLANs and PVID.</summary>
        public Dictionary<string, (List<BrVlan> Vlans, ushort Pvid)> Vlans = new();

        public NetNamespace Build()
        {
            foreach (var d in Devices)
                Builder.AddListedDevice(new NetDevice
                {
                    Name = d.Device.Name, IfIndex = d.Device.IfIndex, Kind = d.Device.Kind, Mac = d.Device.Mac, Mtu = d.Device.Mtu,
                    IsUp = d.Device.IsUp, Master = d.Device.Master, Peer = d.Peer, PeerNamespace = d.PeerNamespace, VlanDev = d.Device.VlanDev,
                    Vxlan = d.Device.Vxlan, Macvlan = d.Macvlan, Stp = d.Device.Stp,
                });
            foreach (var a in Addresses) Builder.AddListedAddress(a);
            foreach (var (family, rules) in Rules) Builder.SetListedRules(family, rules);
            foreach (var n in Neighbours) Builder.AddNeighbour(n);
            foreach (var d in Devices)
                if (Vlans.TryGetValue(d.Device.Name, out var g) || d.Device.Kind == DeviceKind.Bridge)
                    Builder.SetListedVlans(d.Device.Name, g.Vlans ?? [], g.Pvid, d.Device.VlanOptions);
            foreach (var f in Fdb) Builder.AddListedFdb(f);
            foreach (var v in VxlanFdb) Builder.AddVxlanFdb(v, "append");
            return Builder.Build();
        }
    }

    private sealed class Context(string dir, SnapshotManifest manifest, Dictionary<string, uint> tableNames, bool allowUnsupported)
    {
        public readonly List<string> Warnings = new();
        private List<string> _unmodelled = null!;
        /// <summary>The parsed files of the namespace being read; everything is copied out before they go.</summary>
        private readonly List<JsonDocument> _documents = new();

        public NamespaceRecord Namespace(string name)
        {
            try
            {
                return ReadNamespace(name);
            }
            finally
            {
                foreach (var d in _documents) d.Dispose();
                _documents.Clear();
            }
        }

        private NamespaceRecord ReadNamespace(string name)
        {
            if (!Directory.Exists(Path.Combine(dir, name)))
                throw new SnapshotException(name + "/", "missing: the manifest lists this namespace but its folder is not in the snapshot");
            var ns = new NamespaceRecord { Name = name, Builder = NamespaceBuilder.AsListed(name, allowUnsupported) };
            _unmodelled = new List<string>();

            Links(ns, Json(name, "link.json", required: true)!.Value);
            var known = ns.Devices.Select(d => d.Device.Name).ToHashSet(StringComparer.Ordinal);
            Addresses(Json(name, "addr.json", required: true)!.Value, known, ns.Addresses);
            Routes(ns, name, "route4", IpFamily.V4, known);
            Routes(ns, name, "route6", IpFamily.V6, known);
            if (Text(name, "sysctl.txt") is { } sysctl) Sysctls(ns, sysctl, $"{name}/sysctl.txt");
            if (Json(name, "netns.json", required: false) is { } ids) NamespaceIds(ns, ids);

            // nexthop.json came later than the other files: a snapshot without it predates it.
            if (File.Exists(Path.Combine(dir, name, "nexthop.json")) && Json(name, "nexthop.json", required: false) is { } nh) Nexthops(ns, nh);
            if (Json(name, "rule4.json", required: false) is { } r4) ns.Rules[IpFamily.V4] = SnapshotRules.Rules(r4, IpFamily.V4, Table, _unmodelled);
            if (Json(name, "rule6.json", required: false) is { } r6) ns.Rules[IpFamily.V6] = SnapshotRules.Rules(r6, IpFamily.V6, Table, _unmodelled);
            if (Json(name, "neigh.json", required: false) is { } neigh) ns.Neighbours.AddRange(SnapshotConfiguration.Neighbours(neigh, _unmodelled));
            // neigh-proxy.json came later (`ip neigh show` never lists proxy entries): a snapshot without it predates it
            if (File.Exists(Path.Combine(dir, name, "neigh-proxy.json")) && Json(name, "neigh-proxy.json", required: false) is { } proxy)
                ns.Neighbours.AddRange(SnapshotConfiguration.Neighbours(proxy, _unmodelled));
            if (Json(name, "fdb.json", required: false) is { } fdb)
                ns.Fdb.AddRange(SnapshotConfiguration.Fdb(fdb, ns.Devices.Select(d => d.Device.Mac).ToHashSet(),
                    ns.Devices.Where(d => d.Device.Kind == DeviceKind.Vxlan).ToDictionary(d => d.Device.Name, d => d.Device.Vxlan), ns.VxlanFdb, _unmodelled));
            if (Json(name, "vlan.json", required: false) is { } vlan) ns.Vlans = SnapshotConfiguration.Vlans(vlan);
            // tc-qdisc.json and tc-filter.txt came later: without them tc stays not modelled
            if (File.Exists(Path.Combine(dir, name, "tc-qdisc.json")) && File.Exists(Path.Combine(dir, name, "tc-filter.txt"))
                && Json(name, "tc-qdisc.json", required: false) is { } qdiscs && Text(name, "tc-filter.txt") is { } filters)
                Tc(ns, name, qdiscs, filters);
            var (ipt4, ipt6) = (Text(name, "iptables.txt"), Text(name, "ip6tables.txt"));
            // ipset.txt came later than the other files: a snapshot without it predates it
            if (File.Exists(Path.Combine(dir, name, "ipset.txt")) && Text(name, "ipset.txt") is { } ipset) Ipsets(ns, ipset, $"{name}/ipset.txt");
            IReadOnlySet<(string, string)> fromSave = new HashSet<(string, string)>();
            if (Json(name, "nft.json", required: false) is { } nft) fromSave = Nftables(ns, name, nft, ipt4, ipt6);
            foreach (var (file, lines, family) in new[] { ("iptables.txt", ipt4, "ip"), ("ip6tables.txt", ipt6, "ip6") })
                if (lines is not null) SnapshotConfiguration.IptablesSave(SnapshotIptablesNft.Others(lines, family, fromSave), $"{name}/{file}", _unmodelled, Warnings);
            if (Text(name, "ss.txt") is { } ss)
            {
                ns.Builder.DeclareSocketTable();
                // ss lists the kernel's socket of an up vxlan device (vxlan_sock_add, wildcard): the model's device holds it
                var vxlanPorts = ns.Devices.Where(d => d.Device.Vxlan is not null && d.Device.IsUp).Select(d => (int)d.Device.Vxlan!.DstPort).ToHashSet();
                foreach (var s in SnapshotConfiguration.Sockets(ss, $"{name}/ss.txt", _unmodelled))
                    if (!(s.Protocol == SocketProtocol.Udp && vxlanPorts.Contains(s.Port) && (s.BindAddress is not { } a || a == IpAddr.V4(0) || a == IpAddr.V6(0, 0))))
                        ns.Builder.AddSocket(s);
            }
            // ss-connected.txt came later than ss.txt: a snapshot without it predates it
            if (File.Exists(Path.Combine(dir, name, SnapshotConnectedSockets.FileName)) && Text(name, SnapshotConnectedSockets.FileName) is { } connected)
                foreach (var s in SnapshotConnectedSockets.Parse(connected, $"{name}/{SnapshotConnectedSockets.FileName}")) ns.Builder.AddClientSocket(s);

            foreach (var line in _unmodelled) ns.Builder.NoteUnmodelled(line);
            return ns;
        }

        /// <summary>
        /// `ipset save`: the namespace's sets, read line by line as `ipset restore` would. A set the model
        /// cannot hold (another type, an option it does not know) is named as unmodelled configuration
        /// once, with the line that made it, and its elements are left out. A set one of whose elements the model
        /// cannot add is dropped whole: answering from part of its contents would be a guess.
        /// </summary>
        private void Ipsets(NamespaceRecord ns, string[] lines, string rel)
        {
            var skipped = new HashSet<string>();
            for (int i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.Length == 0 || line.StartsWith('#')) continue;
                var words = Lab.ShellWords.Split(line).FirstOrDefault()?.Words.ToList() ?? new List<string>();
                if (words.Count > 1 && skipped.Contains(words[1])) continue;
                try { ns.Builder.IpSets.Apply(words); }
                catch (Netfilter.Ipset.IpSetException e)
                {
                    if (words.Count > 1 && skipped.Add(words[1])) ns.Builder.IpSets.Forget(words[1]);
                    _unmodelled.Add($"{rel}:{i + 1}: {line} ({e.Message}; the set is not modelled)");
                }
            }
        }

        /// <summary>
        /// nft.json is the ruleset the kernel holds: it is loaded and evaluated, except the tables iptables-nft
        /// made, which are evaluated from iptables.txt / ip6tables.txt (<see cref="SnapshotIptablesNft"/>);
        /// returns those tables. A rule the model cannot evaluate refuses the snapshot, naming the file and
        /// JSON path; with AllowUnsupported it is kept as unsupported and named line by line. A ruleset the
        /// reader cannot load at all (not one rule's limit) is refused with what to collect instead; with
        /// AllowUnsupported it is listed object by object and said not to be evaluated.
        /// </summary>
        private IReadOnlySet<(string, string)> Nftables(NamespaceRecord ns, string name, SnapshotJson nft, string[]? ipt4, string[]? ipt6)
        {
            var rel = $"{name}/nft.json";
            nft.Req("nftables", "the array nft -j prints");
            var text = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(dir, rel)));
            if (!Netfilter.Nftables.NftRuleset.LooksLikeJson(text)) return new HashSet<(string, string)>(); // empty: no ruleset
            var split = SnapshotIptablesNft.Find(text, ipt4, ipt6);
            if (split is not null) text = split.NftJson;
            try
            {
                var rs = Netfilter.Nftables.NftRuleset.ParseJson(text, rel, new Netfilter.Nftables.NftLoadOptions { AllowUnsupported = allowUnsupported });
                if (rs.Tables.Count > 0) ns.Builder.AddNftSource(new NftSource(text, rel, 1) { Kind = "nft-json" });
                foreach (var r in rs.AllRules.Where(r => r.Unsupported is not null))
                    _unmodelled.Add($"{r.Unsupported} (rule {r.Chain} handle {r.Handle}, not evaluated)");
            }
            catch (Netfilter.Nftables.NftParseException e) when (!allowUnsupported)
            {
                // kept unsupported, a rule the model cannot evaluate would load: only then does -AllowUnsupported keep the rest
                bool oneRule = Loads(text, rel);
                throw new SnapshotException(rel, e.JsonPath, e.JsonPath is null ? e.Line : null, oneRule
                    ? $"{e.Reason} (load with -AllowUnsupported to keep such rules, marked unsupported)"
                    : $"{e.Reason}: nft.json cannot be read; collect the ruleset as text (`nft list ruleset`) and load it into a lab with `nft -f`, or load with -AllowUnsupported to list the ruleset unevaluated");
            }
            catch (Netfilter.Nftables.NftParseException e)
            {
                SnapshotConfiguration.Nftables(nft, _unmodelled);
                Warnings.Add($"{e.Message}: the nftables ruleset is not evaluated");
                return new HashSet<(string, string)>();
            }
            if (split is null) return new HashSet<(string, string)>();
            foreach (var (save, file, kind) in new[] { (split.Ipv4Save, "iptables.txt", "iptables"), (split.Ipv6Save, "ip6tables.txt", "ip6tables") })
            {
                if (save is null) continue;
                try
                {
                    var rs = Netfilter.Iptables.IptablesRestore.Load(save, $"{name}/{file}", kind == "ip6tables", new Netfilter.Iptables.IptablesLoadOptions { AllowUnsupported = allowUnsupported, IpSets = ns.Builder.IpSets });
                    foreach (var r in rs.AllRules.Where(r => r.Unsupported is not null))
                        _unmodelled.Add($"{r.Unsupported} (rule {r.Chain} handle {r.Handle}, not evaluated)");
                }
                catch (Netfilter.Iptables.IptablesParseException e)
                {
                    throw new SnapshotException($"{name}/{file}", null, e.Line, e.Message[(e.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..]
                        + (e.Refused ? "" : " (load with -AllowUnsupported to keep such rules, marked unsupported)"));
                }
                ns.Builder.AddNftSource(new NftSource(save, $"{name}/{file}", 1) { Kind = kind, Handles = kind == "iptables" ? split.Ipv4Handles : split.Ipv6Handles });
            }
            return split.Tables;
        }

        private static bool Loads(string text, string rel)
        {
            try { Netfilter.Nftables.NftRuleset.ParseJson(text, rel, new Netfilter.Nftables.NftLoadOptions { AllowUnsupported = true }); return true; }
            catch (Netfilter.Nftables.NftParseException) { return false; }
        }

        /// <summary>
        /// `tc -j qdisc show` names each device's clsact or ingress qdisc; tc-filter.txt lists their
        /// filters (Tc.TcShowParser). With an `ingress` qdisc the egress listing repeats the ingress
        /// block (ffff:fff3 resolves to ffff:) and is left out. The namespace's tc is then known.
        /// </summary>
        private void Tc(NamespaceRecord ns, string name, SnapshotJson qdiscs, string[] filterText)
        {
            var kinds = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var q in qdiscs.Items())
            {
                var kind = q.Req("kind", "a qdisc kind").Text();
                if (kind is "clsact" or "ingress") kinds[q.Req("dev", "a device name").Text()] = kind;
            }
            var parsed = PktFlow.Tc.TcShowParser.Parse(filterText);
            foreach (var (dev, kind) in kinds)
            {
                var dirs = kind == "ingress" ? new[] { PktFlow.Tc.TcDirection.Ingress } : new[] { PktFlow.Tc.TcDirection.Ingress, PktFlow.Tc.TcDirection.Egress };
                var filters = dirs.SelectMany(d => parsed.Filters.TryGetValue((dev, d), out var l) ? l : []).ToList();
                var problems = dirs.Where(d => parsed.Problems.ContainsKey((dev, d))).ToDictionary(d => d, d => $"{name}/tc-filter.txt: {parsed.Problems[(dev, d)]}");
                foreach (var (d, why) in problems) _unmodelled.Add($"tc {d.ToString().ToLowerInvariant()} filters of {dev} not evaluated: {why}");
                ns.Builder.AddListedTc(dev, kind, filters, problems);
            }
            ns.Builder.DeclareTcKnown();
        }

        /// <summary>Why a file is absent: the manifest's skipped/failed line, else null.</summary>
        private string? Explain(string rel) => manifest.Missing.TryGetValue(rel, out var why) ? why : null;

        private SnapshotJson? Json(string ns, string file, bool required)
        {
            var rel = $"{ns}/{file}";
            var bytes = Read(rel, required);
            if (bytes is null) return null;
            if (bytes.All(b => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t'))
            {
                // Some iproute2 versions print nothing at all for an empty dump; the files every
                // namespace has are never empty (there is always lo), so an empty one is damage.
                if (required) throw new SnapshotException(rel, "empty (expected the JSON array `ip -j` prints)");
                bytes = file == "nft.json" ? """{"nftables": []}"""u8.ToArray() : "[]"u8.ToArray();
            }
            var json = SnapshotJson.Parse(bytes, rel, out var document);
            _documents.Add(document);
            return json;
        }

        private string[]? Text(string ns, string file)
        {
            var bytes = Read($"{ns}/{file}", required: false);
            return bytes is null ? null : System.Text.Encoding.UTF8.GetString(bytes).Split('\n');
        }

        private byte[]? Read(string rel, bool required)
        {
            var path = Path.Combine(dir, rel);
            if (File.Exists(path)) return File.ReadAllBytes(path);
            var why = Explain(rel);
            if (why is null)
                throw new SnapshotException(rel, "missing, and the manifest does not say why (was the snapshot copied completely?)");
            if (required) throw new SnapshotException(rel, $"not in the snapshot ({why}); the namespace cannot be built without it");
            Warnings.Add($"{rel}: not in the snapshot ({why}); what it holds is unknown to the model");
            return null;
        }

        private void Links(NamespaceRecord ns, SnapshotJson root)
        {
            foreach (var l in root.Items())
            {
                var name = l.Req("ifname", "a device name").String();
                var ifindex = l.Req("ifindex", "a number").Int(1);
                var flags = l.Opt("flags")?.Strings() ?? [];
                var linkType = l.Opt("link_type")?.String();
                var info = l.Opt("linkinfo");
                var kindName = info?.Opt("info_kind")?.String();
                var kind = linkType == "loopback" ? DeviceKind.Loopback : kindName switch
                {
                    null => DeviceKind.Physical,
                    "veth" => DeviceKind.Veth,
                    "bridge" => DeviceKind.Bridge,
                    "dummy" => DeviceKind.Dummy,
                    "vlan" => DeviceKind.Vlan,
                    "vxlan" => DeviceKind.Vxlan,
                    "macvlan" => DeviceKind.Macvlan,
                    _ => DeviceKind.Other,
                };
                var mac = MacAddress.Zero;
                if (l.Opt("address") is { } address)
                {
                    // Tunnels print an IP address here (ipip "0.0.0.0"), InfiniBand 20 bytes: only Ethernet-like
                    // devices have a MAC the model uses.
                    if (MacAddress.TryParse(address.String(), out var m)) mac = m;
                    else if (linkType is "ether" or "loopback") throw address.Error("a MAC address");
                }
                if (ns.Devices.Any(d => d.Device.Name == name)) throw l.Req("ifname", "").Problem($"device '{name}' is listed twice");
                ns.Devices.Add(new DeviceRecord
                {
                    File = l.File,
                    Device = new NetDevice
                    {
                        Name = name, IfIndex = ifindex, Kind = kind, Mac = mac,
                        Mtu = l.Req("mtu", "a number").Int(0), IsUp = flags.Contains("UP"),
                        Group = l.Opt("group") is { } grp ? DevGroup(grp) : 0,
                        Master = l.Opt("master")?.String(),
                        VlanOptions = kind == DeviceKind.Bridge ? BridgeVlanOptions(info?.Opt("info_data")) : BrVlanOptions.Default,
                        Stp = kind == DeviceKind.Bridge ? BridgeAgeing(info?.Opt("info_data")) : BrStpConfig.Default,
                        VlanDev = kind == DeviceKind.Vlan && l.Opt("link_netnsid") is null && l.Opt("link")?.String() is { } lower
                            ? VlanDevOf(lower, info!.Value.Req("info_data", "the VLAN's id and protocol")) : null,
                        Vxlan = kind == DeviceKind.Vxlan ? SnapshotTunnels.Vxlan(l, name, _unmodelled) : null,
                    },
                    MacvlanConfig = kind == DeviceKind.Macvlan ? SnapshotTunnels.Macvlan(l, name, _unmodelled) : null,
                    Where = $"{l.File}: {l.Path}",
                    LinkName = l.Opt("link")?.String(),
                    LinkIndex = l.Opt("link_index")?.Int(0),
                    LinkNetnsId = l.Opt("link_netnsid")?.Int(0),
                });
                if (kind == DeviceKind.Vlan && ns.Devices[^1].Device.VlanDev is null)
                    _unmodelled.Add($"{l.File}: {l.Path}: {kindName} device {name} (its datapath is not modelled yet)");
                else if (kind == DeviceKind.Other)
                    _unmodelled.Add($"{l.File}: {l.Path}: {kindName} device {name} (kind '{kindName}' is not modelled; it behaves as a plain device)");
            }
        }

        /// <summary>`ip -d -j link`'s vlan info_data: id and protocol, on the lower device `link` (in the same namespace).</summary>
        /// <summary>`ip -j link`'s "group": "default" (0) or the number (a name from /etc/iproute2/group other than default is not known here).</summary>
        private static uint DevGroup(SnapshotJson g) => g.String() is var w && w == "default" ? 0
            : uint.TryParse(w, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n
            : throw g.Problem($"device group '{w}' is a name from the host's /etc/iproute2/group: write it as its number");

        private static VlanDevParameters VlanDevOf(string lower, SnapshotJson d) => new(lower,
            (ushort)d.Req("id", "a VLAN id").Int(0, 4094),
            d.Opt("protocol")?.String() == "802.1ad" ? EtherTypes.QinQ : EtherTypes.Vlan);

        /// <summary>`ip -d -j link`'s bridge info_data: ageing_time (centiseconds).</summary>
        private static BrStpConfig BridgeAgeing(SnapshotJson? data) =>
            data?.Opt("ageing_time") is { } a ? BrStpConfig.Default with { AgeingTimeNs = a.Integer(0, uint.MaxValue) * 10_000_000 } : BrStpConfig.Default;

        /// <summary>`ip -d -j link`'s bridge info_data: vlan_filtering, vlan_protocol, vlan_default_pvid.</summary>
        private static BrVlanOptions BridgeVlanOptions(SnapshotJson? data) => data is not { } d ? BrVlanOptions.Default : new(
            (d.Opt("vlan_filtering")?.Int(0, 1) ?? 0) == 1,
            d.Opt("vlan_protocol")?.String() == "802.1ad" ? EtherTypes.QinQ : EtherTypes.Vlan,
            (ushort)(d.Opt("vlan_default_pvid")?.Int(0, 4094) ?? 1));

        private void Addresses(SnapshotJson root, HashSet<string> known, List<InterfaceAddress> into)
        {
            foreach (var l in root.Items())
            {
                var dev = l.Req("ifname", "a device name").String();
                var infos = l.Opt("addr_info")?.Items().ToList() ?? [];
                if (!known.Contains(dev))
                {
                    if (infos.Count > 0)
                        Warnings.Add($"{l.File}: {l.Path}: device '{dev}' is not in link.json (it changed while the snapshot was taken); its addresses are left out");
                    continue;
                }
                foreach (var a in infos)
                {
                    var familyName = a.Req("family", "'inet' or 'inet6'").String();
                    IpFamily family;
                    if (familyName == "inet") family = IpFamily.V4;
                    else if (familyName == "inet6") family = IpFamily.V6;
                    else { Warnings.Add($"{a.File}: {a.Path}: {familyName} address on {dev} is not modelled"); continue; }
                    var local = a.Req("local", family == IpFamily.V4 ? "an IPv4 address" : "an IPv6 address").Address(family);
                    var len = a.Req("prefixlen", "a prefix length").Int(0, family == IpFamily.V4 ? 32 : 128);
                    var brd = a.Opt("broadcast")?.Address(IpFamily.V4);
                    var scope = a.Opt("scope") is { } s ? Scope(s) : AddressScope.Global;
                    if (a.Has("address"))
                        _unmodelled.Add($"{a.File}: {a.Path}: {local}/{len} dev {dev} has peer {a.Opt("address")!.Value.Text()} (point-to-point peers are not modelled)");
                    foreach (var flag in new[] { "tentative", "dadfailed" })
                        if (a.Opt(flag) is { } f && f.Raw() == "true")
                            Warnings.Add($"{a.File}: {a.Path}: {local} on {dev} was {flag} when the snapshot was taken (the kernel does not use it yet)");
                    into.Add(new InterfaceAddress { Device = dev, Prefix = new IpPrefix(local, len), Broadcast = brd, Scope = scope });
                }
            }
        }

        /// <summary>
        /// routeN.json, with routeN.txt (the same dump as text, came later: older snapshots lack it)
        /// for what `ip -j` leaves out: whether a metric is locked.
        /// </summary>
        private void Routes(NamespaceRecord ns, string name, string file, IpFamily family, HashSet<string> known)
        {
            var root = Json(name, file + ".json", required: true)!.Value;
            var items = root.Items().ToList();
            List<string>? text = null;
            string? whyNoText = null;
            var txt = $"{name}/{file}.txt";
            if (!File.Exists(Path.Combine(dir, txt)))
                whyNoText = Explain(txt) is { } why ? $"{txt} is not in the snapshot ({why})" : $"the snapshot has no {txt} (an older collector)";
            else if (SnapshotRouteMetrics.RouteLines(Text(name, file + ".txt")!) is var lines && lines.Count != items.Count)
                whyNoText = $"{txt} lists {lines.Count} routes where {file}.json lists {items.Count} (the routes changed while the snapshot was taken)";
            else text = lines;
            for (int i = 0; i < items.Count; i++)
            {
                var r = items[i];
                var type = r.Opt("type") is { } t ? RouteTypeOf(t) : RouteType.Unicast;
                var dst = r.Req("dst", family == IpFamily.V4 ? "an IPv4 prefix" : "an IPv6 prefix").Prefix(family);
                var table = r.Opt("table") is { } tb ? Table(tb) : RouteTables.Main;
                IpAddr? gateway = Gateway(r);
                string? dev = r.Opt("dev")?.String();
                // A multipath route (and a route through a nexthop group) lists every nexthop with its
                // weight; `nhid` names the nexthop object, whose group the listing already expands.
                List<RouteNexthop>? nexthops = null;
                if (r.Opt("nexthops") is { } hops)
                {
                    nexthops = hops.Items().Select(h => new RouteNexthop(Gateway(h), h.Opt("dev")?.String() ?? "", h.Opt("weight")?.Int(1, 256) ?? 1)).ToList();
                    if (nexthops.Count > 0)
                    {
                        gateway ??= nexthops[0].Gateway;
                        dev ??= nexthops[0].Device;
                    }
                    foreach (var nh in nexthops.Where(n => n.Device.Length > 0 && !known.Contains(n.Device)))
                        Warnings.Add($"{r.File}: {r.Path}: device '{nh.Device}' is not in link.json (it changed while the snapshot was taken)");
                }
                uint? nhid = r.Opt("nhid") is { } id ? (uint)id.Integer(1, uint.MaxValue) : null;
                var (mtu, mtuLocked) = r.Opt("metrics") is { } metrics
                    ? SnapshotRouteMetrics.Mtu(metrics, $"{dst} table {RouteTables.Name(table)}", text?[i], whyNoText, _unmodelled, Warnings)
                    : (0, false);
                if (r.Opt("encap") is { } encap)
                    _unmodelled.Add($"{r.File}: {r.Path}: route {dst} table {RouteTables.Name(table)} has encap {encap.Compact()} (lightweight tunnels are not modelled)");
                if (dev is not null && !known.Contains(dev))
                    Warnings.Add($"{r.File}: {r.Path}: device '{dev}' is not in link.json (it changed while the snapshot was taken)");
                ns.Builder.AddListedRoute(new Route
                {
                    Table = table, Type = type, Destination = dst, Gateway = gateway, Device = dev,
                    PreferredSource = r.Opt("prefsrc")?.Address(family),
                    Metric = (uint)(r.Opt("metric")?.Integer(0, uint.MaxValue) ?? 0),
                    Scope = r.Opt("scope") is { } s ? Scope(s) : AddressScope.Global,
                    Protocol = r.Opt("protocol")?.Text() ?? "boot",
                    Nexthops = nexthops is { Count: > 1 } ? nexthops : null, NexthopId = nhid, Mtu = mtu, MtuLocked = mtuLocked,
                });
            }
        }

        /// <summary>
        /// nexthop.json (`ip -j nexthop show`): the nexthop objects, `{"id":1,"gateway":"10.0.1.2","dev":"up1"}`,
        /// `{"id":3,"blackhole":null}`, `{"id":10,"group":[{"id":1},{"id":2,"weight":3}]}`; routes already list
        /// the nexthops they use, so these are what `ip nexthop` shows.
        /// </summary>
        private static void Nexthops(NamespaceRecord ns, SnapshotJson root)
        {
            foreach (var n in root.Items())
            {
                var group = n.Opt("group")?.Items().Select(m => new NexthopGroupMember((uint)m.Req("id", "a nexthop id").Integer(1, uint.MaxValue), m.Opt("weight")?.Int(1, 65536) ?? 1)).ToList();
                var gateway = Gateway(n);
                ns.Builder.AddListedNexthop(new NexthopObject
                {
                    Id = (uint)n.Req("id", "a nexthop id").Integer(1, uint.MaxValue), Gateway = gateway, Device = n.Opt("dev")?.String(),
                    Blackhole = n.Has("blackhole"), Group = group, Family = group is null ? gateway?.Family : null,
                });
            }
        }

        /// <summary>"gateway": "10.0.0.1", or "via": {"family": "inet6", "host": "fe80::1"} (a nexthop of the other family).</summary>
        private static IpAddr? Gateway(SnapshotJson r)
        {
            if (r.Opt("gateway") is { } g) return g.Address();
            if (r.Opt("via") is { } via) return via.Req("host", "an address").Address();
            return null;
        }

        private static RouteType RouteTypeOf(SnapshotJson t) => t.String() switch
        {
            "unicast" => RouteType.Unicast,
            "local" => RouteType.Local,
            "broadcast" => RouteType.Broadcast,
            "anycast" => RouteType.Anycast,
            "multicast" => RouteType.Multicast,
            "blackhole" => RouteType.Blackhole,
            "unreachable" => RouteType.Unreachable,
            "prohibit" => RouteType.Prohibit,
            "throw" => RouteType.Throw,
            "nat" => RouteType.Nat,
            _ => throw t.Error("a route type (unicast, local, broadcast, anycast, multicast, blackhole, unreachable, prohibit, throw)"),
        };

        private uint Table(SnapshotJson t)
        {
            var s = t.Text();
            if (s == "unspec") return 0;
            if (RouteTables.TryParse(s, out var id)) return id;
            if (tableNames.TryGetValue(s, out id)) return id;
            throw t.Error("a table id, local, main, default or a name from rt_tables.txt");
        }

        private static AddressScope Scope(SnapshotJson s)
        {
            var text = s.Text();
            return text switch
            {
                "global" or "universe" => AddressScope.Global,
                "site" => AddressScope.Site,
                "link" => AddressScope.Link,
                "host" => AddressScope.Host,
                "nowhere" => AddressScope.Nowhere,
                _ when byte.TryParse(text, out var n) => (AddressScope)n,
                _ => throw s.Error("a scope (global, site, link, host, nowhere or 0-255)"),
            };
        }

        private static void Sysctls(NamespaceRecord ns, string[] lines, string file)
        {
            for (int i = 0; i < lines.Length; i++)
            {
                var line = lines[i];
                if (line.Trim().Length == 0) continue;
                int eq = line.IndexOf('=');
                if (eq <= 0 || line[..eq].Trim().Length == 0 || line[..eq].Trim().Contains(' '))
                    throw new SnapshotException(file, null, i + 1, $"expected 'key = value', got '{line}'");
                ns.Builder.SetListedSysctl(line[..eq].Trim(), line[(eq + 1)..].Trim());
            }
        }

        private static void NamespaceIds(NamespaceRecord ns, SnapshotJson root)
        {
            foreach (var e in root.Items())
                if (e.Opt("name") is { } name)
                    ns.NsIds[e.Req("nsid", "a namespace id").Int(0)] = name.String();
        }
    }

    /// <summary>
    /// A macvlan's lower device: `"link": "NAME"` in its own namespace, else `link_index` in the namespace
    /// netns.json names for `link_netnsid`. One the snapshot does not hold (or whose namespace has no name
    /// here, as the collector's own) is said to be not modelled rather than guessed.
    /// </summary>
    private static void ResolveMacvlanLowers(List<NamespaceRecord> namespaces)
    {
        var byName = namespaces.ToDictionary(n => n.Name, StringComparer.Ordinal);
        foreach (var ns in namespaces)
            foreach (var d in ns.Devices.Where(d => d.MacvlanConfig is not null))
            {
                var (lowerNs, lower) = d.LinkNetnsId is { } nsid
                    ? ns.NsIds.TryGetValue(nsid, out var other) && byName.TryGetValue(other, out var o)
                        ? (o, o.Devices.FirstOrDefault(x => x.Device.IfIndex == d.LinkIndex)) : (null, null)
                    : (ns, ns.Devices.FirstOrDefault(x => x.Device.Name == d.LinkName));
                if (lowerNs is null || lower is null)
                {
                    var at = d.LinkNetnsId is { } id ? $"ifindex {d.LinkIndex} in namespace id {id}" : $"'{d.LinkName}'";
                    ns.Builder.NoteUnmodelled($"{d.Where}: macvlan device {d.Device.Name}: its lower device ({at}) is not in the snapshot (its datapath is not modelled)");
                    continue;
                }
                d.Macvlan = new MacvlanParameters(lower.Device.Name, lowerNs.Name, d.MacvlanConfig!.Mode, d.MacvlanConfig.SourceMacs,
                    d.MacvlanConfig.Promisc, d.MacvlanConfig.AllMulti);
            }
    }

    /// <summary>
    /// Names each veth's peer. Same namespace: link.json says `"link": "NAME"`. Another namespace:
    /// `link_index` (the peer's ifindex there) and `link_netnsid`, which netns.json maps to a name for
    /// namespaces `ip netns` knows; the collector's own namespace has no name there, so what is left is
    /// matched pairwise (a veth whose ifindex and link_index mirror this one's), when that is unique.
    /// </summary>
    private static void ResolvePeers(List<NamespaceRecord> namespaces, List<string> warnings)
    {
        var byName = namespaces.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var unresolved = new List<(NamespaceRecord Ns, DeviceRecord Dev)>();
        foreach (var ns in namespaces)
        {
            foreach (var d in ns.Devices.Where(d => d.Device.Kind == DeviceKind.Veth))
            {
                if (d.LinkName is { } same)
                {
                    if (ns.Devices.Any(x => x.Device.Name == same)) (d.Peer, d.PeerNamespace) = (same, ns.Name);
                    else warnings.Add($"{d.File}: {d.Device.Name}: veth peer '{same}' is not in the namespace's link.json");
                    continue;
                }
                if (d.LinkIndex is not { } index) { warnings.Add($"{d.File}: {d.Device.Name}: veth without a peer in link.json (link_index)"); continue; }
                if (d.LinkNetnsId is { } nsid && ns.NsIds.TryGetValue(nsid, out var peerNsName))
                {
                    if (!byName.TryGetValue(peerNsName, out var peerNs))
                    {
                        warnings.Add($"{d.File}: {d.Device.Name}: veth peer (ifindex {index}) is in namespace '{peerNsName}', which the snapshot leaves out");
                        continue;
                    }
                    var peer = peerNs.Devices.FirstOrDefault(x => x.Device.IfIndex == index);
                    if (peer is null) warnings.Add($"{d.File}: {d.Device.Name}: veth peer ifindex {index} is not in {peerNsName}/link.json");
                    else (d.Peer, d.PeerNamespace) = (peer.Device.Name, peerNsName);
                    continue;
                }
                unresolved.Add((ns, d));
            }
        }
        foreach (var (ns, d) in unresolved)
        {
            // A peer that named us already, else the mirror image among the unresolved ones.
            var named = namespaces.SelectMany(n => n.Devices.Select(x => (Ns: n, Dev: x)))
                .Where(x => x.Dev.Peer == d.Device.Name && x.Dev.PeerNamespace == ns.Name && x.Ns != ns).ToList();
            var candidates = named.Count > 0 ? named : unresolved
                .Where(x => x.Ns != ns && x.Dev.Device.IfIndex == d.LinkIndex && x.Dev.LinkIndex == d.Device.IfIndex).ToList();
            if (candidates.Count == 1)
                (d.Peer, d.PeerNamespace) = (candidates[0].Dev.Device.Name, candidates[0].Ns.Name);
            else
                warnings.Add($"{d.File}: {d.Device.Name}: veth peer (ifindex {d.LinkIndex}, namespace id {d.LinkNetnsId?.ToString() ?? "unknown"}) "
                             + (candidates.Count == 0 ? "is not in the snapshot" : "cannot be told apart from " + string.Join(", ", candidates.Select(c => $"{c.Ns.Name}/{c.Dev.Device.Name}"))));
        }
    }
}
