using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Socket;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Socket;

/// <summary>
/// What socat does with a lab socket, as ss -uan / ss -tan showed it in a namespace (kernel 6.x, socat
/// 1.7/1.8): UDP-LISTEN connects to its first datagram's sender (ESTAB; a datagram from another
/// sender then finds no socket: UdpNoPorts, ICMP port unreachable), with fork a child does and the
/// socket stays UNCONN; UDP-RECVFROM without fork is gone after one datagram; UDP-RECV stays UNCONN;
/// TCP-LISTEN without fork closes its listener once it accepted a connection.
/// </summary>
public class LabSocketLifeTests
{
    private const string Lab = """
        ip netns add client
        ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
        ip addr add 10.1.0.1/24 dev eth0
        ip link set eth0 up
        ip -n client addr add 10.1.0.2/24 dev eth0
        ip -n client addr add 10.1.0.3/24 dev eth0
        ip -n client link set eth0 up
        socat -u UDP-LISTEN:5000 /dev/null &
        socat -u UDP-LISTEN:5001,fork /dev/null &
        socat -u UDP-RECVFROM:5002 /dev/null &
        socat -u UDP-RECV:5003 /dev/null &
        socat TCP-LISTEN:80 SYSTEM:true &
        socat TCP-LISTEN:81,fork SYSTEM:true &
        """;

    static readonly MacAddress Host = MacAddress.Parse("02:00:00:00:01:01"), Client = MacAddress.Parse("02:00:00:00:01:02");
    static readonly IpAddr H = IpAddr.Parse("10.1.0.1");

    private static PacketTrace Send(DatapathEngine engine, byte[] l4, string from, byte proto, long number)
    {
        var src = IpAddr.Parse(from);
        var frame = FrameBuilder.Ethernet(Host, Client, EtherTypes.Ipv4, FrameBuilder.Ipv4(src, H, proto, l4));
        return engine.Process(new CaptureFrame(number, number * 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame),
            "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }

    private static PacketTrace Udp(DatapathEngine engine, string from, ushort sport, ushort dport, long number) =>
        Send(engine, FrameBuilder.Udp(IpAddr.Parse(from), H, sport, dport), from, IpProtocol.Udp, number);

    private static List<string> Listing(DatapathEngine engine) =>
        SocketListing.List(engine.Topology.Namespaces[0], engine.States[0], 1_000_000_000).Select(s => $"{s.Protocol} {s.State} {s.Local} {s.Peer}").ToList();

    [Fact]
    public void UdpListenConnectsToItsFirstSender_AnotherSenderFindsNoSocket()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "t.lab"));
        Assert.Equal(Fate.Delivered, Udp(engine, "10.1.0.2", 41000, 5000, 1).Fate);
        Assert.Contains("udp ESTABLISHED 10.1.0.1:5000 10.1.0.2:41000", Listing(engine));
        Assert.DoesNotContain("udp UNCONN *:5000 *:*", Listing(engine));
        // the same peer again: the connected socket; another port of it, or another address: no socket
        Assert.Equal(Fate.Delivered, Udp(engine, "10.1.0.2", 41000, 5000, 2).Fate);
        var other = Udp(engine, "10.1.0.3", 41000, 5000, 3);
        Assert.Equal((Fate.Dropped, "NO_SOCKET"), (other.Fate, other.Reason));
        Assert.Equal("NO_SOCKET", Udp(engine, "10.1.0.2", 41001, 5000, 4).Reason);
    }

    [Fact]
    public void UdpListenWithForkKeepsItsSocketAndConnectsAChildPerSender()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "t.lab"));
        Udp(engine, "10.1.0.2", 41000, 5001, 1);
        Assert.Equal(Fate.Delivered, Udp(engine, "10.1.0.3", 41000, 5001, 2).Fate);
        var l = Listing(engine);
        Assert.Contains("udp UNCONN *:5001 *:*", l);
        Assert.Contains("udp ESTABLISHED 10.1.0.1:5001 10.1.0.2:41000", l);
        Assert.Contains("udp ESTABLISHED 10.1.0.1:5001 10.1.0.3:41000", l);
    }

    [Fact]
    public void UdpRecvfromWithoutForkIsGoneAfterOneDatagram_UdpRecvStays()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "t.lab"));
        Assert.Contains("udp UNCONN *:5002 *:*", Listing(engine));
        Assert.Equal(Fate.Delivered, Udp(engine, "10.1.0.2", 41000, 5002, 1).Fate);
        Assert.Equal("NO_SOCKET", Udp(engine, "10.1.0.2", 41000, 5002, 2).Reason);
        Udp(engine, "10.1.0.2", 41000, 5003, 3);
        Udp(engine, "10.1.0.3", 41000, 5003, 4);
        var l = Listing(engine);
        Assert.DoesNotContain(l, x => x.Contains(":5002"));
        Assert.Single(l, x => x.Contains(":5003"));
        Assert.Contains("udp UNCONN *:5003 *:*", l);
    }

    [Fact]
    public void TcpListenWithoutForkIsNotListedOnceItAccepted()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "t.lab"));
        var c = IpAddr.Parse("10.1.0.2");
        Assert.Contains("tcp LISTEN *:80 *:*", Listing(engine));
        Send(engine, FrameBuilder.Tcp(c, H, 40001, 80, 0x02), "10.1.0.2", IpProtocol.Tcp, 1);
        Send(engine, FrameBuilder.Tcp(c, H, 40002, 81, 0x02), "10.1.0.2", IpProtocol.Tcp, 2);
        // a SYN alone makes a request socket: the listener still listens
        Assert.Contains("tcp LISTEN *:80 *:*", Listing(engine));
        Send(engine, FrameBuilder.Tcp(c, H, 40001, 80, 0x10, 1001), "10.1.0.2", IpProtocol.Tcp, 3);
        Send(engine, FrameBuilder.Tcp(c, H, 40002, 81, 0x10, 1001), "10.1.0.2", IpProtocol.Tcp, 4);
        var l = Listing(engine);
        Assert.DoesNotContain("tcp LISTEN *:80 *:*", l);
        Assert.Contains("tcp LISTEN *:81 *:*", l);
        // a new connection to the closed listener is refused (a reset); the forking one takes it
        var refused = Send(engine, FrameBuilder.Tcp(c, H, 40003, 80, 0x02), "10.1.0.2", IpProtocol.Tcp, 5);
        Assert.Equal((Fate.Dropped, "NO_SOCKET"), (refused.Fate, refused.Reason));
        Assert.Contains(refused.Generated, g => g.Contains("RST"));
        Assert.Equal(Fate.Delivered, Send(engine, FrameBuilder.Tcp(c, H, 40004, 81, 0x02), "10.1.0.2", IpProtocol.Tcp, 6).Fate);
    }

    [Theory]
    [InlineData("nc -l 6000", "tcp", false, UdpFirstDatagram.Connects)]
    [InlineData("nc -lk 6000", "tcp", true, UdpFirstDatagram.Stays)]
    [InlineData("nc -u -l 6000", "udp", false, UdpFirstDatagram.Connects)]
    [InlineData("nc -u -l -k 6000", "udp", true, UdpFirstDatagram.Stays)]
    [InlineData("socat -u UDP-RECV:6000 -", "udp", false, UdpFirstDatagram.Stays)]
    [InlineData("socat -u UDP4-RECVFROM:6000,fork -", "udp", true, UdpFirstDatagram.Closes)]
    [InlineData("socat -u UDP-L:6000 -", "udp", false, UdpFirstDatagram.Connects)]
    public void TheLabSaysWhatTheProgramDoesWithItsSocket(string command, string proto, bool fork, UdpFirstDatagram first)
    {
        var s = Assert.Single(LabLoader.Load(command + " &", "t.lab").Namespaces[0].Sockets!);
        Assert.Equal((proto, fork), (s.Protocol.ToString().ToLowerInvariant(), s.Fork));
        if (proto == "udp") Assert.Equal(first, s.FirstDatagram);
    }
}
