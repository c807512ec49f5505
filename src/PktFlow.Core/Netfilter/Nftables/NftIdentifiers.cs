namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// Which words nft's grammar takes as a table, chain, set, map or object name (its <c>identifier</c>:
/// a scanner STRING). A word the scanner always turns into a keyword token can never be one; a keyword
/// the scanner only knows inside a statement's scope (<c>in</c>, <c>state</c>, <c>saddr</c>, <c>name</c>)
/// is a plain string there and is accepted. Nft 1.0.6 also refuses a quoted name ("unexpected quoted
/// string, expecting string"). The list was measured with <c>nft -c -f</c> 1.0.6 on every token of its
/// grammar in each name position (table, chain, jump/goto and verdict map target, set, map, object,
/// @set reference, add/flush/delete commands): these words are refused in all of them, nothing else is.
/// </summary>
internal static class NftIdentifiers
{
    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "accept", "add", "ah", "all", "and", "arp", "auto-merge", "bridge", "cgroup", "chain", "comment", "comp",
        "constant", "continue", "counter", "cpu", "create", "ct", "day", "dccp", "define", "delete", "describe",
        "device", "devices", "dnat", "drop", "dst", "dup", "dynamic", "ecn", "element", "elements", "eq", "esp",
        "ether", "exists", "expires", "export", "exthdr", "fib", "flags", "flow", "flowtable", "flush", "frag",
        "fwd", "gc-interval", "ge", "get", "goto", "gt", "handle", "hbh", "hook", "hour", "ibriport", "ibrname",
        "icmp", "icmpv6", "igmp", "iif", "iifgroup", "iifname", "iiftype", "import", "include", "index", "inet",
        "insert", "interval", "ip", "ip6", "ipsec", "jhash", "jump", "le", "limit", "list", "log", "lshift", "lt",
        "map", "mark", "masquerade", "meta", "meter", "mh", "missing", "monitor", "ne", "netdev", "nftrace", "not",
        "notrack", "numgen", "obriport", "obrname", "offload", "oif", "oifgroup", "oifname", "oiftype", "or", "osf",
        "pkttype", "policy", "position", "priority", "queue", "quota", "random", "redefine", "redirect", "reject",
        "rename", "replace", "reset", "return", "rshift", "rt", "rt0", "rt2", "rtclassid", "rule", "ruleset",
        "sctp", "secmark", "set", "size", "skgid", "skuid", "snat", "socket", "srh", "symhash", "synproxy",
        "table", "tcp", "th", "time", "timeout", "tproxy", "type", "typeof", "udp", "udplite", "undefine",
        "update", "vlan", "vmap", "xor", "xt",
    };

    /// <summary>After '@' the scanner also knows the raw payload bases: a set named ll or nh cannot be referenced.</summary>
    private static readonly HashSet<string> ReservedAfterAt = new(StringComparer.Ordinal) { "ll", "nh" };

    public static bool IsReserved(string word) => Reserved.Contains(word);

    /// <summary>
    /// <paramref name="t"/> as a name, or nft's syntax error naming the token (<paramref name="expecting"/>
    /// is what nft says it wanted there: "string" for declarations, "'{'" after jump/goto).
    /// </summary>
    public static string Name(NftTok t, string expecting = "string")
    {
        if (t.Kind == TokKind.Word && !Reserved.Contains(t.Text)) return t.Text;
        throw NftTokenStream.Error(t, $"syntax error, unexpected {Describe(t)}, expecting {expecting}");
    }

    /// <summary>The set name of an <c>@name</c> token.</summary>
    public static string SetReference(NftTok t)
    {
        var name = t.Text[1..];
        if (Reserved.Contains(name) || ReservedAfterAt.Contains(name))
            throw new NftParseException(t.File, t.Line, t.Col + 1, name, $"syntax error, unexpected {name}, expecting string");
        return name;
    }

    private static string Describe(NftTok t) => t.Kind switch
    {
        TokKind.String => "quoted string",
        TokKind.Newline => "newline",
        TokKind.Eof => "end of file",
        TokKind.Punct => $"'{t.Text}'",
        _ => t.Text,
    };
}
