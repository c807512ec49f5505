using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Topology.Snapshot;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Topology.Snapshot;

/// <summary>
/// Route metrics from a snapshot: TestData/snapshot-route-mtu/snap was taken by the collector from
/// its lab.sh built for real (make.sh). `ip -j route` prints `mtu lock 1300` as
/// "metrics":[{"mtu":1300}]; the lock is read from route4.txt/route6.txt.
/// </summary>
public class SnapshotRouteMtuTests
{
    private static string Folder => Path.Combine(RepoPaths.Root, "tests", "PktFlow.Core.Tests", "TestData", "snapshot-route-mtu");
    private static string SnapshotDir => Path.Combine(Folder, "snap");
    private static readonly Lazy<HostTopology> Loaded = new(() => SnapshotLoader.Load(SnapshotDir));
    private static NetNamespace Router => Loaded.Value.Namespace("snapmet-rm")!;

    private static Route RouteTo(NetNamespace ns, string dst) => ns.Routes.Single(r => r.Destination.ToString() == dst);

    [Fact]
    public void MtuMetricsAndTheirLocksAreTheRoutes()
    {
        Assert.Equal("10.3.0.0/24 via 10.2.0.2 dev eth1 mtu 1400", RouteTo(Router, "10.3.0.0/24").ToString());
        Assert.Equal("10.4.0.0/24 via 10.2.0.2 dev eth1 mtu lock 1300", RouteTo(Router, "10.4.0.0/24").ToString());
        Assert.Equal((1280, false, 100u), (RouteTo(Router, "10.5.0.0/24").Mtu, RouteTo(Router, "10.5.0.0/24").MtuLocked, RouteTo(Router, "10.5.0.0/24").Table));
        // a multipath route's text spans three lines; the pairing with the JSON still holds after it
        Assert.Equal((1350, true, 2), (RouteTo(Router, "10.6.0.0/24").Mtu, RouteTo(Router, "10.6.0.0/24").MtuLocked, RouteTo(Router, "10.6.0.0/24").Nexthops!.Count));
        Assert.Equal((0, false), (RouteTo(Router, "10.7.0.0/24").Mtu, RouteTo(Router, "10.7.0.0/24").MtuLocked));
        Assert.Equal("2001:db8:3::/64 via 2001:db8:2::2 dev eth1 metric 1024 mtu 1400", RouteTo(Router, "2001:db8:3::/64").ToString());
        Assert.Equal("2001:db8:4::/64 via 2001:db8:2::2 dev eth1 metric 1024 mtu lock 1300", RouteTo(Router, "2001:db8:4::/64").ToString());
        // the metrics the model has no use for are named, the mtu is not
        Assert.Contains(Router.Unmodelled, l => l.Contains("route 10.5.0.0/24 table 100 has metrics advmss 1200 (not modelled)"));
        Assert.Contains(Router.Unmodelled, l => l.Contains("route 10.7.0.0/24 table main has metrics advmss 1000 (not modelled)"));
        Assert.DoesNotContain(Router.Unmodelled, l => l.Contains("mtu", StringComparison.Ordinal));
        Assert.Empty(Loaded.Value.Warnings);
    }

    [Fact]
    public void TheLabAndTheKernelAgree()
    {
        var lab = LabLoader.LoadFile(Path.Combine(Folder, "lab.sh"));
        SnapshotLoaderTests.AssertLabAgrees(Loaded.Value, lab, "snapmet-rm", "rm");
        SnapshotLoaderTests.AssertLabAgrees(Loaded.Value, lab, "snapmet-rc", "rc");
    }

    private static readonly MacAddress RouterEth0 = MacAddress.Parse("02:00:5e:20:00:01"), Client = MacAddress.Parse("02:00:5e:20:00:02");

    private static PacketTrace Forward(byte[] frame)
    {
        var engine = new DatapathEngine(Loaded.Value);
        var at = engine.ResolveInjectionPoint("snapmet-rm/eth0");
        return engine.Process(new CaptureFrame(1, 1_700_000_000_000_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame), "test.pcap", at);
    }

    private static string Generated(PacketTrace t) => string.Join(" | ", t.GeneratedTraces.Select(c => c.Summary));

    [Fact]
    public void ForwardingTakesTheRouteMtu()
    {
        // 1350 bytes with DF: too big for the route of 1300, though eth1 is 1500
        var v4 = Forward(Ether(RouterEth0, Client, 0x0800, Ipv4("10.1.0.2", "10.4.0.5", 1, Icmp(8, 0, 7u << 16 | 1, Bytes(1322)), df: true)));
        Assert.Equal(Fate.Dropped, v4.Fate);
        Assert.Contains("need to frag (mtu 1300)", Generated(v4), StringComparison.Ordinal);

        // IPv6 forwarding takes a route mtu only when it is locked (ip6_dst_mtu_maybe_forward)
        byte[] Echo6(string dst) => Ether(RouterEth0, Client, 0x86DD, Ipv6("2001:db8:1::2", dst, 58, Icmpv6("2001:db8:1::2", dst, 128, 0, 7u << 16 | 1, Bytes(1302))));
        var locked = Forward(Echo6("2001:db8:4::5"));
        Assert.Equal(Fate.Dropped, locked.Fate);
        Assert.Contains("mtu 1300", Generated(locked), StringComparison.Ordinal);
        var unlocked = Forward(Echo6("2001:db8:3::5"));
        // the unlocked 1400 is not used: the router sends it on through eth1 (the client then drops it, not forwarding)
        Assert.Contains(unlocked.Path, e => e is { Namespace: "snapmet-rm", Stage: "Ip6FinishOutput" } && e.Detail == "1350 bytes fit MTU 1500");
        Assert.Contains(unlocked.Path, e => e is { Namespace: "snapmet-rm", Stage: "VethXmit" } && e.Detail == "eth1 -> snapmet-rc/eth1");
    }

    [Fact]
    public void WithoutTheTextFormTheLockIsUnknownAndSaidSo()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pktflow-snapmet-" + Guid.NewGuid().ToString("N"));
        try
        {
            foreach (var file in Directory.GetFiles(SnapshotDir, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(dir, Path.GetRelativePath(SnapshotDir, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
            File.Delete(Path.Combine(dir, "snapmet-rm", "route4.txt"));
            // a route added between the two dumps: the text cannot be paired with the JSON
            File.AppendAllText(Path.Combine(dir, "snapmet-rm", "route6.txt"), "2001:db8:9::/64 dev eth0 metric 1024 pref medium\n");
            var t = SnapshotLoader.Load(dir);
            var r = t.Namespace("snapmet-rm")!;
            Assert.Equal((1300, false), (RouteTo(r, "10.4.0.0/24").Mtu, RouteTo(r, "10.4.0.0/24").MtuLocked));
            Assert.Contains(t.Warnings, w => w == "snapmet-rm/route4.json: [4].metrics: route 10.4.0.0/24 table main has mtu 1300; `ip -j` does not say whether it is locked and the snapshot has no snapmet-rm/route4.txt (an older collector): taken as not locked");
            Assert.Contains(t.Warnings, w => w.StartsWith("snapmet-rm/route6.json: ", StringComparison.Ordinal) && w.Contains("route 2001:db8:4::/64 table main has mtu 1300;") && w.EndsWith("snapmet-rm/route6.txt lists 18 routes where route6.json lists 17 (the routes changed while the snapshot was taken): taken as not locked"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
