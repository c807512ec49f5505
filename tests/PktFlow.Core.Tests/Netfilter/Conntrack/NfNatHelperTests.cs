using System.Buffers.Binary;
using System.Text;
using PktFlow.Netfilter;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Nftables;
using PktFlow.Wire;
using WireFrames = PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// nf_nat_ftp, nf_nat_tftp and what they share (nf_nat_helper.c, nf_conntrack_seqadj.c) on a conntrack
/// table, packet by packet as nf_conntrack_in and nf_confirm see them after NAT: the LAN host L is
/// masqueraded behind P for its session with the outside server S; the published server L:21 is P:2121.
/// </summary>
public class NfNatHelperTests
{
    private const long Second = 1_000_000_000;
    private static readonly IpAddr L = IpAddr.Parse("192.168.10.2"), P = IpAddr.Parse("10.2.0.1"), S = IpAddr.Parse("10.2.0.2");

    private static byte[] Seg(IpAddr s, IpAddr d, ushort sp, ushort dp, TcpFlags flags, uint seq, uint ack = 0, string payload = "", byte[]? options = null) =>
        WireFrames.Ipv4(s.ToString(), d.ToString(), IpProtocol.Tcp,
            WireFrames.Tcp(s.ToString(), d.ToString(), sp, dp, seq, ack, flags, options, Encoding.ASCII.GetBytes(payload)));

    /// <summary>A control connection with the ftp helper whose first packet got <paramref name="nat"/> before confirmation.</summary>
    private sealed class Control
    {
        public readonly ConntrackTable Table;
        public readonly ConntrackEntry Entry;
        public long Now = 10 * Second;
        private readonly ConntrackTuple _o;
        private ConntrackTuple R => Entry.Reply;
        public uint ClientSeq = 100, ServerSeq = 500;

        public Control(IpAddr src, ushort sport, IpAddr dst, ushort dport, Action<ConntrackEntry> nat, ConntrackTable? table = null)
        {
            Table = table ?? new ConntrackTable();
            _o = new ConntrackTuple(src, dst, IpProtocol.Tcp, sport, dport);
            var syn = Table.In(Seg(src, dst, sport, dport, TcpFlags.Syn, ClientSeq++), false, Now);
            Entry = syn.Entry!;
            NfConntrackHelper.Assign(Entry, ConntrackHelper.Ftp, IpProtocol.Tcp);
            nat(Entry);
            Assert.True(Table.Confirm(Entry));
            Reply(TcpFlags.Syn | TcpFlags.Ack, "");
            ServerSeq++;
            Client("", TcpFlags.Ack);
        }

        /// <summary>A segment of the original direction as it is after NAT (the helper runs at the last hook).</summary>
        /// <summary><paramref name="ack"/>: what the client acknowledges, in the numbers it saw (default: the server's own).</summary>
        public (bool Accept, string Detail, byte[] Packet) Client(string line, TcpFlags flags = TcpFlags.Psh | TcpFlags.Ack, uint? ack = null)
        {
            var p = Seg(_o.Source, _o.Destination, _o.SourcePort, _o.DestinationPort, flags, ClientSeq, ack ?? ServerSeq, line);
            NatOriginal(p);
            ClientSeq += (uint)line.Length;
            return Pass(p);
        }

        public (bool Accept, string Detail, byte[] Packet) Reply(TcpFlags flags, string line, uint? ack = null)
        {
            var p = Seg(R.Source, R.Destination, R.SourcePort, R.DestinationPort, flags, ServerSeq, ack ?? ClientSeq, line);
            // the reply as it leaves after un-NAT: the original tuple inverted
            AddressRewrite.Rewrite(p, false, source: true, _o.Destination, _o.DestinationPort, out _, out _);
            AddressRewrite.Rewrite(p, false, source: false, _o.Source, _o.SourcePort, out _, out _);
            ServerSeq += (uint)line.Length;
            return Pass(p, lookup: Seg(R.Source, R.Destination, R.SourcePort, R.DestinationPort, flags, 1));
        }

        private void NatOriginal(byte[] p)
        {
            AddressRewrite.Rewrite(p, false, source: true, R.Destination, R.DestinationPort, out _, out _);
            AddressRewrite.Rewrite(p, false, source: false, R.Source, R.SourcePort, out _, out _);
        }

        /// <summary>nf_conntrack_in on the packet as it arrived (<paramref name="lookup"/>), then nf_confirm's helper and seqadj on <paramref name="p"/>.</summary>
        private (bool Accept, string Detail, byte[] Packet) Pass(byte[] p, byte[]? lookup = null)
        {
            Now += Second / 10;
            var r = Table.In(lookup ?? Seg(_o.Source, _o.Destination, _o.SourcePort, _o.DestinationPort, TcpFlags.Ack, 1), false, Now);
            Assert.Same(Entry, r.Entry);
            var h = NfConntrackHelper.Help(Table, r, p, false, Now);
            if (h is { Accept: false }) return (false, h.Value.Detail, p);
            var packet = h?.Mangled ?? p;
            NfConntrackSeqadj.Adjust(packet, false, Entry, r.Direction);
            return (true, h?.Detail ?? "", packet);
        }
    }

    private static Control Masqueraded() => new(L, 40021, S, 21, e =>
    {
        e.Reply = new ConntrackTuple(S, P, IpProtocol.Tcp, 21, 40021);
        e.SourceNat = true;
    });

    private static Control Published() => new(S, 40121, P, 2121, e =>
    {
        e.Reply = new ConntrackTuple(L, S, IpProtocol.Tcp, 21, 40121);
        e.DestinationNat = true;
    });

    private static string Payload(byte[] p) => Encoding.ASCII.GetString(p.AsSpan(40));

    private static uint SeqOf(byte[] p) => BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(24));
    private static uint AckOf(byte[] p) => BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(28));

    [Fact]
    public void APortCommandFromBehindMasquerade_IsRewrittenToThePublicAddress_AndLaterNumbersMove()
    {
        var ctl = Masqueraded();
        ctl.Client("USER anonymous\r\n"); // the first line of a side is not parsed
        uint portSeq = ctl.ClientSeq;
        var port = ctl.Client("PORT 192,168,10,2,156,67\r\n");
        Assert.True(port.Accept);
        Assert.Contains("nf_nat_ftp rewrites `192,168,10,2,156,67' as `10,2,0,1,156,67' (-4 bytes", port.Detail);
        Assert.Equal("PORT 10,2,0,1,156,67\r\n", Payload(port.Packet));
        Assert.Equal(port.Packet.Length, BinaryPrimitives.ReadUInt16BigEndian(port.Packet.AsSpan(2)));
        Assert.True(Checksum.IcmpValid(port.Packet.AsSpan(0, 20))); // the IPv4 header checksum verifies
        Assert.True(AddressRewrite.IsPartialChecksum(port.Packet, false, 20, port.Packet.Length, IpProtocol.Tcp)); // left to the device
        Assert.Equal(portSeq, SeqOf(port.Packet)); // the rewritten segment itself keeps its number
        Assert.Contains("SEQ_ADJUST", ctl.Entry.Status);

        var x = Assert.Single(ctl.Table.Expectations);
        Assert.Equal("src=10.2.0.2 dst=10.2.0.1 sport=0 dport=40003", x.Tuple.ToString());
        Assert.Equal(CtDirection.Reply, x.NatDirection);
        Assert.Equal(40003, x.SavedPort);

        // the server's ACK of the shorter segment acknowledges 4 bytes less than the client sent
        var ack = ctl.Reply(TcpFlags.Ack, "", ack: ctl.ClientSeq - 4);
        Assert.Equal(ctl.ClientSeq, AckOf(ack.Packet));
        var noop = ctl.Client("NOOP\r\n");
        Assert.Equal(ctl.ClientSeq - 6 - 4, SeqOf(noop.Packet));
        Assert.Contains("no PORT/EPRT", noop.Detail); // parsed at its unadjusted number, after the newline the helper saw
    }

    [Fact]
    public void SeenBehindTheRouter_TheDataConnectionsFirstPacketIsTracedBackToTheExpectation()
    {
        var ctl = Masqueraded();
        ctl.Client("USER anonymous\r\n");
        ctl.Client("PORT 192,168,10,2,156,67\r\n");
        // a capture on the LAN side sees the server's SYN already DNATed by nf_nat_follow_master
        var seen = new ConntrackTuple(S, L, IpProtocol.Tcp, 20, 40003);
        Assert.Equal(new ConntrackTuple(S, P, IpProtocol.Tcp, 20, 40003), ctl.Table.BeforeFollowMaster(seen));
        Assert.Null(ctl.Table.BeforeFollowMaster(new ConntrackTuple(S, L, IpProtocol.Tcp, 20, 40004))); // nothing announced 40004
    }

    [Fact]
    public void TheDataConnectionTheServerMakesBack_FollowsTheMaster_ToTheLanHost()
    {
        var ctl = Masqueraded();
        ctl.Client("USER anonymous\r\n");
        ctl.Client("PORT 192,168,10,2,156,67\r\n");
        var data = ctl.Table.In(Seg(S, P, 20, 40003, TcpFlags.Syn, 7000), false, ctl.Now + Second);
        Assert.Equal(CtState.Related, data.State);
        var e = data.Entry!;
        Assert.NotNull(e.FollowMaster);
        var what = NfNatHelper.FollowMaster(ctl.Table, new NftState(1, "host"), e, e.FollowMaster!);
        Assert.Null(e.FollowMaster);
        Assert.Contains("destination 192.168.10.2:40003", what);
        Assert.Equal("src=192.168.10.2 dst=10.2.0.2 sport=40003 dport=20", e.Reply.ToString());
        Assert.True(e.DestinationNat);
        Assert.False(e.SourceNat); // the source stays the server's: a null binding, but set
        Assert.True(e.SourceNatDone && e.DestinationNatDone); // the nat chains never see it
    }

    [Fact]
    public void A227FromThePublishedServer_NamesThePublicAddress_AndTheClientsDataConnectionIsDnated()
    {
        var ctl = Published();
        ctl.Reply(TcpFlags.Psh | TcpFlags.Ack, "220 ready\r\n");
        ctl.Client("PASV\r\n");
        uint replySeq = ctl.ServerSeq;
        var pasv = ctl.Reply(TcpFlags.Psh | TcpFlags.Ack, "227 Entering Passive Mode (192,168,10,2,156,71)\r\n");
        Assert.Equal("227 Entering Passive Mode (10,2,0,1,156,71)\r\n", Payload(pasv.Packet));
        Assert.Equal(replySeq, SeqOf(pasv.Packet));
        Assert.Equal("src=10.2.0.2 dst=10.2.0.1 sport=0 dport=40007", Assert.Single(ctl.Table.Expectations).Tuple.ToString());
        // the client's next command acknowledges what it got: 4 bytes more in the server's numbers
        var epsv = ctl.Client("EPSV\r\n", ack: ctl.ServerSeq - 4);
        Assert.Equal(ctl.ServerSeq, AckOf(epsv.Packet));
        var r229 = ctl.Reply(TcpFlags.Psh | TcpFlags.Ack, "229 Entering Extended Passive Mode (|||40008|)\r\n");
        Assert.Equal(ctl.ServerSeq - (uint)"229 Entering Extended Passive Mode (|||40008|)\r\n".Length - 4, SeqOf(r229.Packet));
        Assert.Contains("(same length)", r229.Detail);

        var data = ctl.Table.In(Seg(S, P, 41008, 40008, TcpFlags.Syn, 9000), false, ctl.Now + Second);
        Assert.Equal(CtState.Related, data.State);
        NfNatHelper.FollowMaster(ctl.Table, new NftState(1, "host"), data.Entry!, data.Entry!.FollowMaster!);
        Assert.Equal("src=192.168.10.2 dst=10.2.0.2 sport=40008 dport=41008", data.Entry.Reply.ToString());
    }

    [Fact]
    public void AnotherNatedMasterExpectingTheSameTuple_GetsAllPortsInUse()
    {
        var first = Published();
        first.Reply(TcpFlags.Psh | TcpFlags.Ack, "220 ready\r\n");
        first.Reply(TcpFlags.Psh | TcpFlags.Ack, "227 Entering Passive Mode (192,168,10,2,156,71)\r\n");
        var second = new Control(S, 40122, P, 2121, e =>
        {
            e.Reply = new ConntrackTuple(L, S, IpProtocol.Tcp, 21, 40122);
            e.DestinationNat = true;
        }, first.Table) { Now = first.Now };
        second.Reply(TcpFlags.Psh | TcpFlags.Ack, "220 ready\r\n");
        // -EALREADY: nf_nat_exp_find_port gives up at once, nf_nat_ftp drops the packet
        var r = second.Reply(TcpFlags.Psh | TcpFlags.Ack, "227 Entering Passive Mode (192,168,10,2,156,71)\r\n");
        Assert.False(r.Accept);
        Assert.Contains("all ports in use", r.Detail);
        Assert.Same(first.Entry, Assert.Single(first.Table.Expectations).Master);
    }

    [Fact]
    public void SeqAdjust_MovesSeqAckAndSackBlocks_AndKeepsAFullChecksumRight()
    {
        var ct = Masqueraded().Entry;
        NfConntrackSeqadj.Set(ct, CtDirection.Original, 1000, -4);
        NfConntrackSeqadj.Set(ct, CtDirection.Original, 900, +7); // older than the last correction: ignored
        // a later segment of the client
        var later = Seg(P, S, 40021, 21, TcpFlags.Ack | TcpFlags.Psh, 1030, 600, "NOOP\r\n");
        Assert.Equal("seq 1030 -> 1026", NfConntrackSeqadj.Adjust(later, false, ct, CtDirection.Original));
        Assert.True(Checksum.TransportValid(P, S, IpProtocol.Tcp, later.AsSpan(20)));
        // the rewritten segment (at the correction) and earlier ones keep the offset before it
        Assert.Null(NfConntrackSeqadj.Adjust(Seg(P, S, 40021, 21, TcpFlags.Ack, 1000, 600), false, ct, CtDirection.Original));
        // the server's ACK and SACK blocks of bytes after the correction, in the client's numbers again
        byte[] sack = [1, 1, 5, 10, 0, 0, 0x04, 0x1A, 0, 0, 0x04, 0x20]; // NOP NOP SACK 1050-1056
        var reply = Seg(S, P, 21, 40021, TcpFlags.Ack, 600, 1030, options: sack);
        Assert.Equal("ack 1030 -> 1034, 1 SACK block(s)", NfConntrackSeqadj.Adjust(reply, false, ct, CtDirection.Reply));
        Assert.Equal(1054u, BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(20 + 24)));
        Assert.Equal(1060u, BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(20 + 28)));
        Assert.True(Checksum.TransportValid(S, P, IpProtocol.Tcp, reply.AsSpan(20)));
        // seen after the host (a capture behind it): undone to what the sender wrote
        NfConntrackSeqadj.Undo(later, false, ct, CtDirection.Original);
        Assert.Equal(1030u, SeqOf(later));
        NfConntrackSeqadj.Undo(reply, false, ct, CtDirection.Reply);
        Assert.Equal(1030u, AckOf(reply));
    }

    private static uint Edge(byte[] ip, int i) => BinaryPrimitives.ReadUInt32BigEndian(ip.AsSpan(20 + 24 + 4 * i));

    [Fact]
    public void SeqUndo_MapsSackBlocksBack_ToTheBytesTheSenderWrote()
    {
        var ct = Masqueraded().Entry;
        NfConntrackSeqadj.Set(ct, CtDirection.Original, 1000, +6);
        // the server's SACK 990-1000 (ending where the resized segment starts: offset 0) and 1056-1062 (after it: the client's 1050-1056)
        byte[] sack = [1, 1, 5, 18, 0, 0, 0x03, 0xDE, 0, 0, 0x03, 0xE8, 0, 0, 0x04, 0x20, 0, 0, 0x04, 0x26, 1, 1];
        var sent = Seg(S, P, 21, 40021, TcpFlags.Ack, 600, 1036, options: sack);
        Assert.True(Checksum.TransportValid(S, P, IpProtocol.Tcp, sent.AsSpan(20)));
        var reply = sent.ToArray();
        Assert.Equal("ack 1036 -> 1030, 1 SACK block(s)", NfConntrackSeqadj.Adjust(reply, false, ct, CtDirection.Reply));
        Assert.Equal((990u, 1000u, 1050u, 1056u), (Edge(reply, 0), Edge(reply, 1), Edge(reply, 2), Edge(reply, 3)));
        Assert.True(Checksum.TransportValid(S, P, IpProtocol.Tcp, reply.AsSpan(20)));
        // seen after the host: seq, ack, every SACK edge and the checksum as the server wrote them
        NfConntrackSeqadj.Undo(reply, false, ct, CtDirection.Reply);
        Assert.Equal(sent, reply);
        Assert.True(Checksum.TransportValid(S, P, IpProtocol.Tcp, reply.AsSpan(20)));
        // an acknowledgment of everything before the resized segment maps back to itself, not into the segment
        var atCorrection = Seg(S, P, 21, 40021, TcpFlags.Ack, 600, 1000);
        Assert.Null(NfConntrackSeqadj.Adjust(atCorrection, false, ct, CtDirection.Reply));
        NfConntrackSeqadj.Undo(atCorrection, false, ct, CtDirection.Reply);
        Assert.Equal(1000u, AckOf(atCorrection));
    }

    [Fact]
    public void MangleTcpPacket_OnIpv6_SetsThePayloadLength_AndRefusesToPass65535Bytes()
    {
        const string src = "2001:db8:1::2", dst = "2001:db8:2::2";
        var text = "EPRT |2|2001:db8:1::2|40004|\r\n";
        var p = WireFrames.Ipv6(src, dst, IpProtocol.Tcp, WireFrames.Tcp(src, dst, 40021, 21, 100, 200, TcpFlags.Psh | TcpFlags.Ack, payload: Encoding.ASCII.GetBytes(text)));
        var rep = NfNatFtp.Format(FtpCommand.Eprt, IpAddr.Parse("2001:db8:ff::1"), 40004);
        var m = NfNatHelper.MangleTcpPacket(p, true, 5, text.Length - 7, Encoding.ASCII.GetBytes(rep))!;
        Assert.Equal($"EPRT {rep}\r\n", Encoding.ASCII.GetString(m.AsSpan(60)));
        Assert.Equal(m.Length - 40, BinaryPrimitives.ReadUInt16BigEndian(m.AsSpan(4)));
        Assert.True(AddressRewrite.IsPartialChecksum(m, true, 40, m.Length, IpProtocol.Tcp));
        // enlarge_skb: never past 65535 bytes
        Assert.Null(NfNatHelper.MangleTcpPacket(p, true, 5, 1, new byte[65535]));
    }

    [Theory]
    [InlineData(FtpCommand.Port, "10.2.0.1", 40003, "10,2,0,1,156,67")]
    [InlineData(FtpCommand.Pasv227, "10.2.0.1", 40007, "10,2,0,1,156,71")]
    [InlineData(FtpCommand.Eprt, "10.2.0.1", 40004, "|1|10.2.0.1|40004|")]
    [InlineData(FtpCommand.Eprt, "2001:db8::1", 40004, "|2|2001:0db8:0000:0000:0000:0000:0000:0001|40004|")]
    [InlineData(FtpCommand.Epsv229, "10.2.0.1", 40008, "|||40008|")]
    public void TheRewrittenTextIsTheKernels(FtpCommand command, string address, int port, string text) =>
        Assert.Equal(text, NfNatFtp.Format(command, IpAddr.Parse(address), (ushort)port));

    [Fact]
    public void ATftpRequestFromBehindMasquerade_ExpectsTheAnswerAtThePublicAddress_ForTheLanHost()
    {
        var table = new ConntrackTable();
        var rrq = WireFrames.Ipv4(L.ToString(), S.ToString(), IpProtocol.Udp, WireFrames.Udp(L.ToString(), S.ToString(), 41069, 69, "\0\u0001file\0octet\0"u8));
        var r = table.In(rrq, false, Second);
        NfConntrackHelper.Assign(r.Entry, ConntrackHelper.Tftp, IpProtocol.Udp);
        r.Entry!.Reply = new ConntrackTuple(S, P, IpProtocol.Udp, 69, 41069);
        r.Entry.SourceNat = true;
        var h = NfConntrackHelper.Help(table, r, rrq, false, Second)!.Value;
        Assert.Contains("read request: nf_nat_tftp: expectation src=10.2.0.2 dst=10.2.0.1 sport=0 dport=41069", h.Detail);
        Assert.Contains("to 192.168.10.2:41069", h.Detail);
        table.Confirm(r.Entry);
        var answer = table.In(WireFrames.Ipv4(S.ToString(), P.ToString(), IpProtocol.Udp, WireFrames.Udp(S.ToString(), P.ToString(), 50069, 41069, "\0\u0003\0\u0001data"u8)), false, 2 * Second);
        Assert.Equal(CtState.Related, answer.State);
        NfNatHelper.FollowMaster(table, new NftState(1, "host"), answer.Entry!, answer.Entry!.FollowMaster!);
        Assert.Equal("src=192.168.10.2 dst=10.2.0.2 sport=41069 dport=50069", answer.Entry.Reply.ToString());
    }
}
