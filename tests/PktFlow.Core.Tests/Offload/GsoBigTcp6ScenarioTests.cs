using PktFlow.Judge;
using PktFlow.Replay;
using PktFlow.Testing;
using PktFlow.Topology.Lab;

namespace PktFlow.Tests.Offload;

/// <summary>
/// tests/scenarios/gso-bigtcp6 (recorded on 6.18): IPv6 BIG TCP through a router with MTU 9000
/// everywhere. The judge compares every frame with the kernel's record (jumbograms included: their payload
/// length is 0, the hop-by-hop jumbo option holds it); this checks the answers the capture shows for
/// them: one ICMPv6 packet too big (mtu 9000) per jumbogram, nothing for the smaller super-packets.
/// </summary>
public class GsoBigTcp6ScenarioTests
{
    private static string Dir => Path.Combine(RepoPaths.Root, "tests", "scenarios", "gso-bigtcp6");

    [Fact]
    public void EveryJumbogramGetsPacketTooBigAndEveryOtherSuperPacketIsForwarded()
    {
        var record = KernelRecord.Load(Path.Combine(Dir, "kernel.json"));
        var runner = new ReplayRunner(new ReplayOptions { Topology = LabLoader.LoadFile(Path.Combine(Dir, "lab.sh")), InjectAt = record.Wire });
        var traces = runner.Run(Path.Combine(Dir, "wire.pcap")).OfType<TraceEvent>().Select(e => e.Trace).ToList();
        var jumbo = traces.Where(t => t.Summary.Contains("HBH", StringComparison.Ordinal)).ToList();
        int tooBig = traces.Count(t => t.Summary.Contains("packet too big, mtu 9000", StringComparison.Ordinal));
        Assert.True(jumbo.Count >= 10);
        Assert.Equal(tooBig, jumbo.Count);
        Assert.All(jumbo, t =>
        {
            Assert.Equal(PktFlow.Fate.Dropped, t.Fate);
            Assert.Equal("PKT_TOO_BIG", t.Reason);
            Assert.Contains(t.Path, e => e.Stage == "Ipv6Rcv" && e.Detail!.Contains("gso_size 8928") && e.Detail.Contains("hop-by-hop jumbo header counts"));
        });
        var super = traces.Where(t => !t.Summary.Contains("HBH", StringComparison.Ordinal) && t.Path.Any(e => e.Stage == "Ip6FinishOutputGso")).ToList();
        Assert.NotEmpty(super);
        Assert.All(super, t => Assert.Contains(t.Path, e => e.Stage == "Ip6FinishOutputGso" && e.Detail!.Contains("fit MTU 9000; sent whole")));
    }
}
