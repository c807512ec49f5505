using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Tc;

/// <summary>
/// A packet the kernel generates (a RST from a closed port) meets a mirred mirror at tc egress: the
/// clone is traced too, after the RST, as a child of the same frame, whether the mirror hands it on
/// synchronously (to a device's egress) or through the backlog (to a device's ingress: netif_rx).
/// </summary>
public class TcMirredChildCopyTests
{
    private static readonly MacAddress Host = MacAddress.Parse("02:00:00:00:01:01"), Client = MacAddress.Parse("02:00:00:00:01:02");

    private static PacketTrace SynToClosedPort(string mirror) => SynToClosedPortWith($$"""
        tc qdisc add dev eth0 clsact
        tc filter add dev eth0 egress pref 10 protocol ip matchall action mirred {{mirror}} dev eth1
        """);

    /// <summary>A SYN to the host's closed port 81 (it answers with a RST out of eth0), with these tc lines in the lab.</summary>
    internal static PacketTrace SynToClosedPortWith(string tc)
    {
        var lab = $"""
            ip link add eth0 address 02:00:00:00:01:01 type veth peer name veth0
            ip link add eth1 address 02:00:00:00:02:01 type veth peer name veth1
            ip addr add 10.1.0.1/24 dev eth0
            ip link set eth0 up
            ip link set eth1 up
            ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
            socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo web' &
            {tc}
            """;
        var engine = new DatapathEngine(LabLoader.Load(lab, "child-copy.lab"));
        IpAddr c = IpAddr.Parse("10.1.0.2"), h = IpAddr.Parse("10.1.0.1");
        var f = FrameBuilder.Ethernet(Host, Client, EtherTypes.Ipv4, FrameBuilder.Ipv4(c, h, IpProtocol.Tcp, FrameBuilder.Tcp(c, h, 40000, 81)));
        return engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("host/eth0"));
    }

    [Theory]
    [InlineData("ingress mirror", "TcIngress", "netif_rx: the backlog, after the original")]
    [InlineData("egress mirror", "DevQueueXmit", "dev_queue_xmit")]
    public void TheRstsMirroredCopyIsAChildOfTheFrame(string mirror, string stage, string how)
    {
        var t = SynToClosedPort(mirror);
        Assert.Equal(2, t.GeneratedTraces.Count);
        var (rst, copy) = (t.GeneratedTraces[0], t.GeneratedTraces[1]);
        Assert.Equal(("tcp_v4_send_reset", false), (rst.GeneratedBy, rst.IsCopy));
        Assert.Contains(rst.Path, e => e.Stage == "TcEgress" && e.Detail!.Contains("mirred"));
        Assert.Equal(("tcf_mirred_act", true, 1L), (copy.GeneratedBy, copy.IsCopy, copy.CausedBy));
        Assert.Contains(how, copy.Path[0].Detail);
        Assert.Contains(copy.Path, e => e.Device == "eth1" && e.Stage == stage);
        Assert.NotEqual(Fate.Unsupported, copy.Fate);
    }
}

/// <summary>
/// A mirred loop through the backlog: eth0 egress mirrors to eth1 ingress (netif_rx), eth1 ingress
/// mirrors back to eth0 egress, so each copy makes the next, one pass through the backlog apart. The
/// kernel never stops it (each pass starts outside MIRRED_NEST_LIMIT and the sched_mirred_dev loop
/// check: read from act_mirred.c and the 2026 netdev fix "act_mirred: Fix ingress mirred loop"; not
/// run on the recording kernel, where it would spin a shared CPU); the model follows
/// ChildTraces.MaxBacklogGenerations generations, every copy with its fate, and ends the last one
/// Unsupported saying why.
/// </summary>
public class TcMirredBacklogLoopTests
{
    [Fact]
    public void ALoopThroughTheBacklogIsFollowedSixteenGenerationsThenSaysSo()
    {
        var t = TcMirredChildCopyTests.SynToClosedPortWith("""
            tc qdisc add dev eth0 clsact
            tc filter add dev eth0 egress pref 10 protocol ip matchall action mirred ingress mirror dev eth1
            tc qdisc add dev eth1 clsact
            tc filter add dev eth1 ingress pref 10 protocol ip matchall action mirred egress mirror dev eth0
            """);

        var copies = t.GeneratedTraces.Where(g => g.IsCopy).ToList();
        // the RST (generation 0) is mirrored to eth1 ingress: generations 1..16 walk, each mirroring itself back
        // to eth0 egress (synchronous) whose mirror makes the next; generation 17 is where the model stops
        int n = ChildTraces.MaxBacklogGenerations;
        Assert.Equal(n + 1, copies.Count(g => g.Path[0].Detail!.Contains("netif_rx")));
        Assert.Equal(n, copies.Count(g => g.Path[0].Detail!.Contains("dev_queue_xmit")));
        Assert.Equal(1 + n + 1 + n, t.GeneratedTraces.Count); // the RST and every copy, none lost
        var last = t.GeneratedTraces[^1];
        Assert.Equal(Fate.Unsupported, last.Fate);
        Assert.Contains($"a mirred loop through the backlog: this is copy generation {n + 1}", last.Reason);
        Assert.Single(t.GeneratedTraces, g => g.Fate == Fate.Unsupported);
    }
}
