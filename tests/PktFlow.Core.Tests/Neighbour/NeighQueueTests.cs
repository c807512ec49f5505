using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Replay;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Neighbour;

/// <summary>
/// Packets whose next hop never answers (Neighbour/NeighQueue): they wait in the entry's queue until
/// (mcast_solicit + app_solicit) x retrans_time have passed, then neigh_invalidate drops them; a full
/// queue pushes out its oldest packet. Pinned by the neigh-unresolved scenario, recorded on Linux.
/// </summary>
public class NeighQueueTests(ITestOutputHelper output)
{
    private const string Lab = """
        ip netns add client
        ip netns add server
        ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
        ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
        sysctl -w net.ipv4.ip_forward=1
        sysctl -w net.ipv4.neigh.eth1.mcast_solicit=2 net.ipv4.neigh.eth1.retrans_time_ms=400
        ip addr add 10.1.0.1/24 dev eth0
        ip addr add 10.2.0.1/24 dev eth1
        ip link set eth0 up
        ip link set eth1 up
        ip route add 10.9.1.0/24 via 10.2.0.99
        ip -n client addr add 10.1.0.2/24 dev eth0
        ip -n client link set eth0 up
        ip -n server addr add 10.2.0.2/24 dev eth0
        ip -n server link set eth0 up
        """;

    private static PacketTrace Send(DatapathEngine engine, long ms, ushort id = 1)
    {
        var s = IpAddr.Parse("10.1.0.2"); var d = IpAddr.Parse("10.9.1.1");
        var f = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:01:01"), MacAddress.Parse("02:00:00:00:01:02"), 0x0800,
            FrameBuilder.Ipv4(s, d, 17, FrameBuilder.Udp(s, d, 40000, id), 64));
        return engine.Process(new CaptureFrame(id, ms * 1_000_000, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }

    private static DatapathEngine Engine(string extra = "") => new(LabLoader.Load(Lab + "\n" + extra, "n.lab"));

    [Fact]
    public void QueuedPacketsFailTogetherAfterTheSolicitations()
    {
        var engine = Engine();
        var first = Send(engine, 0, 1);
        var second = Send(engine, 300, 2);
        Assert.Equal(Fate.Dropped, first.Fate);
        Assert.Equal("NEIGH_FAILED", first.Later!.Reason);
        // 2 multicast solicitations 400 ms apart: the entry fails 800 ms after the first packet, for both
        Assert.Equal(800_000_000, first.Later.AtNs);
        Assert.Equal(800_000_000, second.Later!.AtNs);
        Assert.Contains(first.Generated, g => g.StartsWith("2 ARP request(s) for 10.2.0.99 on eth1, 400 ms apart"));
        Assert.Contains(second.Path, e => e.Function == "__neigh_event_send" && e.Detail!.Contains("2 waiting"));
    }

    [Fact]
    public void TheFirstPacketCarriesTheBroadcastProbesAsChildren()
    {
        var engine = Engine();
        var first = Send(engine, 0, 1);
        var arps = first.GeneratedTraces.Where(c => c.GeneratedBy == "arp_solicit").ToList();
        // a forwarded packet's source is not local: the probe is from eth1's own address
        Assert.Equal(new[] { "ARP request 1 of 2 on eth1, +0 ms: who-has 10.2.0.99 tell 10.2.0.1", "ARP request 2 of 2 on eth1, +400 ms: who-has 10.2.0.99 tell 10.2.0.1" },
            arps.Select(a => a.Path[0].Detail));
        Assert.All(arps, a => Assert.Contains(a.Path, e => e.Function == "veth_xmit" && e.Detail == "eth1 -> server/eth0"));
        // the second packet joins the queue: no new probes
        Assert.DoesNotContain(Send(engine, 100, 2).GeneratedTraces, c => c.GeneratedBy == "arp_solicit");
    }

    [Fact]
    public void APacketAfterTheFailureStartsResolutionAgain()
    {
        var engine = Engine();
        Send(engine, 0, 1);
        var late = Send(engine, 900, 2);
        Assert.Equal(1_700_000_000, late.Later!.AtNs);
        Assert.Contains(late.Generated, g => g.Contains("resolution starts again"));
    }

    [Fact]
    public void AFullQueuePushesOutItsOldestPacket()
    {
        var engine = Engine("sysctl -w net.ipv4.neigh.eth1.unres_qlen_bytes=1");
        var first = Send(engine, 0, 1);
        Assert.Equal("NEIGH_FAILED", first.Later!.Reason);
        var second = Send(engine, 100, 2);
        // decided by the later packet: the first was pushed out, without an ICMP error
        Assert.Equal("NEIGH_QUEUEFULL", first.Later.Reason);
        Assert.Equal(100_000_000, first.Later.AtNs);
        Assert.Equal("NEIGH_FAILED", second.Later!.Reason);
    }

    [Fact]
    public void NoSolicitationsAllowedDropsAtOnce()
    {
        var engine = Engine("sysctl -w net.ipv4.neigh.eth1.mcast_solicit=0");
        var t = Send(engine, 0, 1);
        Assert.Equal("NEIGH_FAILED", t.Reason);
        Assert.Equal(0, t.Later!.AtNs);
        Assert.False(t.Later.Answered);
        Assert.Empty(t.GeneratedTraces);
    }

    [Fact]
    public void UnresQlenCountsFullSizedFrames()
    {
        // unres_qlen 1 holds one full frame's truesize: two small packets fit, the default holds many
        var engine = Engine("sysctl -w net.ipv4.neigh.eth1.unres_qlen=1");
        var first = Send(engine, 0, 1);
        Send(engine, 10, 2);
        Assert.Equal("NEIGH_FAILED", first.Later!.Reason);
    }

    /// <summary>
    /// The ARP and neighbour solicitation probes the model builds for the ingress capture are, byte for byte and in order, the
    /// ones the egress capture of the same scenario (neigh-unresolved-egress) shows leaving eth1.
    /// </summary>
    [Fact]
    public void TheProbesAreTheOnesTheEgressCaptureShows()
    {
        var scenarios = Path.Combine(RepoPaths.Root, "tests", "scenarios");
        var runner = new ReplayRunner(new ReplayOptions { Topology = LabLoader.LoadFile(Path.Combine(scenarios, "neigh-unresolved", "lab.sh")), InjectAt = "host/eth0" });
        var built = runner.Run(Path.Combine(scenarios, "neigh-unresolved", "wire.pcap")).OfType<TraceEvent>()
            .SelectMany(e => e.Trace.GeneratedTraces).Where(c => c.GeneratedBy is "arp_solicit" or "ndisc_solicit" && c.Ingress == "host/eth1")
            .Select(c => Convert.ToHexString(c.GeneratedNetwork!)).ToList();
        using var reader = CaptureReader.Open(Path.Combine(scenarios, "neigh-unresolved-egress", "wire.pcap"));
        var captured = new List<string>();
        while (reader.Read(out var f, out _) == CaptureReadStatus.Frame) captured.Add(Convert.ToHexString(f.Data.Span[14..]));
        // two resolutions of 10.2.0.99 and one of 2001:db8:2::99, two probes each
        Assert.Equal(6, captured.Count);
        Assert.Equal(captured, built);
    }

    [Fact]
    public void TheRecordedScenarioAgreesWithTheKernel()
    {
        var dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", "neigh-unresolved");
        var j = ScenarioJudge.Judge(dir);
        foreach (var f in j.Frames.Where(f => f.Judged && !f.Agrees)) output.WriteLine($"frame {f.Frame}: {string.Join("; ", f.Differences)}");
        Assert.True(j.Judged > 20);
        Assert.Equal(j.Judged, j.Agreed);
        // every ICMP error the router sent is recognised as the answer to a queued packet that failed
        var answers = j.Frames.Where(f => f.Trace.Summary.Contains("unreachable")).ToList();
        Assert.Equal(3 + 1 + 1 + 2, answers.Count);
        foreach (var a in answers)
        {
            var cause = j.Frames.Single(f => f.Frame == a.Trace.CausedBy).Trace;
            Assert.Equal(Fate.Dropped, cause.Fate);
            Assert.True(cause.Later!.Answered, $"frame {cause.Frame}");
        }
        // the echo requests pushed out of eth2's one-packet queue end with NEIGH_QUEUEFULL, unanswered
        Assert.Equal(2, j.Frames.Count(f => f.Trace.Later is { Reason: "NEIGH_QUEUEFULL", Answered: false }));
    }
}
