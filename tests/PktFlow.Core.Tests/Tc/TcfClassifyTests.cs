using PktFlow.Datapath;
using PktFlow.Tc;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Tc;

/// <summary>
/// tcf_classify walks filters through the classifier base alone (tp->classify): a classifier the
/// engine has never heard of decides, reclassifies and gives a classid as the built-in ones do, and
/// res.classid comes out of the classification (u32's classid, cls_bpf's program result).
/// </summary>
public class TcfClassifyTests
{
    private static readonly string Obj = Path.Combine(RepoPaths.Root, "tests", "scenarios", "tc-bpf-classid", "tc_bpf_classid.o");

    /// <summary>A classifier of the test's own: reclassifies the first time it sees the packet, then matches with classid 7:7 and runs the filter's actions.</summary>
    private sealed class SecondTime : TcClassifier
    {
        public int Seen;
        public override string Kind => "second-time";
        public override bool Match(SkBuff skb) => true;
        public override TcAct Classify(SkBuff skb, TraceBuilder t, TcFilter f, TcDirection dir, ref TcfResult res, out string? line)
        {
            if (Seen++ == 0) { line = "first look: reclassify"; return TcAct.Reclassify; }
            return base.Classify(skb, t, f, dir, ref res, out line);
        }
    }

    private static (SkBuff Skb, TraceBuilder T) Packet(string filters = "")
    {
        var lab = $"""
            ip link add eth0 address 02:00:00:00:01:01 type veth peer name veth1
            ip addr add 10.1.0.1/24 dev eth0
            ip link set eth0 up
            tc qdisc add dev eth0 clsact
            {filters.Replace("OBJ", Obj)}
            """;
        var topo = LabLoader.Load(lab, "tc.lab");
        var engine = new DatapathEngine(topo);
        var frame = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:01:01"), MacAddress.Parse("02:00:00:00:01:02"), EtherTypes.Ipv4,
            FrameBuilder.Ipv4(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.1.0.1"), 17, FrameBuilder.Udp(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.1.0.1"), 40000, 7777)));
        var ns = topo.Host;
        var skb = new SkBuff(frame) { Netns = ns, Dev = ns.Device("eth0")!, Engine = engine, Protocol = EtherTypes.Ipv4, MacHeader = 0, NetworkHeader = 14 };
        return (skb, new TraceBuilder());
    }

    [Fact]
    public void AClassifierOfItsOwnDecidesThroughTheBase()
    {
        var (skb, t) = Packet();
        var cls = new SecondTime { ClassIdValue = 0x0007_0007 };
        var filter = new TcFilter(TcDirection.Ingress, 10, TcFilter.ProtocolAll, 1, cls, [new GactAction { Control = TcAct.Shot }], "test");
        var r = TcfClassify.Classify(skb, t, [filter], TcDirection.Ingress);
        Assert.Equal(2, cls.Seen);
        Assert.Equal(TcAct.Shot, r.Result);
        Assert.Equal(0x0007_0007u, r.ClassId);
        Assert.Equal("first look: reclassify; pref 10 second-time handle 0x1 (PktFlow.Tests.Tc.TcfClassifyTests+SecondTime): gact action drop -> drop", r.Text);
    }

    [Fact]
    public void AU32ClassidIsTheResultsClassid()
    {
        var (skb, t) = Packet("tc filter add dev eth0 ingress pref 10 protocol ip u32 match ip dport 7777 0xffff classid 1:10");
        var r = TcfClassify.Classify(skb, t, skb.Netns.Tc!["eth0"].Ingress, TcDirection.Ingress);
        Assert.Equal(TcAct.Ok, r.Result);
        Assert.Equal(0x0001_0010u, r.ClassId);
    }

    [Fact]
    public void AClsBpfProgramsClassidIsTheResultsClassid()
    {
        // tc_bpf_classid.o's cls section returns classid 1:10 for UDP 7777
        var (skb, t) = Packet("tc filter add dev eth0 ingress pref 10 bpf obj OBJ sec cls classid 2:20");
        var r = TcfClassify.Classify(skb, t, skb.Netns.Tc!["eth0"].Ingress, TcDirection.Ingress);
        Assert.Equal(TcAct.Ok, r.Result);
        Assert.Equal(0x0001_0010u, r.ClassId);
        Assert.Contains("program returned classid 1:10: no actions, pass", r.Text);
    }
}
