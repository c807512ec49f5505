using PktFlow.Wire;

namespace PktFlow.Netfilter.Conntrack;

/// <summary>
/// One direction of a connection, as struct nf_conntrack_tuple keys it (include/net/netfilter/nf_conntrack_tuple.h).
/// TCP, UDP, UDP-Lite and SCTP carry their ports (DCCP's tracker is gone in 6.18: generic). ICMP and ICMPv6 queries carry the identifier in
/// <see cref="SourcePort"/> (src.u.icmp.id) and type &lt;&lt; 8 | code in <see cref="DestinationPort"/>
/// (dst.u.icmp.type / code). GRE carries its keys (src.u.gre.key / dst.u.gre.key; 0 but for PPTP's
/// enhanced GRE). Every other protocol is keyed by addresses and protocol only (ports 0).
/// </summary>
public readonly record struct ConntrackTuple(IpAddr Source, IpAddr Destination, byte Protocol, ushort SourcePort, ushort DestinationPort)
{
    public bool IsIcmp => Protocol is IpProtocol.Icmp or IpProtocol.Icmpv6;
    public byte IcmpType => (byte)(DestinationPort >> 8);
    public byte IcmpCode => (byte)DestinationPort;
    public ushort IcmpId => SourcePort;

    public static ConntrackTuple Icmp(IpAddr source, IpAddr destination, byte protocol, byte type, byte code, ushort id) =>
        new(source, destination, protocol, id, (ushort)(type << 8 | code));

    /// <summary>The tuple as conntrack -L prints it: src= dst= then sport/dport or type/code/id.</summary>
    public override string ToString()
    {
        var head = $"src={Source} dst={Destination}";
        if (IsIcmp) return $"{head} type={IcmpType} code={IcmpCode} id={IcmpId}";
        if (Protocol == IpProtocol.Gre) return $"{head} srckey=0x{SourcePort:x} dstkey=0x{DestinationPort:x}";
        // conntrack-tools prints DCCP's ports though the generic tracker keyed it without (0)
        return ConntrackProtocols.HasPorts(Protocol) || Protocol == ConntrackProtocols.Dccp ? $"{head} sport={SourcePort} dport={DestinationPort}" : head;
    }
}

/// <summary>What nft's <c>ct state</c> sees (enum ip_conntrack_info folded the way nft_ct does).</summary>
public enum CtState { New, Established, Related, Invalid, Untracked }

/// <summary>enum ip_conntrack_dir.</summary>
public enum CtDirection { Original, Reply }

/// <summary>enum tcp_conntrack (include/uapi/linux/netfilter/nf_conntrack_tcp.h), in the kernel's order.</summary>
public enum TcpCtState { None, SynSent, SynRecv, Established, FinWait, CloseWait, LastAck, TimeWait, Close, SynSent2 }

/// <summary>The result of <see cref="ConntrackTable.In"/> for one packet.</summary>
/// <param name="Entry">The entry the packet is attached to (skb->_nfct); null for INVALID and UNTRACKED.</param>
/// <param name="Detail">Why, in words a user can act on.</param>
public sealed record CtLookup(ConntrackEntry? Entry, CtState State, CtDirection Direction, string Detail)
{
    /// <summary>True when the entry was created by this packet and is not yet in the table.</summary>
    public bool IsNewEntry => Entry is { Confirmed: false };

    /// <summary>
    /// nf_conntrack_attach (via nf_ct_attach): a packet the kernel builds in answer to this one (a reject's
    /// reset or ICMP error, any icmp_send / icmpv6_send error) carries this packet's connection with
    /// ctinfo RELATED_REPLY when this packet went in the original direction, RELATED otherwise. Null
    /// when this packet has no conntrack entry (then nothing is attached and conntrack looks the answer up).
    /// </summary>
    public CtLookup? AttachedToAnswer() => Entry is null ? null : new CtLookup(Entry, CtState.Related,
        Direction == CtDirection.Original ? CtDirection.Reply : CtDirection.Original,
        $"attached by nf_ct_attach: the connection of the packet it answers ({Entry.Original}), ctinfo {(Direction == CtDirection.Original ? "RELATED_REPLY" : "RELATED")}")
    { Attached = true, NatComplete = Entry.SourceNatDone && Entry.DestinationNatDone };

    /// <summary>An ICMP error RELATED to the flow it quotes (nf_conntrack_handle_icmp): no tracker ran for it.</summary>
    public bool QuotesFlow { get; init; }

    /// <summary>The tracker accepted the packet without nf_ct_refresh_acct (a TCP segment ignored by
    /// the state table, a SYN in SYN_SENT before any reply): neither the timeout nor the counters move.</summary>
    public bool NotAccounted { get; init; }

    /// <summary>Set on the conntrack of a generated packet by nf_ct_attach: nf_conntrack_in skips it.</summary>
    public bool Attached { get; init; }

    /// <summary>Whether both NAT manipulations of the connection were set up (IPS_NAT_DONE_MASK) when
    /// nf_ct_attach gave it to a generated packet: the packet is traced after its cause, which may
    /// complete them meanwhile. Null for a looked-up conntrack.</summary>
    public bool? NatComplete { get; init; }
}

/// <summary>
/// The per-namespace sysctls of nf_conntrack that change tracking (net.netfilter.nf_conntrack_*),
/// with the kernel's defaults. Timeouts are in seconds, as the sysctls are.
/// </summary>
public sealed record ConntrackSettings
{
    public static ConntrackSettings Default { get; } = new();

    /// <summary>nf_conntrack_tcp_loose: pick up connections mid-stream (default 1).</summary>
    public bool TcpLoose { get; init; } = true;
    /// <summary>nf_conntrack_tcp_be_liberal: only RSTs are checked against the window (default 0). The
    /// model does not track windows, so it always behaves as if this were 1; kept for reporting.</summary>
    public bool TcpBeLiberal { get; init; }
    /// <summary>nf_conntrack_acct: entries made from now on count packets and bytes (nf_conn_acct), which
    /// conntrack -L then prints. A rule reading ct bytes/packets/avgpkt turns it on (nf_ct_set_acct).</summary>
    public bool Acct { get; init; }
    /// <summary>The label names conntrack -L prints (labels=NAME,...; /etc/xtables/connlabel.conf); null: labels are not printed.</summary>
    public ConnLabelMap? LabelNames { get; init; }

    public int TcpTimeoutSynSent { get; init; } = 120;
    public int TcpTimeoutSynRecv { get; init; } = 60;
    public int TcpTimeoutEstablished { get; init; } = 432000;
    public int TcpTimeoutFinWait { get; init; } = 120;
    public int TcpTimeoutCloseWait { get; init; } = 60;
    public int TcpTimeoutLastAck { get; init; } = 30;
    public int TcpTimeoutTimeWait { get; init; } = 120;
    public int TcpTimeoutClose { get; init; } = 10;
    /// <summary>SYN_SENT2 (simultaneous open): no sysctl, the SYN_SENT default; a timeout policy may set it.</summary>
    public int TcpTimeoutSynSent2 { get; init; } = 120;
    /// <summary>nf_conntrack_tcp_timeout_max_retrans, also used when the peer's window is 0.</summary>
    public int TcpTimeoutMaxRetrans { get; init; } = 300;
    /// <summary>nf_conntrack_tcp_timeout_unacknowledged: also the cap on a connection that is not yet
    /// ASSURED (a mid-stream pickup shows 300 s in ESTABLISHED until its second answered packet; checked on 6.18).</summary>
    public int TcpTimeoutUnacknowledged { get; init; } = 300;
    public int UdpTimeout { get; init; } = 30;
    public int UdpTimeoutStream { get; init; } = 120;
    public int IcmpTimeout { get; init; } = 30;
    public int Icmpv6Timeout { get; init; } = 30;
    public int GenericTimeout { get; init; } = 600;
    /// <summary>nf_conntrack_gre_timeout: a GRE flow not answered yet.</summary>
    public int GreTimeout { get; init; } = 30;
    /// <summary>nf_conntrack_gre_timeout_stream: once traffic went both ways.</summary>
    public int GreTimeoutStream { get; init; } = 180;
    /// <summary>nf_conntrack_checksum: conntrack verifies the TCP, UDP, ICMP, ICMPv6 and SCTP checksums of incoming packets.</summary>
    public bool Checksum { get; init; } = true;
    /// <summary>nf_conntrack_sctp_timeout_*, per state (NONE, a new entry's, takes CLOSED's).</summary>
    public int SctpTimeoutClosed { get; init; } = 10;
    public int SctpTimeoutCookieWait { get; init; } = 3;
    public int SctpTimeoutCookieEchoed { get; init; } = 3;
    public int SctpTimeoutEstablished { get; init; } = 210;
    public int SctpTimeoutShutdownSent { get; init; } = 3;
    public int SctpTimeoutShutdownRecd { get; init; } = 3;
    public int SctpTimeoutShutdownAckSent { get; init; } = 3;
    public int SctpTimeoutHeartbeatSent { get; init; } = 30;

    public int SctpTimeout(SctpCtState state) => state switch
    {
        SctpCtState.CookieWait => SctpTimeoutCookieWait,
        SctpCtState.CookieEchoed => SctpTimeoutCookieEchoed,
        SctpCtState.Established => SctpTimeoutEstablished,
        SctpCtState.ShutdownSent => SctpTimeoutShutdownSent,
        SctpCtState.ShutdownRecd => SctpTimeoutShutdownRecd,
        SctpCtState.ShutdownAckSent => SctpTimeoutShutdownAckSent,
        SctpCtState.HeartbeatSent => SctpTimeoutHeartbeatSent,
        _ => SctpTimeoutClosed,
    };

    public int TcpTimeout(TcpCtState state) => state switch
    {
        TcpCtState.SynSent => TcpTimeoutSynSent,
        TcpCtState.SynSent2 => TcpTimeoutSynSent2,
        TcpCtState.SynRecv => TcpTimeoutSynRecv,
        TcpCtState.Established => TcpTimeoutEstablished,
        TcpCtState.FinWait => TcpTimeoutFinWait,
        TcpCtState.CloseWait => TcpTimeoutCloseWait,
        TcpCtState.LastAck => TcpTimeoutLastAck,
        TcpCtState.TimeWait => TcpTimeoutTimeWait,
        TcpCtState.Close => TcpTimeoutClose,
        _ => TcpTimeoutSynSent,
    };
}

internal static class ConntrackProtocols
{
    public const byte Dccp = 33;

    /// <summary>Protocols whose tuple carries ports. DCCP is not among them: 6.18 has no
    /// nf_conntrack_proto_dccp (no CONFIG_NF_CT_PROTO_DCCP, no nf_conntrack_dccp_* sysctls), so DCCP
    /// falls to the generic tracker, which conntrack -L still names "dccp" with ports 0.</summary>
    public static bool HasPorts(byte protocol) =>
        protocol is IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.UdpLite or IpProtocol.Sctp;

    /// <summary>Protocol name as conntrack -L prints it (the l4 column), "unknown" for generic.</summary>
    public static string Name(byte protocol) => protocol switch
    {
        IpProtocol.Tcp => "tcp",
        IpProtocol.Udp => "udp",
        IpProtocol.UdpLite => "udplite",
        IpProtocol.Icmp => "icmp",
        IpProtocol.Icmpv6 => "icmpv6",
        IpProtocol.Sctp => "sctp",
        IpProtocol.Gre => "gre",
        Dccp => "dccp",
        _ => "unknown",
    };

    public static string StateName(TcpCtState s) => s switch
    {
        TcpCtState.None => "NONE",
        TcpCtState.SynSent => "SYN_SENT",
        TcpCtState.SynRecv => "SYN_RECV",
        TcpCtState.Established => "ESTABLISHED",
        TcpCtState.FinWait => "FIN_WAIT",
        TcpCtState.CloseWait => "CLOSE_WAIT",
        TcpCtState.LastAck => "LAST_ACK",
        TcpCtState.TimeWait => "TIME_WAIT",
        TcpCtState.Close => "CLOSE",
        TcpCtState.SynSent2 => "SYN_SENT2",
        _ => s.ToString(),
    };
}
