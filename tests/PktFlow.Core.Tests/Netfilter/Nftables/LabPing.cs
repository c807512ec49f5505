using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>One echo request from the peer 02:00:00:00:01:02 into eth0 (02:00:00:00:01:01) of a one-namespace lab, traced.</summary>
internal static class LabPing
{
    static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:01:01"), PeerMac = MacAddress.Parse("02:00:00:00:01:02");

    public static PacketTrace Ping(string lab, string src, string dst)
    {
        var engine = new DatapathEngine(LabLoader.Load(lab, "ping.lab"));
        var frame = FrameBuilder.Ethernet(HostMac, PeerMac, EtherTypes.Ipv4,
            FrameBuilder.Ipv4(IpAddr.Parse(src), IpAddr.Parse(dst), IpProtocol.Icmp, FrameBuilder.IcmpEcho(9, 1), ttl: 64));
        return engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame),
            "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }
}
