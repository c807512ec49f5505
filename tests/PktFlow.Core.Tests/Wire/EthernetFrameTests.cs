using System.Net.NetworkInformation;
using PacketDotNet;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Wire;

public class EthernetFrameTests
{
    [Fact]
    public void Deconstruct()
    {
        byte[] bytes =
        [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // source
            0x08, 0x06,                         // ARP
            0xaa, 0xbb,
        ];
        Assert.True(EthernetFrame.TryParse(bytes, out var f, out var error));
        Assert.Null(error);
        Assert.True(f.Destination.IsBroadcast);
        Assert.Equal("02:00:00:00:00:01", f.Source.ToString());
        Assert.Equal(EtherTypes.Arp, f.EtherType);
        Assert.Equal(0, f.VlanCount);
        Assert.Equal(14, f.HeaderLength);
        Assert.Equal([0xaa, 0xbb], f.Payload.ToArray());
        Assert.Equal(default, f.Vlan(0));
    }

    [Fact]
    public void Deconstruct_QinQ()
    {
        byte[] bytes =
        [
            0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1,
            0x88, 0xa8, 0x20, 0x0a,  // S-tag: PCP 1, VID 10
            0x81, 0x00, 0xf0, 0x14,  // C-tag: PCP 7, DEI, VID 20
            0x86, 0xdd,
            0x60,
        ];
        Assert.True(EthernetFrame.TryParse(bytes, out var f, out _));
        Assert.Equal(2, f.VlanCount);
        Assert.Equal(EtherTypes.QinQ, f.Vlan(0).Tpid);
        Assert.Equal(10, f.Vlan(0).Vid);
        Assert.Equal(1, f.Vlan(0).Pcp);
        Assert.False(f.Vlan(0).Dei);
        Assert.Equal(EtherTypes.Vlan, f.Vlan(1).Tpid);
        Assert.Equal(20, f.Vlan(1).Vid);
        Assert.Equal(7, f.Vlan(1).Pcp);
        Assert.True(f.Vlan(1).Dei);
        Assert.Equal(EtherTypes.Ipv6, f.EtherType);
        Assert.Equal(EtherTypes.QinQ, f.OuterEtherType);
        Assert.Equal(22, f.HeaderLength);
        Assert.Equal([0x60], f.Payload.ToArray());
        Assert.Equal(default, f.Vlan(2));
        Assert.Equal(default, f.Vlan(-1));
    }

    [Fact]
    public void Deconstruct_9100Tag()
    {
        var frame = Ether(MacB, MacA, EtherTypes.Ipv4, [1, 2], (0x9100, 5));
        Assert.True(EthernetFrame.TryParse(frame, out var f, out _));
        Assert.Equal(1, f.VlanCount);
        Assert.Equal(5, f.Vlan(0).Vid);
        Assert.Equal(EtherTypes.Ipv4, f.EtherType);
    }

    [Fact]
    public void ThirdTag_StaysInPayload()
    {
        var frame = Ether(MacB, MacA, EtherTypes.Ipv4, [1, 2], (0x88a8, 1), (0x8100, 2), (0x8100, 3));
        Assert.True(EthernetFrame.TryParse(frame, out var f, out _));
        Assert.Equal(2, f.VlanCount);
        Assert.Equal(EtherTypes.Vlan, f.EtherType);
        Assert.Equal(frame.Length - 22, f.Payload.Length);
    }

    [Fact]
    public void Construct()
    {
        var eth = new EthernetPacket(PhysicalAddress.Parse("02-00-00-00-00-01"), PhysicalAddress.Parse("02-00-00-00-00-02"), EthernetType.IPv6)
        {
            PayloadData = [1, 2, 3, 4],
        };
        byte[] bytes = eth.Bytes;
        Assert.True(EthernetFrame.TryParse(bytes, out var f, out _));
        Assert.Equal(MacAddress.Parse("02:00:00:00:00:01"), f.Source);
        Assert.Equal(MacAddress.Parse("02:00:00:00:00:02"), f.Destination);
        Assert.Equal(EtherTypes.Ipv6, f.EtherType);
        Assert.Equal([1, 2, 3, 4], f.Payload.ToArray());

        // And the other way: PacketDotNet reads what FrameBuilder writes.
        var back = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, Ether(MacB, MacA, EtherTypes.Arp, Arp(1, MacA, "10.0.0.1", MacAddress.Zero, "10.0.0.2")));
        Assert.Equal(EthernetType.Arp, back.Type);
        Assert.Equal("020000000002", back.DestinationHardwareAddress.ToString());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(13)]
    public void Truncated(int length)
    {
        Assert.False(EthernetFrame.TryParse(new byte[length], out _, out var error));
        Assert.Equal($"Ethernet frame {length} bytes < 14", error);
    }

    [Theory]
    [InlineData(14)]
    [InlineData(17)]
    public void Truncated_Tag(int length)
    {
        var frame = Ether(MacB, MacA, EtherTypes.Ipv4, [], (0x8100, 5));
        Assert.False(EthernetFrame.TryParse(frame.AsSpan(0, length), out _, out var error));
        Assert.StartsWith("Ethernet VLAN tag 1 cut", error);
    }

    [Fact]
    public void Overlong()
    {
        // Trailing padding belongs to the payload at this layer; IPv4/IPv6 views trim it by their length fields.
        var frame = Pad60(Ether(EtherTypes.Arp, Arp(2, MacA, "10.0.0.1", MacB, "10.0.0.2")));
        Assert.True(EthernetFrame.TryParse(frame, out var f, out _));
        Assert.Equal(46, f.Payload.Length);
        Assert.False(f.IsLengthField);
    }

    [Fact]
    public void LengthField()
    {
        var frame = Ether(MacB, MacA, 46, new byte[46]);
        Assert.True(EthernetFrame.TryParse(frame, out var f, out _));
        Assert.True(f.IsLengthField);
    }
}
