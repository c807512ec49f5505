using PktFlow.Capture;

namespace PktFlow.Tests.Capture;

public class LinkLayerTests
{
    private static LinkInfo Decode(LinkType type, byte[] frame)
    {
        Assert.True(LinkLayer.TryDecode(type, frame, out var info, out string? error), error);
        Assert.Null(error);
        return info;
    }

    private static string Refuse(LinkType type, byte[] frame)
    {
        Assert.False(LinkLayer.TryDecode(type, frame, out var info, out string? error));
        Assert.Equal(default, info);
        return Assert.IsType<string>(error);
    }

    [Theory]
    [InlineData((ushort)0x0800)]
    [InlineData((ushort)0x86dd)]
    [InlineData((ushort)0x0806)]
    [InlineData((ushort)0x8100)]
    [InlineData((ushort)0x002e)]   // an 802.3 length field, reported as found
    public void Ethernet(ushort etherType)
    {
        var info = Decode(LinkType.Ethernet, Frames.Ethernet(etherType, Frames.Ipv4Udp));
        Assert.Equal(new LinkInfo { NetworkOffset = 0, EtherType = etherType, IsEthernet = true }, info);
    }

    [Fact]
    public void EthernetTruncated() =>
        Assert.Equal("Ethernet header needs 14 bytes, frame has 13.", Refuse(LinkType.Ethernet, new byte[13]));

    [Theory]
    [InlineData(0, 1, 0x0800)]        // to us, ARPHRD_ETHER, IPv4
    [InlineData(4, 772, 0x86dd)]      // outgoing on loopback, IPv6
    [InlineData(3, 1, 0x8100)]        // another host's VLAN-tagged frame
    [InlineData(1, 1, 0x0004)]        // broadcast 802.2 LLC frame: the kernel's ETH_P_802_2 pseudo-protocol
    [InlineData(2, 1, 0x0001)]        // Novell raw 802.3: ETH_P_802_3
    public void LinuxCookedV1(ushort packetType, ushort arphrd, ushort protocol)
    {
        var info = Decode(LinkType.LinuxSll, Frames.Sll(packetType, arphrd, protocol, Frames.Ipv4Udp));
        Assert.Equal(new LinkInfo
        {
            NetworkOffset = 16,
            EtherType = protocol,
            PacketType = (LinuxPacketType)packetType,
            HardwareType = arphrd,
            LinkAddressOffset = 6,
            LinkAddressLength = 6,
        }, info);
    }

    [Fact]
    public void LinuxCookedV1Truncated() =>
        Assert.Equal("Linux cooked v1 header needs 16 bytes, frame has 15.", Refuse(LinkType.LinuxSll, new byte[15]));

    [Fact]
    public void LinuxCookedNetlinkIsRefused()
    {
        Assert.Contains("netlink", Refuse(LinkType.LinuxSll, Frames.Sll(4, 824, 0, new byte[16])));
        Assert.Contains("netlink", Refuse(LinkType.LinuxSll2, Frames.Sll2(0, 1, 824, 4, new byte[16])));
    }

    [Fact]
    public void LinuxCookedV2()
    {
        var info = Decode(LinkType.LinuxSll2, Frames.Sll2(0x86dd, 42, 1, 4, Frames.Ipv6Udp));
        Assert.Equal(new LinkInfo
        {
            NetworkOffset = 20,
            EtherType = 0x86dd,
            PacketType = LinuxPacketType.Outgoing,
            InterfaceIndex = 42,
            HardwareType = 1,
            LinkAddressOffset = 12,
            LinkAddressLength = 6,
        }, info);
    }

    [Fact]
    public void LinuxCookedV2Truncated() =>
        Assert.Equal("Linux cooked v2 header needs 20 bytes, frame has 12.", Refuse(LinkType.LinuxSll2, new byte[12]));

    [Fact]
    public void CookedAddressLengthIsCappedAtTheEightBytesKept()
    {
        byte[] frame = Frames.Sll(0, 32, 0x0800, Frames.Ipv4Udp);   // ARPHRD_INFINIBAND: 20-byte addresses
        frame[5] = 20;
        Assert.Equal(8, Decode(LinkType.LinuxSll, frame).LinkAddressLength);
    }

    [Theory]
    [InlineData(101u)]
    [InlineData(12u)]
    [InlineData(14u)]
    public void RawTellsIpVersionsApart(uint type)
    {
        Assert.Equal(new LinkInfo { EtherType = 0x0800 }, Decode((LinkType)type, Frames.Ipv4Udp));
        Assert.Equal(new LinkInfo { EtherType = 0x86dd }, Decode((LinkType)type, Frames.Ipv6Udp));
        Assert.Equal("raw IP frame starts with IP version 5, not 4 or 6.", Refuse((LinkType)type, [0x50, 0, 0, 0]));
        Assert.Equal("raw IP frame is empty.", Refuse((LinkType)type, []));
    }

    [Fact]
    public void Ipv4AndIpv6LinkTypesNeedNoVersionCheck()
    {
        // LINKTYPE_IPV4 says what the packet is; a bad version nibble is the datapath's to drop (IpInhdr).
        Assert.Equal(new LinkInfo { EtherType = 0x0800 }, Decode(LinkType.Ipv4, [0x65, 0, 0, 0]));
        Assert.Equal(new LinkInfo { EtherType = 0x86dd }, Decode(LinkType.Ipv6, Frames.Ipv6Udp));
        Assert.Equal("IPv6 frame is empty.", Refuse(LinkType.Ipv6, []));
    }

    [Theory]
    [InlineData(2u, false, (ushort)0x0800)]
    [InlineData(2u, true, (ushort)0x0800)]
    [InlineData(24u, false, (ushort)0x86dd)]
    [InlineData(28u, true, (ushort)0x86dd)]
    [InlineData(30u, false, (ushort)0x86dd)]
    public void NullInEitherHostByteOrder(uint family, bool bigEndian, ushort etherType)
    {
        var info = Decode(LinkType.Null, Frames.Null(family, bigEndian, Frames.Ipv4Udp));
        Assert.Equal(new LinkInfo { NetworkOffset = 4, EtherType = etherType }, info);
    }

    [Fact]
    public void LoopIsNetworkByteOrder()
    {
        Assert.Equal(0x86dd, Decode(LinkType.Loop, Frames.Null(24, bigEndian: true, Frames.Ipv6Udp)).EtherType);
        Assert.Equal(4, Decode(LinkType.Loop, Frames.Null(2, bigEndian: true, Frames.Ipv4Udp)).NetworkOffset);
        Assert.Contains("family 33554432", Refuse(LinkType.Loop, Frames.Null(2, bigEndian: false, Frames.Ipv4Udp)));
    }

    [Fact]
    public void NullWithAnotherFamilyIsRefused()
    {
        Assert.Equal("BSD loopback header has address family 23, neither IPv4 (2) nor IPv6 (24, 28, 30).",
            Refuse(LinkType.Null, Frames.Null(23, false, [])));
        Assert.Equal("BSD loopback header needs 4 bytes, frame has 3.", Refuse(LinkType.Null, [2, 0, 0]));
    }

    [Theory]
    [InlineData(147u, "link type 147 (USER0) is not supported: PktFlow replays Ethernet, Linux cooked v1/v2, raw IPv4/IPv6 and BSD loopback captures")]
    [InlineData(160u, "link type 160 (USER13) is not supported")]
    [InlineData(239u, "link type 239 (NFLOG) is not supported")]
    [InlineData(242u, "link type 242 (IPOIB) is not supported")]
    [InlineData(4242u, "link type 4242 is not supported")]
    public void UnsupportedLinkTypesAreNamed(uint type, string expected)
    {
        Assert.StartsWith(expected, Refuse((LinkType)type, new byte[64]));
        Assert.False(LinkLayer.IsSupported((LinkType)type));
    }

    [Fact]
    public void DescribeAndIsSupported()
    {
        Assert.Equal("1 (ETHERNET)", LinkLayer.Describe(LinkType.Ethernet));
        Assert.Equal("276 (LINUX_SLL2)", LinkLayer.Describe(LinkType.LinuxSll2));
        Assert.Equal("9999", LinkLayer.Describe((LinkType)9999));
        foreach (LinkType type in Enum.GetValues<LinkType>())
        {
            Assert.True(LinkLayer.IsSupported(type), type.ToString());
            Assert.NotNull(LinkLayer.GetName(type));
        }
    }

    [Fact]
    public void RandomBytesNeverThrow()
    {
        var random = new Random(1234);
        uint[] types = [0, 1, 12, 14, 101, 108, 113, 147, 228, 229, 276, uint.MaxValue];
        for (int i = 0; i < 20_000; i++)
        {
            byte[] frame = new byte[random.Next(0, 40)];
            random.NextBytes(frame);
            var type = (LinkType)types[random.Next(types.Length)];
            bool ok = LinkLayer.TryDecode(type, frame, out var info, out string? error);
            Assert.True(ok ^ (error is not null));
            if (ok)
            {
                Assert.InRange(info.NetworkOffset, 0, frame.Length);
            }
        }
    }
}
