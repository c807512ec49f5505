using System.Buffers.Binary;
using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Tunnel;
using PktFlow.Wire;

namespace PktFlow.Tests.Tunnel;

/// <summary>vxlan over an IPv6 underlay: the outer IPv6 header vxlan_xmit_one builds and its way out through ip6_local_out.</summary>
public class VxlanIpv6Tests
{
    private const string Lab = """
        sysctl -w net.ipv4.ip_forward=1
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 192.168.50.1/24 dev eth0
        ip -6 addr add 2001:db8::1/64 dev eth0
        ip -6 neigh add 2001:db8::2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
        ip link add vx0 address 02:00:00:00:0a:01 type vxlan id 42 dstport 4789 local 2001:db8::1 remote 2001:db8::2 dev eth0 nolearning
        ip addr add 10.42.0.1/24 dev vx0
        ip link set vx0 up
        ip route add 10.244.2.0/24 via 10.42.0.2 dev vx0
        ip neigh add 10.42.0.2 lladdr 02:00:00:00:0a:02 dev vx0 nud permanent

        """;

    private static readonly IpAddr Local = IpAddr.Parse("2001:db8::1"), Remote = IpAddr.Parse("2001:db8::2");

    private static byte[] Inner(byte tos = 0) =>
        FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:0a:02"), MacAddress.Parse("02:00:00:00:0a:01"), EtherTypes.Ipv4,
            Wire.FrameBuilder.Ipv4("10.42.0.1", "10.244.2.2", IpProtocol.Icmp, FrameBuilder.IcmpEcho(7, 1), tos: tos));

    /// <summary>Forwards an IPv4 ping from the underlay into vx0; returns the trace and the frames sent on eth0.</summary>
    private static (PacketTrace Trace, List<byte[]> Sent) Forward(string extra = "", byte tos = 0, string lab = Lab)
    {
        var sent = new List<byte[]>();
        var engine = new DatapathEngine(LabLoader.Load(lab + extra, "t.lab")) { OnTransmit = (ns, dev, frame) => { if (dev == "eth0") sent.Add(frame); } };
        var ip = Wire.FrameBuilder.Ipv4("192.168.50.9", "10.244.2.2", IpProtocol.Icmp, FrameBuilder.IcmpEcho(9, 1), tos: tos);
        var f = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:01:01"), MacAddress.Parse("02:00:00:00:01:09"), EtherTypes.Ipv4, ip);
        var t = engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("eth0"));
        return (t, sent);
    }

    [Theory]
    [InlineData(0x00, 0x00)]
    [InlineData(0xb8, 0xb8)]
    [InlineData(0x01, 0x01)]
    public void EncapsulateBuildsTheOuterIpv6Header(byte tos, byte trafficClass)
    {
        var inner = Inner();
        var outer = VxlanXmit.Encapsulate(Local, Remote, 42, 4789, 50000, tos, 64, true, inner);
        Assert.True(Ipv6Header.TryParse(outer, out var ip, out _));
        Assert.Equal(6, outer[0] >> 4);
        Assert.Equal((trafficClass, 0u, IpProtocol.Udp, (byte)64), (ip.TrafficClass, ip.FlowLabel, ip.NextHeader, ip.HopLimit));
        Assert.Equal((Local, Remote), (ip.Source, ip.Destination));
        Assert.Equal(8 + 8 + inner.Length, ip.PayloadLength);
        Assert.True(UdpHeader.TryParse(ip.Payload, out var udp, out _));
        Assert.Equal(((ushort)50000, (ushort)4789, (ushort)(8 + 8 + inner.Length)), (udp.SourcePort, udp.DestinationPort, udp.Length));
        Assert.NotEqual(0, BinaryPrimitives.ReadUInt16BigEndian(ip.Payload[6..]));
        Assert.True(Checksum.TransportValid(Local, Remote, IpProtocol.Udp, ip.Payload));
        Assert.True(VxlanHeader.TryParse(ip.Payload[8..], out var vh) && vh.HasVni && vh.Vni == 42);
        Assert.Equal(inner, vh.Payload.ToArray());
        // udp6zerocsumtx: a zero checksum
        var zero = VxlanXmit.Encapsulate(Local, Remote, 42, 4789, 50000, tos, 64, false, inner);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(zero.AsSpan(40 + 6)));
    }

    [Fact]
    public void AnIpv6DeviceTakesItsMtuAndChecksumsFromTheIpv6Socket()
    {
        var ns = LabLoader.Load(Lab, "t.lab").Namespaces[0];
        Assert.Equal(1500 - 70, ns.Device("vx0")!.Mtu); // VXLAN6_HEADROOM
        Assert.True(ns.Device("vx0")!.Vxlan!.UdpCsum);
        // noudpcsum is the IPv4 socket's: an IPv6 device still sends checksums; udp6zerocsumtx turns them off
        var noudp = LabLoader.Load(Lab.Replace("nolearning", "nolearning noudpcsum"), "t.lab").Namespaces[0];
        Assert.True(noudp.Device("vx0")!.Vxlan!.UdpCsum);
        var zero = LabLoader.Load(Lab.Replace("nolearning", "nolearning udp6zerocsumtx"), "t.lab").Namespaces[0];
        Assert.False(zero.Device("vx0")!.Vxlan!.UdpCsum);
    }

    [Theory]
    [InlineData("flowlabel inherit", "flowlabel inherit is not modelled")] // iproute2 6.1 cannot set it: not measured
    [InlineData("flowlabel 0x100000", "invalid flowlabel")] // 20 bits
    public void RefusesTheIpv6OptionsItDoesNotEvaluate(string option, string message)
    {
        var e = Assert.ThrowsAny<Exception>(() => LabLoader.Load(Lab.Replace("nolearning", "nolearning " + option), "t.lab"));
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("", 0u)]
    [InlineData(" flowlabel 0x12345", 0x12345u)] // tests/scenarios/vxlan6-options: the host's vx0
    [InlineData(" flowlabel 0xfffff", 0xfffffu)]
    public void TheOuterFlowLabelIsTheConfiguredOne(string option, uint label)
    {
        var (t, sent) = Forward(lab: Lab.Replace("nolearning", "nolearning" + option), tos: 0xb8);
        Assert.True(EthernetFrame.TryParse(Assert.Single(sent), out var eth, out _));
        Assert.True(Ipv6Header.TryParse(eth.Payload, out var ip, out _));
        Assert.Equal((label, (byte)0x00), (ip.FlowLabel, ip.TrafficClass)); // the label leaves the traffic class alone
        Assert.Contains(t.Path, e => e.Function == "vxlan_xmit_one" && e.Detail!.Contains($"flow label 0x{label:x5}"));
    }

    /// <summary>An IPv6 datagram from the remote to vx0's port carrying an inner echo request for vx0, its UDP checksum 0.</summary>
    private static PacketTrace ZeroChecksumDatagram(string lab)
    {
        var outer = VxlanXmit.Encapsulate(Remote, Local, 42, 4789, 51234, 0, 64, udpCsum: false,
            FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:0a:01"), MacAddress.Parse("02:00:00:00:0a:02"), EtherTypes.Ipv4,
                Wire.FrameBuilder.Ipv4("10.42.0.2", "10.42.0.1", IpProtocol.Icmp, FrameBuilder.IcmpEcho(7, 1))));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(outer.AsSpan(40 + 6)));
        var f = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:01:01"), MacAddress.Parse("02:00:00:00:01:02"), EtherTypes.Ipv6, outer);
        var engine = new DatapathEngine(LabLoader.Load(lab, "t.lab"));
        return engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }

    [Fact]
    public void AZeroUdpChecksumIsDroppedUnlessTheDeviceTakesIt()
    {
        // measured (tests/scenarios/vxlan6-options): without udp6zerocsumrx udpv6_rcv drops it, UDP_CSUM; with it vxlan_rcv gets it
        var dropped = ZeroChecksumDatagram(Lab);
        Assert.Equal((Fate.Dropped, "UDP_CSUM"), (dropped.Fate, dropped.Reason));
        Assert.DoesNotContain(dropped.Path, e => e.Function == "vxlan_rcv");
        var taken = ZeroChecksumDatagram(Lab.Replace("nolearning", "nolearning udp6zerocsumrx"));
        Assert.Contains(taken.Notes, n => n.Contains("udp6zerocsumrx"));
        Assert.Contains(taken.Path, e => e.Function == "vxlan_rcv" && e.Verdict == Verdict.Pass);
        Assert.Equal("icmp_echo", taken.Reason);
    }

    [Fact]
    public void TransmitBuildsTheOuterIpv6PacketAndSendsItWithIp6LocalOut()
    {
        // inner TOS 0x2b (DSCP 10, CE): with tos 0 configured INET_ECN_encapsulate copies only the ECN bits, CE as ECT(0); the hop limit is eth0's
        var (t, sent) = Forward("sysctl -w net.ipv6.conf.eth0.hop_limit=9\n", tos: 0x2b);
        var frame = Assert.Single(sent);
        Assert.True(EthernetFrame.TryParse(frame, out var eth, out _));
        Assert.Equal((EtherTypes.Ipv6, MacAddress.Parse("02:00:00:00:01:02")), (eth.EtherType, eth.Destination));
        Assert.True(Ipv6Header.TryParse(eth.Payload, out var ip, out _));
        Assert.Equal((Local, Remote, (byte)9, 0u), (ip.Source, ip.Destination, ip.HopLimit, ip.FlowLabel));
        Assert.Equal(0x02, ip.TrafficClass); // tos 0 configured: only the ECN bits, ECT(0) from CE
        Assert.True(Checksum.TransportValid(Local, Remote, IpProtocol.Udp, ip.Payload));
        Assert.Equal(32768, BinaryPrimitives.ReadUInt16BigEndian(ip.Payload)); // not seen: the range's first port, flagged
        Assert.Contains(t.Path, e => e.Function == "vxlan_xmit_one" && e.Detail!.Contains("2001:db8::1 > 2001:db8::2:4789, hop limit 9") && e.Detail.Contains("ip6_local_out"));
    }

    [Fact]
    public void TheHostsIp6OutputHookSeesTheOuterDatagram()
    {
        var (t, sent) = Forward("""
            nft -f - <<'NFT'
            table ip6 f {
              chain o {
                type filter hook output priority filter; policy accept;
                udp dport 4789 counter drop
              }
            }
            NFT

            """);
        Assert.Empty(sent);
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.Contains(t.Path, e => e.Function == "vxlan_xmit_one");
    }

    [Fact]
    public void ObserveTracesTheInnerFrameOfADatagramSeenLeavingOverIpv6()
    {
        var outer = VxlanXmit.Encapsulate(Local, Remote, 42, 4789, 51234, 0, 64, true, Inner());
        var f = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:01:02"), MacAddress.Parse("02:00:00:00:01:01"), EtherTypes.Ipv6, outer);
        var engine = new DatapathEngine(LabLoader.Load(Lab, "t.lab")) { Mode = ReplayMode.Observe };
        var t = engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("eth0"));
        Assert.Contains(t.Notes, n => n.Contains("seen leaving as a VXLAN datagram 2001:db8::1:51234 > 2001:db8::2:4789 VNI 42, made by vx0"));
        // the port the capture showed is the one the model writes for that flow
        Assert.Contains(t.Path, e => e.Function == "vxlan_xmit_one" && e.Detail!.Contains("51234, as the capture showed"));
    }
}
