using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Datapath;

/// <summary>
/// A Docker-style published port (DNAT to a container behind a bridge), seen from the host's eth0:
/// neighbour resolution through the bridge, a checksum left for offload surviving DNAT, and the
/// container's reply, captured after the host undid the DNAT, traced from the container.
/// </summary>
public class PublishedPortTests
{
    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 192.168.1.1/24 dev eth0
        ip link add docker0 address 02:42:ac:11:00:01 type bridge
        ip addr add 172.17.0.1/16 dev docker0
        ip link set docker0 up
        ip netns add c1
        ip link add veth1 type veth peer name eth0 address 02:42:ac:11:00:02 netns c1
        ip link set veth1 master docker0
        ip link set veth1 up
        ip -n c1 link set lo up
        ip -n c1 addr add 172.17.0.2/16 dev eth0
        ip -n c1 link set eth0 up
        ip -n c1 route add default via 172.17.0.1
        ip netns exec c1 socat TCP-LISTEN:80,fork SYSTEM:true &
        sysctl -w net.ipv4.ip_forward=1
        nft -f - <<'NFT'
        table ip nat {
            chain prerouting { type nat hook prerouting priority dstnat; policy accept; tcp dport 8080 dnat to 172.17.0.2:80; }
            chain postrouting { type nat hook postrouting priority srcnat; policy accept; ip saddr 172.17.0.0/16 oifname != "docker0" masquerade; }
        }
        NFT
        """;

    static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:01:01"), ClientMac = MacAddress.Parse("02:00:00:00:01:02");
    static readonly IpAddr Client = IpAddr.Parse("192.168.1.2"), Host = IpAddr.Parse("192.168.1.1");

    static PacketTrace Process(DatapathEngine engine, byte[] frame, long number) =>
        engine.Process(new CaptureFrame(number, number * 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame),
            "t.pcap", engine.ResolveInjectionPoint("eth0"));

    static byte[] Segment(IpAddr src, IpAddr dst, ushort sport, ushort dport, byte flags, bool offloadPending)
    {
        var tcp = FrameBuilder.Tcp(src, dst, sport, dport, flags);
        if (offloadPending)
        {
            // CHECKSUM_PARTIAL as a capture on the sender shows it: only the folded pseudo-header sum
            ushort partial = Checksum.Fold(Checksum.PseudoHeader(src, dst, IpProtocol.Tcp, tcp.Length));
            tcp[16] = (byte)(partial >> 8); tcp[17] = (byte)partial;
        }
        return FrameBuilder.Ipv4(src, dst, IpProtocol.Tcp, tcp, ttl: 64);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheSynReachesTheContainerThroughTheBridge(bool offloadPending)
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "p.lab"));
        var syn = FrameBuilder.Ethernet(HostMac, ClientMac, EtherTypes.Ipv4, Segment(Client, Host, 41001, 8080, 0x02, offloadPending));
        var t = Process(engine, syn, 1);
        Assert.True(t.Fate == Fate.Delivered, string.Join("\n", t.Path));
        Assert.Equal("c1", t.Path[^1].Namespace);
        // the bridge's port leads to c1/eth0, which answers ARP for 172.17.0.2 with its own MAC
        Assert.Contains(t.Path, e => e.Namespace == "c1" && e.Function == "eth_type_trans" && e.Detail!.StartsWith("pkt_type HOST"));
    }

    [Fact]
    public void TheReplyCapturedAfterUnDnatIsTracedFromTheContainer()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "p.lab"));
        Process(engine, FrameBuilder.Ethernet(HostMac, ClientMac, EtherTypes.Ipv4, Segment(Client, Host, 41001, 8080, 0x02, false)), 1);
        // what eth0 shows leaving: from 192.168.1.1:8080, TTL 63 (forwarded once)
        var synAck = FrameBuilder.Ethernet(ClientMac, HostMac, EtherTypes.Ipv4,
            FrameBuilder.Ipv4(Host, Client, IpProtocol.Tcp, FrameBuilder.Tcp(Host, Client, 8080, 41001, 0x12), ttl: 63));
        var t = Process(engine, synAck, 2);
        Assert.True(t.Fate == Fate.Forwarded, t.Fate + "\n" + string.Join("\n", t.Path));
        Assert.Equal("host/eth0", t.Egress);
        Assert.Equal("c1", t.Path[1].Namespace);
        Assert.Contains("src=172.17.0.2 dst=192.168.1.2 sport=80 dport=41001", t.Path[0].Detail);
        Assert.Contains(t.Path, e => e.Namespace == "host" && e.Function.StartsWith("nf_nat_manip_pkt") && e.Detail!.Contains("172.17.0.2 -> 192.168.1.1"));
        Assert.Contains(t.Path, e => e.Namespace == "host" && e.Function == "ip_forward");
    }

    [Fact]
    public void AMasqueradedFirstPacketIsTracedFromTheOnlyNamespaceThatCouldHaveSentIt()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "p.lab"));
        // leaving eth0 from the host's address with TTL 63: forwarded, so not the host's own socket
        var syn = FrameBuilder.Ethernet(ClientMac, HostMac, EtherTypes.Ipv4,
            FrameBuilder.Ipv4(Host, Client, IpProtocol.Tcp, FrameBuilder.Tcp(Host, Client, 42001, 9000, 0x02), ttl: 63));
        var t = Process(engine, syn, 1);
        Assert.Contains("only c1", t.Path[0].Detail);
        Assert.Contains(t.Path, e => e.Namespace == "host" && e.Function.StartsWith("nf_nat_manip_pkt") && e.Detail!.Contains("172.17.0.2 -> 192.168.1.1"));
        // the answer is un-masqueraded to c1 because the connection is now in host's conntrack
        var synAck = FrameBuilder.Ethernet(HostMac, ClientMac, EtherTypes.Ipv4,
            FrameBuilder.Ipv4(Client, Host, IpProtocol.Tcp, FrameBuilder.Tcp(Client, Host, 9000, 42001, 0x12), ttl: 64));
        var r = Process(engine, synAck, 2);
        Assert.True(r.Fate == Fate.Delivered && r.Path[^1].Namespace == "c1", string.Join("\n", r.Path));
    }

    [Fact]
    public void AFrameWithTheHostsDefaultTtlIsTheHostsOwn()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "p.lab"));
        var syn = FrameBuilder.Ethernet(ClientMac, HostMac, EtherTypes.Ipv4,
            FrameBuilder.Ipv4(Host, Client, IpProtocol.Tcp, FrameBuilder.Tcp(Host, Client, 42001, 9000, 0x02), ttl: 64));
        var t = Process(engine, syn, 1);
        Assert.All(t.Path, e => Assert.Equal("host", e.Namespace));
        Assert.Contains("sent by host", t.Path[0].Detail);
    }
}
