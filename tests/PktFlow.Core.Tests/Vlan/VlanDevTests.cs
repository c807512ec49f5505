using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Vlan;

/// <summary>
/// 802.1Q VLAN devices (net/8021q): router r takes h1 untagged on eth0 and reaches h2 in VLAN 20
/// through r's eth1.20; h2 talks VLAN 20 through its own eth0.20. The bridge case (br0.10 routing
/// into a filtering bridge) is judged against the kernel in tests/scenarios/bridge-vlan-filtering.
/// </summary>
public class VlanDevTests
{
    private const string Lab = """
        ip netns add r
        ip netns exec r sysctl -w net.ipv4.ip_forward=1
        ip netns add h1
        ip netns add h2
        ip -n r link add eth0 address 02:00:00:00:00:01 type veth peer name eth0 address 02:00:00:00:01:02 netns h1
        ip -n r link add eth1 address 02:00:00:00:00:02 type veth peer name eth0 address 02:00:00:00:02:02 netns h2
        ip -n r link set eth0 up
        ip -n r link set eth1 up
        ip -n r addr add 10.0.1.254/24 dev eth0
        ip -n r link add link eth1 name eth1.20 type vlan id 20
        ip -n r link set eth1.20 up
        ip -n r addr add 10.0.20.254/24 dev eth1.20
        ip -n h1 link set eth0 up
        ip -n h1 addr add 10.0.1.1/24 dev eth0
        ip -n h2 link set eth0 up
        ip -n h2 link add link eth0 name eth0.20 type vlan id 20
        ip -n h2 link set eth0.20 up
        ip -n h2 addr add 10.0.20.2/24 dev eth0.20
        """;

    private static readonly MacAddress R0 = MacAddress.Parse("02:00:00:00:00:01"), R1 = MacAddress.Parse("02:00:00:00:00:02");
    private static readonly MacAddress H1 = MacAddress.Parse("02:00:00:00:01:02"), H2 = MacAddress.Parse("02:00:00:00:02:02");

    private static HostTopology Topo(string extra = "") => LabLoader.Load(Lab + "\n" + extra, "vlan.lab");

    private static PacketTrace Inject(DatapathEngine engine, string at, byte[] f) =>
        engine.Process(new CaptureFrame(1, 0, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint(at));

    private static byte[] Ping(MacAddress dst, MacAddress src, string from, string to, ushort? vlan = null) =>
        FrameBuilder.Ethernet(dst, src, EtherTypes.Ipv4, FrameBuilder.Ipv4(IpAddr.Parse(from), IpAddr.Parse(to), 1, FrameBuilder.IcmpEcho(7, 1)), vlan);

    private static string Dump(PacketTrace t) => string.Join("\n", t.Path) + $"\n=> {t.Fate} {t.Reason}";

    [Fact]
    public void IpLinkAddTypeVlanStacksOnItsLowerDeviceAndTakesItsAddress()
    {
        var r = Topo().Namespace("r")!;
        var vlan = r.Device("eth1.20")!;
        Assert.Equal(DeviceKind.Vlan, vlan.Kind);
        Assert.Equal(new VlanDevParameters("eth1", 20, EtherTypes.Vlan), vlan.VlanDev);
        Assert.Equal(R1, vlan.Mac);
        Assert.Empty(r.Unmodelled);
        var qinq = LabLoader.Load("ip link add d0 type dummy\nip link add link d0 name d0.5 address 02:00:00:00:05:05 type vlan protocol 802.1ad id 5 reorder_hdr off", "t.lab").Host;
        Assert.Equal(new VlanDevParameters("d0", 5, EtherTypes.QinQ), qinq.Device("d0.5")!.VlanDev);
        Assert.Equal(MacAddress.Parse("02:00:00:00:05:05"), qinq.Device("d0.5")!.Mac);
        Assert.Equal("t.lab:2: vlan d0.5 options reorder_hdr off", Assert.Single(qinq.Unmodelled));
    }

    [Theory]
    [InlineData("ip link add name v type vlan id 5", "needs 'link DEV'")]
    [InlineData("ip link add link nope name v type vlan id 5", "Cannot find device \"nope\"")]
    [InlineData("ip link add d0 type dummy\nip link add link d0 name v type vlan", "needs 'id N'")]
    [InlineData("ip link add d0 type dummy\nip link add link d0 name v type vlan id 4095", "0-4094")]
    [InlineData("ip link add d0 type dummy\nip link add link d0 name v type vlan id 5 protocol 802.1x", "802.1Q or 802.1ad")]
    [InlineData("ip link add d0 type dummy\nip link add link d0 name v type vlan id 5\nip link add link d0 name w type vlan id 5", "File exists")]
    public void ABadVlanDeviceFailsOnLoadNamingTheLine(string lab, string message)
    {
        var e = Assert.Throws<LabException>(() => LabLoader.Load(lab, "t.lab"));
        Assert.Contains(message, e.Message);
        Assert.Contains("t.lab:", e.Message);
    }

    [Fact]
    public void ARoutedPacketGetsTheTagOnTheLowerDeviceAndTheOtherEndsVlanDeviceTakesItOff()
    {
        var t = Inject(new DatapathEngine(Topo()), "r/eth0", Ping(R0, H1, "10.0.1.1", "10.0.20.2"));
        Assert.True(t.Fate == Fate.Delivered, Dump(t));
        var push = Assert.Single(t.Path, e => e.Function == "vlan_dev_hard_start_xmit");
        Assert.Equal(("r", "eth1.20"), (push.Namespace, push.Device));
        Assert.Contains("tag VID 20 (0x8100) pushed, queued on eth1", push.Detail);
        Assert.Contains(t.Path, e => e.Function == "veth_xmit" && e.Namespace == "r" && e.Device == "eth1");
        var pop = Assert.Single(t.Path, e => e.Function == "vlan_do_receive");
        Assert.Equal(("h2", "eth0.20"), (pop.Namespace, pop.Device));
        Assert.Equal("VID 20 on eth0: untagged, received on eth0.20", pop.Detail);
        Assert.Equal("h2", t.Path[^1].Namespace);
        Assert.Equal("eth0.20", t.Path[^1].Device);
    }

    [Fact]
    public void AVidWithoutAVlanDeviceStaysOtherhostAndADownVlanDeviceFreesTheFrame()
    {
        var other = Inject(new DatapathEngine(Topo()), "h2/eth0", Ping(H2, R1, "10.0.20.254", "10.0.20.2", vlan: 30));
        Assert.True(other.Fate == Fate.Dropped && other.Reason == "OTHERHOST", Dump(other));
        Assert.Contains("no VLAN device on eth0 for it", Assert.Single(other.Path, e => e.Function == "vlan_do_receive").Detail);

        var down = Inject(new DatapathEngine(Topo("ip -n h2 link set eth0.20 down")), "h2/eth0", Ping(H2, R1, "10.0.20.254", "10.0.20.2", vlan: 20));
        Assert.True(down.Fate == Fate.Dropped && down.Reason == "NOT_SPECIFIED", Dump(down));
        Assert.Equal("VID 20 belongs to eth0.20, which is down", down.Path[^1].Detail);
    }

    [Fact]
    public void AVlanDeviceWithAnAddressOfItsOwnMakesTheFrameForItHost()
    {
        var t = Inject(new DatapathEngine(Topo("ip -n h2 link set eth0.20 down\nip -n h2 link set eth0.20 address 02:00:00:00:20:20\nip -n h2 link set eth0.20 up")),
            "h2/eth0", Ping(MacAddress.Parse("02:00:00:00:20:20"), R1, "10.0.20.254", "10.0.20.2", vlan: 20));
        Assert.True(t.Fate == Fate.Delivered, Dump(t));
        Assert.EndsWith("pkt_type HOST: 02:00:00:00:20:20 is eth0.20's address", Assert.Single(t.Path, e => e.Function == "vlan_do_receive").Detail);
    }

    [Fact]
    public void ADeviceNameWithADotFallsBackToTheDefaultSysctl()
    {
        var r = Topo().Namespace("r")!;
        Assert.True(r.Sysctls.Ipv4Forwarding("eth1.20"));
    }
}
