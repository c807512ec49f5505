using PktFlow.Judge;
using PktFlow.Render;
using PktFlow.Replay;
using PktFlow.Testing;
using PktFlow.Topology.Lab;

namespace PktFlow.Tests.Render;

/// <summary>Show-PacketFlow's multi-namespace drawing (one column per namespace), pinned on recorded scenarios.</summary>
public class NamespaceColumnsTests
{
    private static Dictionary<long, PacketTrace> Replay(string name)
    {
        var dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", name);
        var record = KernelRecord.Load(Path.Combine(dir, "kernel.json"));
        var runner = new ReplayRunner(new ReplayOptions { Topology = LabLoader.LoadFile(Path.Combine(dir, "lab.sh")), InjectAt = record.Wire });
        return runner.Run(Path.Combine(dir, "wire.pcap")).OfType<TraceEvent>().Select(e => e.Trace).ToDictionary(t => t.Frame);
    }

    /// <summary>docker-bridge-c2c frame 3: c2's ping bridged by docker0 (br_netfilter) to c1, as one line.</summary>
    [Fact]
    public void ABridgedPacketReadsAcrossNamespaces()
    {
        var t = Replay("docker-bridge-c2c")[3];
        Assert.Equal("(host) veth2 -> veth2 (bridge port) -> bridge PREROUTING -> br_nf_pre_routing -> PREROUTING -> bridge forward -> bridge FORWARD -> FORWARD -> bridge POSTROUTING -> POSTROUTING -> veth1 (veth) -> (c1) eth0 -> ip_rcv -> PREROUTING -> route -> INPUT -> icmp_echo -> delivered (icmp_echo)", NamespaceColumns.Line(t));
    }

    /// <summary>
    /// ttl-expiry frame 7: a ping routed by the host and r2 to the server, and the server's echo reply
    /// (its child trace) routed back through r2 and the host to the client: four columns.
    /// </summary>
    [Fact]
    public void ARoutedPacketAndItsAnswerAreDrawnOneColumnPerNamespace()
    {
        var t = Replay("ttl-expiry")[7];
        Assert.Equal("(host) eth0 -> ip_rcv -> PREROUTING -> route -> FORWARD -> POSTROUTING -> eth1 (veth) -> (r2) eth0 -> ip_rcv -> PREROUTING -> route -> FORWARD -> POSTROUTING -> eth1 (veth) -> (server) eth0 -> ip_rcv -> PREROUTING -> route -> INPUT -> icmp_echo -> delivered (icmp_echo)", NamespaceColumns.Line(t));
        var expected = """
        host          │ r2            │ server                  │ client
        ──────────────┼───────────────┼─────────────────────────┼───────────────────────
        frame 7
          eth0        │               │                         │
          ip_rcv      │               │                         │
          PREROUTING  │               │                         │
          route       │               │                         │
          FORWARD     │               │                         │
          POSTROUTING │               │                         │
          eth1 (veth) │               │                         │
                      │ → eth0        │                         │
                      │   ip_rcv      │                         │
                      │   PREROUTING  │                         │
                      │   route       │                         │
                      │   FORWARD     │                         │
                      │   POSTROUTING │                         │
                      │   eth1 (veth) │                         │
                      │               │ → eth0                  │
                      │               │   ip_rcv                │
                      │               │   PREROUTING            │
                      │               │   route                 │
                      │               │   INPUT                 │
                      │               │   icmp_echo             │
                      │               │   delivered (icmp_echo) │
        ↩ icmp_reply: IP 10.3.0.2 > 10.1.0.2: ICMP echo reply, id 22186, seq 1, length 64
                      │               │   icmp_reply            │
                      │               │   route                 │
                      │               │   OUTPUT                │
                      │               │   POSTROUTING           │
                      │               │   eth0 (veth)           │
                      │ → eth1        │                         │
                      │   ip_rcv      │                         │
                      │   PREROUTING  │                         │
                      │   route       │                         │
                      │   FORWARD     │                         │
                      │   POSTROUTING │                         │
                      │   eth0 (veth) │                         │
        → eth1        │               │                         │
          ip_rcv      │               │                         │
          PREROUTING  │               │                         │
          route       │               │                         │
          FORWARD     │               │                         │
          POSTROUTING │               │                         │
          eth0 (veth) │               │                         │
                      │               │                         │ → eth0
                      │               │                         │   ip_rcv
                      │               │                         │   PREROUTING
                      │               │                         │   route
                      │               │                         │   INPUT
                      │               │                         │   icmp_rcv
                      │               │                         │   delivered (icmp_rcv)
        """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), NamespaceColumns.Render(t).TrimEnd().ReplaceLineEndings("\n"));
        var shown = PathDiagram.Render(t);
        Assert.Contains("↩ icmp_reply: IP 10.3.0.2 > 10.1.0.2: ICMP echo reply", shown);
    }
}
