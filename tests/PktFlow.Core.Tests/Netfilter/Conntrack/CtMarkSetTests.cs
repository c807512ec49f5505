using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// `ct mark set` (nft) and CONNMARK --set-mark (iptables) write the connection's mark: later packets of
/// the connection match `ct mark` / `-m connmark --mark`, and the entry lists it (conntrack -L mark=).
/// </summary>
public class CtMarkSetTests
{
    private const string Host = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 192.168.1.1/24 dev eth0
        """;

    private const string Nft = Host + """

        nft -f - <<'NFT'
        table inet f {
            chain input {
                type filter hook input priority filter; policy accept;
                ct mark 0x2a drop
                tcp dport 22 ct mark set 0x2a
            }
        }
        NFT
        """;

    private const string Ipt = Host + """

        iptables-restore <<'IPT'
        *filter
        :INPUT ACCEPT [0:0]
        -A INPUT -p tcp -m connmark --mark 0x2a -j DROP
        -A INPUT -p tcp --dport 22 -j CONNMARK --set-mark 0x2a
        COMMIT
        IPT
        """;

    static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:01:01"), ClientMac = MacAddress.Parse("02:00:00:00:01:02");
    static readonly IpAddr Client = IpAddr.Parse("192.168.1.2"), Server = IpAddr.Parse("192.168.1.1");

    static PacketTrace Send(DatapathEngine engine, byte flags, long number)
    {
        var frame = FrameBuilder.Ethernet(HostMac, ClientMac, EtherTypes.Ipv4,
            FrameBuilder.Ipv4(Client, Server, IpProtocol.Tcp, FrameBuilder.Tcp(Client, Server, 40000, 22, flags), ttl: 64));
        return engine.Process(new CaptureFrame(number, number * 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame),
            "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }

    [Theory]
    [InlineData(Nft)]
    [InlineData(Ipt)]
    public void TheMarkIsWrittenToTheConnectionAndMatchedByItsLaterPackets(string lab)
    {
        var engine = new DatapathEngine(LabLoader.Load(lab, "m.lab"));
        var syn = Send(engine, 0x02, 1);
        Assert.True(syn.Fate != Fate.Dropped, string.Join("\n", syn.Path));
        Assert.Contains(syn.Notes, n => n.Contains("ct mark set: the connection's mark 0x0 -> 0x2a"));
        var entry = Assert.Single(engine.States[0].Conntrack.Entries);
        Assert.Equal(0x2au, entry.Mark);
        Assert.Contains("mark=42", entry.ToString());

        // the retransmitted SYN carries the connection's mark into the filter: dropped
        var again = Send(engine, 0x02, 2);
        Assert.Equal(Fate.Dropped, again.Fate);
    }

    [Fact]
    public void WithoutTheMarkTheRetransmittedSynPasses()
    {
        var engine = new DatapathEngine(LabLoader.Load(Nft.Replace("tcp dport 22 ct mark set 0x2a", "tcp dport 23 ct mark set 0x2a"), "m.lab"));
        Send(engine, 0x02, 1);
        Assert.NotEqual(Fate.Dropped, Send(engine, 0x02, 2).Fate);
        Assert.Equal(0u, Assert.Single(engine.States[0].Conntrack.Entries).Mark);
    }
}
