using System.Buffers.Binary;
using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.IPv4;
using PktFlow.Offload;
using PktFlow.Tests.Wire;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Offload;

/// <summary>
/// GSO decisions for captured super-frames: the gso_size inferred, skb_gso_validate_network_len,
/// ip_exceeds_mtu / ip6_pkt_too_big, software segmentation, and whole packets through a router with
/// NAT (tot_len 0 included). The recorded gso-forward scenario checks them against 6.18.
/// </summary>
public class GsoTests
{
    private const long T0 = 1_700_000_000_000_000_000;
    private static readonly byte[] Ts = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]; // nop nop timestamps: 12 option bytes

    private static byte[] Tcp(int payload, TcpFlags flags = TcpFlags.Ack | TcpFlags.Psh, bool df = true, int? totalLength = null, string dst = "10.2.0.2") =>
        FrameBuilder.Ipv4("10.1.0.2", dst, IpProtocol.Tcp,
            FrameBuilder.Tcp("10.1.0.2", dst, 40001, 5001, 1000, 1, flags, Ts, new byte[payload]), df: df, totalLength: totalLength, id: 7);

    private static byte[] Udp(int payload, bool df) =>
        FrameBuilder.Ipv4("10.1.0.2", "10.2.0.2", IpProtocol.Udp, FrameBuilder.Udp("10.1.0.2", "10.2.0.2", 40002, 6001, new byte[payload]), df: df, id: 7);

    [Fact]
    public void ATcpSuperFrameIsCutForItsSendersMtuLessTheOptionsEverySegmentCarries()
    {
        var g = GsoSizeInference.Infer(new GsoState(), Tcp(7240), 1500, "eth0", T0)!;
        Assert.Equal((GsoType.TcpV4, 1448, 52, 5), (g.Type, g.Size, g.HeaderLength, g.Segments));
        Assert.Equal(1500, g.SegmentLength);
        Assert.Contains("from eth0's MTU 1500 less 12 bytes of TCP options", g.Source);
        Assert.Null(GsoSizeInference.Infer(new GsoState(), Tcp(1448), 1500, "eth0", T0)); // fits: no super-frame
        var echo = FrameBuilder.Ipv4("10.1.0.2", "10.2.0.2", IpProtocol.Icmp, FrameBuilder.Icmp(8, 0, 1, new byte[3000]));
        Assert.Null(GsoSizeInference.Infer(new GsoState(), echo, 1500, "eth0", T0)); // no GSO for ICMP: an MTU mismatch, not a super-packet
    }

    [Fact]
    public void TheSynMssAndALearntPathMtuLowerIt()
    {
        var state = new GsoState();
        // the server's SYN-ACK advertises 1360: the client's segments carry at most 1360 - 12
        var synAck = FrameBuilder.Ipv4("10.2.0.2", "10.1.0.2", IpProtocol.Tcp,
            FrameBuilder.Tcp("10.2.0.2", "10.1.0.2", 5001, 40001, 5, 1001, TcpFlags.Syn | TcpFlags.Ack, [2, 4, 0x05, 0x50]));
        GsoSizeInference.Learn(state, synAck, T0);
        var g = GsoSizeInference.Infer(state, Tcp(7240), 1500, "eth0", T0)!;
        Assert.Equal(1348, g.Size);
        Assert.Contains("the MSS 1360 10.2.0.2 advertised in its SYN", g.Source);
        // another flow to the same server: not this MSS; an ICMP frag needed (mtu 1300) quoting the client's packet
        var other = new GsoState();
        var quoted = Tcp(100)[..28];
        var icmp = FrameBuilder.Ipv4("10.1.0.1", "10.1.0.2", IpProtocol.Icmp, FrameBuilder.Icmp(3, 4, 1300, quoted));
        GsoSizeInference.Learn(other, icmp, T0);
        g = GsoSizeInference.Infer(other, Tcp(7240), 1500, "eth0", T0 + 1)!;
        Assert.Equal(1300 - 52, g.Size);
        Assert.Contains("path MTU 1300 learnt from an ICMP error to 10.1.0.2", g.Source);
        // ten minutes later the route exception has expired (ip_rt_mtu_expires)
        Assert.Equal(1448, GsoSizeInference.Infer(other, Tcp(7240), 1500, "eth0", T0 + GsoState.Expiry + 1)!.Size);
    }

    [Fact]
    public void WhatTheStateLearnsIsBounded()
    {
        var state = new GsoState();
        for (int i = 0; i < 5000; i++)
        {
            var synAck = FrameBuilder.Ipv4("10.2.0.2", "10.1.0.2", IpProtocol.Tcp,
                FrameBuilder.Tcp("10.2.0.2", "10.1.0.2", 5001, (ushort)(10000 + i), 5, 1, TcpFlags.Syn | TcpFlags.Ack, [2, 4, 0x05, 0xB4]));
            GsoSizeInference.Learn(state, synAck, T0 + i);
        }
        Assert.InRange(state.Count, 512, 1025);
    }

    [Fact]
    public void TotalLengthZeroIsASuperFrameEvenWhenItFits()
    {
        var g = GsoSizeInference.Infer(new GsoState(), Tcp(1000, totalLength: 0), 1500, "eth0", T0)!;
        Assert.Equal(1, g.Segments);
        Assert.Equal(1000, g.PayloadLength);
    }

    [Theory]
    [InlineData(1500, 1400, true, false, true)]   // DF, segments of 1500 do not fit 1400
    [InlineData(1500, 1500, true, false, false)]  // segments fit
    [InlineData(1500, 1400, false, false, false)] // DF clear: ip_forward lets it pass (segmented and fragmented on output)
    [InlineData(1500, 1400, true, true, false)]   // ignore_df
    public void IpExceedsMtu(int segmentLength, int mtu, bool df, bool ignoreDf, bool exceeds)
    {
        var skb = Skb(Tcp(segmentLength - 52 + 5000, df: df));
        skb.IgnoreDf = ignoreDf;
        skb.Gso = new GsoInfo(GsoType.TcpV4, segmentLength - 52, 52, segmentLength - 52 + 5000, "test");
        Assert.Equal(exceeds, IpForward.ExceedsMtu(skb, skb.Length, df, mtu));
        Assert.Equal(segmentLength > mtu, PktFlow.IPv6.Ip6Forward.PktTooBig(skb, skb.Length, mtu)); // no DF in IPv6
    }

    [Fact]
    public void TcpSegmentsKeepFinAndPshForTheLastAndCountSequenceAndIdentification()
    {
        var packet = Tcp(3000, TcpFlags.Ack | TcpFlags.Psh | TcpFlags.Fin | TcpFlags.Cwr);
        var gso = GsoSizeInference.Infer(new GsoState(), packet, 1500, "eth0", T0)!;
        var segs = SkbGsoSegment.Segment(packet, gso);
        Assert.Equal([1500, 1500, 156], segs.Select(s => s.Length));
        for (int i = 0; i < segs.Count; i++)
        {
            Assert.True(Ipv4Header.TryParse(segs[i], out var ip, out _));
            Assert.Null(ip.HeaderProblem());
            Assert.Equal(segs[i].Length, ip.TotalLength);
            Assert.Equal(7 + i, BinaryPrimitives.ReadUInt16BigEndian(segs[i].AsSpan(4)));
            Assert.True(TcpHeader.TryParse(segs[i].AsSpan(20), out var tcp, out _));
            Assert.Equal(1000u + (uint)(i * 1448), tcp.SequenceNumber);
            Assert.Equal(i == 2, (tcp.Flags & TcpFlags.Fin) != 0);
            Assert.Equal(i == 2, (tcp.Flags & TcpFlags.Psh) != 0);
            Assert.Equal(i == 0, (tcp.Flags & TcpFlags.Cwr) != 0);
            Assert.True(Checksum.TransportValid(ip.Source, ip.Destination, IpProtocol.Tcp, segs[i].AsSpan(20)));
        }
    }

    [Fact]
    public void UdpSegmentsEachGetTheirOwnHeader()
    {
        var packet = Udp(4 * 1472 - 100, df: false);
        var gso = GsoSizeInference.Infer(new GsoState(), packet, 1500, "eth0", T0)!;
        Assert.Equal((GsoType.UdpL4, 1472), (gso.Type, gso.Size));
        var segs = SkbGsoSegment.Segment(packet, gso);
        Assert.Equal([1500, 1500, 1500, 1400], segs.Select(s => s.Length));
        Assert.All(segs, s =>
        {
            Assert.Equal(s.Length - 20, BinaryPrimitives.ReadUInt16BigEndian(s.AsSpan(24)));
            Assert.True(Checksum.TransportValid(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.2.0.2"), IpProtocol.Udp, s.AsSpan(20)));
        });
    }

    /// <summary>An IPv6 BIG TCP packet as the stack sends it: payload length 0, the 8-byte hop-by-hop jumbo header, TCP.</summary>
    private static byte[] Jumbo(int payload)
    {
        var tcp = FrameBuilder.Tcp("2001:db8:1::2", "2001:db8:2::2", 40001, 5001, 1000, 1, TcpFlags.Ack | TcpFlags.Psh, Ts, new byte[payload]);
        byte[] hbh = [IpProtocol.Tcp, 0, 0xC2, 4, .. BitConverter.GetBytes(System.Net.IPAddress.HostToNetworkOrder(8 + tcp.Length))];
        return FrameBuilder.Ipv6("2001:db8:1::2", "2001:db8:2::2", IpProtocol.HopByHop, [.. hbh, .. tcp], payloadLength: 0);
    }

    [Fact]
    public void ABigTcpJumbogramCountsItsHopByHopHeaderInTheSegmentLengthButNotInTheMss()
    {
        var packet = Jumbo(70000);
        Assert.True(GsoSizeInference.HasHopoptJumbo(packet));
        var g = GsoSizeInference.Infer(new GsoState(), packet, 9000, "eth0", T0)!;
        Assert.Equal((GsoType.TcpV6, 8928, 80, true), (g.Type, g.Size, g.HeaderLength, g.JumboHbh));
        Assert.Equal(9008, g.SegmentLength); // > 9000: a router answers packet too big (recorded: gso-bigtcp6)
        Assert.False(g.ValidateNetworkLength(9000));
        var segs = SkbGsoSegment.Segment(packet, g);
        Assert.Equal(8, segs.Count);
        Assert.All(segs, s =>
        {
            Assert.True(Ipv6Header.TryParse(s, out var ip6, out _));
            Assert.Equal(IpProtocol.Tcp, ip6.NextHeader);
            Assert.Equal(s.Length - 40, ip6.PayloadLength);
            Assert.True(Checksum.TransportValid(ip6.Source, ip6.Destination, IpProtocol.Tcp, s.AsSpan(40)));
        });
        Assert.Equal(9000, segs[0].Length);
    }

    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip link set eth1 address 02:00:00:00:02:01
        ip link set eth1 mtu 1400
        ip link set eth1 up
        ip addr add 10.1.0.1/24 dev eth0
        ip addr add 10.2.0.1/24 dev eth1
        ip neigh add 10.2.0.2 lladdr 02:00:00:00:02:02 dev eth1
        sysctl -w net.ipv4.ip_forward=1
        nft add table ip nat
        nft add chain ip nat post '{ type nat hook postrouting priority srcnat; }'
        nft add rule ip nat post oifname eth1 masquerade
        """;

    private static (List<PacketTrace> Traces, List<byte[]> Sent) Forward(params byte[][] packets)
    {
        var sent = new List<byte[]>();
        var engine = new DatapathEngine(LabLoader.Load(Lab, "test.lab")) { OnTransmit = (ns, dev, frame) => { if (dev == "eth1") sent.Add(frame); } };
        var at = engine.ResolveInjectionPoint("eth0");
        var traces = new List<PacketTrace>();
        foreach (var packet in packets)
        {
            var frame = FrameBuilder.Ether(MacAddress.Parse("02:00:00:00:01:01"), MacAddress.Parse("02:00:00:00:01:02"), EtherTypes.Ipv4, packet);
            var cf = new CaptureFrame(traces.Count + 1, T0 + traces.Count, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame);
            traces.Add(engine.Process(cf, "test.pcap", at));
        }
        return (traces, sent);
    }

    [Fact]
    public void DfClearSegmentsThatDoNotFitAreSegmentedThenFragmented()
    {
        var (traces, sent) = Forward(Tcp(6000, df: false, totalLength: 0));
        var trace = traces[0];
        Assert.Equal(Fate.Forwarded, trace.Fate);
        Assert.Contains(trace.Path, e => e.Stage == "IpRcv" && e.Detail!.Contains("inferred gso_size 1448"));
        Assert.Contains(trace.Path, e => e.Stage == "IpFinishOutputGso" && e.Detail!.Contains("cuts 5 segments"));
        Assert.Equal(9, sent.Count); // four 1500-byte segments in 2 fragments each, the last (208 + 52 bytes) whole
        Assert.All(sent, f => Assert.True(Ipv4Header.TryParse(f.AsSpan(14), out var ip, out _) && ip.Source == IpAddr.Parse("10.2.0.1") && ip.HeaderProblem() is null));
    }

    [Fact]
    public void AfterFragNeededTheNextSuperFrameIsCutForThePathMtuAndLeavesWholeMasqueraded()
    {
        var packet = Tcp(6000, totalLength: 0);
        var (traces, sent) = Forward(packet, packet);
        Assert.Equal("PKT_TOO_BIG", traces[0].Reason); // gso_size 1448 from eth0's MTU: 1500-byte segments, DF
        Assert.Contains(traces[0].Generated, g => g.Contains("fragmentation needed (mtu 1400)"));
        Assert.Equal(Fate.Forwarded, traces[1].Fate);
        Assert.Contains(traces[1].Path, e => e.Stage == "IpFinishOutputGso" && e.Detail!.Contains("gso_size 1348") && e.Detail.Contains("fit MTU 1400"));
        var whole = Assert.Single(sent).AsSpan(14);
        Assert.Equal(packet.Length, whole.Length);
        Assert.True(Ipv4Header.TryParse(whole, out var ip, out _));
        Assert.Equal(0, ip.TotalLength); // kept as it came: the device's segmentation writes each length
        Assert.Equal(IpAddr.Parse("10.2.0.1"), ip.Source);
        Assert.True(Checksum.TransportValid(ip.Source, ip.Destination, IpProtocol.Tcp, whole[20..]));
    }

    private static SkBuff Skb(byte[] network) =>
        new(network) { Netns = null!, Dev = null!, Engine = null!, NetworkHeader = 0 };
}
