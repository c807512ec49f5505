using System.Buffers.Binary;
using PacketDotNet;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;
using PdnTcp = PacketDotNet.TcpPacket;
using PdnUdp = PacketDotNet.UdpPacket;

namespace PktFlow.Tests.Wire;

public class TcpHeaderTests
{
    private static readonly byte[] Syn =
    [
        0x9c, 0x40, 0x00, 0x50,             // 40000 -> 80
        0x00, 0x00, 0x00, 0x7b,             // seq 123
        0x00, 0x00, 0x00, 0x00,             // ack 0
        0xa0, 0x02, 0xfa, 0xf0,             // data offset 10, SYN, window 64240
        0x00, 0x00, 0x00, 0x00,             // checksum, urgent
        0x02, 0x04, 0x05, 0xb4,             // MSS 1460
        0x04, 0x02,                         // SACK permitted
        0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 0, // timestamps 1 / 0
        0x01,                               // NOP
        0x03, 0x03, 0x07,                   // window scale 7
    ];

    [Fact]
    public void Deconstruct()
    {
        Assert.True(TcpHeader.TryParse(Syn, out var t, out var error));
        Assert.Null(error);
        Assert.Equal(40000, t.SourcePort);
        Assert.Equal(80, t.DestinationPort);
        Assert.Equal(123u, t.SequenceNumber);
        Assert.Equal(0u, t.AcknowledgmentNumber);
        Assert.Equal(10, t.DataOffset);
        Assert.Equal(40, t.HeaderLength);
        Assert.Equal(TcpFlags.Syn, t.Flags);
        Assert.True(t.Has(TcpFlags.Syn));
        Assert.Equal(64240, t.Window);
        Assert.Equal(20, t.Options.Length);
        Assert.True(t.Payload.IsEmpty);
        Assert.Null(t.HeaderProblem());
        Assert.Equal((ushort)1460, t.Mss);
        Assert.Equal((byte)7, t.WindowScale);
        Assert.True(t.SackPermitted);

        var kinds = new List<(byte, int)>();
        foreach (var o in t.EnumerateOptions())
        {
            Assert.False(o.IsMalformed);
            Assert.True(o.IsWellFormed);
            kinds.Add((o.Kind, o.Length));
            if (o.Kind == TcpOptionKind.Timestamps) { Assert.Equal(1u, o.TsVal); Assert.Equal(0u, o.TsEcr); }
        }
        Assert.Equal([(2, 4), (4, 2), (8, 10), (1, 1), (3, 3)], kinds);
    }

    [Fact]
    public void Deconstruct_FlagsIncludingAe()
    {
        var b = (byte[])Syn.Clone();
        b[12] |= 0x01;
        b[13] = 0xff;
        Assert.True(TcpHeader.TryParse(b, out var t, out _));
        Assert.Equal((TcpFlags)0x1ff, t.Flags);
        Assert.True(t.Has(TcpFlags.Ae | TcpFlags.Cwr | TcpFlags.Ece | TcpFlags.Urg));
    }

    [Fact]
    public void Sack_And_Eol()
    {
        var opts = Concat(OptNop, OptNop, OptSack((100, 200), (300, 400)), [0, 9, 9]);
        Assert.True(TcpHeader.TryParse(Tcp("10.0.0.1", "10.0.0.2", 1, 2, 0, 0, TcpFlags.Ack, opts), out var t, out _));
        var e = t.EnumerateOptions();
        Assert.True(e.MoveNext()); Assert.True(e.MoveNext());
        Assert.True(e.MoveNext());
        Assert.Equal(TcpOptionKind.Sack, e.Current.Kind);
        Assert.Equal(2, e.Current.SackBlockCount);
        Assert.Equal(300u, e.Current.SackLeft(1));
        Assert.Equal(400u, e.Current.SackRight(1));
        Assert.Equal(0u, e.Current.SackRight(2));
        Assert.True(e.MoveNext());
        Assert.Equal(TcpOptionKind.EndOfList, e.Current.Kind);
        Assert.False(e.MoveNext()); // nothing after EOL
    }

    [Theory]
    [InlineData(new byte[] { 2, 9, 5, 0xb4 })]     // length past the option area
    [InlineData(new byte[] { 2, 1, 0, 0 })]        // length below 2
    [InlineData(new byte[] { 1, 1, 1, 8 })]        // kind without a length byte
    public void MalformedOption_EndsWalk(byte[] options)
    {
        Assert.True(TcpHeader.TryParse(Tcp("10.0.0.1", "10.0.0.2", 1, 2, 0, 0, TcpFlags.Syn, options), out var t, out _));
        TcpOption last = default;
        int n = 0;
        foreach (var o in t.EnumerateOptions()) { last = o; n++; }
        Assert.True(last.IsMalformed);
        Assert.True(n <= 4);
        Assert.Null(t.Mss);
    }

    [Fact]
    public void Construct()
    {
        var pdn = new PdnTcp(40000, 443)
        {
            SequenceNumber = 0xdeadbeef,
            AcknowledgmentNumber = 42,
            Synchronize = true,
            Acknowledgment = true,
            WindowSize = 1024,
            PayloadData = Bytes(10),
        };
        var ip = new IPv4Packet(System.Net.IPAddress.Parse("10.0.0.1"), System.Net.IPAddress.Parse("10.0.0.2")) { PayloadPacket = pdn };
        pdn.UpdateTcpChecksum();
        byte[] seg = pdn.Bytes;
        Assert.True(TcpHeader.TryParse(seg, out var t, out _));
        Assert.Equal(40000, t.SourcePort);
        Assert.Equal(443, t.DestinationPort);
        Assert.Equal(0xdeadbeefu, t.SequenceNumber);
        Assert.Equal(42u, t.AcknowledgmentNumber);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, t.Flags);
        Assert.Equal(1024, t.Window);
        Assert.Equal(10, t.Payload.Length);
        Assert.Equal(pdn.Checksum, t.Checksum);
        Assert.True(Checksum.TransportValid(IpAddr.Parse("10.0.0.1"), IpAddr.Parse("10.0.0.2"), IpProtocol.Tcp, seg));

        // PacketDotNet validates the checksum our builder writes.
        var ours = Tcp("10.0.0.1", "10.0.0.2", 5, 6, 7, 8, TcpFlags.Psh | TcpFlags.Ack, Concat(OptMss(1400)), Bytes(33));
        var frame = Ether(EtherTypes.Ipv4, Ipv4("10.0.0.1", "10.0.0.2", 6, ours));
        var parsed = Packet.ParsePacket(LinkLayers.Ethernet, frame).Extract<PdnTcp>();
        Assert.True(parsed.ValidTcpChecksum);
        Assert.Equal(7u, parsed.SequenceNumber);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(19)]
    public void Truncated(int length)
    {
        Assert.False(TcpHeader.TryParse(Syn.AsSpan(0, length), out _, out var error));
        Assert.Equal($"TCP header {length} bytes < 20", error);
    }

    [Fact]
    public void Truncated_Options()
    {
        Assert.True(TcpHeader.TryParse(Syn.AsSpan(0, 30), out var t, out _));
        Assert.Equal("TCP header 40 bytes > 30 present", t.HeaderProblem());
        Assert.Equal(10, t.Options.Length);
        Assert.True(t.Payload.IsEmpty);
        int n = 0;
        foreach (var o in t.EnumerateOptions()) n++;
        Assert.Equal(3, n); // MSS, SACK-permitted, then the cut timestamps option (malformed)
    }

    [Fact]
    public void Overlong_PayloadAfterHeader()
    {
        Assert.True(TcpHeader.TryParse(Concat(Syn, Bytes(5)), out var t, out _));
        Assert.Equal(5, t.Payload.Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void BadDataOffset(int offset)
    {
        var b = (byte[])Syn.Clone();
        b[12] = (byte)(offset << 4);
        Assert.True(TcpHeader.TryParse(b, out var t, out _));
        Assert.Equal($"TCP data offset {offset} < 5", t.HeaderProblem());
        Assert.True(t.Options.IsEmpty);
        Assert.Equal(b.Length - 20, t.Payload.Length);
    }
}

public class UdpHeaderTests
{
    private static readonly byte[] Sample = [0x13, 0x88, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 1, 2, 3, 4];

    [Fact]
    public void Deconstruct()
    {
        Assert.True(UdpHeader.TryParse(Sample, out var u, out var error));
        Assert.Null(error);
        Assert.Equal(5000, u.SourcePort);
        Assert.Equal(53, u.DestinationPort);
        Assert.Equal(12, u.Length);
        Assert.Equal(0, u.Checksum);
        Assert.Equal([1, 2, 3, 4], u.Payload.ToArray());
        Assert.Null(u.LengthProblem(12));
        // Zero checksum over IPv4 means "none"; over IPv6 it is invalid.
        Assert.True(Checksum.TransportValid(IpAddr.Parse("10.0.0.1"), IpAddr.Parse("10.0.0.2"), IpProtocol.Udp, Sample));
        Assert.False(Checksum.TransportValid(IpAddr.Parse("::1"), IpAddr.Parse("::2"), IpProtocol.Udp, Sample));
    }

    [Fact]
    public void Construct()
    {
        var pdn = new PdnUdp(5353, 5353) { PayloadData = Bytes(17) };
        var ip = new IPv6Packet(System.Net.IPAddress.Parse("fe80::1"), System.Net.IPAddress.Parse("ff02::fb")) { PayloadPacket = pdn };
        pdn.UpdateCalculatedValues();
        pdn.UpdateUdpChecksum();
        Assert.True(UdpHeader.TryParse(pdn.Bytes, out var u, out _));
        Assert.Equal(25, u.Length);
        Assert.Equal(17, u.Payload.Length);
        Assert.Equal(pdn.Checksum, u.Checksum);
        Assert.True(Checksum.TransportValid(IpAddr.Parse("fe80::1"), IpAddr.Parse("ff02::fb"), IpProtocol.Udp, pdn.Bytes));
        Assert.Equal(pdn.Checksum, Checksum.Transport(IpAddr.Parse("fe80::1"), IpAddr.Parse("ff02::fb"), IpProtocol.Udp, ZeroChecksum(pdn.Bytes, 6)));
    }

    private static byte[] ZeroChecksum(byte[] seg, int at) { var c = (byte[])seg.Clone(); c[at] = 0; c[at + 1] = 0; return c; }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void Truncated(int length)
    {
        Assert.False(UdpHeader.TryParse(Sample.AsSpan(0, length), out _, out var error));
        Assert.Equal($"UDP header {length} bytes < 8", error);
    }

    [Fact]
    public void LengthProblems()
    {
        Assert.True(UdpHeader.TryParse(Sample, out var u, out _));
        Assert.Equal("UDP length 12 > 10 bytes present", u.LengthProblem(10));
        var b = (byte[])Sample.Clone();
        b[5] = 4;
        Assert.True(UdpHeader.TryParse(b, out u, out _));
        Assert.Equal("UDP length 4 < 8", u.LengthProblem(12));
        Assert.True(u.Payload.IsEmpty);
    }

    [Fact]
    public void Overlong()
    {
        Assert.True(UdpHeader.TryParse(Concat(Sample, Bytes(6)), out var u, out _));
        Assert.Equal(4, u.Payload.Length); // trailing bytes beyond the UDP length are not payload
    }

    [Fact]
    public void JumboZeroLength()
    {
        var b = (byte[])Sample.Clone();
        b[4] = b[5] = 0;
        Assert.True(UdpHeader.TryParse(b, out var u, out _));
        Assert.Equal(4, u.Payload.Length);
        Assert.Null(u.LengthProblem(70_000));
        Assert.Equal("UDP length 0 < 8", u.LengthProblem(12));
    }
}
