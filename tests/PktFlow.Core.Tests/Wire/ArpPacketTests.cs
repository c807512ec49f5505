using System.Net;
using System.Net.NetworkInformation;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;
using PdnArp = PacketDotNet.ArpPacket;

namespace PktFlow.Tests.Wire;

public class ArpPacketTests
{
    [Fact]
    public void Deconstruct()
    {
        byte[] bytes =
        [
            0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 1, 0, 2,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 1, 0, 1,
        ];
        Assert.True(ArpPacket.TryParse(bytes, out var a, out var error));
        Assert.Null(error);
        Assert.Equal(1, a.HardwareType);
        Assert.Equal(0x0800, a.ProtocolType);
        Assert.Equal(6, a.HardwareLength);
        Assert.Equal(4, a.ProtocolLength);
        Assert.Equal(ArpPacket.Request, a.Operation);
        Assert.Equal(MacA, a.SenderMac);
        Assert.Equal(IpAddr.Parse("10.1.0.2"), a.SenderIp);
        Assert.True(a.TargetMac.IsZero);
        Assert.Equal(IpAddr.Parse("10.1.0.1"), a.TargetIp);
        Assert.False(a.IsGratuitous);
        Assert.Equal(28, a.DescribedLength);
    }

    [Fact]
    public void Construct()
    {
        var pdn = new PdnArp(PacketDotNet.ArpOperation.Response, PhysicalAddress.Parse("02-00-00-00-00-01"), IPAddress.Parse("10.0.0.1"),
            PhysicalAddress.Parse("02-00-00-00-00-02"), IPAddress.Parse("10.0.0.2"));
        Assert.True(ArpPacket.TryParse(pdn.Bytes, out var a, out _));
        Assert.Equal(ArpPacket.Reply, a.Operation);
        Assert.Equal(MacB, a.SenderMac);
        Assert.Equal(IpAddr.Parse("10.0.0.2"), a.SenderIp);
        Assert.Equal(MacA, a.TargetMac);
        Assert.Equal(IpAddr.Parse("10.0.0.1"), a.TargetIp);

        var back = new PdnArp(new PacketDotNet.Utils.ByteArraySegment(Arp(1, MacA, "10.1.0.2", MacAddress.Zero, "10.1.0.1")));
        Assert.Equal(PacketDotNet.ArpOperation.Request, back.Operation);
        Assert.Equal(IPAddress.Parse("10.1.0.1"), back.TargetProtocolAddress);
    }

    [Fact]
    public void Truncated()
    {
        var arp = Arp(1, MacA, "10.1.0.2", MacAddress.Zero, "10.1.0.1");
        Assert.False(ArpPacket.TryParse(arp.AsSpan(0, 27), out _, out var error));
        Assert.Equal("ARP packet 27 bytes < 28", error);
        Assert.False(ArpPacket.TryParse(arp.AsSpan(0, 7), out _, out error));
        Assert.Equal("ARP packet 7 bytes < 8", error);
    }

    [Fact]
    public void WrongSizes()
    {
        var arp = Arp(1, MacA, "10.1.0.2", MacAddress.Zero, "10.1.0.1");
        arp[4] = 8;
        Assert.False(ArpPacket.TryParse(arp, out _, out var error));
        Assert.Contains("hardware length 8 / protocol length 4", error);
        Assert.True(ArpPacket.TryParseHeader(arp, out var header, out _));
        Assert.False(header.IsEthernetIpv4);
        Assert.True(header.SenderMac.IsZero); // accessors fall back instead of throwing
    }

    [Fact]
    public void Overlong_Gratuitous()
    {
        var arp = Concat(Arp(1, MacA, "10.1.0.2", MacAddress.Zero, "10.1.0.2"), new byte[18]);
        Assert.True(ArpPacket.TryParse(arp, out var a, out _));
        Assert.True(a.IsGratuitous);
    }
}
