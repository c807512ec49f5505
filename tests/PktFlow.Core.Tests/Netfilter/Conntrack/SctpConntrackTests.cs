using System.Buffers.Binary;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Testing;
using PktFlow.Wire;
using Xunit;
using static PktFlow.Tests.Netfilter.Conntrack.CtPackets;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>nf_conntrack_proto_sctp as 6.18 has it: states, verification tags, timeouts, CRC32c.</summary>
public class SctpConntrackTests
{
    private const uint TagA = 0x0a0a0a0a, TagB = 0x0b0b0b0b;

    /// <summary>An SCTP packet (IPv4) with the given chunks and a correct CRC32c unless <paramref name="crc"/> is given.</summary>
    internal static byte[] Sctp(IpAddr s, IpAddr d, ushort sp, ushort dp, uint vtag, uint? crc = null, params byte[][] chunks)
    {
        var body = new byte[SctpHeader.HeaderLength + chunks.Sum(c => (c.Length + 3) & ~3)];
        BinaryPrimitives.WriteUInt16BigEndian(body, sp);
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(2), dp);
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(4), vtag);
        int at = SctpHeader.HeaderLength;
        foreach (var c in chunks) { c.CopyTo(body, at); at += (c.Length + 3) & ~3; }
        SctpHeader.WriteChecksum(body);
        if (crc is { } bad) BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(8), bad);
        return FrameBuilder.Ipv4(s, d, IpProtocol.Sctp, body);
    }

    /// <summary>A chunk with its header; INIT and INIT_ACK carry <paramref name="initTag"/> first.</summary>
    internal static byte[] Chunk(byte type, uint? initTag = null, byte flags = 0, int valueLength = 0, ushort? length = null)
    {
        int valueLen = initTag is null ? valueLength : 16;
        var c = new byte[4 + valueLen];
        c[0] = type; c[1] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(c.AsSpan(2), length ?? (ushort)c.Length);
        if (initTag is { } tag)
        {
            BinaryPrimitives.WriteUInt32BigEndian(c.AsSpan(4), tag);
            BinaryPrimitives.WriteUInt32BigEndian(c.AsSpan(8), 65535); // a_rwnd
            c[13] = 1; c[15] = 1; // one stream each way
            c[19] = 1; // initial TSN
        }
        return c;
    }

    private static byte[] Orig(uint vtag, params byte[][] chunks) => Sctp(A, C, 5000, 3868, vtag, null, chunks);
    private static byte[] Repl(uint vtag, params byte[][] chunks) => Sctp(C, A, 3868, 5000, vtag, null, chunks);

    private static CtLookup In(ConntrackTable t, byte[] p, double at) => t.Pass(p, Sec(at));

    private static ConntrackTable Associated(out ConntrackEntry e)
    {
        var t = new ConntrackTable();
        In(t, Orig(0, Chunk(SctpChunkType.Init, TagA)), 0);
        In(t, Repl(TagA, Chunk(SctpChunkType.InitAck, TagB)), 0.1);
        In(t, Orig(TagB, Chunk(SctpChunkType.CookieEcho, valueLength: 8)), 0.2);
        e = In(t, Repl(TagA, Chunk(SctpChunkType.CookieAck)), 0.3).Entry!;
        return t;
    }

    [Fact]
    public void Handshake_data_and_shutdown_walk_the_kernels_states_and_timeouts()
    {
        var t = new ConntrackTable();
        var init = In(t, Orig(0, Chunk(SctpChunkType.Init, TagA)), 0);
        Assert.Equal(CtState.New, init.State);
        var e = init.Entry!;
        Assert.Equal(SctpCtState.Closed, e.SctpState);
        Assert.Equal(10, e.SecondsLeft(0));
        Assert.Contains("CLOSED", e.ToString(0));
        Assert.Contains("sport=5000 dport=3868", e.ToString(0));

        var initAck = In(t, Repl(TagA, Chunk(SctpChunkType.InitAck, TagB)), 1);
        Assert.Equal((CtState.Established, CtDirection.Reply, SctpCtState.CookieWait), (initAck.State, initAck.Direction, e.SctpState));
        Assert.Equal(3, e.SecondsLeft(Sec(1)));
        In(t, Orig(TagB, Chunk(SctpChunkType.CookieEcho, valueLength: 8)), 2);
        Assert.Equal(SctpCtState.CookieEchoed, e.SctpState);
        Assert.False(e.Assured);
        var ack = In(t, Repl(TagA, Chunk(SctpChunkType.CookieAck)), 3);
        Assert.Equal(SctpCtState.Established, e.SctpState);
        Assert.True(e.Assured);
        Assert.Contains("ASSURED", ack.Detail);
        Assert.Equal(210, e.SecondsLeft(Sec(3)));

        Assert.Equal(CtState.Established, In(t, Orig(TagB, Chunk(SctpChunkType.Data, valueLength: 16)), 4).State);
        Assert.Equal(CtState.Established, In(t, Repl(TagA, Chunk(SctpChunkType.Sack, valueLength: 12)), 5).State);
        Assert.Equal(SctpCtState.Established, e.SctpState);

        In(t, Orig(TagB, Chunk(SctpChunkType.Shutdown, valueLength: 4)), 6);
        Assert.Equal(SctpCtState.ShutdownSent, e.SctpState);
        In(t, Repl(TagA, Chunk(SctpChunkType.ShutdownAck)), 7);
        Assert.Equal(SctpCtState.ShutdownAckSent, e.SctpState);
        Assert.Equal(3, e.SecondsLeft(Sec(7)));
        In(t, Orig(TagB, Chunk(SctpChunkType.ShutdownComplete)), 8);
        Assert.Equal(SctpCtState.Closed, e.SctpState);
        Assert.Equal(10, e.SecondsLeft(Sec(8)));
    }

    [Fact]
    public void A_state_whose_timeout_ran_out_is_gone()
    {
        var t = new ConntrackTable();
        In(t, Orig(0, Chunk(SctpChunkType.Init, TagA)), 0);
        In(t, Repl(TagA, Chunk(SctpChunkType.InitAck, TagB)), 1);
        // COOKIE_WAIT lasts 3 s: the COOKIE_ECHO 3.5 s later finds nothing; as a new entry's first
        // chunk it would do (CLOSED), but no INIT_ACK announced its tag
        var late = In(t, Orig(TagB, Chunk(SctpChunkType.CookieEcho, valueLength: 8)), 4.5);
        Assert.Equal(CtState.Invalid, late.State);
        Assert.Contains("COOKIE_ECHO with verification tag 0x0b0b0b0b, the INIT_ACK announced 0x00000000", late.Detail);
        Assert.Empty(t.Entries);
    }

    public static TheoryData<string, Func<ConntrackTable, CtLookup>, string> Refused => new()
    {
        { "wrong verification tag", t => In(t, Orig(0xdeadbeef, Chunk(SctpChunkType.Data, valueLength: 16)), 1), "verification tag 0xdeadbeef" },
        { "the other side's tag", t => In(t, Repl(TagB, Chunk(SctpChunkType.Data, valueLength: 16)), 1), "the reply direction's is 0x0a0a0a0a" },
        { "INIT with a tag", t => In(t, Sctp(A, C, 5009, 3868, 7, null, Chunk(SctpChunkType.Init, TagA)), 1), "must be 0" },
        { "lone COOKIE_ACK", t => In(t, Sctp(A, C, 5009, 3868, 7, null, Chunk(SctpChunkType.CookieAck)), 1), "COOKIE_ACK out of the blue" },
        { "lone ABORT", t => In(t, Sctp(A, C, 5009, 3868, 7, null, Chunk(SctpChunkType.Abort)), 1), "ABORT out of the blue" },
        { "DATA without an association", t => In(t, Sctp(A, C, 5009, 3868, 7, null, Chunk(SctpChunkType.Data, valueLength: 16)), 1), "DATA cannot open" },
        { "COOKIE_ECHO after DATA", t => In(t, Orig(TagB, Chunk(SctpChunkType.Data, valueLength: 16), Chunk(SctpChunkType.CookieEcho, valueLength: 8)), 1), "bundled" },
        { "INIT with a chunk after it", t => In(t, Sctp(A, C, 5009, 3868, 0, null, Chunk(SctpChunkType.Init, TagA), Chunk(SctpChunkType.Data, valueLength: 16)), 1), "bundled" },
        { "chunk length 0", t => In(t, Orig(TagB, Chunk(SctpChunkType.Data, valueLength: 16, length: 0)), 1), "length 0" },
        { "no chunk", t => In(t, Orig(TagB), 1), "no chunk" },
        { "bad CRC32c", t => t.In(Sctp(A, C, 5000, 3868, TagB, 0x12345678, Chunk(SctpChunkType.Data, valueLength: 16)), false, Sec(1), preRouting: true), "bad CRC32c 0x12345678" },
        { "SHUTDOWN_COMPLETE with the T bit but its own tag", t => In(t, Orig(TagB, Chunk(SctpChunkType.ShutdownComplete, flags: 1)), 1), "(T bit)" },
        { "too short", t => t.In(FrameBuilder.Ipv4(A, C, IpProtocol.Sctp, new byte[8]), false, Sec(1)), "too short" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Chunks_the_state_machine_refuses_are_invalid_and_change_nothing(string _, Func<ConntrackTable, CtLookup> send, string why)
    {
        var t = Associated(out var e);
        long expires = e.ExpiresNs;
        var r = send(t);
        Assert.Equal(CtState.Invalid, r.State);
        Assert.Null(r.Entry);
        Assert.Contains(why, r.Detail);
        Assert.Equal(SctpCtState.Established, e.SctpState);
        Assert.Equal(expires, e.ExpiresNs);
        Assert.Single(t.Entries);
    }

    [Fact]
    public void A_bad_crc_is_only_checked_on_the_way_in_and_when_nf_conntrack_checksum_is_on()
    {
        var bad = Sctp(A, C, 5000, 3868, 0, 0x12345678, Chunk(SctpChunkType.Init, TagA));
        Assert.Equal(CtState.New, new ConntrackTable().In(bad, false, 0, preRouting: false).State);
        Assert.Equal(CtState.New, new ConntrackTable(new ConntrackSettings { Checksum = false }).In(bad, false, 0, preRouting: true).State);
        Assert.Equal(CtState.Invalid, new ConntrackTable().In(bad, false, 0, preRouting: true).State);
    }

    [Fact]
    public void A_heartbeat_opens_a_flow_its_heartbeat_ack_establishes()
    {
        var t = new ConntrackTable();
        var hb = In(t, Orig(0x0c0c0c0c, Chunk(SctpChunkType.Heartbeat)), 0);
        Assert.Equal(CtState.New, hb.State);
        Assert.Equal(SctpCtState.HeartbeatSent, hb.Entry!.SctpState);
        Assert.Equal(30, hb.Entry.SecondsLeft(0));
        In(t, Repl(0x0f0f0f0f, Chunk(SctpChunkType.HeartbeatAck)), 1);
        Assert.Equal(SctpCtState.Established, hb.Entry.SctpState);
        Assert.True(hb.Entry.Assured);
        // from now on the reply direction's tag is the one its HEARTBEAT_ACK carried
        Assert.Equal(CtState.Invalid, In(t, Repl(0x01010101, Chunk(SctpChunkType.Data, valueLength: 16)), 2).State);
        Assert.Equal(CtState.Established, In(t, Repl(0x0f0f0f0f, Chunk(SctpChunkType.Data, valueLength: 16)), 2).State);
    }

    [Fact]
    public void An_init_retransmitted_in_closed_does_not_refresh_the_entry()
    {
        var t = new ConntrackTable();
        var e = In(t, Orig(0, Chunk(SctpChunkType.Init, TagA)), 0).Entry!;
        var again = In(t, Orig(0, Chunk(SctpChunkType.Init, TagA)), 5);
        Assert.Equal(CtState.New, again.State);
        Assert.Contains("not refreshed", again.Detail);
        Assert.Equal(Sec(10), e.ExpiresNs);
    }

    [Fact]
    public void Timeouts_come_from_the_namespaces_sysctls()
    {
        var s = ConntrackSysctls.From(new PktFlow.Topology.Sysctls(new()
        {
            ["net.netfilter.nf_conntrack_sctp_timeout_cookie_wait"] = "20",
            ["net.netfilter.nf_conntrack_checksum"] = "0",
        }));
        Assert.Equal(20, s.SctpTimeout(SctpCtState.CookieWait));
        Assert.Equal(210, s.SctpTimeout(SctpCtState.Established));
        Assert.False(s.Checksum);
        Assert.Throws<FormatException>(() => ConntrackSysctls.From(new PktFlow.Topology.Sysctls(new() { ["net.netfilter.nf_conntrack_udp_timeout"] = "soon" })));
    }

    [Fact]
    public void Dccp_has_no_tracker_of_its_own_in_6_18()
    {
        var dccp = FrameBuilder.Ipv4(A, C, ConntrackProtocols.Dccp, [0x1b, 0x58, 0x1b, 0x59, 4, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
        var r = new ConntrackTable().Pass(dccp, 0);
        Assert.Equal(new ConntrackTuple(A, C, ConntrackProtocols.Dccp, 0, 0), r.Entry!.Original);
        Assert.Equal(600, r.Entry.SecondsLeft(0));
        Assert.StartsWith("dccp     33 600 src=10.99.1.1 dst=10.99.2.1 sport=0 dport=0 [UNREPLIED]", r.Entry.ToString(0));
    }
}
