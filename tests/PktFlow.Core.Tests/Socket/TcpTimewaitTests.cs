using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Socket;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Socket;

/// <summary>
/// The socket's own TCP states (TcpSockTable) and what a TIME_WAIT socket makes of a segment
/// (tcp_timewait_state_process): the recorded scenario tproxy-timewait holds the kernel's account of
/// the cases a capture can show; these pin the edges (exactly 60 s, rate limit, PAWS, rfc1337).
/// </summary>
public class TcpTimewaitTests
{
    private static readonly IpAddr L = IpAddr.Parse("10.1.0.1"), R = IpAddr.Parse("10.1.0.2");
    private static readonly (byte, IpAddr, ushort, IpAddr, ushort) Key = (IpProtocol.Tcp, L, 9000, R, 40004);
    private const long S = 1_000_000_000;

    private static PktFlow.Topology.Sysctls Sysctls(string lines = "") => LabLoader.Load(lines, "t.lab").Namespaces[0].Sysctls;

    private static TcpSegment Seg(TcpFlags flags, uint seq, uint ack = 0, int payload = 0, uint? ts = null) => new(flags, seq, ack, payload, ts);

    /// <summary>A connection the listener took and this end closed first, driven to TIME_WAIT at 1 s; snd_nxt 5008, rcv_nxt 1002.</summary>
    private static (TcpSockTable Table, List<(byte, IpAddr, ushort, IpAddr, ushort)> Closed) ClosedFirst()
    {
        var closed = new List<(byte, IpAddr, ushort, IpAddr, ushort)>();
        var table = new TcpSockTable(432000 * S, closed.Add);
        table.Received(Key, Seg(TcpFlags.Syn, 1000, ts: 100), 0, listener: null);
        Assert.Null(table.Find(Key, 0)); // a SYN with no listener makes nothing
        table.Sent(Key, Seg(TcpFlags.Syn | TcpFlags.Ack, 5000, 1001), 0, null);
        Assert.Equal(TcpSockState.SynRecv, table.Find(Key, 0)!.State);
        table.Received(Key, Seg(TcpFlags.Ack, 1001, 5001, ts: 101), 1_000);
        Assert.Equal(TcpSockState.Established, table.Find(Key, 1_000)!.State);
        table.Sent(Key, Seg(TcpFlags.Ack | TcpFlags.Psh, 5001, 1001, payload: 6), 2_000, null);
        table.Sent(Key, Seg(TcpFlags.Fin | TcpFlags.Ack, 5007, 1001), 3_000, null);
        Assert.Equal(TcpSockState.FinWait1, table.Find(Key, 3_000)!.State);
        table.Received(Key, Seg(TcpFlags.Ack, 1001, 5008, ts: 102), 4_000);
        Assert.Equal(TcpSockState.FinWait2, table.Find(Key, 4_000)!.State);
        table.Received(Key, Seg(TcpFlags.Fin | TcpFlags.Ack, 1001, 5008, ts: 103), S);
        var tw = table.Find(Key, S)!;
        Assert.Equal(TcpSockState.TimeWait, tw.State);
        Assert.Equal((5008u, 1002u, 103u), (tw.SndNxt!.Value, tw.RcvNxt!.Value, tw.TsRecent!.Value));
        return (table, closed);
    }

    [Fact]
    public void ASynSentOnTheTimeWait4TupleReplacesIt_AConnectThatTookItOver()
    {
        // kernel 6.18, both ends in namespaces: the client closed first (TIME_WAIT), then connected again
        // from the same port (SO_REUSEADDR, timestamps on): its SYN left with seq tw_snd_nxt + 65537 and
        // the connection completed; ss then showed only the new connection's states
        var (table, closed) = ClosedFirst();
        table.Sent(Key, Seg(TcpFlags.Syn, 5008 + 65537, ts: 200), 2 * S, null);
        var s = table.Find(Key, 2 * S)!;
        Assert.Equal((TcpSockState.SynSent, 5008u + 65537 + 1, 103u), (s.State, s.SndNxt!.Value, s.TsRecent!.Value));
        Assert.Empty(closed); // the 4-tuple stays taken: its connected socket is not forgotten
        table.Received(Key, Seg(TcpFlags.Syn | TcpFlags.Ack, 9000, 5008 + 65537 + 1, ts: 104), 2 * S + 1);
        Assert.Equal(TcpSockState.Established, table.Find(Key, 2 * S + 1)!.State);
    }

    [Fact]
    public void TimeWaitLastsExactlyTcpTimewaitLen_ThenTheConnectionIsForgotten()
    {
        var (table, closed) = ClosedFirst();
        Assert.NotNull(table.Find(Key, S + TcpSockTable.TimeWaitLenNs - 1));
        Assert.Null(table.Find(Key, S + TcpSockTable.TimeWaitLenNs));
        Assert.Equal([Key], closed);
    }

    [Fact]
    public void ThePeerClosingFirst_CloseWaitLastAckThenClosed()
    {
        var closed = new List<(byte, IpAddr, ushort, IpAddr, ushort)>();
        var table = new TcpSockTable(432000 * S, closed.Add);
        table.Sent(Key, Seg(TcpFlags.Syn, 7000), 0, null);
        Assert.Equal(TcpSockState.SynSent, table.Find(Key, 0)!.State);
        table.Received(Key, Seg(TcpFlags.Syn | TcpFlags.Ack, 300, 7001), 1);
        Assert.Equal(TcpSockState.Established, table.Find(Key, 1)!.State);
        table.Received(Key, Seg(TcpFlags.Fin | TcpFlags.Ack, 301, 7001), 2);
        Assert.Equal(TcpSockState.CloseWait, table.Find(Key, 2)!.State);
        table.Sent(Key, Seg(TcpFlags.Fin | TcpFlags.Ack, 7001, 302), 3, null);
        Assert.Equal(TcpSockState.LastAck, table.Find(Key, 3)!.State);
        table.Received(Key, Seg(TcpFlags.Ack, 302, 7002), 4);
        Assert.Null(table.Find(Key, 4));
        Assert.Equal([Key], closed);
    }

    [Fact]
    public void AnUnansweredRequestIsGivenUpAfterTheSynAckRetries()
    {
        var table = new TcpSockTable(432000 * S, _ => { });
        table.Received(Key, Seg(TcpFlags.Syn, 1000), 0, listener: Listener);
        Assert.Equal(TcpSockState.SynRecv, table.Find(Key, TcpSockTable.SynRecvLifeNs)!.State);
        Assert.Null(table.Find(Key, TcpSockTable.SynRecvLifeNs + 1));
    }

    [Fact]
    public void AConnectTheApplicationGivesUpOnIsClosedWithoutASegment()
    {
        // socat connect-timeout=1.5 to a port whose SYNs are dropped (fwd-stateful, local-input-stateful):
        // ss lists no SYN_SENT after the traffic; without a timeout of its own the kernel's retries decide
        var closed = new List<(byte, IpAddr, ushort, IpAddr, ushort)>();
        var table = new TcpSockTable(432000 * S, closed.Add);
        table.Sent(Key, Seg(TcpFlags.Syn, 7000), 0, null, TimeSpan.FromSeconds(1.5));
        table.Sent(Key, Seg(TcpFlags.Syn, 7000), S, null, TimeSpan.FromSeconds(1.5)); // the retransmission does not re-arm it
        Assert.Equal(TcpSockState.SynSent, table.Find(Key, 3 * S / 2 - 1)!.State);
        Assert.Null(table.Find(Key, 3 * S / 2));
        Assert.Equal([Key], closed);

        var patient = new TcpSockTable(432000 * S, _ => { });
        patient.Sent(Key, Seg(TcpFlags.Syn, 7000), 0, null);
        Assert.Equal(TcpSockState.SynSent, patient.Find(Key, TcpSockTable.SynSentLifeNs)!.State);
        Assert.Null(patient.Find(Key, TcpSockTable.SynSentLifeNs + 1));
    }

    [Fact]
    public void AConnectAnsweredInTimeOutlivesTheApplicationsConnectTimeout()
    {
        var table = new TcpSockTable(432000 * S, _ => { });
        table.Sent(Key, Seg(TcpFlags.Syn, 7000), 0, null, TimeSpan.FromSeconds(2));
        table.Received(Key, Seg(TcpFlags.Syn | TcpFlags.Ack, 300, 7001), S);
        Assert.Equal(TcpSockState.Established, table.Find(Key, 10 * S)!.State);
    }

    private static readonly PktFlow.Topology.ListeningSocket Listener = new(PktFlow.Topology.SocketProtocol.Tcp, 9000, null, null, "t.lab:1");

    [Fact]
    public void AResetClosesAnEstablishedConnection()
    {
        var closed = new List<(byte, IpAddr, ushort, IpAddr, ushort)>();
        var table = new TcpSockTable(432000 * S, closed.Add);
        table.Sent(Key, Seg(TcpFlags.Ack, 10, 20), 0, null); // met mid-stream
        Assert.Equal(TcpSockState.Established, table.Find(Key, 0)!.State);
        table.Received(Key, Seg(TcpFlags.Rst, 20), 1);
        Assert.Null(table.Find(Key, 1));
    }

    [Fact]
    public void AnInWindowResetKillsTheTimeWaitSocket_UnlessTcpRfc1337()
    {
        var (table, _) = ClosedFirst();
        var tw = table.Find(Key, 2 * S)!;
        Assert.Equal(TcpTimewait.Status.Success, TcpTimewait.Process(tw, Seg(TcpFlags.Rst, 1002), 2 * S, Sysctls("sysctl -w net.ipv4.tcp_rfc1337=1")));
        Assert.Equal(2 * S, tw.SinceNs); // the 60 s start again
        Assert.Equal(TcpTimewait.Status.Killed, TcpTimewait.Process(tw, Seg(TcpFlags.Rst, 1002), 3 * S, Sysctls()));
        // out of window: ignored
        Assert.Equal(TcpTimewait.Status.Success, TcpTimewait.Process(tw, Seg(TcpFlags.Rst, 900), 3 * S, Sysctls()));
    }

    [Fact]
    public void OutOfWindowSegmentsAreAckedAtMostOncePerInvalidRatelimit()
    {
        var (table, _) = ClosedFirst();
        var tw = table.Find(Key, 2 * S)!;
        var sysctls = Sysctls();
        var stray = Seg(TcpFlags.Ack, 1000, 5000);
        Assert.Equal(TcpTimewait.Status.Ack, TcpTimewait.Process(tw, stray, 2 * S, sysctls));
        Assert.Equal(TcpTimewait.Status.AckRateLimited, TcpTimewait.Process(tw, stray, 2 * S + 499_000_000, sysctls));
        Assert.Equal(TcpTimewait.Status.Ack, TcpTimewait.Process(tw, stray, 2 * S + 500_000_000, sysctls));
        // data is never limited (no ACK loop)
        Assert.Equal(TcpTimewait.Status.Ack, TcpTimewait.Process(tw, Seg(TcpFlags.Ack, 1000, 5000, payload: 10), 2 * S + 600_000_000, sysctls));
        Assert.Equal(TcpTimewait.Status.Ack, TcpTimewait.Process(tw, stray, 3 * S, Sysctls("sysctl -w net.ipv4.tcp_invalid_ratelimit=0")));
    }

    [Fact]
    public void ASynReopensOnlyWithAHigherSequenceOrANewerTimestamp()
    {
        var (table, _) = ClosedFirst();
        var tw = table.Find(Key, 2 * S)!;
        var sysctls = Sysctls("sysctl -w net.ipv4.tcp_invalid_ratelimit=0");
        Assert.Equal(TcpTimewait.Status.Syn, TcpTimewait.Process(tw, Seg(TcpFlags.Syn, 2000), 2 * S, sysctls));
        // a lower sequence number without timestamps may be an old duplicate: answered with an ACK
        Assert.Equal(TcpTimewait.Status.Ack, TcpTimewait.Process(tw, Seg(TcpFlags.Syn, 500), 2 * S, sysctls));
        // ... but a newer timestamp proves it new
        Assert.Equal(TcpTimewait.Status.Syn, TcpTimewait.Process(tw, Seg(TcpFlags.Syn, 500, ts: 104), 2 * S, sysctls));
        // an older timestamp is rejected by PAWS, whatever its sequence number
        Assert.Equal(TcpTimewait.Status.Ack, TcpTimewait.Process(tw, Seg(TcpFlags.Syn, 2000, ts: 50), 2 * S, sysctls));
    }

    [Fact]
    public void Predict_TheHandshakesAckReachesTheRequestSocket_NotTheListenersReset()
    {
        const string lab = """
            ip netns add client
            ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
            ip addr add 10.1.0.1/24 dev eth0
            ip link set eth0 up
            ip -n client addr add 10.1.0.2/24 dev eth0
            ip -n client link set eth0 up
            socat TCP-LISTEN:9000,fork SYSTEM:true &
            """;
        var engine = new DatapathEngine(LabLoader.Load(lab, "t.lab"));
        var host = MacAddress.Parse("02:00:00:00:01:01");
        var client = MacAddress.Parse("02:00:00:00:01:02");
        PacketTrace Send(byte flags, uint seq, long n)
        {
            var f = FrameBuilder.Ethernet(host, client, EtherTypes.Ipv4, FrameBuilder.Ipv4(R, L, IpProtocol.Tcp, FrameBuilder.Tcp(R, L, 40004, 9000, flags, seq)));
            return engine.Process(new CaptureFrame(n, n * 1_000_000, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("eth0"));
        }
        var syn = Send(0x02, 1000, 1);
        Assert.Contains(syn.Path, e => e.Stage == "TcpV4Rcv" && e.Detail!.Contains("SYN_RECV"));
        var ack = Send(0x10, 1001, 2);
        Assert.Empty(ack.Generated);
        Assert.Contains(ack.Path, e => e.Stage == "TcpV4Rcv" && e.Detail!.Contains("SYN_RECV -> ESTABLISHED"));
        var fin = Send(0x11, 1001, 3);
        Assert.Contains(fin.Path, e => e.Stage == "TcpV4Rcv" && e.Detail!.Contains("ESTABLISHED -> CLOSE_WAIT"));
    }
}
