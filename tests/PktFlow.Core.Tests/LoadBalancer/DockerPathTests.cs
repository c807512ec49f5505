using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.LoadBalancer;
using PktFlow.Render;
using PktFlow.Replay;
using PktFlow.Testing;
using PktFlow.Wire;
using FB = PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.LoadBalancer;

/// <summary>
/// Issue 5's worked example end to end with the load balancer in front: client -> load balancer ->
/// host eth0 -> PREROUTING (the published port's DNAT) -> FORWARD -> POSTROUTING -> docker0 -> veth ->
/// the container's eth0 -> INPUT -> its socket on :80, and the reply back through the host's conntrack
/// and the load balancer. Lab and configurations: captures/load-balancer/docker-*.
/// </summary>
public class DockerPathTests
{
    private static string Dir => Path.Combine(RepoPaths.Root, "captures", "load-balancer");
    internal static string Pcap => Path.Combine(Dir, "docker-client.pcap");

    private const string Client = "198.51.100.7", Vip = "10.100.0.10", Host = "192.168.1.1";
    private static readonly MacAddress LbMac = MacAddress.Parse("02:00:00:00:fe:01"), HostMac = MacAddress.Parse("02:00:00:00:01:01");

    private static byte[] ToHost(string src, string dst, ushort sport, ushort dport, uint seq, uint ack, TcpFlags flags) =>
        FB.Ether(HostMac, LbMac, EtherTypes.Ipv4, FB.Ipv4(src, dst, IpProtocol.Tcp, FB.Tcp(src, dst, sport, dport, seq, ack, flags)));
    private static byte[] FromHost(string src, string dst, ushort sport, ushort dport, uint seq, uint ack, TcpFlags flags) =>
        FB.Ether(LbMac, HostMac, EtherTypes.Ipv4, FB.Ipv4(src, dst, IpProtocol.Tcp, FB.Tcp(src, dst, sport, dport, seq, ack, flags), ttl: 63, id: 7));

    /// <summary>
    /// The capture on the load balancer's wire: two connections to the VIP with the backends' replies as
    /// they come back from the host (its source is the published port), then, after c1 is marked down,
    /// a segment of c1's connection and a third connection. Frames 6-7 are DSR's: the VIP kept, and the
    /// reply leaving the host from the VIP.
    /// </summary>
    internal static IReadOnlyList<(double Seconds, byte[] Frame)> Frames() =>
    [
        (0.000, ToHost(Client, Vip, 40001, 80, 1000, 0, TcpFlags.Syn)),
        (0.001, FromHost(Host, Client, 8080, 40001, 5000, 1001, TcpFlags.Syn | TcpFlags.Ack)),
        (0.002, ToHost(Client, Vip, 40001, 80, 1001, 5001, TcpFlags.Ack)),
        (0.003, ToHost(Client, Vip, 40002, 80, 2000, 0, TcpFlags.Syn)),
        (0.004, FromHost(Host, Client, 8081, 40002, 6000, 2001, TcpFlags.Syn | TcpFlags.Ack)),
        (3.000, ToHost(Client, Vip, 40001, 80, 1001, 5001, TcpFlags.Ack | TcpFlags.Psh)),
        (3.001, ToHost(Client, Vip, 40003, 80, 3000, 0, TcpFlags.Syn)),
    ];

    internal static IReadOnlyList<(double Seconds, byte[] Frame)> DsrFrames() =>
    [
        (0.000, ToHost(Client, Vip, 40001, 80, 1000, 0, TcpFlags.Syn)),
        (0.001, FromHost(Vip, Client, 80, 40001, 5000, 1001, TcpFlags.Syn | TcpFlags.Ack)),
    ];

    private static string WritePcap(IReadOnlyList<(double Seconds, byte[] Frame)> frames)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pktflow-docker-lb-{Environment.ProcessId}-{Guid.NewGuid():n}.pcap");
        using var w = new PcapWriter(File.Create(path), LinkType.Ethernet);
        foreach (var (s, f) in frames) w.Write(1_800_000_000_000_000_000L + (long)(s * 1e9), f);
        return path;
    }

    private static (List<PacketTrace> Traces, ReplayRunner Runner) Replay(string config, IReadOnlyList<(double, byte[])>? frames = null)
    {
        var pcap = WritePcap(frames ?? Frames());
        try
        {
            var runner = new ReplayRunner(new ReplayOptions
            {
                LabPath = Path.Combine(Dir, "docker-host.lab"), InjectAt = "eth0",
                LoadBalancer = LoadBalancerConfigReader.LoadFile(Path.Combine(Dir, config)),
            });
            return (runner.Run(pcap).OfType<TraceEvent>().Select(e => e.Trace).ToList(), runner);
        }
        finally { File.Delete(pcap); }
    }

    private static string Hops(PacketTrace t) => string.Join("\n", t.Path.Select(e => $"{e.Namespace}/{e.Device} {e.Stage} {e.Function} | {e.Detail?[..Math.Min(70, e.Detail.Length)]}"));

    private const string ToC1 = "(lb) lb_schedule_rr -> lb_xmit_nat -> (host) eth0 -> ip_rcv -> PREROUTING -> NAT -> route -> FORWARD -> POSTROUTING -> docker0 (bridge) -> bridge forward -> bridge OUTPUT -> bridge POSTROUTING -> veth1 (veth) -> (c1) eth0 -> ip_rcv -> PREROUTING -> route -> INPUT -> tcp_v4_rcv -> delivered (tcp_v4_rcv)";
    private const string FromC1 = "(c1) sent -> route -> OUTPUT -> POSTROUTING -> eth0 (veth) -> (host) veth1 -> veth1 (bridge port) -> bridge PREROUTING -> br_nf_pre_routing -> PREROUTING -> bridge INPUT -> up to the bridge -> docker0 -> ip_rcv -> ip_sabotage_in -> route -> FORWARD -> NAT -> POSTROUTING -> eth0 -> (lb) lb_reverse_nat -> out tcp 10.100.0.10:80";

    private static string[] Columns(PacketTrace t) => NamespaceColumns.Render(t).Split('\n')[0].Split('│').Select(c => c.Trim()).ToArray();

    /// <summary>The issue's path, hop by hop, both ways, and one column per namespace along it.</summary>
    [Fact]
    public void NatModeTakesTheIssuesPathToTheContainerAndBack()
    {
        var (t, _) = Replay("docker-nat.json");
        Assert.Equal(ToC1, NamespaceColumns.Line(t[0]));
        Assert.Equal(FromC1, NamespaceColumns.Line(t[1]));
        Assert.Equal(ToC1.Replace("veth1", "veth2").Replace("(c1)", "(c2)"), NamespaceColumns.Line(t[3]));
        Assert.Equal(FromC1.Replace("veth1", "veth2").Replace("(c1)", "(c2)"), NamespaceColumns.Line(t[4]));
        Assert.Equal(new[] { "lb", "host", "c1" }, Columns(t[0]));
        Assert.Equal(new[] { "c1", "host", "lb" }, Columns(t[1]));

        // the devices and stages in order: the load balancer's decision first, the container's socket last
        Assert.Equal(new[] { "lb/tcp 10.100.0.10:80", "host/eth0", "host/docker0", "host/veth1", "c1/eth0" },
            t[0].Path.Select(e => $"{e.Namespace}/{e.Device}").Distinct());
        var schedule = t[0].Path[0];
        Assert.Equal(("lb", "LbSchedule"), (schedule.Namespace, schedule.Stage));
        Assert.Contains("round robin", schedule.Detail);
        Assert.Contains("-> c1 (192.168.1.1:8080)", schedule.Detail);
        Assert.Contains(t[0].Path, e => e.Stage == "NfNatManip" && e.Device == "eth0" && e.Detail!.Contains("destination 192.168.1.1 -> 172.17.0.2 port 8080 -> 80"));
        // the container's MAC was learnt from its ARP reply: forwarded to veth1 only, not flooded
        Assert.Contains(t[0].Path, e => e.Stage == "BrDevXmit" && e.Detail!.Contains("learned on veth1"));
        Assert.DoesNotContain(t[0].Path, e => e.Stage == "BrFlood");
        Assert.Equal((Fate.Delivered, "c1"), (t[0].Fate, t[0].Path[^1].Namespace));
        Assert.StartsWith("socket tcp 0.0.0.0:80", t[0].Path[^1].Detail);

        // back: the host undoes the DNAT, then the load balancer its own NAT
        Assert.Contains(t[1].Path, e => e.Stage == "NfNatManip" && e.Device == "eth0" && e.Detail!.Contains("source 172.17.0.2 -> 192.168.1.1 port 80 -> 8080"));
        Assert.Equal(("lb", "LbReverseNat"), (t[1].Path[^1].Namespace, t[1].Path[^1].Stage));
        Assert.Equal((Fate.Forwarded, "lb/tcp 10.100.0.10:80"), (t[1].Fate, t[1].Egress));
    }

    [Fact]
    public void TheHostsConntrackHoldsEachConnectionWithItsContainer()
    {
        var (_, runner) = Replay("docker-nat.json");
        var ct = runner.States[0].Conntrack("host").Where(c => c.Protocol == "tcp")
            .Select(c => $"{c.Original} | {c.Reply} | {c.State} | {c.Status}").Order();
        Assert.Equal(new[]
        {
            "src=198.51.100.7 dst=192.168.1.1 sport=40001 dport=8080 | src=172.17.0.2 dst=198.51.100.7 sport=80 dport=40001 | ESTABLISHED | SEEN_REPLY|ASSURED|CONFIRMED|DST_NAT|SRC_NAT_DONE|DST_NAT_DONE",
            "src=198.51.100.7 dst=192.168.1.1 sport=40002 dport=8081 | src=172.17.0.3 dst=198.51.100.7 sport=80 dport=40002 | SYN_RECV | SEEN_REPLY|CONFIRMED|DST_NAT|SRC_NAT_DONE|DST_NAT_DONE",
            // the re-scheduled segment of 40001 (to 8081) is no SYN: no entry; 40003 is c2's new flow
            "src=198.51.100.7 dst=192.168.1.1 sport=40003 dport=8081 | src=172.17.0.3 dst=198.51.100.7 sport=80 dport=40003 | SYN_SENT | CONFIRMED|DST_NAT|SRC_NAT_DONE|DST_NAT_DONE",
        }, ct);
    }

    /// <summary>Health: c1 marked down at +2 s takes no new flow; its live flow is re-scheduled (docs/load-balancer.md).</summary>
    [Fact]
    public void ABackendMarkedDownGetsNoNewFlows()
    {
        var (t, _) = Replay("docker-nat.json");
        Assert.Contains("sticks to c1", t[2].Path[0].Detail); // before: the flow keeps its backend
        Assert.Equal("c1", t[2].Path[^1].Namespace);
        Assert.Equal("LbHealth", t[5].Path[0].Stage);
        Assert.Contains("c1 (192.168.1.1:8080) marked down", t[5].Path[0].Detail);
        Assert.Contains("its backend c1 (192.168.1.1:8080) is down: flow re-scheduled", t[5].Path[1].Detail);
        Assert.Equal("c2", t[5].Path[^1].Namespace);
        Assert.Contains("(1 up) -> c2", t[6].Path[0].Detail);
        Assert.Equal((Fate.Delivered, "c2"), (t[6].Fate, t[6].Path[^1].Namespace));
    }

    /// <summary>DSR: only the MAC is rewritten; the host holds the VIP, publishes its port 80 to c2, and the reply leaves straight for the client.</summary>
    [Fact]
    public void DsrModeKeepsTheVipAndTheReplyBypassesTheLoadBalancer()
    {
        var (t, runner) = Replay("docker-dsr.json", DsrFrames());
        Assert.Equal(ToC1.Replace("veth1", "veth2").Replace("(c1)", "(c2)").Replace("lb_xmit_nat", "lb_xmit_dsr"), NamespaceColumns.Line(t[0]));
        Assert.Contains(t[0].Path, e => e.Stage == "NfNatManip" && e.Detail!.Contains("destination 10.100.0.10 -> 172.17.0.3"));
        Assert.Equal("(c2) sent -> route -> OUTPUT -> POSTROUTING -> eth0 (veth) -> (host) veth2 -> veth2 (bridge port) -> bridge PREROUTING -> br_nf_pre_routing -> PREROUTING -> bridge INPUT -> up to the bridge -> docker0 -> ip_rcv -> ip_sabotage_in -> route -> FORWARD -> NAT -> POSTROUTING -> eth0 -> out eth0", NamespaceColumns.Line(t[1]));
        Assert.DoesNotContain(t[1].Path, e => e.Namespace == "lb");
        Assert.Equal(new[] { "c2", "host" }, Columns(t[1]));
        var ct = Assert.Single(runner.States[0].Conntrack("host"), c => c.Protocol == "tcp");
        Assert.Equal("src=198.51.100.7 dst=10.100.0.10 sport=40001 dport=80", ct.Original);
        Assert.Equal("src=172.17.0.3 dst=198.51.100.7 sport=80 dport=40001", ct.Reply);
    }

    /// <summary>
    /// GUE: the load balancer encapsulates to the host's FOU port; the host decapsulates (udp_rcv ->
    /// gue_udp_recv -> ipip_rcv on tun0) and the inner packet to the VIP takes the same DNAT to c2.
    /// </summary>
    [Fact]
    public void GueModeIsDecapsulatedOnTheHostBeforeTheSamePath()
    {
        var lab = File.ReadAllText(Path.Combine(Dir, "docker-host.lab")) + "\nip link add tun0 type ipip external\nip link set tun0 up\nip fou add port 6080 gue\n";
        var cfg = LoadBalancerConfigReader.Parse("""
            { "source": "192.168.1.254", "vips": [ { "address": "10.100.0.10", "port": 80, "mode": "gue",
              "backends": [ { "name": "host", "address": "192.168.1.1", "at": "host/eth0" } ] } ] }
            """, "gue.json");
        var pcap = WritePcap(DsrFrames().Take(1).ToList());
        try
        {
            var runner = new ReplayRunner(new ReplayOptions { Topology = PktFlow.Topology.Lab.LabLoader.Load(lab, "docker-gue.lab"), InjectAt = "eth0", LoadBalancer = cfg });
            var t = runner.Run(pcap).OfType<TraceEvent>().Select(e => e.Trace).Single();
            Assert.Equal("(lb) lb_schedule_maglev -> lb_xmit_gue -> (host) eth0 -> ip_rcv -> PREROUTING -> route -> INPUT -> udp_rcv -> gue_udp_recv -> ipip_rcv -> ip_tunnel_rcv -> ip_rcv -> PREROUTING -> NAT -> route -> FORWARD -> POSTROUTING -> docker0 (bridge) -> bridge forward -> bridge OUTPUT -> bridge POSTROUTING -> veth2 (veth) -> (c2) eth0 -> ip_rcv -> PREROUTING -> route -> INPUT -> tcp_v4_rcv -> delivered (tcp_v4_rcv)", NamespaceColumns.Line(t));
            // the inner packet is received on the tunnel device: routing and the DNAT see tun0
            Assert.Contains(t.Path, e => e.Stage == "NfNatManip" && e.Device == "tun0" && e.Detail!.Contains("destination 10.100.0.10 -> 172.17.0.3"));
            Assert.Equal(new[] { "lb", "host", "c2" }, Columns(t));
        }
        finally { File.Delete(pcap); }
    }

    /// <summary>The Pester test (tests/Module/PktFlow.LoadBalancer.Tests.ps1) reads these frames from a file: it must be what they make.</summary>
    [Fact]
    public void TheCommittedCaptureHoldsTheseFrames()
    {
        var made = WritePcap(Frames());
        try
        {
            if (Environment.GetEnvironmentVariable("PKTFLOW_WRITE_CAPTURES") == "1") File.Copy(made, Pcap, overwrite: true);
            Assert.Equal(File.ReadAllBytes(made), File.ReadAllBytes(Pcap));
        }
        finally { File.Delete(made); }
    }
}
