namespace PktFlow.Netfilter.Conntrack;

/// <summary>
/// The namespace's net.netfilter.nf_conntrack_* sysctls (nf_conntrack_standalone.c's table) as
/// <see cref="ConntrackSettings"/>: keys the lab does not set keep the kernel's defaults. A value that
/// is not a number fails the lab's load (<see cref="Problem"/>) naming the line.
/// </summary>
public static class ConntrackSysctls
{
    private const string Prefix = "net.netfilter.nf_conntrack_";

    /// <summary>Why a lab's <c>sysctl -w KEY=VALUE</c> for conntrack cannot be read, or null (the loader reports it).</summary>
    public static string? Problem(string key, string value) =>
        key.StartsWith(Prefix, StringComparison.Ordinal) && !(int.TryParse(value.Trim(), out int n) && n >= 0)
            ? $"sysctl {key} = '{value}': expected a number of seconds (or 0/1)" : null;

    public static ConntrackSettings From(Topology.Sysctls sysctls)
    {
        ArgumentNullException.ThrowIfNull(sysctls);
        var d = ConntrackSettings.Default;
        int Int(string name, int fallback)
        {
            var v = sysctls.Get(Prefix + name);
            if (v is null) return fallback;
            return Problem(Prefix + name, v) is { } why ? throw new FormatException(why) : int.Parse(v.Trim());
        }
        return new ConntrackSettings
        {
            TcpLoose = Int("tcp_loose", d.TcpLoose ? 1 : 0) != 0,
            TcpBeLiberal = Int("tcp_be_liberal", d.TcpBeLiberal ? 1 : 0) != 0,
            Checksum = Int("checksum", d.Checksum ? 1 : 0) != 0,
            Acct = Int("acct", d.Acct ? 1 : 0) != 0,
            TcpTimeoutSynSent = Int("tcp_timeout_syn_sent", d.TcpTimeoutSynSent),
            TcpTimeoutSynRecv = Int("tcp_timeout_syn_recv", d.TcpTimeoutSynRecv),
            TcpTimeoutEstablished = Int("tcp_timeout_established", d.TcpTimeoutEstablished),
            TcpTimeoutFinWait = Int("tcp_timeout_fin_wait", d.TcpTimeoutFinWait),
            TcpTimeoutCloseWait = Int("tcp_timeout_close_wait", d.TcpTimeoutCloseWait),
            TcpTimeoutLastAck = Int("tcp_timeout_last_ack", d.TcpTimeoutLastAck),
            TcpTimeoutTimeWait = Int("tcp_timeout_time_wait", d.TcpTimeoutTimeWait),
            TcpTimeoutClose = Int("tcp_timeout_close", d.TcpTimeoutClose),
            TcpTimeoutMaxRetrans = Int("tcp_timeout_max_retrans", d.TcpTimeoutMaxRetrans),
            TcpTimeoutUnacknowledged = Int("tcp_timeout_unacknowledged", d.TcpTimeoutUnacknowledged),
            UdpTimeout = Int("udp_timeout", d.UdpTimeout),
            UdpTimeoutStream = Int("udp_timeout_stream", d.UdpTimeoutStream),
            IcmpTimeout = Int("icmp_timeout", d.IcmpTimeout),
            Icmpv6Timeout = Int("icmpv6_timeout", d.Icmpv6Timeout),
            GenericTimeout = Int("generic_timeout", d.GenericTimeout),
            GreTimeout = Int("gre_timeout", d.GreTimeout),
            GreTimeoutStream = Int("gre_timeout_stream", d.GreTimeoutStream),
            SctpTimeoutClosed = Int("sctp_timeout_closed", d.SctpTimeoutClosed),
            SctpTimeoutCookieWait = Int("sctp_timeout_cookie_wait", d.SctpTimeoutCookieWait),
            SctpTimeoutCookieEchoed = Int("sctp_timeout_cookie_echoed", d.SctpTimeoutCookieEchoed),
            SctpTimeoutEstablished = Int("sctp_timeout_established", d.SctpTimeoutEstablished),
            SctpTimeoutShutdownSent = Int("sctp_timeout_shutdown_sent", d.SctpTimeoutShutdownSent),
            SctpTimeoutShutdownRecd = Int("sctp_timeout_shutdown_recd", d.SctpTimeoutShutdownRecd),
            SctpTimeoutShutdownAckSent = Int("sctp_timeout_shutdown_ack_sent", d.SctpTimeoutShutdownAckSent),
            SctpTimeoutHeartbeatSent = Int("sctp_timeout_heartbeat_sent", d.SctpTimeoutHeartbeatSent),
        };
    }
}
