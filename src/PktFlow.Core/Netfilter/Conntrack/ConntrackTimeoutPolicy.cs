using PktFlow.Wire;

namespace PktFlow.Netfilter.Conntrack;

/// <summary>
/// A timeout policy (struct nf_ct_timeout, nf_conntrack_timeout.c) as an nft <c>ct timeout</c> object
/// gives it: the protocol's per-state timeouts, in seconds. States the object does not name keep the
/// kernel's built-in defaults, not the namespace's sysctls: nft sends every state (its own default
/// table), checked on 6.18 with nft 1.0.6 (nf_conntrack_udp_timeout=33 and a policy naming only
/// replied: the entry got 30 s). An entry carrying a policy (the nf_conn_timeout extension) reads its
/// timeouts from it instead of the sysctls (nf_ct_timeout_lookup in the trackers).
/// </summary>
public sealed class ConntrackTimeoutPolicy
{
    /// <summary>nft's state names per protocol and how each sets the policy's timeouts.</summary>
    private static readonly Dictionary<string, Func<ConntrackSettings, int, ConntrackSettings>> Tcp = new()
    {
        ["syn_sent"] = (s, v) => s with { TcpTimeoutSynSent = v },
        ["syn_recv"] = (s, v) => s with { TcpTimeoutSynRecv = v },
        ["established"] = (s, v) => s with { TcpTimeoutEstablished = v },
        ["fin_wait"] = (s, v) => s with { TcpTimeoutFinWait = v },
        ["close_wait"] = (s, v) => s with { TcpTimeoutCloseWait = v },
        ["last_ack"] = (s, v) => s with { TcpTimeoutLastAck = v },
        ["time_wait"] = (s, v) => s with { TcpTimeoutTimeWait = v },
        ["close"] = (s, v) => s with { TcpTimeoutClose = v },
        ["syn_sent2"] = (s, v) => s with { TcpTimeoutSynSent2 = v },
        ["retrans"] = (s, v) => s with { TcpTimeoutMaxRetrans = v },
        ["unack"] = (s, v) => s with { TcpTimeoutUnacknowledged = v },
    };

    private static readonly Dictionary<string, Func<ConntrackSettings, int, ConntrackSettings>> Udp = new()
    {
        ["unreplied"] = (s, v) => s with { UdpTimeout = v },
        ["replied"] = (s, v) => s with { UdpTimeoutStream = v },
    };

    private ConntrackTimeoutPolicy(string name, byte protocol, ConntrackSettings timeouts, string text, byte? l3Family = null)
    {
        Name = name;
        Protocol = protocol;
        Timeouts = timeouts;
        Text = text;
        L3Family = l3Family;
    }

    /// <summary>The address family a cttimeout (nfct) policy is for (AF_INET 2, AF_INET6 10); null for nft's objects.</summary>
    public byte? L3Family { get; }

    /// <summary>The generic tracker's protocol number (nf_conntrack_l4proto_generic.l4proto).</summary>
    public const byte GenericProtocol = 255;

    /// <summary>The ct timeout object's name.</summary>
    public string Name { get; }

    /// <summary>The layer 4 protocol the policy is for (nft_ct_timeout_obj_eval ignores other packets).</summary>
    public byte Protocol { get; }

    /// <summary>The timeouts the entry uses: the built-in defaults with the policy's states set.</summary>
    public ConntrackSettings Timeouts { get; }

    /// <summary>The policy as written (<c>established 120, close 10</c>).</summary>
    public string Text { get; }

    /// <summary>The state names nft knows for <paramref name="protocol"/> (tcp, udp), or null.</summary>
    public static IReadOnlyCollection<string>? States(string protocol) => protocol switch
    {
        "tcp" => Tcp.Keys,
        "udp" => Udp.Keys,
        _ => null,
    };

    /// <summary>The policy for <paramref name="protocol"/> with the given state timeouts; throws
    /// <see cref="ArgumentException"/> naming an unknown protocol or state.</summary>
    public static ConntrackTimeoutPolicy Create(string name, string protocol, IEnumerable<KeyValuePair<string, int>> states)
    {
        var (proto, setters) = protocol switch
        {
            "tcp" => (IpProtocol.Tcp, Tcp),
            "udp" => (IpProtocol.Udp, Udp),
            _ => throw new ArgumentException($"unsupported: a timeout policy for protocol {protocol} (tcp and udp are known)"),
        };
        var t = ConntrackSettings.Default;
        var text = new List<string>();
        foreach (var (state, seconds) in states)
        {
            if (!setters.TryGetValue(state, out var set)) throw new ArgumentException($"'{state}' is not a {protocol} conntrack state");
            t = set(t, seconds);
            text.Add($"{state} {seconds}");
        }
        return new ConntrackTimeoutPolicy(name, proto, t, string.Join(", ", text));
    }

    /// <summary>
    /// What nft_ct_timeout_obj_eval sets on a connection not yet confirmed: the policy is attached and
    /// the entry's timeout becomes the policy's first value (timeouts[0]: SYN_SENT for TCP, UNREPLIED
    /// for UDP), counted from now. Later packets' trackers read the policy.
    /// </summary>
    public int InitialTimeout => Protocol switch
    {
        IpProtocol.Tcp => Timeouts.TcpTimeoutSynSent,
        IpProtocol.Udp or IpProtocol.UdpLite => Timeouts.UdpTimeout,
        IpProtocol.Icmp => Timeouts.IcmpTimeout,
        IpProtocol.Icmpv6 => Timeouts.Icmpv6Timeout,
        IpProtocol.Gre => Timeouts.GreTimeout,
        IpProtocol.Sctp => Timeouts.SctpTimeoutClosed,
        _ => Timeouts.GenericTimeout,
    };

    /// <summary>
    /// A cttimeout policy as <c>nfct add timeout NAME inet|inet6 PROTO STATE SECONDS ...</c> makes it
    /// (cttimeout_new_timeout, the trackers' ctnl_timeout.nlattr_to_obj): states it does not name take
    /// the namespace's sysctls at that moment (<paramref name="sysctls"/>), not the kernel's defaults as
    /// nft's objects do; checked on 6.18 with nfct 1.4.7 (nf_conntrack_udp_timeout=33 and a policy naming
    /// only replied: nfct list timeout shows UNREPLIED = 33). State names are nfct's, in any case.
    /// Throws <see cref="ArgumentException"/> with nfct's own words for an unknown protocol or state.
    /// </summary>
    public static ConntrackTimeoutPolicy CreateCttimeout(string name, string family, string protocol,
        IEnumerable<KeyValuePair<string, int>> states, ConntrackSettings sysctls)
    {
        byte l3 = family switch
        {
            "inet" => 2,
            "inet6" => 10,
            _ => throw new ArgumentException($"Unknown layer 3 protocol `{family}'"),
        };
        var proto = protocol.ToLowerInvariant();
        // no DCCP tracker on 6.18 (nfct: "netlink error: Operation not supported")
        if (!Cttimeout.TryGetValue(proto, out var known)) throw new ArgumentException($"unsupported: a cttimeout policy for protocol {protocol} (nfct: Operation not supported)");
        var t = sysctls;
        var text = new List<string>();
        foreach (var (state, seconds) in states)
        {
            if (!known.States.TryGetValue(state, out var set)) throw new ArgumentException($"Wrong state name: `{state}' for protocol `{protocol}'");
            t = set(t, seconds);
            text.Add($"{state.ToLowerInvariant()} {seconds}");
        }
        return new ConntrackTimeoutPolicy(name, known.Number, t, string.Join(", ", text), l3);
    }

    private static Dictionary<string, Func<ConntrackSettings, int, ConntrackSettings>> Names(params (string, Func<ConntrackSettings, int, ConntrackSettings>)[] states) =>
        states.ToDictionary(x => x.Item1, x => x.Item2, StringComparer.OrdinalIgnoreCase);

    /// <summary>nfct's protocols and state names (libnetfilter_cttimeout), with the tracker each feeds.</summary>
    private static readonly Dictionary<string, (byte Number, Dictionary<string, Func<ConntrackSettings, int, ConntrackSettings>> States)> Cttimeout = new()
    {
        ["tcp"] = (IpProtocol.Tcp, Names(("syn_sent", Tcp["syn_sent"]), ("syn_recv", Tcp["syn_recv"]), ("established", Tcp["established"]),
            ("fin_wait", Tcp["fin_wait"]), ("close_wait", Tcp["close_wait"]), ("last_ack", Tcp["last_ack"]), ("time_wait", Tcp["time_wait"]),
            ("close", Tcp["close"]), ("syn_sent2", Tcp["syn_sent2"]), ("retrans", Tcp["retrans"]), ("unacknowledged", Tcp["unack"]))),
        ["udp"] = (IpProtocol.Udp, Names(("unreplied", Udp["unreplied"]), ("replied", Udp["replied"]))),
        ["udplite"] = (IpProtocol.UdpLite, Names(("unreplied", Udp["unreplied"]), ("replied", Udp["replied"]))),
        ["icmp"] = (IpProtocol.Icmp, Names(("timeout", (s, v) => s with { IcmpTimeout = v }))),
        ["icmpv6"] = (IpProtocol.Icmpv6, Names(("timeout", (s, v) => s with { Icmpv6Timeout = v }))),
        ["gre"] = (IpProtocol.Gre, Names(("unreplied", (s, v) => s with { GreTimeout = v }), ("replied", (s, v) => s with { GreTimeoutStream = v }))),
        ["generic"] = (GenericProtocol, Names(("timeout", (s, v) => s with { GenericTimeout = v }))),
        ["sctp"] = (IpProtocol.Sctp, Names(("closed", (s, v) => s with { SctpTimeoutClosed = v }), ("cookie_wait", (s, v) => s with { SctpTimeoutCookieWait = v }),
            ("cookie_echoed", (s, v) => s with { SctpTimeoutCookieEchoed = v }), ("established", (s, v) => s with { SctpTimeoutEstablished = v }),
            ("shutdown_sent", (s, v) => s with { SctpTimeoutShutdownSent = v }), ("shutdown_recd", (s, v) => s with { SctpTimeoutShutdownRecd = v }),
            ("shutdown_ack_sent", (s, v) => s with { SctpTimeoutShutdownAckSent = v }), ("heartbeat_sent", (s, v) => s with { SctpTimeoutHeartbeatSent = v }))),
    };

    /// <summary>
    /// The tracker a packet of IP protocol <paramref name="protocol"/> meets (nf_ct_l4proto_find): its own
    /// for those conntrack has one for on 6.18, else the generic one (DCCP among them).
    /// </summary>
    public static byte Tracker(int protocol) => protocol is IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.UdpLite or IpProtocol.Icmp
        or IpProtocol.Icmpv6 or IpProtocol.Gre or IpProtocol.Sctp ? (byte)protocol : GenericProtocol;

    public override string ToString() => Text;
}
