using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Socket;

/// <summary>
/// Marks of the packets the stack builds in answer: a listener's reset takes the listener's SO_MARK
/// (ip_send_unicast_reply's control socket), net.ipv4.fwmark_reflect gives resets, ICMP errors and
/// echo replies the mark of what they answer (IP4_REPLY_MARK), and net.ipv4.tcp_fwmark_accept gives
/// a listener without SO_MARK the SYN's mark for its SYN-ACK and connection (inet_request_mark). The
/// mark routes the answer (ip rule fwmark 7: through gw, out of eth1). The recorded scenarios
/// socket-reset-mark and fwmark-reflect hold the kernel's account of the same.
/// </summary>
public class ReplyMarkTests(ITestOutputHelper output)
{
    static readonly MacAddress Host = MacAddress.Parse("02:00:00:00:01:01"), Client = MacAddress.Parse("02:00:00:00:01:02");
    static readonly IpAddr C = IpAddr.Parse("10.1.0.2"), H = IpAddr.Parse("10.1.0.1");
    static string Dir(string name) => Path.Combine(RepoPaths.Root, "tests", "scenarios", name);

    /// <summary>The socket-mark host (fwmark 7 routes through gw) with the lab lines added and a prerouting rule marking TCP/UDP to port 7xxx with 7.</summary>
    static DatapathEngine Engine(string extra)
    {
        var lab = File.ReadAllText(Path.Combine(Dir("socket-mark"), "lab.sh"));
        lab = lab[..lab.IndexOf("nft -f", StringComparison.Ordinal)] + """
            nft -f - <<'NFT'
            table inet m {
                chain prerouting {
                    type filter hook prerouting priority mangle; policy accept;
                    th dport 7000-7999 meta mark set 0x00000007
                    icmp type echo-request ip length 128 meta mark set 0x00000007
                }
            }
            NFT
            socat TCP-LISTEN:8080,fork,setsockopt-listen=1:36:x07000000,priority=5 SYSTEM:true &
            socat TCP-LISTEN:8082,fork SYSTEM:true &
            socat TCP-LISTEN:7082,fork SYSTEM:true &

            """ + extra;
        return new DatapathEngine(LabLoader.Load(lab, "t.lab"));
    }

    static PacketTrace In(DatapathEngine engine, byte protocol, byte[] l4, long number = 1)
    {
        var frame = FrameBuilder.Ethernet(Host, Client, EtherTypes.Ipv4, FrameBuilder.Ipv4(C, H, protocol, l4));
        return engine.Process(new CaptureFrame(number, number * 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame), "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }

    static PacketTrace Out(DatapathEngine engine, ushort sport, ushort dport, byte flags, long number = 2)
    {
        var frame = FrameBuilder.Ethernet(Client, Host, EtherTypes.Ipv4, FrameBuilder.Ipv4(H, C, IpProtocol.Tcp, FrameBuilder.Tcp(H, C, sport, dport, flags)));
        return engine.Process(new CaptureFrame(number, number * 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame), "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }

    static PacketTrace Answer(PacketTrace t) => Assert.Single(t.GeneratedTraces);

    static string? LeftBy(PacketTrace t) => t.Path.FirstOrDefault(e => e.Namespace == "host" && e.Stage == "VethXmit")?.Device;

    static string Show(PacketTrace t) => string.Join("\n", t.Path) + $"\n=> {t.Fate} {t.Reason}\n" + string.Join("\n", t.Notes);

    [Fact]
    public void ABareAckToAListener_IsResetWithTheListenersMark()
    {
        var t = In(Engine(""), IpProtocol.Tcp, FrameBuilder.Tcp(C, H, 40011, 8080, 0x10));
        Assert.Equal(Fate.Delivered, t.Fate);
        var rst = Answer(t);
        Assert.Equal("tcp_v4_send_reset", rst.GeneratedBy);
        Assert.True(LeftBy(rst) == "eth1", Show(rst));
        Assert.Contains(rst.Notes, n => n.StartsWith("skb mark 0x7: the mark of listener tcp 0.0.0.0:8080", StringComparison.Ordinal));
    }

    [Fact]
    public void AnUnmarkedListenersReset_AndAClosedPorts_GoDirectly()
    {
        var engine = Engine("");
        Assert.True(LeftBy(Answer(In(engine, IpProtocol.Tcp, FrameBuilder.Tcp(C, H, 40012, 8082, 0x10)))) == "eth0");
        var closed = Answer(In(engine, IpProtocol.Tcp, FrameBuilder.Tcp(C, H, 40013, 8083, 0x10), 2));
        Assert.True(LeftBy(closed) == "eth0", Show(closed));
        Assert.DoesNotContain(closed.Notes, n => n.StartsWith("skb mark", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0x00, "discarded")] // no flags: dropped quietly
    [InlineData(0x04, "discarded")] // a reset is never answered
    public void SegmentsWithoutAckToAListener_AreNotAnswered(byte flags, string says)
    {
        var t = In(Engine(""), IpProtocol.Tcp, FrameBuilder.Tcp(C, H, 40014, 8080, flags));
        Assert.Empty(t.GeneratedTraces);
        Assert.Contains(t.Path, e => e.Stage == "TcpV4Rcv" && e.Detail.Contains(says));
    }

    [Fact]
    public void WithoutFwmarkReflect_TheKernelsAnswersHaveNoMark()
    {
        var engine = Engine("");
        // marked by prerouting (7xxx), yet the reset and the port unreachable leave directly
        Assert.True(LeftBy(Answer(In(engine, IpProtocol.Tcp, FrameBuilder.Tcp(C, H, 40001, 7083, 0x02)))) == "eth0");
        Assert.True(LeftBy(Answer(In(engine, IpProtocol.Udp, FrameBuilder.Udp(C, H, 40001, 7000, 1), 2))) == "eth0");
    }

    [Theory]
    [InlineData(IpProtocol.Tcp, 7083, "tcp_v4_send_reset")]
    [InlineData(IpProtocol.Udp, 7000, "__icmp_send")]
    [InlineData(IpProtocol.Tcp, 8080, "tcp_v4_send_reset")] // bare ACK to the listener with SO_MARK 7: the packet's mark first
    public void FwmarkReflect_GivesTheAnswerThePacketsMark(byte protocol, ushort port, string function)
    {
        var engine = Engine("sysctl -w net.ipv4.fwmark_reflect=1\n");
        var l4 = protocol == IpProtocol.Tcp ? FrameBuilder.Tcp(C, H, 40001, port, (byte)(port == 8080 ? 0x10 : 0x02)) : FrameBuilder.Udp(C, H, 40001, port, 1);
        var answer = Answer(In(engine, protocol, l4));
        Assert.Equal(function, answer.GeneratedBy);
        bool marked = port != 8080; // 8080 is outside 7000-7999: the listener's own mark 7 answers
        Assert.True(LeftBy(answer) == "eth1", Show(answer));
        Assert.Contains(answer.Notes, n => n.StartsWith(marked ? "skb mark 0x7: the mark of the packet it answers (net.ipv4.fwmark_reflect = 1)" : "skb mark 0x7: the mark of listener", StringComparison.Ordinal));
    }

    [Fact]
    public void FwmarkReflect_AppliesToEchoReplies()
    {
        var engine = Engine("sysctl -w net.ipv4.fwmark_reflect=1\n");
        var marked = Answer(In(engine, IpProtocol.Icmp, FrameBuilder.IcmpEcho(7, 1, 100)));
        Assert.True(LeftBy(marked) == "eth1", Show(marked));
        var plain = Answer(In(engine, IpProtocol.Icmp, FrameBuilder.IcmpEcho(8, 1, 56), 2));
        Assert.True(LeftBy(plain) == "eth0", Show(plain));
    }

    [Fact]
    public void TcpFwmarkAccept_GivesTheConnectionTheSynsMark()
    {
        var engine = Engine("sysctl -w net.ipv4.tcp_fwmark_accept=1\n");
        In(engine, IpProtocol.Tcp, FrameBuilder.Tcp(C, H, 40001, 7082, 0x02));
        var synAck = Out(engine, 7082, 40001, 0x12);
        Assert.True(LeftBy(synAck) == "eth1", Show(synAck));
        var data = Out(engine, 7082, 40001, 0x18, 3);
        Assert.True(LeftBy(data) == "eth1", Show(data));
        Assert.Contains(data.Notes, n => n.Contains("skb mark 0x7 (SO_MARK)"));
        // another connection whose SYN had no mark (from a port outside the rule's range is the same
        // listener: the mark is per request, not per listener)
        var other = Out(engine, 7082, 40002, 0x12, 4);
        Assert.True(LeftBy(other) == "eth0", Show(other));
    }

    [Fact]
    public void WithoutTcpFwmarkAccept_TheSynsMarkStaysBehind()
    {
        var engine = Engine("");
        In(engine, IpProtocol.Tcp, FrameBuilder.Tcp(C, H, 40001, 7082, 0x02));
        Assert.True(LeftBy(Out(engine, 7082, 40001, 0x12)) == "eth0");
    }

    [Theory]
    [InlineData("net.ipv6.fwmark_reflect=1", true, 7u)]
    [InlineData("net.ipv4.fwmark_reflect=1", true, 0u)]  // the IPv4 switch says nothing of IPv6 answers
    [InlineData("net.ipv6.fwmark_reflect=1", false, 0u)] // nor the IPv6 one of IPv4 answers
    public void EachFamilyHasItsOwnReflectSwitch(string write, bool v6, uint expected)
    {
        var topo = LabLoader.Load($"sysctl -w {write}\nip link set lo up\n", "t.lab");
        var ns = topo.Namespaces[0];
        var skb = new SkBuff(new byte[40]) { Netns = ns, Dev = ns.Devices[0], Engine = new DatapathEngine(topo), Protocol = v6 ? EtherTypes.Ipv6 : EtherTypes.Ipv4, Mark = 7 };
        Assert.Equal(expected, PktFlow.Socket.ReplyMark.Of(skb, null).Mark);
    }

    [Fact]
    public void RequestMarks_AreBounded()
    {
        var marks = new PktFlow.Socket.RequestMarks();
        for (int i = 0; i < PktFlow.Socket.RequestMarks.Capacity + 10; i++) marks.Add((IpProtocol.Tcp, H, 80, C, (ushort)(i + 1)), 7);
        Assert.Equal(PktFlow.Socket.RequestMarks.Capacity, marks.Count);
        Assert.Null(marks.Get((IpProtocol.Tcp, H, 80, C, 1)));
        Assert.Equal(7u, marks.Get((IpProtocol.Tcp, H, 80, C, 20)));
    }

    [Theory]
    [InlineData("socket-reset-mark")]
    [InlineData("fwmark-reflect")]
    public void TheRecordedScenarioAgreesWholly(string name)
    {
        var j = ScenarioJudge.Judge(Dir(name));
        foreach (var f in j.Frames.Where(f => f.Judged && !f.Agrees)) output.WriteLine($"frame {f.Frame}: {string.Join("; ", f.Differences)}");
        Assert.True(j.Judged > 0);
        Assert.Equal(j.Judged, j.Agreed);
    }
}
