using System.Text.Json.Nodes;
using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Topology.Snapshot;
using PktFlow.Wire;

namespace PktFlow.Tests.Topology.Snapshot;

/// <summary>
/// vxlan and macvlan devices from a snapshot: TestData/snapshot-tunnel/snap was taken by the collector
/// from lab.sh built for real (make.sh: vxlan-flannel's two nodes, a vxlan with a default remote, two
/// macvlans, one moved to another namespace). The snapshot must give the same devices, FDB and
/// behaviour as the lab loader's model of lab.sh; what the lab loader refuses is named, not modelled.
/// </summary>
public class SnapshotTunnelTests(ITestOutputHelper output)
{
    internal static string Folder => Path.Combine(RepoPaths.Root, "tests", "PktFlow.Core.Tests", "TestData", "snapshot-tunnel");
    private static string SnapshotDir => Path.Combine(Folder, "snap");

    private static readonly Lazy<HostTopology> Snap = new(() => SnapshotLoader.Load(SnapshotDir));
    private static readonly Lazy<HostTopology> Lab = new(() => LabLoader.LoadFile(Path.Combine(Folder, "lab.sh")));

    public static TheoryData<string> Namespaces => new() { "snaptun-h", "snaptun-m", "snaptun-n2", "snaptun-p1", "snaptun-p2" };

    private static string Tunnel(NetDevice d) =>
        $"{d.Name} {d.Kind} {d.Mac} mtu {d.Mtu} {d.Vxlan} tos {d.Vxlan?.Tos} ttl {d.Vxlan?.Ttl} ports {d.Vxlan?.PortMin}-{d.Vxlan?.PortMax} csum {d.Vxlan?.UdpCsum}"
        + (d.Macvlan is { } m ? $" macvlan on {m.LowerNamespace}/{m.Lower} {MacvlanParameters.ModeName(m.Mode)} [{string.Join(' ', m.SourceMacs)}]" : "");

    [Theory]
    [MemberData(nameof(Namespaces))]
    public void TheSnapshotGivesTheLabsDevicesFdbAndNeighbours(string ns) => AssertTunnelsAgree(Snap.Value, Lab.Value, ns);

    /// <summary>Devices (with their vxlan and macvlan configuration), vxlan FDB, neighbours, routes and addresses of one namespace.</summary>
    internal static void AssertTunnelsAgree(HostTopology snapshot, HostTopology lab, string ns)
    {
        var k = snapshot.Namespace(ns)!;
        var l = lab.Namespace(ns)!;
        Assert.Equal(l.Devices.Select(Tunnel).Order(), k.Devices.Select(Tunnel).Order());
        Assert.Equal(l.VxlanFdb.Select(e => e.ToString()).Order(), k.VxlanFdb.Select(e => e.ToString()).Order());
        Assert.Equal(l.Neighbours.Select(n => n.ToString()).Order(), k.Neighbours.Select(n => n.ToString()).Order());
        Assert.Empty(k.Unmodelled);
        SnapshotLoaderTests.AssertLabAgrees(snapshot, lab, ns, ns);
    }

    [Fact]
    public void FlannelsDeviceAndFdbComeFromIpDetailsAndBridgeFdb()
    {
        var h = Snap.Value.Namespace("snaptun-h")!;
        Assert.Empty(Snap.Value.Warnings);
        var flannel = h.Device("flannel.1")!.Vxlan!;
        Assert.Equal((1u, (ushort)8472, "192.168.50.1", "eth0", false), (flannel.Vni, flannel.DstPort, flannel.Local?.ToString(), flannel.Lower, flannel.Learning));
        var vx9 = h.Device("vx9")!.Vxlan!;
        Assert.Equal(("192.168.50.2", (byte)64, (byte)1, (ushort)40000, (ushort)50000, false),
            (vx9.Remote?.ToString(), vx9.Ttl, vx9.Tos, vx9.PortMin, vx9.PortMax, vx9.UdpCsum));
        Assert.Equal(
            [
                "02:00:00:00:0a:02 dev flannel.1 dst 192.168.50.2 self permanent",
                "02:00:00:00:0a:99 dev vx9 dst 192.168.50.4 self static",
                "00:00:00:00:00:00 dev vx9 dst 192.168.50.2 via eth0 self permanent", // the default remote: remote_ifindex is dev eth0
                "00:00:00:00:00:00 dev vx9 dst 192.168.50.3 self permanent",
            ],
            h.VxlanFdb.Select(e => e.ToString()));
        Assert.StartsWith("snaptun-h/fdb.json: [", h.VxlanFdb[0].Source);
        var mv1 = Snap.Value.Namespace("snaptun-m")!.Device("mv1")!.Macvlan!;
        Assert.Equal(("snaptun-h", "eth0", MacvlanMode.Private), (mv1.LowerNamespace, mv1.Lower, mv1.Mode));
    }

    /// <summary>A ping from pod1 to pod2 across flannel.1 takes the same path through the snapshot as through the lab.</summary>
    [Fact]
    public void APodToPodPingCrossesTheOverlayAsInTheLab()
    {
        static string Trace(HostTopology topology)
        {
            var engine = new DatapathEngine(topology);
            var f = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:0b:01"), MacAddress.Parse("02:00:00:00:0d:01"), EtherTypes.Ipv4,
                FrameBuilder.Ipv4(IpAddr.Parse("10.244.1.2"), IpAddr.Parse("10.244.2.2"), IpProtocol.Icmp, FrameBuilder.IcmpEcho(101, 1)));
            var t = engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap",
                engine.ResolveInjectionPoint("snaptun-h/veth1"));
            return $"{t.Fate} {t.Reason}: " + string.Join(" -> ", t.Path.Select(e => $"{e.Namespace}/{e.Device} {e.Function}"));
        }
        var snap = Trace(Snap.Value);
        Assert.Contains("snaptun-h/flannel.1 vxlan_xmit", snap);
        Assert.Contains("snaptun-n2/", snap);
        Assert.Contains("vxlan_rcv", snap);
        Assert.Equal(Trace(Lab.Value), snap);
    }

    /// <summary>
    /// TestData/snapshot-flannel is tests/scenarios/vxlan-flannel's lab built in namespaces of its own
    /// and collected; renamed back to the scenario's namespaces, it must take the recorded wire.pcap as
    /// the kernel did, frame by frame, as the lab does (VxlanScenarioTests).
    /// </summary>
    [Fact]
    public void TheVxlanFlannelCaptureAgreesWithTheKernelOnASnapshotOfItsHost()
    {
        var names = new Dictionary<string, string> { ["snaptun-h"] = "host", ["snaptun-n2"] = "node2", ["snaptun-p1"] = "pod1", ["snaptun-p2"] = "pod2" };
        var snap = Path.Combine(RepoPaths.Root, "tests", "PktFlow.Core.Tests", "TestData", "snapshot-flannel", "snap");
        var topology = Copied(snap, dir =>
        {
            foreach (var (from, to) in names) Directory.Move(Path.Combine(dir, from), Path.Combine(dir, to));
            foreach (var file in new[] { "manifest.txt" }.Concat(names.Values.Select(n => Path.Combine(n, "netns.json"))))
            {
                var path = Path.Combine(dir, file);
                File.WriteAllText(path, names.Aggregate(File.ReadAllText(path), (text, n) => text.Replace(n.Key, n.Value, StringComparison.Ordinal)));
            }
        });
        Assert.Empty(topology.Warnings);
        Assert.All(topology.Namespaces, n => Assert.Empty(n.Unmodelled));
        var j = PktFlow.Judge.ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "vxlan-flannel"), topology);
        var differing = j.Frames.Where(f => !f.Agrees).Select(f => $"frame {f.Frame}: kernel {f.Kernel}; model {f.Model}; {string.Join("; ", f.Differences)}");
        output.WriteLine($"{j.Agreed}/{j.Judged} frames agree; {j.Conntrack}; {j.Sockets}");
        foreach (var d in j.Sockets.Differences) output.WriteLine("  sock " + d);
        Assert.True(j.Judged > 0);
        Assert.True(j.Agreed == j.Judged, string.Join("\n", differing));
        Assert.Empty(j.Conntrack.Differences);
        // the pods' listeners stay after their first connection, as the kernel listed them
        Assert.Empty(j.Sockets.Differences);
        Assert.Equal(2, j.Sockets.Listeners.Agreed);
    }

    // ---- what the lab loader refuses, in a copy of the snapshot with one thing changed ----

    /// <summary>A snapshot loaded from a temporary copy of <paramref name="snapshot"/> that <paramref name="change"/> edited.</summary>
    private static HostTopology Copied(string snapshot, Action<string> change)
    {
        var dir = Directory.CreateTempSubdirectory("snaptun-").FullName;
        try
        {
            foreach (var src in Directory.EnumerateFiles(snapshot, "*", SearchOption.AllDirectories))
            {
                var dst = Path.Combine(dir, Path.GetRelativePath(snapshot, src));
                Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
                File.Copy(src, dst);
            }
            change(dir);
            return SnapshotLoader.Load(dir);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static HostTopology Changed(string ns, string file, Action<JsonNode> change) => Copied(SnapshotDir, dir =>
    {
        var path = Path.Combine(dir, ns, file);
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        change(root);
        File.WriteAllText(path, root.ToJsonString());
    });

    private static JsonNode Link(JsonNode root, string name) => root.AsArray().First(l => (string?)l!["ifname"] == name)!;

    [Fact]
    public void AVxlanFlowLabelAndZeroChecksumReceiveAreTaken()
    {
        var t = Changed("snaptun-h", "link.json", root =>
        {
            var data = Link(root, "vx9")["linkinfo"]!["info_data"]!.AsObject();
            data["label"] = "0x12345";
            data["udp_zero_csum6_rx"] = true;
        });
        var p = t.Namespace("snaptun-h")!.Device("vx9")!.Vxlan!;
        Assert.Equal((0x12345u, true), (p.FlowLabel, p.UdpZeroCsum6Rx));
        var inherit = Changed("snaptun-h", "link.json", root => Link(root, "vx9")["linkinfo"]!["info_data"]!.AsObject()["label_policy"] = "inherit");
        Assert.Null(inherit.Namespace("snaptun-h")!.Device("vx9")!.Vxlan);
    }

    [Fact]
    public void AVxlanGroupIsItsMulticastRemote()
    {
        // `ip -d -j link` lists `group` (`group6`) where a unicast device has `remote`: the same cfg.remote_ip
        var t = Changed("snaptun-h", "link.json", root =>
        {
            var data = Link(root, "vx9")["linkinfo"]!["info_data"]!.AsObject();
            data.Remove("remote");
            data["group"] = "239.1.1.1";
        });
        var p = t.Namespace("snaptun-h")!.Device("vx9")!.Vxlan!;
        Assert.Equal(IpAddr.Parse("239.1.1.1"), p.Group);
        Assert.Equal("eth0", p.Lower);
    }

    [Theory]
    [InlineData("external", "true", "unsupported: vxlan external (collect metadata) is not modelled")]
    [InlineData("df", "\"set\"", "unsupported: vxlan df set is not modelled (only the default, unset)")]
    [InlineData("gbp", "true", "unsupported: vxlan option 'gbp' is not modelled")]
    [InlineData("ageing", "60", "unsupported: vxlan option 'ageing' is not modelled")]
    [InlineData("ttl", null, VxlanUnsupported.TtlInherit)]
    public void AVxlanWithWhatTheLabRefusesIsNamedNotModelled(string key, string? value, string message)
    {
        var t = Changed("snaptun-h", "link.json", root =>
        {
            var data = Link(root, "vx9")["linkinfo"]!["info_data"]!.AsObject();
            if (value is null) data.Remove(key);
            else data[key] = JsonNode.Parse(value);
        });
        var h = t.Namespace("snaptun-h")!;
        Assert.Null(h.Device("vx9")!.Vxlan);
        Assert.Contains(h.Unmodelled, u => u.StartsWith("snaptun-h/link.json: [", StringComparison.Ordinal) && u.EndsWith($"vxlan device vx9: {message} (its datapath is not modelled)", StringComparison.Ordinal));
        // its FDB entries cannot go to a device that is not modelled: they are named
        Assert.DoesNotContain(h.VxlanFdb, e => e.Device == "vx9");
        Assert.Contains(h.Unmodelled, u => u.Contains("fdb 02:00:00:00:0a:99 dev vx9 dst 192.168.50.4", StringComparison.Ordinal));
        // the lab loader refuses the same with the same words
        var e = Assert.ThrowsAny<Exception>(() => LabLoader.Load($"ip link add vx0 type vxlan id 5 {LabWord(key, value)}", "t.lab"));
        Assert.Contains(message, e.Message);
    }

    private static string LabWord(string key, string? value) => (key, value) switch
    {
        ("external", _) => "external",
        ("df", _) => "df set",
        ("ttl", null) => "ttl inherit",
        (_, "true") => key,
        _ => $"{key} {value}",
    };

    [Theory]
    [InlineData("port", "5555", "unsupported: vxlan fdb attribute 'port' is not modelled")]
    [InlineData("vni", "77", "unsupported: vxlan fdb attribute 'vni' is not modelled")]
    [InlineData("viaIf", "\"mv0\"", "unsupported: vxlan fdb attribute 'via' is not modelled")]
    [InlineData("dst", null, VxlanUnsupported.FdbWithoutDst)]
    public void AVxlanFdbEntryWithWhatTheLabRefusesIsNamed(string key, string? value, string message)
    {
        var t = Changed("snaptun-h", "fdb.json", root =>
        {
            var e = root.AsArray().First(x => (string?)x!["mac"] == "02:00:00:00:0a:99")!.AsObject();
            if (value is null) e.Remove(key);
            else e[key] = JsonNode.Parse(value);
        });
        var h = t.Namespace("snaptun-h")!;
        Assert.DoesNotContain(h.VxlanFdb, e => e.Mac == MacAddress.Parse("02:00:00:00:0a:99"));
        Assert.Contains(h.Unmodelled, u => u.Contains("fdb 02:00:00:00:0a:99 dev vx9", StringComparison.Ordinal) && u.EndsWith(message, StringComparison.Ordinal));
        Assert.Equal(3, h.VxlanFdb.Count);
    }

    [Fact]
    public void LearnedVxlanEntriesAreACacheAndLeftOut()
    {
        var t = Changed("snaptun-h", "fdb.json", root => root.AsArray().First(x => (string?)x!["mac"] == "02:00:00:00:0a:99")!.AsObject().Remove("state"));
        Assert.Equal(3, t.Namespace("snaptun-h")!.VxlanFdb.Count);
        Assert.Empty(t.Namespace("snaptun-h")!.Unmodelled);
    }

    [Fact]
    public void AMacvlanWhoseLowerDeviceIsInANamespaceTheSnapshotCannotNameIsNotModelled()
    {
        // netns.json maps link_netnsid 0 to snaptun-h; without it the lower device (ifindex 2) is unknown
        var t = Changed("snaptun-m", "netns.json", root => root.AsArray().Clear());
        var m = t.Namespace("snaptun-m")!;
        Assert.Null(m.Device("mv1")!.Macvlan);
        Assert.Equal(DeviceKind.Macvlan, m.Device("mv1")!.Kind);
        var line = Assert.Single(m.Unmodelled);
        Assert.EndsWith("macvlan device mv1: its lower device (ifindex 2 in namespace id 0) is not in the snapshot (its datapath is not modelled)", line);
    }

    [Theory]
    [InlineData("nopromisc", "true", "unsupported: macvlan option 'nopromisc' is not modelled (only mode and macaddr)")]
    [InlineData("bcqueuelen", "50", "unsupported: macvlan option 'bcqueuelen' is not modelled (only mode and macaddr)")]
    [InlineData("mode", "\"sideways\"", "macvlan mode is private, vepa, bridge, passthru or source, got 'sideways'")]
    public void AMacvlanWithWhatTheLabRefusesIsNamedNotModelled(string key, string value, string message)
    {
        var t = Changed("snaptun-h", "link.json", root => Link(root, "mv0")["linkinfo"]!["info_data"]![key] = JsonNode.Parse(value));
        var h = t.Namespace("snaptun-h")!;
        Assert.Null(h.Device("mv0")!.Macvlan);
        Assert.Contains(h.Unmodelled, u => u.EndsWith($"macvlan device mv0: {message} (its datapath is not modelled)", StringComparison.Ordinal));
    }

    [Fact]
    public void SourceModeMacsComeFromMacaddrData()
    {
        var t = Changed("snaptun-h", "link.json", root =>
        {
            var data = Link(root, "mv0")["linkinfo"]!["info_data"]!;
            data["mode"] = "source";
            data["macaddr_data"] = new JsonArray("02:00:00:00:00:11", "02:00:00:00:00:12");
        });
        var mv0 = t.Namespace("snaptun-h")!.Device("mv0")!.Macvlan!;
        Assert.Equal((MacvlanMode.Source, "02:00:00:00:00:11 02:00:00:00:00:12"), (mv0.Mode, string.Join(' ', mv0.SourceMacs)));
    }

    [Theory]
    [InlineData("PROMISC", true, false)]
    [InlineData("ALLMULTI", false, true)]
    public void AMacvlansPromiscAndAllmultiFlagsFillItsMcFilter(string flag, bool promisc, bool allmulti)
    {
        Assert.False(Changed("snaptun-h", "link.json", _ => { }).Namespace("snaptun-h")!.Device("mv0")!.Macvlan!.McFilterFull);
        var t = Changed("snaptun-h", "link.json", root => Link(root, "mv0")["flags"]!.AsArray().Add(flag));
        var mv0 = t.Namespace("snaptun-h")!.Device("mv0")!.Macvlan!;
        Assert.Equal((promisc, allmulti, true), (mv0.Promisc, mv0.AllMulti, mv0.McFilterFull));
    }
}
