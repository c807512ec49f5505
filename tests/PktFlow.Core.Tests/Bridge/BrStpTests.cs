using PktFlow.Bridge;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Bridge;

/// <summary>
/// The kernel's spanning tree (net/bridge/br_stp*.c) on capture time: the forward_delay timers after
/// br_stp_enable_port, the BPDU comparison of br_supersedes_port_info and what a superior BPDU and
/// its ageing out do to the ports (checked against tests/scenarios/bridge-stp, recorded on 6.18).
/// </summary>
public class BrStpTests
{
    private const long S = 1_000_000_000;
    private const string Lab = """
        ip link add br0 address 02:00:00:00:00:fe type bridge stp_state 1 forward_delay 400 hello_time 200 max_age 600
        ip link set br0 up
        ip link add port1 address 02:00:00:00:01:01 type veth peer name p1 address 02:00:00:00:01:02
        ip link add port2 address 02:00:00:00:02:01 type veth peer name p2 address 02:00:00:00:02:02
        ip link set port1 master br0
        ip link set port2 master br0
        ip link set p1 up
        ip link set p2 up
        ip link set port1 up
        ip link set port2 up
        """;

    private static readonly ulong Ours = 0x8000UL << 48 | 0x0200_0000_00FEUL;
    private static readonly ulong Superior = 0x1000UL << 48 | 0x0200_0000_0A0AUL;

    private static BrStp Stp(string lab = Lab, long? enabled = 0)
    {
        var ns = LabLoader.Load(lab, "stp.lab").Host;
        var br = ns.Device("br0")!;
        return new BrStp(br, BrPorts.Of(ns, br), enabled, 0);
    }

    private static StpBpdu Config(ulong root, uint cost, ulong bridge, ushort port, long maxAge = 6 * S, long fwd = 4 * S) =>
        new(StpBpdu.Config, false, false, root, cost, bridge, port, 0, maxAge, 2 * S, fwd);

    [Fact]
    public void PortsListenThenLearnThenForwardByForwardDelay()
    {
        var stp = Stp();
        Assert.True(stp.IsRoot);
        Assert.All(stp.Ports, p => Assert.Equal(BrPortState.Listening, p.State));
        stp.AdvanceTo(4 * S - 1);
        Assert.All(stp.Ports, p => Assert.Equal(BrPortState.Listening, p.State));
        stp.AdvanceTo(4 * S);
        Assert.All(stp.Ports, p => Assert.Equal(BrPortState.Learning, p.State));
        Assert.False(stp.TopologyChange);
        stp.AdvanceTo(8 * S);
        Assert.All(stp.Ports, p => Assert.Equal(BrPortState.Forwarding, p.State));
        // a port going forwarding on a root bridge is a topology change: the FDB forgets entries idle for forward_delay
        Assert.True(stp.TopologyChange);
        Assert.Equal(4 * S, stp.FdbHoldNs);
        Assert.Contains("port1 forwarding (forward_delay timer)", stp.TakeChanges());
        // it lasts the bridge's forward_delay + max_age
        stp.AdvanceTo(18 * S - 1);
        Assert.True(stp.TopologyChange);
        stp.AdvanceTo(18 * S);
        Assert.False(stp.TopologyChange);
        Assert.Equal(BrStpConfig.Default.AgeingTimeNs, stp.FdbHoldNs);
    }

    [Fact]
    public void WithoutTheLabsTimeTheBridgeIsTakenAsSettled()
    {
        var stp = Stp(enabled: null);
        Assert.All(stp.Ports, p => Assert.Equal(BrPortState.Forwarding, p.State));
        Assert.False(stp.TopologyChange);
        Assert.Contains("taken as settled", stp.TakeChanges());
    }

    [Fact]
    public void PortIdsAndCostsFollowTheLab()
    {
        var stp = Stp(Lab + "\nbridge link set dev port2 priority 5 cost 19");
        Assert.Equal(0x8001, stp.Port(stp.Ports.Single(p => p.Dev.Name == "port1").Dev)!.PortId);
        var p2 = stp.Ports.Single(p => p.Dev.Name == "port2");
        Assert.Equal(5 << 10 | 2, p2.PortId);
        Assert.Equal(19u, p2.PathCost);
        Assert.Equal(2u, stp.Ports.Single(p => p.Dev.Name == "port1").PathCost); // a veth: 10 Gb/s
        Assert.Equal(Ours, stp.BridgeId);
    }

    [Theory]
    [InlineData(0x1000, 0u, 0x8000, 0x8001, true)]   // a lower root id wins
    [InlineData(0x9000, 0u, 0x8000, 0x8001, false)]  // a higher one loses
    public void ARootIdDecidesFirst(int rootPrio, uint cost, int bridgePrio, int port, bool supersedes)
    {
        var stp = Stp();
        var p1 = stp.Ports.Single(p => p.Dev.Name == "port1");
        var bpdu = Config((ulong)rootPrio << 48 | 0x0200_0000_0A0AUL, cost, (ulong)bridgePrio << 48 | 0x0200_0000_0A0AUL, (ushort)port);
        Assert.Equal(supersedes, stp.SupersedesPortInfo(p1, bpdu));
    }

    [Fact]
    public void ThenCostThenDesignatedBridgeThenPort()
    {
        var stp = Stp();
        var p1 = stp.Ports.Single(p => p.Dev.Name == "port1");
        stp.ReceivedConfigBpdu(p1, Config(Superior, 10, Superior + 1, 0x8005));
        Assert.Equal(p1.PortNo, stp.RootPort);
        Assert.True(stp.SupersedesPortInfo(p1, Config(Superior, 9, Superior + 9, 0x8009)));   // cheaper
        Assert.False(stp.SupersedesPortInfo(p1, Config(Superior, 11, Superior, 0x8001)));       // dearer
        Assert.True(stp.SupersedesPortInfo(p1, Config(Superior, 10, Superior, 0x8009)));        // lower bridge id
        Assert.False(stp.SupersedesPortInfo(p1, Config(Superior, 10, Superior + 2, 0x8001))); // higher bridge id
        Assert.True(stp.SupersedesPortInfo(p1, Config(Superior, 10, Superior + 1, 0x8005)));  // the same again: a refresh
        Assert.True(stp.SupersedesPortInfo(p1, Config(Superior, 10, Superior + 1, 0x8006)));  // same bridge, not ours: always
    }

    [Fact]
    public void AnInferiorBpduChangesNothingAndIsAnswered()
    {
        var stp = Stp();
        stp.TakeChanges();
        var p1 = stp.Ports.Single(p => p.Dev.Name == "port1");
        var did = stp.ReceivedConfigBpdu(p1, Config(0xF000UL << 48 | 0x0200_0000_0B0BUL, 0, 0xF000UL << 48 | 0x0200_0000_0B0BUL, 0x8001));
        Assert.Contains("br_reply", did);
        Assert.True(stp.IsRoot);
        Assert.Null(stp.TakeChanges());
    }

    /// <summary>The scenario's middle: a superior root on port2, the same root on port1 from a worse port: port1 blocks; its information ages out after max_age and it listens, learns and forwards again by the root's forward_delay.</summary>
    [Fact]
    public void ASuperiorBpduBlocksAPortUntilItsInformationAgesOut()
    {
        var stp = Stp();
        stp.AdvanceTo(10 * S);
        var p1 = stp.Ports.Single(p => p.Dev.Name == "port1");
        var p2 = stp.Ports.Single(p => p.Dev.Name == "port2");
        stp.ReceivedConfigBpdu(p2, Config(Superior, 0, Superior, 0x8001, maxAge: 40 * S, fwd: 2 * S));
        Assert.False(stp.IsRoot);
        Assert.Equal(p2.PortNo, stp.RootPort);
        Assert.Equal(2u, stp.RootPathCost);
        Assert.Equal(2 * S, stp.ForwardDelayNs); // the root's timers
        Assert.Equal(BrPortState.Forwarding, p1.State);
        Assert.Equal(new StpBpdu(StpBpdu.Config, false, false, Superior, 2, Ours, 0x8001, 0, 40 * S, 2 * S, 2 * S), stp.ConfigFor(p1));
        Assert.Null(stp.ConfigFor(p2)); // the root port sends no config BPDUs
        stp.TakeChanges();

        stp.AdvanceTo(11 * S);
        stp.ReceivedConfigBpdu(p1, Config(Superior, 0, Superior, 0x8002, maxAge: 6 * S));
        Assert.Equal(BrPortState.Blocking, p1.State);
        Assert.Contains("port1 blocking", stp.TakeChanges());
        Assert.Null(stp.ConfigFor(p1));

        stp.AdvanceTo(17 * S - 1);
        Assert.Equal(BrPortState.Blocking, p1.State);
        stp.AdvanceTo(17 * S);
        Assert.Equal(BrPortState.Listening, p1.State);
        Assert.Contains("aged out", stp.TakeChanges());
        stp.AdvanceTo(19 * S);
        Assert.Equal(BrPortState.Learning, p1.State);
        stp.AdvanceTo(21 * S);
        Assert.Equal(BrPortState.Forwarding, p1.State);
        Assert.False(stp.IsRoot);

        // port2's information (max_age 40 s) ages out: the bridge is root again, with its own timers
        stp.AdvanceTo(50 * S);
        Assert.True(stp.IsRoot);
        Assert.Equal(4 * S, stp.ForwardDelayNs);
        Assert.Equal(BrPortState.Forwarding, p1.State);
        Assert.Equal(BrPortState.Forwarding, p2.State); // the root port turned designated keeps forwarding (br_make_forwarding acts on blocking ports only)
    }

    [Fact]
    public void BpdusAreParsedAsBrStpRcvReadsThem()
    {
        // protocol 0, version 0, type config, flags, root, cost, bridge, port, age, max_age, hello, forward_delay (1/256 s)
        Assert.True(StpBpdu.TryParse(Convert.FromHexString("00000000" + "00" + "1000020000000a0a" + "00000000" + "1000020000000a0a" + "8002" + "0000" + "0600" + "0200" + "0400"), out var b, out _));
        Assert.Equal(Superior, b.Root);
        Assert.Equal(0x8002, b.PortId);
        Assert.Equal(6 * S, b.MaxAgeNs);
        Assert.Equal(4 * S, b.ForwardDelayNs);
        // RSTP (version 2) is not what br_stp_rcv takes
        Assert.False(StpBpdu.TryParse(Convert.FromHexString("0000020000"), out _, out var why));
        Assert.Contains("version 2", why);
        Assert.True(StpBpdu.TryParse(Convert.FromHexString("00000080"), out var tcn, out _));
        Assert.Equal(StpBpdu.Tcn, tcn.Type);
    }

    [Fact]
    public void TheLabRefusesOutOfRangeTimers()
    {
        var e = Assert.Throws<LabException>(() => LabLoader.Load("ip link add br0 type bridge stp_state 1\nip link set br0 type bridge forward_delay 100", "stp.lab"));
        Assert.Contains("forward_delay is 200-3000", e.Message);
        Assert.Throws<LabException>(() => LabLoader.Load("ip link add br0 type bridge hello_time 50", "stp.lab"));
        Assert.Throws<LabException>(() => LabLoader.Load("ip link add br0 type bridge max_age 5000", "stp.lab"));
        var ok = LabLoader.Load("ip link add br0 type bridge forward_delay 100 priority 4096", "stp.lab").Host.Device("br0")!;
        Assert.Equal(S, ok.Stp.ForwardDelayNs); // without STP any forward_delay goes
        Assert.Equal(4096, ok.Stp.Priority);
    }

    [Fact]
    public void TcpdumpsStpLineIsTheSummary()
    {
        var bpdu = Convert.FromHexString("0180c2000000020000000102002642420300000000001000020000000a0a000000001000020000000a0a80020000060002000400");
        Assert.Equal("STP 802.1d, Config, Flags [none], bridge-id 1000.02:00:00:00:0a:0a.8002, length 35", PacketSummary.Format(bpdu, 0));
    }
}
