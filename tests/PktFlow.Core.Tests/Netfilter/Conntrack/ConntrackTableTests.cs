using PktFlow.Netfilter.Conntrack;
using PktFlow.Testing;
using PktFlow.Wire;
using static PktFlow.Tests.Netfilter.Conntrack.CtPackets;

namespace PktFlow.Tests.Netfilter.Conntrack;

public class ConntrackTableTests
{
    private static ConntrackTable NewTable() => new(ConntrackSettings.Default);

    /// <summary>A TCP exchange as "o:FLAGS" (original side) / "r:FLAGS" (reply side) steps, each with the
    /// ct state the packet gets and the TCP state after it ("-" when the entry is gone or never made).</summary>
    public static TheoryData<string, string, string, string> TcpSequences => new()
    {
        { "handshake", "o:S r:SA o:A", "new established established", "SYN_SENT SYN_RECV ESTABLISHED" },
        { "SYN retransmitted before any reply is still new", "o:S o:S", "new new", "SYN_SENT SYN_SENT" },
        { "SYN-ACK retransmitted is ignored", "o:S r:SA r:SA", "new established established", "SYN_SENT SYN_RECV SYN_RECV" },
        { "reply ACK in SYN_RECV keeps SYN_RECV", "o:S r:SA r:A", "new established established", "SYN_SENT SYN_RECV SYN_RECV" },
        { "ACK from the client before the SYN-ACK is invalid", "o:S o:A", "new invalid", "SYN_SENT SYN_SENT" },
        { "simultaneous open", "o:S r:S", "new established", "SYN_SENT SYN_SENT2" },
        { "server closes first", "o:S r:SA o:A r:FA o:A o:FA r:A", "new established established established established established established",
            "SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT CLOSE_WAIT LAST_ACK TIME_WAIT" },
        { "RST in ESTABLISHED closes", "o:S r:SA o:A r:RA", "new established established established", "SYN_SENT SYN_RECV ESTABLISHED CLOSE" },
        { "SYN in ESTABLISHED is ignored", "o:S r:SA o:A o:S", "new established established established", "SYN_SENT SYN_RECV ESTABLISHED ESTABLISHED" },
        { "SYN after RST reopens", "o:S r:SA o:A o:R o:S", "new established established established new", "SYN_SENT SYN_RECV ESTABLISHED CLOSE SYN_SENT" },
        { "RST from the client before a reply removes the entry", "o:S o:R o:A", "new new new", "SYN_SENT - ESTABLISHED" },
        { "XMAS and NULL segments are invalid", "o:S r:SA o:FSRPAU o:-", "new established invalid invalid", "SYN_SENT SYN_RECV SYN_RECV SYN_RECV" },
        { "mid-stream pickup", "o:A r:A o:FA", "new established established", "ESTABLISHED ESTABLISHED FIN_WAIT" },
    };

    [Theory]
    [MemberData(nameof(TcpSequences))]
    public void TcpStateMachine(string name, string steps, string ctStates, string tcpStates)
    {
        _ = name;
        var table = NewTable();
        var s = steps.Split(' ');
        var want = ctStates.Split(' ');
        var wantTcp = tcpStates.Split(' ');
        for (int i = 0; i < s.Length; i++)
        {
            bool orig = s[i][0] == 'o';
            var pkt = orig ? Tcp(A, C, 40000, 80, s[i][2..]) : Tcp(C, A, 80, 40000, s[i][2..]);
            var r = table.Pass(pkt, Sec(i));
            Assert.True(want[i] == r.State.ToString().ToLowerInvariant(), $"step {i} {s[i]}: {r.State} ({r.Detail})");
            var e = table.Find(new ConntrackTuple(A, C, IpProtocol.Tcp, 40000, 80));
            string got = e is null ? "-" : e.TcpState switch
            {
                TcpCtState.SynSent => "SYN_SENT", TcpCtState.SynRecv => "SYN_RECV", TcpCtState.Established => "ESTABLISHED",
                TcpCtState.FinWait => "FIN_WAIT", TcpCtState.CloseWait => "CLOSE_WAIT", TcpCtState.LastAck => "LAST_ACK",
                TcpCtState.TimeWait => "TIME_WAIT", TcpCtState.Close => "CLOSE", TcpCtState.SynSent2 => "SYN_SENT2", _ => "NONE",
            };
            Assert.True(wantTcp[i] == got, $"step {i} {s[i]}: TCP state {got}, expected {wantTcp[i]} ({r.Detail})");
        }
    }

    [Fact]
    public void UnconfirmedEntriesAreInvisible()
    {
        var table = NewTable();
        var first = table.In(Tcp(A, C, 40000, 80, "S"), false, Sec(1));
        Assert.Equal(CtState.New, first.State);
        Assert.True(first.IsNewEntry);
        Assert.Empty(table.Entries);
        // Dropped before the confirm: the SYN-ACK finds nothing, and a SYN-ACK cannot start a flow.
        Assert.Equal(CtState.Invalid, table.In(Tcp(C, A, 80, 40000, "SA"), false, Sec(2)).State);
        // The retransmitted SYN makes a fresh entry; confirming it makes the flow visible.
        var second = table.In(Tcp(A, C, 40000, 80, "S"), false, Sec(3));
        Assert.NotSame(first.Entry, second.Entry);
        Assert.True(table.Confirm(second.Entry!));
        Assert.Single(table.Entries);
        Assert.Equal(CtState.Established, table.Pass(Tcp(C, A, 80, 40000, "SA"), Sec(4)).State);
        // The first, never confirmed, entry now clashes with the confirmed one (the kernel drops that packet).
        Assert.False(table.Confirm(first.Entry!));
    }

    [Fact]
    public void StatusBits()
    {
        var table = NewTable();
        var e = table.Pass(Tcp(A, C, 40000, 80, "S"), Sec(1)).Entry!;
        Assert.Equal("CONFIRMED", e.Status);
        table.Pass(Tcp(C, A, 80, 40000, "SA"), Sec(2));
        Assert.Equal("SEEN_REPLY|CONFIRMED", e.Status);
        table.Pass(Tcp(A, C, 40000, 80, "A"), Sec(3));
        Assert.Equal("SEEN_REPLY|ASSURED|CONFIRMED", e.Status);
    }

    public static TheoryData<string, byte[], byte[], double, double> Timeouts => new()
    {
        { "udp unreplied 30 s", Udp(A, C, 5000, 53), Udp(A, C, 5000, 53), 29.9, 30.1 },
        { "icmp 30 s", Echo(A, C, 8, 1), Echo(A, C, 8, 1), 29.9, 30.1 },
        { "tcp SYN_SENT 120 s", Tcp(A, C, 40000, 80, "S"), Tcp(A, C, 40000, 80, "S"), 119.9, 120.1 },
        { "generic 600 s", FrameBuilder.Ipv4(A, C, IpProtocol.Esp, new byte[8]), FrameBuilder.Ipv4(A, C, IpProtocol.Esp, new byte[8]), 599, 601 },
        { "gre unreplied 30 s (its own tracker, not the generic one)", Gre(A, C), Gre(A, C), 29.9, 30.1 },
    };

    [Theory]
    [MemberData(nameof(Timeouts))]
    public void EntriesExpireByCaptureTime(string name, byte[] first, byte[] again, double alive, double gone)
    {
        _ = name;
        var table = NewTable();
        var e1 = table.Pass(first, Sec(0)).Entry;
        Assert.NotNull(e1);
        var table2 = NewTable();
        var f2 = table2.Pass(first, Sec(0)).Entry;
        // Still there just before the timeout: the same entry.
        Assert.Same(e1, table.Pass(again, Sec(alive)).Entry);
        // Gone after it: a new entry, and the listing at that time no longer holds the old one.
        var late = table2.Pass(again, Sec(gone));
        Assert.Equal(CtState.New, late.State);
        Assert.NotSame(f2, late.Entry);
        Assert.Single(table2.Entries);
    }

    [Fact]
    public void TimeWaitExpires()
    {
        var table = NewTable();
        foreach (var (pkt, t) in new[] { (Tcp(A, C, 1, 2, "S"), 0.0), (Tcp(C, A, 2, 1, "SA"), 0.1), (Tcp(A, C, 1, 2, "A"), 0.2),
                     (Tcp(A, C, 1, 2, "FA"), 1), (Tcp(C, A, 2, 1, "FA"), 1.1), (Tcp(A, C, 1, 2, "A"), 1.2) })
            table.Pass(pkt, Sec(t));
        Assert.Equal(TcpCtState.TimeWait, table.Entries.Single().TcpState);
        Assert.Single(table.Entries);
        // Gone after 120 s: a late ACK from the server is picked up as a new flow in its own direction.
        var late = table.Pass(Tcp(C, A, 2, 1, "A"), Sec(1.2 + 121));
        Assert.Equal(CtState.New, late.State);
        Assert.Equal(new ConntrackTuple(C, A, IpProtocol.Tcp, 2, 1), table.Entries.Single().Original);
        Assert.Equal(TcpCtState.Established, late.Entry!.TcpState);
    }

    [Fact]
    public void StrayIcmpErrorIsInvalid()
    {
        var table = NewTable();
        var r = table.Pass(Error(C, A, Udp(A, C, 5000, 53)), Sec(1));
        Assert.Equal(CtState.Invalid, r.State);
        Assert.Null(r.Entry);
        Assert.Contains("matches no tracked flow", r.Detail);
    }

    [Fact]
    public void IcmpErrorQuotingTcpAndEcho()
    {
        var table = NewTable();
        var tcp = table.Pass(Tcp(A, C, 40000, 80, "S"), Sec(1)).Entry;
        var r = table.Pass(Error(C, A, Tcp(A, C, 40000, 80, "S"), type: 3, code: 1), Sec(2));
        Assert.Equal(CtState.Related, r.State);
        Assert.Same(tcp, r.Entry);
        Assert.Equal(CtDirection.Reply, r.Direction);
        var echo = table.Pass(Echo(A, C, 8, 9), Sec(3)).Entry;
        var te = table.Pass(Error(IpAddr.Parse("10.99.3.1"), A, Echo(A, C, 8, 9), type: 11, code: 0), Sec(4));
        Assert.Equal(CtState.Related, te.State);
        Assert.Same(echo, te.Entry);
        // An error addressed elsewhere than the quoted packet's source is not related.
        Assert.Equal(CtState.Invalid, table.Pass(Error(C, IpAddr.Parse("10.99.3.3"), Tcp(A, C, 40000, 80, "S")), Sec(5)).State);
    }

    [Fact]
    public void Ipv6TcpAndIcmpv6()
    {
        var table = NewTable();
        Assert.Equal(CtState.New, table.Pass(Tcp(A6, C6, 40000, 443, "S"), Sec(1)).State);
        Assert.Equal(CtState.Established, table.Pass(Tcp(C6, A6, 443, 40000, "SA"), Sec(2)).State);
        var est = table.Pass(Tcp(A6, C6, 40000, 443, "A"), Sec(3));
        Assert.True(est.Entry!.Assured);
        Assert.Equal(TcpCtState.Established, est.Entry.TcpState);

        var ping = table.Pass(Echo(A6, C6, 128, 5), Sec(4));
        Assert.Equal(CtState.New, ping.State);
        Assert.Equal(ConntrackTuple.Icmp(C6, A6, IpProtocol.Icmpv6, 129, 0, 5), ping.Entry!.Reply);
        Assert.Equal(CtState.Established, table.Pass(Echo(C6, A6, 129, 5), Sec(5)).State);
        Assert.Equal(CtState.Invalid, table.Pass(Echo(C6, A6, 129, 6), Sec(5)).State);
        Assert.StartsWith("icmpv6   58 29 src=2001:db8:1::1 dst=2001:db8:2::1 type=128 code=0 id=5 src=2001:db8:2::1 dst=2001:db8:1::1 type=129 code=0 id=5 mark=0 use=1",
            ping.Entry.ToString(Sec(5.2)));

        var udp = table.Pass(Udp(A6, C6, 5353, 53), Sec(6)).Entry;
        var err = table.Pass(Error(C6, A6, Udp(A6, C6, 5353, 53)), Sec(7));
        Assert.Equal(CtState.Related, err.State);
        Assert.Same(udp, err.Entry);

        var ns = FrameBuilder.Ipv6(A6, FrameBuilder.SolicitedNode(C6), IpProtocol.Icmpv6,
            FrameBuilder.NeighborSolicitation(A6, FrameBuilder.SolicitedNode(C6), C6, new MacAddress(0x020000000001UL)), hopLimit: 255);
        Assert.Equal(CtState.Untracked, table.Pass(ns, Sec(8)).State);
    }

    [Fact]
    public void ZonesSeparateFlows()
    {
        var table = NewTable();
        var z1 = table.Pass(Udp(A, C, 5000, 53), Sec(1), zone: 1).Entry;
        var z2 = table.Pass(Udp(A, C, 5000, 53), Sec(1), zone: 2);
        Assert.Equal(CtState.New, z2.State);
        Assert.NotSame(z1, z2.Entry);
        Assert.Equal(2, table.Entries.Count);
        Assert.Equal(CtState.Established, table.Pass(Udp(C, A, 53, 5000), Sec(2), zone: 1).State);
        Assert.True(z1!.SeenReply);
        Assert.False(z2.Entry!.SeenReply);
        Assert.Equal(CtState.New, table.Pass(Udp(C, A, 53, 5000), Sec(2), zone: 3).State);
    }

    [Fact]
    public void NatChangesTheReplyTupleBeforeConfirm()
    {
        var table = NewTable();
        var pub = IpAddr.Parse("192.0.2.1");
        var r = table.In(Udp(A, C, 5000, 53), false, Sec(1));
        var e = r.Entry!;
        e.Reply = new ConntrackTuple(C, pub, IpProtocol.Udp, 53, 61000); // SNAT to 192.0.2.1:61000
        e.SourceNat = true;
        Assert.True(table.Confirm(e));
        Assert.Throws<InvalidOperationException>(() => e.Reply = e.Original);
        var back = table.Pass(Udp(C, pub, 53, 61000), Sec(2));
        Assert.Equal(CtState.Established, back.State);
        Assert.Same(e, back.Entry);
        Assert.Equal(CtDirection.Reply, back.Direction);
        Assert.Equal("SEEN_REPLY|CONFIRMED|SRC_NAT", e.Status);
        // The un-NATed reply tuple is no longer part of the connection.
        Assert.Equal(CtState.New, table.Pass(Udp(C, A, 53, 5000), Sec(3)).State);
    }

    public static TheoryData<string, byte[], bool, CtState> Oddities => new()
    {
        { "non-first IPv4 fragment", FrameBuilder.Ipv4(A, C, IpProtocol.Udp, new byte[16], fragmentField: 10), false, CtState.Invalid },
        { "truncated TCP header", FrameBuilder.Ipv4(A, C, IpProtocol.Tcp, new byte[10]), false, CtState.Invalid },
        { "truncated UDP header", FrameBuilder.Ipv4(A, C, IpProtocol.Udp, new byte[4]), false, CtState.Invalid },
        { "stray ICMP echo reply", Echo(A, C, 0, 3), false, CtState.Invalid },
        { "ICMP router advertisement cannot be tracked", FrameBuilder.Ipv4(A, C, IpProtocol.Icmp, new byte[] { 9, 0, 0, 0, 0, 0, 0, 0 }), false, CtState.Invalid },
        { "ICMP timestamp request", FrameBuilder.Ipv4(A, C, IpProtocol.Icmp, new byte[] { 13, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }), false, CtState.New },
        { "generic protocol (GRE)", FrameBuilder.Ipv4(A, C, IpProtocol.Gre, new byte[8]), false, CtState.New },
        { "SCTP without a chunk (do_basic_checks)", FrameBuilder.Ipv4(A, C, IpProtocol.Sctp, new byte[12]), false, CtState.Invalid },
        { "too short for IPv4", new byte[12], false, CtState.Invalid },
        { "IPv6 UDP", Udp(A6, C6, 1, 2), true, CtState.New },
    };

    [Theory]
    [MemberData(nameof(Oddities))]
    public void OddPackets(string name, byte[] packet, bool ipv6, CtState expected)
    {
        var r = NewTable().In(packet, ipv6, Sec(1));
        Assert.True(expected == r.State, $"{name}: {r.State} ({r.Detail})");
        Assert.False(string.IsNullOrEmpty(r.Detail));
    }

    [Fact]
    public void RandomBytesNeverThrow()
    {
        // Mostly plausible IP headers (version, IHL, a tracked protocol) over random bytes, both families.
        var rng = new Random(4);
        var table = NewTable();
        byte[] protos = [IpProtocol.Icmp, IpProtocol.Tcp, IpProtocol.Udp, IpProtocol.Icmpv6, IpProtocol.Sctp, IpProtocol.Fragment, 47];
        for (int i = 0; i < 20000; i++)
        {
            bool v6 = i % 2 == 1;
            var b = new byte[rng.Next(0, 140)];
            rng.NextBytes(b);
            if (b.Length > 40 && i % 3 != 0)
            {
                b[0] = v6 ? (byte)0x60 : (byte)0x45;
                if (v6) b[6] = protos[rng.Next(protos.Length)]; else { b[9] = protos[rng.Next(protos.Length)]; b[6] &= 0x40; }
            }
            var r = table.In(b, v6, Sec(i * 0.01));
            if (r.Entry is { Confirmed: false } e) table.Confirm(e);
            Assert.NotNull(r.Detail);
        }
    }
}
