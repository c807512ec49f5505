using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Netfilter;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Iptables;
using PktFlow.Netfilter.Nftables;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// nft ct timeout objects (nft_ct_timeout_obj_eval): `ct timeout set` attaches the policy to a connection
/// not yet confirmed, whose timeouts then come from it instead of the sysctls; checked on 6.18 with nft
/// 1.0.6 (tests/scenarios/ct-timeout-object).
/// </summary>
public class CtTimeoutObjectTests
{
    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 192.168.1.1/24 dev eth0
        sysctl -w net.netfilter.nf_conntrack_udp_timeout=33
        nft -f - <<'NFT'
        table inet f {
            ct timeout u {
                protocol udp
                policy = { replied: 70 }
            }
            ct timeout t {
                protocol tcp
                policy = { syn_sent: 55, established: 100 }
            }
            chain input {
                type filter hook input priority filter; policy accept;
                udp dport 7000 ct timeout set "u"
                udp dport 7002 ct timeout set "t"
                udp dport 7003 ct state established ct timeout set "u"
                tcp dport 22 ct timeout set "t"
            }
        }
        NFT
        """;

    internal static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:01:01"), ClientMac = MacAddress.Parse("02:00:00:00:01:02");
    internal static readonly IpAddr Client = IpAddr.Parse("192.168.1.2"), Server = IpAddr.Parse("192.168.1.1");

    internal static PacketTrace Send(DatapathEngine engine, byte[] ip, long number, long atNs)
    {
        var frame = FrameBuilder.Ethernet(HostMac, ClientMac, EtherTypes.Ipv4, ip);
        return engine.Process(new CaptureFrame(number, atNs, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame),
            "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }

    internal static byte[] Udp(ushort dport) => FrameBuilder.Ipv4(Client, Server, IpProtocol.Udp, FrameBuilder.Udp(Client, Server, 41000, dport), ttl: 64);

    internal static ConntrackEntry Entry(DatapathEngine engine, ushort dport) =>
        engine.States[0].Conntrack.Entries.Single(e => e.Original.DestinationPort == dport);

    [Fact]
    public void ANewConnectionTakesThePolicysFirstValue_UnnamedStatesTheKernelDefaultsNotTheSysctls()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "m.lab"));
        var t = Send(engine, Udp(7000), 1, 1_000_000_000);
        Assert.Contains(t.Notes, n => n.Contains("ct timeout set \"u\": the new connection takes the policy (replied 70): timeout 30 s"));
        var e = Entry(engine, 7000);
        Assert.Equal(30, e.SecondsLeft(1_000_000_000));
        Assert.Equal("replied 70", e.TimeoutPolicy?.Text);
        var listed = Assert.Single(NfStateListing.Conntrack(engine.States[0]).Where(l => l.OriginalTuple.DestinationPort == 7000));
        Assert.Equal("u (replied 70)", listed.TimeoutPolicy);
        // a later packet of the confirmed connection: the policy's unreplied 30, not the sysctl's 33
        Send(engine, Udp(7000), 2, 2_000_000_000);
        Assert.Equal(30, e.SecondsLeft(2_000_000_000));
    }

    [Fact]
    public void APolicyForAnotherProtocolOrAConfirmedConnectionChangesNothing()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "m.lab"));
        var other = Send(engine, Udp(7002), 1, 1_000_000_000);
        Assert.DoesNotContain(other.Notes, n => n.Contains("ct timeout"));
        Assert.Null(Entry(engine, 7002).TimeoutPolicy);
        Assert.Equal(33, Entry(engine, 7002).SecondsLeft(1_000_000_000));

        // 7003 confirmed by its first packet; a reply makes the second one established: the rule matches too late
        Send(engine, Udp(7003), 2, 1_000_000_000);
        var reply = FrameBuilder.Ipv4(Server, Client, IpProtocol.Udp, FrameBuilder.Udp(Server, Client, 7003, 41000), ttl: 64);
        var e = Entry(engine, 7003);
        engine.States[0].Conntrack.In(reply, false, 1_100_000_000);
        var later = Send(engine, Udp(7003), 3, 1_200_000_000);
        Assert.Contains(later.Notes, n => n.Contains("ct timeout set \"u\": the connection is already confirmed"));
        Assert.Null(e.TimeoutPolicy);
    }

    [Fact]
    public void TcpStatesReadThePolicy()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "m.lab"));
        var syn = FrameBuilder.Ipv4(Client, Server, IpProtocol.Tcp, FrameBuilder.Tcp(Client, Server, 42000, 22, 0x02), ttl: 64);
        Send(engine, syn, 1, 1_000_000_000);
        var e = Entry(engine, 22);
        Assert.Equal(55, e.SecondsLeft(1_000_000_000));
        // a retransmitted SYN before any reply does not renew the timeout (ct-tcp-states on 6.18)
        Send(engine, syn, 2, 3_000_000_000);
        Assert.Equal(53, e.SecondsLeft(3_000_000_000));
    }

    [Fact]
    public void AMidStreamPickupTakesTheFirstValueToo_NotTheEstablishedOne()
    {
        // checked on 6.18: a lone ACK picked up as ESTABLISHED listed 54 s with syn_sent 55, established 100
        var engine = new DatapathEngine(LabLoader.Load(Lab, "m.lab"));
        var ack = FrameBuilder.Ipv4(Client, Server, IpProtocol.Tcp, FrameBuilder.Tcp(Client, Server, 43000, 22, 0x10), ttl: 64);
        Send(engine, ack, 1, 1_000_000_000);
        var e = Entry(engine, 22);
        Assert.Equal(TcpCtState.Established, e.TcpState);
        Assert.Equal(55, e.SecondsLeft(1_000_000_000));
    }

    [Fact]
    public void AttachTimeoutPolicy_LeavesAConfirmedEntryAlone()
    {
        var table = new ConntrackTable();
        var e = table.In(CtPackets.Udp(CtPackets.A, CtPackets.C, 1000, 53), false, 0).Entry!;
        table.Confirm(e);
        var policy = ConntrackTimeoutPolicy.Create("p", "udp", [new("unreplied", 5)]);
        Assert.Contains("already confirmed", ConntrackTable.AttachTimeoutPolicy(e, policy, 0));
        Assert.Equal(30, e.SecondsLeft(0));
    }

    [Theory]
    [InlineData("table ip t { ct timeout x { protocol tcp; policy = { unacknowledged: 9 }; } }", "'unacknowledged' is not a tcp conntrack state")]
    [InlineData("table netdev t { ct timeout x { protocol udp; policy = { unreplied: 9 }; } }", "Could not process rule: Protocol error")]
    [InlineData("table ip t { ct timeout x { protocol udp; policy = { unreplied: soon }; } }", "'unreplied' needs a number of seconds")]
    // nft 1.0.6's grammar: "syntax error, unexpected icmp, expecting udp or tcp" (6.18; policies for
    // other trackers come from nfct, CttimeoutTests)
    [InlineData("table ip t { ct timeout x { protocol icmp; policy = { timeout: 9 }; } }", "syntax error, unexpected icmp, expecting udp or tcp")]
    [InlineData("table ip t { ct timeout x { protocol sctp; policy = { established: 9 }; } }", "syntax error, unexpected sctp, expecting udp or tcp")]
    public void RefusedAsNft106RefusesThem(string text, string message)
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse(text, "o.nft"));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void TheRecordedScenarioAgreesWithTheKernel_TimeoutsIncluded()
    {
        var j = ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "ct-timeout-object"));
        Assert.True(j.Judged > 0);
        Assert.Equal(j.Judged, j.Agreed);
        Assert.True(j.Conntrack.Total == 6 && j.Conntrack.Agreed == 6, string.Join("\n", j.Conntrack.Differences));
    }
}
