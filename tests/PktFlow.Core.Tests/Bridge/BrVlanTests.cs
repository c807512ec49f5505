using PktFlow.Bridge;
using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Bridge;

/// <summary>
/// VLAN filtering on br0 (vlan_filtering 1), from net/bridge/br_vlan.c's rules: port1 is an access port
/// of VLAN 10 (PVID untagged), port2 a trunk tagged in 10 and 20, port3 an access port of VLAN 20;
/// the bridge itself keeps its default VLAN 1 unless a test gives it more with `self`.
/// </summary>
public class BrVlanTests
{
    private const string Lab = """
        ip netns add h1
        ip netns add h2
        ip netns add h3
        ip link add br0 address 02:00:00:00:00:fe type bridge vlan_filtering 1
        ip addr add 10.0.0.254/24 dev br0
        ip link set br0 up
        ip link add port1 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns h1
        ip link add port2 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns h2
        ip link add port3 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns h3
        for p in port1 port2 port3; do ip link set $p master br0; ip link set $p up; done
        bridge vlan add dev port1 vid 10 pvid untagged
        bridge vlan del dev port1 vid 1
        bridge vlan add dev port2 vid 10
        bridge vlan add dev port2 vid 20
        bridge vlan del dev port2 vid 1
        bridge vlan add dev port3 vid 20 pvid untagged
        bridge vlan del dev port3 vid 1
        ip -n h1 addr add 10.0.0.1/24 dev eth0
        ip -n h1 link set eth0 up
        ip -n h2 addr add 10.0.0.2/24 dev eth0
        ip -n h2 link set eth0 up
        ip -n h3 addr add 10.0.0.3/24 dev eth0
        ip -n h3 link set eth0 up
        """;

    private static readonly MacAddress Br = MacAddress.Parse("02:00:00:00:00:fe");
    private static readonly MacAddress H1 = MacAddress.Parse("02:00:00:00:01:02");
    private static readonly MacAddress H2 = MacAddress.Parse("02:00:00:00:02:02");
    private static readonly MacAddress H3 = MacAddress.Parse("02:00:00:00:03:02");
    private static readonly IpAddr A1 = IpAddr.Parse("10.0.0.1"), A2 = IpAddr.Parse("10.0.0.2"), A3 = IpAddr.Parse("10.0.0.3"), ABr = IpAddr.Parse("10.0.0.254");

    private static HostTopology Topo(string extra = "") => LabLoader.Load(Lab + "\n" + extra, "vlan.lab");
    private static DatapathEngine Engine(string extra = "") => new(Topo(extra));

    private static byte[] Ping(MacAddress dst, MacAddress src, IpAddr from, IpAddr to, ushort? vlan = null) =>
        FrameBuilder.Ethernet(dst, src, EtherTypes.Ipv4, FrameBuilder.Ipv4(from, to, 1, FrameBuilder.IcmpEcho(7, 1)), vlan);

    private static PacketTrace Inject(DatapathEngine engine, string port, byte[] f, long number = 1) =>
        engine.Process(new CaptureFrame(number, 0, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint(port));

    private static string Dump(PacketTrace t) => string.Join("\n", t.Path) + $"\n=> {t.Fate} {t.Reason}";

    private static string Detail(PacketTrace t, string function) => Assert.Single(t.Path, e => e.Function == function && e.Namespace == "host").Detail!;

    [Fact]
    public void ANewBridgeAndEachNewPortGetTheDefaultVlanOnePvidUntagged()
    {
        var host = LabLoader.Load("ip link add br0 type bridge\nip link add p1 type veth peer name q1\nip link set p1 master br0", "t.lab").Host;
        Assert.Equal("1 PVID Egress Untagged", host.Device("br0")!.Vlans.ToString());
        Assert.Equal("1 PVID Egress Untagged", host.Device("p1")!.Vlans.ToString());
        Assert.Equal("none", host.Device("q1")!.Vlans.ToString());
        Assert.False(host.Device("br0")!.VlanOptions.Filtering);
        Assert.Empty(host.Unmodelled);
        var other = LabLoader.Load("ip link add br0 type bridge vlan_filtering 1 mtu 1400 mcast_snooping 0", "t.lab").Host;
        Assert.True(other.Device("br0")!.VlanOptions.Filtering);
        Assert.Equal("t.lab:1: bridge br0 options mcast_snooping 0", Assert.Single(other.Unmodelled));
    }

    [Fact]
    public void BridgeVlanAddAndDelChangeAPortsVlansAndItsPvid()
    {
        var host = Topo().Host;
        Assert.Equal("10 PVID Egress Untagged", host.Device("port1")!.Vlans.ToString());
        Assert.Equal("10, 20", host.Device("port2")!.Vlans.ToString());
        Assert.Equal(0, host.Device("port2")!.Vlans.Pvid);
        Assert.True(host.Device("br0")!.VlanOptions.Filtering);
        // __vlan_add_flags: adding an existing VLAN again without `pvid` takes the PVID away from it.
        var again = Topo("bridge vlan add dev port1 vid 10 untagged").Host.Device("port1")!.Vlans;
        Assert.Equal(0, again.Pvid);
        Assert.Equal("10 Egress Untagged", again.ToString());
        Assert.Equal("10 PVID Egress Untagged, 30, 31, 32", Topo("bridge vlan add dev port1 vid 30-32").Host.Device("port1")!.Vlans.ToString());
    }

    [Theory]
    [InlineData("bridge vlan add dev br0 vid 10", "give 'self'")]
    [InlineData("bridge vlan del dev port1 vid 99", "has no VLAN 99")]
    [InlineData("bridge vlan add dev port1 vid 4095", "VLAN ids are 1-4094")]
    [InlineData("bridge vlan add dev port1 vid 5-7 pvid", "range cannot be the PVID")]
    [InlineData("ip link set br0 type bridge vlan_protocol 802.1x", "802.1Q or 802.1ad")]
    public void BadVlanCommandsFailOnLoadNamingTheLine(string command, string message)
    {
        var e = Assert.Throws<LabException>(() => Topo(command));
        Assert.Contains(message, e.Message);
        Assert.Contains(command, e.Command);
    }

    [Fact]
    public void VlanDefaultPvidMovesTheDefaultOnlyWhereItWasLeftAlone()
    {
        var host = LabLoader.Load("""
            ip link add br0 type bridge
            ip link add p1 type veth peer name q1
            ip link add p2 type veth peer name q2
            ip link set p1 master br0
            ip link set p2 master br0
            bridge vlan add dev p2 vid 1
            ip link set br0 type bridge vlan_default_pvid 5
            ip link add p3 type veth peer name q3
            ip link set p3 master br0
            """, "t.lab").Host;
        Assert.Equal("5 PVID Egress Untagged", host.Device("br0")!.Vlans.ToString());
        Assert.Equal("5 PVID Egress Untagged", host.Device("p1")!.Vlans.ToString());
        Assert.Equal("1", host.Device("p2")!.Vlans.ToString()); // made tagged by hand: not the default any more
        Assert.Equal("5 PVID Egress Untagged", host.Device("p3")!.Vlans.ToString()); // nbp_vlan_init
        var none = LabLoader.Load("ip link add br0 type bridge vlan_filtering 1 vlan_default_pvid 0\nip link add p1 type veth peer name q1\nip link set p1 master br0", "t.lab").Host;
        Assert.Equal("none", none.Device("br0")!.Vlans.ToString());
        Assert.Equal("none", none.Device("p1")!.Vlans.ToString());
    }

    [Fact]
    public void AnUntaggedFrameTakesThePortsPvidAndLeavesATrunkTagged()
    {
        var t = Inject(Engine(), "port1", Ping(H2, H1, A1, A2));
        Assert.Contains("untagged frame on port1: VLAN 10 (its PVID)", Detail(t, "br_allowed_ingress"));
        // Unknown unicast is flooded only to the members of VLAN 10: port2, not port3.
        Assert.Contains("copies to port2;", Detail(t, "br_flood"));
        Assert.Contains("VLAN 10 leaves port2 tagged", Detail(t, "br_handle_vlan"));
        // h2's eth0 has no VLAN device: the tagged frame is OTHERHOST there (vlan_do_receive).
        Assert.Contains(t.Path, e => e.Namespace == "h2" && e.Function == "vlan_do_receive" && e.Detail!.Contains("VID 10"));
        Assert.Equal("h2", t.Path[^1].Namespace);
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.Contains(t.Notes, n => n.Contains("VLAN 10", StringComparison.Ordinal));
    }

    [Fact]
    public void ATaggedFrameFromTheTrunkLeavesAnUntaggedPortWithoutItsTag()
    {
        var t = Inject(Engine(), "port2", Ping(H3, H2, A2, A3, vlan: 20));
        Assert.Contains("tagged VLAN 20 on port2: a member", Detail(t, "br_allowed_ingress"));
        Assert.Contains("VLAN 20 is untagged on port3: the tag is popped", Detail(t, "br_handle_vlan"));
        Assert.DoesNotContain(t.Path, e => e.Namespace == "h3" && e.Function == "vlan_do_receive");
        Assert.True(t.Fate == Fate.Delivered && t.Path[^1].Namespace == "h3", Dump(t)); // h3 answers the ping
    }

    [Theory]
    [InlineData("port2", null, "untagged frame on port2, which has no PVID")]
    [InlineData("port2", (ushort)30, "tagged VLAN 30 on port2, which is not a member")]
    [InlineData("port1", (ushort)20, "tagged VLAN 20 on port1, which is not a member")]
    public void IngressFilteringDropsFramesOutsideThePortsVlans(string port, ushort? vlan, string why)
    {
        var t = Inject(Engine(), port, port == "port1" ? Ping(H3, H1, A1, A3, vlan) : Ping(H3, H2, A2, A3, vlan));
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.Equal("NOT_SPECIFIED", t.Reason);
        Assert.Equal("br_allowed_ingress", t.Path[^1].Function);
        Assert.Contains(why, t.Path[^1].Detail);
    }

    [Fact]
    public void APriorityTaggedFrameTakesThePvid()
    {
        var t = Inject(Engine(), "port3", Ping(H2, H3, A3, A2, vlan: 0));
        Assert.Contains("priority-tagged frame on port3: VLAN 20 (its PVID)", Detail(t, "br_allowed_ingress"));
        Assert.Contains("VLAN 20 leaves port2 tagged", Detail(t, "br_handle_vlan"));
    }

    [Fact]
    public void TheFdbIsKeyedByMacAndVlan()
    {
        var engine = Engine();
        Inject(engine, "port1", Ping(H2, H1, A1, A2));
        var fdb = BrFdb.Of(engine.StateOf(engine.Topology.Host), engine.Topology.Host, engine.Topology.Host.Device("br0")!, 0);
        Assert.Equal("port1", fdb.Find(H1, 0, 10, BrStpConfig.Default.AgeingTimeNs)?.Port);
        Assert.Null(fdb.Find(H1, 0, 20, BrStpConfig.Default.AgeingTimeNs));
        Assert.Null(fdb.Find(H1, 0, 0, BrStpConfig.Default.AgeingTimeNs));
        // H1 is known in VLAN 10 only: a frame to it in VLAN 20 is still unknown unicast (flooded in 20).
        var t = Inject(engine, "port2", Ping(H1, H2, A2, A1, vlan: 20), number: 2);
        Assert.Contains("is not in br0's fdb in VLAN 20", Detail(t, "br_handle_frame_finish"));
        Assert.Contains("copies to port3;", Detail(t, "br_flood"));
    }

    [Fact]
    public void TheBridgesOwnVlansDecideWhatGoesUpToTheHost()
    {
        // br0 is a member of VLAN 1 only: its MAC has a local fdb entry in VLANs 0 and 1, not 10 (br_fdb_add_local
        // follows the bridge's own VLANs), so a frame to it in VLAN 10 is unknown unicast.
        var flooded = Inject(Engine(), "port1", Ping(Br, H1, A1, ABr));
        Assert.Contains("02:00:00:00:00:fe is not in br0's fdb in VLAN 10", Detail(flooded, "br_handle_frame_finish"));
        // port1's own MAC is local in VLAN 10, but br_pass_frame_up's br_allowed_egress on the bridge refuses VLAN 10.
        var refused = Inject(Engine(), "port1", Ping(MacAddress.Parse("02:00:00:00:01:01"), H1, A1, ABr));
        Assert.True(refused.Path[^1].Function == "br_pass_frame_up", Dump(refused));
        Assert.Contains("br0 is not a member of VLAN 10", refused.Path[^1].Detail);

        var untagged = Inject(Engine("bridge vlan add dev br0 vid 10 pvid untagged self"), "port1", Ping(Br, H1, A1, ABr));
        Assert.Contains("VLAN 10 is untagged on br0", Detail(untagged, "br_handle_vlan"));
        Assert.True(untagged.Path.Any(e => e.Namespace == "host" && e.Stage == "IpRcv" && e.Device == "br0"), Dump(untagged));
        Assert.Equal(Fate.Delivered, untagged.Fate);

        // Tagged up to br0: only a VLAN device br0.10 would take it; without one it is OTHERHOST.
        var tagged = Inject(Engine("bridge vlan add dev br0 vid 10 self"), "port1", Ping(Br, H1, A1, ABr));
        Assert.Contains("VLAN 10 leaves br0 tagged", Detail(tagged, "br_handle_vlan"));
        Assert.True(tagged.Path.Any(e => e.Namespace == "host" && e.Function == "vlan_do_receive" && e.Device == "br0"), Dump(tagged));
        Assert.Equal(Fate.Dropped, tagged.Fate);
    }

    [Fact]
    public void TheHostSendsThroughTheBridgeWithTheBridgesPvid()
    {
        var engine = Engine("bridge vlan add dev br0 vid 20 pvid untagged self");
        var host = engine.Topology.Host;
        var skb = new SkBuff(Ping(H3, Br, ABr, A3)) { Netns = host, Dev = host.Device("br0")!, Engine = engine, MacHeader = 0, NetworkHeader = 14, Protocol = EtherTypes.Ipv4 };
        var t = new TraceBuilder();
        BrDevXmit.Xmit(skb, t, Fate.Transmitted);
        Assert.Contains(t.Path, e => e.Function == "br_allowed_ingress" && e.Detail!.Contains("br0 itself (self): VLAN 20"));
        Assert.Contains(t.Path, e => e.Function == "br_flood" && e.Detail!.Contains("copies to port3, port2;"));
        Assert.True(t.Fate == Fate.Delivered && t.Path[^1].Namespace == "h3", string.Join("\n", t.Path));
    }

    [Fact]
    public void BridgeHooksSeeTheVlanTheFrameCarries()
    {
        // In NF_BR_FORWARD the copy for the trunk is tagged (br_handle_vlan ran in __br_forward): `vlan id 10` matches it.
        var rules = """
            nft -f - <<'NFT'
            table bridge f { chain forward { type filter hook forward priority 0; policy accept; vlan id 10 drop; }; }
            NFT
            """;
        var t = Inject(Engine(rules), "port1", Ping(H2, H1, A1, A2));
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.Equal("NETFILTER_DROP", t.Reason);
        // The copy that leaves port3 untagged in VLAN 20 does not match a rule on VLAN 20 tags.
        var untagged = Inject(Engine(rules.Replace("vlan id 10", "vlan id 20")), "port2", Ping(H3, H2, A2, A3, vlan: 20));
        Assert.True(untagged.Fate == Fate.Delivered, Dump(untagged));
    }

    [Fact]
    public void WithoutVlanFilteringTheVlansAreKeptButNotUsed()
    {
        var t = Inject(Engine("ip link set br0 type bridge vlan_filtering 0"), "port1", Ping(H3, H1, A1, A3));
        Assert.DoesNotContain(t.Path, e => e.Function is "br_allowed_ingress" or "br_handle_vlan");
        Assert.True(t.Fate == Fate.Delivered && t.Path[^1].Namespace == "h3", Dump(t));
    }
}
