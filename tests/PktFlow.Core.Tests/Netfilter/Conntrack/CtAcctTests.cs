using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;
using static PktFlow.Tests.Netfilter.Conntrack.CtPackets;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// Conntrack accounting (nf_conn_acct) and nft's ct bytes/packets/avgpkt. Checked on Linux 6.x in
/// namespaces: 4 pings (84-byte IPv4 packets) to a host whose input chain drops on
///   ct packets > 2 -> 1 reply; ct original packets > 2 -> 2; ct original bytes > 168 -> 2; ct avgpkt > 83 -> 0,
/// and conntrack -L then lists packets=4 bytes=336 (original) and the replies sent (nothing when
/// all four were dropped: the entry was never confirmed): the packet being
/// filtered is already counted, dropped packets stay counted, bytes are the IP length, and the rule
/// turns net.netfilter.nf_conntrack_acct on.
/// </summary>
public class CtAcctTests
{
    [Fact]
    public void TrackedPacketsAreCountedPerDirectionWithTheirIpLength()
    {
        var t = new ConntrackTable();
        t.Pass(Echo(A, C, 8, 7), Sec(1)); // 36 bytes: 20 IP + 8 ICMP + 8 payload
        t.Pass(Echo(A, C, 8, 7), Sec(2));
        var reply = t.Pass(Echo(C, A, 0, 7), Sec(3));
        var e = reply.Entry!;
        Assert.Equal((2ul, 72ul, 1ul, 36ul), (e.OriginalPackets, e.OriginalBytes, e.ReplyPackets, e.ReplyBytes));

        // an ICMP error is attached to the connection without its tracker: not counted
        var err = t.Pass(Error(C, A, Echo(A, C, 8, 7)), Sec(4));
        Assert.Equal(CtState.Related, err.State);
        Assert.Equal((2ul, 1ul), (e.OriginalPackets, e.ReplyPackets));
    }

    [Fact]
    public void AnInvalidPacketIsNotCounted()
    {
        var t = new ConntrackTable();
        var syn = t.Pass(Tcp(A, C, 40000, 80, "S"), Sec(1));
        var bad = t.Pass(Tcp(C, A, 80, 40000, "SF"), Sec(2)); // SYN+FIN: refused (tcp_error)
        Assert.Equal(CtState.Invalid, bad.State);
        Assert.Equal((1ul, 0ul), (syn.Entry!.OriginalPackets, syn.Entry.ReplyPackets));
    }

    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 192.168.1.1/24 dev eth0
        nft -f - <<'NFT'
        table inet t {
            chain c {
                type filter hook input priority filter; policy accept;
                RULE drop
            }
        }
        NFT
        """;

    static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:01:01"), ClientMac = MacAddress.Parse("02:00:00:00:01:02");
    static readonly IpAddr Client = IpAddr.Parse("192.168.1.2"), Server = IpAddr.Parse("192.168.1.1");

    [Theory]
    [InlineData("ct packets > 2", 1)]
    [InlineData("ct original packets > 2", 2)]
    [InlineData("ct original bytes > 168", 2)]
    [InlineData("ct reply packets >= 2", 2)]
    [InlineData("ct avgpkt > 83", 0)]
    [InlineData("ct original avgpkt != 84", 4)]
    public void RulesReadTheCountsIncludingTheCurrentPacket(string rule, int passed)
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab.Replace("RULE", rule), "acct.lab"));
        int ok = 0;
        for (int seq = 1; seq <= 4; seq++)
        {
            var frame = FrameBuilder.Ethernet(HostMac, ClientMac, EtherTypes.Ipv4,
                FrameBuilder.Ipv4(Client, Server, IpProtocol.Icmp, FrameBuilder.IcmpEcho(9, (ushort)seq), ttl: 64));
            var tr = engine.Process(new CaptureFrame(seq, seq * 200_000_000L, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame),
                "t.pcap", engine.ResolveInjectionPoint("eth0"));
            if (tr.Fate != Fate.Dropped) ok++;
        }
        Assert.Equal(passed, ok);
        // every packet dropped: no entry was ever confirmed (conntrack -L lists nothing)
        if (passed == 0) { Assert.Empty(engine.States[0].Conntrack.Entries); return; }
        var e = Assert.Single(engine.States[0].Conntrack.Entries);
        Assert.Equal((4ul, 336ul), (e.OriginalPackets, e.OriginalBytes));
        Assert.Equal(((ulong)passed, 84ul * (ulong)passed), (e.ReplyPackets, e.ReplyBytes));
    }
}
