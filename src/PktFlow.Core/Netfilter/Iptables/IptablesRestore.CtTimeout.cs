using PktFlow.Netfilter.Conntrack;

namespace PktFlow.Netfilter.Iptables;

public static partial class IptablesRestore
{
    /// <summary>
    /// <c>-j CT --timeout NAME</c> in table raw: xt_ct_tg_check -> xt_ct_set_timeout refuses the rule
    /// (EINVAL, iptables: "RULE_APPEND failed (Invalid argument)") without a positive -p, without a
    /// cttimeout policy of that name (made before the rule, by nfct), for the other address family, or
    /// for another tracker than the one the rule's protocol meets (a generic policy fits a protocol
    /// without its own tracker); all checked on 6.18 with iptables-nft 1.8.9 and nfct 1.4.7. The rule
    /// is an xtables compat target (nft lists `xt target CT`).
    /// </summary>
    private static ConntrackTimeoutPolicy CtTimeoutPolicy(string name, bool v6, int? proto, IptablesLoadOptions? opt,
        Func<string, string, IptablesParseException> E)
    {
        string Refused(string why) => $"CT --timeout {name}: Invalid argument ({why})";
        if (proto is not { } p) throw E("--timeout", Refused("you must specify a L4 protocol and not use inversions on it"));
        if (opt?.CtTimeouts is null || !opt.CtTimeouts.TryGetValue(name, out var policy))
            throw E(name, Refused($"No such timeout policy \"{name}\"; make it first with nfct add timeout"));
        byte family = v6 ? (byte)10 : (byte)2;
        if (policy.L3Family != family)
            throw E(name, Refused($"Timeout policy base is family {policy.L3Family} while rule is {family}"));
        if (policy.Protocol != ConntrackTimeoutPolicy.Tracker(p))
            throw E(name, Refused($"Timeout policy base is for l4 proto {policy.Protocol} while rule is {p}"));
        return policy;
    }
}
