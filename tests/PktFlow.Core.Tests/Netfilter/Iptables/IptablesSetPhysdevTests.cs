using PktFlow.Datapath;
using PktFlow.Netfilter.Iptables;
using PktFlow.Netfilter.Ipset;
using PktFlow.Netfilter.Nftables;
using PktFlow.Tests.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Iptables;

/// <summary>
/// -m set (xt_set) and -m physdev (xt_physdev) as iptables-nft 1.8.9 keeps them: compat matches nft
/// 1.0.6 lists as `xt match set` / `xt match physdev` (observed on 6.18); the verdicts are recorded in
/// tests/scenarios/iptables-ipset-physdev.
/// </summary>
public class IptablesSetPhysdevTests
{
    private static IpSetTable Sets()
    {
        var t = new IpSetTable();
        foreach (var l in new[] { "create allow hash:net", "add allow 10.0.0.0/24", "add allow 10.0.0.0/30 nomatch", "add allow 10.0.0.2",
                                  "create svc hash:ip,port", "add svc 10.0.0.2,tcp:80", "add svc 10.0.0.9,udp:53",
                                  "create pair hash:ip,port,ip", "add pair 10.0.0.2,tcp:80,10.0.0.1" })
            t.Apply(l.Split(' '));
        return t;
    }

    private static NftRuleset Load(string match, IpSetTable? sets = null, string chain = "FORWARD") =>
        IptablesRestore.Load($"*filter\n:{chain} ACCEPT [0:0]\n-A {chain} {match} -j ACCEPT\nCOMMIT\n", "r", false,
            new IptablesLoadOptions { IpSets = sets ?? Sets() });

    private static string Verdict(NftRuleset rs, INftPacket p, NftHookPoint hook = NftHookPoint.Forward)
    {
        var r = NftEvaluator.RunHook(rs, NftFamily.Ip, hook, p);
        return r.Runs.Any(x => x.Rule is not null) ? r.Verdict : "none";
    }

    [Theory]
    [InlineData("-m set --match-set allow src", "xt match set")]
    [InlineData("-m physdev --physdev-in port+ ! --physdev-out eth0 --physdev-is-bridged", "xt match physdev")]
    public void ListedAsACompatMatch(string match, string listed) =>
        Assert.Equal($"{listed} counter packets 0 bytes 0 accept", Load(match).AllRules.Single().Text);

    [Theory]
    [InlineData("-m set --match-set allow src", "10.0.0.9", true)]
    [InlineData("-m set --match-set allow src", "10.0.0.1", false)]          // nomatch /30 is more specific
    [InlineData("-m set --match-set allow src", "10.0.0.2", true)]
    [InlineData("-m set --match-set allow src --return-nomatch", "10.0.0.1", true)]
    [InlineData("-m set --match-set allow src --return-nomatch", "10.0.0.9", false)]
    [InlineData("-m set ! --match-set allow src", "10.0.0.1", true)]
    [InlineData("-m set --match-set allow dst", "10.0.0.9", false)]          // dst is 10.1.0.1
    [InlineData("-m set --match-set svc dst,dst", "10.0.0.9", false)]        // tcp:80 to 10.1.0.1
    [InlineData("-m set --match-set svc dst", "10.0.0.9", false)]            // fewer flags than the dimension
    [InlineData("-m set --match-set allow src,dst,dst ! --update-counters ! --update-subcounters", "10.0.0.9", true)]
    public void MatchSetByTheFlags(string match, string src, bool matches)
    {
        var p = FakeNftPacket.Tcp4(src, "10.1.0.1", 40000, 80);
        Assert.Equal(matches ? "accept" : "none", Verdict(Load(match), p));
    }

    [Fact]
    public void PortDimensionsTakeTheProtocol()
    {
        var rs = Load("-m set --match-set svc dst,dst");
        Assert.Equal("accept", Verdict(rs, FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 40000, 80)));
        Assert.Equal("none", Verdict(rs, FakeNftPacket.Udp4("10.0.0.1", "10.0.0.2", 40000, 80)));
        Assert.Equal("accept", Verdict(rs, FakeNftPacket.Udp4("10.0.0.1", "10.0.0.9", 40000, 53)));
        Assert.Equal("none", Verdict(rs, FakeNftPacket.Icmp4("10.0.0.1", "10.0.0.9")));
        var three = Load("-m set --match-set pair dst,dst,src");
        Assert.Equal("accept", Verdict(three, FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 40000, 80)));
        Assert.Equal("none", Verdict(three, FakeNftPacket.Tcp4("10.0.0.3", "10.0.0.2", 40000, 80)));
        // a set of the other family never matches (ip_set_test)
        Assert.Equal("none", Verdict(Load("-m set --match-set allow src"), FakeNftPacket.Tcp6("2001:db8::1", "2001:db8::2", 1, 2)));
    }

    [Fact]
    public void AnUnknownSetIsRefusedEvenWhereUnsupportedRulesAreKept()
    {
        var text = "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m set --match-set nosuch src -j ACCEPT\nCOMMIT\n";
        var e = Assert.Throws<IptablesParseException>(() => IptablesRestore.Load(text, "r", false, new IptablesLoadOptions { IpSets = Sets(), AllowUnsupported = true }));
        Assert.Equal("r:3: Set nosuch doesn't exist.", e.Message);
        var st = new IptablesState(false, new IptablesLoadOptions { IpSets = Sets(), AllowUnsupported = true });
        Assert.Throws<IptablesParseException>(() => st.Apply("-A FORWARD -m set --match-set nosuch src -j ACCEPT".Split(' '), "lab.sh", 7));
    }

    [Theory]
    [InlineData("-m set --match-set allow sideways", "You must specify (the comma separated list of) 'src' or 'dst'")]
    [InlineData("-m set --return-nomatch", "You must specify `--match-set' with proper arguments")]
    [InlineData("-m set --match-set allow src --packets-gt 5", "unsupported: set --packets-gt")]
    [InlineData("-m physdev", "PHYSDEV: no physdev option specified")]
    public void RefusedOrUnsupported(string match, string message)
    {
        var e = Assert.Throws<IptablesParseException>(() => Load(match));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void ASetInUseIsNeitherDestroyedNorRenamedUntilItsRulesGo()
    {
        var sets = Sets();
        var st = new IptablesState(false, new IptablesLoadOptions { IpSets = sets });
        void Do(string cmd) => st.Apply(cmd.Split(' '), "lab.sh", 1);
        string Refusal(string cmd) => Assert.Throws<IpSetException>(() => sets.Apply(cmd.Split(' '))).Message;
        Do("-A FORWARD -m set --match-set allow src -j ACCEPT");
        Assert.Equal("Set cannot be destroyed: it is in use by a kernel component", Refusal("destroy allow"));
        Assert.Equal("Set cannot be renamed: it is in use by another system", Refusal("rename allow other"));
        Do("-F FORWARD"); // the rule's match lets the set go
        sets.Apply("rename allow other".Split(' '));
        Do("-A FORWARD -m set --match-set other src -j ACCEPT");
        Do("-D FORWARD -m set --match-set other src -j ACCEPT");
        sets.Apply("destroy other".Split(' '));
        Do("-A FORWARD -m set --match-set svc dst,dst -j ACCEPT");
        Assert.Contains("in use", Refusal("destroy svc"));
        st.Restore("*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n", "r", 1, noflush: false); // replaces the table
        sets.Apply("destroy svc".Split(' '));
        Do("-N chk");
        Do("-A chk -m set --match-set pair dst,dst,src -j ACCEPT");
        Assert.Contains("in use", Refusal("destroy"));
        Do("-F chk");
        Do("-X chk");
        sets.Apply("destroy".Split(' '));
        Assert.Empty(sets.Sets);
    }

    [Fact]
    public void ABitmapPortSetServesBothFamilies()
    {
        // bitmap:port's family is NFPROTO_UNSPEC: ip6tables -m set on it matches IPv6 packets by port
        var sets = Sets();
        sets.Apply("create ports bitmap:port range 1-1000".Split(' '));
        sets.Apply("add ports 80".Split(' '));
        var rs = IptablesRestore.Load("*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m set --match-set ports dst -j ACCEPT\nCOMMIT\n", "r", true,
            new IptablesLoadOptions { IpSets = sets });
        bool Accepted(ushort port) => NftEvaluator.RunHook(rs, NftFamily.Ip6, NftHookPoint.Forward, FakeNftPacket.Tcp6("2001:db8::1", "2001:db8::2", 40000, port))
            .Runs.Any(x => x.Rule is not null);
        Assert.True(Accepted(80));
        Assert.False(Accepted(81));
        Assert.Equal("accept", Verdict(Load("-m set --match-set ports dst", sets), FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 40000, 80)));
    }

    [Theory]
    // bridged: in port1, out port2
    [InlineData("--physdev-in port1", "port1", "port2", true)]
    [InlineData("--physdev-in port+", "port1", "port2", true)]
    [InlineData("! --physdev-in port+", "port1", "port2", false)]
    [InlineData("--physdev-out port3", "port1", "port2", false)]
    [InlineData("! --physdev-out port3", "port1", "port2", true)]
    [InlineData("--physdev-is-bridged", "port1", "port2", true)]
    [InlineData("--physdev-is-out", "port1", "port2", true)]
    // up to the host: an in port, no out port (--physdev-out passes without one)
    [InlineData("--physdev-is-bridged", "port1", null, false)]
    [InlineData("! --physdev-is-bridged --physdev-is-in", "port1", null, true)]
    [InlineData("--physdev-out port3", "port1", null, true)]
    [InlineData("! --physdev-is-in", "port1", null, false)]
    // not bridged at all: only options that are all inverted match
    [InlineData("! --physdev-is-in ! --physdev-in eth0", null, null, true)]
    [InlineData("--physdev-in eth0", null, null, false)]
    [InlineData("! --physdev-is-bridged --physdev-is-in", null, null, false)]
    public void PhysdevReadsTheBridgePorts(string options, string? physIn, string? physOut, bool matches)
    {
        var p = new FakeNftPacket
        {
            Net = FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 1, 2).Net, L4Protocol = 6, TransportOffset = 20,
            NfBridge = physIn is null ? null : new NfBridgeInfo(physIn, physOut),
        };
        Assert.Equal(matches ? "accept" : "none", Verdict(Load("-m physdev " + options), p));
    }

    [Fact]
    public void TheRecordedScenarioAgreesWithTheKernel()
    {
        var j = PktFlow.Judge.ScenarioJudge.Judge(Path.Combine(PktFlow.Testing.RepoPaths.Root, "tests", "scenarios", "iptables-ipset-physdev"));
        Assert.True(j.Judged > 0);
        Assert.True(j.Judged == j.Agreed, string.Join("\n", j.Frames.Where(f => f.Judged && !f.Agrees).SelectMany(f => f.Differences.Prepend($"frame {f.Frame}"))));
        Assert.True(j.Conntrack.Total == j.Conntrack.Agreed, string.Join("\n", j.Conntrack.Differences));
    }

    [Fact]
    public void Ip6tablesTestsAnInet6Set()
    {
        var sets = new IpSetTable();
        foreach (var l in new[] { "create v6 hash:net family inet6", "add v6 2001:db8::/32", "add v6 2001:db8:1::/48 nomatch" }) sets.Apply(l.Split(' '));
        var rs = IptablesRestore.Load("*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m set --match-set v6 src -j ACCEPT\nCOMMIT\n", "r", true, new IptablesLoadOptions { IpSets = sets });
        string V(string src) => NftEvaluator.RunHook(rs, NftFamily.Ip6, NftHookPoint.Forward, FakeNftPacket.Tcp6(src, "2001:db8:9::1", 1, 2)).Runs.Any(x => x.Rule is not null) ? "accept" : "none";
        Assert.Equal("accept", V("2001:db8:2::1"));
        Assert.Equal("none", V("2001:db8:1::1"));
        Assert.Equal("none", V("2001:db9::1"));
    }
}
