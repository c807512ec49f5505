using PktFlow.Netfilter;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Testing;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Synproxy;

/// <summary>
/// nf_synproxy_core's pieces: the MSS table a cookie encodes, the options it reads and writes (the kernel's
/// SYN-ACK of the recorded scenario byte for byte), and the timestamp offset on later packets.
/// </summary>
public class NfSynproxyTests
{
    [Theory]
    [InlineData(1460, false, 3)]
    [InlineData(1459, false, 2)]
    [InlineData(1300, false, 1)]
    [InlineData(0, false, 0)]
    [InlineData(9000, true, 3)]
    [InlineData(1440, true, 2)]
    [InlineData(1419, true, 0)]
    public void TheCookieEncodesTheLargestTableMssNotAboveTheClients(int mss, bool v6, int index)
    {
        Assert.Equal(index, NfSynproxy.MssIndex((ushort)mss, v6));
        Assert.True(NfSynproxy.MssOf(index, v6) <= Math.Max(mss, NfSynproxy.MssOf(0, v6)));
    }

    [Fact]
    public void Options_AreWrittenInTheKernelsOrder()
    {
        // the kernel's SYN-ACK (scenario synproxy frame 4): mss 1460, sackOK folded into the timestamp's NOPs, wscale 7
        var o = new SynproxyOpts { Options = SynproxyOptions.Mss | SynproxyOptions.SackPerm | SynproxyOptions.Timestamp | SynproxyOptions.Wscale, MssOption = 1460, TsVal = 22825946, TsEcr = 1181894022, Wscale = 7 };
        Assert.Equal(Convert.FromHexString("020405B4" + "0402080A" + "015C4BDA" + "46724586" + "01030307"), NfSynproxy.BuildOptions(o));
        // without timestamps SACK-permitted takes two NOPs of its own
        Assert.Equal(Convert.FromHexString("01010402"), NfSynproxy.BuildOptions(new SynproxyOpts { Options = SynproxyOptions.SackPerm }));
        Assert.True(NfSynproxy.ParseOptions(Tcp(0x12, NfSynproxy.BuildOptions(o)), out var back));
        Assert.Equal((o.Options, o.MssOption, o.TsVal, o.TsEcr, o.Wscale), (back.Options, back.MssOption, back.TsVal, back.TsEcr, back.Wscale));
        // synproxy_parse_options reads MSS, window scale and SACK-permitted on any segment
        Assert.True(NfSynproxy.ParseOptions(Tcp(0x10, NfSynproxy.BuildOptions(o)), out var ack));
        Assert.Equal(o.Options, ack.Options);
    }

    [Fact]
    public void ParseOptions_FailsOnlyWhenTheHeaderCannotBeRead()
    {
        // an option running past the header, or shorter than 2: the walk ends with what it read (true)
        Assert.True(NfSynproxy.ParseOptions(Tcp(0x02, new byte[] { 2, 4, 5, 0xb4, 2, 8, 5, 0xb4 }), out var past));
        Assert.Equal((SynproxyOptions.Mss, (ushort)1460), (past.Options, past.MssOption));
        Assert.True(NfSynproxy.ParseOptions(Tcp(0x02, new byte[] { 3, 1, 0, 0 }), out var tiny));
        Assert.Equal(SynproxyOptions.None, tiny.Options);
        // a window scale over 14 is taken as 14 (TCP_MAX_WSCALE)
        Assert.True(NfSynproxy.ParseOptions(Tcp(0x02, new byte[] { 3, 3, 20, 0 }), out var ws));
        Assert.Equal(14, ws.Wscale);
        // a data offset under 5, or a header longer than the packet: false (the caller drops)
        var shortOff = Tcp(0x10, Array.Empty<byte>());
        shortOff[12] = 0x40;
        Assert.False(NfSynproxy.ParseOptions(shortOff, out _));
        var longOff = Tcp(0x10, Array.Empty<byte>());
        longOff[12] = 0x60;
        Assert.False(NfSynproxy.ParseOptions(longOff, out _));
    }

    private static readonly (IpAddr, ushort, IpAddr, ushort) Client = (IpAddr.Parse("10.1.0.2"), 40000, IpAddr.Parse("10.1.0.1"), 80);

    private static SynproxyCookies Cookies(int mssIndex)
    {
        var c = new SynproxyCookies();
        c.Add(Client, new SynproxyCookies.Cookie { ClientIsn = 1000, MssIndex = mssIndex, SentNs = 0, Value = 5000 }, 0);
        return c;
    }

    [Theory]
    // check_tcp_syn_cookie subtracts the segment's own th->seq - 1: the index moves by ISN + 1 - th->seq
    [InlineData(2, 1001u, true, 2)] // the ACK again (or data) at ISN + 1: the cookie's own index
    [InlineData(2, 1000u, true, 3)] // a keep-alive at ISN: the next index
    [InlineData(3, 1000u, false, 3)] // ... past msstab: invalid
    [InlineData(2, 1002u, true, 1)]
    [InlineData(0, 1002u, false, 0)]
    public void TheCookieIsCheckedOnTheSegmentsOwnSequenceNumber(int mssIndex, uint seq, bool valid, int index)
    {
        var r = NfSynproxy.CookieCheck(Cookies(mssIndex), Client, seq, 5001, 1_000_000_000, v6: false);
        Assert.Equal(valid, r.Valid);
        if (valid) Assert.Equal(index, r.MssIndex);
        else Assert.Contains("past msstab", r.Why());
        Assert.False(NfSynproxy.CookieCheck(Cookies(mssIndex), Client, seq, 5002, 1_000_000_000, v6: false).Valid);
    }

    [Fact]
    public void CookiesOlderThanTwoMinutesAreForgottenOldestFirst()
    {
        var c = new SynproxyCookies();
        for (ushort i = 0; i < 10; i++)
            c.Add((IpAddr.Parse("10.1.0.2"), (ushort)(40000 + i), IpAddr.Parse("10.1.0.1"), 80), new SynproxyCookies.Cookie { SentNs = i * 1_000_000_000L }, i * 1_000_000_000L);
        // a SYN of tuple 0 again at 100 s: its new cookie stays when the first one expires
        c.Add(Client with { Item2 = 40000 }, new SynproxyCookies.Cookie { SentNs = 100_000_000_000L }, 100_000_000_000L);
        Assert.Equal(10, c.Count);
        c.Add(Client with { Item2 = 50000 }, new SynproxyCookies.Cookie { SentNs = 125_000_000_000L }, 125_000_000_000L);
        // sent at 0-5 s: two minutes old at 125 s; the replaced tuple's new cookie and 6-9 s stay
        Assert.Equal(6, c.Count);
        Assert.NotNull(c.Get(Client with { Item2 = 40000 }));
        Assert.Null(c.Get(Client with { Item2 = 40001 }));
    }

    [Theory]
    // tcp_cookie_time's minute counter has an unknown phase: under 60 s good, 60-120 s unknown (said so), 120 s stale
    [InlineData(59, true, false)]
    [InlineData(60, true, true)]
    [InlineData(119, true, true)]
    [InlineData(120, false, false)]
    public void TheCookiesAgeBetweenOneAndTwoMinutesIsUnknown(int seconds, bool valid, bool unknown)
    {
        var r = NfSynproxy.CookieCheck(Cookies(1), Client, 1001, 5001, seconds * 1_000_000_000L, v6: false);
        Assert.Equal((valid, unknown), (r.Valid, r.AgeUnknown));
        Assert.Equal(unknown, r.Why().Contains("unknown"));
    }

    [Fact]
    public void TheTimestampOffsetMovesARepliesValueAndAnOriginalsEcho()
    {
        // scenario synproxy: tsoff = the server's 4199044425 - the SYN-ACK's 22825946; frames 16/17 and 18/19
        var sp = new ConntrackSynproxy { Tsoff = 4199044425u - 22825946u };
        var reply = Ipv4Tcp(Tcp(0x10, new byte[] { 1, 1, 8, 10, 0xFA, 0x48, 0x55, 0x4E, 0x46, 0x72, 0x45, 0x8C }));
        Assert.NotNull(NfSynproxy.TstampAdjust(reply, false, CtDirection.Reply, sp));
        Assert.Equal(22825951u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(20 + 24)));
        var original = Ipv4Tcp(Tcp(0x10, new byte[] { 1, 1, 8, 10, 0x46, 0x72, 0x45, 0x8C, 0x01, 0x5C, 0x4B, 0xDF }));
        NfSynproxy.TstampAdjust(original, false, CtDirection.Original, sp);
        Assert.Equal(4199044430u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(original.AsSpan(20 + 28)));
        Assert.Null(NfSynproxy.TstampAdjust(original, false, CtDirection.Original, new ConntrackSynproxy()));
    }

    private static byte[] Tcp(byte flags, byte[] options)
    {
        var t = new byte[20 + options.Length];
        t[12] = (byte)((20 + options.Length) / 4 << 4);
        t[13] = flags;
        options.CopyTo(t, 20);
        return t;
    }

    private static byte[] Ipv4Tcp(byte[] tcp) => FrameBuilder.Ipv4(IpAddr.Parse("10.2.0.2"), IpAddr.Parse("192.168.10.2"), IpProtocol.Tcp, tcp);
}

/// <summary>How a capture's frame finds the synproxy SYN-ACK the model built without its sequence number.</summary>
public class SynproxyChildKeyTests
{
    [Fact]
    public void TheKeyWithoutSequenceNumberIsKeptApartFromAnySynAcksNormalKey()
    {
        var a = IpAddr.Parse("10.1.0.1"); var b = IpAddr.Parse("10.1.0.2");
        // a built SYN-ACK whose sequence number is 0 (a local listener's, as LocalListenerAnswer writes it)
        var synack = FrameBuilder.Ipv4(a, b, IpProtocol.Tcp, FrameBuilder.Tcp(a, b, 80, 40000, flags: 0x12, seq: 0));
        var normal = PktFlow.Datapath.ChildTraces.Key(EtherTypes.Ipv4, synack);
        var unseq = PktFlow.Datapath.ChildTraces.Key(EtherTypes.Ipv4, synack, withoutSeq: true);
        Assert.NotNull(unseq);
        Assert.NotEqual(normal, unseq);
        // the cookie SYN-ACK the capture shows meets the seq-unknown key whatever its sequence number
        var cookie = FrameBuilder.Ipv4(a, b, IpProtocol.Tcp, FrameBuilder.Tcp(a, b, 80, 40000, flags: 0x12, seq: 123456789));
        Assert.Equal(unseq, PktFlow.Datapath.ChildTraces.Key(EtherTypes.Ipv4, cookie, withoutSeq: true));
        Assert.Null(PktFlow.Datapath.ChildTraces.Key(EtherTypes.Ipv4, FrameBuilder.Ipv4(a, b, IpProtocol.Tcp, FrameBuilder.Tcp(a, b, 80, 40000, flags: 0x10)), withoutSeq: true));
    }
}
