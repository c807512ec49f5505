using System.Buffers.Binary;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Testing;
using PktFlow.Wire;
using static PktFlow.Tests.Netfilter.Conntrack.CtPackets;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// The TCP states and timeouts the ct-tcp-states recording shows (Linux 6.18, default sysctls), and
/// udp_error's length checks it measured: each sequence here is one of its crafted flows.
/// </summary>
public class CtTcpStatesTests
{
    private static readonly ConntrackTuple Flow = new(A, C, IpProtocol.Tcp, 40000, 80);

    /// <summary>Steps as in <see cref="ConntrackTableTests.TcpSequences"/>, one second apart; then the
    /// state, status flags and seconds left after the last step.</summary>
    public static TheoryData<string, string, TcpCtState, string, int> Listed => new()
    {
        { "simultaneous open", "o:S r:S", TcpCtState.SynSent2, "SEEN_REPLY|CONFIRMED", 119 },
        { "SYN-ACK without the final ACK", "o:S r:SA", TcpCtState.SynRecv, "SEEN_REPLY|CONFIRMED", 60 },
        { "the client's FIN", "o:S r:SA o:A o:FA", TcpCtState.FinWait, "SEEN_REPLY|ASSURED|CONFIRMED", 120 },
        { "the server's FIN", "o:S r:SA o:A r:FA", TcpCtState.FinWait, "SEEN_REPLY|ASSURED|CONFIRMED", 120 },
        { "FIN answered by an ACK", "o:S r:SA o:A o:FA r:A", TcpCtState.CloseWait, "SEEN_REPLY|ASSURED|CONFIRMED", 60 },
        { "FIN both ways", "o:S r:SA o:A o:FA r:FA", TcpCtState.LastAck, "SEEN_REPLY|ASSURED|CONFIRMED", 30 },
        { "RST in ESTABLISHED", "o:S r:SA o:A o:R", TcpCtState.Close, "SEEN_REPLY|ASSURED|CONFIRMED", 10 },
        { "RST in SYN_RECV", "o:S r:SA o:R", TcpCtState.Close, "SEEN_REPLY|CONFIRMED", 10 },
        { "SYN retransmitted in SYN_RECV: ignored", "o:S r:SA o:S", TcpCtState.SynRecv, "SEEN_REPLY|CONFIRMED", 59 },
        { "SYN-ACK retransmitted in ESTABLISHED: ignored", "o:S r:SA o:A r:SA", TcpCtState.Established, "SEEN_REPLY|ASSURED|CONFIRMED", 432000 - 1 },
        { "SYN retransmitted before any reply: not renewed", "o:S o:S", TcpCtState.SynSent, "CONFIRMED", 119 },
        { "ACK in SYN_SENT: invalid, nothing changes", "o:S o:A", TcpCtState.SynSent, "CONFIRMED", 119 },
        { "SYN after the server's RST and FIN: no close initiated, ignored", "o:S r:SA o:A r:RA r:FA o:S", TcpCtState.Close, "SEEN_REPLY|ASSURED|CONFIRMED", 9 },
        { "SYN in TIME_WAIT after the client's FIN: a new entry", "o:S r:SA o:A o:FA r:FA o:A o:S", TcpCtState.SynSent, "CONFIRMED", 120 },
        { "SYN after the client's own RST: a new entry", "o:S r:SA o:A o:R o:S", TcpCtState.SynSent, "CONFIRMED", 120 },
    };

    [Theory]
    [MemberData(nameof(Listed))]
    public void StateAndTimeoutAfterTheLastSegment(string name, string steps, TcpCtState state, string status, int secondsLeft)
    {
        _ = name;
        var table = new ConntrackTable(ConntrackSettings.Default);
        var s = steps.Split(' ');
        for (int i = 0; i < s.Length; i++)
            table.Pass(s[i][0] == 'o' ? Tcp(A, C, 40000, 80, s[i][2..]) : Tcp(C, A, 80, 40000, s[i][2..]), Sec(i));
        var e = table.Find(Flow);
        Assert.NotNull(e);
        Assert.Equal((state, status), (e.TcpState, e.Status));
        Assert.Equal(Sec(s.Length - 1 + secondsLeft), e.ExpiresNs);
    }

    private static byte[] Seq(byte[] ipv4, uint seq, uint ack)
    {
        BinaryPrimitives.WriteUInt32BigEndian(ipv4.AsSpan(20 + 4), seq);
        BinaryPrimitives.WriteUInt32BigEndian(ipv4.AsSpan(20 + 8), ack);
        return ipv4;
    }

    [Theory]
    [InlineData(1001u, TcpCtState.SynRecv)] // acknowledges the ignored SYN (seq 1000 + 1): back in sync
    [InlineData(5000u, TcpCtState.Close)]   // another SYN/ACK: ignored too
    public void ASynAckAnsweringAnIgnoredSynResyncs(uint ack, TcpCtState state)
    {
        // tcp_packet's TCP_CONNTRACK_IGNORE case b): in CLOSE without CLOSE_INIT the client's new SYN is ignored
        // and its end recorded (last_end); the server's SYN/ACK whose ack_seq is that end takes the entry to SYN_RECV
        var table = new ConntrackTable(ConntrackSettings.Default);
        foreach (var (i, step) in new[] { "o:S", "r:SA", "o:A", "r:RA" }.Index())
            table.Pass(step[0] == 'o' ? Tcp(A, C, 40000, 80, step[2..]) : Tcp(C, A, 80, 40000, step[2..]), Sec(i));
        Assert.Equal(TcpCtState.Close, table.Find(Flow)!.TcpState);
        table.Pass(Seq(Tcp(A, C, 40000, 80, "S"), 1000, 0), Sec(4));
        Assert.Equal(TcpCtState.Close, table.Find(Flow)!.TcpState);
        table.Pass(Seq(Tcp(C, A, 80, 40000, "SA"), 7000, ack), Sec(5));
        Assert.Equal(state, table.Find(Flow)!.TcpState);
    }

    [Fact]
    public void ARstAnsweringTheSynRemovesTheEntry()
    {
        var table = new ConntrackTable(ConntrackSettings.Default);
        table.Pass(Tcp(A, C, 40000, 80, "S"), Sec(0));
        Assert.Equal(CtState.Established, table.Pass(Tcp(C, A, 80, 40000, "RA"), Sec(1)).State);
        Assert.Null(table.Find(Flow));
    }

    [Fact]
    public void ASynInSynSentBeforeAnyReplyIsNeitherRenewedNorCounted()
    {
        var table = new ConntrackTable(ConntrackSettings.Default);
        var e = table.Pass(Tcp(A, C, 40000, 80, "S"), Sec(0)).Entry!;
        var again = table.Pass(Tcp(A, C, 40000, 80, "S"), Sec(100));
        Assert.Equal(CtState.New, again.State);
        Assert.True(again.NotAccounted);
        Assert.Equal((Sec(120), 1ul), (e.ExpiresNs, e.OriginalPackets));
        // the server's own SYN moves the entry to SYN_SENT2 without renewing it either
        Assert.Equal(CtState.Established, table.Pass(Tcp(C, A, 80, 40000, "S"), Sec(110)).State);
        Assert.Equal((TcpCtState.SynSent2, Sec(120), 0ul), (e.TcpState, e.ExpiresNs, e.ReplyPackets));
        // gone at 120 s: the next SYN makes a new entry
        Assert.NotSame(e, table.Pass(Tcp(A, C, 40000, 80, "S"), Sec(121)).Entry);
    }

    [Fact]
    public void AnIgnoredSegmentIsNotCounted()
    {
        var table = new ConntrackTable(ConntrackSettings.Default);
        var e = table.Pass(Tcp(A, C, 40000, 80, "S"), Sec(0)).Entry!;
        table.Pass(Tcp(C, A, 80, 40000, "SA"), Sec(1));
        var retrans = table.Pass(Tcp(C, A, 80, 40000, "SA"), Sec(2));
        Assert.True(retrans.NotAccounted);
        Assert.Equal((1ul, 1ul, Sec(61)), (e.OriginalPackets, e.ReplyPackets, e.ExpiresNs));
    }

    /// <summary>A UDP datagram of 16 bytes (8 of payload) whose length field says <paramref name="length"/>, no checksum.</summary>
    private static byte[] UdpWithLength(ushort length)
    {
        var l4 = new byte[16];
        BinaryPrimitives.WriteUInt16BigEndian(l4, 2001);
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(2), 5353);
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(4), length);
        return FrameBuilder.Ipv4(A, C, IpProtocol.Udp, l4);
    }

    [Theory]
    [InlineData(100, false, "exceeds the 16-byte datagram")]
    [InlineData(17, false, "exceeds the 16-byte datagram")]
    [InlineData(4, false, "shorter than the UDP header")]
    [InlineData(0, false, "shorter than the UDP header")]
    [InlineData(16, true, null)]
    [InlineData(12, true, null)]
    [InlineData(8, true, null)]
    public void UdpErrorChecksTheLengthField(ushort length, bool tracked, string? why)
    {
        foreach (bool preRouting in new[] { true, false })
        {
            var r = new ConntrackTable(ConntrackSettings.Default).In(UdpWithLength(length), false, Sec(1), preRouting: preRouting);
            Assert.Equal(tracked ? CtState.New : CtState.Invalid, r.State);
            if (why is not null) Assert.Contains(why, r.Detail, StringComparison.Ordinal);
        }
    }
}
