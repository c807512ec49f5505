using System.Text.Json;
using PktFlow.Routing;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Topology.Snapshot;
using PktFlow.Wire;

namespace PktFlow.Tests.Topology.Snapshot;

/// <summary>
/// The committed snapshot TestData/snapshot/lab was taken by scripts/pktflow-collect.sh from lab.sh
/// built for real (make.sh). The model must hold exactly what `ip -j` said, and the lab loader's
/// model of lab.sh must agree with it (that checks both loaders against the kernel).
/// </summary>
public class SnapshotLoaderTests
{
    public static string Folder => Path.Combine(RepoPaths.Root, "tests", "PktFlow.Core.Tests", "TestData", "snapshot");
    public static string SnapshotDir => Path.Combine(Folder, "lab");

    /// <summary>Loads a snapshot keeping rules the model cannot evaluate (tests of that path).</summary>
    public static readonly TopologyLoadOptions Lenient = new() { AllowUnsupported = true };

    // strict: pfsnap-r's iptables-nft nat table (-j MASQUERADE, an `xt` target in nft.json) is evaluated from iptables.txt
    private static readonly Lazy<HostTopology> Loaded = new(() => SnapshotLoader.Load(SnapshotDir));
    private static HostTopology Topology => Loaded.Value;

    [Fact]
    public void IptablesNftTablesAreEvaluatedFromIptablesSave()
    {
        var r = Topology.Namespace("pfsnap-r")!;
        Assert.DoesNotContain(r.Nft!.AllRules, x => x.Unsupported is not null);
        var nat = r.Nft!.FindTable(PktFlow.Netfilter.Nftables.NftFamily.Ip, "nat")!;
        // only the chain the kernel holds (nft.json), though iptables-save prints all four built-in nat chains
        var post = Assert.Single(nat.Chains);
        Assert.Equal(("POSTROUTING", 100), (post.Name, post.Priority));
        Assert.Equal("pfsnap-r/iptables.txt", post.Rules.Single().SourceFile);
        Assert.Contains("masquerade", post.Rules.Single().Text);
    }

    [Fact]
    public void ARulesetTheReaderCannotLoadIsNotCalledAnUnsupportedRule()
    {
        // nft 1.0.6's `nft -j list ruleset` leaves "dev" out of a netdev chain: no rule is at fault, -AllowUnsupported cannot keep one
        using var s = new TempSnapshot();
        s.EditJson("pfsnap-r/nft.json", n =>
        {
            n["nftables"]!.AsArray().Add(System.Text.Json.Nodes.JsonNode.Parse("""{"table": {"family": "netdev", "name": "nd", "handle": 3}}"""));
            n["nftables"]!.AsArray().Add(System.Text.Json.Nodes.JsonNode.Parse("""{"chain": {"family": "netdev", "table": "nd", "name": "in", "handle": 1, "type": "filter", "hook": "ingress", "prio": 0, "policy": "accept"}}"""));
        });
        var e = Assert.Throws<SnapshotException>(() => SnapshotLoader.Load(s.Dir));
        Assert.Contains("nft.json cannot be read; collect the ruleset as text (`nft list ruleset`)", e.Message);
        Assert.DoesNotContain("keep such rules", e.Message);
    }

    [Fact]
    public void AnXtRuleOfAnNftTableRefusesTheSnapshotUnlessAllowed()
    {
        // an xt expression in a table iptables-save does not list (inet) is not iptables-nft's: it stays refused
        using var s = new TempSnapshot();
        s.EditJson("pfsnap-r/nft.json", n => n["nftables"]![3]!["rule"]!["expr"]!.AsArray().Add(
            System.Text.Json.Nodes.JsonNode.Parse("""{"xt": {"type": "target", "name": "MASQUERADE"}}""")));
        var e = Assert.Throws<SnapshotException>(() => SnapshotLoader.Load(s.Dir));
        Assert.Equal(("pfsnap-r/nft.json", "nftables[3].rule.expr[2].xt"), (e.File, e.JsonPath));
        Assert.Contains("unsupported statement 'xt' (load with -AllowUnsupported to keep such rules, marked unsupported)", e.Message);
        var r = SnapshotLoader.Load(s.Dir, Lenient).Namespace("pfsnap-r")!;
        Assert.Equal("transit", Assert.Single(r.Nft!.AllRules, x => x.Unsupported is not null).Chain.Name);
    }

    [Fact]
    public void ProxyEntriesComeFromNeighProxyJson()
    {
        // `ip -j neigh show proxy` as the kernel printed it (6.18); `ip neigh show` lists none
        using var s = new TempSnapshot();
        s.Write("pfsnap-r/neigh-proxy.json", """[{"dst":"10.0.9.9","dev":"p1","proxy":null}]""");
        var r = SnapshotLoader.Load(s.Dir).Namespace("pfsnap-r")!;
        var p = Assert.Single(r.Neighbours, n => n.IsProxy);
        Assert.Equal(("p1", "10.0.9.9"), (p.Device, p.Address.ToString()));
        Assert.DoesNotContain(Topology.Namespace("pfsnap-r")!.Neighbours, n => n.IsProxy);
    }

    public static TheoryData<string> Namespaces => new() { "pfsnap-c", "pfsnap-r" };

    private static JsonElement Json(string ns, string file) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(SnapshotDir, ns, file))).RootElement;

    private static string Get(JsonElement e, string name, string fallback = "") =>
        e.TryGetProperty(name, out var v) ? v.ToString() : fallback;

    [Fact]
    public void NamespacesComeInCollectionOrder()
    {
        Assert.Equal(["pfsnap-c", "pfsnap-r"], Topology.Namespaces.Select(n => n.Name));
        Assert.Equal(SnapshotDir, Topology.Source);
        Assert.Empty(Topology.Warnings);
        var manifest = SnapshotManifest.Read(SnapshotDir);
        Assert.StartsWith("Linux ", manifest.Kernel);
        Assert.Contains("ip", manifest.Tools.Keys);
        Assert.Empty(manifest.Missing);
    }

    [Theory]
    [MemberData(nameof(Namespaces))]
    public void DevicesAreWhatIpLinkSaid(string ns)
    {
        var expected = Json(ns, "link.json").EnumerateArray().Select(l =>
        {
            var kind = Get(l, "link_type") == "loopback" ? "Loopback"
                : l.TryGetProperty("linkinfo", out var li) && li.TryGetProperty("info_kind", out var k) ? k.GetString() switch
                {
                    "veth" => "Veth", "bridge" => "Bridge", "macvlan" => "Macvlan", "vxlan" => "Vxlan", _ => "Other",
                }
                : "Physical";
            var up = l.GetProperty("flags").EnumerateArray().Any(f => f.GetString() == "UP");
            return $"{Get(l, "ifindex")} {Get(l, "ifname")} {kind} {Get(l, "address")} mtu {Get(l, "mtu")} up {up} master {Get(l, "master")}";
        }).ToList();
        var model = Topology.Namespace(ns)!.Devices
            .Select(d => $"{d.IfIndex} {d.Name} {d.Kind} {d.Mac} mtu {d.Mtu} up {d.IsUp} master {d.Master}").ToList();
        Assert.Equal(expected, model);
    }

    [Theory]
    [MemberData(nameof(Namespaces))]
    public void AddressesAreWhatIpAddrSaid(string ns)
    {
        var expected = Json(ns, "addr.json").EnumerateArray().SelectMany(l => l.GetProperty("addr_info").EnumerateArray().Select(a =>
            $"{Get(a, "local")}/{Get(a, "prefixlen")} dev {Get(l, "ifname")} scope {Get(a, "scope")} brd {Get(a, "broadcast")}")).ToList();
        var model = Topology.Namespace(ns)!.Addresses.Select(a =>
            $"{a.Address}/{a.Prefix.Length} dev {a.Device} scope {a.Scope.ToString().ToLowerInvariant()} brd {a.Broadcast}").ToList();
        Assert.Equal(expected, model);
    }

    /// <summary>A route of `ip -j route` printed the way <see cref="Route.ToString"/> prints (the `ip route` text form).</summary>
    private static string IpRouteText(JsonElement r)
    {
        var parts = new List<string>();
        var type = Get(r, "type", "unicast");
        if (type != "unicast") parts.Add(type);
        parts.Add(Get(r, "dst"));
        if (Get(r, "gateway") is { Length: > 0 } gw) parts.Add("via " + gw);
        if (Get(r, "dev") is { Length: > 0 } dev) parts.Add("dev " + dev);
        if (Get(r, "table", "main") is var table && table != "main") parts.Add("table " + table);
        if (Get(r, "protocol", "boot") is var proto && proto != "boot") parts.Add("proto " + proto);
        if (Get(r, "scope", "global") is var scope && scope != "global") parts.Add("scope " + scope);
        if (Get(r, "prefsrc") is { Length: > 0 } src) parts.Add("src " + src);
        if (Get(r, "metric", "0") is var metric && metric != "0") parts.Add("metric " + metric);
        return string.Join(' ', parts);
    }

    [Theory]
    [MemberData(nameof(Namespaces))]
    public void RoutesAreWhatIpRouteSaidInItsOrder(string ns)
    {
        var expected = Json(ns, "route4.json").EnumerateArray().Concat(Json(ns, "route6.json").EnumerateArray()).Select(IpRouteText).ToList();
        var model = Topology.Namespace(ns)!.Routes.Select(r => r.ToString()).ToList();
        Assert.Equal(expected, model);
        Assert.Equal(Json(ns, "route4.json").GetArrayLength(), Topology.Namespace(ns)!.Routes.Count(r => r.Family == IpFamily.V4));
    }

    [Fact]
    public void RoutesKeepWhatTheKernelDidThatTheLabDoesNotDerive()
    {
        var r = Topology.Namespace("pfsnap-r")!;
        // an address on a device that is down still gets its local route (fib_add_ifaddr adds it before checking IFF_UP)
        Assert.Contains(r.Routes, x => x.ToString() == "local 10.0.9.1 dev spare0 table local proto kernel scope host src 10.0.9.1");
        // IPv6 reject routes point at lo
        Assert.Contains(r.Routes, x => x.ToString() == "prohibit 2001:db8:99::/48 dev lo table 200 metric 1024");
        var hit = r.Fib.Lookup(IpAddr.Parse("10.20.1.1"));
        Assert.Equal("10.20.0.0/16 via 10.0.1.2 dev eth0", hit.Route!.ToString());
    }

    [Fact]
    public void PolicyRulesFromIpJsonRuleDecideTheLookup()
    {
        var r = Topology.Namespace("pfsnap-r")!;
        Assert.Equal(["0: from all lookup local", "100: from 10.0.2.0/24 lookup 100", "200: from all fwmark 0x2 lookup 200",
            "32766: from all lookup main", "32767: from all lookup default"], r.Fib.Rules(IpFamily.V4).Select(x => x.ToString()));
        // from 10.0.2.0/24: table 100 has the blackhole; with fwmark 2: table 200 has the unreachable route
        var fromLan = r.Fib.Lookup(IpAddr.Parse("10.99.1.1"), IpAddr.Parse("10.0.2.7"), "p1", null, 0);
        Assert.Equal((FibError.Blackhole, 100u), (fromLan.Error, fromLan.Table));
        var marked = r.Fib.Lookup(IpAddr.Parse("10.98.1.1"), IpAddr.Parse("10.0.1.7"), "eth0", null, 2);
        Assert.Equal((FibError.HostUnreachable, 200u), (marked.Error, marked.Table)); // RTN_UNREACHABLE is -EHOSTUNREACH
        Assert.Equal(RouteTables.Main, r.Fib.Lookup(IpAddr.Parse("10.98.1.1"), IpAddr.Parse("10.0.1.7"), "eth0", null, 0).Table);
    }

    [Fact]
    public void PermanentNeighboursAreStaticEntriesAndLearnedOnesAreLeftToTheCapture()
    {
        var n = Assert.Single(Topology.Namespace("pfsnap-r")!.Neighbours);
        Assert.Equal("10.0.1.9 dev eth0 lladdr 02:00:5e:10:00:09 PERMANENT", n.ToString());
    }

    [Fact]
    public void ABridgesAgeingTimeComesFromIpLinkDetails()
    {
        Assert.Equal(300_000_000_000L, Topology.Namespace("pfsnap-r")!.Device("br0")!.Stp.AgeingTimeNs);
        var dir = Directory.CreateTempSubdirectory("snapage-").FullName;
        try
        {
            foreach (var src in Directory.EnumerateFiles(SnapshotDir, "*", SearchOption.AllDirectories))
            {
                var dst = Path.Combine(dir, Path.GetRelativePath(SnapshotDir, src));
                Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
                File.Copy(src, dst);
            }
            var link = Path.Combine(dir, "pfsnap-r", "link.json");
            File.WriteAllText(link, File.ReadAllText(link).Replace("\"ageing_time\": 30000", "\"ageing_time\": 200", StringComparison.Ordinal));
            Assert.Equal(2_000_000_000L, SnapshotLoader.Load(dir).Namespace("pfsnap-r")!.Device("br0")!.Stp.AgeingTimeNs);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void VethPeersAreResolvedAcrossAndWithinNamespaces()
    {
        string Peer(string ns, string dev) => Topology.Namespace(ns)!.Device(dev) is { } d ? $"{d.PeerNamespace}/{d.Peer}" : "none";
        Assert.Equal("pfsnap-c/eth0", Peer("pfsnap-r", "eth0"));
        Assert.Equal("pfsnap-c/eth1", Peer("pfsnap-r", "p1"));
        Assert.Equal("pfsnap-r/eth0", Peer("pfsnap-c", "eth0"));
        Assert.Equal("pfsnap-r/p1", Peer("pfsnap-c", "eth1"));
        Assert.Equal("pfsnap-r/spare1", Peer("pfsnap-r", "spare0"));
        Assert.Equal("pfsnap-r/spare0", Peer("pfsnap-r", "spare1"));
        Assert.Equal("/", Peer("pfsnap-r", "mv0"));
        Assert.Equal("br0", Topology.Namespace("pfsnap-r")!.Device("p1")!.Master);
    }

    [Fact]
    public void SysctlsAreTheKernelsOwnValues()
    {
        var r = Topology.Namespace("pfsnap-r")!.Sysctls;
        var c = Topology.Namespace("pfsnap-c")!.Sysctls;
        Assert.True(r.Ipv4Forwarding("eth0"));
        Assert.True(r.Ipv6Forwarding);
        Assert.False(c.Ipv4Forwarding("eth0"));
        Assert.Equal("1", r.Get("net.ipv4.conf.eth0.rp_filter"));
        Assert.Equal("0", r.Get("net.ipv4.conf.p1.rp_filter"));
        Assert.Equal("32768\t60999", r.Get("net.ipv4.ip_local_port_range"));
        Assert.Equal("", r.Get("net.ipv4.ip_local_reserved_ports"));
        var lines = File.ReadAllLines(Path.Combine(SnapshotDir, "pfsnap-r", "sysctl.txt")).Count(l => l.Length > 0);
        Assert.Equal(lines, r.Explicit.Count);
    }

    [Fact]
    public void ConfigurationTheModelDoesNotEvaluateIsNamedLineByLine()
    {
        var r = Topology.Namespace("pfsnap-r")!.Unmodelled;
        string[] expected =
        [
        ];
        // nft.json's inet table and iptables.txt's nat table (iptables-nft's) are both evaluated
        Assert.Equal(expected, r);
        // The client has nothing of its own: default rules, learned neighbours and FDB entries, lists of
        // multicast addresses are the kernel's.
        Assert.Empty(Topology.Namespace("pfsnap-c")!.Unmodelled);
    }

    [Fact]
    public void StaticFdbEntriesOfABridgePortAreLoaded()
    {
        var e = Assert.Single(Topology.Namespace("pfsnap-r")!.FdbEntries);
        Assert.Equal(("02:00:5e:10:00:77", "p1", FdbState.Static, "pfsnap-r/fdb.json: [8]"), (e.Mac.ToString(), e.Port, e.State, e.Source));
        // learned entries and the bridge's own (its ports' MACs, self address lists) are the kernel's
        Assert.Empty(Topology.Namespace("pfsnap-c")!.FdbEntries);
    }

    [Fact]
    public void TheNftRulesetIsLoadedFromNftJson()
    {
        var rs = Topology.Namespace("pfsnap-r")!.Nft!;
        Assert.Equal(new[] { "table inet pf handle 1", "table ip nat handle 2" }, rs.Tables.Select(t => $"{t} handle {t.Handle}"));
        var transit = rs.FindTable(PktFlow.Netfilter.Nftables.NftFamily.Inet, "pf")!.FindChain("transit")!;
        Assert.Equal((PktFlow.Netfilter.Nftables.NftHookPoint?)PktFlow.Netfilter.Nftables.NftHookPoint.Forward, transit.Hook);
        var drop = Assert.Single(transit.Rules);
        Assert.Equal((2, "ip saddr 10.0.9.0/24 drop", (string?)null), (drop.Handle, drop.Text, drop.Unsupported));
        Assert.Null(rs.FindTable(PktFlow.Netfilter.Nftables.NftFamily.Ip, "nat")!.FindChain("POSTROUTING")!.Rules.Single().Unsupported);
        Assert.Null(Topology.Namespace("pfsnap-c")!.Nft);
    }

    [Fact]
    public void ListeningSocketsComeFromSs()
    {
        // ss.txt's only line is vx0's kernel socket (udp 0.0.0.0:4789): the model's vxlan device holds it
        Assert.Contains("0.0.0.0:4789", File.ReadAllText(Path.Combine(SnapshotDir, "pfsnap-r", "ss.txt")));
        var r = Topology.Namespace("pfsnap-r")!.Sockets;
        Assert.NotNull(r);
        Assert.Empty(r);
        var engine = new PktFlow.Datapath.DatapathEngine(Topology);
        int i = Topology.Namespaces.ToList().FindIndex(n => n.Name == "pfsnap-r");
        var listed = Assert.Single(PktFlow.Socket.SocketListing.List(Topology.Namespaces[i], engine.States[i], 0));
        Assert.Equal(("udp", "vxlan port 4789"), (listed.Protocol, listed.Listener));
        // Known to be empty, not unknown: the kernel would answer a SYN with a RST.
        Assert.NotNull(Topology.Namespace("pfsnap-c")!.Sockets);
        Assert.Empty(Topology.Namespace("pfsnap-c")!.Sockets!);
    }

    // ---- the lab loader and the kernel on the same lab ----

    private static readonly Lazy<HostTopology> Lab = new(() => LabLoader.LoadFile(Path.Combine(Folder, "lab.sh")));

    [Theory]
    [MemberData(nameof(Namespaces))]
    public void TheLabAndTheKernelAgree(string ns) => AssertLabAgrees(Topology, Lab.Value, ns, ns["pfsnap-".Length..]);

    private static string RouteKey(Route r) =>
        // The kernel lists IPv6 reject routes on lo; a lab names no device for them.
        r.Type is RouteType.Blackhole or RouteType.Unreachable or RouteType.Prohibit or RouteType.Throw && r.Device == "lo"
            ? new Route
            {
                Table = r.Table, Type = r.Type, Destination = r.Destination, Gateway = r.Gateway, PreferredSource = r.PreferredSource,
                Metric = r.Metric, Scope = r.Scope, Protocol = r.Protocol,
            }.ToString()
            : r.ToString();

    /// <summary>
    /// Where the lab loader and the kernel disagree today on lab.sh, by namespace role ("r", "c"); found
    /// by these tests (the lab loader is not theirs to fix). Each is kernel behaviour the lab model
    /// misses; when the lab loader learns it, the test fails and the line goes.
    /// </summary>
    private static readonly Dictionary<string, string[]> KnownLabDifferences = new()
    {
        ["r devices"] =
        [
            // macvlan_device_event(NETDEV_CHANGEMTU) lowers a macvlan's MTU with its lower device's
            // (eth0 went to 1400 after mv0 was made on it); the lab keeps mv0 at 1500.
            "snapshot only: mv0 Macvlan 02:00:5e:10:0c:01 mtu 1400 up True master  peer /",
            "lab only: mv0 Macvlan 02:00:5e:10:0c:01 mtu 1500 up True master  peer /",
        ],
    };

    /// <summary>Routes, devices and addresses of one namespace, as sets, the same but for the known differences.</summary>
    internal static void AssertLabAgrees(HostTopology kernel, HostTopology lab, string ns, string role)
    {
        var k = kernel.Namespace(ns) ?? throw new InvalidOperationException($"the snapshot has no namespace {ns}");
        var l = lab.Namespace(ns) ?? throw new InvalidOperationException($"the lab has no namespace {ns}");
        AssertSame(role + " routes", k.Routes.Select(RouteKey), l.Routes.Select(RouteKey));

        static string Device(NetDevice d) =>
            $"{d.Name} {d.Kind} {d.Mac} mtu {d.Mtu} up {d.IsUp} master {d.Master} peer {d.PeerNamespace}/{d.Peer}";
        AssertSame(role + " devices", k.Devices.Select(Device), l.Devices.Select(Device));

        static string Address(InterfaceAddress a) => $"{a} scope {a.Scope} brd {a.Broadcast}";
        AssertSame(role + " addresses", k.Addresses.Select(Address), l.Addresses.Select(Address));
    }

    private static void AssertSame(string what, IEnumerable<string> kernel, IEnumerable<string> lab)
    {
        var k = kernel.Order(StringComparer.Ordinal).ToList();
        var l = lab.Order(StringComparer.Ordinal).ToList();
        var diff = k.Except(l).Select(x => "snapshot only: " + x).Concat(l.Except(k).Select(x => "lab only: " + x)).ToList();
        var known = KnownLabDifferences.GetValueOrDefault(what, []);
        Assert.True(diff.SequenceEqual(known),
            $"{what}:\n  differences: {string.Join("\n               ", diff)}\n  known:       {string.Join("\n               ", known)}");
    }
}
