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

    private ConntrackTimeoutPolicy(string name, byte protocol, ConntrackSettings timeouts, string text)
    {
        Name = name;
        Protocol = protocol;
        Timeouts = timeouts;
        Text = text;
    }

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
    public int InitialTimeout => Protocol == IpProtocol.Tcp ? Timeouts.TcpTimeoutSynSent : Timeouts.UdpTimeout;

    public override string ToString() => Text;
}
