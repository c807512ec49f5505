using System.Buffers.Binary;
using PktFlow.Capture;
using PktFlow.Filter;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Filter;

/// <summary>What filters match on hand-built frames: the tcpdump behaviours worth pinning down one by one.</summary>
public class CaptureFilterMatchTests
{
    private static bool Match(string expression, byte[] frame, LinkType linkType = LinkType.Ethernet) =>
        CaptureFilter.Parse(expression).Matches(linkType, frame);

    private static readonly byte[] TcpSyn = Ether(EtherTypes.Ipv4,
        Ipv4("10.0.0.1", "10.0.0.2", IpProtocol.Tcp, Tcp("10.0.0.1", "10.0.0.2", 40000, 80, 1, 0, TcpFlags.Syn)));

    private static readonly byte[] Udp6 = Ether(EtherTypes.Ipv6,
        Ipv6("2001:db8::1", "2001:db8::2", IpProtocol.Udp, Udp("2001:db8::1", "2001:db8::2", 5353, 53, Bytes(12))));

    [Theory]
    [InlineData("tcp", true)]
    [InlineData("udp", false)]
    [InlineData("ip and not ip6", true)]
    [InlineData("tcp port 80", true)]
    [InlineData("udp port 80", false)]
    [InlineData("src port 40000 and dst port 80", true)]
    [InlineData("dst port 40000", false)]
    [InlineData("portrange 79-81", true)]
    [InlineData("host 10.0.0.1", true)]
    [InlineData("src host 10.0.0.2", false)]
    [InlineData("src and dst net 10.0.0.0/24", true)]
    [InlineData("net 10.0.1.0/24", false)]
    [InlineData("ether src 02:00:00:00:00:01 and ether dst 02:00:00:00:00:02", true)]
    [InlineData("ether broadcast or ether multicast", false)]
    [InlineData("tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn", true)]
    [InlineData("tcp[tcpflags] & tcp-ack != 0", false)]
    [InlineData("ip[9] = 6 and ip[8] = 64", true)]
    [InlineData("tcp port 80 and not host 10.0.0.1", false)]
    [InlineData("tcp port 80 and not host 10.0.0.9", true)]
    [InlineData("vlan", false)]
    public void Ipv4TcpSyn(string expression, bool expected) => Assert.Equal(expected, Match(expression, TcpSyn));

    [Theory]
    [InlineData("ip6 and udp port 53", true)]
    [InlineData("host 2001:db8::2", true)]
    [InlineData("ip6 src host 2001:db8::2", false)]
    [InlineData("net 2001:db8::/32", true)]
    [InlineData("net 2001:db9::/32", false)]
    [InlineData("ip6[6] = 17", true)]
    [InlineData("ip", false)]
    [InlineData("host 10.0.0.1", false)]
    public void Ipv6Udp(string expression, bool expected) => Assert.Equal(expected, Match(expression, Udp6));

    [Fact]
    public void OnlyTheFirstIpv4FragmentHasPorts()
    {
        byte[] segment = Udp("10.0.0.1", "10.0.0.2", 5353, 53, Bytes(16));
        byte[] first = Ether(EtherTypes.Ipv4, Ipv4("10.0.0.1", "10.0.0.2", IpProtocol.Udp, segment, mf: true));
        // A later fragment whose first bytes happen to read as port 53.
        byte[] later = Ether(EtherTypes.Ipv4, Ipv4("10.0.0.1", "10.0.0.2", IpProtocol.Udp, segment, fragOffset: 24));
        Assert.True(Match("udp port 53", first));
        Assert.False(Match("udp port 53", later));
        Assert.True(Match("udp", later));
        Assert.False(Match("udp[2:2] = 53", later));
        Assert.True(Match("ip[2:2] > 20 and ip[6:2] & 0x1fff != 0", later));
    }

    [Fact]
    public void Ipv6ProtocolLooksThroughOneFragmentHeaderButPortsDoNot()
    {
        byte[] tcp = Tcp("2001:db8::1", "2001:db8::2", 40000, 80, 1, 0, TcpFlags.Syn);
        byte[] fragmented = Ether(EtherTypes.Ipv6, Ipv6("2001:db8::1", "2001:db8::2", IpProtocol.Fragment,
            Concat(FragmentHeader(IpProtocol.Tcp, 0, true, 7), tcp)));
        byte[] hopByHop = Ether(EtherTypes.Ipv6, Ipv6("2001:db8::1", "2001:db8::2", IpProtocol.HopByHop,
            Concat(ExtHeader(IpProtocol.Tcp, Bytes(6)), tcp)));
        Assert.True(Match("tcp", fragmented));
        Assert.True(Match("ip6 proto 6", fragmented));
        Assert.False(Match("port 80", fragmented));
        Assert.False(Match("tcp", hopByHop));
        Assert.True(Match("ip6 protochain 6", hopByHop));
        Assert.True(Match("protochain 6", fragmented));
        Assert.False(Match("ip6 protochain 17", hopByHop));
    }

    [Fact]
    public void VlanLooksInsideTheTagForEverythingAfterIt()
    {
        byte[] inner = Ipv4("10.0.0.1", "10.0.0.2", IpProtocol.Icmp, Icmp(IcmpHeader.EchoRequest, 0, 0x00420001, Bytes(8)));
        byte[] tagged = Ether(MacB, MacA, EtherTypes.Ipv4, inner, (EtherTypes.Vlan, 100));
        byte[] qinq = Ether(MacB, MacA, EtherTypes.Ipv4, inner, (EtherTypes.QinQ, 10), (EtherTypes.Vlan, 100));
        byte[] untagged = Ether(EtherTypes.Ipv4, inner);

        Assert.True(Match("vlan 100 and host 10.0.0.1", tagged));
        Assert.False(Match("vlan 200 and host 10.0.0.1", tagged));
        Assert.False(Match("host 10.0.0.1", tagged)); // as tcpdump: without 'vlan' the type field is the TPID
        Assert.True(Match("host 10.0.0.1", untagged));
        Assert.False(Match("vlan and host 10.0.0.1", untagged));
        Assert.True(Match("vlan and icmp[icmptype] = icmp-echo", tagged));
        Assert.True(Match("vlan 10 and vlan 100 and icmp", qinq));
        Assert.False(Match("vlan 100 and icmp", qinq));
        Assert.True(Match("vlan and vlan", qinq));
        Assert.True(Match("ip or vlan", tagged));
        // 'ip' after 'vlan' is inside the tag even in another branch: an untagged frame no longer matches it.
        Assert.False(Match("vlan or ip", untagged));
    }

    [Fact]
    public void ReadingPastTheCaptureRejectsThePacketWhateverSurroundsTheRead()
    {
        // BPF semantics: a load outside the captured bytes ends the program with "reject".
        Assert.False(Match("tcp[100] = 1", TcpSyn));
        Assert.False(Match("not tcp[100] = 1", TcpSyn));
        Assert.True(Match("tcp or tcp[100:4] = 1", TcpSyn)); // the read never happens
        // tcpdump's optimizer drops a read whose result cannot change the verdict, so tcpdump matches
        // this one; PktFlow does not optimise, reads, and rejects (docs: Filter/README.md).
        Assert.False(Match("tcp[100:4] = 1 or tcp", TcpSyn));

        byte[] cut = TcpSyn[..34]; // Ethernet + IPv4 header, no TCP
        Assert.True(Match("tcp", cut));
        Assert.False(Match("tcp port 80", cut));
        Assert.False(Match("not tcp port 80", cut));
        Assert.False(Match("ip", TcpSyn[..13]));
        Assert.False(Match("not ip", TcpSyn[..13]));
        Assert.True(Match("less 20", TcpSyn[..13]));
    }

    [Fact]
    public void DivisionByZeroAtRunTimeRejects()
    {
        Assert.False(Match("len / (ip[0] & 0) = 0", TcpSyn));
        Assert.False(Match("not len / (ip[0] & 0) = 0", TcpSyn));
        Assert.True(Match("len / (ip[0] & 0xf) = 10", TcpSyn)); // 54 / 5
    }

    [Fact]
    public void LenIsTheLengthOnTheWire()
    {
        var filter = CaptureFilter.Parse("greater 1000");
        byte[] snapped = TcpSyn[..54];
        Assert.False(filter.Matches(LinkType.Ethernet, snapped));
        Assert.True(filter.Matches(LinkType.Ethernet, snapped, originalLength: 1514));
        Assert.True(CaptureFilter.Parse("len = 54").Matches(LinkType.Ethernet, snapped));
        Assert.True(CaptureFilter.Parse("len - 14 = 1500").Matches(LinkType.Ethernet, snapped, 1514));
    }

    [Fact]
    public void ArpHostsAreTheProtocolAddresses()
    {
        byte[] request = Ether(MacAddress.Broadcast, MacA, EtherTypes.Arp,
            Arp(ArpPacket.Request, MacA, "10.0.0.1", MacAddress.Zero, "10.0.0.2"));
        Assert.True(Match("arp", request));
        Assert.True(Match("host 10.0.0.2", request));
        Assert.True(Match("src host 10.0.0.1 and dst host 10.0.0.2", request));
        Assert.False(Match("ip host 10.0.0.1", request));
        Assert.True(Match("arp net 10.0.0.0/24", request));
        Assert.True(Match("ether broadcast and arp[7] = 1", request));
        Assert.False(Match("rarp", request));
    }

    [Fact]
    public void LinuxCookedV2HasDirectionButNoTagsOrMacFilters()
    {
        byte[] ip = Ipv4("10.0.0.1", "10.0.0.2", IpProtocol.Udp, Udp("10.0.0.1", "10.0.0.2", 1, 53, Bytes(4)));
        byte[] outgoing = Sll2(EtherTypes.Ipv4, LinuxPacketType.Outgoing, ip);
        byte[] incoming = Sll2(EtherTypes.Ipv4, LinuxPacketType.Host, ip);

        Assert.True(Match("outbound and udp port 53", outgoing, LinkType.LinuxSll2));
        Assert.False(Match("inbound", outgoing, LinkType.LinuxSll2));
        Assert.True(Match("inbound and host 10.0.0.2", incoming, LinkType.LinuxSll2));
        Assert.True(Match("ip[9] = 17 and udp[2:2] = 53", incoming, LinkType.LinuxSll2));
        Assert.True(Match("ether proto \\ip", incoming, LinkType.LinuxSll2));
        Assert.False(Match("vlan", incoming, LinkType.LinuxSll2));

        var vlan = CaptureFilter.Parse("vlan and ip");
        Assert.Equal("pcap filter: no VLAN support for link type 276 (LINUX_SLL2): only Ethernet frames carry their tags in band",
            vlan.CheckLinkType(LinkType.LinuxSll2));
        Assert.Contains("Ethernet addresses are supported only on Ethernet captures",
            CaptureFilter.Parse("ether host 1:2:3:4:5:6").CheckLinkType(LinkType.LinuxSll));
        Assert.Contains("not a broadcast link", CaptureFilter.Parse("ip and broadcast").CheckLinkType(LinkType.Raw));
        Assert.Contains("link-layer multicast", CaptureFilter.Parse("multicast").CheckLinkType(LinkType.Null));
        Assert.Null(CaptureFilter.Parse("outbound").CheckLinkType(LinkType.LinuxSll));
        Assert.Contains("inbound/outbound are supported only on Linux cooked captures",
            CaptureFilter.Parse("inbound").CheckLinkType(LinkType.Ethernet));
    }

    [Fact]
    public void CheckLinkTypeIsQuietWhenTheExpressionApplies()
    {
        var filter = CaptureFilter.Parse("vlan 100 and ether host 1:2:3:4:5:6 and tcp port 80 or ether multicast");
        Assert.Null(filter.CheckLinkType(LinkType.Ethernet));
        Assert.Null(CaptureFilter.Parse("tcp port 80").CheckLinkType(LinkType.Raw));
        Assert.Null(CaptureFilter.Parse("less 100 or ether[0] = 1").CheckLinkType((LinkType)147));
        Assert.Contains("PktFlow does not decode link type 147 (USER0)", CaptureFilter.Parse("tcp").CheckLinkType((LinkType)147));
    }

    [Fact]
    public void RawAndLoopbackLinkTypesUseTheVersionOrFamily()
    {
        byte[] v4 = Ipv4("10.0.0.1", "10.0.0.2", IpProtocol.Tcp, Tcp("10.0.0.1", "10.0.0.2", 1, 80, 1, 0, TcpFlags.Syn));
        byte[] v6 = Ipv6("2001:db8::1", "2001:db8::2", IpProtocol.Udp, Udp("2001:db8::1", "2001:db8::2", 1, 53, Bytes(4)));
        Assert.True(Match("ip and tcp port 80", v4, LinkType.Raw));
        Assert.False(Match("ip6", v4, LinkType.Raw));
        Assert.True(Match("ip6 and udp port 53", v6, LinkType.Raw));
        Assert.True(Match("ip", v4, LinkType.Ipv4));
        Assert.True(Match("ip", [], LinkType.Ipv4)); // the link type says so, as in libpcap
        Assert.False(Match("ip6 or arp", v4, LinkType.Ipv4));
        Assert.False(Match("not ip", [], LinkType.Raw)); // reading the version aborts

        byte[] loopback = [2, 0, 0, 0, .. v4]; // AF_INET in little-endian host order
        Assert.True(Match("ip and host 10.0.0.2 and tcp[13] = 2", loopback, LinkType.Null));
        byte[] loopback6 = [0, 0, 0, 30, .. v6]; // AF_INET6 (macOS) in network order
        Assert.True(Match("ip6 and udp", loopback6, LinkType.Loop));
    }

    [Fact]
    public void UnsupportedLinkTypesOnlyMatchLinkLevelTests()
    {
        byte[] frame = Bytes(64);
        Assert.False(Match("ip or ip6 or arp", frame, (LinkType)147));
        Assert.True(Match("not ip", frame, (LinkType)147));
        Assert.True(Match("len = 64 and link[1] = 1", frame, (LinkType)147));
    }

    [Fact]
    public void RandomBytesNeverThrow()
    {
        string[] expressions =
        [
            "tcp port 80 or udp portrange 1-1000", "host 10.0.0.1 or 2001:db8::1", "vlan and vlan 5 and net 10.0.0.0/8",
            "tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420", "ip6 protochain 6 or ip protochain 51", "icmp6[0] = 135",
            "not (ether broadcast or ether multicast) and arp", "len / (ip[0] & 0xf) > 3", "inbound or outbound",
        ];
        var filters = expressions.Select(CaptureFilter.Parse).ToArray();
        LinkType[] types = [LinkType.Ethernet, LinkType.LinuxSll, LinkType.LinuxSll2, LinkType.Raw, LinkType.Null,
            LinkType.Loop, LinkType.Ipv4, LinkType.Ipv6, (LinkType)147];
        var random = new Random(1234);
        for (int i = 0; i < 20_000; i++)
        {
            var frame = new byte[random.Next(0, 120)];
            random.NextBytes(frame);
            if (frame.Length > 14 && random.Next(2) == 0) frame[12] = 0x86; // steer some into IPv6 / VLAN
            foreach (var f in filters)
            {
                f.Matches(types[random.Next(types.Length)], frame, random.Next(-1, 2000));
            }
        }
    }

    private static byte[] Sll2(ushort protocol, LinuxPacketType type, byte[] payload)
    {
        var b = new byte[20 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(b, protocol);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(8), 1); // ARPHRD_ETHER
        b[10] = (byte)type;
        b[11] = 6;
        MacA.Write(b.AsSpan(12));
        payload.CopyTo(b.AsSpan(20));
        return b;
    }
}
