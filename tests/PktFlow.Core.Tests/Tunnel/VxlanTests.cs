using System.Buffers.Binary;
using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Tunnel;
using PktFlow.Wire;

namespace PktFlow.Tests.Tunnel;

/// <summary>vxlan devices: lab parsing, the FDB, the VXLAN header, vxlan_rcv (decap, learning, drops) and vxlan_xmit (encap bytes, flooding).</summary>
public class VxlanTests
{
    /// <summary>A router on the underlay 192.168.50.0/24 that knows the two remotes' MACs.</summary>
    private const string Underlay = """
        sysctl -w net.ipv4.ip_forward=1
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 192.168.50.1/24 dev eth0
        ip neigh add 192.168.50.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
        ip neigh add 192.168.50.3 lladdr 02:00:00:00:01:03 dev eth0 nud permanent

        """;

    private const string Lab = Underlay + """
        ip link add flannel.1 address 02:00:00:00:0a:01 type vxlan id 1 local 192.168.50.1 dev eth0 dstport 8472
        ip addr add 10.244.1.0/32 dev flannel.1
        ip link set flannel.1 up
        ip route add 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink
        ip neigh add 10.244.2.0 lladdr 02:00:00:00:0a:02 dev flannel.1 nud permanent
        bridge fdb append 02:00:00:00:0a:02 dev flannel.1 dst 192.168.50.2 self permanent
        """;

    private static readonly MacAddress Eth0 = MacAddress.Parse("02:00:00:00:01:01"), Node2 = MacAddress.Parse("02:00:00:00:01:02");
    private static readonly MacAddress Flannel1 = MacAddress.Parse("02:00:00:00:0a:01"), Flannel2 = MacAddress.Parse("02:00:00:00:0a:02");
    private static readonly IpAddr Host = IpAddr.Parse("192.168.50.1"), Remote = IpAddr.Parse("192.168.50.2");

    private static PacketTrace Run(DatapathEngine engine, byte[] network, long n = 1)
    {
        var f = FrameBuilder.Ethernet(Eth0, Node2, EtherTypes.Ipv4, network);
        return engine.Process(new CaptureFrame(n, n * 1_000_000, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }

    private static byte[] InnerFrame(MacAddress src, string from = "10.244.2.2", string to = "10.244.1.0") =>
        FrameBuilder.Ethernet(Flannel1, src, EtherTypes.Ipv4, FrameBuilder.Ipv4(IpAddr.Parse(from), IpAddr.Parse(to), IpProtocol.Icmp, FrameBuilder.IcmpEcho(7, 1)));

    private static byte[] Outer(uint vni, byte[] inner, string from = "192.168.50.2", ushort dport = 8472, uint flags = VxlanHeader.FlagVni)
    {
        var vx = new byte[8 + inner.Length];
        BinaryPrimitives.WriteUInt32BigEndian(vx, flags);
        BinaryPrimitives.WriteUInt32BigEndian(vx.AsSpan(4), vni << 8);
        inner.CopyTo(vx.AsSpan(8));
        return FrameBuilder.Ipv4(IpAddr.Parse(from), Host, IpProtocol.Udp, FrameBuilder.UdpWithPayload(IpAddr.Parse(from), Host, 40000, dport, vx), df: false);
    }

    [Fact]
    public void ParsesTheDeviceWithTheKernelsDefaults()
    {
        var ns = LabLoader.Load(Lab, "t.lab").Host;
        var d = ns.Device("flannel.1")!;
        Assert.Equal(DeviceKind.Vxlan, d.Kind);
        Assert.Equal(1450, d.Mtu); // 1500 less 50 bytes of headers
        Assert.Equal(new VxlanParameters(1, 8472, null, Host, "eth0", true, 0, 0, 0, 0, true), d.Vxlan);
        Assert.Equal(VxlanParameters.DefaultPort, LabLoader.Load("ip link add vx0 type vxlan id 5", "t.lab").Host.Device("vx0")!.Vxlan!.DstPort);
        var fdb = Assert.Single(ns.VxlanFdb);
        Assert.Equal((Flannel2, Remote), (fdb.Mac, fdb.Remote));
    }

    [Fact]
    public void ATooLargeMtuIsLoweredAtCreationAndRefusedLater()
    {
        // checked on 6.18 with a veth of MTU 1400: `mtu 1390` at creation gives 1350, `ip link set mtu 1380` is EINVAL
        const string lower = "ip link add d0 type veth peer name d1\nip link set d0 mtu 1400\n";
        Assert.Equal(1350, LabLoader.Load(lower + "ip link add vx0 mtu 1390 type vxlan id 7 dstport 4789 remote 192.168.50.2 dev d0\n", "t.lab").Host.Device("vx0")!.Mtu);
        Assert.Equal(1300, LabLoader.Load(lower + "ip link add vx0 mtu 1300 type vxlan id 7 dstport 4789 remote 192.168.50.2 dev d0\n", "t.lab").Host.Device("vx0")!.Mtu);
        Assert.Equal(1390, LabLoader.Load("ip link add vx0 mtu 1390 type vxlan id 7 dstport 4789 remote 192.168.50.2\n", "t.lab").Host.Device("vx0")!.Mtu);
        Assert.ThrowsAny<Exception>(() => LabLoader.Load(lower + "ip link add vx0 type vxlan id 7 dstport 4789 remote 192.168.50.2 dev d0\nip link set vx0 mtu 1380\n", "t.lab"));
    }

    [Fact]
    public void AVniIsTakenPerFamilyOfTheRemoteOrLocalAddress()
    {
        // checked on 6.18: VNI 7 with local 192.168.50.1, then remote fd00::2 is accepted, remote 192.168.50.9 is not
        const string first = "ip link add vx5 type vxlan id 7 dstport 4789 local 192.168.50.1\n";
        Assert.NotNull(LabLoader.Load(first + "ip link add vx6 type vxlan id 7 dstport 4789 remote fd00::2\n", "t.lab").Host.Device("vx6"));
        Assert.ThrowsAny<Exception>(() => LabLoader.Load(first + "ip link add vx7 type vxlan id 7 dstport 4789 remote 192.168.50.9\n", "t.lab"));
    }

    [Theory]
    [InlineData("ip link add vx0 type vxlan id 5 group 239.1.1.1", "'group' requires 'dev'")]
    [InlineData("ip link add eth0 type dummy\nip link add vx0 type vxlan id 5 group 10.1.1.1 dev eth0", "invalid group address")]
    [InlineData("ip link add eth0 type dummy\nip link add vx0 type vxlan id 5 remote 239.1.1.1 dev eth0", "invalid remote address")]
    [InlineData("ip link add vx0 type vxlan id 5 external", "collect metadata")]
    [InlineData("ip link add vx0 type vxlan id 5 gbp", "'gbp'")]
    [InlineData("ip link add vx0 type vxlan dstport 4789", "missing virtual network identifier")]
    [InlineData("ip link add vx0 type vxlan id 5 df set", "df set")]
    public void RefusesWhatIsNotModelled(string line, string message)
    {
        var e = Assert.ThrowsAny<Exception>(() => LabLoader.Load(line, "t.lab"));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void TheFdbAppendsRemotesAndRefusesDuplicates()
    {
        const string vx = "ip link add vx0 type vxlan id 5 dstport 4789 remote 192.168.50.2\n";
        var ns = LabLoader.Load(vx + "bridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.168.50.3\n", "t.lab").Host;
        Assert.Equal(["192.168.50.2", "192.168.50.3"], ns.VxlanFdb.Where(e => e.Mac.IsZero).Select(e => e.Remote.ToString()));
        Assert.ThrowsAny<Exception>(() => LabLoader.Load(vx + "bridge fdb add 00:00:00:00:00:00 dev vx0 dst 192.168.50.3\n", "t.lab"));
        // a remote listed already: no error, no second copy (vxlan_fdb_append finds the rdst)
        Assert.Single(LabLoader.Load(vx + "bridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.168.50.2\n", "t.lab").Host.VxlanFdb);
        var deleted = LabLoader.Load(vx + "bridge fdb del 00:00:00:00:00:00 dev vx0 dst 192.168.50.2\n", "t.lab").Host;
        Assert.Empty(deleted.VxlanFdb);
    }

    [Fact]
    public void TheFdbReplacesAndAppendsAsVxlanFdbUpdateDoes()
    {
        // checked on 6.18: append to a unicast entry changes nothing; replace rewrites the first remote only
        const string vx = "ip link add vx0 type vxlan id 5 dstport 4789 remote 192.168.50.2\nbridge fdb add 02:00:00:00:00:09 dev vx0 dst 192.168.50.3\n";
        IEnumerable<string> Remotes(string more, string mac) =>
            LabLoader.Load(vx + more, "t.lab").Host.VxlanFdb.Where(e => e.Mac == MacAddress.Parse(mac)).Select(e => e.ToString().Split(' ')[4]);
        Assert.Equal(["192.168.50.3"], Remotes("bridge fdb append 02:00:00:00:00:09 dev vx0 dst 192.168.50.4\n", "02:00:00:00:00:09"));
        Assert.Equal(["192.168.50.5"], Remotes("bridge fdb replace 02:00:00:00:00:09 dev vx0 dst 192.168.50.5\n", "02:00:00:00:00:09"));
        const string mc = "bridge fdb append 01:00:5e:00:00:09 dev vx0 dst 192.168.50.7\nbridge fdb append 01:00:5e:00:00:09 dev vx0 dst 192.168.50.8\n";
        Assert.Equal(["192.168.50.7", "192.168.50.8"], Remotes(mc, "01:00:5e:00:00:09"));
        // replace refuses the all-zeros and multicast MACs (EOPNOTSUPP), add an existing MAC (EEXIST)
        Assert.ThrowsAny<Exception>(() => LabLoader.Load(vx + "bridge fdb replace 00:00:00:00:00:00 dev vx0 dst 192.168.50.7\n", "t.lab"));
        Assert.ThrowsAny<Exception>(() => LabLoader.Load(vx + "bridge fdb replace 01:00:5e:00:00:09 dev vx0 dst 192.168.50.7\n", "t.lab"));
        Assert.ThrowsAny<Exception>(() => LabLoader.Load(vx + "bridge fdb add 02:00:00:00:00:09 dev vx0 dst 192.168.50.4\n", "t.lab"));
    }

    [Fact]
    public void HeaderDeconstructConstructTruncated()
    {
        byte[] h = [0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0];
        Assert.True(VxlanHeader.TryParse(h, out var v));
        Assert.True(v.HasVni);
        Assert.Equal(0x123456u, v.Vni);
        Assert.False(v.ReservedBitsSet);
        var built = new byte[8];
        VxlanHeader.Write(built, 0x123456);
        Assert.Equal(h, built);
        Assert.False(VxlanHeader.TryParse(h.AsSpan(0, 7), out _));
        byte[] reserved = [0x08, 0, 0, 0, 0, 0, 1, 0x01];
        Assert.True(VxlanHeader.TryParse(reserved, out var r) && r.ReservedBitsSet);
    }

    [Fact]
    public void EncapsulateBuildsTheOuterHeaders()
    {
        var inner = InnerFrame(Flannel2);
        var outer = VxlanXmit.Encapsulate(Host, Remote, 1, 8472, 0, 0, 64, true, inner);
        Assert.True(Ipv4Header.TryParse(outer, out var ip, out _));
        Assert.Equal((Host, Remote, IpProtocol.Udp, (byte)64, false), (ip.Source, ip.Destination, ip.Protocol, ip.Ttl, ip.DontFragment));
        Assert.Equal(20 + 8 + 8 + inner.Length, ip.TotalLength);
        Assert.True(UdpHeader.TryParse(ip.Payload, out var udp, out _));
        Assert.Equal((ushort)8472, udp.DestinationPort);
        Assert.True(Checksum.TransportValid(Host, Remote, IpProtocol.Udp, ip.Payload));
        Assert.True(VxlanHeader.TryInner(ip.Payload, out var type, out var l3));
        Assert.Equal(EtherTypes.Ipv4, type);
        Assert.Equal(inner.AsSpan(14).ToArray(), l3.ToArray());
        var nocsum = VxlanXmit.Encapsulate(Host, Remote, 1, 8472, 0, 0, 64, false, inner);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(nocsum.AsSpan(26)));
    }

    [Fact]
    public void ReceiveDecapsulatesOntoTheDevice()
    {
        var t = Run(new DatapathEngine(LabLoader.Load(Lab, "t.lab")), Outer(1, InnerFrame(Flannel2)));
        Assert.Contains(t.Path, e => e.Function == "vxlan_rcv" && e.Verdict == Verdict.Pass && e.Detail!.StartsWith("VNI 1 -> flannel.1"));
        Assert.Contains(t.Path, e => e.Function == "eth_type_trans" && e.Device == "flannel.1");
        // the inner echo request to flannel.1's own address is answered
        Assert.Equal("icmp_echo", t.Reason);
        Assert.Equal("flannel.1", t.Path[^1].Device);
    }

    [Theory]
    [InlineData(7u, VxlanHeader.FlagVni, "VXLAN_VNI_NOT_FOUND")]
    [InlineData(1u, 0u, "VXLAN_INVALID_HDR")]
    [InlineData(1u, VxlanHeader.FlagVni | 0x0100_0000, "VXLAN_INVALID_HDR")]
    public void ReceiveDropsWhatVxlanRcvRefuses(uint vni, uint flags, string reason)
    {
        var t = Run(new DatapathEngine(LabLoader.Load(Lab, "t.lab")), Outer(vni, InnerFrame(Flannel2), flags: flags));
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.Equal(reason, t.Reason);
        Assert.Equal("vxlan_rcv", t.Path[^1].Function);
    }

    [Fact]
    public void ADeviceThatIsDownHasNoSocket()
    {
        var t = Run(new DatapathEngine(LabLoader.Load(Lab + "\nip link set flannel.1 down\n", "t.lab")), Outer(1, InnerFrame(Flannel2)));
        Assert.DoesNotContain(t.Path, e => e.Function == "vxlan_rcv");
    }

    [Fact]
    public void ADeviceThatIsDownIsNotOnItsPortsSocket()
    {
        // vxlan_stop -> vxlan_sock_release -> vxlan_vs_del_dev: vx2 leaves the socket flannel.1 keeps open
        var engine = new DatapathEngine(LabLoader.Load(Lab + "\nip link add vx2 type vxlan id 2 local 192.168.50.1 dev eth0 dstport 8472\n", "t.lab"));
        var learnt = MacAddress.Parse("02:00:00:00:0a:09");
        var t = Run(engine, Outer(2, InnerFrame(learnt)));
        Assert.Equal("VXLAN_VNI_NOT_FOUND", t.Reason);
        Assert.Null(engine.States[0].VxlanFdb.Learned("vx2", learnt, 1_000_000));
    }

    [Theory]
    [InlineData("01:00:5e:00:00:01", false, "MAC_INVALID_SOURCE")]
    [InlineData("00:00:00:00:00:00", false, "MAC_INVALID_SOURCE")]
    [InlineData("01:00:5e:00:00:01", true, null)]
    public void SnoopDropsAnInvalidSourceWhenLearning(string source, bool nolearning, string? reason)
    {
        var lab = nolearning ? Lab.Replace("dstport 8472", "dstport 8472 nolearning") : Lab;
        var engine = new DatapathEngine(LabLoader.Load(lab, "t.lab"));
        var src = MacAddress.Parse(source);
        var t = Run(engine, Outer(1, InnerFrame(src)));
        if (reason is null) Assert.Contains(t.Path, e => e.Function == "vxlan_rcv" && e.Verdict == Verdict.Pass);
        else
        {
            Assert.Equal(reason, t.Reason);
            Assert.Equal("vxlan_rcv", t.Path[^1].Function);
        }
        Assert.Null(engine.States[0].VxlanFdb.Learned("flannel.1", src, 1_000_000));
    }

    [Theory]
    [InlineData(0x00, 0, false)]
    [InlineData(0x03, 0, true)] // CE: the traffic class's low bits are byte 1's bits 4-5
    [InlineData(0x00, 3, false)] // the flow label's top bits in byte 1's low nibble are no ECN
    public void TheOuterEcnOfAnIpv6DatagramIsReadFromItsTrafficClass(byte trafficClass, byte flowLabelTop, bool ce)
    {
        const string lab = """
            ip link set eth0 address 02:00:00:00:01:01
            ip link set eth0 up
            ip addr add fd00::1/64 dev eth0 nodad
            ip link add vx6 address 02:00:00:00:0a:01 type vxlan id 1 local fd00::1 dev eth0 dstport 8472
            ip link set vx6 up
            """;
        var (from, to) = (IpAddr.Parse("fd00::2"), IpAddr.Parse("fd00::1"));
        var vx = new byte[8 + 60];
        BinaryPrimitives.WriteUInt32BigEndian(vx, VxlanHeader.FlagVni);
        BinaryPrimitives.WriteUInt32BigEndian(vx.AsSpan(4), 1u << 8);
        InnerFrame(Flannel2).AsSpan(0, 60).CopyTo(vx.AsSpan(8));
        var ip6 = FrameBuilder.Ipv6(from, to, IpProtocol.Udp, FrameBuilder.UdpWithPayload(from, to, 40000, 8472, vx));
        ip6[0] = (byte)(0x60 | trafficClass >> 4);
        ip6[1] = (byte)(trafficClass << 4 | flowLabelTop);
        var f = FrameBuilder.Ethernet(Eth0, Node2, EtherTypes.Ipv6, ip6);
        var engine = new DatapathEngine(LabLoader.Load(lab, "t.lab"));
        var t = engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("eth0"));
        if (ce) Assert.Contains("ECN CE", t.Path[^1].Detail);
        else Assert.Contains(t.Path, e => e.Function == "vxlan_rcv" && e.Verdict == Verdict.Pass);
    }

    [Fact]
    public void ObserveTracesAnInnerArpSeenLeavingInADatagram()
    {
        // the underlay is a VLAN, so the outer frame's L3 starts at 18 and the inner frame's at 14:
        // flannel.1's ARP request inside the datagram is parsed, not what lies at the outer offset
        const string lab = """
            ip link set eth0 address 02:00:00:00:01:01
            ip link set eth0 up
            ip link add link eth0 name eth0.10 type vlan id 10
            ip link set eth0.10 up
            ip addr add 192.168.50.1/24 dev eth0.10
            ip neigh add 192.168.50.2 lladdr 02:00:00:00:01:02 dev eth0.10 nud permanent
            ip link add flannel.1 address 02:00:00:00:0a:01 type vxlan id 1 local 192.168.50.1 dev eth0.10 dstport 8472
            ip addr add 10.244.1.0/32 dev flannel.1
            ip link set flannel.1 up
            ip route add 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink
            """;
        var arp = FrameBuilder.Ethernet(MacAddress.Broadcast, Flannel1, EtherTypes.Arp,
            FrameBuilder.Arp(1, Flannel1, IpAddr.Parse("10.244.1.0"), MacAddress.Zero, IpAddr.Parse("10.244.2.0")));
        var vx = new byte[8 + arp.Length];
        BinaryPrimitives.WriteUInt32BigEndian(vx, VxlanHeader.FlagVni);
        BinaryPrimitives.WriteUInt32BigEndian(vx.AsSpan(4), 1u << 8);
        arp.CopyTo(vx.AsSpan(8));
        var f = FrameBuilder.Ethernet(Node2, Eth0, EtherTypes.Ipv4,
            FrameBuilder.Ipv4(Host, Remote, IpProtocol.Udp, FrameBuilder.UdpWithPayload(Host, Remote, 40000, 8472, vx), df: false), vlan: 10);
        var engine = new DatapathEngine(LabLoader.Load(lab, "t.lab")) { Mode = ReplayMode.Observe };
        var t = engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("eth0"));
        Assert.Contains(t.Path, e => e.Function == "arp_send" && e.Detail!.Contains("request who-has 10.244.2.0"));
    }

    [Theory]
    [InlineData(true, (ushort)8472, null)] // the local sender's offload still pending across a veth: not checked
    [InlineData(false, (ushort)8472, "UDP_CSUM")] // a physical NIC hands over a complete or unchecked sum
    [InlineData(true, (ushort)9999, "UDP_CSUM")] // not a vxlan socket's datagram
    public void LocalChecksumOffloadIsExcusedOnlyForAVxlanSocketOverAVeth(bool veth, ushort dport, string? reason)
    {
        var lab = (veth ? "ip link add eth0 type veth peer name p0\n" : "") + Lab;
        var (a, b) = (IpAddr.Parse("10.244.2.2"), IpAddr.Parse("10.244.1.0"));
        var inner = FrameBuilder.Ethernet(Flannel1, Flannel2, EtherTypes.Ipv4, FrameBuilder.Ipv4(a, b, IpProtocol.Udp, FrameBuilder.Udp(a, b, 5000, 6000)));
        var outer = Outer(1, inner, dport: dport);
        // the inner UDP checksum as the sender's capture shows it: the pseudo-header sum left for offload
        BinaryPrimitives.WriteUInt16BigEndian(outer.AsSpan(20 + 8 + 8 + 14 + 20 + 6), Checksum.Fold(Checksum.PseudoHeader(a, b, IpProtocol.Udp, 12)));
        var t = Run(new DatapathEngine(LabLoader.Load(lab, "t.lab")), outer);
        if (reason is null) Assert.Contains(t.Path, e => e.Function == "vxlan_rcv");
        else Assert.Equal(reason, t.Reason);
    }

    [Fact]
    public void SnoopLearnsMovesAndRefusesToMoveStaticEntries()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "t.lab"));
        var learnt = MacAddress.Parse("02:00:00:00:0a:09");
        Run(engine, Outer(1, InnerFrame(learnt)), 1);
        var state = engine.States[0].VxlanFdb;
        Assert.Equal(Remote, state.Learned("flannel.1", learnt, 1_000_000));
        Run(engine, Outer(1, InnerFrame(learnt), from: "192.168.50.3"), 2);
        Assert.Equal(IpAddr.Parse("192.168.50.3"), state.Learned("flannel.1", learnt, 2_000_000));
        Assert.Equal(IpAddr.Parse("192.168.50.3"), state.Learned("flannel.1", learnt, 2_000_000 + VxlanFdb.AgeNs - 1));
        Assert.Null(state.Learned("flannel.1", learnt, 2_000_000 + VxlanFdb.AgeNs)); // aged out at 300 s exactly (time_before_eq)
        // flannel.1's static entry for flannel 2's MAC says 192.168.50.2: a frame from .3 does not move it
        var t = Run(engine, Outer(1, InnerFrame(Flannel2), from: "192.168.50.3"), 3);
        Assert.Equal("VXLAN_ENTRY_EXISTS", t.Reason);
        var off = new DatapathEngine(LabLoader.Load(Lab.Replace("dstport 8472", "dstport 8472 nolearning"), "t.lab"));
        Run(off, Outer(1, InnerFrame(learnt)), 1);
        Assert.Null(off.States[0].VxlanFdb.Learned("flannel.1", learnt, 1_000_000));
    }

    [Fact]
    public void TransmitEncapsulatesTowardTheFdbRemote()
    {
        var sent = new List<byte[]>();
        var engine = new DatapathEngine(LabLoader.Load(Lab, "t.lab")) { OnTransmit = (ns, dev, frame) => { if (dev == "eth0") sent.Add(frame); } };
        var t = Run(engine, FrameBuilder.Ipv4(IpAddr.Parse("192.168.50.9"), IpAddr.Parse("10.244.2.2"), IpProtocol.Icmp, FrameBuilder.IcmpEcho(9, 1)));
        Assert.Contains(t.Path, e => e.Function == "vxlan_xmit" && e.Detail!.Contains("fdb entry 02:00:00:00:0a:02 -> 192.168.50.2"));
        Assert.Contains(t.Path, e => e.Function == "vxlan_xmit_one" && e.Detail!.Contains("VNI 1, 192.168.50.1 > 192.168.50.2:8472, ttl 64"));
        var frame = Assert.Single(sent);
        Assert.True(EthernetFrame.TryParse(frame, out var eth, out _));
        Assert.Equal(Node2, eth.Destination);
        Assert.True(Ipv4Header.TryParse(eth.Payload, out var ip, out _) && ip.Destination == Remote);
        Assert.True(VxlanHeader.TryInner(ip.Payload, out _, out var inner));
        Assert.Equal(IpAddr.Parse("10.244.2.2"), IpAddr.ReadV4(inner[16..]));
        Assert.Equal(63, inner[8]); // forwarded once before the tunnel
        // a flow the capture has not shown: the source port is unknown, never 0; the range's first port stands in, flagged
        Assert.Equal(32768, BinaryPrimitives.ReadUInt16BigEndian(ip.Payload));
        Assert.Contains(t.Path, e => e.Function == "vxlan_xmit_one" && e.Detail!.Contains("unknown, not seen for this flow yet: written as 32768") && e.Detail.Contains("assumption"));
    }

    [Theory]
    [InlineData("", "", 32768, 60998)] // udp_flow_src_port never gives the top of ip_local_port_range
    [InlineData(" port 1000 2000", "", 1000, 1999)]
    [InlineData("", "sysctl -w net.ipv4.ip_local_port_range=\"20000 30000\"\n", 20000, 29999)]
    public void TheSourcePortRangeExcludesItsTop(string options, string sysctl, int low, int high)
    {
        var ns = LabLoader.Load(sysctl + "ip link add vx0 type vxlan id 5 dstport 4789" + options + "\n", "t.lab").Host;
        Assert.Equal((low, high), VxlanXmit.PortBounds(ns, ns.Device("vx0")!.Vxlan!));
    }

    [Theory]
    [InlineData("remote 192.168.50.2 dev eth0", "", "eth0")] // the default remote: remote_ifindex is eth0, the /32 through eth1 is passed over
    [InlineData("dev eth0", "bridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.168.50.2\n", "eth1")] // no via: remote_ifindex 0, routed freely
    [InlineData("dev eth0", "bridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.168.50.2 via eth0\n", "eth0")]
    public void TheRemotesDeviceBindsTheUnderlayRoute(string options, string fdb, string expected)
    {
        string lab = Underlay + $"""
            ip link set eth1 address 02:00:00:00:02:01
            ip link set eth1 up
            ip addr add 192.168.60.1/24 dev eth1
            ip neigh add 192.168.60.254 lladdr 02:00:00:00:02:fe dev eth1 nud permanent
            ip route add 192.168.50.2/32 via 192.168.60.254 dev eth1
            ip link add vx0 address 02:00:00:00:0a:01 type vxlan id 42 dstport 4789 local 192.168.50.1 {options}
            ip addr add 10.10.0.1/24 dev vx0
            ip link set vx0 up
            ip neigh add 10.10.0.2 lladdr 02:00:00:00:12:01 dev vx0 nud permanent
            {fdb}
            """;
        var sent = new List<string>();
        var engine = new DatapathEngine(LabLoader.Load(lab, "t.lab")) { OnTransmit = (ns, dev, frame) => { if (dev != "vx0") sent.Add(dev); } };
        Run(engine, FrameBuilder.Ipv4(IpAddr.Parse("192.168.50.9"), IpAddr.Parse("10.10.0.2"), IpProtocol.Icmp, FrameBuilder.IcmpEcho(9, 1)));
        Assert.Equal(expected, Assert.Single(sent));
    }

    [Fact]
    public void SourcePortsAreKeyedAsTheKernelsHashIs()
    {
        var ping = InnerFrame(Flannel2, "10.244.2.2", "10.244.1.2");
        var pong = InnerFrame(Flannel1, "10.244.1.2", "10.244.2.2");
        // the flow dissector's hash is symmetric and leaves the ICMP identifier out
        Assert.Equal(VxlanSourcePorts.FlowOf(ping), VxlanSourcePorts.FlowOf(pong));
        var ports = new VxlanSourcePorts();
        ports.Saw((32768, 60998), ping, 60774);
        Assert.Equal((ushort)60774, ports.For((32768, 60998), pong));
        Assert.Null(ports.For((1000, 1999), pong)); // another range scales the hash otherwise
        // a TCP socket's own sk_txhash: one direction only
        var syn = FrameBuilder.Ethernet(Flannel1, Flannel2, EtherTypes.Ipv4, FrameBuilder.Ipv4(IpAddr.Parse("10.244.1.2"), IpAddr.Parse("10.244.2.2"), IpProtocol.Tcp,
            FrameBuilder.Tcp(IpAddr.Parse("10.244.1.2"), IpAddr.Parse("10.244.2.2"), 40001, 80)));
        var synAck = FrameBuilder.Ethernet(Flannel2, Flannel1, EtherTypes.Ipv4, FrameBuilder.Ipv4(IpAddr.Parse("10.244.2.2"), IpAddr.Parse("10.244.1.2"), IpProtocol.Tcp,
            FrameBuilder.Tcp(IpAddr.Parse("10.244.2.2"), IpAddr.Parse("10.244.1.2"), 80, 40001, 0x12)));
        ports.Saw((32768, 60998), syn, 42709);
        Assert.Null(ports.For((32768, 60998), synAck));
    }

    [Fact]
    public void TheDefaultEntryFloodsToEveryRemoteAndNoEntryDrops()
    {
        const string l2 = Underlay + """
            ip link add vx0 address 02:00:00:00:0a:01 type vxlan id 42 dstport 4789 local 192.168.50.1
            ip addr add 10.10.0.1/24 dev vx0
            ip link set vx0 up
            ip neigh add 10.10.0.2 lladdr 02:00:00:00:12:01 dev vx0 nud permanent
            """;
        var sent = new List<byte[]>();
        var flood = new DatapathEngine(LabLoader.Load(l2 + "\nbridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.168.50.2\nbridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.168.50.3\n", "t.lab"))
            { OnTransmit = (ns, dev, frame) => { if (dev == "eth0") sent.Add(frame); } };
        var t = Run(flood, FrameBuilder.Ipv4(IpAddr.Parse("192.168.50.9"), IpAddr.Parse("10.10.0.2"), IpProtocol.Icmp, FrameBuilder.IcmpEcho(9, 1)));
        Assert.Contains(t.Path, e => e.Function == "vxlan_xmit" && e.Detail!.Contains("default entry") && e.Detail.Contains("192.168.50.2, 192.168.50.3"));
        Assert.Equal(["192.168.50.3", "192.168.50.2"], sent.Select(f => IpAddr.ReadV4(f.AsSpan(14 + 16)).ToString())); // the clone first
        var none = Run(new DatapathEngine(LabLoader.Load(l2, "t.lab")), FrameBuilder.Ipv4(IpAddr.Parse("192.168.50.9"), IpAddr.Parse("10.10.0.2"), IpProtocol.Icmp, FrameBuilder.IcmpEcho(9, 1)));
        Assert.Equal("VXLAN_NO_REMOTE", none.Reason);
    }

    [Fact]
    public void FdbLookupsAllocateNothingPerPacket()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "t.lab"));
        var learnt = MacAddress.Parse("02:00:00:00:0a:09");
        Run(engine, Outer(1, InnerFrame(learnt)), 1); // learned at 192.168.50.2
        var ns = engine.Topology.Host;
        var skb = new SkBuff(InnerFrame(learnt)) { Netns = ns, Dev = ns.Device("flannel.1")!, Engine = engine, TimestampNs = 1_000_000 };
        var dev = ns.Device("flannel.1")!;
        Assert.NotNull(VxlanFdb.Find(skb, dev, Flannel2)); // builds the static index once
        Assert.True(VxlanFdb.Find(skb, dev, learnt)!.Value.Learned);
        Assert.Null(VxlanFdb.Find(skb, dev, MacAddress.Zero));
        int hits = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            if (VxlanFdb.Find(skb, dev, Flannel2) is { } s && s.Remotes[0].Ip == Remote) hits++;
            if (VxlanFdb.Find(skb, dev, learnt) is { Learned: true }) hits++;
            if (VxlanFdb.Find(skb, dev, MacAddress.Zero) is null) hits++;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal((300, 0L), (hits, allocated));
        Assert.Equal((32768, 60998), VxlanXmit.PortBounds(ns, dev.Vxlan!));
        before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) VxlanXmit.PortBounds(ns, dev.Vxlan!);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void PushingTheOuterHeadersInPlaceGivesTheBytesEncapsulateBuilds()
    {
        var inner = InnerFrame(Flannel2);
        // a buffer with a stale header in front of the inner frame, as vxlan_xmit gets it (skb->data at the MAC header)
        var skb = new SkBuff([.. new byte[] { 1, 2, 3, 4 }, .. inner]) { Netns = LabLoader.Load(Lab, "t.lab").Host, Dev = null!, Engine = null! };
        foreach (var (src, dst) in new[] { (Host, Remote), (IpAddr.Parse("fd00::1"), IpAddr.Parse("fd00::2")) })
        {
            var copy = new SkBuff([.. new byte[] { 1, 2, 3, 4 }, .. inner]) { Netns = skb.Netns, Dev = null!, Engine = null! };
            copy.Push(VxlanXmit.OuterHeaderLength(dst), 4);
            VxlanXmit.EncapsulateInPlace(copy.Buffer.AsSpan(0, copy.Length), src, dst, 7, 4789, 40000, 0x10, 3, true);
            Assert.Equal(VxlanXmit.Encapsulate(src, dst, 7, 4789, 40000, 0x10, 3, true, inner), copy.Data.ToArray());
        }
        // room enough already: the inner frame moves up inside the same buffer (overlapping copy)
        var big = new SkBuff(new byte[200]) { Netns = skb.Netns, Dev = null!, Engine = null! };
        big.ReplaceFrame([.. new byte[] { 9, 9 }, .. inner]);
        var buffer = big.Buffer;
        big.Push(VxlanXmit.OuterHeaderLength(Remote), 2);
        Assert.Same(buffer, big.Buffer);
        Assert.Equal(inner, big.Data[VxlanXmit.OuterHeaderLength(Remote)..].ToArray());
    }
}
