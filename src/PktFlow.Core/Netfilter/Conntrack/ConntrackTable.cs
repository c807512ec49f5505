using System.Buffers.Binary;
using PktFlow.Offload;
using PktFlow.Wire;

namespace PktFlow.Netfilter.Conntrack;

/// <summary>
/// nf_conntrack for one network namespace: the hash of confirmed entries keyed by (zone, tuple) for
/// both directions, nf_conntrack_in (the hook function at PRE_ROUTING / LOCAL_OUT, priority -200) and
/// __nf_conntrack_confirm (at POST_ROUTING / LOCAL_IN, priority INT_MAX). Time is the capture clock:
/// every call passes the packet's timestamp, and entries past their expiry are gone.
/// </summary>
/// <remarks>
/// Simplified on purpose (and said so in <see cref="CtLookup.Detail"/> where it matters): TCP windows
/// are not tracked (as with nf_conntrack_tcp_be_liberal=1, so out-of-window segments and RSTs are
/// accepted), checksums are verified at PRE_ROUTING for TCP, UDP, ICMP, ICMPv6 and SCTP (nf_conntrack_checksum; not UDP-Lite), DCCP has no tracker in 6.18
/// (the generic one: addresses only), the helpers are FTP's and TFTP's (no PPTP, so its GRE keymap is
/// empty: enhanced GRE is keyed by its call id alone), and the table has no size limit (no early drop).
/// </remarks>
public sealed partial class ConntrackTable
{
    private const long NsPerSecond = 1_000_000_000;
    private const long UdpStreamDelayNs = 2 * NsPerSecond;
    private const long SweepIntervalNs = NsPerSecond;

    private readonly Dictionary<(ushort Zone, ConntrackTuple Tuple), (ConntrackEntry Entry, CtDirection Dir)> _hash = new();
    private readonly HashSet<ConntrackEntry> _entries = new(ReferenceEqualityComparer.Instance);
    private long _nowNs;
    private long _nextSweepNs;

    public ConntrackTable(ConntrackSettings settings) => Settings = settings ?? throw new ArgumentNullException(nameof(settings));

    public ConntrackTable() : this(ConntrackSettings.Default) { }

    public ConntrackSettings Settings { get; }

    /// <summary>The capture time of the last <see cref="In"/> call.</summary>
    public long NowNs => _nowNs;

    /// <summary>Confirmed entries not expired at the last lookup time (what conntrack -L would list).</summary>
    public IReadOnlyCollection<ConntrackEntry> Entries
    {
        get
        {
            var list = new List<ConntrackEntry>(_entries.Count);
            foreach (var e in _entries)
            {
                if (e.IsExpired(_nowNs)) continue;
                e.NowNs = _nowNs;
                list.Add(e);
            }
            list.Sort(static (a, b) => a.CreatedNs.CompareTo(b.CreatedNs));
            return list;
        }
    }

    /// <summary>Finds the live confirmed entry holding <paramref name="tuple"/> in either direction.</summary>
    public ConntrackEntry? Find(in ConntrackTuple tuple, ConntrackZone zone = default) => Lookup(tuple, zone, out _);

    /// <summary>
    /// nf_conntrack_in for one IP packet (<paramref name="network"/> starts at the IP header): finds the
    /// entry of the packet's tuple or creates a new, unconfirmed one, runs the protocol tracker, and
    /// says what <c>ct state</c> the packet has from here on.
    /// </summary>
    /// <param name="preRouting">The packet came in (PRE_ROUTING, not LOCAL_OUT): only then are checksums
    /// verified (nf_conntrack_checksum), as <paramref name="skb"/>'s ip_summed says (<see cref="Offload.SkbChecksum"/>).</param>
    /// <param name="skb">The packet, whose ip_summed the checksum check reads and updates; without one the
    /// bytes are taken as CHECKSUM_NONE.</param>
    /// <param name="template">The timeout policy of the conntrack template a raw-table rule attached
    /// (xt_CT --timeout): a new entry takes it (init_conntrack: nf_ct_timeout_ext_add) and its tracker
    /// reads it from the first packet on; an existing entry ignores it.</param>
    /// <param name="helperTemplate">The helper of a conntrack template attached before conntrack
    /// (iptables <c>-j CT --helper</c> in raw): a new connection no expectation claims takes it.</param>
    public CtLookup In(ReadOnlySpan<byte> network, bool ipv6, long nowNs, ConntrackZone zone = default, bool preRouting = false, ConntrackTimeoutPolicy? template = null, ConntrackHelper? helperTemplate = null, Datapath.SkBuff? skb = null)
    {
        _template = template;
        CtLookup r;
        try { r = Expected(Track(network, ipv6, nowNs, zone, preRouting, skb), helperTemplate); }
        finally { _template = null; }
        // nf_ct_refresh_acct runs in the tracker's accept path only: invalid packets and ICMP errors
        // (attached to their master by nf_conntrack_handle_icmp, no tracker) are not counted.
        if (r.Entry is { } e && !r.QuotesFlow && !r.NotAccounted && r.State is CtState.New or CtState.Established or CtState.Related) e.Account(r.Direction, network.Length);
        return r;
    }

    private CtLookup Track(ReadOnlySpan<byte> network, bool ipv6, long nowNs, ConntrackZone zone, bool preRouting, Datapath.SkBuff? skb)
    {
        if (nowNs > _nowNs) _nowNs = nowNs;
        Sweep(nowNs);

        if (!TryGetL4(network, ipv6, out var src, out var dst, out byte proto, out var l4, out string? problem, out bool fragment))
            return Invalid(problem!);

        if (!preRouting) return TrackProtocol(src, dst, proto, l4, nowNs, zone, preRouting);
        if (!Settings.Checksum)
        {
            var t = TrackProtocol(src, dst, proto, l4, nowNs, zone, preRouting);
            return proto is IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.Icmp or IpProtocol.Icmpv6 ? t with { Detail = $"{t.Detail}; checksum not verified (nf_conntrack_checksum=0)" } : t;
        }
        // the kernel checks the reassembled datagram; a fragment the model follows alone cannot be checked
        var csum = fragment ? new CsumCheck(false, null) : ChecksumError(skb, src, dst, proto, l4);
        if (csum.Bad) return Invalid(csum.Note! + ExpectationTakenByInit(src, dst, proto, l4, zone));
        var r = TrackProtocol(src, dst, proto, l4, nowNs, zone, preRouting);
        return csum.Note is null ? r : r with { Detail = $"{r.Detail}; {csum.Note}" };
    }

    /// <summary>
    /// The checksum check of tcp_error, udp_error, nf_conntrack_icmpv4_error and nf_conntrack_icmpv6_error
    /// (nf_conntrack_checksum on, PRE_ROUTING only): after their length checks, nf_checksum on the skb's
    /// ip_summed; a bad sum makes the packet INVALID before any lookup, so it is neither tracked nor NATed.
    /// UDP without a checksum (0) is not checked; UDP-Lite's coverage check is not modelled.
    /// </summary>
    [Datapath.KernelSymbol("tcp_error", "net/netfilter/nf_conntrack_proto_tcp.c")]
    [Datapath.KernelSymbol("udp_error", "net/netfilter/nf_conntrack_proto_udp.c")]
    [Datapath.KernelSymbol("nf_conntrack_icmpv4_error", "net/netfilter/nf_conntrack_proto_icmp.c")]
    [Datapath.KernelSymbol("nf_conntrack_icmpv6_error", "net/netfilter/nf_conntrack_proto_icmpv6.c")]
    private static CsumCheck ChecksumError(Datapath.SkBuff? skb, IpAddr src, IpAddr dst, byte proto, ReadOnlySpan<byte> l4)
    {
        string? fn = proto switch
        {
            IpProtocol.Tcp when l4.Length >= TcpHeader.MinHeaderLength && (l4[12] >> 4) * 4 is var doff && doff >= TcpHeader.MinHeaderLength && doff <= l4.Length => "tcp_error",
            IpProtocol.Udp when UdpLengthError(l4) is null && UdpHeader.TryParse(l4, out var uh, out _) && uh.Checksum != 0 => "udp_error",
            IpProtocol.Icmp when l4.Length >= 8 => "nf_conntrack_icmpv4_error",
            IpProtocol.Icmpv6 when l4.Length >= 8 => "nf_conntrack_icmpv6_error",
            _ => null,
        };
        if (fn is null) return CsumCheck.Good;
        var c = SkbChecksum.Validate(skb, src, dst, proto, l4);
        return c.Bad ? new CsumCheck(true, $"invalid: {ConntrackProtocols.Name(proto).ToUpperInvariant()} bad checksum, {c.Note} ({fn} -> nf_checksum, nf_conntrack_checksum=1)") : c;
    }

    /// <summary>
    /// tcp_error and udp_error run from the trackers' packet functions, after resolve_normal_ct: a packet
    /// without an entry has already made one (init_conntrack), which took the expectation its tuple matches
    /// off the table (nf_ct_find_expectation); the INVALID verdict frees that unconfirmed entry, and the
    /// expectation stays gone. ICMP's error handlers run before the lookup and take nothing.
    /// </summary>
    private string ExpectationTakenByInit(IpAddr src, IpAddr dst, byte proto, ReadOnlySpan<byte> l4, ConntrackZone zone)
    {
        if (proto is not (IpProtocol.Tcp or IpProtocol.Udp) || l4.Length < 4 || _expects.Count == 0) return "";
        var tuple = new ConntrackTuple(src, dst, proto, BinaryPrimitives.ReadUInt16BigEndian(l4), BinaryPrimitives.ReadUInt16BigEndian(l4[2..]));
        if (Lookup(tuple, zone, out _) is not null || FindExpectation(tuple, zone.Id) is not { } exp) return "";
        return $"; init_conntrack had already taken the expectation of the {exp.Helper.Name} helper of {exp.Master.Original}: it is gone";
    }

    /// <summary>
    /// The length checks of udp_error, on every hook and whatever nf_conntrack_checksum says: a header
    /// cut short, or a length field longer than the datagram the IP header delimits or shorter than the
    /// UDP header ("truncated/malformed packet"), makes the packet INVALID. A length field shorter than
    /// the datagram passes (udp_rcv trims the datagram to it later). Null when the lengths are fine.
    /// </summary>
    [Datapath.KernelSymbol("udp_error", "net/netfilter/nf_conntrack_proto_udp.c")]
    internal static string? UdpLengthError(ReadOnlySpan<byte> l4)
    {
        if (!UdpHeader.TryParse(l4, out var uh, out _)) return $"invalid: UDP header truncated ({l4.Length} bytes; udp_error: short packet)";
        int len = uh.Length;
        if (len > l4.Length) return $"invalid: UDP length field {len} exceeds the {l4.Length}-byte datagram (udp_error: truncated/malformed packet)";
        if (len < UdpHeader.HeaderLength) return $"invalid: UDP length field {len} is shorter than the UDP header (udp_error: truncated/malformed packet)";
        return null;
    }

    private CtLookup TrackProtocol(IpAddr src, IpAddr dst, byte proto, ReadOnlySpan<byte> l4, long nowNs, ConntrackZone zone, bool preRouting)
    {
        switch (proto)
        {
            case IpProtocol.Icmp:
                return InIcmp(src, dst, l4, nowNs, zone);
            case IpProtocol.Icmpv6:
                return InIcmpv6(src, dst, l4, nowNs, zone);
            case IpProtocol.Tcp:
                return InTcp(src, dst, l4, nowNs, zone);
            case IpProtocol.Udp:
                return UdpLengthError(l4) is { } bad ? Invalid(bad) : InSimple(Ports(src, dst, proto, l4), nowNs, zone);
            case IpProtocol.UdpLite:
                if (l4.Length < UdpHeader.HeaderLength) return Invalid($"invalid: {ConntrackProtocols.Name(proto)} header truncated ({l4.Length} bytes)");
                return InSimple(Ports(src, dst, proto, l4), nowNs, zone);
            case IpProtocol.Gre:
                return GreTuple(src, dst, l4, out var gre) is { } refused ? Invalid(refused) : InSimple(gre, nowNs, zone);
            case IpProtocol.Sctp:
                return InSctp(src, dst, l4, nowNs, zone, preRouting);
            default:
                return InSimple(new ConntrackTuple(src, dst, proto, 0, 0), nowNs, zone);
        }
    }

    /// <summary>The tuple of a TCP, UDP, UDP-Lite, SCTP or GRE packet or an ICMP/ICMPv6 query
    /// (nf_ct_get_tuple); false for others.</summary>
    public static bool TryTuple(ReadOnlySpan<byte> network, bool ipv6, out ConntrackTuple tuple)
    {
        tuple = default;
        if (!TryGetL4(network, ipv6, out var src, out var dst, out byte proto, out var l4, out _) || l4.Length < 4) return false;
        if (proto is IpProtocol.Icmp or IpProtocol.Icmpv6)
        {
            if (l4.Length < 8 || ConntrackEntry.InvertIcmpType(proto, l4[0]) is null) return false;
            tuple = ConntrackTuple.Icmp(src, dst, proto, l4[0], l4[1], (ushort)(l4[4] << 8 | l4[5]));
            return true;
        }
        if (proto == IpProtocol.Gre) return GreTuple(src, dst, l4, out tuple) is null;
        if (!ConntrackProtocols.HasPorts(proto)) return false;
        tuple = Ports(src, dst, proto, l4);
        return true;
    }

    /// <summary>The tuple of any packet conntrack tracks: <see cref="TryTuple"/>, or for the generic
    /// tracker (IGMP, ESP, ...) addresses and protocol alone, as <see cref="In"/> keys it.</summary>
    public static bool TryTupleAnyProtocol(ReadOnlySpan<byte> network, bool ipv6, out ConntrackTuple tuple)
    {
        if (TryTuple(network, ipv6, out tuple)) return true;
        if (!TryGetL4(network, ipv6, out var src, out var dst, out byte proto, out _, out _)
            || proto is IpProtocol.Icmp or IpProtocol.Icmpv6 or IpProtocol.Gre || ConntrackProtocols.HasPorts(proto)) return false;
        tuple = new ConntrackTuple(src, dst, proto, 0, 0);
        return true;
    }

    /// <summary>
    /// __nf_conntrack_confirm: inserts an entry created by <see cref="In"/> under its original and
    /// (possibly NAT-changed) reply tuples. Returns false when it cannot be inserted: another live entry
    /// already holds one of the tuples (the kernel drops the packet on such a clash) or the entry was
    /// killed meanwhile. Confirming an already confirmed entry is a no-op that returns true.
    /// </summary>
    public bool Confirm(ConntrackEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Confirmed) return true;
        if (entry.Dying) return false;
        if (Lookup(entry.Original, entry.ZoneKey, out _) is not null || Lookup(entry.Reply, entry.ZoneKey, out _) is not null)
            return false;
        entry.Confirmed = true;
        _hash[(entry.ZoneKey.IdFor(CtDirection.Original), entry.Original)] = (entry, CtDirection.Original);
        _hash[(entry.ZoneKey.IdFor(CtDirection.Reply), entry.Reply)] = (entry, CtDirection.Reply);
        _entries.Add(entry);
        return true;
    }

    /// <summary>nf_conntrack_tuple_taken: a live confirmed entry other than <paramref name="ignored"/> holds the tuple (in either direction).</summary>
    public bool TupleTaken(in ConntrackTuple tuple, ConntrackEntry ignored)
    {
        var e = Lookup(tuple, ignored.ZoneKey, out _);
        return e is not null && !ReferenceEquals(e, ignored);
    }

    /// <summary>nf_ct_kill / conntrack -D: removes the entry now.</summary>
    public void Kill(ConntrackEntry entry)
    {
        entry.Dying = true;
        RemoveExpectations(entry);
        if (!entry.Confirmed) return;
        var ko = (entry.ZoneKey.IdFor(CtDirection.Original), entry.Original);
        var kr = (entry.ZoneKey.IdFor(CtDirection.Reply), entry.Reply);
        if (_hash.TryGetValue(ko, out var o) && ReferenceEquals(o.Entry, entry)) _hash.Remove(ko);
        if (_hash.TryGetValue(kr, out var r) && ReferenceEquals(r.Entry, entry)) _hash.Remove(kr);
        _entries.Remove(entry);
    }

    /// <summary>conntrack -F.</summary>
    public void Flush()
    {
        foreach (var e in _entries) e.Dying = true;
        _entries.Clear();
        _expects.Clear();
        _hash.Clear();
    }

    // ---- lookup and creation ------------------------------------------------------------------

    /// <summary>
    /// __nf_conntrack_find_get as resolve_normal_ct calls it: the tuple under the zone's original-direction
    /// id, then under its reply-direction id when that differs; an entry found must have, for the
    /// direction it was found in, the same zone id as the packet's zone (nf_ct_key_equal -> nf_ct_zone_equal).
    /// </summary>
    private ConntrackEntry? Lookup(in ConntrackTuple tuple, ConntrackZone zone, out CtDirection dir)
    {
        dir = CtDirection.Original;
        ushort zid = zone.IdFor(CtDirection.Original), rid = zone.IdFor(CtDirection.Reply);
        if (!(_hash.TryGetValue((zid, tuple), out var hit) && hit.Entry.ZoneKey.IdFor(hit.Dir) == zone.IdFor(hit.Dir))
            && !(rid != zid && _hash.TryGetValue((rid, tuple), out hit) && hit.Entry.ZoneKey.IdFor(hit.Dir) == zone.IdFor(hit.Dir)))
            return null;
        if (hit.Entry.IsExpired(_nowNs))
        {
            Kill(hit.Entry); // nf_ct_gc_expired: an expired entry is never found
            return null;
        }
        dir = hit.Dir;
        return hit.Entry;
    }

    private void Sweep(long nowNs)
    {
        if (nowNs < _nextSweepNs) return;
        _nextSweepNs = nowNs + SweepIntervalNs;
        List<ConntrackEntry>? dead = null;
        foreach (var e in _entries)
            if (e.IsExpired(nowNs)) (dead ??= []).Add(e);
        if (dead is null) return;
        foreach (var e in dead) Kill(e);
    }

    /// <summary>The template policy of the packet being tracked (<see cref="In"/>), or null.</summary>
    private ConntrackTimeoutPolicy? _template;

    /// <summary>The timeouts a new entry starts with: its template's policy, else the sysctls.</summary>
    private ConntrackSettings NewTimeouts => _template?.Timeouts ?? Settings;

    private ConntrackEntry Create(in ConntrackTuple tuple, ConntrackZone zone, long nowNs, int timeoutSeconds)
    {
        var e = new ConntrackEntry(tuple, zone, nowNs) { NowNs = nowNs, Accounting = Settings.Acct, TimeoutPolicy = _template };
        Refresh(e, nowNs, timeoutSeconds);
        return e;
    }

    private static void Refresh(ConntrackEntry e, long nowNs, int timeoutSeconds) => e.ExpiresNs = nowNs + timeoutSeconds * NsPerSecond;

    /// <summary>The ctinfo of a packet on an existing entry, folded to ct state (resolve_normal_ct): any
    /// reply-direction packet and any packet after a reply is ESTABLISHED; before that an expected
    /// connection's packets are RELATED, others NEW.</summary>
    private static CtState StateFor(ConntrackEntry e, CtDirection dir) =>
        dir == CtDirection.Reply || e.SeenReply ? CtState.Established : e.Master is not null ? CtState.Related : CtState.New;

    /// <summary>What nf_conntrack_in does after the tracker accepted a packet on an existing entry.</summary>
    private CtLookup Accepted(ConntrackEntry e, CtDirection dir, long nowNs, string detail)
    {
        var state = StateFor(e, dir);
        if (dir == CtDirection.Reply) e.SeenReply = true;
        e.NowNs = nowNs;
        return new CtLookup(e, state, dir, detail);
    }

    private static CtLookup Invalid(string detail) => new(null, CtState.Invalid, CtDirection.Original, detail);

    private static string Where(in ConntrackTuple t) => t.IsIcmp || !ConntrackProtocols.HasPorts(t.Protocol)
        ? t.Source.ToString() : t.Source.IsV6 ? $"[{t.Source}]:{t.SourcePort}" : $"{t.Source}:{t.SourcePort}";

    private static ConntrackTuple Ports(IpAddr src, IpAddr dst, byte proto, ReadOnlySpan<byte> l4) =>
        new(src, dst, proto, (ushort)(l4[0] << 8 | l4[1]), (ushort)(l4[2] << 8 | l4[3]));

    /// <summary>
    /// gre_pkt_to_tuple: GRE other than version 1 is keyed like the generic tracker (keys 0); version 1
    /// (PPTP's enhanced GRE) must carry PPP and is keyed by its call id (dst.u.gre.key; the source key
    /// comes from the PPTP helper's keymap, which the model does not have: 0). Returns why the kernel
    /// refuses the packet a tuple, or null.
    /// </summary>
    private static string? GreTuple(IpAddr src, IpAddr dst, ReadOnlySpan<byte> l4, out ConntrackTuple tuple)
    {
        tuple = new ConntrackTuple(src, dst, IpProtocol.Gre, 0, 0);
        if (l4.Length < 4 || (l4[1] & 0x7) != 1 || l4.Length < 8) return null;
        ushort inner = (ushort)(l4[2] << 8 | l4[3]);
        if (inner != PptpGreProtocolPpp) return $"invalid: GRE version 1 carrying protocol 0x{inner:x4} rather than PPP (gre_pkt_to_tuple gives it no tuple)";
        tuple = tuple with { DestinationPort = (ushort)(l4[6] << 8 | l4[7]) };
        return null;
    }

    /// <summary>GRE_PROTO_PPP: the protocol field of PPTP's enhanced GRE.</summary>
    private const ushort PptpGreProtocolPpp = 0x880b;

    // ---- UDP, UDP-Lite, GRE, generic (DCCP among them) -----------------------------------------------

    private CtLookup InSimple(ConntrackTuple tuple, long nowNs, ConntrackZone zone)
    {
        string name = ConntrackProtocols.Name(tuple.Protocol);
        bool udp = tuple.Protocol is IpProtocol.Udp or IpProtocol.UdpLite, gre = tuple.Protocol == IpProtocol.Gre;
        var e = Lookup(tuple, zone, out var dir);
        if (e is null)
        {
            e = Create(tuple, zone, nowNs, udp ? NewTimeouts.UdpTimeout : gre ? NewTimeouts.GreTimeout : NewTimeouts.GenericTimeout);
            string what = name == "unknown" ? $"protocol {tuple.Protocol} (generic tracker)" : name;
            return new CtLookup(e, CtState.New, CtDirection.Original, $"new {what} flow");
        }
        if (udp)
        {
            // udp_packet: traffic both ways and still alive 2 s after creation is a stream: longer
            // timeout and ASSURED. SEEN_REPLY is set after the tracker, so the first reply does not count.
            if (e.SeenReply && nowNs - e.CreatedNs > UdpStreamDelayNs)
            {
                Refresh(e, nowNs, Timeouts(e).UdpTimeoutStream);
                e.Assured = true;
            }
            else Refresh(e, nowNs, Timeouts(e).UdpTimeout);
        }
        else if (gre)
        {
            // gre_packet: once a reply went through (SEEN_REPLY, set after the tracker) the stream
            // timeout and ASSURED, with no delay as UDP has.
            if (e.SeenReply)
            {
                Refresh(e, nowNs, Timeouts(e).GreTimeoutStream);
                e.Assured = true;
            }
            else Refresh(e, nowNs, Timeouts(e).GreTimeout);
        }
        else Refresh(e, nowNs, Timeouts(e).GenericTimeout);
        string detail = dir == CtDirection.Reply ? $"reply to {Where(e.Original)}" : e.SeenReply ? $"{name} flow established" : $"{name} flow not yet answered";
        return Accepted(e, dir, nowNs, detail);
    }

    // ---- TCP ----------------------------------------------------------------------------------

    private CtLookup InTcp(IpAddr src, IpAddr dst, ReadOnlySpan<byte> l4, long nowNs, ConntrackZone zone)
    {
        // tcp_error
        if (!TcpHeader.TryParse(l4, out var th, out _)) return Invalid($"invalid: TCP header truncated ({l4.Length} bytes)");
        if (th.HeaderLength < TcpHeader.MinHeaderLength || th.HeaderLength > l4.Length)
            return Invalid($"invalid: TCP data offset {th.HeaderLength} bytes does not fit the segment");
        var flags = th.Flags;
        if (!TcpConntrack.ValidFlags(flags)) return Invalid($"invalid: TCP flag combination {TcpConntrack.Describe(flags)}");

        var tuple = new ConntrackTuple(src, dst, IpProtocol.Tcp, th.SourcePort, th.DestinationPort);
        var cls = TcpConntrack.Classify(flags);
        var e = Lookup(tuple, zone, out var dir);
        if (e is null) return NewTcp(tuple, cls, flags, nowNs, zone);

        var old = e.TcpState;
        byte next = TcpConntrack.Next(dir, cls, old);
        string fl = TcpConntrack.Describe(flags);
        if (next == TcpConntrack.Iv)
            return Invalid($"invalid: TCP {fl} in {ConntrackProtocols.StateName(old)} ({dir.ToString().ToLowerInvariant()} direction)");

        if (next == (byte)TcpCtState.SynSent && old >= TcpCtState.TimeWait)
        {
            // A SYN reopening a closed or aborted connection: the old entry is killed and the lookup
            // repeated (-NF_REPEAT), which creates a new one.
            // IP_CT_TCP_FLAG_CLOSE_INIT of either side: set only by the move to FIN_WAIT, so a FIN
            // after a RST (CLOSE -> CLOSE) initiates nothing and the SYN is ignored (ct-tcp-states)
            bool closeInit = e.CloseInitOriginal || e.CloseInitReply;
            bool rstBySameSide = e.LastIndex == TcpFlagClass.Rst && e.LastDirection == dir;
            if (closeInit || rstBySameSide)
            {
                Kill(e);
                var fresh = NewTcp(tuple, cls, flags, nowNs, zone);
                return fresh with { Detail = $"{fresh.Detail}; reopens a connection in {ConntrackProtocols.StateName(old)}" };
            }
            next = TcpConntrack.Ig;
        }

        bool resync = false;
        if (next == TcpConntrack.Ig && cls == TcpFlagClass.SynAck && e.LastIndex == TcpFlagClass.Syn && e.LastDirection != dir
            && th.AcknowledgmentNumber == e.LastEnd)
        {
            // tcp_packet, TCP_CONNTRACK_IGNORE b): this SYN/ACK answers the SYN ignored before: client and
            // server are in sync, the tracker takes the handshake up from there (SYN_SENT -> SYN_RECV)
            (old, next, resync) = (TcpCtState.SynSent, (byte)TcpCtState.SynRecv, true);
        }
        if (next == TcpConntrack.Ig)
        {
            e.LastIndex = cls;
            e.LastDirection = dir;
            e.LastEnd = unchecked(th.SequenceNumber + (uint)(l4.Length - th.HeaderLength)
                + (uint)((flags & TcpFlags.Syn) != 0 ? 1 : 0) + (uint)((flags & TcpFlags.Fin) != 0 ? 1 : 0));
            return Accepted(e, dir, nowNs, $"TCP {fl} ignored in {ConntrackProtocols.StateName(old)} (state and timeout unchanged)") with { NotAccounted = true };
        }

        var ns = (TcpCtState)next;
        e.TcpState = ns;
        e.LastIndex = cls;
        e.LastDirection = dir;
        if (old != ns && ns == TcpCtState.FinWait)
        {
            if (dir == CtDirection.Original) e.CloseInitOriginal = true; else e.CloseInitReply = true;
        }

        string detail = dir == CtDirection.Reply ? $"reply to {Where(e.Original)}: " : "";
        detail += old == ns ? $"TCP {fl} in {ConntrackProtocols.StateName(ns)}" : $"TCP {fl}: {ConntrackProtocols.StateName(old)} -> {ConntrackProtocols.StateName(ns)}";
        if (e.MidStreamPickup) detail += " (picked up mid-stream, window not tracked)";
        if (resync) detail += " (answers the SYN ignored before: back in sync)";

        if (!e.SeenReply)
        {
            // "If only reply is a RST, we can consider ourselves not to have an established connection":
            // a RST before any reply kills the entry at once (the packet keeps its conntrack).
            if (cls == TcpFlagClass.Rst)
            {
                var result = Accepted(e, dir, nowNs, detail + "; RST before any reply: entry removed");
                Kill(e);
                return result;
            }
            // "do not renew timeout on SYN retransmit" (either direction: a simultaneous open's SYN
            // too), else a client reusing its port could keep a stale entry, NAT and all, alive forever
            if (cls == TcpFlagClass.Syn && old == TcpCtState.SynSent)
                return Accepted(e, dir, nowNs, detail + "; SYN in SYN_SENT before any reply: timeout not renewed") with { NotAccounted = true };
        }
        else if (!e.Assured && (old == TcpCtState.SynRecv || old == TcpCtState.Established) && ns == TcpCtState.Established)
        {
            e.Assured = true;
            detail += "; ASSURED";
        }
        Refresh(e, nowNs, TcpTimeout(e, ns));
        return Accepted(e, dir, nowNs, detail);
    }

    /// <summary>The state's timeout, capped at the unacknowledged timeout until the entry is ASSURED.</summary>
    private int TcpTimeout(ConntrackEntry e, TcpCtState state)
    {
        var s = Timeouts(e);
        int t = s.TcpTimeout(state);
        return !e.Assured && t > s.TcpTimeoutUnacknowledged ? s.TcpTimeoutUnacknowledged : t;
    }

    /// <summary>nf_ct_timeout_lookup: the entry's timeout policy if a rule attached one, else the sysctls.</summary>
    private ConntrackSettings Timeouts(ConntrackEntry e) => e.TimeoutPolicy?.Timeouts ?? Settings;

    /// <summary>
    /// nft_ct_timeout_obj_eval on the packet's entry: only a connection not yet confirmed takes the
    /// policy (a later packet's rule changes nothing), and its timeout becomes the policy's first value
    /// from now. Returns what happened, for the trace.
    /// </summary>
    public static string AttachTimeoutPolicy(ConntrackEntry e, ConntrackTimeoutPolicy policy, long nowNs)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(policy);
        if (e.Confirmed) return "the connection is already confirmed: its timeouts do not change";
        e.TimeoutPolicy = policy;
        Refresh(e, nowNs, policy.InitialTimeout);
        return $"the new connection takes the policy ({policy}): timeout {policy.InitialTimeout} s";
    }

    /// <summary>tcp_new, then tcp_packet on the new entry (state NONE).</summary>
    private CtLookup NewTcp(in ConntrackTuple tuple, TcpFlagClass cls, TcpFlags flags, long nowNs, ConntrackZone zone)
    {
        byte next = TcpConntrack.Next(CtDirection.Original, cls, TcpCtState.None);
        string fl = TcpConntrack.Describe(flags);
        if (next == TcpConntrack.Iv)
            return Invalid($"invalid: TCP {fl} cannot start a connection and matches no tracked flow");
        bool pickup = next != (byte)TcpCtState.SynSent;
        if (pickup && !Settings.TcpLoose)
            return Invalid($"invalid: TCP {fl} matches no tracked flow and nf_conntrack_tcp_loose=0 forbids mid-stream pickup");
        var ns = (TcpCtState)next;
        var e = Create(tuple, zone, nowNs, 0);
        Refresh(e, nowNs, TcpTimeout(e, ns));
        e.TcpState = ns;
        e.LastIndex = cls;
        e.MidStreamPickup = pickup;
        string detail = pickup
            ? $"new tcp flow picked up mid-stream ({fl}, nf_conntrack_tcp_loose=1): ESTABLISHED, window not tracked"
            : "new tcp flow (SYN): SYN_SENT";
        return new CtLookup(e, CtState.New, CtDirection.Original, detail);
    }

    // ---- ICMP / ICMPv6 ------------------------------------------------------------------------

    private CtLookup InIcmp(IpAddr src, IpAddr dst, ReadOnlySpan<byte> l4, long nowNs, ConntrackZone zone)
    {
        if (!IcmpHeader.TryParse(l4, out var ih, out _)) return Invalid($"invalid: ICMP header truncated ({l4.Length} bytes)");
        if (ih.Type > IcmpHeader.AddressMaskReply) // NR_ICMP_TYPES
            return Invalid($"invalid: ICMP type {ih.Type} unknown to conntrack");
        if (ih.IsError) return IcmpError(IpProtocol.Icmp, dst, ih.Payload, ipv6: false, zone, $"ICMP type {ih.Type} code {ih.Code}");
        return IcmpQuery(ConntrackTuple.Icmp(src, dst, IpProtocol.Icmp, ih.Type, ih.Code, ih.Identifier), nowNs, zone,
            isNewType: ih.Type is IcmpHeader.EchoRequest or IcmpHeader.Timestamp or IcmpHeader.InfoRequest or IcmpHeader.AddressMaskRequest,
            s => s.IcmpTimeout);
    }

    private CtLookup InIcmpv6(IpAddr src, IpAddr dst, ReadOnlySpan<byte> l4, long nowNs, ConntrackZone zone)
    {
        if (!Icmpv6Header.TryParse(l4, out var ih, out _)) return Invalid($"invalid: ICMPv6 header truncated ({l4.Length} bytes)");
        if (ih.IsError) return IcmpError(IpProtocol.Icmpv6, dst, ih.Payload, ipv6: true, zone, $"ICMPv6 type {ih.Type} code {ih.Code}");
        // icmpv6_error: MLD and neighbour discovery are never tracked (noct_valid_new).
        if (ih.Type is Icmpv6Header.MldQuery or Icmpv6Header.MldReport or Icmpv6Header.MldDone or Icmpv6Header.RouterSolicitation
            or Icmpv6Header.RouterAdvertisement or Icmpv6Header.NeighborSolicitation or Icmpv6Header.NeighborAdvertisement
            or Icmpv6Header.Mldv2Report)
            return new CtLookup(null, CtState.Untracked, CtDirection.Original, $"untracked: ICMPv6 {Icmpv6Header.TypeName(ih.Type)} is never tracked");
        return IcmpQuery(ConntrackTuple.Icmp(src, dst, IpProtocol.Icmpv6, ih.Type, ih.Code, ih.Identifier), nowNs, zone,
            isNewType: ih.Type is Icmpv6Header.EchoRequest or 139, s => s.Icmpv6Timeout);
    }

    private CtLookup IcmpQuery(ConntrackTuple tuple, long nowNs, ConntrackZone zone, bool isNewType, Func<ConntrackSettings, int> timeout)
    {
        string name = tuple.Protocol == IpProtocol.Icmp ? "ICMP" : "ICMPv6";
        var e = Lookup(tuple, zone, out var dir);
        if (e is null)
        {
            if (ConntrackEntry.InvertIcmpType(tuple.Protocol, tuple.IcmpType) is null)
                return Invalid($"invalid: {name} type {tuple.IcmpType} cannot be tracked (no reply type)");
            if (!isNewType)
                return Invalid($"invalid: {name} type {tuple.IcmpType} id {tuple.IcmpId} answers no tracked request");
            e = Create(tuple, zone, nowNs, timeout(NewTimeouts));
            return new CtLookup(e, CtState.New, CtDirection.Original, $"new {name} query (type {tuple.IcmpType} id {tuple.IcmpId})");
        }
        Refresh(e, nowNs, timeout(Timeouts(e)));
        string detail = dir == CtDirection.Reply ? $"reply to {e.Original.Source} ({name} id {tuple.IcmpId})" : $"{name} query id {tuple.IcmpId} again";
        return Accepted(e, dir, nowNs, detail);
    }

    /// <summary>
    /// nf_conntrack_inet_error / icmp_error_message: the tuple of the quoted packet, inverted, is
    /// looked up; a hit whose destination is the error's destination makes the error RELATED (in the
    /// direction of the hit). No hit, or an error quoting garbage, leaves the packet without a
    /// conntrack: INVALID.
    /// </summary>
    private CtLookup IcmpError(byte proto, IpAddr outerDst, ReadOnlySpan<byte> quoted, bool ipv6, ConntrackZone zone, string what)
    {
        if (!TryGetL4(quoted, ipv6, out var isrc, out var idst, out byte iproto, out var il4, out string? problem, quoted: true))
            return Invalid($"invalid: {what} quotes an unusable packet ({problem})");
        ConntrackTuple inner;
        if (iproto == IpProtocol.Icmp || iproto == IpProtocol.Icmpv6)
        {
            if (il4.Length < 8) return Invalid($"invalid: {what} quotes a truncated ICMP header");
            byte type = il4[0];
            if (ConntrackEntry.InvertIcmpType(iproto, type) is null)
                return Invalid($"invalid: {what} quotes an ICMP message of type {type}, which is not tracked");
            inner = ConntrackTuple.Icmp(isrc, idst, iproto, type, il4[1], (ushort)(il4[4] << 8 | il4[5]));
        }
        else if (ConntrackProtocols.HasPorts(iproto))
        {
            if (il4.Length < 4) return Invalid($"invalid: {what} quotes a packet cut before its ports");
            inner = Ports(isrc, idst, iproto, il4);
        }
        else if (iproto == IpProtocol.Gre)
        {
            if (GreTuple(isrc, idst, il4, out inner) is { } refused) return Invalid($"{refused}, quoted by {what}");
        }
        else inner = new ConntrackTuple(isrc, idst, iproto, 0, 0);

        var inverted = ConntrackEntry.Invert(inner);
        var e = Lookup(inverted, zone, out var dir);
        if (e is null) return Invalid($"invalid: {what} quotes {inner}, which matches no tracked flow");
        if (outerDst != inverted.Destination)
            return Invalid($"invalid: {what} goes to {outerDst} but quotes a packet from {inverted.Destination}");
        e.NowNs = _nowNs;
        return new CtLookup(e, CtState.Related, dir, $"{what} quoting a tracked flow ({dir.ToString().ToLowerInvariant()} direction)") { QuotesFlow = true };
    }

    // ---- L3 ----------------------------------------------------------------------------------

    /// <summary>The addresses, layer-4 protocol and layer-4 bytes of an IPv4 or IPv6 packet
    /// (ipv4_get_l4proto / ipv6_skip_exthdr). Non-first fragments have no layer-4 header: conntrack runs
    /// after nf_defrag, so the model expects reassembled datagrams and calls such fragments INVALID.</summary>
    internal static bool TryGetL4(ReadOnlySpan<byte> network, bool ipv6, out IpAddr src, out IpAddr dst, out byte proto,
        out ReadOnlySpan<byte> l4, out string? problem, bool quoted = false)
        => TryGetL4(network, ipv6, out src, out dst, out proto, out l4, out problem, out _, quoted);

    /// <summary>As above; <paramref name="fragment"/>: the packet is a first fragment (the model follows it alone).</summary>
    private static bool TryGetL4(ReadOnlySpan<byte> network, bool ipv6, out IpAddr src, out IpAddr dst, out byte proto,
        out ReadOnlySpan<byte> l4, out string? problem, out bool fragment, bool quoted = false)
    {
        fragment = false;
        src = dst = default;
        proto = 0;
        l4 = default;
        if (!ipv6)
        {
            if (!Ipv4Header.TryParse(network, out var ip, out problem)) { problem = $"invalid: {problem}"; return false; }
            if (ip.Version != 4 || ip.Ihl < 5 || !ip.HeaderComplete) { problem = "invalid: malformed IPv4 header"; return false; }
            src = ip.Source; dst = ip.Destination; proto = ip.Protocol;
            if (ip.FragmentOffset != 0) { problem = "invalid: non-first IPv4 fragment (conntrack sees reassembled datagrams)"; return false; }
            // A quoted datagram is cut short on purpose; its total length describes the original.
            l4 = quoted ? network[ip.HeaderLength..] : ip.Payload;
            fragment = ip.IsFragment;
            return true;
        }
        if (!Ipv6Header.TryParse(network, out var ip6, out problem)) { problem = $"invalid: {problem}"; return false; }
        if (ip6.Version != 6) { problem = "invalid: malformed IPv6 header"; return false; }
        src = ip6.Source; dst = ip6.Destination;
        var after = quoted ? ip6.AfterFixedHeader : ip6.Payload;
        Ipv6ExtensionHeaders.Walk(ip6.NextHeader, after, out var chain);
        if (chain.Problem is not null) { problem = $"invalid: {chain.Problem}"; return false; }
        if (chain.IsNonFirstFragment) { problem = "invalid: non-first IPv6 fragment (conntrack sees reassembled datagrams)"; return false; }
        proto = chain.UpperProtocol;
        l4 = after[chain.UpperOffset..];
        fragment = chain.HasFragment;
        problem = null;
        return true;
    }
}
