using PktFlow.Filter;

namespace PktFlow.Tests.Filter;

/// <summary>What the parser accepts, how it groups things, and what it says when it cannot.</summary>
public class CaptureFilterSyntaxTests
{
    private static string Tree(string expression) => CaptureFilter.Parse(expression).Describe();

    private static FilterSyntaxException Error(string expression) =>
        Assert.Throws<FilterSyntaxException>(() => CaptureFilter.Parse(expression));

    [Fact]
    public void UnknownWordNamesItsColumnAndThePrimitivesExpected()
    {
        var e = Error("not prot 80");
        Assert.StartsWith("pcap filter: unexpected 'prot' at column 5; expected a primitive such as host, net, port, tcp, udp, icmp, arp, ip, ip6, vlan", e.Message);
        Assert.EndsWith("(did you mean 'port'?)", e.Message);
        Assert.Equal(4, e.Position);
        Assert.Equal(5, e.Column);
        Assert.Equal(4, e.Length);
        Assert.Equal("not prot 80", e.Expression);
    }

    [Theory]
    [InlineData("tcp prot 80", 5, "unexpected 'prot' at column 5; expected 'and', 'or', or a qualifier after 'tcp' such as port, portrange, src, dst (did you mean 'port'?)")]
    [InlineData("TCP", 1, "(did you mean 'tcp'?)")]
    [InlineData("host 10.0.0.1 and prot 80", 19, "unexpected 'prot' at column 19")]
    [InlineData("tcp and", 8, "unexpected end of expression at column 8; expected a primitive")]
    [InlineData("(tcp", 5, "expected ')' to close the '(' at column 1")]
    [InlineData("tcp)", 4, "unexpected ')' at column 4; there is no '(' for it to close")]
    [InlineData("ip[1", 5, "expected ']' to close the '[' of 'ip' at column 1")]
    [InlineData("ip[0:3] = 1", 6, "field size 3 at column 6 must be 1, 2 or 4")]
    [InlineData("tcp[13] & 2", 12, "expected a comparison (=, !=, <, >, <=, >=)")]
    [InlineData("len > 5 > 3", 9, "comparisons do not chain")]
    [InlineData("len > 7/0", 8, "division by zero at column 8")]
    [InlineData("len % 0 = 1", 5, "division by zero at column 5")]
    [InlineData("len << 32 = 0", 5, "shift by more than 31 bits")]
    [InlineData("len > 4294967296", 7, "number 4294967296 at column 7 does not fit in 32 bits")]
    [InlineData("len-20 > 0", 1, "write 'len - 20'")]
    [InlineData("tcp or 80", 8, "a value on its own repeats the qualifiers of the primitive before it")]
    [InlineData("port 80 and tcp or 443", 20, "a value on its own repeats the qualifiers")]
    [InlineData("1.1.1.1", 1, "expected a primitive")]
    [InlineData("host foo", 6, "'foo' at column 6 is not an IPv4 or IPv6 address (PktFlow does not look up host names)")]
    [InlineData("host 1:2:3:4:5:6", 6, "is an Ethernet address; write 'ether host 1:2:3:4:5:6'")]
    [InlineData("src 00:11:22:33:44:55", 5, "write 'ether src host 00:11:22:33:44:55'")]
    [InlineData("ether host 10.0.0.1", 12, "'10.0.0.1' at column 12 is not an Ethernet address")]
    [InlineData("ip host 2001:db8::1", 1, "'ip' at column 1 cannot qualify the IPv6 address '2001:db8::1'")]
    [InlineData("ip6 host 10.0.0.1", 1, "'ip6' at column 1 cannot qualify the IPv4 address '10.0.0.1'")]
    [InlineData("tcp host 10.0.0.1", 1, "'tcp' at column 1 cannot qualify 'host'")]
    [InlineData("ip port 80", 1, "'ip' at column 1 cannot qualify 'port' (only tcp, udp and sctp can)")]
    [InlineData("port 70000", 6, "port 70000 at column 6 is above 65535")]
    [InlineData("port nosuch", 6, "is not a port number or a known service name")]
    [InlineData("udp port ssh", 10, "'ssh' at column 10 is a tcp service, not udp")]
    [InlineData("portrange 80", 0, null)]
    [InlineData("net 10.0.0.1/8", 5, "non-network bits set in \"10.0.0.1/8\"")]
    [InlineData("net 2001:db8::1/32", 5, "non-network bits set in \"2001:db8::1/32\"")]
    [InlineData("net 10.0.0.0/33", 14, "mask length 33 at column 14 must be <= 32")]
    [InlineData("net 2001:db8:: mask ffff::", 16, "'mask' at column 16 works with IPv4 networks only")]
    [InlineData("ip proto tcp", 10, "a protocol name that is also a keyword needs a backslash, as in 'ip proto \\tcp'")]
    [InlineData("ip6 proto \\icmp6", 11, "unknown ip6 proto 'icmp6' at column 11")]
    [InlineData("ether proto \\foo", 13, "unknown ether proto 'foo'")]
    [InlineData("src proto 6", 5, "'proto' at column 5 cannot take src or dst")]
    [InlineData("vlan 5000", 6, "VLAN tag 5000 at column 6 is greater than the maximum 4095")]
    [InlineData("less", 5, "expected a number after 'less'")]
    [InlineData("ether", 1, "'ether' at column 1 needs more")]
    [InlineData("ip6 broadcast", 1, "'ip6 broadcast' at column 1 is not supported")]
    [InlineData("tcp # x", 5, "unexpected character '#' at column 5")]
    [InlineData("\\", 1, "'\\' at column 1 must be followed by a name")]
    [InlineData("and tcp", 1, "unexpected 'and' at column 1; expected a primitive")]
    [InlineData("mask 255.0.0.0", 1, "'mask' at column 1 must follow a network address")]
    public void ErrorsNameTheColumn(string expression, int column, string? fragment)
    {
        if (fragment is null)
        {
            // Not an error: a single port is a range of one.
            Assert.Equal(Tree("port 80"), Tree(expression));
            return;
        }

        var e = Error(expression);
        Assert.StartsWith("pcap filter: ", e.Message);
        Assert.Contains(fragment, e.Message);
        Assert.Equal(column, e.Column);
        Assert.Contains($"column {column}", e.Message);
    }

    [Theory]
    [InlineData("mpls")]
    [InlineData("pppoes 3")]
    [InlineData("geneve")]
    [InlineData("llc")]
    [InlineData("iso")]
    [InlineData("atalk")]
    [InlineData("wlan addr1 1:2:3:4:5:6")]
    [InlineData("ifname eth0")]
    [InlineData("tcp and decnet")]
    public void LibpcapKeywordsPktFlowLacksSayNotSupported(string expression)
    {
        var e = Error(expression);
        Assert.Contains("is not supported by PktFlow's filter; PktFlow supports host, net, port", e.Message);
    }

    [Fact]
    public void GatewayNeedsNamesAndSaysWhatToWriteInstead()
    {
        Assert.Equal("pcap filter: 'gateway' at column 1 is not supported: it needs host-name lookups; write 'ether host MAC and not host IP' instead",
            Error("gateway router").Message);
    }

    [Fact]
    public void FieldsOfUnsupportedProtocolsAreRefused()
    {
        Assert.Contains("'pim[...]' at column 1 is not supported", Error("pim[0] = 1").Message);
    }

    [Theory]
    // 'and' and 'or' have the same precedence and group left to right (pcap-filter(7)); 'not' binds tightest.
    [InlineData("tcp or udp and icmp", "(tcp or udp) and icmp")]
    [InlineData("tcp and udp or icmp", "(tcp and udp) or icmp")]
    [InlineData("not tcp and udp", "(not tcp) and udp")]
    [InlineData("! tcp && udp || icmp", "((not tcp) and udp) or icmp")]
    [InlineData("not not tcp", "not (not tcp)")]
    // A bare value repeats the previous primitive's qualifiers ("not" and parentheses do not reset them).
    [InlineData("port 80 or 443", "port 80 or port 443")]
    [InlineData("tcp dst port 80 or 443", "tcp dst port 80 or tcp dst port 443")]
    [InlineData("host 10.0.0.1 and not 10.0.0.2", "host 10.0.0.1 and not host 10.0.0.2")]
    [InlineData("not host 10.0.0.1 and 10.0.0.2", "not host 10.0.0.1 and host 10.0.0.2")]
    [InlineData("host 10.0.0.1 and (10.0.0.2 or 10.0.0.3)", "host 10.0.0.1 and (host 10.0.0.2 or host 10.0.0.3)")]
    [InlineData("net 10.0.0.0/8 or 172.16.0.0/12", "net 10.0.0.0/8 or net 172.16.0.0/12")]
    [InlineData("ip proto 6 or 17", "ip proto 6 or ip proto 17")]
    [InlineData("ether proto \\arp or \\rarp", "ether proto 0x806 or ether proto 0x8035")]
    // Spellings of the same thing.
    [InlineData("ip proto \\tcp", "ip proto 6")]
    [InlineData("proto \\udp", "proto 17")]
    [InlineData("ether proto \\ip6", "ether proto 0x86dd")]
    [InlineData("src or dst port 53", "port 53")]
    [InlineData("port domain", "port 53")]
    [InlineData("port ssh", "tcp port 22")]
    [InlineData("portrange 90-80", "portrange 80-90")]
    [InlineData("portrange ftp-data-ssh", "tcp portrange 20-22")]
    [InlineData("net 10", "net 10.0.0.0/8")]
    [InlineData("net 172.16", "net 172.16.0.0/16")]
    [InlineData("host 10.1", "net 10.1.0.0/16")]
    [InlineData("net 10.0.0.0 mask 255.0.0.0", "net 10.0.0.0/8")]
    [InlineData("ip6 net 2001:db8::", "ip6 host 2001:db8::")]
    [InlineData("ether host 0011.2233.4455", "ether host 00:11:22:33:44:55")]
    [InlineData("ether host 001122334455", "ether host 00-11-22-33-44-55")]
    [InlineData("broadcast", "ether broadcast")]
    [InlineData("less 100", "len <= 100")]
    [InlineData("greater 100", "len >= 100")]
    [InlineData("icmp[icmptype] = icmp-echo", "icmp[0] = 8")]
    [InlineData("tcp[tcpflags] & (tcp-syn|tcp-ack) != 0", "tcp[13] & 18 != 0")]
    [InlineData("icmp6[icmp6type] = icmp6-neighborsolicit", "icmp6[0] = 135")]
    [InlineData("len==100", "len = 100")]
    [InlineData("len > 0x10", "len > 16")]
    [InlineData("len > 010", "len > 8")]
    // Arithmetic: * / over + - over << >> over & over |; % and ^ take everything after them (libpcap's grammar).
    [InlineData("len & 1 + 2 = 0", "len & (1 + 2) = 0")]
    [InlineData("len | 1 & 2 = 0", "len | (1 & 2) = 0")]
    [InlineData("len & 3 << 1 = 0", "len & (3 << 1) = 0")]
    [InlineData("len << 1 + 2 = 0", "len << (1 + 2) = 0")]
    [InlineData("len - 1 - 2 = 0", "(len - 1) - 2 = 0")]
    [InlineData("len + 1 * 2 = 0", "len + (1 * 2) = 0")]
    [InlineData("len % 3 * 2 = 0", "len % (3 * 2) = 0")]
    [InlineData("len * 3 % 2 = 0", "len * (3 % 2) = 0")]
    [InlineData("len ^ 1 | 2 = 0", "len ^ (1 | 2) = 0")]
    [InlineData("len - -1 = 0", "len - 4294967295 = 0")]
    public void SameTree(string expression, string equivalent) => Assert.Equal(Tree(equivalent), Tree(expression));

    [Fact]
    public void EachVlanShiftsEverythingWrittenAfterIt()
    {
        Assert.Contains("type@vlan1 = 0x800", Tree("vlan and ip"));
        Assert.Contains("net@vlan1[12:4] = 0xa000001", Tree("vlan 100 and host 10.0.0.1"));
        Assert.Equal("(type = 0x800 or vlan)", Tree("ip or vlan"));
        // Textual order, whatever the parentheses: the 'ip' after "(vlan or ip)" is inside the tag too.
        Assert.Contains("type@vlan1 = 0x800", Tree("(vlan or ip) and tcp"));
        Assert.Contains("vlan@vlan1 100", Tree("vlan and vlan 100"));
        Assert.Contains("type@vlan2 = 0x800", Tree("vlan 10 and vlan 100 and ip"));
        // Link-layer fields do not move.
        Assert.Contains("ether[0:1]", Tree("vlan and ether[0] & 1 != 0"));
    }

    [Fact]
    public void FieldComparisonsRequireTheirProtocols()
    {
        Assert.Equal("((type = 0x800 and (net[9:1] = 0x6 and (net[6:2] & 0x1fff) = 0x0)) and tcp[13:1] = 18)", Tree("tcp[13] = 18"));
        Assert.Equal("((type = 0x86dd and net[6:1] = 0x3a) and icmp6[0:1] = 128)", Tree("icmp6[0] = 128"));
        Assert.Equal("ether[0:1] = 1", Tree("ether[0] = 1"));
        // One check per protocol, however many fields read from it.
        Assert.Equal(1, Count(Tree("tcp[0:2] = tcp[2:2]"), "net[9:1] = 0x6"));
    }

    private static int Count(string haystack, string needle) =>
        (haystack.Length - haystack.Replace(needle, "", StringComparison.Ordinal).Length) / needle.Length;

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void EmptyExpressionMatchesEverything(string expression)
    {
        var filter = CaptureFilter.Parse(expression);
        Assert.True(filter.Matches(PktFlow.Capture.LinkType.Ethernet, []));
        Assert.Equal(expression, filter.Expression);
        Assert.True(CaptureFilter.All.Matches(PktFlow.Capture.LinkType.Raw, new byte[] { 0x45 }));
    }

    [Fact]
    public void TryParseReturnsTheError()
    {
        Assert.True(CaptureFilter.TryParse("tcp port 80", out var ok, out var none));
        Assert.NotNull(ok);
        Assert.Null(none);
        Assert.False(CaptureFilter.TryParse("tcp port", out var bad, out var error));
        Assert.Null(bad);
        Assert.Equal("pcap filter: unexpected end of expression at column 9; expected a value after 'port'", error!.Message);
        Assert.Equal(8, error.Position);
        Assert.Equal(0, error.Length);
    }

    [Fact]
    public void NullIsAnArgumentError() => Assert.Throws<ArgumentNullException>(() => CaptureFilter.Parse(null!));

    [Fact]
    public void ExpressionAndToStringAreTheInput()
    {
        var f = CaptureFilter.Parse("tcp  port 80");
        Assert.Equal("tcp  port 80", f.Expression);
        Assert.Equal("tcp  port 80", f.ToString());
    }
}
