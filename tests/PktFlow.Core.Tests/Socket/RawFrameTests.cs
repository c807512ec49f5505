using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Socket;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Socket;

/// <summary>
/// A frame a traffic script writes with sendframe goes out through a packet socket: the kernel keeps
/// no socket for it (nat-core-kept: a crafted SYN from the client leaves no SYN_SENT socket in its
/// ss -tan), and the answer to it finds none. The model reads the script's scapy expressions and
/// learns no socket from those frames, while a socket's own segments on the same ports still make one.
/// </summary>
public class RawFrameTests
{
    // wan listens on 80; the host resets 113 (ConnectingSocketTests' lab)
    private const string Lab = ConnectingSocketTests.Lab;

    private const string Traffic = """
        ip netns exec wan sendframe --gap 0.2 eth0 \
          "Ether(src='02:00:00:00:02:02', dst='02:00:00:00:02:01')/IP(src='198.51.100.7', dst='198.51.100.1', id=2181)/TCP(sport=40002, dport=2181, flags='S', seq=1000)" \
          "Ether()/IP(src='198.51.100.7', dst='198.51.100.1', id=7)/TCP(sport=40003, dport=113, seq=5)"
        ip netns exec wan sendframe eth0 "Ether()/IP(src='198.51.100.7', dst='198.51.100.1', id=9)/UDP(sport=40005, dport=9)/Raw(b'x')"
        """;

    static readonly MacAddress Host = ConnectingSocketTests.Host, Wan = ConnectingSocketTests.Wan;
    static readonly IpAddr H = ConnectingSocketTests.H, W = ConnectingSocketTests.W;

    static DatapathEngine Engine(string traffic = Traffic) => new(LabLoader.Load(Lab, "lab.sh", traffic, "traffic.sh"));

    // the same SYN as the first sendframe frame, and a UDP datagram, from a Python program's scapy calls
    private const string PythonTraffic = """
        sleep 1
        timeout 20 ip netns exec wan python3 - <<'PY'
        from scapy.all import Ether, IP, TCP, UDP, sendp, send, conf
        conf.verb = 0
        HOST = "02:00:00:00:02:01"
        sendp(Ether(dst=HOST)/IP(src="198.51.100.7", dst="198.51.100.1", id=2181)/TCP(sport=40002, dport=2181, flags="S", seq=1000), iface="eth0")
        send([IP(dst="198.51.100.1", id=9)/UDP(sport=40005, dport=9), IP(dst="198.51.100.1", id=10)/UDP(sport=40006, dport=9)])
        PY
        """;

    static PacketTrace Syn(DatapathEngine engine, ushort sport, ushort dport, uint seq, ushort id, long number)
    {
        var frame = FrameBuilder.Ethernet(Host, Wan, EtherTypes.Ipv4, FrameBuilder.Ipv4(W, H, IpProtocol.Tcp, FrameBuilder.Tcp(W, H, sport, dport, 0x02, seq), df: false, id: id));
        return engine.Process(new CaptureFrame(number, number * 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame),
            "t.pcap", engine.ResolveInjectionPoint("eth1"));
    }

    static List<string> WanSockets(DatapathEngine engine) =>
        SocketListing.List(engine.Topology.Namespaces[1], engine.States[1], 2_000_000_000).Where(s => s.State != "LISTEN").Select(s => $"{s.State} {s.Local} {s.Peer}").ToList();

    [Theory]
    [InlineData(Traffic,
        "tcp 198.51.100.7:40002 -> 198.51.100.1:2181 (traffic.sh:1: sendframe)|tcp 198.51.100.7:40003 -> 198.51.100.1:113 (traffic.sh:1: sendframe)|udp 198.51.100.7:40005 -> 198.51.100.1:9 (traffic.sh:4: sendframe)")]
    // a Python program's scapy calls, named by the script line each is on
    [InlineData(PythonTraffic,
        "tcp 198.51.100.7:40002 -> 198.51.100.1:2181 (traffic.sh:6: sendp)|udp *:40005 -> 198.51.100.1:9 (traffic.sh:7: send)|udp *:40006 -> 198.51.100.1:9 (traffic.sh:7: send)")]
    public void TheTrafficScriptsFramesAreDeclaredRawInTheirNamespace(string traffic, string frames)
    {
        var topo = LabLoader.Load(Lab, "lab.sh", traffic, "traffic.sh");
        Assert.Equal(frames.Split('|'), topo.Namespace("wan")!.RawFrames.Select(f => f.ToString()));
        Assert.Empty(topo.Namespace("wan")!.ClientSockets);
        Assert.Empty(topo.Host.RawFrames);
        Assert.DoesNotContain(topo.Warnings, w => w.StartsWith("traffic.sh", StringComparison.Ordinal));
    }

    [Fact]
    public void AScapySendOfAFrameNotWrittenOutIsNamedInAWarning_AFileTheScriptWroteKeepsItsLines()
    {
        var topo = LabLoader.Load(Lab, "lab.sh", """
            cat > /tmp/x.py <<'PY'
            from scapy.all import *
            def send(line):
                s.send(line.encode())
            send("USER anonymous")
            syn = IP(dst="198.51.100.1")/TCP(sport=40001)
            sa = sr1(syn, timeout=3)
            pkt = make(40002)
            sa = sr1(pkt, timeout=3)
            # sendp(Ether()/IP(dst="198.51.100.1")/TCP(sport=40009))
            sendp(Ether()/IP(dst="198.51.100.1", id=PORT)/TCP(sport=40008), iface="eth0")
            srp1(x=Ether()/IP(dst="198.51.100.1", id=3)/TCP(sport=40007, flags="A", seq=5), iface="eth0")
            PY
            ip netns exec wan python3 /tmp/x.py
            """, "traffic.sh");
        // `syn` is bound to a frame written out on one line before the call (PythonNames); `pkt` to a call's result
        Assert.Equal(["tcp *:40001 -> 198.51.100.1:80 (traffic.sh:7: sr1)", "tcp *:40007 -> 198.51.100.1:80 (traffic.sh:12: srp1)"],
            topo.Namespace("wan")!.RawFrames.Select(f => f.ToString()));
        Assert.Equal(
        [
            "traffic.sh:9: a sr1 frame that is not a scapy expression written out (pkt)",
            "traffic.sh:11: a sendp frame the lab reader cannot read (id PORT: not a number literal)",
        ], topo.Warnings.Where(w => w.StartsWith("traffic.sh", StringComparison.Ordinal)).Select(w => w[..w.IndexOf("): ", StringComparison.Ordinal)] + ")"));
    }

    [Fact]
    public void TheScapyExpressionGivesTheFieldsTheModelMatches_WithScapysDefaults()
    {
        var f = ScapyFrame.Read("Ether()/IP(dst='10.1.0.1')/UDP()/Raw(b'x'*10)", "s", out var refused)!;
        Assert.Null(refused);
        Assert.Equal((IpProtocol.Udp, (IpAddr?)null, (ushort)53, IpAddr.Parse("10.1.0.1"), (ushort)53, (ushort?)1), (f.Protocol, f.SourceAddress, f.SourcePort, f.DestinationAddress!.Value, f.DestinationPort, f.IpId));
        var tcp = ScapyFrame.Read("Ether()/Dot1Q(vlan=10)/IPv6(src='2001:db8::2', dst='2001:db8::1')/TCP(flags='SA', seq=0x10, ack=1)", "s", out _)!;
        Assert.Equal((IpProtocol.Tcp, (ushort)20, (ushort)80, (byte)0x12, 0x10u, (ushort?)null), (tcp.Protocol, tcp.SourcePort, tcp.DestinationPort, tcp.TcpFlags, tcp.Seq, tcp.IpId));
        var echo = ScapyFrame.Read("Ether()/IP(src='10.1.0.2', dst='10.1.0.1', id=501)/ICMP(id=7, seq=3)/Raw(b'echo')", "s", out _)!;
        Assert.Equal("echo request id 7 seq 3 10.1.0.2 -> 10.1.0.1 (s)", echo.ToString());
    }

    [Theory]
    [InlineData("Ether(dst='ff:ff:ff:ff:ff:ff')/ARP(op=1, psrc='10.1.0.2', pdst='10.1.0.1')")]
    [InlineData("Ether()/IP(src='10.1.0.2', dst='10.1.0.1')/ICMP(type=3, code=3)/IP(src='10.1.0.1', dst='10.1.0.2')/UDP(sport=9, dport=40000)")]
    [InlineData("Ether()/IP(src='10.1.0.2', dst='10.1.0.1', id=7001, proto=253)/Raw(b'experimental')")]
    [InlineData("Ether()/IP(src='10.1.0.2', dst='10.1.0.1')/IP(src='198.51.100.7', dst='10.100.0.10')/TCP(sport=40010, dport=80)")]
    public void AFrameNoSocketCouldSendDeclaresNothing(string expression)
    {
        Assert.Null(ScapyFrame.Read(expression, "s", out var refused));
        Assert.Null(refused);
    }

    [Theory]
    [InlineData("Ether()/IP(src='10.1.0.2', dst=DST)/UDP(sport=1, dport=2)", "not an IPv4 address literal")]
    [InlineData("Ether()/IP(src='10.1.0.2', dst='10.1.0.1')/TCP(sport=40000+1, dport=80)", "not a number literal")]
    [InlineData("Ether()/IP('x')/TCP()", "a field given by position")]
    [InlineData("Ether()/IP(src='10.1.0.2', dst='10.1.0.1')/TCP(flags='SZ')", "not a TCP flag letter")]
    [InlineData("Ether()/IP(src='2001:db8::2', dst='10.1.0.1')/TCP()", "not an IPv4 address literal")]
    public void AFieldThatIsNoLiteralIsRefusedNotGuessed(string expression, string why)
    {
        Assert.Null(ScapyFrame.Read(expression, "s", out var refused));
        Assert.Contains(why, refused);
    }

    [Fact]
    public void AFrameTheReaderCannotReadIsNamedInAWarning()
    {
        var topo = LabLoader.Load(Lab, "lab.sh", """
            send() {
                ip netns exec wan sendframe eth0 "Ether()/IP(src='198.51.100.7', dst='198.51.100.1', ttl=${1/x/})/UDP()"
            }
            ip netns exec wan sendframe eth0 "Ether()/IP(src='198.51.100.7', dst='198.51.100.1')/UDP(sport=int('9'))"
            """, "traffic.sh");
        Assert.Empty(topo.Namespace("wan")!.RawFrames);
        Assert.Contains(topo.Warnings, w => w.StartsWith("traffic.sh:2: a sendframe frame with an expansion", StringComparison.Ordinal));
        Assert.Contains(topo.Warnings, w => w.StartsWith("traffic.sh:4: a sendframe frame the lab reader cannot read (sport int('9')", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryRecordedScenariosCraftedFrameIsRead()
    {
        // a frame the reader refused would be taken for a socket's again: expansions left to bash (a shell
        // function's $1) are the only frames the recorded scenarios may leave unread
        var scenarios = Path.Combine(RepoPaths.Root, "tests", "scenarios");
        var refused = Directory.GetDirectories(scenarios)
            .Where(d => File.Exists(Path.Combine(d, "traffic.sh")) && File.ReadAllText(Path.Combine(d, "traffic.sh")) is var t
                && (t.Contains("sendframe", StringComparison.Ordinal) || t.Contains("sendp(", StringComparison.Ordinal)))
            .SelectMany(d => LabLoader.LoadFile(Path.Combine(d, "lab.sh"), Path.Combine(d, "traffic.sh")).Warnings)
            .Where(w => w.Contains(" frame the lab reader cannot read", StringComparison.Ordinal)).ToList();
        Assert.True(refused.Count == 0, string.Join("\n", refused));
    }
}
