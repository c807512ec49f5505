using System.Text;
using PktFlow.Wire;

namespace PktFlow.Netfilter.Conntrack;

/// <summary>
/// One connection (struct nf_conn): the tuples of both directions, the status bits that nft's
/// <c>ct status</c> reads, the TCP state, mark, zone and the absolute expiry on the capture clock.
/// </summary>
public sealed class ConntrackEntry
{
    private ConntrackTuple _reply;

    internal ConntrackEntry(ConntrackTuple original, ConntrackZone zone, long createdNs)
    {
        Original = original;
        _reply = Invert(original);
        ZoneKey = zone;
        CreatedNs = createdNs;
    }

    public ConntrackTuple Original { get; }

    /// <summary>
    /// The tuple replies carry. NAT rewrites it on the first packet, before confirmation
    /// (nf_nat_setup_info -> nf_conntrack_alter_reply); once confirmed it is part of the table's key.
    /// </summary>
    public ConntrackTuple Reply
    {
        get => _reply;
        set
        {
            if (Confirmed) throw new InvalidOperationException("the reply tuple of a confirmed conntrack entry cannot change (NAT binds on the first packet only)");
            _reply = value;
        }
    }

    /// <summary>IPS_CONFIRMED: inserted into the table by __nf_conntrack_confirm.</summary>
    public bool Confirmed { get; internal set; }
    /// <summary>IPS_SEEN_REPLY: a packet in the reply direction went through nf_conntrack_in.</summary>
    public bool SeenReply { get; internal set; }
    /// <summary>IPS_ASSURED: not early-dropped when the table is full.</summary>
    public bool Assured { get; internal set; }
    /// <summary>IPS_SRC_NAT / IPS_DST_NAT, for NAT to set.</summary>
    public bool SourceNat { get; set; }
    public bool DestinationNat { get; set; }
    /// <summary>IPS_SRC_NAT_DONE / IPS_DST_NAT_DONE: the nat chains of that manipulation type ran for the
    /// connection (a binding or the null binding is set: nf_nat_initialized); they never run for it again.</summary>
    public bool SourceNatDone { get; set; }
    public bool DestinationNatDone { get; set; }
    public TcpCtState TcpState { get; internal set; }
    public uint Mark { get; set; }
    /// <summary>The zone id (nft's <c>ct zone</c>); <see cref="ZoneKey"/> says which directions it applies to.</summary>
    public ushort Zone => ZoneKey.Id;
    /// <summary>The zone the conntrack template gave the connection when it was made (nf_ct_zone).</summary>
    public ConntrackZone ZoneKey { get; }
    /// <summary>
    /// The connection's labels (nf_conn_labels, 128 bits; bit N is label N of connlabel.conf), set by nft's
    /// <c>ct label set</c> and xt_connlabel <c>--set</c>; never cleared by a rule.
    /// </summary>
    public UInt128 Labels { get; internal set; }
    /// <summary>Capture time (ns) after which the entry is gone (nf_ct_is_expired).</summary>
    public long ExpiresNs { get; internal set; }
    public long CreatedNs { get; }
    /// <summary>The connection whose helper expected this one (ct->master, IPS_EXPECTED), or null.</summary>
    public ConntrackEntry? Master { get; internal set; }
    /// <summary>The helper assigned to the connection (nf_conn_help; conntrack -L prints helper=NAME), or null.</summary>
    public ConntrackHelper? Helper { get; internal set; }
    /// <summary>The FTP helper's memory of the connection (struct nf_ct_ftp_master).</summary>
    internal FtpSeqState? Ftp;
    /// <summary>The sequence number adjustments NAT helpers made (struct nf_conn_seqadj; IPS_SEQ_ADJUST when set), or null.</summary>
    internal ConntrackSeqAdj? SeqAdj;
    /// <summary>The synproxy extension a connection opened by the synproxy target carries (nf_conn_synproxy), or null.</summary>
    internal ConntrackSynproxy? Synproxy;
    /// <summary>The NAT helper's expectation this new connection matched, until nf_nat_follow_master gives it the master's NAT.</summary>
    internal ConntrackExpectation? FollowMaster;
    /// <summary>The timeout policy an nft <c>ct timeout set</c> attached before confirmation (nf_conn_timeout), or null: the sysctls.</summary>
    public ConntrackTimeoutPolicy? TimeoutPolicy { get; internal set; }
    /// <summary>Removed from the table (nf_ct_kill), e.g. by a RST before any reply.</summary>
    public bool Dying { get; internal set; }

    // struct nf_conn_acct: packets and bytes (skb->len from the network header) per direction, added by
    // __nf_ct_refresh_acct when the tracker accepts a packet, so a rule already sees the current one.
    // Always counted (ct bytes/packets read them); conntrack -L shows them only for an entry that has the
    // extension, i.e. made while nf_conntrack_acct was on (nf_ct_acct_ext_add in init_conntrack).
    /// <summary>The entry carries the accounting extension: conntrack -L prints packets= bytes= per direction.</summary>
    public bool Accounting { get; internal init; }
    private readonly ulong[] _packets = new ulong[2], _bytes = new ulong[2];
    public ulong OriginalPackets => _packets[0];
    public ulong OriginalBytes => _bytes[0];
    public ulong ReplyPackets => _packets[1];
    public ulong ReplyBytes => _bytes[1];
    internal void Account(CtDirection dir, int networkLength) { _packets[(int)dir]++; _bytes[(int)dir] += (ulong)networkLength; }

    // TCP tracking details (struct ip_ct_tcp, reduced).
    internal bool CloseInitOriginal, CloseInitReply;      // IP_CT_TCP_FLAG_CLOSE_INIT per direction
    internal TcpFlagClass LastIndex = TcpFlagClass.None;
    internal CtDirection LastDirection;
    /// <summary>last_end: where the last ignored segment ended (seq + length, SYN and FIN counting one).</summary>
    internal uint LastEnd;
    internal bool MidStreamPickup;

    // SCTP tracking details (struct ip_ct_sctp): the state, each direction's verification tag, whether
    // each side sent an INIT, and the heartbeat tag-change handshake of a secondary path.
    public SctpCtState SctpState { get; internal set; }
    private uint[]? _sctpVtag;
    private bool[]? _sctpInit;
    internal uint[] SctpVtag => _sctpVtag ??= new uint[2];
    internal bool[] SctpInit => _sctpInit ??= new bool[2];
    internal bool SctpHeartbeatVtagFailed;
    internal CtDirection SctpLastDirection;

    /// <summary>The protocol's state as conntrack -L prints it (TCP and SCTP), or null.</summary>
    public string? ProtocolState => Original.Protocol switch
    {
        IpProtocol.Tcp => ConntrackProtocols.StateName(TcpState),
        IpProtocol.Sctp => SctpConntrack.StateName(SctpState),
        _ => null,
    };

    /// <summary>The capture time this entry was last printed against (the table's last lookup).</summary>
    internal long NowNs;

    public bool IsExpired(long nowNs) => nowNs >= ExpiresNs;

    /// <summary>Seconds left, as conntrack -L prints them (rounded down, never below 0).</summary>
    public long SecondsLeft(long nowNs) => Math.Max(0, (ExpiresNs - nowNs) / 1_000_000_000);

    /// <summary>The status bits set, in the kernel's bit order (enum ip_conntrack_status).</summary>
    public string Status
    {
        get
        {
            var parts = new List<string>(6);
            if (Master is not null) parts.Add("EXPECTED");
            if (SeenReply) parts.Add("SEEN_REPLY");
            if (Assured) parts.Add("ASSURED");
            if (Confirmed) parts.Add("CONFIRMED");
            if (SourceNat) parts.Add("SRC_NAT");
            if (DestinationNat) parts.Add("DST_NAT");
            if (SeqAdj is not null) parts.Add("SEQ_ADJUST");
            if (SourceNatDone) parts.Add("SRC_NAT_DONE");
            if (DestinationNatDone) parts.Add("DST_NAT_DONE");
            if (Dying) parts.Add("DYING");
            return parts.Count == 0 ? "" : string.Join('|', parts);
        }
    }

    /// <summary>One line shaped like <c>conntrack -L</c> (conntrack-tools' default output), timeout
    /// counted from the table's last lookup time.</summary>
    public override string ToString() => ToString(NowNs);

    public string ToString(long nowNs)
    {
        var sb = new StringBuilder(160);
        string name = ConntrackProtocols.Name(Original.Protocol);
        sb.Append(name.PadRight(8)).Append(' ').Append(Original.Protocol).Append(' ').Append(SecondsLeft(nowNs)).Append(' ');
        if (ProtocolState is { } state) sb.Append(state).Append(' ');
        sb.Append(Original).Append(ZoneKey.ListingWord(CtDirection.Original));
        if (Accounting) sb.Append(" packets=").Append(OriginalPackets).Append(" bytes=").Append(OriginalBytes);
        if (!SeenReply) sb.Append(" [UNREPLIED]");
        sb.Append(' ').Append(Reply).Append(ZoneKey.ListingWord(CtDirection.Reply));
        if (Accounting) sb.Append(" packets=").Append(ReplyPackets).Append(" bytes=").Append(ReplyBytes);
        if (Assured) sb.Append(" [ASSURED]");
        sb.Append(" mark=").Append(Mark);
        sb.Append(ZoneKey.ListingWord(null));
        if (Helper is not null) sb.Append(" helper=").Append(Helper.Name);
        sb.Append(" use=1");
        return sb.ToString();
    }

    /// <summary>nf_ct_invert_tuple: swap addresses and ports; ICMP queries swap the type
    /// (echo 8 &lt;-&gt; 0, timestamp 13 &lt;-&gt; 14, info 15 &lt;-&gt; 16, mask 17 &lt;-&gt; 18; ICMPv6 echo 128 &lt;-&gt; 129,
    /// node information 139 &lt;-&gt; 140) and keep id and code.</summary>
    public static ConntrackTuple Invert(ConntrackTuple t)
    {
        if (t.IsIcmp)
        {
            byte type = InvertIcmpType(t.Protocol, t.IcmpType) ?? t.IcmpType;
            return ConntrackTuple.Icmp(t.Destination, t.Source, t.Protocol, type, t.IcmpCode, t.IcmpId);
        }
        return new ConntrackTuple(t.Destination, t.Source, t.Protocol, t.DestinationPort, t.SourcePort);
    }

    /// <summary>The reply type of an ICMP/ICMPv6 query type, or null when the kernel cannot invert it
    /// (icmp_invert_tuple / icmpv6_invert_tuple refuse, so no entry is made).</summary>
    internal static byte? InvertIcmpType(byte protocol, byte type) => protocol == IpProtocol.Icmp
        ? type switch
        {
            IcmpHeader.EchoRequest => IcmpHeader.EchoReply,
            IcmpHeader.EchoReply => IcmpHeader.EchoRequest,
            IcmpHeader.Timestamp => IcmpHeader.TimestampReply,
            IcmpHeader.TimestampReply => IcmpHeader.Timestamp,
            IcmpHeader.InfoRequest => IcmpHeader.InfoReply,
            IcmpHeader.InfoReply => IcmpHeader.InfoRequest,
            IcmpHeader.AddressMaskRequest => IcmpHeader.AddressMaskReply,
            IcmpHeader.AddressMaskReply => IcmpHeader.AddressMaskRequest,
            _ => null,
        }
        : type switch
        {
            Icmpv6Header.EchoRequest => Icmpv6Header.EchoReply,
            Icmpv6Header.EchoReply => Icmpv6Header.EchoRequest,
            139 => 140,
            140 => 139,
            _ => null,
        };
}
