using System.Text;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Testing;
using PktFlow.Wire;
using static PktFlow.Tests.Netfilter.Conntrack.CtPackets;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// The ftp and tftp helpers on a conntrack table, packet by packet as nf_conntrack_in and nf_confirm see
/// them: the sequence positions the ftp helper parses at, the expectations it makes (conntrack -L expect),
/// the RELATED connection that uses one, the expectation's timeout on the capture clock.
/// </summary>
public class ConntrackHelperTests
{
    private const long Second = 1_000_000_000;

    /// <summary>A client A:40021 with an FTP control connection to server C:21 (ftp helper assigned on its SYN).</summary>
    private sealed class Control
    {
        public readonly ConntrackTable Table;
        public readonly ConntrackEntry Entry;
        public long Now = 10 * Second;
        private uint _c = 100, _s = 500;
        private readonly ushort _port;

        public Control(ConntrackTable? table = null, ushort clientPort = 40021)
        {
            Table = table ?? new ConntrackTable();
            _port = clientPort;
            var syn = Table.In(Seg(A, C, _port, 21, "S", _c++), false, Now);
            Assert.Equal("the new connection takes the ftp helper", NfConntrackHelper.Assign(syn.Entry, ConntrackHelper.Ftp, IpProtocol.Tcp));
            Assert.Contains("not parsed: ct state new", Pass(syn, Seg(A, C, _port, 21, "S", _c - 1)).Detail);
            Entry = syn.Entry!;
            Packet(Seg(C, A, 21, _port, "SA", _s++));
            Packet(Seg(A, C, _port, 21, "A", _c));
        }

        public (bool Accept, string Detail) Client(string line) { var r = Packet(Seg(A, C, _port, 21, "PA", _c, line)); _c += (uint)line.Length; return r; }
        public (bool Accept, string Detail) Server(string line) { var r = Packet(Seg(C, A, 21, _port, "PA", _s, line)); _s += (uint)line.Length; return r; }

        public (bool Accept, string Detail) Packet(byte[] p)
        {
            Now += Second / 10;
            return Pass(Table.In(p, false, Now), p);
        }

        /// <summary>nf_confirm: the helper, then confirmation of a new entry.</summary>
        public (bool Accept, string Detail) Pass(CtLookup r, byte[] p)
        {
            var h = NfConntrackHelper.Help(Table, r, p, false, Now);
            if (h is { Accept: false }) return (false, h.Value.Detail);
            if (r is { Direction: CtDirection.Original, Entry: { Confirmed: false } e }) Assert.True(Table.Confirm(e));
            return (true, h?.Detail ?? "");
        }
    }

    private static byte[] Seg(IpAddr s, IpAddr d, ushort sp, ushort dp, string flags, uint seq, string payload = "")
    {
        var data = Encoding.ASCII.GetBytes(payload);
        var tcp = FrameBuilder.Tcp(s, d, sp, dp, Flags(flags), seq, data.Length);
        data.CopyTo(tcp, 20);
        return FrameBuilder.Ipv4(s, d, IpProtocol.Tcp, tcp);
    }

    private const string Pasv = "227 Entering Passive Mode (10,99,2,1,156,65)\r\n"; // 10.99.2.1:40001

    [Fact]
    public void ABadChecksumDataSyn_IsInvalid_ButHasTakenTheExpectation()
    {
        var ctl = new Control();
        ctl.Server("220 ready\r\n");
        ctl.Client("PASV\r\n");
        ctl.Server(Pasv);
        Assert.Single(ctl.Table.Expectations);
        var bad = Seg(A, C, 41001, 40001, "S", 7000);
        bad[20 + 16] ^= 0xff; // the TCP checksum
        var r = ctl.Table.In(bad, false, ctl.Now + Second, preRouting: true);
        Assert.Equal(CtState.Invalid, r.State);
        Assert.Contains("init_conntrack had already taken the expectation of the ftp helper", r.Detail);
        Assert.Empty(ctl.Table.Expectations);
        // the good retransmission finds no expectation any more
        Assert.Equal(CtState.New, ctl.Table.In(Seg(A, C, 41001, 40001, "S", 7000), false, ctl.Now + 2 * Second, preRouting: true).State);
    }

    [Fact]
    public void A227AfterALine_MakesAnExpectation_AndTheDataConnectionIsRelated()
    {
        var ctl = new Control();
        ctl.Entry.Mark = 7;
        Assert.Contains("not parsed: seq", ctl.Server("220 ready\r\n").Detail); // the first line of each side
        ctl.Client("PASV\r\n");
        Assert.Contains("227 announces 10.99.2.1:40001: expectation", ctl.Server(Pasv).Detail);
        var x = Assert.Single(ctl.Table.Expectations);
        Assert.Equal("300 proto=6 src=10.99.1.1 dst=10.99.2.1 sport=0 dport=40001 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 "
            + "master-src=10.99.1.1 master-dst=10.99.2.1 sport=40021 dport=21 class=0 helper=ftp", x.ToString(ctl.Now));
        Assert.Contains(" helper=ftp use=1", ctl.Entry.ToString(ctl.Now));

        var data = ctl.Table.In(Seg(A, C, 41001, 40001, "S", 7000), false, ctl.Now + Second);
        Assert.Equal(CtState.Related, data.State);
        Assert.Contains("expected by the ftp helper", data.Detail);
        Assert.Same(ctl.Entry, data.Entry!.Master);
        Assert.Equal(7u, data.Entry.Mark); // init_conntrack copies the master's mark
        Assert.Null(data.Entry.Helper);
        Assert.Empty(ctl.Table.Expectations); // used: unlinked
        Assert.True(ctl.Table.Confirm(data.Entry));
        Assert.StartsWith("EXPECTED", data.Entry.Status);
        // until the reply, the connection's packets stay RELATED; then ESTABLISHED
        Assert.Equal(CtState.Related, ctl.Table.In(Seg(A, C, 41001, 40001, "S", 7000), false, ctl.Now + 2 * Second).State);
        Assert.Equal(CtState.Established, ctl.Table.In(Seg(C, A, 40001, 41001, "SA", 9000), false, ctl.Now + 2 * Second).State);
        // another connection to the same port is new: the expectation was for one
        Assert.Equal(CtState.New, ctl.Table.In(Seg(A, C, 41002, 40001, "S", 7000), false, ctl.Now + 3 * Second).State);
    }

    [Fact]
    public void TheFirstLineOfASide_IsNotParsed()
    {
        var ctl = new Control();
        Assert.Contains("not parsed", ctl.Server(Pasv).Detail);
        Assert.Empty(ctl.Table.Expectations);
    }

    [Fact]
    public void ALineSplitAcrossSegments_IsDroppedWhilePartial_AndItsRestIsNotParsed()
    {
        var ctl = new Control();
        ctl.Server("220 ready\r\n");
        var partial = ctl.Server("227 Entering Passive Mode (10,99,");
        Assert.False(partial.Accept); // nf_ct_helper_log "partial matching": NF_DROP
        Assert.Contains("partial matching of `227 '", partial.Detail);
        Assert.Contains("not parsed", ctl.Server("2,1,156,65)\r\n").Detail);
        Assert.Empty(ctl.Table.Expectations);
        // the next whole line after that newline is parsed again
        Assert.Contains("expectation", ctl.Server(Pasv).Detail);
    }

    [Fact]
    public void PortAndEprt_ExpectTheServerToConnectBack()
    {
        var ctl = new Control();
        ctl.Client("USER anonymous\r\n");
        Assert.Contains("PORT announces 10.99.1.1:40003: expectation", ctl.Client("PORT 10,99,1,1,156,67\r\n").Detail);
        Assert.Equal("src=10.99.2.1 dst=10.99.1.1 sport=0 dport=40003", Assert.Single(ctl.Table.Expectations).Tuple.ToString());
        Assert.Equal(CtState.Related, ctl.Table.In(Seg(C, A, 20, 40003, "S", 1), false, ctl.Now).State);
        ctl.Client("EPRT |1|10.99.1.1|40004|\r\n");
        Assert.Equal(CtState.Related, ctl.Table.In(Seg(C, A, 2020, 40004, "S", 1), false, ctl.Now).State);
    }

    [Fact]
    public void AnAddressOtherThanTheSender_IsNotExpected()
    {
        var ctl = new Control();
        ctl.Server("220 ready\r\n");
        Assert.Contains("not the sender's address 10.99.2.1: no expectation (loose=0)", ctl.Server("227 Entering Passive Mode (10,99,9,9,1,1)\r\n").Detail);
        Assert.Empty(ctl.Table.Expectations);
    }

    [Fact]
    public void AMasterKeepsOneExpectation_TheNewestReplacesTheOldest()
    {
        var ctl = new Control();
        ctl.Server("220 ready\r\n");
        ctl.Server(Pasv);
        ctl.Server("227 Entering Passive Mode (10,99,2,1,156,66)\r\n");
        Assert.Equal(40002, Assert.Single(ctl.Table.Expectations).Tuple.DestinationPort);
    }

    [Fact]
    public void AnExpectationTimesOutAfterFiveMinutesOfCaptureTime()
    {
        var ctl = new Control();
        ctl.Server("220 ready\r\n");
        ctl.Server(Pasv);
        long made = ctl.Now;
        ctl.Table.In(Seg(A, C, 40021, 21, "A", 1), false, made + 100 * Second); // the clock moves with the packets
        Assert.Equal(200, Assert.Single(ctl.Table.Expectations).SecondsLeft(ctl.Table.NowNs));
        Assert.Equal(CtState.New, ctl.Table.In(Seg(A, C, 41001, 40001, "S", 1), false, made + 300 * Second).State);
        Assert.Empty(ctl.Table.Expectations);
    }

    [Fact]
    public void AnotherMasterExpectingTheSameTuple_GetsItsPacketDropped()
    {
        var first = new Control();
        first.Server("220 ready\r\n");
        first.Server(Pasv);
        var second = new Control(first.Table, clientPort: 40022) { Now = first.Now };
        second.Server("220 ready\r\n");
        var r = second.Server(Pasv);
        Assert.False(r.Accept);
        Assert.Contains("cannot add expectation", r.Detail);
    }

    [Fact]
    public void AMasterThatGoes_TakesItsExpectations()
    {
        var ctl = new Control();
        ctl.Server("220 ready\r\n");
        ctl.Server(Pasv);
        ctl.Table.Kill(ctl.Entry);
        Assert.Empty(ctl.Table.Expectations);
    }

    [Fact]
    public void TftpReadRequest_ExpectsTheAnswerFromAnyPort()
    {
        var table = new ConntrackTable();
        var rrq = FrameBuilder.Ipv4(A, C, IpProtocol.Udp, FrameBuilder.UdpWithPayload(A, C, 41069, 69, "\0\u0001file\0octet\0"u8));
        var r = table.In(rrq, false, Second);
        NfConntrackHelper.Assign(r.Entry, ConntrackHelper.Tftp, IpProtocol.Udp);
        var h = NfConntrackHelper.Help(table, r, rrq, false, Second)!.Value;
        Assert.Equal("tftp_help", h.Function);
        Assert.Contains("read request: expectation src=10.99.2.1 dst=10.99.1.1 sport=0 dport=41069", h.Detail);
        table.Confirm(r.Entry!);
        var answer = FrameBuilder.Ipv4(C, A, IpProtocol.Udp, FrameBuilder.UdpWithPayload(C, A, 50069, 41069, "\0\u0003\0\u0001data"u8));
        var a = table.In(answer, false, 2 * Second);
        Assert.Equal(CtState.Related, a.State);
        Assert.Same(r.Entry, a.Entry!.Master);
        // data and acks (and anything shorter than an opcode) expect nothing
        var ack = FrameBuilder.Ipv4(A, C, IpProtocol.Udp, FrameBuilder.UdpWithPayload(A, C, 41069, 69, "\0\u0004\0\u0001"u8));
        Assert.Contains("TFTP opcode 4: nothing to expect", NfConntrackHelper.Help(table, table.In(ack, false, 3 * Second), ack, false, 3 * Second)!.Value.Detail);
    }

    [Fact]
    public void AHelperIsSetOnlyOnANewConnectionOfItsProtocol_AndOnlyOnce()
    {
        var table = new ConntrackTable();
        var udp = table.In(Udp(A, C, 1000, 21), false, Second);
        Assert.Contains("the ftp helper is for tcp, nothing is set", NfConntrackHelper.Assign(udp.Entry, ConntrackHelper.Ftp, IpProtocol.Udp));
        var tcp = table.In(Tcp(A, C, 1000, 21, "S"), false, Second);
        NfConntrackHelper.Assign(tcp.Entry, ConntrackHelper.Ftp, IpProtocol.Tcp);
        Assert.Contains("already has the ftp helper", NfConntrackHelper.Assign(tcp.Entry, ConntrackHelper.Ftp, IpProtocol.Tcp));
        table.Confirm(tcp.Entry!);
        Assert.Contains("already confirmed", NfConntrackHelper.Assign(tcp.Entry, ConntrackHelper.Ftp, IpProtocol.Tcp));
        Assert.Contains("no conntrack entry", NfConntrackHelper.Assign(null, ConntrackHelper.Ftp, IpProtocol.Tcp));
    }
}
