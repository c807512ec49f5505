using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Tc;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Topology.Snapshot;
using PktFlow.Wire;

namespace PktFlow.Tests.Tc;

/// <summary>
/// tc in host snapshots: tc-qdisc.json and tc-filter.txt as scripts/pktflow-collect.sh wrote them on
/// 6.18 (TestData/snapshot-tc, from snapshot-tc/lab.sh: u32 and mirred), and flower/gact/skbedit/vlan
/// listings in the text tc prints for them.
/// </summary>
public class TcSnapshotTests
{
    private static string Dir => Path.Combine(RepoPaths.Root, "tests", "PktFlow.Core.Tests", "TestData", "snapshot-tc", "lab");

    private static PacketTrace Inject(HostTopology topo, string at, byte[] f)
    {
        var engine = new DatapathEngine(topo);
        return engine.Process(new CaptureFrame(1, 0, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint(at));
    }

    [Fact]
    public void TheCollectorsListingGivesTheSameFiltersAsTheLab()
    {
        var r = SnapshotLoader.Load(Dir).Namespace("pftc-r")!;
        var lab = LabLoader.LoadFile(Path.Combine(Dir, "..", "lab.sh")).Namespace("pftc-r")!;
        foreach (var ns in new[] { r, lab })
        {
            Assert.Equal(new[] { "eth0", "eth1" }, ns.Tc!.Keys.Order());
            var eth0 = ns.Tc["eth0"];
            Assert.Equal(
                new[] { "10 800::800 match 00060000/00ff0000 at 8 match 00000017/0000ffff at 20: mirred (Egress Mirror to device eth2) drop",
                        "20 801::800 match 0a050042/ffffffff at 12 :1: ",
                        "30 802::800 match 00110000/00ff0000 at 8 match 00001b58/0000ffff at 20: mirred (Egress Redirect to device eth1) stolen" },
                eth0.Ingress.Select(f => $"{f.Pref} {f.HandleText} {f.Classifier}{(f.Classifier.ClassId is { } c ? " " + c : "")}: {string.Join(", ", f.Actions)}"));
            Assert.Equal("49152 803::800", Assert.Single(eth0.Egress, f => true) is var e ? $"{e.Pref} {e.HandleText}" : "");
            Assert.Equal(("ingress", 1, 0), (ns.Tc["eth1"].Qdisc, ns.Tc["eth1"].Ingress.Count, ns.Tc["eth1"].Egress.Count));
        }
        Assert.Empty(SnapshotLoader.Load(Dir).Namespace("pftc-c")!.Tc!);
    }

    [Fact]
    public void ASnapshotsFiltersDecideAndASnapshotWithoutTcLeavesItNotModelled()
    {
        var syn = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:0a:01"), MacAddress.Parse("02:00:00:00:0a:02"), EtherTypes.Ipv4,
            FrameBuilder.Ipv4(IpAddr.Parse("10.5.0.2"), IpAddr.Parse("10.5.0.1"), 6, FrameBuilder.Tcp(IpAddr.Parse("10.5.0.2"), IpAddr.Parse("10.5.0.1"), 40000, 23)));
        var t = Inject(SnapshotLoader.Load(Dir), "pftc-r/eth0", syn);
        Assert.True(t.Fate == Fate.Dropped && t.Reason == "TC_INGRESS", string.Join("\n", t.Path));

        var old = SnapshotLoader.Load(Path.Combine(RepoPaths.Root, "tests", "PktFlow.Core.Tests", "TestData", "snapshot", "lab")).Namespace("pfsnap-r")!;
        Assert.Null(old.Tc);
    }

    /// <summary>What iproute2 6.1's f_flower.c, f_matchall.c and the action printers write (the recording kernel has none of these modules).</summary>
    private const string FlowerText = """
        dev eth0 ingress
        filter protocol ip pref 10 flower chain 0 
        filter protocol ip pref 10 flower chain 0 handle 0x1 
          eth_type ipv4
          ip_proto tcp
          dst_port 23
          not_in_hw
        	action order 1: gact action drop
        	 random type none pass val 0
        	 index 1 ref 1 bind 1

        filter protocol ip pref 20 flower chain 0 
        filter protocol ip pref 20 flower chain 0 handle 0x1 
          eth_type ipv4
          src_ip 10.1.0.66
          not_in_hw
        	action order 1: skbedit  mark 66 pipe
        	 index 1 ref 1 bind 1

        	action order 2: gact action pass
        	 random type none pass val 0
        	 index 2 ref 1 bind 1

        filter protocol all pref 30 matchall chain 0 
        filter protocol all pref 30 matchall chain 0 handle 0x1 
          not_in_hw
        	action order 1: vlan  push id 100 protocol 802.1Q priority 0 pipe
        	 index 1 ref 1 bind 1

        dev eth0 egress
        filter protocol ip pref 1 bpf chain 0 
        filter protocol ip pref 1 bpf chain 0 handle 0x1 prog.o:[classifier] direct-action not_in_hw id 42 tag 0123456789abcdef 
        """;

    [Fact]
    public void FlowerMatchallAndTheirActionsAreReadFromTcsText()
    {
        var p = TcShowParser.Parse(FlowerText.Split('\n'));
        var f = p.Filters[("eth0", TcDirection.Ingress)];
        Assert.Equal(new[] { "10 flower ip_proto tcp dst_port 23: gact action drop", "20 flower src_ip 10.1.0.66: skbedit mark 66 pipe, gact action pass", "30 matchall matchall: vlan push id 100 protocol 802.1Q priority 0 pipe" },
            f.Select(x => $"{x.Pref} {x.Classifier.Kind} {x.Classifier}: {string.Join(", ", x.Actions)}"));
        Assert.Contains("cls_bpf", p.Problems[("eth0", TcDirection.Egress)]);
        Assert.False(p.Filters.ContainsKey(("eth0", TcDirection.Egress)));
    }
}
