using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Bpf;

/// <summary>
/// An XDP program attached by the lab (`ip link set dev eth0 xdpgeneric obj F sec xdp`) runs at
/// netif_receive_generic_xdp. Judged against the kernel in tests/scenarios/xdp-drop-udp.
/// </summary>
public class XdpDatapathTests
{
    private static string Lab(string xdp) => $"""
        ip netns add c
        ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns c
        ip addr add 10.1.0.1/24 dev eth0
        ip link set eth0 up
        {xdp}
        """;

    private static readonly MacAddress H = MacAddress.Parse("02:00:00:00:01:01"), C = MacAddress.Parse("02:00:00:00:01:02");

    private static byte[] Udp(ushort dport) =>
        FrameBuilder.Ethernet(H, C, EtherTypes.Ipv4, FrameBuilder.Ipv4(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.1.0.1"), 17, FrameBuilder.Udp(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.1.0.1"), 40000, dport)));

    private static PacketTrace Inject(DatapathEngine engine, byte[] f) =>
        engine.Process(new CaptureFrame(1, 0, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("host/eth0"));

    [Fact]
    public void DropAndPassWithTracePrintkAndMapsKeptAcrossPackets()
    {
        var topo = LabLoader.Load(Lab($"ip link set dev eth0 xdpgeneric obj {BpfObjectTests.Obj("xdp_prog.o")} sec xdp"), "xdp.lab");
        var engine = new DatapathEngine(topo);
        var pass = Inject(engine, Udp(53));
        var xdp = Assert.Single(pass.Path, e => e.Stage == "Xdp");
        Assert.Equal(Verdict.Pass, xdp.Verdict);
        Assert.Equal("xdpgeneric xdp_udp (sec xdp): XDP_PASS; trace_printk: udp to 53", xdp.Detail);
        Assert.NotEqual(Fate.Dropped, pass.Fate);

        var drop = Inject(engine, Udp(7777));
        Assert.Equal(Fate.Dropped, drop.Fate);
        Assert.StartsWith("NOT_SPECIFIED", drop.Reason);
        Assert.Equal("Xdp", drop.Path[^1].Stage);
        Assert.Contains("XDP_DROP", drop.Path[^1].Detail);

        Inject(engine, Udp(53));
        var state = engine.StateOf(topo.Namespaces.Single(n => n.Name == "host"));
        var ports = state.Bpf.Values.Single().Maps.Single(m => m.Def.Name == "ports");
        Assert.Equal(new Dictionary<ushort, ulong> { [53] = 2, [7777] = 1 },
            ports.Entries().ToDictionary(e => BitConverter.ToUInt16(e.Key), e => BitConverter.ToUInt64(e.Value)));
    }

    [Fact]
    public void XdpOffDetaches()
    {
        var topo = LabLoader.Load(Lab($"ip link set dev eth0 xdp obj {BpfObjectTests.Obj("xdp_prog.o")} sec xdp\nip link set dev eth0 xdp off"), "xdp.lab");
        var t = Inject(new DatapathEngine(topo), Udp(7777));
        Assert.DoesNotContain(t.Path, e => e.Stage == "Xdp");
    }

    [Theory]
    [InlineData("ip link set dev eth0 xdpgeneric obj nothere.o sec xdp", "no BPF object nothere.o")]
    [InlineData("ip link set dev eth0 xdpgeneric obj OBJ sec tc", "no program in section tc (has xdp)")]
    [InlineData("ip link set dev eth0 xdpoffload obj OBJ sec xdp", "unsupported: xdpoffload")]
    public void BadAttachmentsNameTheLine(string line, string message)
    {
        var e = Assert.Throws<LabException>(() => LabLoader.Load(Lab(line.Replace("OBJ", BpfObjectTests.Obj("xdp_prog.o"))), "xdp.lab"));
        Assert.Contains(message, e.Message);
        Assert.Contains("xdp.lab:5", e.Message);
    }
}

public class XdpTakeBackTests
{
    private static PacketTrace Run(string sec, byte[] frame)
    {
        var lab = $"""
            ip link add eth0 address 02:00:00:00:01:01 type veth peer name veth1
            ip addr add 10.1.0.1/24 dev eth0
            ip link set eth0 up
            ip link set dev eth0 xdpgeneric obj {BpfObjectTests.Obj("xdp_rewrite.o")} sec {sec}
            """;
        var engine = new DatapathEngine(LabLoader.Load(lab, "xdp.lab"));
        return engine.Process(new CaptureFrame(1, 0, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame), "t.pcap", engine.ResolveInjectionPoint("host/eth0"));
    }

    private static byte[] Udp() => FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:01:01"), MacAddress.Parse("02:00:00:00:01:02"), EtherTypes.Ipv4,
        FrameBuilder.Ipv4(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.1.0.1"), 17, FrameBuilder.Udp(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.1.0.1"), 40000, 53)));

    [Fact]
    public void AShorterTailIsTheSkbsNewLength()
    {
        var f = Udp();
        var t = Run("xdp/shrink", f);
        var xdp = Assert.Single(t.Path, e => e.Stage == "Xdp");
        Assert.Equal($"xdpgeneric shrink (sec xdp/shrink): XDP_PASS, the program rewrote the frame ({f.Length} -> {f.Length - 2} bytes)", xdp.Detail);
        // the IP header now claims 2 bytes more than the skb holds: ip_rcv_core drops it
        Assert.Equal(Fate.Dropped, t.Fate);
    }

    [Fact]
    public void APushedVlanTagMakesEthTypeTransRunAgain()
    {
        var f = Udp();
        var t = Run("xdp/pop", f);
        var xdp = Assert.Single(t.Path, e => e.Stage == "Xdp");
        Assert.Contains($"({f.Length} -> {f.Length + 4} bytes)", xdp.Detail);
        // the frame is now tagged VID 5 and eth0 has no VLAN device for it
        Assert.Contains(t.Path, e => e.Detail?.Contains("VID 5") == true || e.Detail?.Contains("VLAN 5") == true);
    }
}
