using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PktFlow.Netfilter.Nftables;

internal enum NftTypeKind { Int, Ipv4, Ipv6, Ether, Ifname, Bitmask, TcHandle, Time, Date, Hour, CtLabel }

/// <summary>A datatype of a key (nft's ipv4_addr, inet_service, tcp_flag...): width and symbols.</summary>
internal sealed class NftType
{
    public string Name { get; }
    public NftTypeKind Kind { get; }
    public int Length { get; }
    public IReadOnlyDictionary<string, ulong>? Symbols { get; }
    public NftType(string name, NftTypeKind kind, int length, IReadOnlyDictionary<string, ulong>? symbols = null)
    { Name = name; Kind = kind; Length = length; Symbols = symbols; }

    /// <summary>A flags type: a bare value matches when any of its bits is set (ct label's bits are label numbers).</summary>
    public bool IsBitmask => Kind is NftTypeKind.Bitmask or NftTypeKind.CtLabel;
    /// <summary>nft takes its values quoted too (<c>meta hour "17:00"</c>, <c>meta iifgroup "default"</c>, <c>meta skuid "root"</c>).</summary>
    public bool Quoted { get; init; }

    /// <summary>Parses one value word (no ranges or prefixes) into big-endian bytes; null if it is not one.</summary>
    public byte[]? Parse(string w)
    {
        switch (Kind)
        {
            case NftTypeKind.Ipv4:
                if (IPAddress.TryParse(w, out var a4) && a4.AddressFamily == AddressFamily.InterNetwork && w.Count(ch => ch == '.') == 3) return a4.GetAddressBytes();
                return InetAton(w);
            case NftTypeKind.Ipv6:
                var s6 = w.Trim('[', ']');
                if (s6.Contains(':') && IPAddress.TryParse(s6, out var a6) && a6.AddressFamily == AddressFamily.InterNetworkV6) return a6.GetAddressBytes();
                return null;
            case NftTypeKind.Ether:
                var parts = w.Split(':');
                if (parts.Length != 6) return null;
                var m = new byte[6];
                for (int i = 0; i < 6; i++) if (!byte.TryParse(parts[i], NumberStyles.HexNumber, null, out m[i])) return null;
                return m;
            case NftTypeKind.Ifname:
                return IfnameBytes(w);
            case NftTypeKind.TcHandle:
                return TcHandle(w) is { } h ? new[] { (byte)(h >> 24), (byte)(h >> 16), (byte)(h >> 8), (byte)h } : null;
            case NftTypeKind.Date or NftTypeKind.Hour:
                return MetaTimeSelector.Parse(Kind, w) is { } t ? ToBytes(t, Length) : null;
            case NftTypeKind.CtLabel: // a label's bit number (names: NftParser.LabelBit)
                return TryNumber(w, out var bit) && bit <= 127 ? CtLabelSelector.Bytes(UInt128.One << (int)bit) : null;
            case NftTypeKind.Time: // nft's time_type: 30s, 1m30s, 500ms; a bare number is seconds; kept in milliseconds
                return NftParser.TimeNs(w) is { } ns && ns / 1_000_000 is var ms && ms <= uint.MaxValue
                    ? new[] { (byte)(ms >> 24), (byte)(ms >> 16), (byte)(ms >> 8), (byte)ms } : null;
            default:
                ulong v;
                if (Symbols is not null && Symbols.TryGetValue(w, out var sv)) v = sv;
                else if (Length > 8 && WideHex(w, Length) is { } wide) return wide;
                else if (!TryNumber(w, out v)) return null;
                if (Length < 8 && v >> (Length * 8) != 0) return null;
                var b = new byte[Length];
                for (int i = Length - 1; i >= 0; i--) { b[i] = (byte)v; v >>= 8; }
                return b;
        }
    }

    private static byte[] ToBytes(ulong v, int len)
    {
        var b = new byte[len];
        for (int i = len - 1; i >= 0; i--) { b[i] = (byte)v; v >>= 8; }
        return b;
    }

    /// <summary>A hexadecimal constant wider than 64 bits (a raw payload of 128 bits: <c>@ll,0,128 0xfedc...</c>).</summary>
    private static byte[]? WideHex(string w, int len)
    {
        if (!w.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || w.Length <= 2 || w.Length - 2 > len * 2) return null;
        var hex = w[2..].PadLeft(len * 2, '0');
        try { return Convert.FromHexString(hex); } catch (FormatException) { return null; }
    }

    /// <summary>
    /// nft resolves an IPv4 address with getaddrinfo, which takes inet_aton's numeric forms too: 1 to 4
    /// parts, each decimal, 0x hex or 0 octal, the last filling the remaining bytes (<c>icmp gateway 22</c>
    /// is 0.0.0.22, <c>ip saddr &amp; 0xff</c> is 0.0.0.255).
    /// </summary>
    internal static byte[]? InetAton(string w)
    {
        var parts = w.Split('.');
        if (parts.Length > 4 || parts.Any(p => p.Length == 0)) return null;
        var vals = new ulong[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            var p = parts[i];
            bool ok = p.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? p.Length > 2 && ulong.TryParse(p.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out vals[i])
                : p.Length > 1 && p[0] == '0' ? p.All(ch => ch is >= '0' and <= '7') && Octal(p, out vals[i])
                : ulong.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out vals[i]);
            if (!ok || (i < parts.Length - 1 && vals[i] > 255)) return null;
        }
        int lastBytes = 5 - parts.Length;
        if (vals[^1] >> (lastBytes * 8) != 0) return null;
        ulong v = 0;
        for (int i = 0; i < parts.Length - 1; i++) v |= vals[i] << (8 * (3 - i));
        v |= vals[^1];
        return ToBytes(v, 4);

        static bool Octal(string p, out ulong r)
        {
            r = 0;
            foreach (var ch in p) { r = r * 8 + (ulong)(ch - '0'); if (r > uint.MaxValue) return false; }
            return true;
        }
    }

    /// <summary>nft's classid (tchandle): <c>none</c> (0), <c>root</c> (TC_H_ROOT), MAJOR:MINOR in hex, either side may be empty, or a number (strtoull base 0).</summary>
    public static uint? TcHandle(string w)
    {
        if (w == "none") return 0;
        if (w == "root") return uint.MaxValue;
        int c = w.IndexOf(':');
        if (c < 0) return TryNumber(w, out var n) && n <= uint.MaxValue ? (uint)n : null;
        if (w.IndexOf(':', c + 1) >= 0) return null;
        static bool Half(string s, out ushort v) { v = 0; return s.Length == 0 || ushort.TryParse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out v); }
        return Half(w[..c], out var major) && Half(w[(c + 1)..], out var minor) ? (uint)major << 16 | minor : null;
    }

    /// <summary>How nft writes a classid: none, root, or MAJOR:MINOR in hex.</summary>
    public static string TcHandleText(uint h) => h switch { 0 => "none", uint.MaxValue => "root", _ => $"{h >> 16:x}:{h & 0xFFFF:x}" };

    public static byte[] IfnameBytes(string name)
    {
        var b = new byte[16];
        for (int i = 0; i < name.Length && i < 16; i++) b[i] = (byte)name[i];
        return b;
    }

    public static bool TryNumber(string w, out ulong v)
    {
        if (w.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return ulong.TryParse(w.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out v);
        return ulong.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out v);
    }

    private static Dictionary<string, ulong> D(params (string, ulong)[] e)
    {
        var d = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var (k, v) in e) d[k] = v;
        return d;
    }

    public static readonly NftType Ipv4Addr = new("ipv4_addr", NftTypeKind.Ipv4, 4);
    public static readonly NftType Ipv6Addr = new("ipv6_addr", NftTypeKind.Ipv6, 16);
    public static readonly NftType EtherAddr = new("ether_addr", NftTypeKind.Ether, 6);
    public static readonly NftType Ifname = new("ifname", NftTypeKind.Ifname, 16);
    public static readonly NftType InetProto = new("inet_proto", NftTypeKind.Int, 1, D(
        ("icmp", 1), ("igmp", 2), ("tcp", 6), ("udp", 17), ("gre", 47), ("esp", 50), ("ah", 51), ("icmpv6", 58),
        ("ipv6-icmp", 58), ("sctp", 132), ("udplite", 136), ("dccp", 33), ("comp", 108), ("ipcomp", 108), ("ipip", 4), ("ospf", 89), ("vrrp", 112), ("ip", 0)));
    public static readonly NftType InetService = new("inet_service", NftTypeKind.Int, 2, D(
        ("ftp", 21), ("ssh", 22), ("telnet", 23), ("smtp", 25), ("domain", 53), ("http", 80), ("pop3", 110), ("ntp", 123),
        ("imap", 143), ("snmp", 161), ("bgp", 179), ("https", 443), ("submission", 587), ("imaps", 993), ("pop3s", 995),
        ("bootps", 67), ("bootpc", 68), ("tftp", 69), ("ldap", 389), ("microsoft-ds", 445), ("syslog", 514), ("http-alt", 8080)));
    public static readonly NftType NfProto = new("nf_proto", NftTypeKind.Int, 1, D(("ipv4", 2), ("ipv6", 10), ("inet", 1), ("arp", 3), ("bridge", 7), ("netdev", 5)));
    public static readonly NftType EtherType = new("ether_type", NftTypeKind.Int, 2, D(("ip", 0x0800), ("ip6", 0x86DD), ("arp", 0x0806), ("vlan", 0x8100), ("8021q", 0x8100), ("8021ad", 0x88A8)));
    public static readonly NftType PktType = new("pkt_type", NftTypeKind.Int, 1, D(("host", 0), ("broadcast", 1), ("multicast", 2), ("other", 3), ("unicast", 0)));
    public static readonly NftType Mark = new("mark", NftTypeKind.Int, 4);
    /// <summary>nft's ct_label: 128 bits, written as label numbers or connlabel.conf names (quoted in nft's listing).</summary>
    public static readonly NftType CtLabel = new("ct_label", NftTypeKind.CtLabel, 16) { Quoted = true };
    /// <summary>fib ... type: the RTN_* route type, a host-order u32 in the register.</summary>
    public static readonly NftType FibAddrType = new("fib_addrtype", NftTypeKind.Int, 4, D(("unspec", 0), ("unicast", 1), ("local", 2), ("broadcast", 3),
        ("anycast", 4), ("multicast", 5), ("blackhole", 6), ("unreachable", 7), ("prohibit", 8)));
    public static readonly NftType IfaceIndex = new("iface_index", NftTypeKind.Int, 4);
    /// <summary>uid_type / gid_type: nft resolves user and group names on the host that loads the rules; root is 0 everywhere.</summary>
    public static readonly NftType Uid = new("uid", NftTypeKind.Int, 4, HostNames.Users) { Quoted = true };
    public static readonly NftType Gid = new("gid", NftTypeKind.Int, 4, HostNames.Groups) { Quoted = true };

    /// <summary>Why <paramref name="w"/> is no value of this type, in nft's words (uid_type_parse: getpwnam failed).</summary>
    public string Invalid(string w) => Name switch
    {
        "uid" => $"User does not exist ('{w}')",
        "gid" => $"Group does not exist ('{w}')",
        _ => $"'{w}' is not a valid {Name} value",
    };
    /// <summary>devgroup: a device's group (`ip link set dev X group N`); nft reads names from /etc/iproute2/group, where default is 0.</summary>
    public static readonly NftType DevGroup = new("devgroup", NftTypeKind.Int, 4, D(("default", 0))) { Quoted = true };
    /// <summary>iface_type: the device's ARPHRD_* type (include/uapi/linux/if_arp.h), 16 bits.</summary>
    public static readonly NftType IfaceType = new("iface_type", NftTypeKind.Int, 2, D(
        ("ether", 1), ("ppp", 512), ("ipip", 768), ("ipip6", 769), ("loopback", 772), ("sit", 776), ("ipgre", 778)));
    /// <summary>meta time: nanoseconds since the epoch (date strings as UTC: see <see cref="MetaTimeSelector"/>).</summary>
    public static readonly NftType Date = new("time", NftTypeKind.Date, 8) { Quoted = true };
    /// <summary>meta hour: seconds since midnight UTC.</summary>
    public static readonly NftType Hour = new("hour", NftTypeKind.Hour, 4) { Quoted = true };
    /// <summary>meta day: 0 (Sunday) to 6.</summary>
    public static readonly NftType Day = new("day", NftTypeKind.Int, 1, D(
        ("Sunday", 0), ("Monday", 1), ("Tuesday", 2), ("Wednesday", 3), ("Thursday", 4), ("Friday", 5), ("Saturday", 6))) { Quoted = true };
    /// <summary>icmp_code and icmpv6_code: nft's names for the unreachable codes.</summary>
    public static readonly NftType IcmpCode = new("icmp_code", NftTypeKind.Int, 1, D(
        ("net-unreachable", 0), ("host-unreachable", 1), ("prot-unreachable", 2), ("port-unreachable", 3), ("frag-needed", 4),
        ("net-prohibited", 9), ("host-prohibited", 10), ("admin-prohibited", 13)));
    public static readonly NftType Icmpv6Code = new("icmpv6_code", NftTypeKind.Int, 1, D(
        ("no-route", 0), ("admin-prohibited", 1), ("addr-unreachable", 3), ("port-unreachable", 4), ("policy-fail", 5), ("reject-route", 6)));
    /// <summary>skb->priority as nft types it (classid): written and shown as a tc handle.</summary>
    /// <summary>ct expiration: milliseconds in 32 bits (nft's time_type as NFT_CT_EXPIRATION loads it).</summary>
    public static readonly NftType Time = new("time", NftTypeKind.Time, 4);
    public static readonly NftType ClassId = new("classid", NftTypeKind.TcHandle, 4);
    public static NftType Integer(int len) => len switch { 1 => Int1, 2 => Int2, 4 => Int4, _ => new("integer", NftTypeKind.Int, len) };
    public static readonly NftType Int1 = new("integer", NftTypeKind.Int, 1);
    public static readonly NftType Int2 = new("integer", NftTypeKind.Int, 2);
    public static readonly NftType Int4 = new("integer", NftTypeKind.Int, 4);
    public static readonly NftType TcpFlags = new("tcp_flag", NftTypeKind.Bitmask, 1, D(
        ("fin", 0x01), ("syn", 0x02), ("rst", 0x04), ("psh", 0x08), ("ack", 0x10), ("urg", 0x20), ("ecn", 0x40), ("cwr", 0x80)));
    public static readonly NftType CtState = new("ct_state", NftTypeKind.Bitmask, 4, D(
        ("invalid", 1), ("established", 2), ("related", 4), ("new", 8), ("untracked", 64)));
    public static readonly NftType CtStatus = new("ct_status", NftTypeKind.Bitmask, 4, D(
        ("expected", 1), ("seen-reply", 2), ("assured", 4), ("confirmed", 8), ("snat", 16), ("dnat", 32), ("dying", 512)));
    public static readonly NftType CtDir = new("ct_dir", NftTypeKind.Int, 1, D(("original", 0), ("reply", 1)));
    public static readonly NftType IcmpType = new("icmp_type", NftTypeKind.Int, 1, D(
        ("echo-reply", 0), ("destination-unreachable", 3), ("source-quench", 4), ("redirect", 5), ("echo-request", 8),
        ("router-advertisement", 9), ("router-solicitation", 10), ("time-exceeded", 11), ("parameter-problem", 12),
        ("timestamp-request", 13), ("timestamp-reply", 14), ("info-request", 15), ("info-reply", 16),
        ("address-mask-request", 17), ("address-mask-reply", 18)));
    public static readonly NftType Icmpv6Type = new("icmpv6_type", NftTypeKind.Int, 1, D(
        ("destination-unreachable", 1), ("packet-too-big", 2), ("time-exceeded", 3), ("parameter-problem", 4),
        ("echo-request", 128), ("echo-reply", 129), ("mld-listener-query", 130), ("mld-listener-report", 131),
        ("mld-listener-done", 132), ("mld-listener-reduction", 132), ("nd-router-solicit", 133), ("nd-router-advert", 134),
        ("nd-neighbor-solicit", 135), ("nd-neighbor-advert", 136), ("nd-redirect", 137), ("router-renumbering", 138),
        ("ind-neighbor-solicit", 141), ("ind-neighbor-advert", 142), ("mld2-listener-report", 143)));
    public static readonly NftType ArpOp = new("arp_op", NftTypeKind.Int, 2, D(
        ("request", 1), ("reply", 2), ("rrequest", 3), ("rreply", 4), ("inrequest", 8), ("inreply", 9), ("nak", 10)));
    public static readonly NftType Dscp = new("dscp", NftTypeKind.Int, 1, D(
        ("cs0", 0), ("cs1", 8), ("cs2", 16), ("cs3", 24), ("cs4", 32), ("cs5", 40), ("cs6", 48), ("cs7", 56), ("df", 0),
        ("af11", 10), ("af12", 12), ("af13", 14), ("af21", 18), ("af22", 20), ("af23", 22), ("af31", 26), ("af32", 28),
        ("af33", 30), ("af41", 34), ("af42", 36), ("af43", 38), ("ef", 46), ("va", 44), ("lephb", 1)));
    public static readonly NftType IgmpType = new("igmp_type", NftTypeKind.Int, 1, D(
        ("membership-query", 0x11), ("membership-report-v1", 0x12), ("membership-report-v2", 0x16), ("membership-report-v3", 0x22), ("leave-group", 0x17)));
    public static readonly NftType DccpType = new("dccp_pkttype", NftTypeKind.Int, 1, D(
        ("request", 0), ("response", 1), ("data", 2), ("ack", 3), ("dataack", 4), ("closereq", 5), ("close", 6), ("reset", 7), ("sync", 8), ("syncack", 9)));
    public static readonly NftType MhType = new("mh_type", NftTypeKind.Int, 1, D(
        ("binding-refresh-request", 0), ("home-test-init", 1), ("careof-test-init", 2), ("home-test", 3), ("careof-test", 4),
        ("binding-update", 5), ("binding-acknowledgement", 6), ("binding-error", 7), ("fast-binding-update", 8),
        ("fast-binding-acknowledgement", 9), ("fast-binding-advertisement", 10), ("experimental-mobility-header", 11), ("home-agent-switch-message", 12)));
    /// <summary>exthdr/tcp option presence: <c>exists</c> or <c>missing</c> (JSON: true, false).</summary>
    public static readonly NftType Boolean = new("boolean", NftTypeKind.Int, 1, D(("exists", 1), ("missing", 0), ("true", 1), ("false", 0)));
    public static readonly NftType Ecn = new("ecn", NftTypeKind.Int, 1, D(("not-ect", 0), ("ect1", 1), ("ect0", 2), ("ce", 3)));

    /// <summary>Set declaration type names (set { type X . Y; }).</summary>
    public static NftType? ByName(string n) => n switch
    {
        "ipv4_addr" => Ipv4Addr, "ipv6_addr" => Ipv6Addr, "ether_addr" => EtherAddr, "ifname" => Ifname,
        "inet_proto" => InetProto, "inet_service" => InetService, "mark" or "ct_mark" => Mark, "classid" => ClassId, "ether_type" => EtherType,
        "nf_proto" => NfProto, "pkt_type" => PktType, "ct_state" => CtState, "ct_status" => CtStatus,
        "icmp_type" => IcmpType, "icmpv6_type" => Icmpv6Type, "tcp_flag" => TcpFlags, "arp_op" => ArpOp,
        "dscp" => Dscp, "ecn" => Ecn, "devgroup" => DevGroup, "iface_type" => IfaceType, "day" => Day, "hour" => Hour, "icmp_code" => IcmpCode, "icmpv6_code" => Icmpv6Code, "iface_index" => Int4, "ct_dir" => CtDir, "igmp_type" => IgmpType, "dccp_pkttype" => DccpType,
        _ => null,
    };
}

internal static class NftNames
{
    public static string Family(NftFamily f) => f switch
    {
        NftFamily.Ip => "ip", NftFamily.Ip6 => "ip6", NftFamily.Inet => "inet", NftFamily.Arp => "arp",
        NftFamily.Bridge => "bridge", _ => "netdev",
    };

    public static NftFamily? ParseFamily(string s) => s switch
    {
        "ip" => NftFamily.Ip, "ip6" => NftFamily.Ip6, "inet" => NftFamily.Inet, "arp" => NftFamily.Arp,
        "bridge" => NftFamily.Bridge, "netdev" => NftFamily.Netdev, _ => null,
    };

    public static NftHookPoint? ParseHook(string s) => s switch
    {
        "prerouting" => NftHookPoint.Prerouting, "input" => NftHookPoint.Input, "forward" => NftHookPoint.Forward,
        "output" => NftHookPoint.Output, "postrouting" => NftHookPoint.Postrouting, "ingress" => NftHookPoint.Ingress,
        "egress" => NftHookPoint.Egress, _ => null,
    };

    /// <summary>Standard priority names (nft's "priority filter" etc.) per family, kernel numbers.</summary>
    public static int? Priority(NftFamily f, string name) => f == NftFamily.Bridge
        ? name switch { "dstnat" => -300, "filter" => -200, "out" => 100, "srcnat" => 300, _ => null }
        : name switch
        {
            "raw" => -300, "mangle" => -150, "dstnat" => -100, "filter" => 0, "security" => 50, "srcnat" => 100,
            _ => null,
        };
}

internal static class NftBytes
{
    public static int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => a.SequenceCompareTo(b);

    /// <summary>Network-order prefix to [lo, hi].</summary>
    public static (byte[] Lo, byte[] Hi) Prefix(byte[] addr, int bits)
    {
        var lo = (byte[])addr.Clone(); var hi = (byte[])addr.Clone();
        for (int i = 0; i < addr.Length; i++)
        {
            int keep = Math.Clamp(bits - i * 8, 0, 8);
            byte mask = (byte)(0xFF00 >> keep);
            lo[i] &= mask; hi[i] |= (byte)~mask;
        }
        return (lo, hi);
    }

    public static ulong ToUlong(ReadOnlySpan<byte> b)
    {
        ulong v = 0;
        foreach (var x in b) v = (v << 8) | x;
        return v;
    }
}

/// <summary>
/// User and group names as nft resolves them when it loads a rule (getpwnam / getgrnam on the machine running
/// it): from /etc/passwd and /etc/group of the machine loading the ruleset, root alone where there are none.
/// </summary>
internal static class HostNames
{
    public static readonly IReadOnlyDictionary<string, ulong> Users = Read("/etc/passwd");
    public static readonly IReadOnlyDictionary<string, ulong> Groups = Read("/etc/group");

    private static Dictionary<string, ulong> Read(string path)
    {
        var names = new Dictionary<string, ulong>(StringComparer.Ordinal) { ["root"] = 0 };
        try
        {
            if (!File.Exists(path)) return names;
            // name:password:id:...; the first line naming a name wins, as getpwnam reads the file
            foreach (var line in File.ReadLines(path))
                if (line.Split(':') is [var name, _, var id, ..] && name.Length > 0 && !name.StartsWith('#') && ulong.TryParse(id, out var v) && v <= uint.MaxValue)
                    names.TryAdd(name, v);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return names;
    }
}
