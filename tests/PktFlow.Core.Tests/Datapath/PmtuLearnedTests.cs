using PktFlow.Judge;
using PktFlow.Testing;
using PktFlow.Topology.Lab;

namespace PktFlow.Tests.Datapath;

/// <summary>
/// tests/scenarios/pmtu-learned replayed: what the traces say of the path MTU the host learned from
/// the ICMP errors it received (the judge checks the frames; these check the words).
/// </summary>
public class PmtuLearnedTests
{
    private static string Dir => Path.Combine(RepoPaths.Root, "tests", "scenarios", "pmtu-learned");

    private static Dictionary<long, PacketTrace> Traces()
    {
        var record = KernelRecord.Load(Path.Combine(Dir, "kernel.json"));
        var runner = new PktFlow.Replay.ReplayRunner(new PktFlow.Replay.ReplayOptions { Topology = LabLoader.LoadFile(Path.Combine(Dir, "lab.sh")), InjectAt = record.Wire });
        return runner.Run(Path.Combine(Dir, "wire.pcap")).OfType<PktFlow.Replay.TraceEvent>().Select(e => e.Trace).ToDictionary(t => t.Frame);
    }

    private static string Stage(PacketTrace t, string stage) => Assert.Single(t.Path, e => e.Stage == stage && e.Namespace == "host").Detail;

    [Fact]
    public void TheErrorsSayWhatTheHostLearned()
    {
        var t = Traces();
        Assert.Contains("the ping socket that sent echo request id", Stage(t[2], "IcmpUnreach"));
        // the model learned it already when it followed frame 1 into r and r's answer back (frame 2 is that answer)
        Assert.Contains("path MTU 1280 to 10.3.0.2", Stage(t[2], "IcmpUnreach"));
        Assert.Contains("udp_err finds no socket", Stage(t[9], "IcmpUnreach"));
        Assert.Contains("learned: path MTU 1300 to 10.4.0.4", Stage(t[10], "IcmpUnreach"));
        Assert.Contains("clamped and locked", Stage(t[11], "IcmpUnreach"));
        Assert.Contains("locked mtu: ignored", Stage(t[12], "IcmpUnreach"));
        Assert.Contains("icmpv6_err -> ip6_update_pmtu", Stage(t[28], "Icmpv6Notify"));
        Assert.Contains("udpv6_err finds no socket", Stage(t[32], "Icmpv6Notify"));
        Assert.Contains("below IPV6_MIN_MTU 1280: ignored", Stage(t[34], "Icmpv6Notify"));
    }

    [Fact]
    public void LaterOutputUsesTheLearnedMtuUntilItExpires()
    {
        var t = Traces();
        // the echo reply to 10.3.0.2 (frames 4 and 5): cut at the learned 1280
        var reply = Assert.Single(t[3].GeneratedTraces);
        Assert.Contains("path MTU 1280 learned from an ICMP error", Stage(reply, "RouteOutput"));
        Assert.Contains("cut at MTU 1280", Stage(reply, "IpDoFragment"));
        // the host's own -M want ping, fragmented by the host: each fragment fits
        Assert.Contains("fit the learned path MTU 1280", Stage(t[6], "IpFinishOutput"));
        var clamped = Assert.Single(t[20].GeneratedTraces);
        Assert.Contains("(below min_pmtu: locked)", Stage(clamped, "RouteOutput"));
        Assert.Contains("cut at MTU 552", Stage(clamped, "IpDoFragment"));
        Assert.Contains("path MTU 1280 learned", Stage(Assert.Single(t[29].GeneratedTraces), "RouteOutput"));
        // 16 s later (mtu_expires 15): gone, the replies leave whole
        var late = Assert.Single(t[42].GeneratedTraces);
        Assert.DoesNotContain("learned", Stage(late, "RouteOutput"));
        Assert.DoesNotContain(late.Path, e => e.Stage == "IpDoFragment" && e.Namespace == "host");
        Assert.DoesNotContain("learned", Stage(Assert.Single(t[44].GeneratedTraces), "RouteOutput"));
    }

    /// <summary>pmtu-forward-use: with net.ipv4.ip_forward_use_pmtu = 1 the router's learned path MTU decides ip_forward.</summary>
    [Fact]
    public void ARouterUsingItsPathMtuForForwardingSaysSo()
    {
        var dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", "pmtu-forward-use");
        var record = KernelRecord.Load(Path.Combine(dir, "kernel.json"));
        var runner = new PktFlow.Replay.ReplayRunner(new PktFlow.Replay.ReplayOptions { Topology = LabLoader.LoadFile(Path.Combine(dir, "lab.sh")), InjectAt = record.Wire });
        var t = runner.Run(Path.Combine(dir, "wire.pcap")).OfType<PktFlow.Replay.TraceEvent>().Select(e => e.Trace).ToDictionary(x => x.Frame);
        var drop = Assert.Single(t[3].Path, e => e.Stage == "IpForward" && e.Namespace == "host");
        Assert.Contains("path MTU 1280 learned from an ICMP error", drop.Detail);
        Assert.Contains("ip_forward_use_pmtu = 1", drop.Detail);
        Assert.Equal("PKT_TOO_BIG", t[3].Reason);
        Assert.DoesNotContain(t[5].Path, e => e.Stage == "IpForward" && e.Namespace == "host" && e.Detail.Contains("learned", StringComparison.Ordinal));
    }
}
