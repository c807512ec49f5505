using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Testing;
using PktFlow.Tests.Judge;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Offload;

/// <summary>
/// tests/scenarios/gso-forward (recorded on 6.18): GSO super-packets from the client arrive whole on
/// the router's eth0 and meet a 1400-byte link. Every frame the recorder tied to the kernel agrees,
/// and the decisions are the kernel's for the reasons it has.
/// </summary>
public class GsoForwardScenarioTests(ITestOutputHelper output)
{
    private static string Dir => Path.Combine(RepoPaths.Root, "tests", "scenarios", "gso-forward");
    private static readonly Lazy<ScenarioJudgement> J = new(() => ScenarioJudge.Judge(Dir));

    private static FrameJudgement Frame(int n) => J.Value.Frames.Single(f => f.Frame == n);

    private static string Detail(FrameJudgement f, string stage) =>
        f.Trace.Path.First(e => e.Namespace == "host" && e.Stage == stage).Detail ?? "";

    [Fact]
    public void EveryJudgedFrameAgrees()
    {
        foreach (var f in J.Value.Frames.Where(f => f.Judged && !f.Agrees)) output.WriteLine($"frame {f.Frame}: {string.Join("; ", f.Differences)}");
        Assert.True(J.Value.Judged >= 50);
        Assert.Equal(J.Value.Judged, J.Value.Agreed);
    }

    [Fact]
    public void UdpGsoWithDfClearIsSegmentedThenFragmented()
    {
        var f = Frame(3);
        Assert.Contains("inferred gso_size 1472 from eth0's MTU 1500", Detail(f, "IpRcv"));
        Assert.Contains("segments of 1500 bytes > MTU 1400: skb_gso_segment cuts 4 segments", Detail(f, "IpFinishOutputGso"));
        Assert.Equal(4, f.Trace.Path.Count(e => e.Namespace == "host" && e.Stage == "IpDoFragment"));
        Assert.Equal(8, f.Trace.Path.Count(e => e.Namespace == "host" && e.Stage == "IpFragment"));
        Assert.Equal(Fate.Delivered, f.Trace.Fate); // the server reassembles the last segment's fragments
    }

    [Fact]
    public void UdpGsoWithDfSetGetsFragNeeded()
    {
        var f = Frame(4);
        Assert.Equal(Fate.Dropped, f.Trace.Fate);
        Assert.Equal("PKT_TOO_BIG", f.Trace.Reason);
        Assert.Contains("segments of 1500 bytes", Detail(f, "IpForward"));
    }

    [Fact]
    public void TcpSegmentSizeFollowsTheSynMssThenTheLearntPathMtu()
    {
        var first = Frame(9);
        Assert.Equal("PKT_TOO_BIG", first.Trace.Reason);
        Assert.Contains("inferred gso_size 1448 from eth0's MTU 1500 less 12 bytes of TCP options", Detail(first, "IpRcv"));
        var again = Frame(13); // the same bytes again, after the ICMP error: the client now cuts for 1400
        Assert.Equal(Fate.Delivered, again.Trace.Fate);
        Assert.Contains("inferred gso_size 1348 from path MTU 1400 learnt from an ICMP error to 10.1.0.2", Detail(again, "IpRcv"));
        Assert.Contains("segments of 1400 bytes fit MTU 1400; sent whole", Detail(again, "IpFinishOutputGso"));
    }

    /// <summary>
    /// The UDP_SEGMENT send with DF clear (frame 3) as the router sent it on eth1: four segments, each
    /// in two fragments. host-eth1-out.pcap holds those eight frames from the recorder's tcpdump -i any
    /// (kept with --keep-work, cooked v2 rewritten as Ethernet); the model's are the same bytes from the
    /// IP header on: identification counting up per segment, offsets, MF, UDP headers and checksums.
    /// </summary>
    [Fact]
    public void TheSegmentsAndFragmentsTheModelSendsAreTheKernels()
    {
        var sent = RecordedTransmits.Replay(Dir, "host/eth0", "10.1.0.2",
            (ns, dev, frame) => ns == "host" && dev == "eth1" && frame.Length > 14 && frame[12] == 0x08 && frame[13] == 0, frames: 3)
            .Sent.Select(s => s.Frame).ToList();
        var kernel = RecordedTransmits.Kernel(Path.Combine(Dir, "host-eth1-out.pcap"));
        Assert.Equal(8, kernel.Count);
        Assert.Equal(kernel.Count, sent.Count);
        for (int i = 0; i < kernel.Count; i++)
            Assert.True(kernel[i].AsSpan(14).SequenceEqual(sent[i].AsSpan(14)),
                $"frame {i + 1}: kernel {Convert.ToHexString(kernel[i].AsSpan(14, 36))}, model {Convert.ToHexString(sent[i].AsSpan(14, Math.Min(36, sent[i].Length - 14)))}");
    }

    /// <summary>
    /// The same capture seen from the client's end of the link (its eth0 is the wire's veth peer): the
    /// super-frames are the client's own TSO/UDP_SEGMENT sends, each inferred on its output path
    /// (its eth0 MTU, the server's SYN MSS, the path MTU the router's ICMP error taught it) and sent
    /// whole; the router then decides as it does for the recorded capture point.
    /// </summary>
    [Fact]
    public void FromTheSendersSideTheSuperFramesLeaveWholeAndTheRouterDecidesAlike()
    {
        var runner = new PktFlow.Replay.ReplayRunner(new PktFlow.Replay.ReplayOptions { Topology = LabLoader.LoadFile(Path.Combine(Dir, "lab.sh")), InjectAt = "client/eth0" });
        var traces = runner.Run(Path.Combine(Dir, "wire.pcap")).OfType<PktFlow.Replay.TraceEvent>().Select(e => e.Trace).ToDictionary(t => t.Frame);
        string Sent(long frame) => traces[frame].Path.First(e => e.Namespace == "client" && e.Stage == "IpFinishOutputGso").Detail!;
        Assert.Contains("gso_size 1472", Sent(3));
        Assert.Contains("segments of 1500 bytes fit MTU 1500; sent whole", Sent(3));
        Assert.Contains(traces[3].Path, e => e.Namespace == "host" && e.Stage == "IpFinishOutputGso" && e.Detail!.Contains("cuts 4 segments"));
        Assert.Contains("gso_size 1448", Sent(9));
        Assert.Equal("PKT_TOO_BIG", traces[9].Reason);
        Assert.Contains("gso_size 1348 from path MTU 1400", Sent(13));
        Assert.Contains(traces[13].Path, e => e.Namespace == "host" && e.Stage == "IpFinishOutputGso" && e.Detail!.Contains("sent whole"));
        Assert.Equal(Fate.Delivered, traces[13].Fate);
    }
}
