using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Replay;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// nf_ct_attach: the reset (or ICMP error) the kernel sends in answer carries the connection of the
/// packet it answers, RELATED_REPLY; nf_conntrack_in skips it at LOCAL_OUT, and the nat chains run
/// only for a manipulation type the connection has not set up yet (nf_nat_inet_fn).
/// </summary>
public class NfCtAttachTests
{
    /// <summary>iptables-nft frame 13: a SYN to port 113 REJECTed in filter INPUT; frame 14 its reset. The
    /// kernel ran filter OUTPUT and nat POSTROUTING for the reset, not nat OUTPUT (the SYN had set up its
    /// destination binding in nat PREROUTING, but was dropped before nat INPUT).</summary>
    [Fact]
    public void TheRejectsResetRunsNatPostroutingButNotNatOutput_AsTheKernelDid()
    {
        var dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", "iptables-nft");
        var record = KernelRecord.Load(Path.Combine(dir, "kernel.json"));
        var runner = new ReplayRunner(new ReplayOptions { Topology = LabLoader.LoadFile(Path.Combine(dir, "lab.sh")), InjectAt = record.Wire });
        var traces = runner.Run(Path.Combine(dir, "wire.pcap")).OfType<TraceEvent>().Select(e => e.Trace).ToDictionary(t => t.Frame);
        var rst = traces[14];
        Assert.Equal(13, rst.CausedBy);
        var chains = rst.Path.OfType<HookEvent>().Where(e => e.Namespace == "host" && e.Chain is not null).Select(e => $"{e.Table} {e.Chain}").ToArray();
        Assert.Equal(new[] { "filter OUTPUT", "nat POSTROUTING" }, chains);
        Assert.Contains(rst.Path, e => e.Stage == "NfConntrackIn" && e.Detail!.Contains("nf_ct_attach") && e.Detail.Contains("RELATED_REPLY"));
        // the reset never confirms the refused connection
        var host = runner.States.Single().Namespaces.Single(s => s.Name == "host");
        Assert.DoesNotContain(host.Conntrack.Entries, e => e.Original.SourcePort == 50002);
    }

    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 192.168.1.1/24 dev eth0
        nft -f - <<'NFT'
        table ip f {
            chain input { type filter hook input priority filter; policy accept; tcp dport 113 reject with tcp reset; }
        }
        table ip nat {
            chain out { type nat hook output priority -100; policy accept; tcp sport 113 dnat to 192.168.1.9; }
            chain post { type nat hook postrouting priority srcnat; policy accept; tcp sport 113 snat to 192.168.1.1:9113; }
        }
        NFT
        """;

    [Fact]
    public void AResetOfARefusedSynSkipsNatOutputAndRunsNatPostrouting()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "a.lab"));
        IpAddr client = IpAddr.Parse("192.168.1.2"), server = IpAddr.Parse("192.168.1.1");
        var frame = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:01:01"), MacAddress.Parse("02:00:00:00:01:02"), EtherTypes.Ipv4,
            FrameBuilder.Ipv4(client, server, IpProtocol.Tcp, FrameBuilder.Tcp(client, server, 40000, 113, 0x02), ttl: 64));
        var syn = engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame), "t.pcap", engine.ResolveInjectionPoint("eth0"));
        Assert.Equal(Fate.Dropped, syn.Fate);
        var rst = Assert.Single(syn.GeneratedTraces);
        var chains = rst.Path.OfType<HookEvent>().Where(e => e.Chain is not null).Select(e => $"{e.Table} {e.Chain}").ToArray();
        Assert.Equal(new[] { "nat post" }, chains);
        // nat post runs and binds the connection's source (the client's side); the reset goes in the reply
        // direction, which that binding does not rewrite at POST_ROUTING (nf_nat_packet: IPS_NAT_MASK flipped)
        Assert.DoesNotContain(rst.Path, e => e.Stage == "NfNatManip");
        Assert.Empty(engine.States[0].Conntrack.Entries);
    }
}
