using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Tc;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Tc;

/// <summary>
/// tc clsact filters on a router r between a client (eth0) and a server (eth1): classifiers, actions,
/// their order and where sch_handle_ingress / sch_handle_egress run. The u32 + mirred part is judged
/// against the kernel in tests/scenarios/tc-ingress-mirred.
/// </summary>
public class TcFilterTests
{
    private const string Lab = """
        ip netns add r
        ip netns exec r sysctl -w net.ipv4.ip_forward=1
        ip netns add c
        ip netns add s
        ip -n r link add eth0 address 02:00:00:00:00:01 type veth peer name eth0 address 02:00:00:00:01:02 netns c
        ip -n r link add eth1 address 02:00:00:00:00:02 type veth peer name eth0 address 02:00:00:00:02:02 netns s
        ip -n r link set eth0 up
        ip -n r link set eth1 up
        ip -n r addr add 10.0.1.254/24 dev eth0
        ip -n r addr add 10.0.2.254/24 dev eth1
        ip -n c link set eth0 up
        ip -n c addr add 10.0.1.1/24 dev eth0
        ip -n s link set eth0 up
        ip -n s addr add 10.0.2.2/24 dev eth0
        ip -n s route add default via 10.0.2.254
        ip -n r neigh add 10.0.2.2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent
        tc -n r qdisc add dev eth0 clsact
        """;

    private static readonly MacAddress R0 = MacAddress.Parse("02:00:00:00:00:01"), C = MacAddress.Parse("02:00:00:00:01:02");

    internal static HostTopology Topo(string extra) => LabLoader.Load(Lab + "\n" + extra, "tc.lab");

    private static PacketTrace Inject(HostTopology topo, byte[] f, string at = "r/eth0")
    {
        var engine = new DatapathEngine(topo);
        return engine.Process(new CaptureFrame(1, 0, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint(at));
    }

    private static byte[] Tcp(ushort dport, string dst = "10.0.2.2", ushort sport = 40000) =>
        FrameBuilder.Ethernet(R0, C, EtherTypes.Ipv4, FrameBuilder.Ipv4(IpAddr.Parse("10.0.1.1"), IpAddr.Parse(dst), 6, FrameBuilder.Tcp(IpAddr.Parse("10.0.1.1"), IpAddr.Parse(dst), sport, dport)));

    private static byte[] Udp(ushort dport, string dst = "10.0.2.2") =>
        FrameBuilder.Ethernet(R0, C, EtherTypes.Ipv4, FrameBuilder.Ipv4(IpAddr.Parse("10.0.1.1"), IpAddr.Parse(dst), 17, FrameBuilder.Udp(IpAddr.Parse("10.0.1.1"), IpAddr.Parse(dst), 40000, dport)));

    /// <summary>Routed through r to the server s (where it is delivered).</summary>
    private static bool Through(PacketTrace t) => t.Path.Any(e => e.Namespace == "r" && e.Stage == "VethXmit") && t.Path[^1].Namespace == "s" && t.Fate == Fate.Delivered;

    private static string Dump(PacketTrace t) => string.Join("\n", t.Path) + $"\n=> {t.Fate} {t.Reason}";

    [Fact]
    public void AFlowerDropAtIngressEndsThePacketBeforeTheNetdevIngressHookWithTcIngress()
    {
        var t = Inject(Topo("tc -n r filter add dev eth0 ingress pref 10 protocol ip flower ip_proto tcp dst_port 23 action drop"), Tcp(23));
        Assert.True(t.Fate == Fate.Dropped && t.Reason == "TC_INGRESS", Dump(t));
        var tc = t.Path[^1];
        Assert.Equal(("TcIngress", "sch_handle_ingress", "eth0"), (tc.Stage, tc.Function, tc.Device));
        Assert.Equal("ingress eth0: pref 10 flower handle 0x1 (ip_proto tcp dst_port 23): gact action drop -> drop", tc.Detail);
        Assert.DoesNotContain(t.Path, e => e.Stage == "NfHook");

        var other = Inject(Topo("tc -n r filter add dev eth0 ingress pref 10 protocol ip flower ip_proto tcp dst_port 23 action drop"), Tcp(80));
        Assert.True(Through(other), Dump(other));
        Assert.Equal("ingress eth0: no filter of 1 matched", Assert.Single(other.Path, e => e.Stage == "TcIngress" && e.Namespace == "r").Detail);
    }

    [Theory]
    [InlineData("protocol ip flower src_ip 10.0.1.0/24 dst_ip 10.0.2.2 ip_proto udp dst_port 5000-5010", 5005, true)]
    [InlineData("protocol ip flower ip_proto udp dst_port 5000-5010", 5011, false)]
    [InlineData("protocol ip flower src_ip 10.0.9.0/24", 5005, false)]
    [InlineData("protocol ip flower dst_mac 02:00:00:00:00:01 src_mac 02:00:00:00:01:02", 1, true)]
    [InlineData("protocol ip flower ip_flags nofrag", 1, true)]
    [InlineData("protocol ip flower ip_flags frag", 1, false)]
    [InlineData("protocol ip flower skip_sw ip_proto udp", 1, false)]
    [InlineData("protocol ip flower skip_hw ip_proto udp", 1, true)]
    [InlineData("protocol all matchall", 1, true)]
    [InlineData("protocol ip matchall skip_sw", 1, false)]
    [InlineData("protocol arp matchall", 1, false)]
    [InlineData("protocol ip u32 match ip dport 5000 0xffff", 5000, true)]
    [InlineData("protocol ip u32 match ip protocol 17 0xff match ip dst 10.0.2.0/24", 1, true)]
    [InlineData("protocol ip u32 match ip protocol 6 0xff", 1, false)]
    [InlineData("protocol ip u32 match u16 5000 0xffff at 22", 5000, true)]
    [InlineData("protocol ip u32 match u8 0x11 0xff at 9", 1, true)]
    [InlineData("protocol ip u32 match u32 0x0a000101 0xffffffff at 12", 1, true)]
    [InlineData("protocol ip u32 match u32 0 0 at 1500", 1, false)]
    public void ClassifiersMatchAsTheKernelReadsThePacket(string filter, ushort dport, bool match)
    {
        var t = Inject(Topo($"tc -n r filter add dev eth0 ingress pref 1 {filter} action drop"), Udp(dport));
        Assert.True(match ? t.Reason == "TC_INGRESS" : Through(t), Dump(t));
    }

    [Fact]
    public void AU32MatchWithoutActionOrClassidIsNotTerminalAndAClassidPassesThePacket()
    {
        var none = Inject(Topo("tc -n r filter add dev eth0 ingress pref 1 protocol ip u32 match u32 0 0\ntc -n r filter add dev eth0 ingress pref 2 protocol ip u32 match u32 0 0 action drop"), Udp(1));
        Assert.Equal("TC_INGRESS", none.Reason);
        Assert.Contains("pref 2 u32 handle 801::800", none.Path[^1].Detail);
        var classid = Inject(Topo("tc -n r filter add dev eth0 ingress pref 1 protocol ip u32 match u32 0 0 classid :1\ntc -n r filter add dev eth0 ingress pref 2 protocol ip u32 match u32 0 0 action drop"), Udp(1));
        Assert.True(Through(classid), Dump(classid));
        Assert.Contains("pref 1 u32 handle 800::800 classid :1", Assert.Single(classid.Path, e => e.Stage == "TcIngress" && e.Namespace == "r").Detail);
    }

    [Fact]
    public void FiltersRunInPrefOrderAndContinueGoesOnWhilePassStops()
    {
        var pass = Inject(Topo("tc -n r filter add dev eth0 ingress pref 20 protocol ip matchall action drop\ntc -n r filter add dev eth0 ingress pref 10 protocol ip matchall action pass"), Udp(1));
        Assert.True(Through(pass), Dump(pass));
        var cont = Inject(Topo("tc -n r filter add dev eth0 ingress pref 20 protocol ip matchall action drop\ntc -n r filter add dev eth0 ingress pref 10 protocol ip matchall action continue"), Udp(1));
        Assert.Equal("TC_INGRESS", cont.Reason);
        Assert.Equal("ingress eth0: pref 10 matchall handle 0x1 (matchall): gact action continue -> continue; pref 20 matchall handle 0x1 (matchall): gact action drop -> drop", cont.Path[^1].Detail);
    }

    [Fact]
    public void ReclassifyStartsOverAndLoopsEndInTcReclassifyLoop()
    {
        var t = Inject(Topo("tc -n r filter add dev eth0 ingress pref 1 protocol ip matchall action reclassify"), Udp(1));
        Assert.True(t.Fate == Fate.Dropped && t.Reason == "TC_RECLASSIFY_LOOP", Dump(t));
    }

    [Fact]
    public void SkbeditMarkAtIngressIsSeenByNftablesAfterwards()
    {
        const string nft = """
            ip netns exec r nft -f - <<'EOF'
            table inet t {
              chain pre {
                type filter hook prerouting priority 0;
                meta mark 0x5 drop
              }
            }
            EOF
            """;
        var t = Inject(Topo("tc -n r filter add dev eth0 ingress protocol ip u32 match ip dport 5000 0xffff action skbedit mark 5 pipe action pass\n" + nft), Udp(5000));
        Assert.True(t.Fate == Fate.Dropped && t.Reason == "NETFILTER_DROP", Dump(t));
        Assert.Contains("skbedit mark 5 pipe, gact action pass -> pass", Assert.Single(t.Path, e => e.Stage == "TcIngress" && e.Namespace == "r").Detail);
        var unmarked = Inject(Topo("tc -n r filter add dev eth0 ingress protocol ip u32 match ip dport 5000 0xffff action skbedit mark 5\n" + nft), Udp(5001));
        Assert.True(Through(unmarked), Dump(unmarked));
    }

    [Fact]
    public void MirredEgressRedirectSendsThePacketOutOfTheOtherDeviceWithoutTheIpStack()
    {
        var t = Inject(Topo("tc -n r filter add dev eth0 ingress protocol ip u32 match ip dport 7000 0xffff action mirred egress redirect dev eth1"), Udp(7000, "10.0.1.254"));
        // the frame keeps r's eth0 MAC as destination: s's eth0 takes it for another host
        Assert.True(t.Fate == Fate.Dropped && t.Reason == "OTHERHOST", Dump(t));
        Assert.Equal("s", t.Path[^1].Namespace);
        Assert.DoesNotContain(t.Path, e => e.Namespace == "r" && e.Stage is "IpRcv" or "NfHook" && e.Family != NfFamily.Netdev);
        Assert.Contains("mirred (Egress Redirect to device eth1) stolen", Assert.Single(t.Path, e => e.Stage == "TcIngress" && e.Namespace == "r").Detail);
        Assert.Contains(t.Path, e => e.Namespace == "r" && e.Device == "eth1" && e.Stage == "VethXmit");
    }

    [Fact]
    public void MirredMirrorLetsThePacketGoOnAndAMirrorWithDropDropsIt()
    {
        var mirror = Inject(Topo("tc -n r filter add dev eth0 ingress protocol ip u32 match ip dport 23 0xffff action mirred egress mirror dev eth1"), Udp(23));
        Assert.True(Through(mirror), Dump(mirror));
        var drop = Inject(Topo("tc -n r filter add dev eth0 ingress protocol ip u32 match ip dport 23 0xffff action mirred egress mirror dev eth1 drop"), Udp(23));
        Assert.Equal("TC_INGRESS", drop.Reason);
        Assert.Equal("ingress eth0: pref 49152 u32 handle 800::800 (match 00000017/0000ffff at 20): mirred (Egress Mirror to device eth1) drop -> drop", drop.Path[^1].Detail);
    }

    [Fact]
    public void ARedirectToADownDeviceDropsThePacket()
    {
        var t = Inject(Topo("ip -n r link set eth1 down\ntc -n r filter add dev eth0 ingress protocol ip matchall action mirred egress redirect dev eth1"), Udp(1));
        Assert.True(t.Reason == "TC_INGRESS", Dump(t));
        Assert.Contains("eth1 is down", t.Path[^1].Detail);
    }

    [Fact]
    public void EgressFiltersRunAfterPostroutingAndVlanPushTagsTheFrame()
    {
        var drop = Inject(Topo("tc -n r qdisc add dev eth1 clsact\ntc -n r filter add dev eth1 egress protocol ip flower ip_proto udp action drop"), Udp(1));
        Assert.True(drop.Fate == Fate.Dropped && drop.Reason == "TC_EGRESS", Dump(drop));
        Assert.Equal(("TcEgress", "eth1"), (drop.Path[^1].Stage, drop.Path[^1].Device));
        Assert.True(drop.Path.ToList().FindIndex(e => e.Stage == "NeighOutput") < drop.Path.Count - 1);

        var tagged = Inject(Topo("tc -n r qdisc add dev eth1 clsact\ntc -n r filter add dev eth1 egress protocol ip matchall action vlan push id 100"), Udp(1));
        Assert.True(tagged.Fate == Fate.Dropped && tagged.Reason == "OTHERHOST", Dump(tagged));
        Assert.Contains("VID 100", Assert.Single(tagged.Path, e => e.Function == "vlan_do_receive").Detail);
    }

    [Fact]
    public void AVlanFilterSeesTaggedFramesThroughItsProtocolAndPopRemovesTheTag()
    {
        var frame = FrameBuilder.Ethernet(R0, C, EtherTypes.Ipv4, FrameBuilder.Ipv4(IpAddr.Parse("10.0.1.1"), IpAddr.Parse("10.0.2.2"), 17, FrameBuilder.Udp(IpAddr.Parse("10.0.1.1"), IpAddr.Parse("10.0.2.2"), 1, 2)), vlan: 30);
        var ipOnly = Inject(Topo("tc -n r filter add dev eth0 ingress protocol ip matchall action drop"), frame);
        Assert.NotEqual("TC_INGRESS", ipOnly.Reason);
        var popped = Inject(Topo("tc -n r filter add dev eth0 ingress protocol 802.1Q flower vlan_id 30 vlan_ethtype ip ip_proto udp action vlan pop"), frame);
        Assert.True(Through(popped), Dump(popped));
    }

    [Fact]
    public void SkbeditPtypeOtherhostMakesIpRcvDropIt()
    {
        var t = Inject(Topo("tc -n r filter add dev eth0 ingress protocol ip matchall action skbedit ptype otherhost"), Udp(1));
        Assert.True(t.Reason == "OTHERHOST", Dump(t));
    }

    [Fact]
    public void ADeviceWithoutFiltersPassesAndSaysSo()
    {
        var t = Inject(Topo(""), Udp(1));
        Assert.Equal("clsact on eth0: no filters in this direction", Assert.Single(t.Path, e => e.Stage == "TcIngress" && e.Namespace == "r").Detail);
        Assert.Equal(Verdict.Pass, Assert.Single(t.Path, e => e.Stage == "TcEgress" && e.Namespace == "r").Verdict);
        Assert.Equal("eth1 has no clsact or ingress qdisc", Assert.Single(t.Path, e => e.Stage == "TcEgress" && e.Namespace == "r").Detail);
    }

    [Fact]
    public void PrefsAreChosenAsTheKernelDoesAndU32HandlesNumberTablesPerQdisc()
    {
        var r = Topo("""
            tc -n r filter add dev eth0 ingress protocol ip u32 match u32 0 0
            tc -n r filter add dev eth0 ingress protocol ip u32 match u32 0 0
            tc -n r filter add dev eth0 ingress pref 49152 protocol ip u32 match u32 0 0
            tc -n r filter add dev eth0 egress protocol ip flower ip_proto tcp
            tc -n r filter add dev eth0 egress pref 49152 protocol ip flower ip_proto udp
            """).Namespace("r")!;
        var cfg = r.Tc!["eth0"];
        Assert.Equal(new[] { "49151 801::800", "49152 800::800", "49152 800::801" }, cfg.Ingress.Select(f => $"{f.Pref} {f.HandleText}"));
        Assert.Equal(new[] { "49152 0x1", "49152 0x2" }, cfg.Egress.Select(f => $"{f.Pref} {f.HandleText}"));
    }

    [Fact]
    public void AnIngressQdiscTakesEgressFiltersIntoItsOneBlock()
    {
        var r = LabLoader.Load("ip link add a type veth peer name b\ntc qdisc add dev a ingress\ntc filter add dev a egress protocol ip matchall action drop", "t.lab").Host;
        Assert.Single(r.Tc!["a"].Ingress);
        Assert.Empty(r.Tc!["a"].Egress);
    }

    [Theory]
    [InlineData("u32 match ip dport 23 0xffff", "00000017/0000ffff at 20")]
    [InlineData("u32 match ip sport 5 0xffff match ip dport 23 0xffff", "00050017/ffffffff at 20")]
    [InlineData("u32 match ip src 10.0.0.0/8", "0a000000/ff000000 at 12")]
    [InlineData("u32 match ip protocol 17 0xff", "00110000/00ff0000 at 8")]
    [InlineData("u32 match ip tos 0x10 0xff", "00100000/00ff0000 at 0")]
    [InlineData("u32 match u16 5000 0xffff at 22", "00001388/0000ffff at 20")]
    [InlineData("u32 match u16 1 0xffff at 3", "00000001/0000ffff at 0")]
    [InlineData("u32 match u8 6 0xff at 9", "00060000/00ff0000 at 8")]
    [InlineData("u32 match ip6 dst 2001:db8::/64", "20010db8/ffffffff at 24 match 00000000/ffffffff at 28")]
    public void U32SelectorsBecomeTheKeysTcShows(string cls, string keys)
    {
        var spec = TcFilterParser.Parse(("dev eth0 ingress protocol ip " + cls).Split(' '));
        Assert.Equal("match " + keys, spec.Classifier.ToString());
    }

    [Theory]
    [InlineData("tc -n r filter add dev eth0 ingress protocol ip bpf obj prog.o classid 10000:1", "Illegal \"classid\"", "10000:1")]
    [InlineData("tc -n r filter add dev eth0 ingress protocol ip matchall action bpf sec act", "act_bpf: expected obj FILE", "sec")]
    [InlineData("tc -n r filter add dev eth0 ingress protocol ip matchall action police rate 1mbit burst 10k", "action 'police'", "police")]
    [InlineData("tc -n r filter add dev eth1 ingress protocol ip matchall action drop", "Parent Qdisc doesn't exists", null)]
    [InlineData("tc -n r filter add dev eth0 ingress protocol ip matchall action mirred egress redirect dev nope", "Cannot find device \"nope\"", null)]
    [InlineData("tc -n r filter add dev eth0 ingress protocol ip flower dst_port 80 action drop", "needs ip_proto", "dst_port")]
    [InlineData("tc -n r filter add dev eth0 ingress protocol arp flower ip_proto tcp action drop", "for ip proto", "ip_proto")]
    [InlineData("tc -n r filter add dev eth0 ingress protocol ip u32 match ip dport 22 0xffff match ip dport 23 0xffff", "contradicts", "23")]
    [InlineData("tc -n r filter add dev eth0 ingress protocol ip u32 match ip dport 22 0xffff action goto chain 1", "not modelled", "goto")]
    [InlineData("tc -n r filter add dev eth0 ingress pref 5 protocol ip u32 match u32 0 0\ntc -n r filter add dev eth0 ingress pref 5 protocol arp u32 match u32 0 0", "Protocol mismatch", null)]
    [InlineData("tc -n r filter add dev eth0 ingress pref 5 protocol ip u32 match u32 0 0\ntc -n r filter add dev eth0 ingress pref 5 protocol ip matchall", "kind does not match", null)]
    [InlineData("tc -n r qdisc add dev eth0 ingress", "Exclusivity flag on", null)]
    [InlineData("tc -n r qdisc del dev eth1 clsact", "Cannot find specified qdisc", null)]
    public void FilterTextTheModelCannotTakeIsRefusedNamingTheLine(string lines, string message, string? token)
    {
        var e = Assert.Throws<LabException>(() => Topo(lines));
        Assert.Contains(message, e.Message);
        Assert.StartsWith("tc.lab:", e.Message);
        Assert.Equal(token, e.Token);
    }

    [Fact]
    public void ShowPacketFlowDrawsTcWhereAFilterTookThePacket()
    {
        var redirect = Inject(Topo("tc -n r filter add dev eth0 ingress protocol ip u32 match ip dport 7000 0xffff action mirred egress redirect dev eth1"), Udp(7000));
        Assert.Equal("(r) eth0 -> tc ingress -> eth1 (veth) -> (s) eth0 -> ip_rcv -> dropped OTHERHOST", PktFlow.Render.NamespaceColumns.Line(redirect));
        var plain = Inject(Topo(""), Udp(7000));
        Assert.DoesNotContain("tc ", PktFlow.Render.NamespaceColumns.Line(plain));
    }

    [Fact]
    public void TheFlowerScenarioLoads()
    {
        var host = LabLoader.LoadFile(Path.Combine(RepoPaths.Root, "tests", "scenarios", "tc-flower-skbedit", "lab.sh")).Host;
        Assert.Equal(new[] { 10, 20, 25, 30, 40 }, host.Tc!["eth0"].Ingress.Where(f => f.Protocol == EtherTypes.Ipv4).Select(f => f.Pref));
        Assert.Equal(2, host.Tc["eth1"].Egress.Count);
    }

    [Fact]
    public void OtherQdiscsStayRecordedAsNotModelled()
    {
        var topo = Topo("tc -n r qdisc add dev eth1 root netem delay 10ms");
        Assert.Contains(topo.Namespace("r")!.Unmodelled, u => u.Contains("netem"));
    }
}
