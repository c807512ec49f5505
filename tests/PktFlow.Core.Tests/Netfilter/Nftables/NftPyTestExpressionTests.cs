using PktFlow.Netfilter.Nftables;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// The expressions added from the nftables py tests' refused lines: meta cpu/iiftype/iifgroup/cgroup,
/// meta time/day/hour, raw payloads, bitwise matches, ip6 dscp/ecn, vlan pcp/dei and stacked tags,
/// ICMP field dependencies, inet_aton addresses and nft's operator words. Constants were checked
/// against nft 1.0.6 --debug=netlink.
/// </summary>
public class NftPyTestExpressionTests
{
    private static NftHookResult Run(string rule, FakeNftPacket p, NftFamily family = NftFamily.Ip, NftState? state = null)
    {
        var fam = family switch { NftFamily.Ip6 => "ip6", NftFamily.Netdev => "netdev", _ => "ip" };
        var hook = family == NftFamily.Netdev ? "ingress device \"eth0\"" : "input";
        var rs = NftRuleset.Parse($"table {fam} t {{ chain c {{ type filter hook {hook} priority 0; policy accept; {rule} drop; }}; }}", "p.nft");
        return NftEvaluator.RunHook(rs, family, family == NftFamily.Netdev ? NftHookPoint.Ingress : NftHookPoint.Input, p, state: state);
    }

    private static bool Matches(string rule, FakeNftPacket p, NftFamily family = NftFamily.Ip, NftState? state = null) =>
        Run(rule, p, family, state).Verdict == "drop";

    private static FakeNftPacket Tcp() => FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 40000, 22);

    [Theory]
    [InlineData("meta cpu 0", true)] // the model runs every packet on CPU 0
    [InlineData("meta cpu != 0", false)]
    [InlineData("meta cpu { 2, 3 }", false)]
    [InlineData("cpu 0", true)]
    public void MetaCpu_IsZero(string rule, bool expected) => Assert.Equal(expected, Matches(rule, Tcp()));

    [Theory]
    [InlineData("meta iiftype ether", true)]
    [InlineData("iiftype ether", true)]
    [InlineData("meta iiftype != ether", false)]
    [InlineData("meta iiftype { loopback, ppp }", false)]
    [InlineData("meta iifgroup 5", true)]
    [InlineData("meta iifgroup \"default\"", false)]
    [InlineData("meta iifgroup { 1-10, 44 }", true)]
    [InlineData("meta oifgroup 0", false)] // no output device at input: NFT_BREAK
    [InlineData("meta oiftype ether", false)]
    public void DeviceTypeAndGroup_ReadTheDevice(string rule, bool expected)
    {
        var p = FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 40000, 22);
        p = new FakeNftPacket { Net = p.Net, L4Protocol = 6, TransportOffset = 20, InputDevice = new NftDevInfo(1, 5) };
        Assert.Equal(expected, Matches(rule, p));
    }

    [Fact]
    public void DeviceOfAKindWithoutAType_IsUnsupportedInTheResult()
    {
        var p = new FakeNftPacket { Net = Tcp().Net, L4Protocol = 6, TransportOffset = 20, InputDevice = new NftDevInfo(null, 0) };
        var r = Run("meta iiftype ether", p);
        Assert.Equal("accept", r.Verdict);
        Assert.Contains(r.Unknowns, u => u.StartsWith("unsupported: meta iiftype", StringComparison.Ordinal));
    }

    [Fact]
    public void MetaCgroup_NoSocketIsNoMatch_ASocketIsUnsupported()
    {
        Assert.False(Matches("meta cgroup 1048577", Tcp()));
        var p = new FakeNftPacket { Net = Tcp().Net, L4Protocol = 6, TransportOffset = 20, Socket = new NftSock("tcp socket 10.0.0.2:22", false, 0, false, true, 0, 0) };
        var r = Run("meta cgroup 1048577", p);
        Assert.Equal("accept", r.Verdict);
        Assert.Contains(r.Unknowns, u => u.Contains("meta cgroup", StringComparison.Ordinal));
    }

    // 2019-06-21 17:00:00 UTC, a Friday (nft 1.0.6 under TZ=UTC: meta time "2019-06-21 17:00:00" is 0x15aa4548d7eea000)
    private const long Friday17h = 1_561_136_400_000_000_000;

    [Theory]
    [InlineData("meta time \"2019-06-21 17:00:00\"", 0, true)]
    [InlineData("meta time \"2019-06-21 17:00:00\"", 1, false)]
    [InlineData("meta time < \"2019-06-21 17:00:01\"", 0, true)]
    [InlineData("time > \"2019-06-21\"", 0, true)]
    [InlineData("meta time 1561136400", 0, true)]
    [InlineData("meta day \"Friday\"", 0, true)]
    [InlineData("meta day 5", 0, true)]
    [InlineData("meta day \"Saturday\"", 0, false)]
    [InlineData("meta day \"Saturday\"", 7 * 3600, true)] // midnight UTC passed
    [InlineData("meta hour \"17:00\"", 0, true)]
    [InlineData("meta hour \"17:00:01\"", 1, true)]
    [InlineData("meta hour >= \"16:30\"", 0, true)]
    [InlineData("meta hour < \"06:00\"", 8 * 3600, true)] // 01:00 the next day
    public void ClockKeys_ReadTheCaptureTime(string rule, long laterSeconds, bool expected)
    {
        var st = new NftState(1, "t");
        st.Advance(Friday17h + laterSeconds * 1_000_000_000);
        Assert.Equal(expected, Matches(rule, Tcp(), state: st));
    }

    [Theory]
    [InlineData("@nh,0,4 4", true)]           // version, unaligned
    [InlineData("@nh,4,4 5", true)]           // ihl
    [InlineData("@nh,96,32 0x0a000001", true)]
    [InlineData("@th,16,16 22", true)]
    [InlineData("@th,16,16 { 22, 80 }", true)]
    [InlineData("@th,16,16 23", false)]
    [InlineData("@ih,0,8 0x41", true)]        // after the 8-byte UDP header
    [InlineData("@nh,8,8 & 0x80 == 0x80", false)]
    public void RawPayload_ReadsBitsFromItsBase(string rule, bool expected)
    {
        var ip = FakeNftPacket.A("10.0.0.1"); var ip2 = FakeNftPacket.A("10.0.0.2");
        var udp = FrameBuilder.UdpWithPayload(ip, ip2, 40000, 22, "AB"u8);
        var p = new FakeNftPacket { Net = FrameBuilder.Ipv4(ip, ip2, 17, udp), L4Protocol = 17, TransportOffset = 20 };
        Assert.Equal(expected, Matches(rule, p));
    }

    [Fact]
    public void RawPayload_LinkLayerBits()
    {
        var frame = FrameBuilder.Ethernet(MacAddress.Parse("ff:ff:ff:ff:ff:ff"), MacAddress.Parse("02:00:00:00:00:01"), 0x0800, Tcp().Net);
        var p = new FakeNftPacket { Family = NftFamily.Netdev, Mac = frame, Net = Tcp().Net, L4Protocol = 6, TransportOffset = 20 };
        Assert.True(Matches("@ll,0,1 1", p, NftFamily.Netdev));       // group bit of the destination
        Assert.True(Matches("@ll,96,16 0x0800", p, NftFamily.Netdev));
        Assert.False(Matches("@ll,48,8 0x03", p, NftFamily.Netdev));
        Assert.Throws<NftParseException>(() => Run("@nh,1,100 0x1", Tcp()));
    }

    [Theory]
    [InlineData("meta mark or 0x03 == 0x03", 0x00u, true)]
    [InlineData("meta mark or 0x03 == 0x01", 0x00u, false)]
    [InlineData("meta mark xor 0x03 == 0x01", 0x02u, true)]
    [InlineData("meta mark xor 0x03 != 0x01", 0x02u, false)]
    [InlineData("meta mark & 0xff00 == 0x1200", 0x1234u, true)]
    [InlineData("meta mark and 0x0f gt 3", 0x14u, true)]
    public void BitwiseMatch_FoldsIntoMaskAndXor(string rule, uint mark, bool expected)
    {
        var p = Tcp(); p.Mark = mark;
        Assert.Equal(expected, Matches(rule, p));
    }

    [Theory]
    [InlineData("meta mark set 0x16 and 0x16", 0x16u)]
    [InlineData("meta mark set 0x32 or 0xfffff", 0xfffffu)]
    [InlineData("meta mark set 0xfffe xor 0x16", 0xffe8u)]
    public void MarkSet_FoldsConstants(string stmt, uint expected)
    {
        var rs = NftRuleset.Parse($"table ip t {{ chain c {{ type filter hook input priority 0; {stmt}; }}; }}", "p.nft");
        var p = Tcp();
        NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, p);
        Assert.Equal(expected, p.Mark);
    }

    [Theory]
    [InlineData("ip saddr & 0xff == 1", true)]              // inet_aton: 0xff is 0.0.0.255
    [InlineData("ip saddr & 0.0.0.255 < 0.0.0.127", true)]
    [InlineData("ip saddr & 0.0.0.255 > 0.0.0.127", false)]
    [InlineData("ip daddr 167772162", true)]                // 10.0.0.2 as one number
    [InlineData("ip daddr 10.2", true)]                     // a.b: b fills three bytes
    [InlineData("tcp dport gt 20", true)]
    [InlineData("tcp dport lt 20", false)]
    [InlineData("ip protocol ne tcp", false)]
    [InlineData("tcp flags { syn, syn | ack }", true)]
    [InlineData("tcp flags & (fin | syn | ack) == { fin, syn | ack }", false)]
    [InlineData("tcp flags & (fin | syn | ack) == { syn, fin | ack }", true)]
    public void Words_And_Addresses_AsNftTakesThem(string rule, bool expected) => Assert.Equal(expected, Matches(rule, Tcp()));

    [Fact]
    public void IcmpFields_NeedTheirTypes()
    {
        // echo request id 1: icmp id needs echo-request/reply; icmp gateway needs redirect (nft 1.0.6 adds the dependency)
        var echo = FakeNftPacket.Icmp4("10.0.0.1", "10.0.0.2");
        Assert.True(Matches("icmp id 1", echo));
        Assert.False(Matches("icmp gateway 0.1.0.1", echo)); // id 1 seq 1 read as an address, but not a redirect
        var redirect = new FakeNftPacket { Net = (byte[])echo.Net.Clone(), L4Protocol = 1, TransportOffset = 20 };
        redirect.Net[20] = 5; redirect.Net[21] = 1;
        Assert.True(Matches("icmp gateway 0.1.0.1", redirect));
        Assert.True(Matches("icmp gateway 65537", redirect)); // inet_aton's single number
        Assert.False(Matches("icmp id 1", redirect));
        Assert.True(Matches("icmp code host-unreachable", redirect));
        Assert.False(Matches("icmp code != { prot-unreachable, frag-needed, 1 }", redirect));
    }

    [Theory]
    [InlineData("ip6 dscp cs1", true)]
    [InlineData("ip6 dscp 0x38", false)]
    [InlineData("ip6 ecn ce", true)]
    [InlineData("ip6 ecn != ce", false)]
    public void Ip6TrafficClass_SplitsIntoDscpAndEcn(string rule, bool expected)
    {
        var p = FakeNftPacket.Tcp6("2001:db8::1", "2001:db8::2", 40000, 22);
        // traffic class 0x23: dscp 8 (cs1), ecn 3 (ce)
        p.Net[0] = (byte)(0x60 | 0x23 >> 4); p.Net[1] = (byte)((0x23 & 0xF) << 4 | (p.Net[1] & 0xF));
        Assert.Equal(expected, Matches(rule, p, NftFamily.Ip6));
    }

    [Theory]
    [InlineData("vlan id 100 vlan pcp 5 vlan dei 1", true)]
    [InlineData("vlan cfi 0", false)]
    [InlineData("vlan pcp 1-3", false)]
    [InlineData("ether type 8021ad vlan id 100 vlan type 8021q vlan id 7 vlan type ip", true)] // the second tag's fields are 4 bytes on
    [InlineData("ether type 8021ad vlan id 7", false)]
    [InlineData("meta protocol != { ip, arp, ip6, 8021q }", false)]
    public void VlanFields_AndStackedTags(string rule, bool expected)
    {
        var inner = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:00:02"), MacAddress.Parse("02:00:00:00:00:01"), 0x0800, Tcp().Net, vlan: 7);
        // outer 802.1ad tag: pcp 5, dei 1, id 100
        var frame = new byte[inner.Length + 4];
        inner.AsSpan(0, 12).CopyTo(frame);
        frame[12] = 0x88; frame[13] = 0xA8; frame[14] = 0xB0; frame[15] = 100;
        inner.AsSpan(12).CopyTo(frame.AsSpan(16));
        var p = new FakeNftPacket { Family = NftFamily.Netdev, Mac = frame, Net = Tcp().Net, L4Protocol = 6, TransportOffset = 20 };
        Assert.Equal(expected, Matches(rule, p, NftFamily.Netdev));
    }

    [Fact]
    public void LimitWithSpacedUnits_CounterBytesFirst_LogFlags_Load()
    {
        var rs = NftRuleset.Parse("table ip t { chain c { type filter hook input priority 0; limit rate 1 kbytes / second; counter bytes 1024 packets 1; log flags ip options flags tcp sequence,options; meta priority 0x87654321; }; }", "p.nft");
        Assert.Equal(4, rs.Tables[0].Chains[0].Rules.Count);
    }

    [Theory]
    [InlineData("queue to jhash oif . meta mark mod 32")]
    [InlineData("queue flags bypass to numgen inc mod 65536")]
    [InlineData("queue flags bypass to iifname map { \"eth0\" : 0, \"ppp0\" : 2 }")]
    public void QueueToAnExpression_IsAQueueVerdict(string stmt)
    {
        var rs = NftRuleset.Parse($"table ip t {{ chain c {{ type filter hook input priority 0; {stmt}; }}; }}", "p.nft");
        // with no listener, bypass lets the packet go on (NftQueueBypassTests)
        var r = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, Tcp());
        Assert.Equal(stmt.Contains("bypass") ? "accept" : "queue", r.Verdict);
        Assert.Equal("queue", r.Runs[^1].Verdict);
        Assert.Throws<NftParseException>(() => NftRuleset.Parse("table ip t { chain c { type filter hook input priority 0; queue to iifname map { \"eth0\" : 70000 }; }; }", "p.nft"));
    }

    [Fact]
    public void LabDeviceGroup_IsWhatIifgroupReads()
    {
        var host = LabLoader.Load("ip link set eth0 group 7\nip link add br0 group 3 type bridge\nip link set eth1 up", "g.lab").Host;
        Assert.Equal(7u, host.Device("eth0")!.Group);
        Assert.Equal(3u, host.Device("br0")!.Group);
        Assert.Equal(0u, host.Device("eth1")!.Group);
    }
}
