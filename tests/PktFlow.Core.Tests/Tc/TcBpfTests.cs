using PktFlow.Bpf;
using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Tests.Bpf;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Tc;

/// <summary>
/// cls_bpf direct-action filters (`tc filter add dev eth0 ingress bpf da obj F sec S`) at
/// sch_handle_ingress, with the test object tc_prog.c. Judged against the kernel in tests/scenarios/tc-bpf-da.
/// </summary>
public class TcBpfTests
{
    private static readonly MacAddress H = MacAddress.Parse("02:00:00:00:01:01"), C = MacAddress.Parse("02:00:00:00:01:02");

    private static string Lab(params string[] secs) => $"""
        ip netns add c
        ip netns add d
        ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns c
        ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns d
        ip addr add 10.1.0.1/24 dev eth0
        ip link set eth0 up
        ip link set eth1 up
        ip -n d link set eth0 up
        tc qdisc add dev eth0 clsact
        {string.Join("\n", secs.Select((s, i) => $"tc filter add dev eth0 ingress pref {10 * (i + 1)} bpf da obj {BpfObjectTests.Obj("tc_prog.o")} sec {s}"))}
        """;

    private static byte[] Udp(string dst = "10.1.0.1") => FrameBuilder.Ethernet(H, C, EtherTypes.Ipv4,
        FrameBuilder.Ipv4(IpAddr.Parse("10.1.0.2"), IpAddr.Parse(dst), 17, FrameBuilder.Udp(IpAddr.Parse("10.1.0.2"), IpAddr.Parse(dst), 40000, 53)));

    private static PacketTrace Run(params string[] secs)
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab(secs), "tc.lab"));
        var f = Udp();
        return engine.Process(new CaptureFrame(1, 0, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("host/eth0"));
    }

    [Fact]
    public void RedirectToAnotherDevicesEgressSendsItThere()
    {
        var t = Run("tc/redirect");
        var tc = t.Path.First(e => e.Stage == "TcIngress");
        Assert.Contains("program returned TC_ACT_REDIRECT to ifindex 3 -> redirect", tc.Detail);
        // eth1 (ifindex 3) transmits it: the peer in d receives it
        Assert.Contains(t.Path, e => e.Device == "eth1");
        Assert.Contains(t.Path, e => e.Namespace == "d");
        Assert.DoesNotContain(t.Path, e => e.Stage == "IpRcv" && e.Namespace == "host");
    }

    [Fact]
    public void RedirectWithIngressFlagReceivesItOnTheTarget()
    {
        var t = Run("tc/redirect_in");
        Assert.Contains("to ifindex 3 ingress", t.Path.Single(e => e.Stage == "TcIngress" && e.Device == "eth0").Detail);
        Assert.Contains(t.Path, e => e.Stage == "TcIngress" && e.Device == "eth1");
    }

    [Fact]
    public void RedirectWithAnUnknownFlagIsShot()
    {
        var t = Run("tc/redirect_bad");
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.StartsWith("TC_INGRESS", t.Reason);
    }

    [Fact]
    public void CbAndTcIndexCarryToTheNextFilterAndPipeContinues()
    {
        var t = Run("tc/cb", "tc/cb_read");
        var tc = t.Path.Single(e => e.Stage == "TcIngress");
        Assert.Contains("pref 10 bpf handle 0x1 (tc_prog.o:[tc/cb] direct-action): program returned TC_ACT_PIPE, priority 0 -> 65538, tc_index 0 -> 5 -> continue", tc.Detail);
        Assert.Contains("pref 20 bpf handle 0x1 (tc_prog.o:[tc/cb_read] direct-action): program returned TC_ACT_SHOT -> drop", tc.Detail);
        Assert.Equal(Fate.Dropped, t.Fate);
    }

    [Fact]
    public void AFieldTheModelDoesNotHaveIsUnsupported()
    {
        var t = Run("tc/hash");
        Assert.Equal(Fate.Unsupported, t.Fate);
        Assert.Contains("__sk_buff hash", t.Reason);
    }

    [Fact]
    public void ChecksumHelpersKeepARewrittenPacketValid()
    {
        var prog = BpfObject.Load(BpfObjectTests.Obj("tc_prog.o")).Program("tc/nat");
        var vm = new BpfVm(SkbContext.Helpers());
        var ctx = new SkbContext();
        vm.Host = ctx;
        vm.Reset([]);
        ctx.Load(Udp());
        var r = vm.Run(prog, ctx.Attach(vm));
        Assert.True(r.Ok, r.ToString());
        Assert.Equal(0UL, r.R0);
        Assert.Equal(Udp("10.1.0.99"), ctx.Frame.ToArray());
    }

    [Theory]
    [InlineData("mov %r0, 0\nldxw %r0, [%r1+0]\nexit", 46UL)] // len
    [InlineData("ldxw %r0, [%r1+16]\nexit", 0x0008UL)] // protocol, __be16 as it lies in memory
    [InlineData("ldxh %r0, [%r1+10]\nexit", 0x1234UL)] // narrow load: the high half of mark 0x12345678
    [InlineData("ldxw %r2, [%r1+76]\nldxw %r3, [%r1+80]\nmov %r0, %r3\nsub %r0, %r2\nexit", 46UL)] // data_end - data
    [InlineData("stw [%r1+8], 9\nldxw %r0, [%r1+8]\nexit", 9UL)] // mark is writable
    public void ContextFields(string asm, ulong expected)
    {
        var (r, _) = RunAsm(asm);
        Assert.True(r.Ok, r.ToString());
        Assert.Equal(expected, r.R0);
    }

    [Theory]
    [InlineData("stw [%r1+40], 1\nexit")] // ifindex is read only
    [InlineData("ldxw %r0, [%r1+68]\nexit")] // hash is not modelled
    [InlineData("ldxdw %r0, [%r1+0]\nexit")] // no 8-byte loads of a __u32
    public void AccessesTheContextRefuses(string asm) => Assert.False(RunAsm(asm).Result.Ok);

    [Fact]
    public void LoadBytesPastTheEndFaultsAndZeroes()
    {
        // bpf_skb_load_bytes(skb, 44, fp-8, 4) of 46 bytes: -EFAULT and the destination cleared
        var (r, _) = RunAsm("stdw [%r10-8], -1\nmov %r2, 44\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 4\ncall 26\nldxw %r1, [%r10-8]\nadd %r0, %r1\nexit");
        Assert.True(r.Ok, r.ToString());
        Assert.Equal(unchecked((ulong)-14L), r.R0);
    }

    private static (BpfRunResult Result, SkbContext Ctx) RunAsm(string asm)
    {
        var vm = new BpfVm(SkbContext.Helpers());
        var ctx = new SkbContext { Mark = 0x12345678, Protocol = EtherTypes.Ipv4 };
        vm.Host = ctx;
        vm.Reset([]);
        ctx.Load(Udp()); // 14 + 20 + 8 + 4 = 46 bytes
        return (vm.Run(new BpfProgram("t", "t", BpfAsm.Assemble(asm)), ctx.Attach(vm)), ctx);
    }

    [Theory]
    [InlineData("bpf da obj OBJ sec tc/cb action drop", "unsupported: cls_bpf da with actions")]
    [InlineData("bpf obj OBJ sec tc/cb classid 1:x action drop", "Illegal \"classid\": 1:x")]
    [InlineData("bpf obj OBJ sec tc/cb police rate 1mbit", "unsupported: cls_bpf police")]
    [InlineData("bpf da pinned /sys/fs/bpf/x", "unsupported: cls_bpf pinned")]
    [InlineData("bpf da obj nothere.o sec tc", "no BPF object nothere.o")]
    [InlineData("bpf da obj OBJ sec nosuch", "no program in section nosuch")]
    public void BadFiltersNameTheLine(string words, string message)
    {
        var lab = $"ip link add eth0 type veth peer name veth1\ntc qdisc add dev eth0 clsact\ntc filter add dev eth0 ingress {words.Replace("OBJ", BpfObjectTests.Obj("tc_prog.o"))}";
        var e = Assert.Throws<LabException>(() => LabLoader.Load(lab, "tc.lab"));
        Assert.Contains(message, e.Message);
        Assert.Contains("tc.lab:3", e.Message);
    }
}
