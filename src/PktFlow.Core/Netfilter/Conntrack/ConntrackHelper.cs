using PktFlow.Wire;

namespace PktFlow.Netfilter.Conntrack;

/// <summary>
/// A conntrack helper (struct nf_conntrack_helper): its name, the layer-4 protocol it is registered
/// for and its expectation policy (nf_conntrack_expect_policy: how many expectations one connection may
/// hold at once, and how long each lives). Helpers are assigned explicitly (nft <c>ct helper set</c>,
/// iptables <c>-j CT --helper</c>): nf_conntrack_helper (automatic assignment by port) is 0 by default.
/// </summary>
public sealed class ConntrackHelper
{
    private ConntrackHelper(string name, byte protocol, int maxExpected, int expectTimeoutSeconds, string function)
    {
        Name = name;
        Protocol = protocol;
        MaxExpected = maxExpected;
        ExpectTimeoutSeconds = expectTimeoutSeconds;
        Function = function;
    }

    /// <summary>nf_conntrack_ftp: one expectation at a time, 5 minutes (ftp_exp_policy).</summary>
    public static ConntrackHelper Ftp { get; } = new("ftp", IpProtocol.Tcp, 1, 5 * 60, "help");

    /// <summary>nf_conntrack_tftp: one expectation at a time, 5 minutes (tftp_exp_policy).</summary>
    public static ConntrackHelper Tftp { get; } = new("tftp", IpProtocol.Udp, 1, 5 * 60, "tftp_help");

    public string Name { get; }
    public byte Protocol { get; }
    public int MaxExpected { get; }
    public int ExpectTimeoutSeconds { get; }
    /// <summary>The kernel function that parses the connection's packets (helper->help).</summary>
    public string Function { get; }

    /// <summary>The helpers the kernel has and the protocol each registers for (6.18: every
    /// CONFIG_NF_CONNTRACK_* helper; h323's are named RAS and Q.931). A name not here is refused as nft's
    /// object creation is (nf_conntrack_helper_try_module_get finds nothing: ENOENT).</summary>
    private static readonly Dictionary<string, byte[]> Known = new(StringComparer.Ordinal)
    {
        ["ftp"] = [IpProtocol.Tcp], ["tftp"] = [IpProtocol.Udp], ["irc"] = [IpProtocol.Tcp], ["sip"] = [IpProtocol.Tcp, IpProtocol.Udp],
        ["amanda"] = [IpProtocol.Udp], ["pptp"] = [IpProtocol.Tcp], ["sane"] = [IpProtocol.Tcp], ["snmp"] = [IpProtocol.Udp],
        ["snmp_trap"] = [IpProtocol.Udp], ["netbios-ns"] = [IpProtocol.Udp], ["RAS"] = [IpProtocol.Udp], ["Q.931"] = [IpProtocol.Tcp],
    };

    /// <summary>The modelled helper of that name for that protocol (ftp/tcp, tftp/udp), or null.</summary>
    public static ConntrackHelper? Find(string name, byte protocol) => (name, protocol) switch
    {
        ("ftp", IpProtocol.Tcp) => Ftp,
        ("tftp", IpProtocol.Udp) => Tftp,
        _ => null,
    };

    /// <summary>Whether the kernel has a helper of that name for that protocol (modelled or not).</summary>
    public static bool Exists(string name, byte protocol) => Known.TryGetValue(name, out var p) && p.Contains(protocol);

    public override string ToString() => Name;
}
