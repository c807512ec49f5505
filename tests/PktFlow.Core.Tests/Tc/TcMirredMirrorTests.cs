using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Tc;

/// <summary>
/// tc mirred mirror: the clone is a child trace with its own stages and fate, the original goes on.
/// The lab is the recorded scenario's (tests/scenarios/tc-mirred-mirror, 6.18), whose judge checks the
/// same on the wire; these pin what a trace says.
/// </summary>
public class TcMirredMirrorTests
{
    private static readonly MacAddress Router = MacAddress.Parse("02:00:00:00:01:01"), Client = MacAddress.Parse("02:00:00:00:01:02");

    private static PacketTrace Send(byte protocol, byte[] l4)
    {
        var engine = new DatapathEngine(LabLoader.LoadFile(Path.Combine(RepoPaths.Root, "tests", "scenarios", "tc-mirred-mirror", "lab.sh")));
        var f = FrameBuilder.Ethernet(Router, Client, EtherTypes.Ipv4, FrameBuilder.Ipv4(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.2.0.2"), protocol, l4));
        return engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("host/eth0"));
    }

    private static PacketTrace Udp(ushort port) =>
        Send(IpProtocol.Udp, FrameBuilder.Udp(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.2.0.2"), 40000, port));

    [Fact]
    public void EgressMirror_TheCloneLeavesTheTargetAndTheOriginalIsRouted()
    {
        var t = Send(IpProtocol.Icmp, FrameBuilder.IcmpEcho(1, 1));
        Assert.Equal(Fate.Delivered, t.Fate); // the original reaches the server
        var copy = Assert.Single(t.GeneratedTraces, c => c.GeneratedBy == "tcf_mirred_act");
        Assert.Equal("host/eth2", copy.Ingress); // where its own walk starts
        Assert.Contains(copy.Path, e => e.Namespace == "host" && e.Device == "eth2" && e.Stage == "VethXmit");
        Assert.Equal((Fate.Dropped, "OTHERHOST", "mon"), (copy.Fate, copy.Reason, copy.Path[^1].Namespace));
        Assert.Equal(1, copy.CausedBy);
    }

    [Fact]
    public void CopiesOfCopies_StopAtTheNestLimit()
    {
        // eth0 ingress mirrors UDP 5001 to eth2, whose egress filter mirrors it to eth2 again: nest levels 1..4
        var t = Udp(5001);
        Assert.Equal((Fate.Dropped, "NETFILTER_DROP"), (t.Fate, t.Reason));
        var copies = t.GeneratedTraces.Where(c => c.GeneratedBy == "tcf_mirred_act").ToList();
        Assert.Equal(4, copies.Count);
        Assert.Equal(3, copies.Count(c => c.Fate == Fate.Dropped && c.Reason == "OTHERHOST"));
        var shot = Assert.Single(copies, c => c.Reason == "TC_EGRESS");
        Assert.Contains(shot.Path, e => e.Stage == "TcEgress" && e.Detail!.Contains("MIRRED_NEST_LIMIT 4"));
    }

    [Fact]
    public void MirrorToADeviceThatIsDown_SendsNothing()
    {
        var t = Udp(6000);
        Assert.DoesNotContain(t.GeneratedTraces, c => c.GeneratedBy == "tcf_mirred_act");
        Assert.Contains(t.Path, e => e.Stage == "TcIngress" && e.Detail!.Contains("eth4 is down"));
    }

    [Fact]
    public void IngressMirror_TheCloneIsReceivedOnTheTargetAndRoutedBeforeTheOriginal()
    {
        var t = Udp(7000);
        var copy = Assert.Single(t.GeneratedTraces, c => c.GeneratedBy == "tcf_mirred_act");
        Assert.Contains(copy.Path, e => e.Namespace == "host" && e.Device == "eth3" && e.Stage == "TcIngress");
        Assert.Equal("server", copy.Path[^1].Namespace);
        Assert.Equal(t.Fate, copy.Fate);
    }
}
