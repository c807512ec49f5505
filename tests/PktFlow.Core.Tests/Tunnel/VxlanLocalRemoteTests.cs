using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Tunnel;

/// <summary>
/// A remote that is the host's own address (tests/scenarios/vxlan-local-remote, vxlan-local-bypass):
/// encap_bypass_if_local makes no datagram; with the remote bound to a device the lookup finds no
/// socket bound to it and drops the frame, without one the device itself receives it back.
/// </summary>
public class VxlanLocalRemoteTests
{
    private static string Lab(string dev) => $"""
        ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth1
        ip addr add 192.168.62.1/24 dev eth0
        ip link set eth0 up
        ip link set eth1 up
        ip link add vx0 address 02:00:00:00:0a:01 type vxlan id 42 dstport 4789 remote 192.168.62.1{dev}
        ip addr add 10.10.0.1/24 dev vx0
        ip link set vx0 up
        ip neigh add 10.10.0.2 lladdr 02:00:00:00:0a:02 dev vx0 nud permanent

        """;

    /// <summary>A ping from the underlay forwarded into vx0, and every frame the model sends anywhere.</summary>
    private static (PacketTrace Trace, List<string> Sent) Forward(string dev)
    {
        var sent = new List<string>();
        var engine = new DatapathEngine(LabLoader.Load("sysctl -w net.ipv4.ip_forward=1\n" + Lab(dev), "t.lab")) { OnTransmit = (ns, d, frame) => sent.Add(d) };
        var ip = FrameBuilder.Ipv4(IpAddr.Parse("192.168.62.9"), IpAddr.Parse("10.10.0.2"), IpProtocol.Icmp, FrameBuilder.IcmpEcho(9, 1));
        var f = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:01:01"), MacAddress.Parse("02:00:00:00:01:09"), EtherTypes.Ipv4, ip);
        var t = engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("eth0"));
        return (t, sent);
    }

    [Fact]
    public void ARemoteBoundToADeviceFindsNoSocketAndIsDropped()
    {
        var (t, sent) = Forward(" dev eth0");
        Assert.Equal((Fate.Dropped, "VXLAN_VNI_NOT_FOUND"), (t.Fate, t.Reason));
        Assert.Equal("encap_bypass_if_local", t.Path[^1].Function);
        Assert.DoesNotContain("eth0", sent); // no datagram
    }

    [Fact]
    public void ARemoteWithoutADeviceIsHandedBackToTheDevice()
    {
        var (t, sent) = Forward("");
        Assert.Equal((Fate.Transmitted, "vxlan_encap_bypass"), (t.Fate, t.Reason));
        Assert.DoesNotContain("eth0", sent);
        // the frame comes back in on vx0 as a child of its own (recorded with an ARP request: vxlan-local-bypass);
        // this echo request is forwarded back out of vx0 again, a loop the kernel ends when the TTL runs out
        var back = t.GeneratedTraces[0];
        Assert.Contains(back.Path, e => e.Function == "vxlan_encap_bypass");
        Assert.Contains(back.Path, e => e.Device == "vx0" && e.Stage == "IpRcv");
    }
}
