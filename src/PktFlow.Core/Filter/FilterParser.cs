using System.Globalization;
using PktFlow.Wire;

namespace PktFlow.Filter;

/// <summary>What a filter needs from the link layer, so a caller can tell which captures it suits.</summary>
[Flags]
internal enum LinkNeeds : byte
{
    None = 0,
    /// <summary>Looks at the network layer (any protocol, address or port test).</summary>
    Network = 1,
    /// <summary>ether host/src/dst.</summary>
    EthernetAddress = 2,
    /// <summary>ether broadcast.</summary>
    LinkBroadcast = 4,
    /// <summary>ether multicast.</summary>
    LinkMulticast = 8,
    /// <summary>vlan.</summary>
    Vlan = 16,
    /// <summary>inbound / outbound.</summary>
    Direction = 32,
}

/// <summary>
/// A recursive-descent parser for pcap-filter(7) that compiles as it parses. It follows libpcap
/// where the manual page leaves things open:
/// <list type="bullet">
/// <item>'and' and 'or' have the same precedence and group left to right; 'not' binds tighter.</item>
/// <item>A bare value after and/or repeats the previous primitive's qualifiers
/// (<c>port 80 or 443</c>, <c>host a and not b</c>); after any other kind of primitive it is an error.</item>
/// <item>Each 'vlan' makes every primitive written after it (left to right, whatever the
/// parentheses) look 4 bytes further in.</item>
/// <item>Arithmetic: * / above + - above &lt;&lt; &gt;&gt; above &amp; above |, left to right; % and ^
/// have no precedence in libpcap's grammar, so their right operand is everything after them.</item>
/// <item>A comparison is true only if every protocol its fields belong to is present:
/// <c>tcp[13] = 2</c> is (IPv4, TCP, first fragment) and the test.</item>
/// </list>
/// </summary>
internal sealed class FilterParser
{
    private enum Dir : byte { SrcOrDst, Src, Dst, SrcAndDst }

    /// <summary>The qualifiers of the last "qualifiers value" primitive, which a bare value repeats.</summary>
    private sealed record Qualifiers(string? Proto, Dir? Direction, string? Type);

    private const string PrimitiveExamples = "a primitive such as host, net, port, tcp, udp, icmp, arp, ip, ip6, vlan";

    private static readonly HashSet<string> ProtoQualifiers =
    [
        "ether", "link", "ip", "ip6", "arp", "rarp", "tcp", "udp", "sctp", "icmp", "icmp6", "igmp", "pim", "vrrp",
        "carp", "ah", "esp",
    ];

    private static readonly HashSet<string> TypeQualifiers = ["host", "net", "port", "portrange", "proto", "protochain"];

    private static readonly HashSet<string> OtherKeywords =
    [
        "and", "or", "not", "src", "dst", "mask", "len", "less", "greater", "vlan", "broadcast", "multicast",
        "inbound", "outbound",
    ];

    /// <summary>libpcap keywords PktFlow does not implement (they need names, other link types or tunnels).</summary>
    private static readonly HashSet<string> Unsupported =
    [
        "gateway", "mpls", "pppoed", "pppoes", "geneve", "llc", "lane", "iso", "esis", "es-is", "clnp", "isis",
        "is-is", "l1", "l2", "iih", "lsp", "snp", "csnp", "psnp", "stp", "ipx", "netbeui", "atalk", "aarp", "decnet",
        "lat", "sca", "moprc", "mopdl", "fddi", "tr", "wlan", "radio", "slip", "ppp", "igrp", "ifname", "on", "rnr",
        "rulenum", "reason", "rset", "ruleset", "srnr", "subrulenum", "action", "type", "subtype", "dir", "ra", "ta",
        "addr1", "addr2", "addr3", "addr4", "vpi", "vci", "oam", "oamf4", "oamf4s", "oamf4e", "metac", "bcc", "sc",
        "ilmic", "connectmsg", "metaconnect", "hdlc", "ifindex",
    ];

    private const string SupportedSummary =
        "PktFlow supports host, net, port, portrange, ether host/src/dst/proto/broadcast/multicast, ip, ip6, arp, rarp, " +
        "tcp, udp, sctp, icmp, icmp6, igmp, pim, vrrp, ah, esp, proto, protochain, vlan, less, greater, len, " +
        "inbound, outbound and comparisons such as tcp[tcpflags] & tcp-syn != 0";

    private readonly string _text;
    private readonly List<Token> _tokens;
    private int _pos;
    private int _vlanDepth;
    private Qualifiers? _last;
    private List<(string Proto, int Depth)>? _guards;

    private FilterParser(string text)
    {
        _text = text;
        _tokens = FilterLexer.Tokenize(text);
    }

    /// <summary>What the compiled filter needs from the link layer.</summary>
    public LinkNeeds Needs { get; private set; }

    /// <summary>Compiles <paramref name="text"/>; throws <see cref="FilterSyntaxException"/>.</summary>
    public static (FilterNode Root, LinkNeeds Needs) Compile(string text)
    {
        var parser = new FilterParser(text);
        if (parser.Peek.Kind == TokenKind.End) return (TrueNode.Instance, LinkNeeds.None);
        var root = parser.ParseExpression();
        var end = parser.Peek;
        if (end.Kind == TokenKind.RParen)
        {
            throw parser.Fail(end, $"pcap filter: unexpected ')' at column {Column(end)}; there is no '(' for it to close");
        }

        if (end.Kind != TokenKind.End)
        {
            throw parser.Unexpected(end, "'and', 'or' or the end of the expression");
        }

        return (root, parser.Needs);
    }

    // ---- tokens ----

    private Token Peek => _tokens[_pos];

    private Token PeekAt(int ahead) => _tokens[Math.Min(_pos + ahead, _tokens.Count - 1)];

    private Token Next() => _tokens[_pos < _tokens.Count - 1 ? _pos++ : _pos];

    private static int Column(Token t) => t.Position + 1;

    private static bool IsKeyword(Token t) =>
        t.Kind == TokenKind.Id && !t.Escaped && (ProtoQualifiers.Contains(t.Text) || TypeQualifiers.Contains(t.Text)
            || OtherKeywords.Contains(t.Text) || Unsupported.Contains(t.Text) || FilterNames.Constants.ContainsKey(t.Text));

    // ---- boolean structure ----

    private FilterNode ParseExpression()
    {
        var left = ParseTerm();
        while (Peek.IsAnd || Peek.IsOr)
        {
            bool and = Next().IsAnd;
            var right = ParseTerm();
            left = and ? new AndNode(left, right) : new OrNode(left, right);
        }

        return left;
    }

    private FilterNode ParseTerm()
    {
        var t = Peek;
        if (t.IsNot)
        {
            Next();
            return new NotNode(ParseTerm());
        }

        switch (t.Kind)
        {
            case TokenKind.LParen:
                if (ParenthesisStartsArithmetic()) return ParseRelation();
                Next();
                var inner = ParseExpression();
                if (Peek.Kind != TokenKind.RParen)
                {
                    throw Unexpected(Peek, $"')' to close the '(' at column {Column(t)}, or 'and', 'or'");
                }

                Next();
                return inner;

            case TokenKind.Number:
                // "port 80 or 443": a lone number repeats the last qualifiers; "2 > 1" is arithmetic.
                var after = PeekAt(1);
                if (_last is not null && TakesBareNumber(_last, after)) return ParseBareValue();
                if (!after.IsArithOperator && !after.IsRelop) return ParseBareValue();
                return ParseRelation();

            case TokenKind.Minus:
                return ParseRelation();

            case TokenKind.Id:
                return ParseWord(t);

            default:
                throw Unexpected(t, PrimitiveExamples);
        }
    }

    /// <summary>Whether a number after and/or is a value for <paramref name="last"/> rather than the start of arithmetic.</summary>
    private static bool TakesBareNumber(Qualifiers last, Token after)
    {
        if (after.Kind == TokenKind.Slash) return last.Type is null or "host" or "net"; // "net 10/8 or 172.16/12"
        return !after.IsArithOperator && !after.IsRelop;
    }

    /// <summary>A '(' starts arithmetic when its ')' is followed by an operator or a comparison.</summary>
    private bool ParenthesisStartsArithmetic()
    {
        int depth = 0;
        for (int i = _pos; i < _tokens.Count; i++)
        {
            var k = _tokens[i].Kind;
            if (k == TokenKind.LParen) depth++;
            else if (k == TokenKind.RParen && --depth == 0)
            {
                var after = _tokens[Math.Min(i + 1, _tokens.Count - 1)];
                return after.IsArithOperator || after.IsRelop;
            }
        }

        return false;
    }

    private FilterNode ParseWord(Token t)
    {
        if (t.Escaped) return ParseBareValue();
        string w = t.Text;
        if (w == "len" || FilterNames.Constants.ContainsKey(w)) return ParseRelation();
        if (ProtoQualifiers.Contains(w) && PeekAt(1).Kind == TokenKind.LBracket) return ParseRelation();
        if (Unsupported.Contains(w))
        {
            throw Fail(t, w == "gateway"
                ? $"pcap filter: 'gateway' at column {Column(t)} is not supported: it needs host-name lookups; write 'ether host MAC and not host IP' instead"
                : $"pcap filter: '{w}' at column {Column(t)} is not supported by PktFlow's filter; {SupportedSummary}");
        }

        switch (w)
        {
            case "less":
            case "greater":
                return ParseLength(w == "less");
            case "vlan":
                return ParseVlan();
            case "broadcast":
                Next();
                _last = null;
                return EtherBroadcast();
            case "multicast":
                Next();
                _last = null;
                return EtherMulticast();
            case "inbound":
            case "outbound":
                Next();
                _last = null;
                Needs |= LinkNeeds.Direction;
                return new PacketTypeNode(w == "outbound");
            case "mask":
                throw Fail(t, $"pcap filter: 'mask' at column {Column(t)} must follow a network address, as in 'net 10.0.0.0 mask 255.0.0.0'");
            case "and":
            case "or":
                throw Unexpected(t, PrimitiveExamples);
        }

        if (ProtoQualifiers.Contains(w) || TypeQualifiers.Contains(w) || w is "src" or "dst") return ParseQualified();
        return ParseBareValue();
    }

    // ---- qualified primitives: [proto] [dir] [type] value ----

    private FilterNode ParseQualified()
    {
        string? proto = null;
        Token protoToken = Peek;
        if (ProtoQualifiers.Contains(Peek.Text) && !Peek.Escaped)
        {
            proto = Next().Text;
            var after = Peek;
            if (after.Is("broadcast") || after.Is("multicast"))
            {
                Next();
                _last = null;
                return ProtocolBroadcast(proto, protoToken, after);
            }
        }

        Dir? dir = ParseDirection();
        string? type = null;
        Token typeToken = Peek;
        if (TypeQualifiers.Contains(Peek.Text) && !Peek.Escaped && Peek.Kind == TokenKind.Id)
        {
            type = Next().Text;
        }

        if (proto is not null && dir is null && type is null)
        {
            // A protocol on its own: "tcp", "ip6", "arp".
            _last = null;
            var next = Peek;
            if (next.Kind is TokenKind.Number || (next.Kind == TokenKind.Id && !IsKeyword(next)))
            {
                throw Unexpected(next, $"'and', 'or', or a qualifier after '{proto}' such as {string.Join(", ", QualifiersAfter(proto))}",
                    QualifiersAfter(proto));
            }

            return ProtocolOnly(proto, protoToken);
        }

        var q = new Qualifiers(proto, dir, type);
        var node = ParseValue(q, protoToken, typeToken, _tokens[_pos - 1].Text);
        _last = q;
        return node;
    }

    private static string[] QualifiersAfter(string proto) => proto switch
    {
        "ether" or "link" => ["host", "src", "dst", "proto", "broadcast", "multicast"],
        "ip" => ["host", "net", "src", "dst", "proto", "protochain", "broadcast", "multicast"],
        "ip6" => ["host", "net", "src", "dst", "proto", "protochain", "multicast"],
        "arp" or "rarp" => ["host", "net", "src", "dst"],
        "tcp" or "udp" or "sctp" => ["port", "portrange", "src", "dst"],
        _ => [],
    };

    private Dir? ParseDirection()
    {
        var t = Peek;
        if (!(t.Is("src") || t.Is("dst"))) return null;
        Next();
        // "src or dst" / "src and dst" (either order) is one qualifier, not two primitives.
        var op = Peek;
        var other = PeekAt(1);
        if ((op.IsOr || op.IsAnd) && (other.Is("src") || other.Is("dst")) && other.Text != t.Text)
        {
            Next();
            Next();
            return op.IsOr ? Dir.SrcOrDst : Dir.SrcAndDst;
        }

        return t.Text == "src" ? Dir.Src : Dir.Dst;
    }

    /// <summary>A value with no keyword before it: it takes the previous primitive's qualifiers.</summary>
    private FilterNode ParseBareValue()
    {
        var t = Peek;
        if (_last is null)
        {
            string expected = PrimitiveExamples;
            if (t.Kind == TokenKind.Id && !t.Escaped && t.Text.Contains('-') && !FilterNames.Services.ContainsKey(t.Text))
            {
                expected += $" ('-' inside a word does not subtract: write '{t.Text.Replace("-", " - ", StringComparison.Ordinal)}')";
            }
            else if (t.Kind == TokenKind.Number || (t.Kind == TokenKind.Id && (char.IsAsciiDigit(t.Text[0]) || t.Text.Contains(':'))))
            {
                expected += "; a value on its own repeats the qualifiers of the primitive before it (as in 'port 80 or 443'), and there is none here";
            }

            throw Unexpected(t, expected, AllPrimitiveWords);
        }

        try
        {
            return ParseValue(_last, t, t, null);
        }
        catch (FilterSyntaxException) when (t.Kind == TokenKind.Id && !t.Escaped && Suggest(t.Text, AllPrimitiveWords) is not null)
        {
            // "host 10.0.0.1 and prot 80": more likely a misspelt keyword than a value for 'host'.
            throw Unexpected(t, PrimitiveExamples, AllPrimitiveWords);
        }
    }

    private static readonly string[] AllPrimitiveWords =
    [
        "host", "net", "port", "portrange", "proto", "protochain", "src", "dst", "ether", "ip", "ip6", "arp", "rarp",
        "tcp", "udp", "sctp", "icmp", "icmp6", "igmp", "vlan", "less", "greater", "len", "broadcast", "multicast",
        "inbound", "outbound", "not",
    ];

    private FilterNode ParseValue(Qualifiers q, Token protoToken, Token typeToken, string? after)
    {
        var v = Peek;
        string expected = after is null ? "a value" : $"a value after '{after}'";
        if (v.Kind is not (TokenKind.Id or TokenKind.Number))
        {
            throw Unexpected(v, expected);
        }

        if (IsKeyword(v))
        {
            string hint = q.Type is "proto" or "protochain"
                ? $"; a protocol name that is also a keyword needs a backslash, as in 'ip proto \\{v.Text}'"
                : "";
            throw Fail(v, $"pcap filter: unexpected '{v.Text}' at column {Column(v)}; expected {expected}{hint}");
        }

        Next();
        if (q.Proto is not ("ether" or "link")) Needs |= LinkNeeds.Network;
        return (q.Type ?? "host") switch
        {
            "host" => Host(q, v, protoToken, isNet: false),
            "net" => Host(q, v, protoToken, isNet: true),
            "port" => Port(q, v, protoToken, range: false),
            "portrange" => Port(q, v, protoToken, range: true),
            "proto" => Proto(q, v, protoToken, typeToken),
            _ => Protochain(q, v, protoToken, typeToken),
        };
    }

    // ---- host and net ----

    private FilterNode Host(Qualifiers q, Token v, Token protoToken, bool isNet)
    {
        string what = isNet ? "net" : "host";
        Dir dir = q.Direction ?? Dir.SrcOrDst;
        if (q.Proto is "ether" or "link")
        {
            if (isNet) throw Fail(protoToken, $"pcap filter: '{q.Proto}' at column {Column(protoToken)} cannot qualify 'net'; use 'ether host'");
            if (!FilterAddresses.TryParseMac(v.Text, out var mac))
            {
                throw Fail(v, $"pcap filter: '{v.Text}' at column {Column(v)} is not an Ethernet address (expected aa:bb:cc:dd:ee:ff)");
            }

            Needs |= LinkNeeds.EthernetAddress;
            return EtherAddress(dir, mac);
        }

        if (v.Text.Contains(':') && FilterAddresses.TryParseMac(v.Text, out _) && !FilterAddresses.TryParseIpv6(v.Text, out _))
        {
            throw Fail(v, $"pcap filter: '{v.Text}' at column {Column(v)} is an Ethernet address; write 'ether {DirWord(dir)}host {v.Text}'");
        }

        if (q.Proto is not (null or "ip" or "ip6" or "arp" or "rarp"))
        {
            throw Fail(protoToken, $"pcap filter: '{q.Proto}' at column {Column(protoToken)} cannot qualify '{what}' (only ip, ip6, arp and rarp can)");
        }

        if (FilterAddresses.TryParseIpv6(v.Text, out var v6))
        {
            int bits = 128;
            if (Peek.Kind == TokenKind.Slash) bits = ParsePrefixLength(128);
            else if (Peek.Is("mask")) throw Fail(Peek, $"pcap filter: 'mask' at column {Column(Peek)} works with IPv4 networks only; write {v.Text}/LENGTH");
            if (q.Proto is not (null or "ip6"))
            {
                throw Fail(protoToken, $"pcap filter: '{q.Proto}' at column {Column(protoToken)} cannot qualify the IPv6 address '{v.Text}'");
            }

            var prefix = new IpPrefix(v6, bits);
            if (prefix.Network != v6)
            {
                throw Fail(v, $"pcap filter: non-network bits set in \"{v.Text}/{bits}\" at column {Column(v)}");
            }

            return Ipv6Address(dir, v6, bits);
        }

        bool dotted = v.Kind == TokenKind.Id || v.Text.All(char.IsAsciiDigit);
        if (!dotted || !FilterAddresses.TryParseIpv4(v.Text, out uint address, out int partBits))
        {
            throw Fail(v, FilterAddresses.TryParseMac(v.Text, out _)
                ? $"pcap filter: '{v.Text}' at column {Column(v)} is an Ethernet address; write 'ether {DirWord(dir)}host {v.Text}'"
                : $"pcap filter: '{v.Text}' at column {Column(v)} is not an IPv4 or IPv6 address (PktFlow does not look up host names)");
        }

        uint mask = FilterAddresses.Mask4(partBits);
        string shown = v.Text;
        if (Peek.Kind == TokenKind.Slash)
        {
            int bits = ParsePrefixLength(32);
            mask = FilterAddresses.Mask4(bits);
            shown = $"{v.Text}/{bits}";
        }
        else if (Peek.Is("mask"))
        {
            Next();
            var m = Next();
            if (m.Kind is not (TokenKind.Id or TokenKind.Number) || !FilterAddresses.TryParseIpv4(m.Text, out mask, out _))
            {
                throw Fail(m, $"pcap filter: '{m.Text}' at column {Column(m)} is not an IPv4 netmask such as 255.255.255.0");
            }

            shown = $"{v.Text} mask {m.Text}";
        }

        if (q.Proto == "ip6")
        {
            throw Fail(protoToken, $"pcap filter: 'ip6' at column {Column(protoToken)} cannot qualify the IPv4 address '{v.Text}'");
        }

        if ((address & ~mask) != 0)
        {
            throw Fail(v, $"pcap filter: non-network bits set in \"{shown}\" at column {Column(v)}");
        }

        return Ipv4Address(q.Proto, dir, address, mask);
    }

    private static string DirWord(Dir dir) => dir switch { Dir.Src => "src ", Dir.Dst => "dst ", _ => "" };

    private int ParsePrefixLength(int max)
    {
        Next();
        var n = Next();
        if (n.Kind != TokenKind.Number)
        {
            throw Unexpected(n, "a prefix length after '/'");
        }

        if (n.Value > (uint)max)
        {
            throw Fail(n, $"pcap filter: mask length {n.Value} at column {Column(n)} must be <= {max}");
        }

        return (int)n.Value;
    }

    private FilterNode Ipv4Address(string? proto, Dir dir, uint address, uint mask)
    {
        int d = _vlanDepth;
        FilterNode? ip = null, arp = null;
        if (proto is null or "ip")
        {
            ip = new AndNode(new EtherTypeNode(d, EtherTypes.Ipv4),
                Directed(dir, Ipv4Header.SourceOffset, Ipv4Header.DestinationOffset, off => Field(FilterLayer.Network, off, 4, mask, address)));
        }

        if (proto is null or "arp" or "rarp")
        {
            FilterNode type = proto switch
            {
                "arp" => new EtherTypeNode(d, EtherTypes.Arp),
                "rarp" => new EtherTypeNode(d, EtherTypes.Rarp),
                _ => new OrNode(new EtherTypeNode(d, EtherTypes.Arp), new EtherTypeNode(d, EtherTypes.Rarp)),
            };
            arp = new AndNode(type, Directed(dir, ArpSenderIp, ArpTargetIp, off => Field(FilterLayer.Network, off, 4, mask, address)));
        }

        return ip is null ? arp! : arp is null ? ip : new OrNode(ip, arp);
    }

    // Ethernet/IPv4 ARP (RFC 826): sender protocol address at 14, target at 24; libpcap reads them
    // without checking the hardware and protocol lengths.
    private const uint ArpSenderIp = 14;
    private const uint ArpTargetIp = 24;

    private FilterNode Ipv6Address(Dir dir, IpAddr address, int bits)
    {
        var values = new uint[4];
        var masks = new uint[4];
        Span<byte> bytes = stackalloc byte[16];
        address.Write(bytes);
        for (int i = 0; i < 4; i++)
        {
            int wordBits = Math.Clamp(bits - 32 * i, 0, 32);
            masks[i] = FilterAddresses.Mask4(wordBits);
            values[i] = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes[(4 * i)..]) & masks[i];
        }

        int d = _vlanDepth;
        return new AndNode(new EtherTypeNode(d, EtherTypes.Ipv6),
            Directed(dir, Ipv6Header.SourceOffset, Ipv6Header.DestinationOffset,
                off => new AddressWordsNode(FilterLayer.Network, d, (uint)off, values, masks)));
    }

    private static FilterNode Directed(Dir dir, uint source, uint destination, Func<uint, FilterNode> at) => dir switch
    {
        Dir.Src => at(source),
        Dir.Dst => at(destination),
        Dir.SrcAndDst => new AndNode(at(source), at(destination)),
        _ => new OrNode(at(source), at(destination)),
    };

    private static FilterNode Directed(Dir dir, int source, int destination, Func<uint, FilterNode> at) =>
        Directed(dir, (uint)source, (uint)destination, at);

    private FieldNode Field(FilterLayer layer, uint offset, int size, uint mask, uint value, CompareOp op = CompareOp.Eq) =>
        new(layer, _vlanDepth, offset, size, mask, op, value);

    private const int MacSourceOffset = 6;
    private const int MacDestinationOffset = 0;

    /// <summary>A MAC at a link-layer offset: the low 4 bytes, then the high 2 (libpcap's order).</summary>
    private static FilterNode MacAt(uint offset, MacAddress mac) =>
        new AndNode(
            new FieldNode(FilterLayer.Link, 0, offset + 2, 4, uint.MaxValue, CompareOp.Eq, (uint)mac.Value),
            new FieldNode(FilterLayer.Link, 0, offset, 2, 0xFFFF, CompareOp.Eq, (uint)(mac.Value >> 32)));

    private static FilterNode EtherAddress(Dir dir, MacAddress mac) =>
        Directed(dir, MacSourceOffset, MacDestinationOffset, off => MacAt(off, mac));

    // ---- ports ----

    private FilterNode Port(Qualifiers q, Token v, Token protoToken, bool range)
    {
        string what = range ? "portrange" : "port";
        string? proto = q.Proto;
        if (proto is not (null or "tcp" or "udp" or "sctp"))
        {
            throw Fail(protoToken, $"pcap filter: '{proto}' at column {Column(protoToken)} cannot qualify '{what}' (only tcp, udp and sctp can)");
        }

        ushort lo, hi;
        if (range)
        {
            (lo, hi, string? narrowed) = ParsePortRange(v, proto);
            proto ??= narrowed;
        }
        else
        {
            (lo, string? narrowed) = ParsePort(v.Text, v, proto, v.Kind == TokenKind.Number ? v.Value : null);
            hi = lo;
            proto ??= narrowed;
        }

        byte[] protocols = proto switch
        {
            "tcp" => [IpProtocol.Tcp],
            "udp" => [IpProtocol.Udp],
            "sctp" => [IpProtocol.Sctp],
            _ => [IpProtocol.Sctp, IpProtocol.Tcp, IpProtocol.Udp],
        };
        Dir dir = q.Direction ?? Dir.SrcOrDst;
        int d = _vlanDepth;

        FilterNode PortAt(FilterLayer layer, uint off) => lo == hi
            ? new FieldNode(layer, d, off, 2, 0xFFFF, CompareOp.Eq, lo)
            : new AndNode(new FieldNode(layer, d, off, 2, 0xFFFF, CompareOp.Ge, lo), new FieldNode(layer, d, off, 2, 0xFFFF, CompareOp.Le, hi));

        const uint sourcePort = 0, destinationPort = 2;
        // IPv6: the fixed header's next header only (libpcap does not walk extension headers here).
        var v6 = new AndNode(new EtherTypeNode(d, EtherTypes.Ipv6),
            new AndNode(AnyOf(FilterLayer.Network, Ipv6Header.NextHeaderOffset, protocols),
                Directed(dir, sourcePort, destinationPort, off => PortAt(FilterLayer.Ipv6Payload, off))));
        // IPv4: only the first fragment has the ports.
        var v4 = new AndNode(new EtherTypeNode(d, EtherTypes.Ipv4),
            new AndNode(AnyOf(FilterLayer.Network, Ipv4Header.ProtocolOffset, protocols),
                new AndNode(FirstFragment(),
                    Directed(dir, sourcePort, destinationPort, off => PortAt(FilterLayer.Transport, off)))));
        return new OrNode(v6, v4);
    }

    private FilterNode AnyOf(FilterLayer layer, int offset, byte[] values)
    {
        FilterNode node = Field(layer, (uint)offset, 1, 0xFF, values[0]);
        for (int i = 1; i < values.Length; i++)
        {
            node = new OrNode(node, Field(layer, (uint)offset, 1, 0xFF, values[i]));
        }

        return node;
    }

    /// <summary>ip[6:2] &amp; 0x1fff = 0: not a fragment, or the first one.</summary>
    private FieldNode FirstFragment() => Field(FilterLayer.Network, Ipv4Header.FlagsFragmentOffset, 2, 0x1FFF, 0);

    private (ushort Port, string? Proto) ParsePort(string text, Token at, string? proto, uint? number = null)
    {
        if (number is { } n || TryNumber(text, out n))
        {
            if (n > ushort.MaxValue) throw Fail(at, $"pcap filter: port {text} at column {Column(at)} is above 65535");
            return ((ushort)n, null);
        }

        if (FilterNames.Services.TryGetValue(text, out var s))
        {
            // A name listed for one protocol only means that protocol (pcap-filter(7) "port").
            string? narrowed = s.Tcp && s.Udp ? null : s.Tcp ? "tcp" : "udp";
            if (proto is not null && narrowed is not null && proto != narrowed)
            {
                throw Fail(at, $"pcap filter: '{text}' at column {Column(at)} is a {narrowed} service, not {proto}");
            }

            return (s.Port, narrowed);
        }

        throw Fail(at, $"pcap filter: '{text}' at column {Column(at)} is not a port number or a known service name");
    }

    private (ushort Lo, ushort Hi, string? Proto) ParsePortRange(Token v, string? proto)
    {
        string text = v.Text;
        // Service names may contain '-' (ftp-data), so try each '-' as the separator.
        for (int i = text.IndexOf('-'); i > 0; i = text.IndexOf('-', i + 1))
        {
            string a = text[..i], b = text[(i + 1)..];
            if (!IsPortWord(a) || !IsPortWord(b)) continue;
            var (lo, pa) = ParsePort(a, v, proto);
            var (hi, pb) = ParsePort(b, v, proto);
            if (lo > hi) (lo, hi) = (hi, lo);
            return (lo, hi, pa == pb ? pa : null);
        }

        if (v.Kind == TokenKind.Number || IsPortWord(text))
        {
            var (p, narrowed) = ParsePort(text, v, proto, v.Kind == TokenKind.Number ? v.Value : null);
            return (p, p, narrowed);
        }

        throw Fail(v, $"pcap filter: '{text}' at column {Column(v)} is not a port range such as 6000-6010");
    }

    private static bool IsPortWord(string s) => TryNumber(s, out _) || FilterNames.Services.ContainsKey(s);

    private static bool TryNumber(string text, out uint value)
    {
        value = 0;
        return text.Length > 0 && text.All(char.IsAsciiDigit)
            && uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    // ---- proto, protochain and protocol primitives ----

    private FilterNode Proto(Qualifiers q, Token v, Token protoToken, Token typeToken)
    {
        if (q.Direction is not null) throw Fail(typeToken, $"pcap filter: 'proto' at column {Column(typeToken)} cannot take src or dst");
        int d = _vlanDepth;
        if (q.Proto is "ether" or "link")
        {
            Needs |= LinkNeeds.Network;
            uint type = v.Kind == TokenKind.Number ? v.Value
                : FilterNames.EtherProtocols.TryGetValue(v.Text, out ushort t) ? t
                : throw Fail(v, $"pcap filter: unknown ether proto '{v.Text}' at column {Column(v)} (known: {string.Join(", ", FilterNames.EtherProtocols.Keys.Order())})");
            return type > ushort.MaxValue ? new NotNode(TrueNode.Instance) : new EtherTypeNode(d, (ushort)type);
        }

        if (q.Proto is not (null or "ip" or "ip6"))
        {
            throw Fail(protoToken, $"pcap filter: '{q.Proto}' at column {Column(protoToken)} cannot qualify 'proto' (only ether, ip and ip6 can)");
        }

        uint protocol = ProtocolNumber(v, q.Proto ?? "ip");
        return q.Proto switch
        {
            "ip" => Ipv4Protocol(protocol),
            "ip6" => Ipv6Protocol(protocol),
            _ => new OrNode(Ipv4Protocol(protocol), Ipv6Protocol(protocol)),
        };
    }

    private uint ProtocolNumber(Token v, string family)
    {
        if (v.Kind == TokenKind.Number) return v.Value;
        if (FilterNames.IpProtocols.TryGetValue(v.Text, out byte p)) return p;
        throw Fail(v, $"pcap filter: unknown {family} proto '{v.Text}' at column {Column(v)} (names are /etc/protocols names such as tcp, udp, icmp, gre, esp, ipv6-icmp)");
    }

    private FilterNode Ipv4Protocol(uint protocol) =>
        new AndNode(new EtherTypeNode(_vlanDepth, EtherTypes.Ipv4), Field(FilterLayer.Network, Ipv4Header.ProtocolOffset, 1, 0xFF, protocol));

    /// <summary>
    /// The IPv6 next header is the protocol, or it is a fragment header whose next header is (libpcap
    /// looks that one extension header deep and no further).
    /// </summary>
    private FilterNode Ipv6Protocol(uint protocol)
    {
        const uint fragmentNextHeader = Ipv6Header.HeaderLength;
        return new AndNode(new EtherTypeNode(_vlanDepth, EtherTypes.Ipv6),
            new OrNode(Field(FilterLayer.Network, Ipv6Header.NextHeaderOffset, 1, 0xFF, protocol),
                new AndNode(Field(FilterLayer.Network, Ipv6Header.NextHeaderOffset, 1, 0xFF, IpProtocol.Fragment),
                    Field(FilterLayer.Network, fragmentNextHeader, 1, 0xFF, protocol))));
    }

    private FilterNode Protochain(Qualifiers q, Token v, Token protoToken, Token typeToken)
    {
        if (q.Direction is not null) throw Fail(typeToken, $"pcap filter: 'protochain' at column {Column(typeToken)} cannot take src or dst");
        if (q.Proto is not (null or "ip" or "ip6"))
        {
            throw Fail(protoToken, $"pcap filter: '{q.Proto}' at column {Column(protoToken)} cannot qualify 'protochain' (only ip and ip6 can)");
        }

        uint protocol = ProtocolNumber(v, q.Proto ?? "ip");
        if (protocol > byte.MaxValue) return new NotNode(TrueNode.Instance);
        int d = _vlanDepth;
        FilterNode V4() => new AndNode(new EtherTypeNode(d, EtherTypes.Ipv4), new ProtochainNode(d, false, (byte)protocol));
        FilterNode V6() => new AndNode(new EtherTypeNode(d, EtherTypes.Ipv6), new ProtochainNode(d, true, (byte)protocol));
        return q.Proto switch
        {
            "ip" => V4(),
            "ip6" => V6(),
            _ => new OrNode(V4(), V6()),
        };
    }

    /// <summary>tcp, udp, ip6, arp ... on their own (pcap-filter(7): abbreviations for proto / ether proto).</summary>
    private FilterNode ProtocolOnly(string proto, Token at)
    {
        Needs |= LinkNeeds.Network;
        int d = _vlanDepth;
        return proto switch
        {
            "ip" => new EtherTypeNode(d, EtherTypes.Ipv4),
            "ip6" => new EtherTypeNode(d, EtherTypes.Ipv6),
            "arp" => new EtherTypeNode(d, EtherTypes.Arp),
            "rarp" => new EtherTypeNode(d, EtherTypes.Rarp),
            "icmp" => Ipv4Protocol(IpProtocol.Icmp),
            "igmp" => Ipv4Protocol(IpProtocol.Igmp),
            "vrrp" or "carp" => Ipv4Protocol(FilterNames.IpProtocols["vrrp"]),
            "icmp6" => Ipv6Protocol(IpProtocol.Icmpv6),
            "tcp" => Both(IpProtocol.Tcp),
            "udp" => Both(IpProtocol.Udp),
            "sctp" => Both(IpProtocol.Sctp),
            "esp" => Both(IpProtocol.Esp),
            "ah" => Both(IpProtocol.Ah),
            "pim" => Both(FilterNames.IpProtocols["pim"]),
            _ => throw Fail(at, $"pcap filter: '{proto}' at column {Column(at)} needs more: write 'ether host MAC', 'ether proto N', 'ether broadcast' or '{proto}[offset]'"),
        };

        FilterNode Both(byte p) => new OrNode(Ipv4Protocol(p), Ipv6Protocol(p));
    }

    // ---- other primitives ----

    private FilterNode ProtocolBroadcast(string proto, Token protoToken, Token word)
    {
        bool broadcast = word.Text == "broadcast";
        int d = _vlanDepth;
        switch (proto)
        {
            case "ether":
            case "link":
                return broadcast ? EtherBroadcast() : EtherMulticast();
            case "ip":
                Needs |= LinkNeeds.Network;
                if (broadcast)
                {
                    // tcpdump -r knows no netmask, so only the all-zeroes and all-ones addresses count.
                    return new AndNode(new EtherTypeNode(d, EtherTypes.Ipv4),
                        new OrNode(Field(FilterLayer.Network, Ipv4Header.DestinationOffset, 4, uint.MaxValue, 0),
                            Field(FilterLayer.Network, Ipv4Header.DestinationOffset, 4, uint.MaxValue, uint.MaxValue)));
                }

                return new AndNode(new EtherTypeNode(d, EtherTypes.Ipv4),
                    Field(FilterLayer.Network, Ipv4Header.DestinationOffset, 1, 0xFF, 224, CompareOp.Ge));
            case "ip6" when !broadcast:
                Needs |= LinkNeeds.Network;
                return new AndNode(new EtherTypeNode(d, EtherTypes.Ipv6),
                    Field(FilterLayer.Network, Ipv6Header.DestinationOffset, 1, 0xFF, 0xFF));
            default:
                throw Fail(protoToken, $"pcap filter: '{proto} {word.Text}' at column {Column(protoToken)} is not supported; "
                    + "use ether broadcast, ether multicast, ip broadcast, ip multicast or ip6 multicast");
        }
    }

    private FilterNode EtherBroadcast()
    {
        Needs |= LinkNeeds.LinkBroadcast;
        return MacAt(MacDestinationOffset, MacAddress.Broadcast);
    }

    private FilterNode EtherMulticast()
    {
        Needs |= LinkNeeds.LinkMulticast;
        // The I/G bit of the destination (ether[0] & 1 != 0).
        return new FieldNode(FilterLayer.Link, 0, MacDestinationOffset, 1, 0x01, CompareOp.Ne, 0);
    }

    private FilterNode ParseLength(bool less)
    {
        var keyword = Next();
        var n = Next();
        if (n.Kind != TokenKind.Number) throw Unexpected(n, $"a number after '{keyword.Text}'");
        _last = null;
        return new RelationNode(LenArith.Instance, less ? CompareOp.Le : CompareOp.Ge, new ConstArith(n.Value));
    }

    private FilterNode ParseVlan()
    {
        Next();
        int vid = -1;
        if (Peek.Kind == TokenKind.Number)
        {
            var n = Next();
            if (n.Value > 4095) throw Fail(n, $"pcap filter: VLAN tag {n.Value} at column {Column(n)} is greater than the maximum 4095");
            vid = (int)n.Value;
        }

        _last = null;
        Needs |= LinkNeeds.Vlan;
        // Everything written after this looks inside the tag (pcap-filter(7) "vlan").
        return new VlanNode(_vlanDepth++, vid);
    }

    // ---- comparisons and arithmetic ----

    private FilterNode ParseRelation()
    {
        _guards = [];
        var left = ParseArith(0);
        var opToken = Peek;
        if (!opToken.IsRelop)
        {
            throw Unexpected(opToken, "a comparison (=, !=, <, >, <=, >=) or an arithmetic operator");
        }

        Next();
        var right = ParseArith(0);
        if (Peek.IsRelop) throw Unexpected(Peek, "'and' or 'or' (comparisons do not chain)");
        var op = opToken.Kind switch
        {
            TokenKind.Eq => CompareOp.Eq,
            TokenKind.Ne => CompareOp.Ne,
            TokenKind.Lt => CompareOp.Lt,
            TokenKind.Gt => CompareOp.Gt,
            TokenKind.Le => CompareOp.Le,
            _ => CompareOp.Ge,
        };

        FilterNode node = new RelationNode(left, op, right);
        // The protocols of every field come first: (guard and guard and comparison).
        for (int i = _guards.Count - 1; i >= 0; i--)
        {
            var guard = Guard(_guards[i].Proto, _guards[i].Depth);
            if (guard is not null) node = new AndNode(guard, node);
        }

        _guards = null;
        _last = null;
        return node;
    }

    private static int Precedence(TokenKind k) => k switch
    {
        TokenKind.Pipe => 1,
        TokenKind.Amp => 2,
        TokenKind.Shl or TokenKind.Shr => 3,
        TokenKind.Plus or TokenKind.Minus => 4,
        TokenKind.Star or TokenKind.Slash => 5,
        _ => 0,
    };

    private ArithNode ParseArith(int minPrecedence)
    {
        var left = ParseUnary();
        while (true)
        {
            var t = Peek;
            if (t.Kind is TokenKind.Percent or TokenKind.Caret)
            {
                // No precedence in libpcap's grammar: the right operand is the rest of the expression.
                Next();
                left = Binary(t, left, ParseArith(0));
                continue;
            }

            int p = Precedence(t.Kind);
            if (p == 0 || p < minPrecedence) return left;
            Next();
            left = Binary(t, left, ParseArith(p + 1));
        }
    }

    private ArithNode ParseUnary()
    {
        if (Peek.Kind != TokenKind.Minus) return ParsePrimary();
        Next();
        var operand = ParseUnary();
        if (Peek.Kind is TokenKind.Percent or TokenKind.Caret)
        {
            var t = Next();
            operand = Binary(t, operand, ParseArith(0));
        }

        return operand is ConstArith c ? new ConstArith(unchecked(0u - c.Value)) : new NegArith(operand);
    }

    private ArithNode ParsePrimary()
    {
        var t = Peek;
        switch (t.Kind)
        {
            case TokenKind.Number:
                Next();
                return new ConstArith(t.Value);
            case TokenKind.LParen:
                Next();
                var inner = ParseArith(0);
                if (Peek.Kind != TokenKind.RParen) throw Unexpected(Peek, $"')' to close the '(' at column {Column(t)}");
                Next();
                return inner;
            case TokenKind.Id when !t.Escaped:
                if (t.Text == "len")
                {
                    Next();
                    return LenArith.Instance;
                }

                if (FilterNames.Constants.TryGetValue(t.Text, out uint value))
                {
                    Next();
                    return new ConstArith(value);
                }

                if (PeekAt(1).Kind == TokenKind.LBracket) return ParseAccessor();
                break;
        }

        throw Unexpected(t, "a number, len, a field such as ip[0] or tcp[tcpflags], or '('");
    }

    private ArithNode ParseAccessor()
    {
        var protoToken = Next();
        string proto = protoToken.Text;
        Next(); // [
        FilterLayer layer = proto switch
        {
            "ether" or "link" => FilterLayer.Link,
            "ip" or "ip6" or "arp" or "rarp" => FilterLayer.Network,
            "tcp" or "udp" or "icmp" or "sctp" or "igmp" or "vrrp" or "carp" => FilterLayer.Transport,
            "icmp6" => FilterLayer.Ipv6Payload,
            _ => throw Fail(protoToken, $"pcap filter: '{proto}[...]' at column {Column(protoToken)} is not supported; "
                + "fields can be read from ether, link, ip, ip6, arp, rarp, tcp, udp, sctp, icmp, icmp6 and igmp"),
        };

        var index = ParseArith(0);
        int size = 1;
        if (Peek.Kind == TokenKind.Colon)
        {
            Next();
            var s = Next();
            if (s.Kind != TokenKind.Number) throw Unexpected(s, "a field size of 1, 2 or 4 after ':'");
            if (s.Value is not (1 or 2 or 4)) throw Fail(s, $"pcap filter: field size {s.Text} at column {Column(s)} must be 1, 2 or 4");
            size = (int)s.Value;
        }

        if (Peek.Kind != TokenKind.RBracket) throw Unexpected(Peek, $"']' to close the '[' of '{proto}' at column {Column(protoToken)}");
        Next();

        int depth = layer == FilterLayer.Link ? 0 : _vlanDepth;
        if (layer != FilterLayer.Link)
        {
            Needs |= LinkNeeds.Network;
            var key = (Canonical(proto), depth);
            if (!_guards!.Contains(key)) _guards.Add(key);
        }

        return new LoadArith(layer, depth, index, size, proto);
    }

    private static string Canonical(string proto) => proto == "carp" ? "vrrp" : proto == "link" ? "ether" : proto;

    /// <summary>What must be true for proto[...] to mean anything (libpcap's checks before the load).</summary>
    private FilterNode? Guard(string proto, int depth)
    {
        FilterNode Type(ushort t) => new EtherTypeNode(depth, t);
        FieldNode At(int offset, uint value) => new(FilterLayer.Network, depth, (uint)offset, 1, 0xFF, CompareOp.Eq, value);
        FilterNode Transport(byte protocol) => new AndNode(Type(EtherTypes.Ipv4), new AndNode(At(Ipv4Header.ProtocolOffset, protocol),
            new FieldNode(FilterLayer.Network, depth, Ipv4Header.FlagsFragmentOffset, 2, 0x1FFF, CompareOp.Eq, 0)));

        return proto switch
        {
            "ip" => Type(EtherTypes.Ipv4),
            "ip6" => Type(EtherTypes.Ipv6),
            "arp" => Type(EtherTypes.Arp),
            "rarp" => Type(EtherTypes.Rarp),
            "tcp" => Transport(IpProtocol.Tcp),
            "udp" => Transport(IpProtocol.Udp),
            "icmp" => Transport(IpProtocol.Icmp),
            "sctp" => Transport(IpProtocol.Sctp),
            "igmp" => Transport(IpProtocol.Igmp),
            "vrrp" => Transport(FilterNames.IpProtocols["vrrp"]),
            "icmp6" => new AndNode(Type(EtherTypes.Ipv6), At(Ipv6Header.NextHeaderOffset, IpProtocol.Icmpv6)),
            _ => null,
        };
    }

    private ArithNode Binary(Token opToken, ArithNode left, ArithNode right)
    {
        var op = opToken.Kind switch
        {
            TokenKind.Plus => ArithOp.Add,
            TokenKind.Minus => ArithOp.Sub,
            TokenKind.Star => ArithOp.Mul,
            TokenKind.Slash => ArithOp.Div,
            TokenKind.Percent => ArithOp.Mod,
            TokenKind.Amp => ArithOp.And,
            TokenKind.Pipe => ArithOp.Or,
            TokenKind.Caret => ArithOp.Xor,
            TokenKind.Shl => ArithOp.Shl,
            _ => ArithOp.Shr,
        };

        if (right is ConstArith c)
        {
            if (c.Value == 0 && op is ArithOp.Div or ArithOp.Mod)
            {
                throw Fail(opToken, $"pcap filter: division by zero at column {Column(opToken)}");
            }

            if (c.Value > 31 && op is ArithOp.Shl or ArithOp.Shr)
            {
                throw Fail(opToken, $"pcap filter: shift by more than 31 bits at column {Column(opToken)}");
            }

            if (left is ConstArith a) return new ConstArith(BinaryArith.Apply(op, a.Value, c.Value));
        }

        return new BinaryArith(op, left, right);
    }

    // ---- errors ----

    private FilterSyntaxException Fail(Token at, string message) =>
        new(_text, at.Position, at.Kind == TokenKind.End ? 0 : at.Text.Length + (at.Escaped ? 1 : 0), message);

    private FilterSyntaxException Unexpected(Token at, string expected, IReadOnlyList<string>? candidates = null)
    {
        string message = $"pcap filter: unexpected {at.Describe()} at column {Column(at)}; expected {expected}";
        if (at.Kind == TokenKind.Id && candidates is not null && Suggest(at.Text, candidates) is { } s)
        {
            message += $" (did you mean '{s}'?)";
        }

        return Fail(at, message);
    }

    /// <summary>The closest candidate within two edits (a swap counts as one), if any.</summary>
    internal static string? Suggest(string word, IReadOnlyList<string> candidates)
    {
        word = word.ToLowerInvariant();
        string? best = null;
        int bestDistance = 3;
        foreach (string c in candidates)
        {
            int d = Distance(word, c);
            if (d < bestDistance && d < Math.Max(word.Length, 2))
            {
                best = c;
                bestDistance = d;
            }
        }

        return best;
    }

    /// <summary>Optimal string alignment distance (Levenshtein plus adjacent transpositions).</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
