using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Socket;

/// <summary>
/// A connection's first packet seen arriving from a modelled namespace shows that namespace's
/// connecting socket, and the kernel's immediate answer (here a REJECT's reset, iptables-nft frame
/// 14) reaches it; a reset for a connection the namespace never opened finds no socket.
/// </summary>
public class ConnectingSocketTests
{
    internal const string Lab = """
        ip netns add wan
        ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns wan
        ip addr add 198.51.100.1/24 dev eth1
        ip link set eth1 up
        ip -n wan addr add 198.51.100.7/24 dev eth0
        ip -n wan link set eth0 up
        ip netns exec wan socat TCP-LISTEN:80,fork SYSTEM:true &
        nft -f - <<'NFT'
        table ip filter { chain input { type filter hook input priority 0; policy accept; tcp dport 113 reject with tcp reset; }; }
        NFT
        """;

    internal static readonly MacAddress Host = MacAddress.Parse("02:00:00:00:02:01"), Wan = MacAddress.Parse("02:00:00:00:02:02");
    internal static readonly IpAddr H = IpAddr.Parse("198.51.100.1"), W = IpAddr.Parse("198.51.100.7");

    static PacketTrace Process(DatapathEngine engine, byte[] frame, long number) =>
        engine.Process(new CaptureFrame(number, number * 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame),
            "t.pcap", engine.ResolveInjectionPoint("eth1"));

    [Fact]
    public void TheResetARejectSendsReachesTheSocketThatSentTheSyn()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "t.lab"));
        var syn = FrameBuilder.Ethernet(Host, Wan, EtherTypes.Ipv4, FrameBuilder.Ipv4(W, H, IpProtocol.Tcp, FrameBuilder.Tcp(W, H, 50002, 113, 0x02)));
        var t = Process(engine, syn, 1);
        Assert.Equal(Fate.Dropped, t.Fate);
        var reset = Assert.Single(t.GeneratedTraces);
        Assert.True(reset.Fate == Fate.Delivered && reset.Path[^1].Namespace == "wan",
            string.Join("\n", reset.Path) + $"\n=> {reset.Fate} {reset.Reason}");
        Assert.Contains("198.51.100.7:50002 <-> 198.51.100.1:113", reset.Path[^1].Detail);
    }

    [Fact]
    public void AResetForAConnectionTheNamespaceNeverOpenedFindsNoSocket()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "t.lab"));
        // an ACK for no connection of the host: the host answers with a reset, which wan has no socket for
        var ack = FrameBuilder.Ethernet(Host, Wan, EtherTypes.Ipv4, FrameBuilder.Ipv4(W, H, IpProtocol.Tcp, FrameBuilder.Tcp(W, H, 50009, 113, 0x10)));
        Process(engine, ack, 1);
        var stray = FrameBuilder.Ethernet(Wan, Host, EtherTypes.Ipv4, FrameBuilder.Ipv4(H, W, IpProtocol.Tcp, FrameBuilder.Tcp(H, W, 113, 50010, 0x04)));
        var t = Process(engine, stray, 2);
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.Equal("NO_SOCKET", t.Reason);
    }
}
