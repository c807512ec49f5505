using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Datapath;

/// <summary>
/// Observe mode, a packet seen leaving after source NAT whose sender several namespaces could be: the
/// connected sockets the configuration declares (traffic.sh's client commands here) decide, and
/// without them the trace says it cannot tell.
/// </summary>
public class SnatSenderTests
{
    private static string Dir(string name) => Path.Combine(RepoPaths.Root, "tests", "scenarios", name);

    private static FrameJudgement Frame(ScenarioJudgement j, int n) => j.Frames.Single(f => f.Frame == n);

    /// <summary>docker-published-port with a traffic script of its own: c2's connection to the client on eth0's LAN.</summary>
    private static ScenarioJudgement Docker(string? traffic)
    {
        var lab = Path.Combine(Dir("docker-published-port"), "lab.sh");
        var topology = traffic is null ? LabLoader.LoadFile(lab) : LabLoader.Load(File.ReadAllText(lab), lab, traffic, "traffic.sh");
        return ScenarioJudge.Judge(Dir("docker-published-port"), topology);
    }

    [Fact]
    public void TheNamespaceHoldingTheSocketSentIt()
    {
        var j = ScenarioJudge.Judge(Dir("docker-published-port"));
        var f = Frame(j, 13);
        Assert.Equal("c2", f.Trace.Path[0].Namespace);
        Assert.Contains("c1 and c2 would each send a packet that leaves here like this; c2 has a socket tcp 172.17.0.3:42001 -> 192.168.1.2:9000 (", f.Trace.Path[0].Detail);
        Assert.Contains("traffic.sh:8: socat)", f.Trace.Path[0].Detail);
        Assert.All(j.Frames.Where(x => x.Frame is >= 13 and <= 20), x => Assert.True(x.Agrees, $"frame {x.Frame}: {string.Join("; ", x.Differences)}"));
    }

    [Fact]
    public void WithoutSocketsTheTraceSaysItCannotTell()
    {
        var f = Frame(Docker(null), 13);
        Assert.Equal("host", f.Trace.Path[0].Namespace);
        Assert.Contains(f.Trace.Notes, n => n.Contains("c1 and c2 would each send a packet that leaves here like this, and none holds a declared socket for it, so the model cannot tell which", StringComparison.Ordinal));
        Assert.False(f.Agrees);
    }

    [Fact]
    public void TheSocketDecidesNotTheNamespaceOrder()
    {
        // the same flow declared in c1 instead: the model follows the declaration (and so disagrees with the kernel)
        var f = Frame(Docker("ip netns exec c1 socat -u -T 2 TCP:192.168.1.2:9000,connect-timeout=2,sourceport=42001 -\n"), 13);
        Assert.Equal("c1", f.Trace.Path[0].Namespace);
        Assert.Contains("c1 has a socket tcp 172.17.0.2:42001 -> 192.168.1.2:9000", f.Trace.Path[0].Detail);
        // a socket for another flow (another port) decides nothing
        var other = Frame(Docker("ip netns exec c2 socat -u -T 2 TCP:192.168.1.2:9000,connect-timeout=2,sourceport=42002 -\n"), 13);
        Assert.Equal("host", other.Trace.Path[0].Namespace);
    }

    [Fact]
    public void SeveralHoldersWithoutAnOrderStayAmbiguous()
    {
        var topology = ScenarioJudge.LoadLab(Dir("docker-published-port"));
        var engine = new DatapathEngine(topology) { Mode = ReplayMode.Observe };
        NetNamespace c1 = topology.Namespace("c1")!, c2 = topology.Namespace("c2")!;
        IpAddr Ip(string s) => IpAddr.Parse(s);
        ClientSocket Held(string local, int? order) => new(IpProtocol.Tcp, Ip(local), 42001, Ip("192.168.1.2"), 9000, $"{local}/ss-connected.txt:1: ss") { Order = order };
        DatapathEngine.SnatSender Candidate(NetNamespace ns, string local, ClientSocket? s) =>
            new(ns, new ConntrackTuple(Ip(local), Ip("192.168.1.2"), IpProtocol.Tcp, 42001, 9000), s, false);

        // as a snapshot's ss lists them: held at one moment, no order
        var both = new List<DatapathEngine.SnatSender> { Candidate(c1, "172.17.0.2", Held("172.17.0.2", null)), Candidate(c2, "172.17.0.3", Held("172.17.0.3", null)) };
        Assert.Null(engine.ChooseSnatSender(both, out var why));
        Assert.StartsWith("c1 and c2 each hold a socket for this flow (c1 has a socket tcp 172.17.0.2:42001 -> 192.168.1.2:9000 (172.17.0.2/ss-connected.txt:1: ss); c2 has", why);
        Assert.EndsWith("so the model cannot tell which", why);

        // as a traffic script opens them: the first not shown yet, then the other
        var ordered = new List<DatapathEngine.SnatSender> { Candidate(c1, "172.17.0.2", Held("172.17.0.2", 2)), Candidate(c2, "172.17.0.3", Held("172.17.0.3", 1)) };
        Assert.Equal("c2", engine.ChooseSnatSender(ordered, out why)?.Sender.Name);
        Assert.Contains("opens c2's first", why);
        Assert.Equal("c1", engine.ChooseSnatSender(ordered, out _)?.Sender.Name);

        // one holder among candidates without: it; none: nobody
        var one = new List<DatapathEngine.SnatSender> { Candidate(c1, "172.17.0.2", null), Candidate(c2, "172.17.0.3", Held("172.17.0.3", null)) };
        Assert.Equal("c2", engine.ChooseSnatSender(one, out _)?.Sender.Name);
        Assert.Null(engine.ChooseSnatSender([Candidate(c1, "172.17.0.2", null), Candidate(c2, "172.17.0.3", null)], out why));
        Assert.Contains("none holds a declared socket", why);
    }

    [Fact]
    public void ACollidingFlowIsTheSocketWhosePortWasTaken()
    {
        var j = ScenarioJudge.Judge(Dir("nat-port-collision"));
        Assert.All(j.Frames, x => Assert.True(x.Agrees, $"frame {x.Frame}: {string.Join("; ", x.Differences)}"));
        // UDP: a's flow keeps port 5000, b's is remapped; ICMP the same with echo identifier 1234
        foreach (var (frame, sender, remapped) in new[] { (3, "a", false), (4, "b", true), (5, "a", false), (7, "b", true) })
        {
            var first = Frame(j, frame).Trace.Path[0];
            Assert.Equal(sender, first.Namespace);
            Assert.Equal(remapped, first.Detail!.Contains("is taken after NAT by another connection, so the kernel picked another", StringComparison.Ordinal));
        }
        Assert.Equal("a", Frame(j, 6).Kernel.Split(':')[0]);
        Assert.Equal("b", Frame(j, 8).Kernel.Split(':')[0]);
    }
}
