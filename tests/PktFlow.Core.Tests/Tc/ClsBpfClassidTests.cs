using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Tc;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Tc;

/// <summary>
/// cls_bpf without direct-action (cls_bpf_classify when exts_integrated is false): the program's
/// return value is a classid, 0 no match, -1 the filter's classid; a match runs the filter's actions
/// (none: TC_ACT_OK). Programs of tests/scenarios/tc-bpf-classid (checked on the kernel there).
/// </summary>
public class ClsBpfClassidTests
{
    private static readonly string Obj = Path.Combine(RepoPaths.Root, "tests", "scenarios", "tc-bpf-classid", "tc_bpf_classid.o");
    private static readonly MacAddress H = MacAddress.Parse("02:00:00:00:01:01"), C = MacAddress.Parse("02:00:00:00:01:02");

    private static PacketTrace Run(ushort udpPort, params string[] filters)
    {
        var lab = $"""
            ip link add eth0 address 02:00:00:00:01:01 type veth peer name veth1
            ip addr add 10.1.0.1/24 dev eth0
            ip link set eth0 up
            tc qdisc add dev eth0 clsact
            {string.Join("\n", filters.Select((f, i) => $"tc filter add dev eth0 ingress pref {10 * (i + 1)} {f.Replace("OBJ", Obj)}"))}
            """;
        var engine = new DatapathEngine(LabLoader.Load(lab, "tc.lab"));
        var f = FrameBuilder.Ethernet(H, C, EtherTypes.Ipv4, FrameBuilder.Ipv4(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.1.0.1"), 17,
            FrameBuilder.Udp(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.1.0.1"), 40000, udpPort)));
        return engine.Process(new CaptureFrame(1, 0, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("host/eth0"));
    }

    private static string Tc(PacketTrace t) => t.Path.First(e => e.Stage == "TcIngress").Detail;

    [Fact]
    public void NoMatchSkipsTheFiltersActions()
    {
        // the program returns 0 for UDP to 53: the filter's drop never runs
        var t = Run(53, "bpf obj OBJ sec cls action drop");
        Assert.Contains("program returned 0 (no match), the next filter", Tc(t));
        Assert.NotEqual(Fate.Dropped, t.Fate);
    }

    [Fact]
    public void AClassidRunsTheActions()
    {
        var t = Run(7777, "bpf obj OBJ sec cls action drop");
        Assert.Contains("program returned classid 1:10: gact action drop -> drop", Tc(t));
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.StartsWith("TC_INGRESS", t.Reason);
    }

    [Fact]
    public void AMatchWithoutActionsEndsTheClassificationWithPass()
    {
        // UDP to 7779 matches pref 10 (no actions: TC_ACT_OK); the drop at pref 20 is never reached
        var t = Run(7779, "bpf obj OBJ sec cls_ok", "bpf da obj OBJ sec da_drop");
        var tc = Tc(t);
        Assert.Contains("program returned classid 1:3: no actions, pass", tc);
        Assert.DoesNotContain("pref 20", tc);
        Assert.NotEqual(Fate.Dropped, t.Fate);
        // without the classid filter the direct-action one drops it
        Assert.Equal(Fate.Dropped, Run(7779, "bpf da obj OBJ sec da_drop").Fate);
    }

    [Fact]
    public void ContinueFromTheActionsGoesToTheNextFilter()
    {
        // tcf_exts_exec returning TC_ACT_UNSPEC (< 0): cls_bpf_classify goes on, so does tcf_classify
        var t = Run(7777, "bpf obj OBJ sec cls action continue", "bpf da obj OBJ sec da_drop");
        Assert.Contains("pref 20", Tc(t));
        Assert.Equal(Fate.Dropped, t.Fate);
    }

    [Fact]
    public void SkipSwNeverRunsTheProgram()
    {
        var t = Run(7777, "bpf skip_sw obj OBJ sec cls action drop");
        Assert.NotEqual(Fate.Dropped, t.Fate);
    }

    [Theory]
    [InlineData("1:1", 0x00010001u)]
    [InlineData("1:", 0x00010000u)]
    [InlineData(":a", 0x0000000Au)]
    [InlineData("ffff:ffff", 0xFFFFFFFFu)]
    [InlineData("10001", 0x00010001u)] // a bare number is the whole handle (get_tc_classid)
    [InlineData("root", 0xFFFFFFFFu)]
    [InlineData("none", 0u)]
    public void ClassidsAsTcReadsThem(string text, uint value) => Assert.Equal(value, TcFilterParser.ParseClassId(text));

    [Theory]
    [InlineData("10000:1")]
    [InlineData("1:10000")]
    [InlineData("x:1")]
    [InlineData("1:2:3")]
    public void BadClassidsAreRefused(string text) => Assert.Throws<TcParseException>(() => TcFilterParser.ParseClassId(text));
}
