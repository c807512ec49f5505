using System.Buffers.Binary;
using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Tunnel;

/// <summary>
/// A multicast underlay (`group ADDR dev DEV`, tests/scenarios/vxlan-multicast): the group is the default
/// entry, so flooded frames go to it (TTL 1, the group's multicast MAC, the lower device's address as the
/// source), and the device joined it on the lower device, so datagrams to the group reach its socket.
/// </summary>
public class VxlanMulticastTests
{
    private static string Lab(string group, string underlay, string vxOptions = "") => $"""
        sysctl -w net.ipv4.ip_forward=1
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add {underlay} dev eth0
        ip link add eth1 type dummy
        ip link set eth1 address 02:00:00:00:02:01
        ip link set eth1 up
        ip addr add 192.168.70.1/24 dev eth1
        ip link add vx0 address 02:00:00:00:0a:01 type vxlan id 42 dstport 4789 group {group} dev eth0{vxOptions}
        ip addr add 10.10.0.1/24 dev vx0
        ip link set vx0 up
        ip neigh add 10.10.0.2 lladdr 02:00:00:00:0a:02 dev vx0 nud permanent

        """;

    private static readonly MacAddress Eth0 = MacAddress.Parse("02:00:00:00:01:01"), Peer = MacAddress.Parse("02:00:00:00:01:02");

    private static PacketTrace Inject(DatapathEngine engine, string dev, MacAddress to, ushort type, byte[] network)
    {
        var f = FrameBuilder.Ethernet(to, Peer, type, network);
        return engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint(dev));
    }

    private static byte[] ForwardedPing() =>
        FrameBuilder.Ipv4(IpAddr.Parse("192.168.70.9"), IpAddr.Parse("10.10.0.2"), IpProtocol.Icmp, FrameBuilder.IcmpEcho(9, 1));

    [Theory]
    [InlineData("239.1.1.1", "192.168.61.1/24", "", "01:00:5e:01:01:01", 1)]
    [InlineData("239.129.2.3", "192.168.61.1/24", " ttl 5", "01:00:5e:01:02:03", 5)] // 23 bits of the group
    public void FloodedFramesGoToTheGroupWithTtlOne(string group, string underlay, string options, string mac, int ttl)
    {
        var sent = new List<byte[]>();
        var engine = new DatapathEngine(LabLoader.Load(Lab(group, underlay, options), "t.lab")) { OnTransmit = (ns, dev, frame) => { if (dev == "eth0") sent.Add(frame); } };
        var t = Inject(engine, "eth1", MacAddress.Parse("02:00:00:00:02:01"), EtherTypes.Ipv4, ForwardedPing());
        Assert.Contains(t.Path, e => e.Function == "vxlan_xmit" && e.Detail!.Contains($"default entry 00:00:00:00:00:00 -> {group} via eth0"));
        var frame = Assert.Single(sent);
        Assert.True(EthernetFrame.TryParse(frame, out var eth, out _));
        Assert.Equal(MacAddress.Parse(mac), eth.Destination);
        Assert.Equal(Eth0, eth.Source);
        Assert.True(Ipv4Header.TryParse(eth.Payload, out var ip, out _));
        Assert.Equal((IpAddr.Parse(group), IpAddr.Parse("192.168.61.1"), (byte)ttl, false), (ip.Destination, ip.Source, ip.Ttl, ip.DontFragment));
        Assert.Equal(4789, BinaryPrimitives.ReadUInt16BigEndian(ip.Payload[2..]));
    }

    [Fact]
    public void AnIpv6GroupGoesToItsMulticastMacFromTheLowerDevicesGlobalAddress()
    {
        var sent = new List<byte[]>();
        var lab = Lab("ff05::100", "2001:db8::1/64").Replace("ip link set eth0 up", "ip link set eth0 up\nip -6 addr add fe80::1/64 dev eth0");
        var engine = new DatapathEngine(LabLoader.Load(lab, "t.lab")) { OnTransmit = (ns, dev, frame) => { if (dev == "eth0") sent.Add(frame); } };
        Inject(engine, "eth1", MacAddress.Parse("02:00:00:00:02:01"), EtherTypes.Ipv4, ForwardedPing());
        var frame = Assert.Single(sent);
        Assert.True(EthernetFrame.TryParse(frame, out var eth, out _));
        Assert.Equal(MacAddress.Parse("33:33:00:00:01:00"), eth.Destination);
        Assert.True(Ipv6Header.TryParse(eth.Payload, out var ip6, out _));
        Assert.Equal((IpAddr.Parse("ff05::100"), IpAddr.Parse("2001:db8::1"), (byte)1), (ip6.Destination, ip6.Source, ip6.HopLimit));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ADatagramToTheGroupIsReceivedOnlyWhileTheDeviceHasJoinedIt(bool up)
    {
        var lab = Lab("239.1.1.1", "192.168.61.1/24") + (up ? "" : "ip link set vx0 down\n");
        var arp = FrameBuilder.Ethernet(MacAddress.Broadcast, MacAddress.Parse("02:00:00:00:0a:02"), EtherTypes.Arp,
            FrameBuilder.Arp(1, MacAddress.Parse("02:00:00:00:0a:02"), IpAddr.Parse("10.10.0.2"), MacAddress.Zero, IpAddr.Parse("10.10.0.1")));
        var vx = new byte[8 + arp.Length];
        BinaryPrimitives.WriteUInt32BigEndian(vx, VxlanHeader.FlagVni);
        BinaryPrimitives.WriteUInt32BigEndian(vx.AsSpan(4), 42u << 8);
        arp.CopyTo(vx.AsSpan(8));
        var (from, group) = (IpAddr.Parse("192.168.61.2"), IpAddr.Parse("239.1.1.1"));
        var outer = FrameBuilder.Ipv4(from, group, IpProtocol.Udp, FrameBuilder.UdpWithPayload(from, group, 48333, 4789, vx), df: false);
        var engine = new DatapathEngine(LabLoader.Load(lab, "t.lab"));
        var t = Inject(engine, "eth0", MacAddress.Parse("01:00:5e:01:01:01"), EtherTypes.Ipv4, outer);
        if (up)
        {
            Assert.Contains(t.Path, e => e.Detail?.Contains("joined on eth0 by vx0 (vxlan_igmp_join)") == true);
            Assert.Contains(t.Path, e => e.Function == "vxlan_rcv" && e.Verdict == Verdict.Pass);
            Assert.Equal(from, engine.States[0].VxlanFdb.Learned("vx0", MacAddress.Parse("02:00:00:00:0a:02"), 1_000_000));
        }
        else
        {
            Assert.Equal(Fate.Dropped, t.Fate);
            Assert.DoesNotContain(t.Path, e => e.Function == "vxlan_rcv");
        }
    }

    [Fact]
    public void TheGroupNeedsItsLowerDeviceAndAMulticastAddress()
    {
        Assert.Contains("'group' requires 'dev'", Assert.ThrowsAny<Exception>(() => LabLoader.Load("ip link add vx0 type vxlan id 5 group 239.1.1.1", "t.lab")).Message);
        var p = LabLoader.Load(Lab("239.1.1.1", "192.168.61.1/24"), "t.lab").Host.Device("vx0")!.Vxlan!;
        Assert.Equal(IpAddr.Parse("239.1.1.1"), p.Group);
        Assert.Contains("group 239.1.1.1", p.ToString());
    }
}
