using System.Buffers.Binary;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;
using static PktFlow.Tests.Netfilter.Nftables.NftPayloadSetTests;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// Payload statements on a CHECKSUM_PARTIAL skb (a local sender's segment, or one FTP NAT grew): the TCP
/// checksum field holds the folded pseudo-header sum. nft_payload_set_eval fixes no checksum for a transport
/// header write then, and nft_payload_l4csum_update keeps the field a pseudo-header sum for an address write;
/// the sums here are written out independently of the model's. Checked on 6.18 with an output-hook rule on a
/// local SYN over veth (tx checksum offload on): after <c>tcp sport set 4444</c> the SYN left with its
/// pseudo-header sum 0x14cb unchanged; after <c>ip saddr set 10.77.0.5</c> with 0x14cf, the new address's sum.
/// </summary>
public class NftPayloadSetPartialTests
{
    /// <summary>The folded pseudo-header sum (not complemented) of a 20-byte-header IPv4 TCP packet, as tcp_v4_send_check leaves it.</summary>
    private static ushort PseudoSum(byte[] net)
    {
        int len = net.Length - 20;
        return (ushort)Sum16(net[12..20].Concat(new byte[] { 0, 6, (byte)(len >> 8), (byte)len }));
    }

    private static FakeNftPacket Partial()
    {
        var net = Ipv4("10.1.0.2", "10.2.0.2", 6, Tcp("10.1.0.2", "10.2.0.2", 40000, 21, 1000, 0, TcpFlags.Ack | TcpFlags.Psh, payload: "PORT 10,1,0,2,4,1\r\n"u8.ToArray()));
        BinaryPrimitives.WriteUInt16BigEndian(net.AsSpan(36), PseudoSum(net));
        return new FakeNftPacket { Net = net, L4Protocol = 6, TransportOffset = 20 };
    }

    [Fact]
    public void AddressWrite_KeepsThePseudoHeaderSum()
    {
        var p = Partial();
        var r = Run("ip saddr set 192.0.2.7", p);
        Assert.Equal(PseudoSum(p.Net), BinaryPrimitives.ReadUInt16BigEndian(p.Net.AsSpan(36)));
        Assert.Equal(0xFFFF, Sum16(p.Net[..20]));
        Assert.Contains("ip saddr set: 10.1.0.2 -> 192.0.2.7 (CHECKSUM_PARTIAL: the pseudo-header sum updated)", r.Notes);
    }

    [Fact]
    public void TransportWrite_UpdatesNoChecksum()
    {
        var p = Partial();
        var before = BinaryPrimitives.ReadUInt16BigEndian(p.Net.AsSpan(36));
        var r = Run("tcp sport set 40001", p);
        Assert.Equal(40001, BinaryPrimitives.ReadUInt16BigEndian(p.Net.AsSpan(20)));
        Assert.Equal(before, BinaryPrimitives.ReadUInt16BigEndian(p.Net.AsSpan(36)));
        Assert.Contains("tcp sport set: 40000 -> 40001 (CHECKSUM_PARTIAL: no checksum updated, the device sums the segment)", r.Notes);
    }

    [Fact]
    public void CompleteChecksum_StillUpdatedIncrementally() // the same write on a complete checksum keeps it valid
    {
        var net = Ipv4("10.1.0.2", "10.2.0.2", 6, Tcp("10.1.0.2", "10.2.0.2", 40000, 21, 1000, 0, TcpFlags.Ack, payload: new byte[] { 1, 2, 3 }));
        var p = new FakeNftPacket { Net = net, L4Protocol = 6, TransportOffset = 20 };
        Run("tcp sport set 40001", p);
        Assert.True(Checksum.TransportValid(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.2.0.2"), 6, p.Net.AsSpan(20)));
    }
}
