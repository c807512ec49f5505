using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Datapath;

/// <summary>
/// The receive path, table-driven: one crafted frame in at eth0 of a two-NIC router, the fate, the
/// reason (named after SKB_DROP_REASON_*) and the stage that decided. The recorded kernel captures in
/// captures/ check the same stages against the real kernel (tests/Module).
/// </summary>
public class ReceivePathTests
{
    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip link set eth1 address 02:00:00:00:02:01
        ip link set eth1 up
        ip link set eth1 mtu 1400
        ip addr add 10.1.0.1/24 dev eth0
        ip addr add 10.2.0.1/24 dev eth1
        ip -6 addr add 2001:db8:1::1/64 dev eth0
        ip -6 addr add 2001:db8:2::1/64 dev eth1
        ip route add 172.16.0.0/16 via 10.2.0.2
        ip route add blackhole 198.51.100.0/24
        ip route add unreachable 203.0.113.0/24
        ip route add prohibit 192.0.2.0/24
        ip -6 route add unreachable 2001:db8:dead::/48
        sysctl -w net.ipv4.ip_forward=1
        sysctl -w net.ipv6.conf.all.forwarding=1
        """;

    private static readonly MacAddress Host = MacAddress.Parse("02:00:00:00:01:01");
    private static readonly MacAddress Client = MacAddress.Parse("02:00:00:00:01:02");
    private static readonly IpAddr C4 = IpAddr.Parse("10.1.0.2"), H4 = IpAddr.Parse("10.1.0.1");
    private static readonly IpAddr C6 = IpAddr.Parse("2001:db8:1::2"), H6 = IpAddr.Parse("2001:db8:1::1");

    internal static PacketTrace Run(byte[] frame, string lab = Lab, LinkType link = LinkType.Ethernet)
    {
        var engine = new DatapathEngine(LabLoader.Load(lab, "test.lab"));
        var at = engine.ResolveInjectionPoint("eth0");
        var cf = new CaptureFrame(1, 1_700_000_000_000_000_000, link, 0, null, frame.Length, frame.Length, 24, frame);
        return engine.Process(cf, "test.pcap", at);
    }

    private static byte[] V4(IpAddr src, IpAddr dst, byte proto, byte[] l4, byte ttl = 64, MacAddress? dmac = null, bool df = true) =>
        FrameBuilder.Ethernet(dmac ?? Host, Client, 0x0800, FrameBuilder.Ipv4(src, dst, proto, l4, ttl, df));

    private static byte[] Tcp4(string dst, byte ttl = 64, MacAddress? dmac = null, string src = "10.1.0.2")
    {
        var s = IpAddr.Parse(src); var d = IpAddr.Parse(dst);
        return V4(s, d, 6, FrameBuilder.Tcp(s, d, 40000, 80), ttl, dmac);
    }

    private static byte[] V6(IpAddr src, IpAddr dst, byte next, byte[] l4, byte hop = 64, MacAddress? dmac = null) =>
        FrameBuilder.Ethernet(dmac ?? Host, Client, 0x86DD, FrameBuilder.Ipv6(src, dst, next, l4, hop));

    public static TheoryData<string, byte[], Fate, string> Cases()
    {
        var d = new TheoryData<string, byte[], Fate, string>
        {
            { "tcp to host", Tcp4("10.1.0.1"), Fate.Delivered, "tcp_v4_rcv" },
            { "udp to host", V4(C4, H4, 17, FrameBuilder.Udp(C4, H4, 5000, 53)), Fate.Delivered, "udp_rcv" },
            { "echo request", V4(C4, H4, 1, FrameBuilder.IcmpEcho(1, 1)), Fate.Delivered, "icmp_echo" },
            { "echo to subnet broadcast ignored", V4(C4, IpAddr.Parse("10.1.0.255"), 1, FrameBuilder.IcmpEcho(1, 1), dmac: MacAddress.Broadcast), Fate.Dropped, "INVALID_PROTO" },
            { "address of the other NIC is local", Tcp4("10.2.0.1"), Fate.Delivered, "tcp_v4_rcv" },
            { "forward connected", Tcp4("10.2.0.9"), Fate.Forwarded, "dev_queue_xmit on eth1" },
            { "forward via gateway", Tcp4("172.16.5.5"), Fate.Forwarded, "dev_queue_xmit on eth1" },
            { "ttl 1 expires", Tcp4("10.2.0.9", ttl: 1), Fate.Dropped, "IP_INHDR" },
            { "blackhole", Tcp4("198.51.100.1"), Fate.Dropped, "NOT_SPECIFIED" },
            { "unreachable", Tcp4("203.0.113.1"), Fate.Dropped, "NOT_SPECIFIED" },
            { "prohibit", Tcp4("192.0.2.1"), Fate.Dropped, "NOT_SPECIFIED" },
            { "no route", Tcp4("8.8.8.8"), Fate.Dropped, "IP_INNOROUTES" },
            { "other host's MAC", Tcp4("10.1.0.1", dmac: MacAddress.Parse("02:00:00:00:99:99")), Fate.Dropped, "OTHERHOST" },
            { "martian source: own address", Tcp4("10.1.0.1", src: "10.2.0.1"), Fate.Dropped, "IP_LOCAL_SOURCE" },
            { "multicast group not joined", Tcp4("224.0.0.99"), Fate.Dropped, "NOT_SPECIFIED" },
            { "martian source: loopback", Tcp4("10.1.0.1", src: "127.0.0.1"), Fate.Dropped, "IP_LOCALNET" },
            { "martian destination: 0.0.0.0", Tcp4("0.0.0.0"), Fate.Dropped, "IP_INVALID_DEST" },
            { "multicast source", Tcp4("10.1.0.1", src: "224.0.0.5"), Fate.Dropped, "IP_INVALID_SOURCE" },
            { "arp request for host", FrameBuilder.Ethernet(MacAddress.Broadcast, Client, 0x0806, FrameBuilder.Arp(1, Client, C4, MacAddress.Zero, H4)), Fate.Consumed, "arp_process (reply sent)" },
            { "arp request for a stranger", FrameBuilder.Ethernet(MacAddress.Broadcast, Client, 0x0806, FrameBuilder.Arp(1, Client, C4, MacAddress.Zero, IpAddr.Parse("10.1.0.77"))), Fate.Consumed, "arp_process" },
            { "ipv6 echo", V6(C6, H6, 58, FrameBuilder.Icmpv6(C6, H6, 128, new byte[12])), Fate.Delivered, "icmpv6_echo_reply" },
            { "ipv6 tcp", V6(C6, H6, 6, FrameBuilder.Tcp(C6, H6, 1, 22)), Fate.Delivered, "tcp_v6_rcv" },
            { "ipv6 forward", V6(C6, IpAddr.Parse("2001:db8:2::9"), 6, FrameBuilder.Tcp(C6, IpAddr.Parse("2001:db8:2::9"), 1, 22)), Fate.Forwarded, "dev_queue_xmit on eth1" },
            { "ipv6 hop limit 1", V6(C6, IpAddr.Parse("2001:db8:2::9"), 6, FrameBuilder.Tcp(C6, IpAddr.Parse("2001:db8:2::9"), 1, 22), hop: 1), Fate.Dropped, "IP_INHDR" },
            { "ipv6 unreachable route", V6(C6, IpAddr.Parse("2001:db8:dead::1"), 6, FrameBuilder.Tcp(C6, IpAddr.Parse("2001:db8:dead::1"), 1, 22)), Fate.Dropped, "IP_INNOROUTES" },
            { "ipv6 loopback destination", V6(C6, IpAddr.Parse("::1"), 6, FrameBuilder.Tcp(C6, IpAddr.Parse("::1"), 1, 22)), Fate.Dropped, "IP_INHDR" },
            { "unknown ethertype", FrameBuilder.Ethernet(Host, Client, 0x88B5, new byte[46]), Fate.Dropped, "UNHANDLED_PROTO" },
            { "vlan tag without vlan device", FrameBuilder.Ethernet(Host, Client, 0x0800, FrameBuilder.Ipv4(C4, H4, 6, FrameBuilder.Tcp(C4, H4, 1, 2)), vlan: 100), Fate.Dropped, "OTHERHOST" },
        };
        var target = FrameBuilder.SolicitedNode(H6);
        d.Add("neighbour solicitation for host", V6(C6, target, 58, FrameBuilder.NeighborSolicitation(C6, target, H6, Client), 255, FrameBuilder.MulticastMac(target)),
            Fate.Consumed, "ndisc_recv_ns (advertisement sent)");
        return d;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FateAndReason(string name, byte[] frame, Fate fate, string reason)
    {
        var t = Run(frame);
        Assert.True(fate == t.Fate && reason == t.Reason, $"{name}: got {t.Fate} ({t.Reason}); path: {string.Join(" | ", t.Path)}");
    }

    [Fact]
    public void ForwardingOffDropsWithoutIcmp()
    {
        var t = Run(Tcp4("10.2.0.9"), Lab.Replace("sysctl -w net.ipv4.ip_forward=1", ""));
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.Equal("IP_INADDRERRORS", t.Reason);
        Assert.Empty(t.Generated);
    }

    [Fact]
    public void TtlExpiryGeneratesTimeExceeded()
    {
        var t = Run(Tcp4("10.2.0.9", ttl: 1));
        Assert.Contains(t.Generated, g => g.Contains("time exceeded") && g.Contains("10.1.0.2"));
    }

    [Fact]
    public void DontFragmentOverMtuIsDroppedWithFragNeeded()
    {
        var dst = IpAddr.Parse("10.2.0.9");
        var t = Run(V4(C4, dst, 17, FrameBuilder.Udp(C4, dst, 1, 2, 1450)));
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.Equal("PKT_TOO_BIG", t.Reason);
        Assert.Contains(t.Generated, g => g.Contains("mtu 1400"));
    }

    [Fact]
    public void HooksAreNotModelledWhenUnevaluatedConfigurationCouldHaveRegisteredSomething()
    {
        var t = Run(Tcp4("172.16.5.5"), Lab + "\nebtables -A FORWARD -j DROP\n");
        var hooks = t.Path.Where(e => e.Hook is not null && e.Family == NfFamily.Inet).ToList();
        Assert.Equal(3, hooks.Count);
        Assert.All(hooks, e => Assert.Equal(Verdict.NotModelled, e.Verdict));
        Assert.All(hooks, e => Assert.Contains("1 configuration line(s) it does not evaluate", e.Detail));
    }

    [Fact]
    public void ForwardedPacketShowsRouteHooksAndTtl()
    {
        var t = Run(Tcp4("172.16.5.5"));
        Assert.Equal("172.16.0.0/16 via 10.2.0.2 dev eth1", t.Route);
        Assert.Equal("host/eth1", t.Egress);
        var hooks = t.Path.Where(e => e.Hook is not null && e.Family == NfFamily.Inet).Select(e => e.Hook!.Value).ToArray();
        Assert.Equal(new[] { NfHook.PreRouting, NfHook.Forward, NfHook.PostRouting }, hooks);
        // no ruleset and nothing unevaluated: nothing is registered at the hooks, so they pass
        Assert.All(t.Path.Where(e => e.Hook is not null), e => Assert.Equal(Verdict.Pass, e.Verdict));
        Assert.Contains(t.Path, e => e.Function == "ip_forward" && e.Detail!.Contains("TTL 64 -> 63"));
    }

    [Fact]
    public void BadHeaderChecksumIsIpCsum()
    {
        var f = Tcp4("10.1.0.1");
        f[14 + 10] ^= 0xFF;
        var t = Run(f);
        Assert.Equal("IP_CSUM", t.Reason);
        Assert.Contains("checksum", t.Path.Last().Detail);
    }

    [Theory]
    [InlineData(0x35, "IP_INHDR")] // IHL 5, version 3
    [InlineData(0x43, "IP_INHDR")] // IHL 3
    public void MalformedHeaders(byte versionIhl, string reason)
    {
        var f = Tcp4("10.1.0.1");
        f[14] = versionIhl;
        Assert.Equal(reason, Run(f).Reason);
    }

    [Fact]
    public void TotalLengthBeyondFrameIsTooSmall()
    {
        var f = Tcp4("10.1.0.1");
        f[14 + 2] = 0x05; // total length 1280+
        f[14 + 10] = 0; f[14 + 11] = 0;
        var cs = Checksum.Internet(f.AsSpan(14, 20));
        f[14 + 10] = (byte)(cs >> 8); f[14 + 11] = (byte)cs;
        Assert.Equal("PKT_TOO_SMALL", Run(f).Reason);
    }

    [Fact]
    public void WrongTcpChecksumIsDroppedButOffloadPendingIsAccepted()
    {
        var f = Tcp4("10.1.0.1");
        f[14 + 20 + 16] ^= 0x55;
        Assert.Equal("TCP_CSUM", Run(f).Reason);

        // CHECKSUM_PARTIAL as captured on a sender: the field holds the folded pseudo-header sum.
        var g = Tcp4("10.1.0.1");
        var partial = Checksum.Fold(Checksum.PseudoHeader(C4, H4, 6, 20));
        g[14 + 20 + 16] = (byte)(partial >> 8); g[14 + 20 + 17] = (byte)partial;
        var t = Run(g);
        Assert.Equal(Fate.Delivered, t.Fate);
        Assert.Contains(t.Notes, n => n.Contains("CHECKSUM_PARTIAL"));
    }

    [Fact]
    public void RawIpCaptureEntersAtTheNetworkLayer()
    {
        var ip = FrameBuilder.Ipv4(C4, H4, 6, FrameBuilder.Tcp(C4, H4, 1, 80));
        var t = Run(ip, link: LinkType.Raw);
        Assert.Equal(Fate.Delivered, t.Fate);
        Assert.Equal("netif_receive_skb", t.Path[0].Function);
    }

    [Fact]
    public void FramesSentByTheHostAreTracedThroughTheOutputPath()
    {
        var f = FrameBuilder.Ethernet(Client, Host, 0x0800, FrameBuilder.Ipv4(H4, C4, 6, FrameBuilder.Tcp(H4, C4, 80, 1)));
        var t = Run(f);
        Assert.Equal(Fate.Transmitted, t.Fate);
        Assert.Equal("host/eth0", t.Egress);
        Assert.Equal("10.1.0.0/24 dev eth0 proto kernel scope link src 10.1.0.1", t.Route);
        Assert.Contains(t.Path, e => e.Hook == NfHook.LocalOut);

        // A source the host does not have, and no earlier frame predicted it: the model says it cannot tell.
        var g = FrameBuilder.Ethernet(Client, Host, 0x0800, FrameBuilder.Ipv4(IpAddr.Parse("10.9.9.9"), C4, 6, FrameBuilder.Tcp(IpAddr.Parse("10.9.9.9"), C4, 80, 1)));
        Assert.Equal(Fate.Unsupported, Run(g).Fate);
    }

    [Fact]
    public void UnmodelledStagesAreListedInKernelOrder()
    {
        var t = Run(Tcp4("10.1.0.1"));
        var functions = t.Path.Select(e => e.Function).ToList();
        Assert.True(functions.IndexOf("netif_receive_generic_xdp") < functions.IndexOf("sch_handle_ingress"));
        Assert.True(functions.IndexOf("sch_handle_ingress") < functions.IndexOf("ip_rcv_core"));
        Assert.Equal(NfHook.LocalIn, t.Path.Last(e => e.Hook is not null).Hook);
    }

    [Fact]
    public void SocketLookupWhenTheLabListsListeners()
    {
        var lab = Lab + "\ntimeout 60 socat -u TCP4-LISTEN:8080,fork OPEN:/dev/null &\nsocat -u UDP4-RECV:5000 STDOUT &\n";
        var h = IpAddr.Parse("10.1.0.1");
        Assert.Equal(Fate.Delivered, Run(V4(C4, h, 6, FrameBuilder.Tcp(C4, h, 40000, 8080)), lab).Fate);
        var closed = Run(V4(C4, h, 6, FrameBuilder.Tcp(C4, h, 40000, 8081)), lab);
        Assert.Equal("NO_SOCKET", closed.Reason);
        Assert.Contains(closed.Generated, g => g.StartsWith("TCP RST"));
        Assert.Equal(Fate.Delivered, Run(V4(C4, h, 17, FrameBuilder.Udp(C4, h, 1, 5000)), lab).Fate);
        var udpClosed = Run(V4(C4, h, 17, FrameBuilder.Udp(C4, h, 1, 5001)), lab);
        Assert.Equal("NO_SOCKET", udpClosed.Reason);
        Assert.Contains(udpClosed.Generated, g => g.Contains("port unreachable"));
        var bcast = IpAddr.Parse("10.1.0.255");
        var b = Run(FrameBuilder.Ethernet(MacAddress.Broadcast, Client, 0x0800, FrameBuilder.Ipv4(C4, bcast, 17, FrameBuilder.Udp(C4, bcast, 1, 5001))), lab);
        Assert.Equal("NOT_SPECIFIED", b.Reason);
        Assert.Empty(b.Generated);
    }
}
