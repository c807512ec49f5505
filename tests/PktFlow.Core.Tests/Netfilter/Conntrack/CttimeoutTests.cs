using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Iptables;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;
using static PktFlow.Tests.Netfilter.Conntrack.CtTimeoutObjectTests;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// cttimeout policies made with nfct (nfnetlink_cttimeout) and given to new connections by
/// <c>iptables -t raw ... -j CT --timeout NAME</c> (xt_CT's conntrack template). Checked on 6.18 with
/// nfct 1.4.7 and iptables-nft 1.8.9 in namespaces; recorded in tests/scenarios/iptables-ct-timeout.
/// </summary>
public class CttimeoutTests
{
    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 192.168.1.1/24 dev eth0
        sysctl -w net.netfilter.nf_conntrack_udp_timeout=33
        nfct add timeout u inet udp replied 70
        nfct add timeout t inet tcp syn_sent 55 established 100
        nfct add timeout i inet icmp timeout 9
        sysctl -w net.netfilter.nf_conntrack_udp_timeout=40
        iptables-restore <<'EOF'
        *raw
        :PREROUTING ACCEPT [0:0]
        -A PREROUTING -p udp -m udp --dport 7000 -j CT --timeout u
        -A PREROUTING -p tcp -j CT --timeout t
        -A PREROUTING -p icmp -j CT --timeout i
        COMMIT
        EOF
        """;

    [Fact]
    public void ANewConnectionTakesTheTemplatesPolicy_UnnamedStatesTheSysctlsWhenNfctMadeIt()
    {
        // nfct list timeout on 6.18 showed UNREPLIED = 33 for `udp replied 70` made while the sysctl was 33
        var engine = new DatapathEngine(LabLoader.Load(Lab, "m.lab"));
        var t = Send(engine, Udp(7000), 1, 1_000_000_000);
        Assert.Contains(t.Path, e => e.Detail?.Contains("the conntrack template's timeout policy u (replied 70) goes with the new entry") == true);
        Assert.Equal(33, Entry(engine, 7000).SecondsLeft(1_000_000_000));
        Assert.Equal(70, Entry(engine, 7000).TimeoutPolicy!.Timeouts.UdpTimeoutStream);
        // a flow without the template: the sysctl as it is now
        Send(engine, Udp(7001), 2, 1_000_000_000);
        Assert.Null(Entry(engine, 7001).TimeoutPolicy);
        Assert.Equal(40, Entry(engine, 7001).SecondsLeft(1_000_000_000));
    }

    [Fact]
    public void AMidStreamPickupReadsTheEstablishedValue_NotTheFirstOneAsNftsObjectsDo()
    {
        // 6.18: a lone ACK through `-j CT --timeout t` (syn_sent 55, established 100) was listed ESTABLISHED 97 s 3 s later
        var engine = new DatapathEngine(LabLoader.Load(Lab, "m.lab"));
        var ack = FrameBuilder.Ipv4(Client, Server, IpProtocol.Tcp, FrameBuilder.Tcp(Client, Server, 43000, 22, 0x10), ttl: 64);
        Send(engine, ack, 1, 1_000_000_000);
        var e = Entry(engine, 22);
        Assert.Equal(TcpCtState.Established, e.TcpState);
        Assert.Equal(100, e.SecondsLeft(1_000_000_000));
    }

    [Fact]
    public void AnIcmpQueryTakesTheIcmpPolicy()
    {
        // 6.18: an echo request through `-j CT --timeout i` (icmp timeout 9) was listed with 7 s 2 s later
        var engine = new DatapathEngine(LabLoader.Load(Lab, "m.lab"));
        var echo = FrameBuilder.Ipv4(Client, Server, IpProtocol.Icmp, FrameBuilder.IcmpEcho(6, 1, 0), ttl: 64); // a right checksum: conntrack checks it
        Send(engine, echo, 1, 1_000_000_000);
        var e = engine.States[0].Conntrack.Entries.Single(x => x.Original.Protocol == IpProtocol.Icmp);
        Assert.Equal(9, e.SecondsLeft(1_000_000_000));
    }

    private static readonly ConntrackTimeoutPolicy UdpV4 = ConntrackTimeoutPolicy.CreateCttimeout("u", "inet", "udp", [new("replied", 70)], ConntrackSettings.Default);
    private static readonly ConntrackTimeoutPolicy Generic = ConntrackTimeoutPolicy.CreateCttimeout("g", "inet", "generic", [new("timeout", 44)], ConntrackSettings.Default);

    [Theory]
    // xt_ct_set_timeout refuses each of these with EINVAL (iptables-nft: "RULE_APPEND failed (Invalid argument)")
    [InlineData(false, "-A PREROUTING -j CT --timeout u", "you must specify a L4 protocol")]
    [InlineData(false, "-A PREROUTING ! -p udp -j CT --timeout u", "you must specify a L4 protocol")]
    [InlineData(false, "-A PREROUTING -p udp -j CT --timeout nope", "No such timeout policy \"nope\"")]
    [InlineData(false, "-A PREROUTING -p tcp -j CT --timeout u", "Timeout policy base is for l4 proto 17 while rule is 6")]
    [InlineData(false, "-A PREROUTING -p gre -j CT --timeout g", "Timeout policy base is for l4 proto 255 while rule is 47")]
    [InlineData(true, "-A PREROUTING -p udp -j CT --timeout u", "Timeout policy base is family 2 while rule is 10")]
    public void RefusedAsXtCtRefusesIt(bool v6, string rule, string message)
    {
        var policies = new Dictionary<string, ConntrackTimeoutPolicy> { ["u"] = UdpV4, ["g"] = Generic };
        var e = Assert.Throws<IptablesParseException>(() => IptablesRestore.Load($"*raw\n:PREROUTING ACCEPT [0:0]\n{rule}\nCOMMIT\n", "r", v6,
            new IptablesLoadOptions { CtTimeouts = policies }));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void AGenericPolicyFitsAProtocolWithoutItsOwnTracker_ListedAsACompatTarget()
    {
        // 6.18: -p ospf -j CT --timeout g (generic) loads; -p gre does not (GRE has its own tracker)
        var rs = IptablesRestore.Load("*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p ospf -j CT --timeout g\nCOMMIT\n", "r", false,
            new IptablesLoadOptions { CtTimeouts = new Dictionary<string, ConntrackTimeoutPolicy> { ["g"] = Generic } });
        Assert.Equal("meta l4proto ospf counter packets 0 bytes 0 xt target CT", rs.AllRules.Single().Text);
        var filter = Assert.Throws<IptablesParseException>(() => IptablesRestore.Load("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p ospf -j CT --timeout g\nCOMMIT\n", "r", false));
        Assert.Contains("CT is only valid in table raw", filter.Message);
    }

    [Theory]
    // nfct 1.4.7 on 6.18: its own words
    [InlineData("nfct add timeout x inet tcp foo 5", "Wrong state name: `foo' for protocol `tcp'")]
    [InlineData("nfct add timeout x inet dccp open 5", "Operation not supported")]
    [InlineData("nfct add timeout u inet udp replied 80", "Device or resource busy")]
    [InlineData("nfct delete timeout u", "unsupported: nfct command")]
    public void NfctRefusals(string command, string message)
    {
        var e = Assert.Throws<LabException>(() => LabLoader.Load("nfct add timeout u inet udp replied 70\n" + command, "m.lab"));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void NfctStateNamesAreCaseInsensitive()
    {
        var p = ConntrackTimeoutPolicy.CreateCttimeout("u", "inet", "udp", [new("REPLIED", 5)], ConntrackSettings.Default with { UdpTimeout = 33 });
        Assert.Equal((33, 5), (p.Timeouts.UdpTimeout, p.Timeouts.UdpTimeoutStream));
        Assert.Equal((byte?)10, ConntrackTimeoutPolicy.CreateCttimeout("i6", "inet6", "icmpv6", [], ConntrackSettings.Default).L3Family);
    }

    [Fact]
    public void TheRecordedScenarioAgreesWithTheKernel_TimeoutsIncluded()
    {
        var j = ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "iptables-ct-timeout"));
        Assert.True(j.Judged > 0);
        Assert.Equal(j.Judged, j.Agreed);
        Assert.True(j.Conntrack.Total == 7 && j.Conntrack.Agreed == 7, string.Join("\n", j.Conntrack.Differences));
    }
}
