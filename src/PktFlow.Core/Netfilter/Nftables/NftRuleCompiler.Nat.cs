using PktFlow.Wire;

namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// snat, dnat, masquerade and redirect (nft_nat, nft_masq, nft_redir): the address and the port are each a
/// constant, a range, or the data of a map looked up per packet (nft_lookup into the registers nft_nat reads).
/// </summary>
internal sealed partial class NftParser
{
    private NftStmt Nat(NftRule rule)
    {
        var stmt = Take(); var kind = stmt.Text;
        var family = NatFamily(stmt);
        // `snat ip prefix to ...`: NF_NAT_RANGE_NETMAP, the range's network part replaces the address's
        bool netmap = kind is "snat" or "dnat" && TakeIf("prefix");
        // `dnat ip addr . port to KEY map ...`: the map's data is an address and a port (nft lists it without the words)
        bool addrPort = false;
        if (TakeIf("addr"))
        {
            if (!TakeIf(".") || !TakeIf("port")) throw Err(Cur, $"syntax error, expected 'addr . port to' after {kind}");
            addrPort = true;
        }
        bool to = TakeIf("to");
        // an address with no family to parse it by: nft refuses it (nat_evaluate_family); without one the statement is NFPROTO_INET
        if (family is null && CurrentTable?.Family == NftFamily.Inet && kind is "snat" or "dnat" && to && More && !Cur.Text.StartsWith(':'))
            throw Err(stmt, "ip or ip6 must be specified with address for inet tables.");
        if (to && IsSelectorStart(Cur)) return NatMap(kind, rule, addrPort, netmap, family);
        if (addrPort) throw Err(Cur, $"syntax error, '{kind} addr . port to' needs a map");
        var st = new NatMapStmt { Kind = kind, RuleText = rule.Text, Netmap = netmap, Family = InetFamily(family) };
        if (to)
        {
            var v = Take(); var w = v.Text;
            string? port = null, address = null;
            int at = 0; // where the address starts in the word, for the error's column
            if (w.StartsWith(':')) port = w[1..];
            else if (w.StartsWith('['))
            {
                int rb = w.IndexOf(']'); address = w[1..rb]; at = 1;
                if (rb + 1 < w.Length && w[rb + 1] == ':') port = w[(rb + 2)..];
            }
            else if (w.Count(c => c == ':') == 1) { var i = w.IndexOf(':'); address = w[..i]; port = w[(i + 1)..]; }
            else address = w;
            if (address is not null)
                (st.AddressMin, st.AddressMax) = NatAddress(v with { Text = address, Col = v.Col + at }, family);
            // `dnat to 10.0.0.2 : tcp dport map { ... }`: the port after a separate ':'
            if (port is null && address is not null && More && Cur.Text.StartsWith(':')) { v = Take(); port = v.Text[1..]; }
            if (port is not null) NatPort(st, v, port);
            if (kind is "snat" or "dnat" && address is null && st.PortMap is null && st.PortMin is null) throw Err(v, $"{kind} needs an address");
        }
        else if (kind is "snat" or "dnat") throw Err(Cur, $"syntax error, expected 'to' after {kind}");
        if (netmap && st.AddressMin is null) throw Err(Cur, $"{kind} prefix needs an address range");
        st.Flags = NatFlags();
        if (st.PortMap is not null) return st;
        return new VerdictStmt { Verdict = NftVerdict.Accept, Nat = st.Constant() };
    }

    /// <summary>
    /// The family the statement's addresses must have: the one named after the statement (<c>snat ip6 to</c>),
    /// the table's (ip, ip6), or in an inet table the one an earlier match of the rule fixes (<c>ip saddr ...</c>,
    /// <c>meta nfproto ipv4</c>, <c>icmp type ...</c>); null when none does. A name other than the table's or
    /// the rule's is refused as nft 1.0.6 refuses it, at the statement.
    /// </summary>
    private IpFamily? NatFamily(NftTok stmt)
    {
        IpFamily? known = CurrentTable?.Family switch { NftFamily.Ip => IpFamily.V4, NftFamily.Ip6 => IpFamily.V6, NftFamily.Inet => _networkFamily, _ => null };
        if (!More || Cur.Text is not ("ip" or "ip6")) return known;
        var word = Take();
        var named = word.Text == "ip" ? IpFamily.V4 : IpFamily.V6;
        if (known is { } t && t != named)
            throw Err(stmt, $"conflicting protocols specified: {(t == IpFamily.V4 ? "ip" : "ip6")} vs. {word.Text}. You must specify ip or ip6 family in nat statement");
        return named;
    }

    /// <summary>The statement's family as nft_nat_inet_eval checks it against the packet's: set only in an inet table.</summary>
    private IpFamily? InetFamily(IpFamily? family) => CurrentTable?.Family == NftFamily.Inet ? family : null;

    /// <summary>
    /// The network protocol a match puts in nft's context: any ip/ip6/icmp/icmpv6 header field (whatever the
    /// operator), <c>meta nfproto</c> equal to one (of a set: its last element). <c>meta protocol</c>, <c>meta
    /// l4proto</c> and <c>ct ... ip saddr</c> fix none (each checked with nft 1.0.6 -c).
    /// </summary>
    private static IpFamily? NetworkFamily(MatchStmt m)
    {
        static IpFamily? Of(NftSelector s) => s switch
        {
            PayloadSelector { NeedL3: L3.V4 } => IpFamily.V4,
            PayloadSelector { NeedL3: L3.V6 } => IpFamily.V6,
            ConcatSelector c => c.Parts.Select(Of).FirstOrDefault(f => f is not null),
            _ => null,
        };
        if (m.Sel is not MetaSelector { Key: MetaKey.NfProto }) return Of(m.Sel);
        byte? proto = m.Op == CmpOp.Eq ? m.Value is [var v] ? v : m.Elements is [.., { CatchAll: false } last] ? last.Lo[0][0] : null : null;
        return proto switch { 2 => IpFamily.V4, 10 => IpFamily.V6, _ => null };
    }

    /// <summary>A constant address, range or prefix, parsed once here: the first and last address (null: one address).</summary>
    private static (IpAddr, IpAddr?) NatAddress(NftTok t, IpFamily? family) =>
        NftNatAddress.Parse(t.Text, family, out var error, out int at) is var (min, max) ? (min, max == min ? null : max) : throw Err(t with { Col = t.Col + at }, $"{error} in '{t.Text}'");

    private static bool IsSelectorStart(NftTok t) => t.Kind == TokKind.Word && SelectorWords.Contains(t.Text);

    /// <summary>
    /// The port part after ':' (in <paramref name="at"/>, or the next token when <paramref name="port"/> is
    /// empty): a port, a range, or <c>KEY map { port : port, ... }</c> | <c>KEY map @NAME</c>. nft wants the
    /// transport protocol named before it, or an address map's key reading a transport header
    /// (<paramref name="addressKey"/>); a port map's own key does not count (checked with nft 1.0.6).
    /// </summary>
    private void NatPort(NatMapStmt st, NftTok at, string port, NftSelector? addressKey = null)
    {
        bool embedded = port.Length > 0;
        var portTok = embedded ? at with { Text = port, Col = at.Col + at.Text.Length - port.Length } : Cur;
        NeedTransport(portTok, addressKey);
        if (!IsSelectorStart(portTok)) { (st.PortMin, st.PortMax) = Ports(portTok, port); return; }
        NftSelector key;
        if (embedded)
        {
            // the key starts inside the word just read (`:tcp`, `10.0.0.2:tcp`): read it from a token of its own
            int index = _s.Pos - 1;
            var word = _s.Replace(index, portTok);
            _s.Pos = index;
            try { key = Selector(); }
            finally { _s.Replace(index, word); }
        }
        else key = Selector();
        if (!TakeIf("map")) throw Err(Cur, $"unsupported: {st.Kind} to a port expression without a map ('{key.Text}')");
        st.PortMap = MapBody(key, () => PortData(Take()), PortFits);
    }

    /// <summary>The port or port range after ':' (<paramref name="port"/> empty: it is the next token).</summary>
    private (int, int) Ports(NftTok at, string port)
    {
        if (port.Length == 0 && More) port = (at = Take()).Text;
        var parts = port.Split('-');
        if (parts.Length > 2 || !ushort.TryParse(parts[0], out var a)) throw Err(at, $"bad port '{port}'");
        ushort b = a;
        if (parts.Length == 2 && !ushort.TryParse(parts[1], out b)) throw Err(at, $"bad port '{port}'");
        if (b < a) throw Err(at, $"Range has zero or negative size ('{port}')");
        return (a, b);
    }

    /// <summary>A port map's data: one port (nft 1.0.6 loads a range here but lists it broken, "1000-0"; refused).</summary>
    private object PortData(NftTok t)
    {
        if (t.Text.Contains('-') || (More && Cur.Is("-"))) throw Err(t, $"unsupported: a port range as port map data ('{t.Text}')");
        return NftType.InetService.Parse(t.Text) is { } b ? (uint)((b[0] << 8) | b[1]) : throw Err(t, $"bad port '{t.Text}'");
    }

    private static string? PortFits(NftSet set) => set.DataTypes is [var p] && p == NftType.InetService ? null : "not to a port";

    private List<string> NatFlags()
    {
        var flags = new List<string>();
        while (More && Cur.Text is "random" or "persistent" or "fully-random" or ",") { var f = Take().Text; if (f != ",") flags.Add(f); }
        return flags;
    }

    /// <summary>
    /// snat|dnat to KEY map { k : address [. port], ... } | map @NAME [: port] [flags]: the address (and the
    /// port, when the data is a concatenation) is looked up per packet; a port after the map applies to all.
    /// </summary>
    private NftStmt NatMap(string kind, NftRule rule, bool addrPort, bool netmap, IpFamily? family)
    {
        if (kind is not ("snat" or "dnat")) throw Err(Cur, $"syntax error, {kind} takes no address");
        var keyTok = Cur;
        var key = Selector();
        if (!TakeIf("map")) throw Err(Cur, $"unsupported: {kind} to an expression without a map ('{key.Text}')");
        var map = MapBody(key, () => NatData(family), set => NatFits(set, addrPort));
        var st = new NatMapStmt { Map = map, Kind = kind, RuleText = rule.Text, Netmap = netmap, Family = InetFamily(family) };
        if (addrPort && map.Elements?.Any(e => e.Data is not NatTarget { Port: not null }) == true) throw Err(Cur, $"datatype mismatch: '{kind} addr . port' needs address . port data");
        bool dataHasPort = addrPort || map.Set?.DataTypes.Length == 2 || map.Elements?.Any(e => e.Data is NatTarget { Port: not null }) == true;
        if (dataHasPort) NeedTransport(keyTok, key);
        if (More && Cur.Text.StartsWith(':'))
        {
            var at = Take();
            if (dataHasPort) throw Err(at, $"syntax error, a port after a {kind} map whose data has a port");
            NatPort(st, at, at.Text[1..], key);
        }
        st.Flags = NatFlags();
        return st;
    }

    /// <summary>
    /// An anonymous NAT map's data: an address, a range <c>a-b</c> or a prefix <c>a/n</c> (interval data:
    /// nft stores the first and last address), optionally <c>. port</c> or <c>. port-port</c>.
    /// </summary>
    private object NatData(IpFamily? family)
    {
        var (min, max) = NatAddress(Take(), family);
        if (!TakeIf(".")) return max is null ? min : new NatTarget(min, null, max);
        var p = Take();
        var ports = p.Text.Split('-', 2);
        int? portMax = null;
        if (ports.Length == 2) portMax = PortNumber(p, ports[1]);
        else if (More && Cur.Is("-")) { Take(); portMax = PortNumber(p, Take().Text); }
        int port = PortNumber(p, ports[0]);
        if (portMax < port) throw Err(p, $"Range has zero or negative size ('{ports[0]}-{portMax}')");
        return new NatTarget(min, port, max, portMax);
    }

    private static int PortNumber(NftTok at, string text) =>
        NftType.InetService.Parse(text) is { } b ? (b[0] << 8) | b[1] : throw Err(at, $"bad port '{text}'");

    private static string? NatFits(NftSet set, bool addrPort) => set.DataTypes switch
    {
        [{ Kind: NftTypeKind.Ipv4 or NftTypeKind.Ipv6 }] when !addrPort => null,
        [{ Kind: NftTypeKind.Ipv4 or NftTypeKind.Ipv6 }, var p] when p == NftType.InetService => null,
        _ => addrPort ? "not to address . port" : "not to an address or address . port",
    };
}
