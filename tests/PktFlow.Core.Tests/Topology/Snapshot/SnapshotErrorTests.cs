using System.Text.Json.Nodes;
using PktFlow.Topology;
using PktFlow.Topology.Snapshot;
using PktFlow.Wire;

namespace PktFlow.Tests.Topology.Snapshot;

/// <summary>A copy of the committed snapshot in a temporary folder, to damage one file at a time.</summary>
internal sealed class TempSnapshot : IDisposable
{
    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "pktflow-snapshot-test-" + Guid.NewGuid().ToString("N"));

    public TempSnapshot()
    {
        foreach (var file in Directory.GetFiles(SnapshotLoaderTests.SnapshotDir, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(Dir, Path.GetRelativePath(SnapshotLoaderTests.SnapshotDir, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private string PathOf(string rel) => Path.Combine(Dir, rel);
    public void Write(string rel, string text) => File.WriteAllText(PathOf(rel), text);
    public void Edit(string rel, Func<string, string> edit) => Write(rel, edit(File.ReadAllText(PathOf(rel))));
    public void Delete(string rel) => File.Delete(PathOf(rel));
    public void Manifest(string line) => File.AppendAllText(PathOf("manifest.txt"), line + "\n");

    public void EditJson(string rel, Action<JsonNode> edit)
    {
        var node = JsonNode.Parse(File.ReadAllText(PathOf(rel)))!;
        edit(node);
        Write(rel, node.ToJsonString());
    }

    public HostTopology Load() => SnapshotLoader.Load(Dir, SnapshotLoaderTests.Lenient);

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}

public class SnapshotErrorTests
{
    /// <summary>Damage done to a copy of the snapshot, and the error it must give (file, where, what was expected).</summary>
    private static readonly Dictionary<string, (Action<TempSnapshot> Damage, string Message)> Cases = new()
    {
        ["no manifest"] = (s => s.Delete("manifest.txt"),
            "manifest.txt: missing: a snapshot folder holds the manifest.txt that scripts/pktflow-collect.sh writes"),
        ["collector did not finish"] = (s => s.Edit("manifest.txt", t => string.Join('\n', t.Split('\n').Where(l => !l.StartsWith("complete:")))),
            "manifest.txt: no 'complete:' line: the collector did not finish (interrupted, or the folder was copied while it ran)"),
        ["collector interrupted"] = (s => s.Manifest("interrupted: signal"),
            "manifest.txt:19: the collector was interrupted; take the snapshot again"),
        ["newer format"] = (s => s.Edit("manifest.txt", t => t.Replace("format: 1", "format: 2")),
            "manifest.txt:2: snapshot format 2 is not supported (this PktFlow reads format 1)"),
        ["namespace folder gone"] = (s => Directory.Delete(Path.Combine(s.Dir, "pfsnap-c"), true),
            "pfsnap-c/: missing: the manifest lists this namespace but its folder is not in the snapshot"),
        ["required file gone"] = (s => s.Delete("pfsnap-r/route6.json"),
            "pfsnap-r/route6.json: missing, and the manifest does not say why (was the snapshot copied completely?)"),
        ["required file failed"] = (s =>
            {
                s.Delete("pfsnap-r/route6.json");
                s.Manifest("failed: pfsnap-r/route6.json: exit 2: ip -j -p -6 route show table all: RTNETLINK answers: Operation not permitted");
            },
            "pfsnap-r/route6.json: not in the snapshot (failed: exit 2: ip -j -p -6 route show table all: RTNETLINK answers: Operation not permitted); the namespace cannot be built without it"),
        ["optional file gone unexplained"] = (s => s.Delete("pfsnap-c/nft.json"),
            "pfsnap-c/nft.json: missing, and the manifest does not say why (was the snapshot copied completely?)"),
        ["empty link.json"] = (s => s.Write("pfsnap-c/link.json", ""),
            "pfsnap-c/link.json: empty (expected the JSON array `ip -j` prints)"),
        ["not an array"] = (s => s.Write("pfsnap-r/route4.json", "{\"dst\": \"default\"}"),
            "pfsnap-r/route4.json: top level: expected an array, got {\"dst\": \"default\"}"),
        ["bad destination"] = (s => s.EditJson("pfsnap-r/route4.json", j => j[3]!["dst"] = "x"),
            "pfsnap-r/route4.json: [3].dst: expected an IPv4 prefix, got 'x'"),
        ["IPv6 prefix among IPv4 routes"] = (s => s.EditJson("pfsnap-r/route4.json", j => j[1]!["dst"] = "2001:db8::/64"),
            "pfsnap-r/route4.json: [1].dst: expected an IPv4 prefix, got '2001:db8::/64'"),
        ["no destination"] = (s => s.EditJson("pfsnap-c/route6.json", j => j[0]!.AsObject().Remove("dst")),
            "pfsnap-c/route6.json: [0].dst: missing, expected an IPv6 prefix"),
        ["bad gateway"] = (s => s.EditJson("pfsnap-r/route4.json", j => j[0]!["gateway"] = "10.0.1"),
            "pfsnap-r/route4.json: [0].gateway: expected an address, got '10.0.1'"),
        ["unknown table name"] = (s => s.EditJson("pfsnap-r/route4.json", j => j[0]!["table"] = "vpn"),
            "pfsnap-r/route4.json: [0].table: expected a table id, local, main, default or a name from rt_tables.txt, got 'vpn'"),
        ["unknown route type"] = (s => s.EditJson("pfsnap-r/route4.json", j => j[2]!["type"] = "bogus"),
            "pfsnap-r/route4.json: [2].type: expected a route type (unicast, local, broadcast, anycast, multicast, blackhole, unreachable, prohibit, throw), got 'bogus'"),
        ["metric out of range"] = (s => s.EditJson("pfsnap-r/route6.json", j => j[0]!["metric"] = -1),
            "pfsnap-r/route6.json: [0].metric: expected a number from 0 to 4294967295, got -1"),
        ["bad scope"] = (s => s.EditJson("pfsnap-c/route4.json", j => j[1]!["scope"] = "galaxy"),
            "pfsnap-c/route4.json: [1].scope: expected a scope (global, site, link, host, nowhere or 0-255), got 'galaxy'"),
        ["MTU as a string"] = (s => s.EditJson("pfsnap-c/link.json", j => j[1]!["mtu"] = "1500"),
            "pfsnap-c/link.json: [1].mtu: expected a number from 0 to 2147483647, got '1500'"),
        ["no device name"] = (s => s.EditJson("pfsnap-c/link.json", j => j[2]!.AsObject().Remove("ifname")),
            "pfsnap-c/link.json: [2].ifname: missing, expected a device name"),
        ["bad MAC"] = (s => s.EditJson("pfsnap-c/link.json", j => j[1]!["address"] = "02:00:5e:10:00"),
            "pfsnap-c/link.json: [1].address: expected a MAC address, got '02:00:5e:10:00'"),
        ["device listed twice"] = (s => s.EditJson("pfsnap-c/link.json", j => j[2]!["ifname"] = "eth0"),
            "pfsnap-c/link.json: [2].ifname: device 'eth0' is listed twice"),
        ["prefix length too long"] = (s => s.EditJson("pfsnap-c/addr.json", j => j[1]!["addr_info"]![0]!["prefixlen"] = 33),
            "pfsnap-c/addr.json: [1].addr_info[0].prefixlen: expected a number from 0 to 32, got 33"),
        ["IPv6 address marked inet"] = (s => s.EditJson("pfsnap-c/addr.json", j => j[1]!["addr_info"]![0]!["local"] = "2001:db8::1"),
            "pfsnap-c/addr.json: [1].addr_info[0].local: expected an IPv4 address, got '2001:db8::1'"),
        ["sysctl line without ="] = (s => s.Edit("pfsnap-c/sysctl.txt", t => t.Replace("net.bridge.bridge-nf-call-iptables = 1", "net.bridge.bridge-nf-call-iptables")),
            "pfsnap-c/sysctl.txt:3: expected 'key = value', got 'net.bridge.bridge-nf-call-iptables'"),
        ["ss line cut short"] = (s => s.Write("pfsnap-r/ss.txt", "udp UNCONN 0 0\n"),
            "pfsnap-r/ss.txt:1: expected 'tcp|udp STATE RECV-Q SEND-Q LOCAL:PORT PEER:PORT', got 'udp UNCONN 0 0'"),
        ["ss without a port"] = (s => s.Write("pfsnap-r/ss.txt", "\ntcp LISTEN 0 128 0.0.0.0 0.0.0.0:*\n"),
            "pfsnap-r/ss.txt:2: expected a local ADDRESS:PORT in the fifth column, got 'tcp LISTEN 0 128 0.0.0.0 0.0.0.0:*'"),
        ["nft without its array"] = (s => s.Write("pfsnap-r/nft.json", "{\"ruleset\": []}"),
            "pfsnap-r/nft.json: nftables: missing, expected the array nft -j prints"),
        ["bad rt_tables line"] = (s => s.Write("rt_tables.txt", "255\tlocal\nvpn\n"),
            "rt_tables.txt:2: expected 'ID NAME', got 'vpn'"),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void DamageIsReportedWithFileWhereAndWhat(string name)
    {
        var (damage, message) = Cases[name];
        using var s = new TempSnapshot();
        damage(s);
        var e = Assert.Throws<SnapshotException>(s.Load);
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void SyntaxErrorsNameTheLine()
    {
        using var s = new TempSnapshot();
        const string good = "\"table\": \"100\",";
        var lines = File.ReadAllLines(Path.Combine(s.Dir, "pfsnap-r", "route4.json"));
        int line = Array.FindIndex(lines, l => l.Contains(good, StringComparison.Ordinal)) + 1;
        s.Edit("pfsnap-r/route4.json", t => t.Replace(good, "\"table\": 100 \"x\","));
        var e = Assert.Throws<SnapshotException>(s.Load);
        Assert.Equal("pfsnap-r/route4.json", e.File);
        Assert.Equal(line, e.Line);
        Assert.Null(e.JsonPath);
        Assert.StartsWith($"pfsnap-r/route4.json:{line}: not valid JSON (byte 22 of the line): ", e.Message);
    }

    [Fact]
    public void ATruncatedFileIsNotValidJsonAtItsEnd()
    {
        using var s = new TempSnapshot();
        string cut = "";
        s.Edit("pfsnap-c/link.json", t => cut = t[..(t.Length / 2)]);
        var e = Assert.Throws<SnapshotException>(s.Load);
        Assert.StartsWith($"pfsnap-c/link.json:{cut.Split('\n').Length}: not valid JSON", e.Message);
    }

    [Fact]
    public void AMissingFolderIsNamed()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pktflow-no-such-snapshot-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<SnapshotException>(() => SnapshotLoader.Load(dir));
        Assert.Equal($"{dir}: no such directory (expected a snapshot folder written by scripts/pktflow-collect.sh)", e.Message);
    }

    [Fact]
    public void ASkippedToolIsAWarningAndLeavesItsPartUnknown()
    {
        using var s = new TempSnapshot();
        foreach (var ns in new[] { "pfsnap-c", "pfsnap-r" })
        {
            s.Delete($"{ns}/nft.json");
            s.Manifest($"skipped: {ns}/nft.json: nft not installed");
            s.Delete($"{ns}/ss.txt");
            s.Manifest($"failed: {ns}/ss.txt: exit 1: ss -tulnH: Cannot open netlink socket");
        }
        var t = s.Load();
        Assert.Contains("pfsnap-r/nft.json: not in the snapshot (skipped: nft not installed); what it holds is unknown to the model", t.Warnings);
        Assert.Contains("pfsnap-c/ss.txt: not in the snapshot (failed: exit 1: ss -tulnH: Cannot open netlink socket); what it holds is unknown to the model", t.Warnings);
        var r = t.Namespace("pfsnap-r")!;
        Assert.DoesNotContain(r.Unmodelled, l => l.Contains("nft.json"));
        Assert.Contains(r.Unmodelled, l => l.Contains("MASQUERADE")); // iptables.txt still read
        Assert.Null(r.Sockets); // unknown, not empty
    }

    [Fact]
    public void PeersAreMatchedPairwiseWithoutNamespaceIds()
    {
        // The collector's own namespace never has a name in another namespace's netns.json; this is
        // what the loader sees for its veths.
        using var s = new TempSnapshot();
        foreach (var ns in new[] { "pfsnap-c", "pfsnap-r" })
        {
            s.Delete($"{ns}/netns.json");
            s.Manifest($"skipped: {ns}/netns.json: test");
        }
        var t = s.Load();
        Assert.Equal("pfsnap-c/eth1", $"{t.Namespace("pfsnap-r")!.Device("p1")!.PeerNamespace}/{t.Namespace("pfsnap-r")!.Device("p1")!.Peer}");
        Assert.Equal("pfsnap-r/eth0", $"{t.Namespace("pfsnap-c")!.Device("eth0")!.PeerNamespace}/{t.Namespace("pfsnap-c")!.Device("eth0")!.Peer}");
    }

    [Fact]
    public void APeerOutsideTheSnapshotIsAWarning()
    {
        using var s = new TempSnapshot();
        s.Edit("manifest.txt", t => t.Replace("namespace: pfsnap-c\n", ""));
        var t = s.Load();
        Assert.Equal(["pfsnap-r"], t.Namespaces.Select(n => n.Name));
        Assert.Contains("pfsnap-r/link.json: eth0: veth peer (ifindex 2) is in namespace 'pfsnap-c', which the snapshot leaves out", t.Warnings);
        Assert.Null(t.Host.Device("eth0")!.Peer);
    }

    [Fact]
    public void TableNamesComeFromRtTables()
    {
        using var s = new TempSnapshot();
        File.AppendAllText(Path.Combine(s.Dir, "rt_tables.txt"), "100\tvpn\n");
        s.EditJson("pfsnap-r/route4.json", j => j[0]!["table"] = "vpn");
        Assert.Equal(100u, s.Load().Namespace("pfsnap-r")!.Routes[0].Table);
    }

    [Fact]
    public void MultipathRoutesAndNexthopGroupsKeepEveryNexthop()
    {
        using var s = new TempSnapshot();
        s.EditJson("pfsnap-r/route4.json", j => j.AsArray().Add(JsonNode.Parse("""
            {"dst":"10.7.0.0/16","flags":[],"nexthops":[{"gateway":"10.0.1.2","dev":"eth0","weight":1,"flags":[]},{"gateway":"10.0.2.2","dev":"br0","weight":2,"flags":[]}]}
            """)));
        // `ip -j -6 route` of a route through nexthop group 60 (checked on 6.18)
        s.EditJson("pfsnap-r/route6.json", j => j.AsArray().Add(JsonNode.Parse("""
            {"dst":"2001:db8:100::/64","nhid":60,"metric":1024,"flags":[],"pref":"medium","nexthops":[{"gateway":"2001:db8:1::2","dev":"eth0","weight":1,"flags":[]},{"gateway":"2001:db8:2::2","dev":"br0","weight":3,"flags":[]}]}
            """)));
        var r = s.Load().Namespace("pfsnap-r")!;
        Assert.Contains(r.Routes, x => x.ToString() == "10.7.0.0/16 nexthop via 10.0.1.2 dev eth0 weight 1 nexthop via 10.0.2.2 dev br0 weight 2");
        var g = Assert.Single(r.Routes, x => x.NexthopId == 60);
        Assert.Equal(new[] { 1, 3 }, g.Nexthops!.Select(n => n.Weight));
        Assert.DoesNotContain(r.Unmodelled, l => l.Contains("10.7.0.0/16") || l.Contains("2001:db8:100::"));
    }

    [Fact]
    public void NexthopObjectsComeFromIpJNexthop()
    {
        using var s = new TempSnapshot();
        // `ip -j nexthop` on 6.18 (iproute2 6.1)
        s.Write("pfsnap-r/nexthop.json", """
            [{"id":1,"gateway":"10.0.1.2","dev":"eth0","scope":"link","flags":[]},{"id":2,"gateway":"10.0.2.2","dev":"br0","scope":"link","flags":[]},{"id":10,"group":[{"id":1},{"id":2,"weight":3}],"flags":[]}]
            """);
        var nhs = s.Load().Namespace("pfsnap-r")!.NexthopObjects;
        Assert.Equal(new[] { "id 1 via 10.0.1.2 dev eth0 scope link", "id 2 via 10.0.2.2 dev br0 scope link", "id 10 group 1/2,3" }, nhs.Select(n => n.ToString()));
    }

    [Fact]
    public void EmptyOptionalDumpsReadAsEmpty()
    {
        using var s = new TempSnapshot();
        s.Write("pfsnap-r/vlan.json", "");
        s.Write("pfsnap-r/neigh.json", "\n");
        s.Write("pfsnap-r/nft.json", "");
        var r = s.Load().Namespace("pfsnap-r")!;
        Assert.DoesNotContain(r.Unmodelled, l => l.Contains("neigh.json") || l.Contains("nft.json"));
    }

    [Fact]
    public void LegacyIptablesTablesAreAWarning()
    {
        using var s = new TempSnapshot();
        s.Write("pfsnap-c/iptables.txt", "# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n");
        var t = s.Load();
        Assert.Contains("pfsnap-c/iptables.txt:1: Warning: iptables-legacy tables present, use iptables-legacy-save to see them", t.Namespace("pfsnap-c")!.Unmodelled);
        Assert.Contains(t.Warnings, w => w.StartsWith("pfsnap-c/iptables.txt:1: ", StringComparison.Ordinal));
    }

    [Fact]
    public void SsAddressFormsMapToSockets()
    {
        using var s = new TempSnapshot();
        s.Write("pfsnap-c/ss.txt", """
            udp UNCONN 0      0                 0.0.0.0:7006 0.0.0.0:*
            udp UNCONN 0      0              0.0.0.0%lo:7007 0.0.0.0:*
            udp UNCONN 0      0                       *:7004       *:*
            udp UNCONN 0      0                   [::1]:7005    [::]:*
            tcp LISTEN 0      128             127.0.0.1:7003 0.0.0.0:*
            tcp LISTEN 0      128                  [::]:7002    [::]:*
            tcp LISTEN 0      128    [::ffff:127.0.0.1]:7008       *:*
            udp UNCONN 0      0                    *%lo:7101       *:*
            udp UNCONN 0      0            [fe80::1]%lo:7102    [::]:*
            tcp LISTEN 0      5                 0.0.0.0:9000 0.0.0.0:* uid:1000 ino:2270851 sk:f9 cgroup:unreachable:1 <->
            tcp LISTEN 0      5                 0.0.0.0:9001 0.0.0.0:* ino:2366020 sk:1117 fwmark:0x7 cgroup:unreachable:1 <->
            """);
        var c = s.Load().Namespace("pfsnap-c")!;
        Assert.Equal(
        [
            "udp 0.0.0.0:7006", "udp 0.0.0.0:7007", "udp *:7004", "udp [::1]:7005", "tcp 127.0.0.1:7003", "tcp [::]:7002", "tcp 127.0.0.1:7008",
            "udp *:7101", "udp [fe80::1]:7102", "tcp 0.0.0.0:9000 uid 1000", "tcp 0.0.0.0:9001 mark 0x7",
        ], c.Sockets!.Select(x => x.ToString()[..x.ToString().IndexOf(" (", StringComparison.Ordinal)]));
        Assert.Equal([null, IpFamily.V6], c.Sockets!.Where(x => x.Port is 7004 or 7002).Select(x => x.Family));
        // ss -e names a socket's owner only when it is not root, and never its group
        Assert.Equal([(0u, (uint?)null), (1000u, null)], c.Sockets!.Where(x => x.Port is 7006 or 9000).Select(x => (x.Uid!.Value, x.Gid)));
        Assert.Contains("pfsnap-c/ss.txt:2: udp socket 0.0.0.0%lo:7007 is bound to device lo; the binding is not modelled (it takes packets from any device)", c.Unmodelled);
        Assert.Contains("pfsnap-c/ss.txt:9: udp socket [fe80::1]%lo:7102 is bound to device lo; the binding is not modelled (it takes packets from any device)", c.Unmodelled);
    }
}
