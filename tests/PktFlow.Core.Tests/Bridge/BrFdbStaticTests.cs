using PktFlow.Bridge;
using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Bridge;

/// <summary>
/// FDB entries made by hand (`bridge fdb add|replace|del MAC dev PORT master [permanent|static|dynamic]`):
/// the lab commands with the errors 6.18 gives, and what the entries do to frames (checked in
/// namespaces and recorded in tests/scenarios/bridge-fdb-static).
/// </summary>
public class BrFdbStaticTests
{
    private const string Lab = """
        ip netns add h1
        ip netns add h2
        ip netns add h3
        ip link add br0 address 02:00:00:00:00:fe type bridge
        ip link set br0 up
        for n in 1 2 3; do
            ip link add port$n address 02:00:00:00:0$n:01 type veth peer name eth0 address 02:00:00:00:0$n:02 netns h$n
            ip link set port$n master br0
            ip link set port$n up
            ip -n h$n addr add 10.0.0.$n/24 dev eth0
            ip -n h$n link set eth0 up
        done
        """;

    private static readonly MacAddress H1 = MacAddress.Parse("02:00:00:00:01:02");
    private static readonly MacAddress H3 = MacAddress.Parse("02:00:00:00:03:02");
    private static readonly MacAddress X = MacAddress.Parse("02:00:00:00:09:09");
    private const long Second = 1_000_000_000;

    private static HostTopology Load(string fdb) => LabLoader.Load(Lab + "\n" + fdb, "fdb.lab");

    private static DatapathEngine Engine(string fdb) => new(Load(fdb));

    private static PacketTrace Send(DatapathEngine engine, string port, MacAddress dst, MacAddress src, long timeNs = 0, long number = 1)
    {
        var f = FrameBuilder.Ethernet(dst, src, EtherTypes.Ipv4, FrameBuilder.Ipv4(IpAddr.Parse("10.0.0.1"), IpAddr.Parse("10.0.0.9"), 1, FrameBuilder.IcmpEcho(7, 1)));
        return engine.Process(new CaptureFrame(number, timeNs, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint(port));
    }

    private static string? Finish(PacketTrace t) => t.Path.FirstOrDefault(e => e.Function == "br_handle_frame_finish")?.Detail;

    [Fact]
    public void LabCommandsMakeReplaceAndDeleteEntries()
    {
        var host = Load("""
            bridge fdb add 02:00:00:00:09:09 dev port1 master static
            bridge fdb replace 02:00:00:00:09:09 dev port2 master static
            bridge fdb add 02:00:00:00:08:08 dev port2 master dynamic
            bridge fdb add 02:00:00:00:07:07 dev port3 master
            bridge fdb add 02:00:00:00:06:06 dev port3 master static
            bridge fdb del 02:00:00:00:06:06 dev port3 master
            """).Namespace("host")!;
        Assert.Equal(
            ["02:00:00:00:09:09 dev port2 master static", "02:00:00:00:08:08 dev port2 master dynamic", "02:00:00:00:07:07 dev port3 master permanent"],
            host.FdbEntries.Select(e => e.ToString()));
        Assert.Empty(host.Unmodelled);
    }

    [Theory]
    [InlineData("bridge fdb add 02:00:00:00:09:09 dev port1 master static\nbridge fdb add 02:00:00:00:09:09 dev port2 master static", "File exists")]
    [InlineData("bridge fdb add 02:00:00:00:01:01 dev port1 master static", "File exists")] // the port's own local entry
    [InlineData("bridge fdb del 02:00:00:00:09:09 dev port1 master", "No such file or directory")]
    [InlineData("bridge fdb add 02:00:00:00:09:09 dev br0 master static", "Operation not supported")]
    [InlineData("ip link add port4 type veth peer name p4\nip link set port4 master br0\nbridge fdb add 02:00:00:00:09:09 dev port4 master dynamic", "Operation not permitted")]
    [InlineData("bridge fdb add 02:00:00:00:09:09 dev nodev master", "Cannot find device")]
    public void LabCommandsFailAsTheKernelDoes(string fdb, string error)
    {
        var e = Assert.Throws<LabException>(() => Load(fdb));
        Assert.Contains(error, e.Message);
    }

    [Fact]
    public void EntriesWithoutMasterStayRecordedAsNotModelled()
    {
        // iproute2 sends NTF_SELF without `master`: the port's own address list, not the bridge's FDB
        var host = Load("bridge fdb add 02:00:00:00:09:09 dev port1").Namespace("host")!;
        Assert.Empty(host.FdbEntries);
        Assert.Single(host.Unmodelled);
    }

    [Fact]
    public void AStaticEntryForwardsToItsPortWithoutFloodingAndNeverAges()
    {
        var engine = Engine("bridge fdb add 02:00:00:00:09:09 dev port2 master static");
        var t = Send(engine, "port1", X, H1, timeNs: 3600 * Second);
        Assert.DoesNotContain(t.Path, e => e.Function == "br_flood");
        Assert.Contains("has a static entry on port2", Finish(t));
        Assert.Contains(t.Path, e => e.Function == "veth_xmit" && e.Detail == "port2 -> h2/eth0");
    }

    [Fact]
    public void WithoutTheEntryTheFrameFloods()
    {
        var t = Send(Engine(""), "port1", X, H1);
        Assert.Contains(t.Path, e => e.Function == "br_flood");
    }

    [Fact]
    public void AFrameFromTheStaticMacOnAnotherPortMovesTheEntryWhichStaysStatic()
    {
        var engine = Engine("bridge fdb add 02:00:00:00:03:02 dev port2 master static");
        var from = Send(engine, "port3", MacAddress.Broadcast, H3);
        Assert.Contains("static entry 02:00:00:00:03:02 moved from port2 to port3", Finish(from));
        var t = Send(engine, "port1", H3, H1, timeNs: 1000 * Second, number: 2);
        Assert.Contains("has a static entry on port3", Finish(t));
        var host = engine.Topology.Namespace("host")!;
        Assert.True(BrFdb.Of(engine.StateOf(host), host, host.Device("br0")!, 0).Find(H3, 1000 * Second, 0, BrStpConfig.Default.AgeingTimeNs)!.IsStatic);
    }

    [Fact]
    public void ADynamicEntryAgesLikeALearnedOne()
    {
        var engine = Engine("bridge fdb add 02:00:00:00:09:09 dev port2 master dynamic");
        Assert.Contains("is learned on port2", Finish(Send(engine, "port1", X, H1, timeNs: 10 * Second)));
        // made when the capture starts (its first frame); 300 s later it is gone
        Assert.Contains("unknown unicast, flooded", Finish(Send(engine, "port1", X, H1, timeNs: 311 * Second, number: 2)));
    }

    [Fact]
    public void APermanentEntryTakesTheFrameUpToTheBridgeWhereIpRcvDropsItAsOtherhost()
    {
        var t = Send(Engine("bridge fdb add 02:00:00:00:09:09 dev port2 master permanent"), "port1", X, H1);
        Assert.Contains("is a permanent entry (local fdb entry): up to the host", Finish(t));
        Assert.Contains(t.Path, e => e.Function == "br_pass_frame_up");
        Assert.Equal(("host", "OTHERHOST"), (t.Path[^1].Namespace, t.Reason));
    }
}
