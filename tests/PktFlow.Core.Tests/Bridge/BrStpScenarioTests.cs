using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Bridge;

/// <summary>
/// tests/scenarios/bridge-stp (kernel STP recorded on 6.18): every frame agrees with the kernel, the
/// traces name the port state at each frame and the STP changes the capture's clock brought, and the
/// bridge's own BPDUs are recognised with the contents the model's STP state gives them.
/// </summary>
public class BrStpScenarioTests(ITestOutputHelper output)
{
    private static readonly Lazy<ScenarioJudgement> Judged = new(() => ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "bridge-stp")));

    private static string Details(FrameJudgement f, string function) =>
        string.Join(" | ", f.Trace.Path.Where(e => e.Function == function).Select(e => e.Detail));

    private static FrameJudgement Frame(string summaryStart, int nth = 0) =>
        Judged.Value.Frames.Where(f => f.Direction == "in" && f.Summary.StartsWith(summaryStart, StringComparison.Ordinal)).ElementAt(nth);

    [Fact]
    public void EveryFrameAgreesAndTheTracesSayWhy()
    {
        var j = Judged.Value;
        foreach (var f in j.Frames)
        {
            output.WriteLine($"frame {f.Frame} {f.Direction} {f.Summary}: {f.Trace.Fate} {f.Trace.Reason} | kernel {f.Kernel}");
            foreach (var e in f.Trace.Path.Where(e => e.Function.Contains("br_", StringComparison.Ordinal)))
                output.WriteLine($"    {e.Device} {e.Function}: {e.Detail}");
        }
        Assert.Equal(j.Judged, j.Agreed);

        // h1's first frame: every port listening since the lab ended
        var first = Frame("IP 10.0.0.1.1000 > 10.0.0.2.9");
        Assert.Contains("port1 listening (designated port)", Details(first, "br_stp_timer"));
        Assert.Contains("port1 is in listening state", Details(first, "br_handle_frame"));
        // the next one while learning: learned, then dropped
        var learning = Frame("IP 10.0.0.1.1000 > 10.0.0.2.9", 1);
        Assert.Contains("port1 is a port of br0 (learning state)", Details(learning, "br_handle_frame"));
        Assert.Contains("02:00:00:00:01:02 learned on port1; port1 is in learning state", Details(learning, "br_handle_frame_finish"));
        // h2 -> h1 once forwarding: the address learned while learning sends it to port1 only
        var toH1 = Frame("IP 10.0.0.2.1000 > 10.0.0.1.9");
        Assert.Contains("port2 is a port of br0 (forwarding state)", Details(toH1, "br_handle_frame"));
        Assert.Contains("02:00:00:00:01:02 is learned on port1", Details(toH1, "br_handle_frame_finish"));

        // the BPDUs: an inferior one answered, a superior one on port2 (root port), one on port1 (blocking)
        Assert.Contains("br_reply", Details(Frame("STP 802.1d, Config, Flags [none], bridge-id f000"), "br_stp_rcv"));
        Assert.Contains("port2 is the root port", Details(Frame("STP 802.1d, Config, Flags [none], bridge-id 1000"), "br_stp_rcv"));
        Assert.Contains("port1 blocking", Details(Frame("STP 802.1d, Config, Flags [none], bridge-id 1000", 1), "br_stp_rcv"));
        Assert.Contains("port1 is in blocking state", Details(Frame("IP 10.0.0.1.1000 > 10.0.0.2.9", 2), "br_handle_frame"));
        var aged = Frame("IP 10.0.0.1.1000 > 10.0.0.2.9", 3);
        Assert.Contains("port1 is in listening state", Details(aged, "br_handle_frame"));

        // the changes, each reported with the first frame after it, in the order the timers fired
        var changes = string.Join("; ", j.Frames.Select(f => Details(f, "br_stp_timer")).Where(d => d.Length > 0));
        Assert.Matches("port1 listening.*port1 learning.*port1 forwarding.*aged out.*port1 listening.*port1 learning.*port1 forwarding", changes);
        Assert.Contains("topology change: fdb entries idle for forward_delay (15 s) are forgotten", changes);

        // every BPDU the bridge sent carries what the model's STP state says (root, cost, bridge, port)
        var own = j.Frames.Where(f => f.Direction == "out" && f.Summary.StartsWith("STP", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(own);
        Assert.All(own, f => Assert.Matches("as the model's STP state has it|br_transmit_tcn: a topology change notification on the root port", Details(f, "br_send_bpdu")));
    }
}
