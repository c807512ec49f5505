using PktFlow.Netfilter.Iptables;
using PktFlow.Netfilter.Nftables;
using PktFlow.Topology.Lab;

namespace PktFlow.Tests.Netfilter.Iptables;

/// <summary>Single iptables commands, stored as iptables-nft 1.8.9 stores them.</summary>
public class IptablesStateTests
{
    internal static IptablesState Run(params string[] commands)
    {
        var st = new IptablesState(ipv6: false);
        for (int i = 0; i < commands.Length; i++) st.Apply(commands[i].Split(' '), "lab.sh", i + 1);
        return st;
    }

    private static int Handle(NftRuleset rs, string table, string chain, int index) =>
        rs.FindTable(NftFamily.Ip, table)!.FindChain(chain)!.Rules[index].Handle;

    [Fact]
    public void HandlesAreThoseIptablesNftGives()
    {
        // observed with iptables v1.8.9 (nf_tables) in a fresh namespace, `nft -a list ruleset` after each step
        var st = Run(
            "-A INPUT -p tcp --dport 22 -j ACCEPT", "-A INPUT -j DROP", "-I INPUT 1 -i lo -j ACCEPT",
            "-N MYCHAIN", "-A FORWARD -j MYCHAIN", "-P FORWARD DROP", "-t nat -A POSTROUTING -o eth0 -j MASQUERADE");
        var rs = st.Build();
        var filter = rs.FindTable(NftFamily.Ip, "filter")!;
        Assert.Equal(new[] { "INPUT", "MYCHAIN", "FORWARD" }, filter.Chains.Select(c => c.Name));
        Assert.Equal(new[] { 1, 5, 6 }, filter.Chains.Select(c => c.Handle));
        Assert.Equal(new[] { 4, 2, 3 }, filter.FindChain("INPUT")!.Rules.Select(r => r.Handle));
        Assert.Equal(7, Handle(rs, "filter", "FORWARD", 0));
        Assert.Equal(2, Handle(rs, "nat", "POSTROUTING", 0));
        Assert.Equal(1, rs.FindTable(NftFamily.Ip, "nat")!.FindChain("POSTROUTING")!.Handle);

        st.Apply("-D INPUT -j DROP".Split(' '), "lab.sh", 8);
        st.Apply("-A INPUT -j REJECT".Split(' '), "lab.sh", 9);
        st.Apply("-F MYCHAIN".Split(' '), "lab.sh", 10);
        st.Apply("-A MYCHAIN -j RETURN".Split(' '), "lab.sh", 11);
        rs = st.Build();
        Assert.Equal(new[] { 4, 2, 8 }, rs.FindTable(NftFamily.Ip, "filter")!.FindChain("INPUT")!.Rules.Select(r => r.Handle));
        Assert.Equal(9, Handle(rs, "filter", "MYCHAIN", 0));
    }

    [Fact]
    public void PolicyAndVerdictsEvaluate()
    {
        var rs = Run("-P INPUT DROP", "-A INPUT -p tcp --dport 22 -j ACCEPT", "-D INPUT 1", "-A INPUT -p tcp --dport 80 -j ACCEPT").Build();
        Assert.Equal("drop", NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, Nftables.FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 1, 22)).Verdict);
        Assert.Equal("accept", NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, Nftables.FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 1, 80)).Verdict);
    }

    [Theory]
    [InlineData("-A NOPE -j ACCEPT", "NOPE", "does not exist")]
    [InlineData("-A INPUT -j NOPE", "NOPE", "unknown target or chain")]
    [InlineData("-P MYCHAIN DROP", "MYCHAIN", "not a built-in chain")]
    [InlineData("-t nat -P PREROUTING DROP", "DROP", "nat chains cannot have policy DROP")]
    [InlineData("-D INPUT -p udp -j ACCEPT", "-p udp -j ACCEPT", "no rule")]
    [InlineData("-p tcp", "-p", "no command")]
    public void MistakesAreRefusedNamingTheToken(string command, string token, string message)
    {
        var e = Assert.Throws<IptablesParseException>(() => Run("-A INPUT -j ACCEPT", command));
        Assert.Equal(token, e.Token);
        Assert.Contains(message, e.Message);
        Assert.Equal(2, e.Line);
    }

    [Fact]
    public void LabCommandsBuildTheNamespacesRuleset()
    {
        var topo = LabLoader.Load("""
            ip netns add fw
            ip netns exec fw iptables -P INPUT DROP
            ip netns exec fw iptables -A INPUT -i lo -j ACCEPT
            ip -n fw link set lo up
            """, "lab.sh");
        var rs = topo.Namespace("fw")!.Nft!;
        Assert.True(rs.FindTable(NftFamily.Ip, "filter")!.FindChain("INPUT")!.PolicyDrop);
        var e = Assert.Throws<LabException>(() => LabLoader.Load("iptables -A INPUT -j ACCEPT\niptables -A INPUT -j MISSING\n", "lab.sh"));
        Assert.Equal(2, e.Line);
        Assert.Equal("MISSING", e.Token);
    }
}
