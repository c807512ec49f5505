using System.Buffers.Binary;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Wire;

/// <summary>
/// The frames of TestData/wire/samples.pcap: one per case, deterministic, covering TCP (with
/// options and relative sequence numbers), UDP, ICMP echo and errors, ARP, ICMPv6 ND and echo,
/// VLAN and QinQ, IPv6 extension headers, fragments, tunnels and malformed headers. The expected
/// decode is tcpdump's (samples.tcpdump.txt, made with `tcpdump -n -r samples.pcap`).
/// </summary>
public static class WireSamples
{
    public sealed record Sample(string Name, byte[] Frame, int WireLength);

    private const string C = "10.1.0.2";   // client
    private const string S = "10.1.0.1";   // server
    private const string C6 = "2001:db8::2";
    private const string S6 = "2001:db8::1";

    public static List<Sample> All()
    {
        var list = new List<Sample>();
        void Add(string name, byte[] frame, int? wire = null) => list.Add(new Sample(name, frame, wire ?? frame.Length));
        void Eth4(string name, byte[] ip, int? wire = null) => Add(name, Pad60(Ether(EtherTypes.Ipv4, ip)), wire);
        void Eth6(string name, byte[] ip, int? wire = null) => Add(name, Ether(EtherTypes.Ipv6, ip), wire);

        // --- TCP handshake, data, SACK, teardown (relative sequence numbers) ---
        byte[] synOpts = Concat(OptMss(1460), OptSackOk, OptTs(1, 0), OptNop, OptWscale(7));
        Eth4("tcp-syn", Ipv4(C, S, 6, Tcp(C, S, 40000, 80, 123, 0, TcpFlags.Syn, synOpts), df: true));
        Eth4("tcp-synack", Ipv4(S, C, 6, Tcp(S, C, 80, 40000, 5000, 124, TcpFlags.Syn | TcpFlags.Ack,
            Concat(OptMss(1400), OptSackOk, OptTs(7, 1), OptNop, OptWscale(9)), window: 65160), df: true));
        Eth4("tcp-ack", Ipv4(C, S, 6, Tcp(C, S, 40000, 80, 124, 5001, TcpFlags.Ack, Concat(OptNop, OptNop, OptTs(2, 7)), window: 502), df: true));
        Eth4("tcp-data", Ipv4(C, S, 6, Tcp(C, S, 40000, 80, 124, 5001, TcpFlags.Psh | TcpFlags.Ack, Concat(OptNop, OptNop, OptTs(3, 7)), Bytes(100), window: 502), df: true));
        Eth4("tcp-data-reply", Ipv4(S, C, 6, Tcp(S, C, 80, 40000, 5001, 224, TcpFlags.Psh | TcpFlags.Ack, default, Bytes(1000, 7), window: 509), df: true));
        Eth4("tcp-sack", Ipv4(C, S, 6, Tcp(C, S, 40000, 80, 224, 5001, TcpFlags.Ack, Concat(OptNop, OptNop, OptSack((6001, 7001), (8001, 9001))), window: 502), df: true));
        Eth4("tcp-fin", Ipv4(C, S, 6, Tcp(C, S, 40000, 80, 224, 6001, TcpFlags.Fin | TcpFlags.Ack), df: true));
        Eth4("tcp-rst", Ipv4(S, C, 6, Tcp(S, C, 80, 40000, 6001, 0, TcpFlags.Rst, window: 0), df: true));
        Eth4("tcp-rst-ack", Ipv4(S, C, 6, Tcp(S, C, 80, 40000, 6001, 225, TcpFlags.Rst | TcpFlags.Ack, window: 0), df: true));
        Eth4("tcp-urg-all-flags", Ipv4(C, "10.1.0.9", 6, Tcp(C, "10.1.0.9", 1234, 5678, 1, 2, (TcpFlags)0xFF, urgent: 5)));
        Eth4("tcp-no-flags", Ipv4(C, "10.1.0.9", 6, Tcp(C, "10.1.0.9", 1234, 5678, 1, 2, TcpFlags.None)));
        Eth4("tcp-ece-cwr-syn", Ipv4(C, "10.1.0.9", 6, Tcp(C, "10.1.0.9", 1235, 5678, 77, 0, TcpFlags.Syn | TcpFlags.Ece | TcpFlags.Cwr, OptMss(1460))));
        Eth4("tcp-opts-eol-unknown", Ipv4(C, "10.1.0.9", 6, Tcp(C, "10.1.0.9", 1236, 5678, 9, 0, TcpFlags.Syn,
            Concat([0x4c, 4, 0xab, 0xcd], OptNop, [0, 0, 0]))));
        Eth4("tcp-opt-bad-length", Ipv4(C, "10.1.0.9", 6, Tcp(C, "10.1.0.9", 1237, 5678, 9, 0, TcpFlags.Syn, [2, 9, 5, 0xb4])));
        Eth4("tcp-opt-mss-wrong-len", Ipv4(C, "10.1.0.9", 6, Tcp(C, "10.1.0.9", 1238, 5678, 9, 0, TcpFlags.Syn, [2, 6, 5, 0xb4, 0, 0, 1, 1])));
        Eth4("tcp-bad-doff-short", Ipv4(C, "10.1.0.9", 6, Tcp(C, "10.1.0.9", 1239, 5678, 9, 0, TcpFlags.Syn, dataOffset: 3)));
        Eth4("tcp-bad-doff-long", Ipv4(C, "10.1.0.9", 6, Tcp(C, "10.1.0.9", 1240, 5678, 9, 0, TcpFlags.Syn, dataOffset: 15)));
        Eth4("tcp-ssh-banner", Ipv4("10.1.0.3", S, 6, Tcp("10.1.0.3", S, 50022, 22, 1000, 2000, TcpFlags.Psh | TcpFlags.Ack, payload: Ascii("SSH-2.0-OpenSSH_9.2\r\n"))));
        Eth4("tcp-http-get", Ipv4("10.1.0.3", S, 6, Tcp("10.1.0.3", S, 50080, 80, 1000, 2000, TcpFlags.Psh | TcpFlags.Ack, payload: Ascii("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"))));
        Eth4("tcp-http-200", Ipv4(S, "10.1.0.3", 6, Tcp(S, "10.1.0.3", 80, 50080, 2000, 1037, TcpFlags.Psh | TcpFlags.Ack, payload: Ascii("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))));
        {
            // Cut by a snap length of 54: the TCP header is there, the payload is not.
            var f = Pad60(Ether(EtherTypes.Ipv4, Ipv4(C, S, 6, Tcp(C, S, 40001, 443, 1, 1, TcpFlags.Ack | TcpFlags.Psh, payload: Bytes(200)))));
            Add("tcp-snaplen-54", f[..54], f.Length);
            Add("tcp-snaplen-40", f[..40], f.Length);
            Add("tcp-snaplen-38", f[..38], f.Length);
        }

        // --- UDP ---
        Eth4("udp", Ipv4(C, S, 17, Udp(C, S, 5000, 9999, Bytes(4))));
        Eth4("udp-zero-checksum", Ipv4(C, S, 17, Udp(C, S, 5001, 9999, Bytes(32), checksum: false)));
        Eth4("udp-length-too-long", Ipv4(C, S, 17, Udp(C, S, 5002, 9999, Bytes(20), length: 100)));
        Eth4("udp-length-short", Ipv4(C, S, 17, Udp(C, S, 5003, 9999, Bytes(20), length: 12)));
        Eth4("udp-length-below-8", Ipv4(C, S, 17, Udp(C, S, 5004, 9999, Bytes(20), length: 4)));
        Eth4("dns-query", Ipv4(C, "10.1.0.53", 17, Udp(C, "10.1.0.53", 40053, 53, DnsQuery(0x1234, "example.com", 1, edns: true))));
        Eth4("dns-query-aaaa", Ipv4(C, "10.1.0.53", 17, Udp(C, "10.1.0.53", 40054, 53, DnsQuery(7, "www.example.org", 28, edns: false))));
        Eth4("dns-response", Ipv4("10.1.0.53", C, 17, Udp("10.1.0.53", C, 53, 40053, DnsResponse(0x1234, "example.com"))));
        Eth4("dns-nxdomain", Ipv4("10.1.0.53", C, 17, Udp("10.1.0.53", C, 53, 40055, DnsNx(99, "nope.example"))));

        // --- ICMP ---
        Eth4("icmp-echo-request", Ipv4(C, S, 1, Icmp(8, 0, 5u << 16 | 1, Bytes(56)), df: true));
        Eth4("icmp-echo-reply", Ipv4(S, C, 1, Icmp(0, 0, 5u << 16 | 1, Bytes(56))));
        byte[] quotedUdp = Ipv4(C, "10.9.9.9", 17, Udp(C, "10.9.9.9", 45000, 33434, Bytes(32)), ttl: 1)[..28];
        byte[] quotedTcp = Ipv4(C, "10.9.9.9", 6, Tcp(C, "10.9.9.9", 45001, 8080, 1, 0, TcpFlags.Syn))[..28];
        Eth4("icmp-port-unreachable", Ipv4("10.9.9.9", C, 1, Icmp(3, 3, 0, quotedUdp)));
        Eth4("icmp-tcp-port-unreachable", Ipv4("10.9.9.9", C, 1, Icmp(3, 3, 0, quotedTcp)));
        Eth4("icmp-host-unreachable", Ipv4(S, C, 1, Icmp(3, 1, 0, Ipv4(C, "198.51.100.1", 17, Udp(C, "198.51.100.1", 1, 2, []))[..28])));
        Eth4("icmp-net-unreachable", Ipv4(S, C, 1, Icmp(3, 0, 0, Ipv4(C, "203.0.113.7", 17, Udp(C, "203.0.113.7", 1, 2, []))[..28])));
        Eth4("icmp-proto-unreachable", Ipv4(S, C, 1, Icmp(3, 2, 0, Ipv4(C, S, 132, Bytes(8))[..28])));
        Eth4("icmp-frag-needed", Ipv4(S, C, 1, Icmp(3, 4, 1400, quotedUdp)));
        Eth4("icmp-admin-prohibited", Ipv4(S, C, 1, Icmp(3, 13, 0, quotedUdp)));
        Eth4("icmp-time-exceeded", Ipv4("10.1.0.254", C, 1, Icmp(11, 0, 0, quotedUdp)));
        Eth4("icmp-reassembly-time-exceeded", Ipv4(S, C, 1, Icmp(11, 1, 0, quotedUdp)));
        Eth4("icmp-param-problem", Ipv4(S, C, 1, Icmp(12, 0, 20u << 24, quotedUdp)));
        Eth4("icmp-redirect-host", Ipv4(S, C, 1, Icmp(5, 1, IpAddr.Parse("10.1.0.7").V4Value, quotedUdp)));
        Eth4("icmp-source-quench", Ipv4(S, C, 1, Icmp(4, 0, 0, quotedUdp)));
        Eth4("icmp-timestamp", Ipv4(C, S, 1, Icmp(13, 0, 3u << 16 | 4, new byte[12])));
        Eth4("icmp-timestamp-reply", Ipv4(S, C, 1, Icmp(14, 0, 3u << 16 | 4, Concat([0, 0, 3, 0xe8], [3, 0xde, 0x0b, 0x7b], [0x80, 0, 0, 1]))));
        Eth6("icmp6-echo-truncated", Ipv6(C6, S6, 58, Icmpv6(C6, S6, 128, 0, 1u << 16 | 24, Bytes(32)), payloadLength: 200));
        Eth4("icmp-unknown-type", Ipv4(C, S, 1, Icmp(99, 0, 0, Bytes(4))));

        // --- ARP ---
        Add("arp-request", Pad60(Ether(MacAddress.Broadcast, MacA, EtherTypes.Arp, Arp(1, MacA, C, MacAddress.Zero, S))));
        Add("arp-reply", Pad60(Ether(MacA, MacB, EtherTypes.Arp, Arp(2, MacB, S, MacA, C))));
        Add("arp-request-unpadded", Ether(MacAddress.Broadcast, MacA, EtherTypes.Arp, Arp(1, MacA, C, MacAddress.Zero, S)));
        Add("arp-request-known-tha", Pad60(Ether(MacB, MacA, EtherTypes.Arp, Arp(1, MacA, C, MacB, S))));
        Add("arp-gratuitous", Pad60(Ether(MacAddress.Broadcast, MacA, EtherTypes.Arp, Arp(1, MacA, C, MacAddress.Zero, C))));
        {
            var a = Arp(1, MacA, C, MacAddress.Zero, S);
            a[5] = 16; // protocol length 16: not Ethernet/IPv4
            Add("arp-odd-sizes", Pad60(Ether(MacAddress.Broadcast, MacA, EtherTypes.Arp, Concat(a, new byte[24]))));
        }
        Add("arp-truncated", Ether(MacAddress.Broadcast, MacA, EtherTypes.Arp, Arp(1, MacA, C, MacAddress.Zero, S))[..30]);

        // --- ICMPv6 / ND ---
        const string Ll = "fe80::1";
        const string Ll2 = "fe80::2";
        byte[] ns = Concat(Ipv6Addr(S6), [1, 1], MacA.ToBytes());
        Eth6("nd-ns", Ipv6(Ll, "ff02::1:ff00:1", 58, Icmpv6(Ll, "ff02::1:ff00:1", 135, 0, 0, ns), hopLimit: 255));
        byte[] na = Concat(Ipv6Addr(S6), [2, 1], MacB.ToBytes());
        Eth6("nd-na", Ipv6(Ll2, Ll, 58, Icmpv6(Ll2, Ll, 136, 0, 0x6000_0000, na), hopLimit: 255));
        Eth6("nd-ns-dad", Ipv6("::", "ff02::1:ff00:2", 58, Icmpv6("::", "ff02::1:ff00:2", 135, 0, 0, Ipv6Addr("2001:db8::2")), hopLimit: 255));
        Eth6("nd-rs", Ipv6(Ll, "ff02::2", 58, Icmpv6(Ll, "ff02::2", 133, 0, 0, Concat([1, 1], MacA.ToBytes())), hopLimit: 255));
        Eth6("nd-ra", Ipv6(Ll2, "ff02::1", 58, Icmpv6(Ll2, "ff02::1", 134, 0, 0x40_00_0708, Concat(new byte[8], [1, 1], MacB.ToBytes())), hopLimit: 255));
        Eth6("nd-redirect", Ipv6(Ll2, Ll, 58, Icmpv6(Ll2, Ll, 137, 0, 0, Concat(Ipv6Addr("fe80::3"), Ipv6Addr("2001:db8:1::5"))), hopLimit: 255));
        Eth6("icmp6-echo-request", Ipv6(C6, S6, 58, Icmpv6(C6, S6, 128, 0, 1u << 16 | 1, Bytes(56))));
        Eth6("icmp6-echo-reply", Ipv6(S6, C6, 58, Icmpv6(S6, C6, 129, 0, 1u << 16 | 1, Bytes(56))));
        byte[] quoted6 = Ipv6(C6, "2001:db8::99", 17, Udp(C6, "2001:db8::99", 45000, 33434, Bytes(16)));
        Eth6("icmp6-port-unreachable", Ipv6("2001:db8::99", C6, 58, Icmpv6("2001:db8::99", C6, 1, 4, 0, quoted6)));
        Eth6("icmp6-no-route", Ipv6(S6, C6, 58, Icmpv6(S6, C6, 1, 0, 0, quoted6)));
        Eth6("icmp6-admin-prohibited", Ipv6(S6, C6, 58, Icmpv6(S6, C6, 1, 1, 0, quoted6)));
        Eth6("icmp6-address-unreachable", Ipv6(S6, C6, 58, Icmpv6(S6, C6, 1, 3, 0, quoted6)));
        Eth6("icmp6-packet-too-big", Ipv6(S6, C6, 58, Icmpv6(S6, C6, 2, 0, 1280, quoted6)));
        Eth6("icmp6-time-exceeded", Ipv6("2001:db8::fe", C6, 58, Icmpv6("2001:db8::fe", C6, 3, 0, 0, quoted6)));
        Eth6("icmp6-param-problem", Ipv6(S6, C6, 58, Icmpv6(S6, C6, 4, 1, 6, quoted6)));
        Eth6("mldv2-report", Ipv6(Ll, "ff02::16", 0, Concat(ExtHeader(58, [5, 2, 0, 0]),
            Icmpv6(Ll, "ff02::16", 143, 0, 1, Concat([4, 0, 0, 0], Ipv6Addr("ff02::1:ff00:1")))), hopLimit: 1));
        Eth6("mld-query-v2", Ipv6(Ll, "ff02::1", 0, Concat(ExtHeader(58, [5, 2, 0, 0]),
            Icmpv6(Ll, "ff02::1", 130, 0, 1000u << 16, Concat(new byte[16], [2, 125, 0, 0])))));
        Eth6("mld-query-v1", Ipv6(Ll, "ff02::1", 58, Icmpv6(Ll, "ff02::1", 130, 0, 10000u << 16, new byte[16]), hopLimit: 1));
        Eth6("mld-report-v1", Ipv6(Ll, "ff02::1:ff00:1", 58, Icmpv6(Ll, "ff02::1:ff00:1", 131, 0, 0, Ipv6Addr("ff02::1:ff00:1")), hopLimit: 1));

        // --- VLAN ---
        Add("vlan-icmp", Pad60(Ether(MacB, MacA, EtherTypes.Ipv4, Ipv4(C, S, 1, Icmp(8, 0, 9u << 16 | 2, Bytes(16))), (0x8100, 0x2064))));
        Add("qinq-tcp6", Ether(MacB, MacA, EtherTypes.Ipv6, Ipv6(C6, S6, 6, Tcp(C6, S6, 443, 50000, 1, 2, TcpFlags.Ack)), (0x88A8, 10), (0x8100, 20)));
        Add("vlan-9100-arp", Pad60(Ether(MacAddress.Broadcast, MacA, EtherTypes.Arp, Arp(1, MacA, C, MacAddress.Zero, S), (0x9100, 30))));
        Add("vlan-triple", Pad60(Ether(MacB, MacA, EtherTypes.Ipv4, Ipv4(C, S, 17, Udp(C, S, 1, 2, Bytes(4))), (0x88A8, 1), (0x8100, 2), (0x8100, 3))));
        Add("vlan-cut", Ether(MacB, MacA, EtherTypes.Ipv4, [], (0x8100, 5))[..16]);

        // --- IPv6 extension headers ---
        Eth6("ipv6-hbh-tcp", Ipv6(C6, S6, 0, Concat(ExtHeader(6, [5, 2, 0, 0]), Tcp(C6, S6, 1000, 2000, 5, 0, TcpFlags.Syn))));
        Eth6("ipv6-dstopt-udp", Ipv6(C6, S6, 60, Concat(ExtHeader(17, []), Udp(C6, S6, 1000, 2000, Bytes(10)))));
        Eth6("ipv6-routing0-icmp6", Ipv6(C6, S6, 43, Concat(ExtHeader(58, Concat([0, 1, 0, 0, 0, 0], Ipv6Addr("2001:db8::77"))),
            Icmpv6(C6, S6, 128, 0, 2u << 16 | 3, Bytes(8)))));
        Eth6("ipv6-routing2-tcp", Ipv6(C6, S6, 43, Concat(ExtHeader(6, Concat([2, 1, 0, 0, 0, 0], Ipv6Addr("2001:db8::88"))),
            Tcp(C6, S6, 1001, 2001, 5, 0, TcpFlags.Syn))));
        Eth6("ipv6-srh-udp", Ipv6(C6, S6, 43, Concat(ExtHeader(17, Concat([4, 1, 1, 0, 0, 0], Ipv6Addr("2001:db8::aa"), Ipv6Addr("2001:db8::bb"))),
            Udp(C6, S6, 1002, 2002, Bytes(4)))));
        Eth6("ipv6-routing3", Ipv6(C6, S6, 43, Concat(ExtHeader(59, [3, 0, 0, 0, 0, 0]))));
        Eth6("ipv6-routing-unknown", Ipv6(C6, S6, 43, Concat(ExtHeader(59, [253, 0, 0, 0, 0, 0]))));
        Eth6("ipv6-frag-first-udp", Ipv6(C6, S6, 44, Concat(FragmentHeader(17, 0, true, 0x1234), Udp(C6, S6, 1000, 2000, Bytes(40), length: 3008))));
        Eth6("ipv6-frag-later", Ipv6(C6, S6, 44, Concat(FragmentHeader(17, 1448, false, 0x1234), Bytes(100))));
        Eth6("ipv6-no-next", Ipv6(C6, S6, 59, []));
        Eth6("ipv6-esp", Ipv6(C6, S6, 50, Concat([0, 0, 1, 0, 0, 0, 0, 9], Bytes(24))));
        Eth6("ipv6-in-ipv6", Ipv6(C6, S6, 41, Ipv6("2001:db8:a::1", "2001:db8:b::1", 58, Icmpv6("2001:db8:a::1", "2001:db8:b::1", 128, 0, 7u << 16 | 8, Bytes(4)))));
        Eth6("ipv6-truncated-payload", Ipv6(C6, S6, 17, Udp(C6, S6, 1000, 2000, Bytes(10)), payloadLength: 100));
        Eth6("ipv6-mapped-addr", Ipv6("::ffff:10.1.2.3", "::1", 17, Udp("::ffff:10.1.2.3", "::1", 7, 7, Bytes(2))));

        // --- IPv4 odds and ends ---
        Eth4("ipv4-frag-first", Ipv4(C, S, 17, Udp(C, S, 5005, 9999, Bytes(64), length: 3008), id: 77, mf: true));
        Eth4("ipv4-frag-middle", Ipv4(C, S, 17, Bytes(64), id: 77, mf: true, fragOffset: 72));
        Eth4("ipv4-frag-last", Ipv4(C, S, 6, Bytes(24), id: 78, fragOffset: 1480));
        Eth4("ipv4-options-igmp", Ipv4("10.1.0.5", "224.0.0.22", 2, Igmpv3Report(), ttl: 1, options: [0x94, 4, 0, 0], tos: 0xc0));
        Eth4("igmpv2-report", Ipv4("10.1.0.5", "239.1.1.1", 2, Igmp(0x16, 0, "239.1.1.1"), ttl: 1, options: [0x94, 4, 0, 0]));
        Eth4("igmpv2-query", Ipv4("10.1.0.1", "224.0.0.1", 2, Igmp(0x11, 100, "0.0.0.0"), ttl: 1));
        Eth4("igmpv2-leave", Ipv4("10.1.0.5", "224.0.0.2", 2, Igmp(0x17, 0, "239.1.1.1"), ttl: 1));
        Eth4("igmpv3-query", Ipv4("10.1.0.1", "224.0.0.1", 2, Concat(Igmp(0x11, 10, "0.0.0.0"), [2, 125, 0, 0]), ttl: 1));
        Eth4("ipv4-unknown-proto", Ipv4(C, S, 253, Bytes(12)));
        Eth4("ipv4-bad-version", BadVersion(Ipv4(C, S, 17, Udp(C, S, 1, 2, Bytes(4))), 5));
        Eth4("ipv4-version6-in-ipv4", BadVersion(Ipv4(C, S, 17, Udp(C, S, 1, 2, Bytes(4))), 6));
        Eth4("ipv4-ihl-3", WithIhl(Ipv4(C, S, 17, Udp(C, S, 1, 2, Bytes(4))), 3));
        Eth4("ipv4-ihl-beyond-data", WithIhl(Ipv4(C, S, 1, Icmp(8, 0, 0, [])), 15));
        Eth4("ipv4-truncated-ip", Ipv4(C, S, 1, Icmp(8, 0, 1u << 16 | 1, Bytes(16)), totalLength: 84));
        Eth4("ipv4-bad-len", Ipv4(C, S, 1, Icmp(8, 0, 1u << 16 | 1, Bytes(16)), totalLength: 16));
        Eth4("ipv4-tso-zero-length", Ipv4(C, S, 6, Tcp(C, S, 40000, 80, 124, 5001, TcpFlags.Ack, payload: Bytes(300)), totalLength: 0));
        Eth4("ipv4-in-ipv4", Ipv4("192.0.2.1", "192.0.2.2", 4, Ipv4(C, S, 1, Icmp(8, 0, 3u << 16 | 3, Bytes(8)))));
        Eth4("ipv6-in-ipv4", Ipv4("192.0.2.1", "192.0.2.2", 41, Ipv6(C6, S6, 58, Icmpv6(C6, S6, 128, 0, 3u << 16 | 4, Bytes(8)))));
        Eth4("gre-ipv4", Ipv4("192.0.2.1", "192.0.2.2", 47, Concat([0, 0, 8, 0], Ipv4(C, S, 1, Icmp(8, 0, 4u << 16 | 1, Bytes(8))))));
        Eth4("gre-key-ipv6", Ipv4("192.0.2.1", "192.0.2.2", 47, Concat([0x20, 0, 0x86, 0xdd, 0, 0, 0, 42], Ipv6(C6, S6, 59, []))));
        Eth4("esp", Ipv4("192.0.2.1", "192.0.2.2", 50, Concat([0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1], Bytes(32))));
        Eth4("ah-icmp", Ipv4("192.0.2.1", "192.0.2.2", 51, Concat([1, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 5], new byte[12], Icmp(8, 0, 1, Bytes(4)))));
        Add("ipv4-ip-truncated-header", Ether(EtherTypes.Ipv4, Ipv4(C, S, 6, Bytes(30)))[..26]);
        Add("ipv4-ip-1-byte", Ether(EtherTypes.Ipv4, Ipv4(C, S, 6, Bytes(30)))[..15]);
        Eth4("ipv4-ah-tcp", Ipv4("192.0.2.1", "192.0.2.2", 51, Concat([6, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 6], Tcp("192.0.2.1", "192.0.2.2", 7, 8, 1, 0, TcpFlags.Syn))));

        // --- link layer ---
        Add("eth-unknown-type", Pad60(Ether(0x88B5, Bytes(20))));
        Add("eth-lldp", Pad60(Ether(0x88CC, Bytes(20))));
        Add("eth-short", Bytes(10));
        return list;
    }

    private static byte[] BadVersion(byte[] ip, int version) { ip[0] = (byte)(version << 4 | (ip[0] & 0x0F)); return ip; }
    private static byte[] WithIhl(byte[] ip, int ihl) { ip[0] = (byte)(0x40 | ihl); return ip; }

    private static byte[] Igmp(byte type, byte mrc, string group)
    {
        var b = new byte[8];
        b[0] = type;
        b[1] = mrc;
        IpAddr.Parse(group).Write(b.AsSpan(4));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), Checksum.Internet(b));
        return b;
    }

    private static byte[] Igmpv3Report()
    {
        // One record: CHANGE_TO_EXCLUDE (4) for 239.1.1.1 with no sources.
        var b = new byte[16];
        b[0] = 0x22;
        b[7] = 1;
        b[8] = 4;
        IpAddr.Parse("239.1.1.1").Write(b.AsSpan(12));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), Checksum.Internet(b));
        return b;
    }

    private static byte[] DnsName(string name)
    {
        var ms = new MemoryStream();
        foreach (var label in name.Split('.'))
        {
            ms.WriteByte((byte)label.Length);
            ms.Write(Ascii(label));
        }
        ms.WriteByte(0);
        return ms.ToArray();
    }

    private static byte[] DnsQuery(ushort id, string name, ushort qtype, bool edns)
    {
        byte[] header = [(byte)(id >> 8), (byte)id, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, (byte)(edns ? 1 : 0)];
        byte[] opt = edns ? [0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0] : [];
        return Concat(header, DnsName(name), [(byte)(qtype >> 8), (byte)qtype, 0, 1], opt);
    }

    private static byte[] DnsResponse(ushort id, string name)
    {
        byte[] header = [(byte)(id >> 8), (byte)id, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
        byte[] a1 = [0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34];
        byte[] a2 = [0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 35];
        return Concat(header, DnsName(name), [0, 1, 0, 1], a1, a2);
    }

    private static byte[] DnsNx(ushort id, string name)
    {
        byte[] header = [(byte)(id >> 8), (byte)id, 0x84, 0x03, 0, 1, 0, 0, 0, 0, 0, 0];
        return Concat(header, DnsName(name), [0, 1, 0, 1]);
    }
}

internal static class MacAddressTestExtensions
{
    public static byte[] ToBytes(this MacAddress mac)
    {
        var b = new byte[6];
        mac.Write(b);
        return b;
    }
}
