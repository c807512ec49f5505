using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Wire;

namespace PktFlow.Netfilter;

/// <summary>NF_SYNPROXY_OPT_* (include/uapi/linux/netfilter/nf_synproxy.h).</summary>
[Flags]
public enum SynproxyOptions : byte { None = 0, Mss = 1, Wscale = 2, SackPerm = 4, Timestamp = 8, Ecn = 16 }

/// <summary>struct nf_synproxy_info: what a synproxy statement, object or SYNPROXY target offers clients.</summary>
public sealed record SynproxyInfo(SynproxyOptions Options, ushort Mss, byte Wscale)
{
    /// <summary>xt's SYNPROXY target (synproxy_tg4 / synproxy_tg6), not nft's synproxy: the IPv6 checksum check differs.</summary>
    public bool Xt { get; init; }

    // equal by the offer alone, as nft lists it: the same options from the target and the statement compare equal
    public bool Equals(SynproxyInfo? other) => other is not null && (Options, Mss, Wscale) == (other.Options, other.Mss, other.Wscale);
    public override int GetHashCode() => HashCode.Combine(Options, Mss, Wscale);

    /// <summary>As nft lists it: <c>mss 1460 wscale 7 timestamp sack-perm</c>.</summary>
    public override string ToString() => string.Join(' ', new[]
    {
        (Options & SynproxyOptions.Mss) != 0 ? $"mss {Mss}" : null,
        (Options & SynproxyOptions.Wscale) != 0 ? $"wscale {Wscale}" : null,
        (Options & SynproxyOptions.Timestamp) != 0 ? "timestamp" : null,
        (Options & SynproxyOptions.SackPerm) != 0 ? "sack-perm" : null,
    }.Where(w => w is not null));
}

/// <summary>struct synproxy_options: the TCP options of one segment, as synproxy reads and writes them.</summary>
internal struct SynproxyOpts
{
    public SynproxyOptions Options;
    public ushort MssOption, MssEncode;
    public byte Wscale;
    public uint TsVal, TsEcr;
}

/// <summary>
/// The syncookies a namespace's synproxy handed out (per client tuple). The cookie's hash takes a secret
/// the kernel draws at boot (syncookie_secret), so the model cannot compute it: the SYN-ACK the capture
/// shows gives it (<see cref="NfSynproxy.Learn"/>), and an ACK is valid when it acknowledges that SYN-ACK
/// from the client's first sequence number within the cookie's two minutes.
/// </summary>
internal sealed class SynproxyCookies
{
    internal sealed class Cookie
    {
        public uint ClientIsn;
        public int MssIndex;
        public long SentNs;
        /// <summary>The cookie (the SYN-ACK's sequence number) once the capture showed it.</summary>
        public uint? Value;
    }

    private readonly Dictionary<(IpAddr, ushort, IpAddr, ushort), Cookie> _cookies = new();
    /// <summary>The cookies in the order they were sent: the oldest are the first to expire.</summary>
    private readonly Queue<((IpAddr, ushort, IpAddr, ushort) Client, Cookie Cookie)> _bySendTime = new();

    internal int Count => _cookies.Count;

    public void Add((IpAddr, ushort, IpAddr, ushort) client, Cookie c, long nowNs)
    {
        // a cookie is good for MAX_SYNCOOKIE_AGE minutes at most: those sent longer ago are forgotten, from
        // the oldest on (amortised O(1) a SYN, so a SYN flood's table holds two minutes of SYNs at most)
        while (_bySendTime.TryPeek(out var oldest) && nowNs - oldest.Cookie.SentNs >= NfSynproxy.CookieLifetimeNs)
        {
            _bySendTime.Dequeue();
            // a later SYN of the same tuple replaced it: that one stays
            if (_cookies.TryGetValue(oldest.Client, out var kept) && ReferenceEquals(kept, oldest.Cookie)) _cookies.Remove(oldest.Client);
        }
        _cookies[client] = c;
        _bySendTime.Enqueue((client, c));
    }

    public Cookie? Get((IpAddr, ushort, IpAddr, ushort) client) => _cookies.GetValueOrDefault(client);
}

internal enum CookieFault { None, NotTcp, NoSynAck, NotCaptured, WrongCookie, MssIndex, TooOld }

/// <summary>What <see cref="NfSynproxy.CookieCheck(SkBuff)"/> found; the text is built only when a trace shows it.</summary>
internal sealed record CookieResult(CookieFault Fault)
{
    public (IpAddr Src, ushort Sport, IpAddr Dst, ushort Dport) Client { get; init; }
    public SynproxyCookies.Cookie? Cookie { get; init; }
    public uint Acked { get; init; }
    public uint Seq { get; init; }
    /// <summary>The msstab index check_tcp_syn_cookie finds (valid ones only).</summary>
    public int MssIndex { get; init; }
    public long RawIndex { get; init; }
    public long AgeNs { get; init; }
    public bool V6 { get; init; }
    public bool Valid => Fault == CookieFault.None;

    /// <summary>
    /// tcp_cookie_time counts minutes from a phase the model does not know: a cookie under 60 s old is
    /// certainly good, one of 120 s or more certainly stale, one in between either.
    /// </summary>
    public bool AgeUnknown => Valid && AgeNs >= NfSynproxy.CookieLifetimeNs / 2;

    public string Why()
    {
        var (src, sport, dst, dport) = Client;
        return Fault switch
        {
            CookieFault.NotTcp => "not a TCP segment",
            CookieFault.NoSynAck => $"no SYN-ACK was sent to {src}:{sport} for {dst}:{dport}",
            CookieFault.NotCaptured => "the cookie SYN-ACK this ACK would answer was not in the capture (its sequence number is the cookie)",
            CookieFault.WrongCookie => $"it acknowledges {Acked + 1}, the cookie SYN-ACK's sequence number was {Cookie!.Value}",
            CookieFault.MssIndex => $"its sequence number {Seq} shifts the cookie's MSS index {Cookie!.MssIndex} to {RawIndex}, past msstab (check_tcp_syn_cookie subtracts th->seq - 1, the SYN's was {Cookie.ClientIsn})",
            CookieFault.TooOld => "the cookie is two minutes old or more (MAX_SYNCOOKIE_AGE ticks of tcp_cookie_time)",
            _ => $"it acknowledges the cookie {Cookie!.Value} of {src}:{sport}'s SYN (MSS index {MssIndex}: {NfSynproxy.MssOf(MssIndex, V6)}"
                + (MssIndex != Cookie.MssIndex ? $", shifted from the cookie's {Cookie.MssIndex} by its sequence number {Seq} (the SYN's was {Cookie.ClientIsn})" : "") + ")"
                + (AgeUnknown ? $"; unknown: the cookie is {AgeNs / 1_000_000_000} s old, and whether tcp_cookie_time's minute counter has moved on twice since depends on the host's clock phase (taken as valid)" : ""),
        };
    }
}

/// <summary>
/// SYNPROXY (net/netfilter/nf_synproxy_core.c, nft_synproxy.c, ipt_SYNPROXY / ip6t_SYNPROXY): the host
/// answers a client's SYN itself with a syncookie SYN-ACK, and only once the client's ACK returns a valid
/// cookie opens the connection to the server with a SYN of its own (with the options the cookie and the
/// timestamp kept), acknowledges the server's SYN-ACK and sends the client a window update; the server's
/// sequence numbers (and timestamps) are then moved into the cookie's on every later packet.
/// </summary>
public static class NfSynproxy
{
    /// <summary>MAX_SYNCOOKIE_AGE (2) counter ticks of tcp_cookie_time (a minute each): a cookie older than two minutes is refused.</summary>
    internal const long CookieLifetimeNs = 120_000_000_000L;

    // msstab (net/ipv4/syncookies.c) and msstab (net/ipv6/syncookies.c): the MSS values a cookie's 2 bits encode
    private static readonly ushort[] MssTab4 = { 536, 1300, 1440, 1460 };
    private static readonly ushort[] MssTab6 = { 1280 - 60, 1480 - 60, 1500 - 60, 9000 - 60 };

    /// <summary>The MSS table index __cookie_v4_init_sequence / __cookie_v6_init_sequence encode: the largest entry not above the client's MSS.</summary>
    internal static int MssIndex(ushort mss, bool v6)
    {
        var tab = v6 ? MssTab6 : MssTab4;
        int i = tab.Length - 1;
        for (; i > 0; i--) if (mss >= tab[i]) break;
        return i;
    }

    internal static ushort MssOf(int index, bool v6) => (v6 ? MssTab6 : MssTab4)[index];

    /// <summary>
    /// synproxy_parse_options: MSS, window scale (at most TCP_MAX_WSCALE), SACK-permitted and timestamps on
    /// any segment. False only when the data offset is under 5 or the header runs past the packet (the
    /// caller drops it); an option shorter than 2 or running past the header ends the walk with what was read.
    /// </summary>
    [KernelSymbol("synproxy_parse_options", "net/netfilter/nf_synproxy_core.c")]
    internal static bool ParseOptions(ReadOnlySpan<byte> tcp, out SynproxyOpts opts)
    {
        opts = default;
        int end = (tcp[12] >> 4) * 4, at = 20;
        if (end < 20 || end > tcp.Length) return false;
        while (at < end)
        {
            byte kind = tcp[at];
            if (kind == TcpOptionKind.EndOfList) return true;
            if (kind == TcpOptionKind.Nop) { at++; continue; }
            if (at + 1 >= end) return true;
            int size = tcp[at + 1];
            if (size < 2 || at + size > end) return true;
            var v = tcp.Slice(at + 2, size - 2);
            if (kind == TcpOptionKind.Mss && size == 4) { opts.MssOption = BinaryPrimitives.ReadUInt16BigEndian(v); opts.Options |= SynproxyOptions.Mss; }
            else if (kind == TcpOptionKind.WindowScale && size == 3) { opts.Wscale = Math.Min(v[0], (byte)14); opts.Options |= SynproxyOptions.Wscale; }
            else if (kind == TcpOptionKind.Timestamps && size == 10)
            {
                opts.TsVal = BinaryPrimitives.ReadUInt32BigEndian(v);
                opts.TsEcr = BinaryPrimitives.ReadUInt32BigEndian(v[4..]);
                opts.Options |= SynproxyOptions.Timestamp;
            }
            else if (kind == TcpOptionKind.SackPermitted && size == 2) opts.Options |= SynproxyOptions.SackPerm;
            at += size;
        }
        return true;
    }

    /// <summary>synproxy_options_size and synproxy_build_options: MSS, then SACK-permitted folded into the timestamp's padding, then the window scale.</summary>
    [KernelSymbol("synproxy_build_options", "net/netfilter/nf_synproxy_core.c")]
    internal static byte[] BuildOptions(in SynproxyOpts o)
    {
        var b = new List<byte>(20);
        if ((o.Options & SynproxyOptions.Mss) != 0) b.AddRange(new byte[] { 2, 4, (byte)(o.MssOption >> 8), (byte)o.MssOption });
        if ((o.Options & SynproxyOptions.Timestamp) != 0)
        {
            b.AddRange((o.Options & SynproxyOptions.SackPerm) != 0 ? new byte[] { 4, 2, 8, 10 } : new byte[] { 1, 1, 8, 10 });
            var ts = new byte[8];
            BinaryPrimitives.WriteUInt32BigEndian(ts, o.TsVal);
            BinaryPrimitives.WriteUInt32BigEndian(ts.AsSpan(4), o.TsEcr);
            b.AddRange(ts);
        }
        else if ((o.Options & SynproxyOptions.SackPerm) != 0) b.AddRange(new byte[] { 1, 1, 4, 2 });
        if ((o.Options & SynproxyOptions.Wscale) != 0) b.AddRange(new byte[] { 1, 3, 3, o.Wscale });
        return b.ToArray();
    }

    /// <summary>
    /// nft_synproxy_do_eval / synproxy_tg4 for a SYN or an ACK (the statement decided the verdict: stolen,
    /// or drop for an ACK without a valid cookie). A SYN is answered (synproxy_send_client_synack); an ACK
    /// with a valid cookie opens the connection to the server (synproxy_send_server_syn).
    /// </summary>
    [KernelSymbol("nft_synproxy_do_eval", "net/netfilter/nft_synproxy.c")]
    [KernelSymbol("synproxy_tg4", "net/ipv4/netfilter/ipt_SYNPROXY.c")]
    internal static void Eval(SkBuff skb, TraceBuilder t, SynproxyInfo info, bool stolen)
    {
        bool v6 = skb.Protocol == EtherTypes.Ipv6;
        if (NfConntrackSeqadj.TcpBounds(skb.Network, v6) is not var (l4, end)) return;
        if (ChecksumCheck(skb, info.Xt) is { Bad: true } csum)
        {
            t.Stage(skb, "NfIpChecksum", v6 && info.Xt ? "nf_ip6_checksum" : "nf_ip_checksum", Verdict.Drop, $"TCP {csum.Note}: NF_DROP before synproxy looks at the segment");
            return;
        }
        var tcp = skb.Network[l4..end];
        if (tcp.Length < 20 || !ParseOptions(tcp, out var opts))
        {
            t.Stage(skb, "SynproxyParseOptions", "synproxy_parse_options", Verdict.Drop,
                $"the TCP header ({(tcp.Length < 20 ? tcp.Length : (tcp[12] >> 4) * 4)} bytes) is shorter than 20 bytes or runs past the packet's {tcp.Length}: NF_DROP");
            return;
        }
        if ((tcp[13] & 0x02) != 0)
        {
            SendClientSynack(skb, t, info, tcp, opts, v6);
            return;
        }
        if (!stolen)
        {
            t.Stage(skb, "SynproxyRecvClientAck", "synproxy_recv_client_ack", Verdict.Drop,
                $"cookie invalid: {CookieCheck(skb).Why()} (cookie hash not checkable: kernel secret)");
            return;
        }
        RecvClientAck(skb, t, tcp, opts, CookieCheck(skb), BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]), v6, "synproxy_recv_client_ack");
    }

    /// <summary>
    /// synproxy_tg4 / synproxy_tg6 / nft_synproxy: nf_ip_checksum (nf_ip6_checksum for synproxy_tg6) on the TCP
    /// segment at the rule's hook. nft_synproxy_do_eval calls nf_ip_checksum whatever the family: for IPv6 it
    /// reads the IPv6 header as an IPv4 one and fails what it must compute (measured on 6.18).
    /// </summary>
    internal static Offload.CsumCheck ChecksumCheck(SkBuff skb, bool xt)
    {
        bool v6 = skb.Protocol == EtherTypes.Ipv6;
        if (NfConntrackSeqadj.TcpBounds(skb.Network, v6) is not var (l4, end)) return Offload.CsumCheck.Good;
        if (v6 && !xt) return IpChecksumOfIpv6(skb, l4, end);
        var (src, dst) = Addresses(skb.Network, v6);
        return Offload.SkbChecksum.Validate(skb, src, dst, IpProtocol.Tcp, skb.Network[l4..end]);
    }

    /// <summary>
    /// nf_ip_checksum on an IPv6 packet (nft_synproxy_do_eval): CHECKSUM_UNNECESSARY and PARTIAL (a local
    /// stack's segment) pass untouched; otherwise ip_hdr's saddr and daddr are bytes 12-19 of the IPv6 header
    /// (the middle of its source address), and __skb_checksum_complete sums from the network header, the
    /// IPv6 header included, so even a correct TCP checksum almost never adds up. Measured on 6.18: an
    /// `inet` table's synproxy answered a socat SYN (PARTIAL) but not a scapy-sent one with a correct checksum.
    /// </summary>
    [KernelSymbol("nf_ip_checksum", "net/netfilter/utils.c")]
    private static Offload.CsumCheck IpChecksumOfIpv6(SkBuff skb, int l4, int end)
    {
        var n = skb.Network;
        // what the capture says of ip_summed (a pseudo-header-only sum: a local stack's PARTIAL segment)
        var (src, dst) = Addresses(n, true);
        var seen = Offload.SkbChecksum.Validate(skb, src, dst, IpProtocol.Tcp, n[l4..end]);
        if (skb.IpSummed is Offload.IpSummed.Unnecessary or Offload.IpSummed.Partial) return seen;
        uint saddr = BinaryPrimitives.ReadUInt32BigEndian(n[12..]), daddr = BinaryPrimitives.ReadUInt32BigEndian(n[16..]);
        ulong sum = Checksum.Sum(n[..end], Checksum.PseudoHeaderV4(saddr, daddr, IpProtocol.Tcp, end - l4));
        if (Checksum.Fold(sum) == 0xFFFF) return Offload.CsumCheck.Good;
        return new Offload.CsumCheck(true, "checksum fails nf_ip_checksum, which nft_synproxy_do_eval calls for IPv6 too: it reads the IPv6 header as an IPv4 one "
            + "(ip_hdr's saddr/daddr from the IPv6 source address) and sums the IPv6 header with the segment (CHECKSUM_NONE: computed)");
    }

    /// <summary>
    /// __cookie_v4_check / __cookie_v6_check as far as the model can follow: the ACK must acknowledge the
    /// cookie SYN-ACK the capture showed for this client tuple. check_tcp_syn_cookie takes away the hash and
    /// the packet's own sequence number less one (whatever recv_seq the caller passes on to the server's SYN),
    /// so the MSS index it finds is the cookie's shifted by (the SYN's ISN + 1 - th->seq): an ACK at ISN + 1
    /// gives the cookie's index, a keep-alive at ISN the next one, and an index past msstab fails. The hash
    /// (a per-boot secret) is not checked, nor whether the shift carried into the counter bits (1 in 2^24 per step).
    /// </summary>
    internal static CookieResult CookieCheck(SkBuff skb)
    {
        bool v6 = skb.Protocol == EtherTypes.Ipv6;
        if (NfConntrackSeqadj.TcpBounds(skb.Network, v6) is not var (l4, end) || end - l4 < 20) return new CookieResult(CookieFault.NotTcp);
        var tcp = skb.Network[l4..end];
        var (src, dst) = Addresses(skb.Network, v6);
        var client = (src, BinaryPrimitives.ReadUInt16BigEndian(tcp), dst, BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]));
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]), ackSeq = BinaryPrimitives.ReadUInt32BigEndian(tcp[8..]);
        // the statement asks (SkbNftPacket) and then sends: checked once per segment as it stands
        if (skb.SynproxyCookie is CookieResult memo && memo.Client == client && memo.Seq == seq && memo.Acked == ackSeq - 1) return memo;
        var r = CookieCheck(skb.State.Synproxy, client, seq, ackSeq, skb.TimestampNs, v6);
        skb.SynproxyCookie = r;
        return r;
    }

    /// <inheritdoc cref="CookieCheck(SkBuff)"/>
    internal static CookieResult CookieCheck(SynproxyCookies cookies, (IpAddr Src, ushort Sport, IpAddr Dst, ushort Dport) client, uint seq, uint ackSeq, long nowNs, bool v6)
    {
        uint cookie = ackSeq - 1;
        if (cookies.Get(client) is not { } c) return new CookieResult(CookieFault.NoSynAck) { Client = client, Seq = seq, Acked = cookie };
        if (c.Value is not { } value) return new CookieResult(CookieFault.NotCaptured) { Client = client, Cookie = c, Seq = seq, Acked = cookie };
        if (value != cookie) return new CookieResult(CookieFault.WrongCookie) { Client = client, Cookie = c, Seq = seq, Acked = cookie };
        // data = the cookie's MSS index + (ISN - (th->seq - 1)), modulo 2^24
        long index = c.MssIndex + (long)unchecked((int)(c.ClientIsn - (seq - 1)));
        long age = nowNs - c.SentNs;
        var fault = index is < 0 or > 3 ? CookieFault.MssIndex : age >= CookieLifetimeNs ? CookieFault.TooOld : CookieFault.None;
        return new CookieResult(fault) { Client = client, Cookie = c, Seq = seq, Acked = cookie, MssIndex = (int)Math.Clamp(index, 0, 3), RawIndex = index, AgeNs = age, V6 = v6 };
    }

    /// <summary>
    /// nft_synproxy_tcp_options + synproxy_send_client_synack(_ipv6): the SYN-ACK with the cookie as its
    /// sequence number and window 0; options are those both the client and the rule have, the MSS the
    /// rule's; with timestamps, synproxy_init_timestamp_cookie keeps the client's window scale, SACK and
    /// ECN in the low 6 bits of the timestamp value. The packet carries the SYN's conntrack (if any) as
    /// ESTABLISHED_REPLY and leaves by ip_local_out. The cookie and the upper bits of the timestamp
    /// (tcp_clock_ms) are the host's: the model writes 0 there and learns both from the capture.
    /// </summary>
    [KernelSymbol("synproxy_send_client_synack", "net/netfilter/nf_synproxy_core.c")]
    [KernelSymbol("synproxy_send_client_synack_ipv6", "net/netfilter/nf_synproxy_core.c")]
    private static void SendClientSynack(SkBuff skb, TraceBuilder t, SynproxyInfo info, ReadOnlySpan<byte> th, SynproxyOpts opts, bool v6)
    {
        if ((th[13] & 0xC0) == 0xC0) opts.Options |= SynproxyOptions.Ecn; // ECE and CWR: the client asks for ECN
        opts.Options &= info.Options;
        opts.MssEncode = opts.MssOption;
        opts.MssOption = info.Mss;
        if ((opts.Options & SynproxyOptions.Timestamp) != 0) InitTimestampCookie(info, ref opts);
        else opts.Options &= ~(SynproxyOptions.Wscale | SynproxyOptions.SackPerm | SynproxyOptions.Ecn);
        var (src, dst) = Addresses(skb.Network, v6);
        uint isn = BinaryPrimitives.ReadUInt32BigEndian(th[4..]);
        int mssIndex = MssIndex(opts.MssEncode, v6);
        var tcp = Segment(BinaryPrimitives.ReadUInt16BigEndian(th[2..]), BinaryPrimitives.ReadUInt16BigEndian(th), 0, isn + 1,
            (byte)(0x12 | ((opts.Options & SynproxyOptions.Ecn) != 0 ? 0x40 : 0)), 0, opts);
        skb.State.Synproxy.Add((src, BinaryPrimitives.ReadUInt16BigEndian(th), dst, BinaryPrimitives.ReadUInt16BigEndian(th[2..])),
            new SynproxyCookies.Cookie { ClientIsn = isn, MssIndex = mssIndex, SentNs = skb.TimestampNs }, skb.TimestampNs);
        var ct = skb.Ct?.Entry is { } e ? new CtLookup(e, CtState.Established, CtDirection.Reply, "attached by synproxy: the SYN's connection, ctinfo ESTABLISHED_REPLY") { Attached = true } : null;
        Send(skb, t, dst, src, tcp, ct, template: false, synchronous: false, "synproxy_send_client_synack",
            $"synproxy: SYN-ACK with a syncookie (MSS index {mssIndex}: the client's MSS {opts.MssEncode} -> {MssOf(mssIndex, v6)}; the cookie and the timestamp's upper bits are the host's, learned from the capture), options {OptionsText(opts)}, window 0");
    }

    /// <summary>synproxy_init_timestamp_cookie: the client's window scale (0xf for none), SACK-permitted and ECN in the timestamp's low 6 bits.</summary>
    private static void InitTimestampCookie(SynproxyInfo info, ref SynproxyOpts opts)
    {
        opts.TsEcr = opts.TsVal;
        uint low;
        if ((opts.Options & SynproxyOptions.Wscale) != 0) { low = opts.Wscale; opts.Wscale = info.Wscale; }
        else low = 0xf;
        if ((opts.Options & SynproxyOptions.SackPerm) != 0) low |= 1 << 4;
        if ((opts.Options & SynproxyOptions.Ecn) != 0) low |= 1 << 5;
        opts.TsVal = low; // | tcp_clock_ms() & ~0x3f: the host's clock
    }

    /// <summary>
    /// synproxy_recv_client_ack(_ipv6) with a valid cookie: the MSS from the cookie, the window scale,
    /// SACK-permitted and ECN from the echoed timestamp (synproxy_check_timestamp_cookie), then
    /// synproxy_send_server_syn: the client's SYN again (sequence number recv_seq - 1), the cookie in its
    /// acknowledgment field for the hook to read, sent with synproxy's conntrack template.
    /// </summary>
    [KernelSymbol("synproxy_recv_client_ack", "net/netfilter/nf_synproxy_core.c")]
    [KernelSymbol("synproxy_send_server_syn", "net/netfilter/nf_synproxy_core.c")]
    private static void RecvClientAck(SkBuff skb, TraceBuilder t, ReadOnlySpan<byte> th, SynproxyOpts opts, CookieResult check, uint recvSeq, bool v6, string function)
    {
        opts.MssOption = MssOf(check.MssIndex, v6);
        opts.Options |= SynproxyOptions.Mss;
        if ((opts.Options & SynproxyOptions.Timestamp) != 0)
        {
            // synproxy_check_timestamp_cookie
            opts.Wscale = (byte)(opts.TsEcr & 0xf);
            if (opts.Wscale != 0xf) opts.Options |= SynproxyOptions.Wscale;
            if ((opts.TsEcr & (1 << 4)) != 0) opts.Options |= SynproxyOptions.SackPerm;
            if ((opts.TsEcr & (1 << 5)) != 0) opts.Options |= SynproxyOptions.Ecn;
        }
        t.Stage(skb, "SynproxyRecvClientAck", function, Verdict.Pass, $"cookie valid: {check.Why()} (cookie hash not checkable: kernel secret)");
        var (src, dst) = Addresses(skb.Network, v6);
        ushort window = BinaryPrimitives.ReadUInt16BigEndian(th[14..]);
        var tcp = Segment(BinaryPrimitives.ReadUInt16BigEndian(th), BinaryPrimitives.ReadUInt16BigEndian(th[2..]), recvSeq - 1,
            BinaryPrimitives.ReadUInt32BigEndian(th[8..]) - 1, (byte)(0x02 | ((opts.Options & SynproxyOptions.Ecn) != 0 ? 0xC0 : 0)), window, opts);
        Send(skb, t, src, dst, tcp, null, template: true, synchronous: false, "synproxy_send_server_syn",
            $"synproxy: the client's SYN to the server (options {OptionsText(opts)}, window {window}), with the cookie in its acknowledgment field, under synproxy's conntrack template");
    }

    /// <summary>
    /// ipv4_synproxy_hook / ipv6_synproxy_hook (LOCAL_IN and POST_ROUTING, priority NF_IP_PRI_CONNTRACK_CONFIRM - 1)
    /// for a connection with the synproxy extension. SYN_SENT: the SYN to the server leaves, its acknowledgment
    /// field (the cookie) becomes the isn and its echoed timestamp the its. SYN_RECV: the server's SYN-ACK is
    /// stolen; the host acknowledges it (synproxy_send_server_ack), sets the sequence adjustment of the reply
    /// direction (isn - the server's sequence number) and sends the client a window update
    /// (synproxy_send_client_ack). Every other packet has its timestamp moved by tsoff. False when the
    /// packet was stolen or dropped (the trace has ended).
    /// </summary>
    [KernelSymbol("ipv4_synproxy_hook", "net/netfilter/nf_synproxy_core.c")]
    [KernelSymbol("ipv6_synproxy_hook", "net/netfilter/nf_synproxy_core.c")]
    internal static bool Hook(SkBuff skb, TraceBuilder t, CtLookup ct, NfHook hook)
    {
        if (ct.Entry is not { Synproxy: { } sp } entry) return true;
        bool v6 = skb.Protocol == EtherTypes.Ipv6;
        // nf_is_loopback_packet: received on lo (the synproxy's own packets to a local listener)
        if (hook == NfHook.LocalIn && skb.Dev.IsLoopback) return true;
        if (NfConntrackSeqadj.TcpBounds(skb.Network, v6) is not var (l4, end)) return true;
        const string Stage = "SynproxyHook";
        string function = v6 ? "ipv6_synproxy_hook" : "ipv4_synproxy_hook";
        if (end - l4 < 20)
        {
            // skb_header_pointer cannot read a whole TCP header: NF_DROP
            t.Stage(skb, Stage, function, Verdict.Drop, $"only {end - l4} bytes of TCP header: the hook cannot read 20 (NF_DROP)");
            t.End(Fate.Dropped, "NETFILTER_DROP");
            return false;
        }
        var th = skb.Network[l4..end];
        bool syn = (th[13] & 0x02) != 0, ack = (th[13] & 0x10) != 0, rst = (th[13] & 0x04) != 0;
        bool original = ct.Direction == CtDirection.Original;
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(th[4..]), ackSeq = BinaryPrimitives.ReadUInt32BigEndian(th[8..]);
        var state = entry.TcpState;
        if (state == TcpCtState.Close)
        {
            if (rst && !original) { NfConntrackSeqadjInit.Init(entry, ct.Direction, unchecked((int)(sp.Isn - seq + 1))); state = TcpCtState.None; }
            else if (syn && !ack && original)
            {
                // a reopened connection: the timestamp offset goes (nf_ct_seqadj_init with 0 changes nothing)
                sp.Tsoff = 0;
                sp.SynWindow = 0;
                state = TcpCtState.SynSent;
            }
        }
        if (state == TcpCtState.SynSent)
        {
            if (!ParseOptions(th, out var opts))
            {
                t.Stage(skb, Stage, function, Verdict.Drop, "the TCP header is shorter than 20 bytes or longer than the packet (synproxy_parse_options)");
                t.End(Fate.Dropped, "NETFILTER_DROP");
                return false;
            }
            if (!syn && ack && original)
            {
                // the client's ACK again: the cookie checked again on the segment's own sequence number; recv_seq
                // (th->seq + 1, for a keep-alive's SEG.SEQ = SND.NXT - 1) only numbers the SYN to the server
                var check = CookieCheck(skb);
                if (!check.Valid)
                {
                    t.Stage(skb, Stage, function, Verdict.Drop, $"the client's ACK again, cookie invalid: {check.Why()}");
                    t.End(Fate.Dropped, "NETFILTER_DROP");
                    return false;
                }
                RecvClientAck(skb, t, th, opts, check, seq + 1, v6, "synproxy_recv_client_ack");
                t.End(Fate.Consumed, $"{function}: the client's ACK retransmitted, the SYN to the server sent again (cookie_retrans)");
                return false;
            }
            sp.Isn = ackSeq;
            if ((opts.Options & SynproxyOptions.Timestamp) != 0) sp.Its = opts.TsEcr;
            // seen[ORIGINAL].td_maxwin: tcp_new takes the SYN's window, 1 when it is 0; tcp_in_window keeps the largest
            sp.SynWindow = Math.Max(sp.SynWindow, Math.Max(BinaryPrimitives.ReadUInt16BigEndian(th[14..]), (ushort)1));
            t.Stage(skb, Stage, function, Verdict.Pass, $"SYN_SENT: the cookie {sp.Isn} (isn) and the SYN-ACK's timestamp {sp.Its} (its) kept");
        }
        else if (state == TcpCtState.SynRecv && syn && ack)
        {
            if (!ParseOptions(th, out var opts))
            {
                t.Stage(skb, Stage, function, Verdict.Drop, "the TCP header is shorter than 20 bytes or longer than the packet (synproxy_parse_options)");
                t.End(Fate.Dropped, "NETFILTER_DROP");
                return false;
            }
            if ((opts.Options & SynproxyOptions.Timestamp) != 0) sp.Tsoff = opts.TsVal - sp.Its;
            int off = unchecked((int)(sp.Isn - seq));
            t.Stage(skb, Stage, function, Verdict.Stolen,
                $"SYN_RECV: the server's SYN-ACK is answered by the host and not passed on; sequence offset {off} (the cookie {sp.Isn} - the server's {seq}), timestamp offset {sp.Tsoff}");
            opts.Options &= ~(SynproxyOptions.Mss | SynproxyOptions.Wscale | SynproxyOptions.SackPerm);
            (opts.TsVal, opts.TsEcr) = (opts.TsEcr, opts.TsVal);
            SendServerAck(skb, t, th, opts, sp, v6);
            NfConntrackSeqadjInit.Init(entry, ct.Direction, off);
            (opts.TsVal, opts.TsEcr) = (opts.TsEcr, opts.TsVal);
            SendClientAck(skb, t, th, opts, entry, v6);
            t.End(Fate.Consumed, $"{function}: the server's SYN-ACK, answered by synproxy");
            return false;
        }
        if (TstampAdjust(skb.Network, v6, ct.Direction, sp) is { } moved)
            t.Stage(skb, "SynproxyTstampAdjust", "synproxy_tstamp_adjust", Verdict.Pass, moved);
        return true;
    }

    /// <summary>
    /// A local listener given synproxy's SYN answers with a SYN-ACK of its own (tcp_v4_send_synack), which
    /// the model does not build: its sequence number and timestamp are the request socket's (keyed hashes).
    /// What follows from it the model does follow: the SYN-ACK passes LOCAL_OUT (conntrack SYN_RECV) and is
    /// stolen at POST_ROUTING by the synproxy hook, whose ACK to the listener passes LOCAL_OUT too
    /// (ESTABLISHED) and whose window update goes to the client. The sequence offset (the cookie less the
    /// listener's sequence number) and the timestamp offset stay unknown: the model adjusts nothing of
    /// this connection's later segments, and does not trace those three packets.
    /// </summary>
    internal static void LocalListenerAnswer(SkBuff skb, TraceBuilder t, ConntrackEntry entry, bool v6)
    {
        if (NfConntrackSeqadj.TcpBounds(skb.Network, v6) is not var (l4, end) || end - l4 < 20) return;
        var th = skb.Network[l4..end];
        var (client, server) = Addresses(skb.Network, v6);
        ushort cport = BinaryPrimitives.ReadUInt16BigEndian(th), sport = BinaryPrimitives.ReadUInt16BigEndian(th[2..]);
        uint clientSeq = BinaryPrimitives.ReadUInt32BigEndian(th[4..]);
        // the flags are what conntrack's state machine reads of them (the sequence numbers the model cannot know are 0)
        var synAck = Segment(sport, cport, 0, clientSeq + 1, 0x12, 0, default);
        var ack = Segment(cport, sport, clientSeq + 1, 1, 0x10, 0, default);
        string Step(IpAddr src, IpAddr dst, byte[] tcp)
        {
            var ip = v6 ? GeneratedHeaders.Ipv6(src, dst, IpProtocol.Tcp, 64, tcp) : GeneratedHeaders.Ipv4(src, dst, IpProtocol.Tcp, 0, 64, true, tcp);
            var r = skb.State.Conntrack.In(ip, v6, skb.TimestampNs, entry.ZoneKey);
            return $"{r.State.ToString().ToLowerInvariant()} {r.Direction.ToString().ToLowerInvariant()}";
        }
        string a = Step(server, client, synAck), b = Step(client, server, ack);
        t.Generate($"the listener's SYN-ACK to {client}:{cport} (its sequence number and timestamp are the socket's, not modelled): conntrack {a} (SYN_RECV), stolen by {(v6 ? "ipv6" : "ipv4")}_synproxy_hook at POST_ROUTING, "
            + $"which sends the listener its ACK (conntrack {b}: {entry.TcpState.ToString().ToUpperInvariant()}) and the client a window update; the sequence and timestamp offsets (the cookie {entry.Synproxy!.Isn} less the listener's numbers) are unknown: this connection's later segments are not adjusted by the model");
    }

    /// <summary>synproxy_send_server_ack: the ACK of the server's SYN-ACK, sent without conntrack (found by lookup), walked at once.</summary>
    [KernelSymbol("synproxy_send_server_ack", "net/netfilter/nf_synproxy_core.c")]
    private static void SendServerAck(SkBuff skb, TraceBuilder t, ReadOnlySpan<byte> th, SynproxyOpts opts, ConntrackSynproxy sp, bool v6)
    {
        var (src, dst) = Addresses(skb.Network, v6);
        var tcp = Segment(BinaryPrimitives.ReadUInt16BigEndian(th[2..]), BinaryPrimitives.ReadUInt16BigEndian(th), BinaryPrimitives.ReadUInt32BigEndian(th[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(th[4..]) + 1, 0x10, sp.SynWindow, opts);
        Send(skb, t, dst, src, tcp, null, template: false, synchronous: true, "synproxy_send_server_ack",
            $"synproxy: the ACK of the server's SYN-ACK, options {OptionsText(opts)}, window {sp.SynWindow} (the largest the client side advertised)");
    }

    /// <summary>synproxy_send_client_ack: the window update to the client in the server's name, with the connection as ESTABLISHED_REPLY.</summary>
    [KernelSymbol("synproxy_send_client_ack", "net/netfilter/nf_synproxy_core.c")]
    private static void SendClientAck(SkBuff skb, TraceBuilder t, ReadOnlySpan<byte> th, SynproxyOpts opts, ConntrackEntry entry, bool v6)
    {
        var (src, dst) = Addresses(skb.Network, v6);
        ushort window = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(th[14..]) >> opts.Wscale);
        var tcp = Segment(BinaryPrimitives.ReadUInt16BigEndian(th), BinaryPrimitives.ReadUInt16BigEndian(th[2..]), BinaryPrimitives.ReadUInt32BigEndian(th[4..]) + 1,
            BinaryPrimitives.ReadUInt32BigEndian(th[8..]), 0x10, window, opts);
        var ct = new CtLookup(entry, CtState.Established, CtDirection.Reply, "attached by synproxy: the connection, ctinfo ESTABLISHED_REPLY") { Attached = true };
        Send(skb, t, src, dst, tcp, ct, template: false, synchronous: false, "synproxy_send_client_ack",
            $"synproxy: the window update to the client in the server's name (window {window}: the server's, unscaled by its window scale {opts.Wscale}), options {OptionsText(opts)}");
    }

    /// <summary>
    /// synproxy_tstamp_adjust: with a timestamp offset, a reply's timestamp value is moved back into the
    /// clock the host's SYN-ACK showed the client, an original packet's echo forward into the server's.
    /// The checksum is updated (inet_proto_csum_replace4; a CHECKSUM_PARTIAL one is left). Null when nothing moved.
    /// </summary>
    [KernelSymbol("synproxy_tstamp_adjust", "net/netfilter/nf_synproxy_core.c")]
    internal static string? TstampAdjust(Span<byte> network, bool v6, CtDirection dir, ConntrackSynproxy sp)
    {
        if (sp.Tsoff == 0 || NfConntrackSeqadj.TcpBounds(network, v6) is not var (l4, end) || end - l4 < 20) return null;
        var tcp = network[l4..end];
        bool partial = AddressRewrite.IsPartialChecksum(network, v6, l4, end, IpProtocol.Tcp);
        int optEnd = Math.Min(tcp.Length, (tcp[12] >> 4) * 4), at = 20;
        while (at < optEnd)
        {
            byte kind = tcp[at];
            if (kind == TcpOptionKind.EndOfList) return null;
            if (kind == TcpOptionKind.Nop) { at++; continue; }
            if (at + 1 == optEnd || at + tcp[at + 1] > optEnd || tcp[at + 1] < 2) return null;
            if (kind == TcpOptionKind.Timestamps && tcp[at + 1] == 10)
            {
                int field = dir == CtDirection.Reply ? at + 2 : at + 6;
                uint old = BinaryPrimitives.ReadUInt32BigEndian(tcp[field..]);
                uint moved = dir == CtDirection.Reply ? old - sp.Tsoff : old + sp.Tsoff;
                NfConntrackSeqadj.Write4(tcp, field, moved, partial);
                return $"TS {(dir == CtDirection.Reply ? "val" : "ecr")} {old} -> {moved} (timestamp offset {sp.Tsoff})";
            }
            at += tcp[at + 1];
        }
        return null;
    }

    /// <summary>
    /// The capture showed the cookie SYN-ACK the model built without its sequence number: that number is
    /// the cookie, which the client's ACK must acknowledge.
    /// </summary>
    internal static void Learn(NamespaceState state, ReadOnlySpan<byte> network, bool v6)
    {
        if (NfConntrackSeqadj.TcpBounds(network, v6) is not var (l4, end) || end - l4 < 20) return;
        var tcp = network[l4..end];
        var (src, dst) = Addresses(network, v6);
        // the SYN-ACK goes from the server's tuple to the client's
        if (state.Synproxy.Get((dst, BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]), src, BinaryPrimitives.ReadUInt16BigEndian(tcp))) is { } c)
            c.Value = BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]);
    }

    /// <summary>A TCP header with the options; the checksum as synproxy_send_tcp leaves it (CHECKSUM_PARTIAL: the pseudo-header sum) is filled in by <see cref="Send"/>.</summary>
    private static byte[] Segment(ushort sport, ushort dport, uint seq, uint ack, byte flags, ushort window, in SynproxyOpts opts)
    {
        var options = BuildOptions(opts);
        var tcp = new byte[20 + options.Length];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sport);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(4), seq);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(8), ack);
        tcp[12] = (byte)(tcp.Length / 4 << 4);
        tcp[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(14), window);
        options.CopyTo(tcp, 20);
        return tcp;
    }

    /// <summary>
    /// synproxy_build_ip(_ipv6) + synproxy_send_tcp(_ipv6): IPv4 with TOS 0, id 0, DF and ip_default_ttl (IPv6:
    /// flow label 0 and the all-devices hop limit), the TCP checksum left to the device (CHECKSUM_PARTIAL),
    /// the given conntrack attached, out by ip_local_out / ip6_local_out. <paramref name="synchronous"/>: walked
    /// at once (before the hook goes on), as the kernel sends it from inside the hook.
    /// </summary>
    [KernelSymbol("synproxy_send_tcp", "net/netfilter/nf_synproxy_core.c")]
    private static void Send(SkBuff skb, TraceBuilder t, IpAddr src, IpAddr dst, byte[] tcp, CtLookup? ct, bool template, bool synchronous, string function, string description)
    {
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(16), Checksum.Fold(Checksum.PseudoHeader(src, dst, IpProtocol.Tcp, tcp.Length)));
        var ns = skb.Netns;
        byte[] bytes = src.IsV4
            ? GeneratedHeaders.Ipv4(src, dst, IpProtocol.Tcp, 0, (byte)GeneratedHeaders.DefaultTtl(ns), true, tcp)
            : GeneratedHeaders.Ipv6(src, dst, IpProtocol.Tcp, (byte)(int.TryParse(ns.Sysctls.Get("net.ipv6.conf.all.hop_limit"), out var h) && h is > 0 and < 256 ? h : 64), tcp);
        var built = new SkBuff(bytes)
        {
            Netns = ns, Dev = skb.Dev, Engine = skb.Engine, TimestampNs = skb.TimestampNs, NetworkHeader = 0,
            Protocol = src.IsV4 ? EtherTypes.Ipv4 : EtherTypes.Ipv6, Ct = ct, SynproxyTemplate = template,
        };
        skb.Engine.EmitCopy(t, PacketCopy.Of(built, function, description,
            (s, tr) => IPv4.IpLocalOut.Send(s, tr, src, dst, s.Dev, null, built: true, loopback: true), synchronous, seqUnknown: function == "synproxy_send_client_synack", built: true));
    }

    private static string OptionsText(in SynproxyOpts o)
    {
        var w = new List<string>();
        if ((o.Options & SynproxyOptions.Mss) != 0) w.Add($"mss {o.MssOption}");
        if ((o.Options & SynproxyOptions.SackPerm) != 0) w.Add("sackOK");
        if ((o.Options & SynproxyOptions.Timestamp) != 0) w.Add($"TS val {o.TsVal} ecr {o.TsEcr}");
        if ((o.Options & SynproxyOptions.Wscale) != 0) w.Add($"wscale {o.Wscale}");
        if ((o.Options & SynproxyOptions.Ecn) != 0) w.Add("ECN");
        return w.Count == 0 ? "none" : string.Join(", ", w);
    }

    private static (IpAddr Src, IpAddr Dst) Addresses(ReadOnlySpan<byte> l3, bool v6) =>
        v6 ? (IpAddr.ReadV6(l3[8..]), IpAddr.ReadV6(l3[24..])) : (IpAddr.ReadV4(l3[12..]), IpAddr.ReadV4(l3[16..]));
}
