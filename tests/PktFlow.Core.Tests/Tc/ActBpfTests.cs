using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Tests.Bpf;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Tc;

/// <summary>
/// act_bpf (`action bpf obj F sec S [CONTROL]`) as tcf_bpf_act maps the program's return code:
/// OK, SHOT, PIPE, RECLASSIFY, REDIRECT pass through, TC_ACT_UNSPEC takes the action's control,
/// anything else becomes TC_ACT_UNSPEC. From net/sched/act_bpf.c: the recording kernel has no act_bpf.
/// Test object TestData/bpf/act_prog.c.
/// </summary>
public class ActBpfTests
{
    private static readonly MacAddress H = MacAddress.Parse("02:00:00:00:01:01"), C = MacAddress.Parse("02:00:00:00:01:02");

    private static PacketTrace Run(params string[] filters)
    {
        var lab = $"""
            ip netns add c
            ip netns add d
            ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 netns c
            ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns d
            ip addr add 10.1.0.1/24 dev eth0
            ip link set eth0 up
            ip link set eth1 up
            ip -n d link set eth0 up
            tc qdisc add dev eth0 clsact
            {string.Join("\n", filters.Select((f, i) => $"tc filter add dev eth0 ingress pref {10 * (i + 1)} {f.Replace("OBJ", BpfObjectTests.Obj("act_prog.o"))}"))}
            """;
        var engine = new DatapathEngine(LabLoader.Load(lab, "tc.lab"));
        var f = FrameBuilder.Ethernet(H, C, EtherTypes.Ipv4, FrameBuilder.Ipv4(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.1.0.1"), 17,
            FrameBuilder.Udp(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.1.0.1"), 40000, 53)));
        return engine.Process(new CaptureFrame(1, 0, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("host/eth0"));
    }

    private static string Tc(PacketTrace t) => t.Path.First(e => e.Stage == "TcIngress" && e.Namespace == "host").Detail;

    [Theory]
    [InlineData("act/ok", "TC_ACT_OK", "pass", false)]
    [InlineData("act/shot", "TC_ACT_SHOT", "drop", true)]
    public void TheProgramsVerdictIsTheActions(string sec, string code, string verdict, bool dropped)
    {
        var t = Run($"matchall action bpf obj OBJ sec {sec} drop");
        Assert.Contains($"bpf act_prog.o:[{sec}]: program returned {code} {verdict} -> {verdict}", Tc(t));
        Assert.Equal(dropped, t.Fate == Fate.Dropped);
    }

    [Fact]
    public void UnspecTakesTheActionsControl()
    {
        Assert.Contains("program returned TC_ACT_UNSPEC (the action's control, drop) drop -> drop", Tc(Run("matchall action bpf obj OBJ sec act/unspec drop")));
        // iproute2's default control for act_bpf is pipe: the next action runs
        var t = Run("matchall action bpf obj OBJ sec act/unspec action drop");
        Assert.Contains("(the action's control, pipe) pipe, gact action drop -> drop", Tc(t));
        Assert.Equal(Fate.Dropped, t.Fate);
    }

    [Fact]
    public void CodesActBpfDoesNotKnowContinue()
    {
        // TC_ACT_STOLEN from the program is TC_ACT_UNSPEC: the next filter drops it, it is not consumed
        var t = Run("matchall action bpf obj OBJ sec act/stolen pass", "matchall action drop");
        Assert.Contains("program returned TC_ACT_STOLEN continue -> continue; pref 20 matchall", Tc(t));
        Assert.Equal(Fate.Dropped, t.Fate);
    }

    [Fact]
    public void PipeRunsTheNextActionWithTheProgramsEdits()
    {
        var t = Run("matchall action bpf obj OBJ sec act/pipe action bpf obj OBJ sec act/mark_twice");
        Assert.Contains("program returned TC_ACT_PIPE, mark 0x0 -> 0x7 pipe, bpf act_prog.o:[act/mark_twice]: program returned TC_ACT_SHOT drop -> drop", Tc(t));
        Assert.Equal(Fate.Dropped, t.Fate);
    }

    [Fact]
    public void ReclassifyLoopsUntilTheLimit()
    {
        var t = Run("matchall action bpf obj OBJ sec act/reclassify");
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.StartsWith("TC_RECLASSIFY_LOOP", t.Reason);
    }

    [Fact]
    public void RedirectGoesWhereBpfRedirectSaid()
    {
        var t = Run("matchall action bpf obj OBJ sec act/redirect");
        Assert.Contains("program returned TC_ACT_REDIRECT to ifindex 3", Tc(t));
        Assert.Contains(t.Path, e => e.Namespace == "d");
        Assert.DoesNotContain(t.Path, e => e.Stage == "IpRcv" && e.Namespace == "host");
    }

    [Fact]
    public void OnAU32FilterToo()
    {
        var t = Run("protocol ip u32 match ip protocol 17 0xff action bpf obj OBJ sec act/shot");
        Assert.Equal(Fate.Dropped, t.Fate);
    }

    [Theory]
    [InlineData("matchall action bpf sec act/ok", "act_bpf: expected obj FILE")]
    [InlineData("matchall action bpf obj OBJ sec act/ok bogus", "unexpected 'bogus'")]
    [InlineData("matchall action bpf pinned /sys/fs/bpf/x", "unsupported: act_bpf pinned")]
    [InlineData("matchall action bpf obj OBJ", "no program in section action")]
    public void BadActionsNameTheLine(string filter, string message)
    {
        var e = Assert.Throws<LabException>(() => Run(filter));
        Assert.Contains(message, e.Message);
        Assert.Contains("tc.lab:10", e.Message);
    }
}
