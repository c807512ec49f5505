using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Macvlan;

/// <summary>`ip link add ... type macvlan` and what the lab loader refuses.</summary>
public class MacvlanLabTests
{
    private const string Base = """
        ip netns add client0
        ip netns add c1
        ip link add eth0 address 02:00:00:00:00:01 type veth peer name eth0 address 02:00:00:00:00:64 netns client0

        """;

    private static HostTopology Load(string extra) => LabLoader.Load(Base + extra, "t.lab");

    private static MacvlanParameters Mv(HostTopology t, string ns, string dev) => t.Namespace(ns)!.Device(dev)!.Macvlan!;

    [Theory]
    [InlineData("", MacvlanMode.Vepa)] // IFLA_MACVLAN_MODE absent: the kernel's default
    [InlineData(" mode bridge", MacvlanMode.Bridge)]
    [InlineData(" mode private", MacvlanMode.Private)]
    [InlineData(" mode passthru", MacvlanMode.Passthru)]
    [InlineData(" mode source macaddr add 02:00:00:00:00:64", MacvlanMode.Source)]
    public void ModesAreParsed(string options, MacvlanMode mode)
    {
        var t = Load($"ip link add mv1 link eth0 address 02:42:0a:00:00:02 type macvlan{options}\n");
        var mv = Mv(t, "host", "mv1");
        Assert.Equal(mode, mv.Mode);
        Assert.Equal(("eth0", "host"), (mv.Lower, mv.LowerNamespace));
        Assert.Equal(DeviceKind.Macvlan, t.Host.Device("mv1")!.Kind);
        Assert.DoesNotContain(t.Host.Unmodelled, u => u.Contains("mv1", StringComparison.Ordinal));
    }

    [Fact]
    public void AMovedMacvlanKeepsItsPortOnTheLowerDevice()
    {
        var t = Load("ip link add mv1 link eth0 address 02:42:0a:00:00:02 type macvlan mode bridge\nip link set mv1 netns c1\nip -n c1 addr add 10.0.0.2/24 dev mv1\nip -n c1 link set mv1 up\n");
        Assert.Null(t.Host.Device("mv1"));
        var mv = Mv(t, "c1", "mv1");
        Assert.Equal((MacvlanMode.Bridge, "eth0", "host"), (mv.Mode, mv.Lower, mv.LowerNamespace));
        Assert.Equal(MacAddress.Parse("02:42:0a:00:00:02"), t.Namespace("c1")!.Device("mv1")!.Mac);
        Assert.Equal(["mv1"], t.MacvlanPort("host", "eth0").Select(p => p.Dev.Name));
    }

    [Fact]
    public void NetnsInTheAddMakesTheMacvlanThereWithItsLowerDeviceHere()
    {
        // checked on 6.18: mvx gets the target's next ifindex (2), link-netns is where the command ran
        var t = Load("ip link add link eth0 mv1 netns c1 address 02:42:0a:00:00:02 type macvlan mode bridge\n");
        Assert.Null(t.Host.Device("mv1"));
        var dev = t.Namespace("c1")!.Device("mv1")!;
        Assert.Equal(2, dev.IfIndex);
        Assert.Equal((MacvlanMode.Bridge, "eth0", "host"), (dev.Macvlan!.Mode, dev.Macvlan.Lower, dev.Macvlan.LowerNamespace));
        Assert.Equal(["mv1"], t.MacvlanPort("host", "eth0").Select(p => p.Dev.Name));
    }

    [Fact]
    public void NetnsInTheAddLooksTheLowerDeviceUpWhereTheCommandRuns()
    {
        var t = Load("ip -n client0 link add link eth0 mv1 netns c1 address 02:42:0a:00:00:02 type macvlan\n");
        Assert.Equal(("eth0", "client0"), (Mv(t, "c1", "mv1").Lower, Mv(t, "c1", "mv1").LowerNamespace));
        Assert.Empty(t.MacvlanPort("host", "eth0"));
    }

    [Fact]
    public void NetnsInAVethAddPutsTheFirstEndThereAndThePeerHere()
    {
        // checked on 6.18: `ip -n A link add va netns B type veth peer name vb` leaves vb in A
        var t = Load("ip -n c1 link add va netns client0 type veth peer name vb\n");
        var va = t.Namespace("client0")!.Device("va")!;
        var vb = t.Namespace("c1")!.Device("vb")!;
        Assert.Equal(("vb", "c1"), (va.Peer, va.PeerNamespace));
        Assert.Equal(("va", "client0"), (vb.Peer, vb.PeerNamespace));
        Assert.Null(t.Namespace("c1")!.Device("va"));
    }

    [Fact]
    public void NetnsInAVxlanAddIsRefused()
    {
        var e = Assert.Throws<LabException>(() => Load("ip link add vx0 netns c1 type vxlan id 42 dstport 4789 dev eth0\n"));
        Assert.Contains("unsupported: ip link add vxlan with netns", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ALowerDeviceTheLabNeverMadeIsTheHostsNic()
    {
        var t = LabLoader.Load("ip link add mv1 link ens3 address 02:42:0a:00:00:02 type macvlan mode bridge\n", "t.lab");
        Assert.Equal(DeviceKind.Physical, t.Host.Device("ens3")!.Kind);
        Assert.Equal("ens3", t.Host.Device("mv1")!.Macvlan!.Lower);
    }

    [Fact]
    public void SourceMacsFollowMacaddrCommands()
    {
        var t = Load("ip link add mv1 link eth0 address 02:42:0a:00:00:02 type macvlan mode source macaddr add 02:00:00:00:00:64 macaddr add 02:00:00:00:00:65\n"
            + "ip link set mv1 type macvlan macaddr del 02:00:00:00:00:64\n");
        Assert.Equal([MacAddress.Parse("02:00:00:00:00:65")], Mv(t, "host", "mv1").SourceMacs);
        var set = Load("ip link add mv1 link eth0 address 02:42:0a:00:00:02 type macvlan mode bridge\nip link set mv1 type macvlan mode private\n");
        Assert.Equal(MacvlanMode.Private, Mv(set, "host", "mv1").Mode);
    }

    [Theory]
    [InlineData("ip link add mv1 link eth0 address 02:42:0a:00:00:02 type macvlan mode bridge nopromisc\n", "unsupported: macvlan option 'nopromisc'")]
    [InlineData("ip link add mv1 link eth0 address 02:42:0a:00:00:02 type macvlan mode bridge bcqueuelen 10\n", "unsupported: macvlan option 'bcqueuelen'")]
    [InlineData("ip link add mv1 link eth0 type macvlan mode bridge\n", "unsupported: a macvlan without 'address'")]
    [InlineData("ip link add mv1 address 02:42:0a:00:00:02 type macvlan mode bridge\n", "a macvlan needs 'link DEV'")]
    [InlineData("ip link add mv1 link lo address 02:42:0a:00:00:02 type macvlan\n", "lo is not an Ethernet device")]
    [InlineData("ip link add mv1 link eth0 address 02:42:0a:00:00:02 type macvlan mode bridge macaddr add 02:00:00:00:00:64\n", "macaddr is only for mode source")]
    [InlineData("ip link add mv1 link eth0 address 02:42:0a:00:00:02 type macvlan mode l2\n", "macvlan mode is private, vepa, bridge, passthru or source")]
    [InlineData("ip link add mv1 link eth0 type macvlan mode passthru\nip link add mv2 link eth0 address 02:42:0a:00:00:03 type macvlan\n", "passthru takes the port alone")]
    [InlineData("ip link add mv1 link eth0 address 02:42:0a:00:00:02 type macvlan\nip link add mv2 link mv1 address 02:42:0a:00:00:03 type macvlan\n", "unsupported: a macvlan on the macvlan mv1")]
    [InlineData("ip link add mv1 link eth0 address 02:42:0a:00:00:02 type macvlan\nip link set eth0 netns c1\n", "unsupported: moving eth0, the lower device of macvlans")]
    public void WhatIsNotModelledIsRefused(string lab, string message)
    {
        var e = Assert.ThrowsAny<Exception>(() => Load(lab));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
