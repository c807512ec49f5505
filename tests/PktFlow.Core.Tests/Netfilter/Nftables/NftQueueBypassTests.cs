using PktFlow.Netfilter.Iptables;
using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// queue with no listener: nf_queue fails with -ESRCH; without bypass nf_hook_slow drops, with bypass it goes on with
/// the next hook entry. Checked in namespaces (iptables-nft, nft 1.0.6): ping answered through
/// `-j NFQUEUE --queue-num 5 --queue-bypass` followed by `-j DROP` in the same chain, dropped when a later table
/// (security INPUT) drops, and dropped without --queue-bypass.
/// </summary>
public class NftQueueBypassTests
{
    private static NftHookResult Run(string text) =>
        NftEvaluator.RunHook(NftRuleset.Parse(text, "q.nft"), NftFamily.Ip, NftHookPoint.Input, FakeNftPacket.Icmp4("10.0.0.1", "10.0.0.2"));

    private const string Queue = "table ip t {{\n chain in {{\n type filter hook input priority 0\n {0}\n drop\n }}\n}}\n";
    private const string Later = "table ip t2 {\n chain in2 {\n type filter hook input priority 10\n drop\n }\n}\n";

    [Theory]
    [InlineData("queue num 5 bypass")]
    [InlineData("queue flags bypass num 5")]
    [InlineData("queue flags bypass,fanout num 1-3")]
    [InlineData("queue flags bypass to 3")]
    public void Bypass_SkipsTheRestOfTheChain_AndGoesOnWithTheNextHookEntry(string stmt)
    {
        var r = Run(string.Format(Queue, stmt));
        Assert.Equal("accept", r.Verdict);
        Assert.Equal("queue", Assert.Single(r.Runs).Verdict);
        Assert.Contains(r.Notes, n => n.StartsWith("queue bypass: no queue listener"));
        r = Run(string.Format(Queue, stmt) + Later);
        Assert.Equal("drop", r.Verdict);
        Assert.Equal(new[] { "in:queue", "in2:drop" }, r.Runs.Select(x => $"{x.Chain.Name}:{x.Verdict}"));
    }

    [Fact]
    public void WithoutBypass_TheQueueVerdictEndsThePacket()
    {
        var r = Run(string.Format(Queue, "queue num 5") + Later);
        Assert.Equal("queue", r.Verdict);
        Assert.Empty(r.Notes);
    }

    [Theory]
    [InlineData("-j NFQUEUE --queue-num 5 --queue-bypass", "queue num 5 bypass", "accept")]
    [InlineData("-j NFQUEUE --queue-balance 0:3 --queue-bypass --queue-cpu-fanout", "queue num 0-3 bypass,fanout", "accept")]
    [InlineData("-j NFQUEUE --queue-num 5", "queue num 5", "queue")]
    [InlineData("-j QUEUE", "queue num 0", "queue")]
    public void Iptables_Nfqueue(string target, string listed, string verdict)
    {
        var rs = IptablesRestore.Load($"*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p icmp {target}\n-A INPUT -p icmp -j DROP\nCOMMIT\n", "q.v4", false);
        var r = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, FakeNftPacket.Icmp4("10.0.0.1", "10.0.0.2"));
        Assert.Equal(verdict, r.Verdict);
        Assert.EndsWith(listed, r.Runs[0].Rule!.Text);
    }
}
