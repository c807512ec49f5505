using PktFlow.Datapath;
using PktFlow.Netfilter;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;
using WireFrames = PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Netfilter.Synproxy;

/// <summary>
/// ipv4_synproxy_hook on a connection with the synproxy extension, one state at a time: SYN_SENT (the SYN to
/// the server: isn and td_maxwin), CLOSE (a reply RST sets the sequence offset, a new SYN reopens), and a
/// TCP header the hook cannot read.
/// </summary>
public class SynproxyHookTests
{
    private static readonly Lazy<DatapathEngine> Engine = new(() =>
        new DatapathEngine(LabLoader.LoadFile(Path.Combine(RepoPaths.Root, "tests", "scenarios", "synproxy", "lab.sh"))));

    private const string Client = "10.1.0.2", Server = "10.2.0.2";

    private static (bool Accepted, TraceBuilder Trace) Run(byte[] network, ConntrackEntry entry, CtDirection dir)
    {
        var ns = Engine.Value.Topology.Namespace("server")!;
        var skb = new SkBuff(network) { Netns = ns, Dev = ns.Device("eth0")!, Engine = Engine.Value, NetworkHeader = 0, Protocol = EtherTypes.Ipv4 };
        var t = new TraceBuilder();
        bool ok = NfSynproxy.Hook(skb, t, new CtLookup(entry, CtState.New, dir, "test"), NfHook.PostRouting);
        return (ok, t);
    }

    private static byte[] Seg(bool toServer, uint seq, uint ack, TcpFlags flags, ushort window = 64240) => toServer
        ? WireFrames.Ipv4(Client, Server, IpProtocol.Tcp, WireFrames.Tcp(Client, Server, 40000, 80, seq, ack, flags, window: window))
        : WireFrames.Ipv4(Server, Client, IpProtocol.Tcp, WireFrames.Tcp(Server, Client, 80, 40000, seq, ack, flags, window: window));

    private static ConntrackEntry Connection(TcpCtState state)
    {
        var table = new ConntrackTable();
        var e = table.In(Seg(true, 1000, 0, TcpFlags.Syn), false, 1).Entry!;
        e.Synproxy = new ConntrackSynproxy { Isn = 5000, Tsoff = 77 };
        e.TcpState = state;
        return e;
    }

    [Theory]
    // tcp_new: seen[ORIGINAL].td_maxwin is the SYN's window, 1 when that is 0 (synproxy_send_server_ack advertises it)
    [InlineData(0, 1)]
    [InlineData(29200, 29200)]
    public void TheSynToTheServerKeepsTheCookieAndTdMaxwin(int window, int maxwin)
    {
        var e = Connection(TcpCtState.SynSent);
        var (ok, _) = Run(Seg(true, 1000, 6000, TcpFlags.Syn, (ushort)window), e, CtDirection.Original);
        Assert.True(ok);
        Assert.Equal(6000u, e.Synproxy!.Isn);
        Assert.Equal(maxwin, e.Synproxy.SynWindow);
    }

    [Theory]
    // the client's ACK again in SYN_SENT: the cookie is checked on th->seq - 1 (recv_seq = th->seq + 1 only
    // numbers the SYN to the server): at ISN + 1 it is valid and the SYN goes again (cookie_retrans)
    [InlineData(1001u, 1460, true)]
    // a keep-alive at ISN: the MSS index moves one on, past msstab from index 3: dropped
    [InlineData(1000u, 1460, false)]
    // ... from index 2 (1440) to 3: valid, the SYN carries MSS 1460
    [InlineData(1000u, 1440, true)]
    public void TheClientsAckAgainIsCheckedOnItsOwnSequenceNumber(uint seq, int clientMss, bool valid)
    {
        var ns = Engine.Value.Topology.Namespace("server")!;
        var cookies = Engine.Value.StateOf(ns).Synproxy;
        var client = (IpAddr.Parse(Client), (ushort)40000, IpAddr.Parse(Server), (ushort)80);
        cookies.Add(client, new SynproxyCookies.Cookie { ClientIsn = 1000, MssIndex = NfSynproxy.MssIndex((ushort)clientMss, false), SentNs = 0, Value = 5000 }, 0);
        var (ok, t) = Run(Seg(true, seq, 5001, TcpFlags.Ack), Connection(TcpCtState.SynSent), CtDirection.Original);
        Assert.False(ok);
        Assert.Equal(valid ? Fate.Consumed : Fate.Dropped, t.Fate);
        if (valid) Assert.Contains(t.Path, e => e.Stage == "SynproxyRecvClientAck" && e.Detail!.Contains("MSS index 3: 1460"));
    }

    [Fact]
    public void AHeaderShorterThan20BytesIsDropped()
    {
        var network = WireFrames.Ipv4(Client, Server, IpProtocol.Tcp, new byte[12]);
        var (ok, t) = Run(network, Connection(TcpCtState.Established), CtDirection.Original);
        Assert.False(ok);
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.Contains(t.Path, e => e.Stage == "SynproxyHook" && e.Verdict == Verdict.Drop);
    }

    [Fact]
    public void InClose_AReplyRstSetsTheSequenceOffset_AnOriginalRstDoesNot()
    {
        var e = Connection(TcpCtState.Close);
        Assert.True(Run(Seg(true, 1001, 0, TcpFlags.Rst), e, CtDirection.Original).Accepted);
        Assert.Null(e.SeqAdj);
        // the server's RST to the SYN: offset isn - seq + 1, so the client sees it acknowledge its cookie
        Assert.True(Run(Seg(false, 0, 1001, TcpFlags.Rst | TcpFlags.Ack), e, CtDirection.Reply).Accepted);
        Assert.NotNull(e.SeqAdj);
        Assert.Equal(5001, e.SeqAdj!.Offset(CtDirection.Reply, 0));
        Assert.Equal(5000u, e.Synproxy!.Isn); // nothing else changes
    }

    [Fact]
    public void InClose_ANewSynReopens_TheTimestampOffsetGoesAndTheNewCookieIsKept()
    {
        var e = Connection(TcpCtState.Close);
        Assert.True(Run(Seg(true, 2000, 7000, TcpFlags.Syn), e, CtDirection.Original).Accepted);
        Assert.Equal((0u, 7000u), (e.Synproxy!.Tsoff, e.Synproxy.Isn));
        // a SYN-ACK or a reply SYN does not reopen it
        var other = Connection(TcpCtState.Close);
        Run(Seg(true, 2000, 7000, TcpFlags.Syn | TcpFlags.Ack), other, CtDirection.Original);
        Run(Seg(false, 2000, 7000, TcpFlags.Syn), other, CtDirection.Reply);
        Assert.Equal((77u, 5000u), (other.Synproxy!.Tsoff, other.Synproxy.Isn));
    }
}
