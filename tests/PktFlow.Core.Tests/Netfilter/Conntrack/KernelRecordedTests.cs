using PktFlow.Netfilter.Conntrack;
using static PktFlow.Tests.Netfilter.Conntrack.CtPackets;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// Sequences recorded on Linux 6.18 (three namespaces: a 10.99.1.1 -- router -- c 10.99.2.1; crafted
/// packets sent through the router; after each packet the router's forward-chain `ct state` counters
/// and `conntrack -L`, read about 0.2 s later). Each step here is 0.5 s after the previous one, as in
/// the recording, and the table is printed 0.2 s after the step, so the timeouts match to the second.
/// </summary>
public class KernelRecordedTests
{
    private sealed record Step(byte[] Packet, CtState State, params string[] Lines)
    {
        public double WaitBefore { get; init; }
    }

    private const string Tcp40000 = "src=10.99.1.1 dst=10.99.2.1 sport=40000 dport=80";
    private const string Tcp40000R = "src=10.99.2.1 dst=10.99.1.1 sport=80 dport=40000";
    private const string T44000 = "src=10.99.1.1 dst=10.99.2.1 sport=44000 dport=80";
    private const string T44000R = "src=10.99.2.1 dst=10.99.1.1 sport=80 dport=44000";
    private const string Gre0 = "src=10.99.1.1 dst=10.99.2.1 srckey=0x0 dstkey=0x0";
    private const string Gre0R = "src=10.99.2.1 dst=10.99.1.1 srckey=0x0 dstkey=0x0";

    private static readonly Dictionary<string, Step[]> Scenarios = new()
    {
        ["tcp handshake, close, reopen"] =
        [
            new(Tcp(A, C, 40000, 80, "S"), CtState.New, $"tcp      6 119 SYN_SENT {Tcp40000} [UNREPLIED] {Tcp40000R} mark=0 use=1"),
            new(Tcp(C, A, 80, 40000, "SA"), CtState.Established, $"tcp      6 59 SYN_RECV {Tcp40000} {Tcp40000R} mark=0 use=1"),
            new(Tcp(A, C, 40000, 80, "A"), CtState.Established, $"tcp      6 431999 ESTABLISHED {Tcp40000} {Tcp40000R} [ASSURED] mark=0 use=1"),
            new(Tcp(A, C, 40000, 80, "PA"), CtState.Established, $"tcp      6 431999 ESTABLISHED {Tcp40000} {Tcp40000R} [ASSURED] mark=0 use=1"),
            new(Tcp(A, C, 40000, 80, "FA"), CtState.Established, $"tcp      6 119 FIN_WAIT {Tcp40000} {Tcp40000R} [ASSURED] mark=0 use=1"),
            new(Tcp(C, A, 80, 40000, "A"), CtState.Established, $"tcp      6 59 CLOSE_WAIT {Tcp40000} {Tcp40000R} [ASSURED] mark=0 use=1"),
            new(Tcp(C, A, 80, 40000, "FA"), CtState.Established, $"tcp      6 29 LAST_ACK {Tcp40000} {Tcp40000R} [ASSURED] mark=0 use=1"),
            new(Tcp(A, C, 40000, 80, "A"), CtState.Established, $"tcp      6 119 TIME_WAIT {Tcp40000} {Tcp40000R} [ASSURED] mark=0 use=1"),
            new(Tcp(A, C, 40000, 80, "S"), CtState.New, $"tcp      6 119 SYN_SENT {Tcp40000} [UNREPLIED] {Tcp40000R} mark=0 use=1"),
        ],
        ["tcp mid-stream pickup (loose=1)"] =
        [
            new(Tcp(A, C, 41000, 80, "PA"), CtState.New, "tcp      6 299 ESTABLISHED src=10.99.1.1 dst=10.99.2.1 sport=41000 dport=80 [UNREPLIED] src=10.99.2.1 dst=10.99.1.1 sport=80 dport=41000 mark=0 use=1"),
            new(Tcp(C, A, 80, 41000, "A"), CtState.Established, "tcp      6 299 ESTABLISHED src=10.99.1.1 dst=10.99.2.1 sport=41000 dport=80 src=10.99.2.1 dst=10.99.1.1 sport=80 dport=41000 mark=0 use=1"),
            new(Tcp(A, C, 41000, 80, "A"), CtState.Established, "tcp      6 431999 ESTABLISHED src=10.99.1.1 dst=10.99.2.1 sport=41000 dport=80 src=10.99.2.1 dst=10.99.1.1 sport=80 dport=41000 [ASSURED] mark=0 use=1"),
        ],
        ["tcp first packets that cannot start a connection"] =
        [
            new(Tcp(A, C, 41001, 80, "SA"), CtState.Invalid),
            new(Tcp(A, C, 41002, 80, "FA"), CtState.Invalid),
            new(Tcp(A, C, 41003, 80, "R"), CtState.Invalid),
            new(Tcp(A, C, 41004, 80, "-"), CtState.Invalid),
            new(Tcp(A, C, 41005, 80, "SF"), CtState.Invalid),
            new(Tcp(A, C, 41006, 80, "F"), CtState.Invalid),
        ],
        ["tcp RST answering a SYN removes the entry"] =
        [
            new(Tcp(A, C, 41010, 80, "S"), CtState.New, "tcp      6 119 SYN_SENT src=10.99.1.1 dst=10.99.2.1 sport=41010 dport=80 [UNREPLIED] src=10.99.2.1 dst=10.99.1.1 sport=80 dport=41010 mark=0 use=1"),
            new(Tcp(C, A, 80, 41010, "RA"), CtState.Established),
        ],
        ["icmp echo"] =
        [
            new(Echo(A, C, 8, 77), CtState.New, "icmp     1 29 src=10.99.1.1 dst=10.99.2.1 type=8 code=0 id=77 [UNREPLIED] src=10.99.2.1 dst=10.99.1.1 type=0 code=0 id=77 mark=0 use=1"),
            new(Echo(C, A, 0, 77), CtState.Established, "icmp     1 29 src=10.99.1.1 dst=10.99.2.1 type=8 code=0 id=77 src=10.99.2.1 dst=10.99.1.1 type=0 code=0 id=77 mark=0 use=1"),
            new(Echo(A, C, 8, 77), CtState.Established, "icmp     1 29 src=10.99.1.1 dst=10.99.2.1 type=8 code=0 id=77 src=10.99.2.1 dst=10.99.1.1 type=0 code=0 id=77 mark=0 use=1"),
            new(Echo(C, A, 0, 99), CtState.Invalid, "icmp     1 29 src=10.99.1.1 dst=10.99.2.1 type=8 code=0 id=77 src=10.99.2.1 dst=10.99.1.1 type=0 code=0 id=77 mark=0 use=1"),
        ],
        ["udp and icmp errors"] =
        [
            new(Udp(A, C, 5000, 53), CtState.New, "udp      17 29 src=10.99.1.1 dst=10.99.2.1 sport=5000 dport=53 [UNREPLIED] src=10.99.2.1 dst=10.99.1.1 sport=53 dport=5000 mark=0 use=1"),
            new(Error(C, A, Udp(A, C, 5000, 53)), CtState.Related, "udp      17 29 src=10.99.1.1 dst=10.99.2.1 sport=5000 dport=53 [UNREPLIED] src=10.99.2.1 dst=10.99.1.1 sport=53 dport=5000 mark=0 use=1"),
            new(Udp(C, A, 53, 5000), CtState.Established, "udp      17 29 src=10.99.1.1 dst=10.99.2.1 sport=5000 dport=53 src=10.99.2.1 dst=10.99.1.1 sport=53 dport=5000 mark=0 use=1"),
            new(Error(C, A, Udp(A, C, 5001, 53)), CtState.Invalid, "udp      17 29 src=10.99.1.1 dst=10.99.2.1 sport=5000 dport=53 src=10.99.2.1 dst=10.99.1.1 sport=53 dport=5000 mark=0 use=1"),
            new(Error(A, C, Udp(C, A, 53, 5000)), CtState.Related, "udp      17 28 src=10.99.1.1 dst=10.99.2.1 sport=5000 dport=53 src=10.99.2.1 dst=10.99.1.1 sport=53 dport=5000 mark=0 use=1"),
        ],
        ["udp stream becomes assured after 2 s"] =
        [
            new(Udp(A, C, 6000, 53), CtState.New, "udp      17 29 src=10.99.1.1 dst=10.99.2.1 sport=6000 dport=53 [UNREPLIED] src=10.99.2.1 dst=10.99.1.1 sport=53 dport=6000 mark=0 use=1"),
            new(Udp(C, A, 53, 6000), CtState.Established, "udp      17 29 src=10.99.1.1 dst=10.99.2.1 sport=6000 dport=53 src=10.99.2.1 dst=10.99.1.1 sport=53 dport=6000 mark=0 use=1"),
            new(Udp(A, C, 6000, 53), CtState.Established, "udp      17 29 src=10.99.1.1 dst=10.99.2.1 sport=6000 dport=53 src=10.99.2.1 dst=10.99.1.1 sport=53 dport=6000 mark=0 use=1"),
            new(Udp(A, C, 6000, 53), CtState.Established, "udp      17 119 src=10.99.1.1 dst=10.99.2.1 sport=6000 dport=53 src=10.99.2.1 dst=10.99.1.1 sport=53 dport=6000 [ASSURED] mark=0 use=1") { WaitBefore = 2.2 },
        ],
        ["tcp SYN in ESTABLISHED ignored, RST, SYN reopens"] =
        [
            new(Tcp(A, C, 44000, 80, "S"), CtState.New, $"tcp      6 119 SYN_SENT {T44000} [UNREPLIED] {T44000R} mark=0 use=1"),
            new(Tcp(C, A, 80, 44000, "SA"), CtState.Established, $"tcp      6 59 SYN_RECV {T44000} {T44000R} mark=0 use=1"),
            new(Tcp(A, C, 44000, 80, "A"), CtState.Established, $"tcp      6 431999 ESTABLISHED {T44000} {T44000R} [ASSURED] mark=0 use=1"),
            new(Tcp(A, C, 44000, 80, "S"), CtState.Established, $"tcp      6 431999 ESTABLISHED {T44000} {T44000R} [ASSURED] mark=0 use=1"),
            new(Tcp(A, C, 44000, 80, "R"), CtState.Established, $"tcp      6 9 CLOSE {T44000} {T44000R} [ASSURED] mark=0 use=1"),
            new(Tcp(A, C, 44000, 80, "S"), CtState.New, $"tcp      6 119 SYN_SENT {T44000} [UNREPLIED] {T44000R} mark=0 use=1"),
        ],
        ["tcp client RST before any reply removes the entry"] =
        [
            new(Tcp(A, C, 44001, 80, "S"), CtState.New, "tcp      6 119 SYN_SENT src=10.99.1.1 dst=10.99.2.1 sport=44001 dport=80 [UNREPLIED] src=10.99.2.1 dst=10.99.1.1 sport=80 dport=44001 mark=0 use=1"),
            new(Tcp(A, C, 44001, 80, "R"), CtState.New),
        ],
        // recorded through a masquerading router (Linux 6.18, conntrack v1.4.7), here without NAT:
        // gre_pkt_to_tuple keys version 0 with 0 and PPTP's version 1 with its call id; gre_packet gives
        // 30 s until a reply went through, then 180 s and ASSURED; version 1 without PPP gets no entry
        ["gre: keys, timeouts, assured; pptp call id; enhanced gre without ppp refused"] =
        [
            new(Gre(A, C), CtState.New, $"gre      47 29 {Gre0} [UNREPLIED] {Gre0R} mark=0 use=1"),
            new(Gre(C, A), CtState.Established, $"gre      47 29 {Gre0} {Gre0R} mark=0 use=1"),
            new(Gre(A, C), CtState.Established, $"gre      47 179 {Gre0} {Gre0R} [ASSURED] mark=0 use=1"),
            new(Gre(A, C, callId: 0x1234), CtState.New,
                $"gre      47 179 {Gre0} {Gre0R} [ASSURED] mark=0 use=1",
                "gre      47 29 src=10.99.1.1 dst=10.99.2.1 srckey=0x0 dstkey=0x1234 [UNREPLIED] src=10.99.2.1 dst=10.99.1.1 srckey=0x1234 dstkey=0x0 mark=0 use=1"),
            new(Gre(A, C, callId: 0x1235, inner: 0x0800), CtState.Invalid,
                $"gre      47 178 {Gre0} {Gre0R} [ASSURED] mark=0 use=1",
                "gre      47 29 src=10.99.1.1 dst=10.99.2.1 srckey=0x0 dstkey=0x1234 [UNREPLIED] src=10.99.2.1 dst=10.99.1.1 srckey=0x1234 dstkey=0x0 mark=0 use=1"),
        ],
        ["tcp simultaneous open"] =
        [
            new(Tcp(A, C, 44002, 80, "S"), CtState.New, "tcp      6 119 SYN_SENT src=10.99.1.1 dst=10.99.2.1 sport=44002 dport=80 [UNREPLIED] src=10.99.2.1 dst=10.99.1.1 sport=80 dport=44002 mark=0 use=1"),
            new(Tcp(C, A, 80, 44002, "S"), CtState.Established, "tcp      6 119 SYN_SENT2 src=10.99.1.1 dst=10.99.2.1 sport=44002 dport=80 src=10.99.2.1 dst=10.99.1.1 sport=80 dport=44002 mark=0 use=1"),
        ],
    };

    public static TheoryData<string> Names => new(Scenarios.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void MatchesKernel(string scenario)
    {
        var table = new ConntrackTable(ConntrackSettings.Default);
        double t = 100;
        int i = 0;
        foreach (var step in Scenarios[scenario])
        {
            t += 0.5 + step.WaitBefore;
            var r = table.Pass(step.Packet, Sec(t));
            Assert.True(step.State == r.State, $"step {i}: expected {step.State}, got {r.State} ({r.Detail})");
            var lines = table.Entries.Select(e => e.ToString(Sec(t + 0.2))).ToArray();
            Assert.Equal(step.Lines, lines);
            i++;
        }
    }

    [Fact]
    public void LooseZeroRefusesMidStream()
    {
        var table = new ConntrackTable(ConntrackSettings.Default with { TcpLoose = false });
        var r = table.Pass(Tcp(A, C, 42000, 80, "PA"), Sec(1));
        Assert.Equal(CtState.Invalid, r.State);
        Assert.Contains("nf_conntrack_tcp_loose=0", r.Detail);
        Assert.Empty(table.Entries);
    }

    [Fact]
    public void ZoneIsPrinted()
    {
        var table = new ConntrackTable(ConntrackSettings.Default);
        table.Pass(Udp(A, C, 7000, 53), Sec(1), zone: 7);
        Assert.Equal("udp      17 29 src=10.99.1.1 dst=10.99.2.1 sport=7000 dport=53 [UNREPLIED] src=10.99.2.1 dst=10.99.1.1 sport=53 dport=7000 mark=0 zone=7 use=1",
            table.Entries.Single().ToString(Sec(1.2)));
    }
}
