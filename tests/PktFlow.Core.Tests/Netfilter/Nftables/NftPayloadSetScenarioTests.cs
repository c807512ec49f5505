using PktFlow.Capture;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Tests.Judge;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// The recorded nft-payload-set scenario (6.18): a router clamping the MSS of forwarded SYNs and setting
/// TTL and DSCP towards the server. What the model sends on host/eth1 is, from the IP header on, byte for
/// byte what the kernel sent there (host-eth1-out.pcap): MSS lowered or kept, TTL, TOS with the ECN bits,
/// both checksums, also the TCP checksum the kernel gets wrong for an MSS at an odd offset.
/// </summary>
public class NftPayloadSetScenarioTests
{
    private static string Dir => Path.Combine(RepoPaths.Root, "tests", "scenarios", "nft-payload-set");

    [Fact]
    public void TheRewrittenSegmentsAreTheKernels() => SameBytes(Dir, 4);

    /// <summary>
    /// nft-payload-set-addr (6.18): addresses and ports rewritten before conntrack (raw prerouting) and
    /// after it (forward): the IPv4 and transport checksums as the kernel fixed them, a UDP checksum 0
    /// mangled by the port write (0xfffe), th dport set's stale checksum; and every frame's fate agrees
    /// (the forward rewrite's replies are invalid for conntrack, the rewritten packet goes to the new
    /// address's neighbour). nft-mss-rt-mtu (6.18): the MSS clamped to the route's MTU (rt mtu), 1360 over
    /// a 1400 link, 1260 for a route with mtu 1300, 1200 kept. nft-payload-raw (6.18): raw @th/@ih/@nh writes
    /// (stale UDP checksum, fixed UDP checksum, stale IPv4 checksum), ip protocol and ip length with nft's
    /// pseudo-header flag, icmp id, a daddr from and/or, and marks through nft_bitwise deciding ttl and id.
    /// </summary>
    [Theory]
    [InlineData("nft-payload-set-addr", 7)]
    [InlineData("nft-mss-rt-mtu", 3)]
    [InlineData("nft-payload-raw", 8)]
    public void RecordedRewritesAreTheKernels(string scenario, int transmitted)
    {
        var dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", scenario);
        SameBytes(dir, transmitted);
        var j = PktFlow.Judge.ScenarioJudge.Judge(dir);
        Assert.True(j.Judged == j.Agreed, string.Join("\n", j.Frames.Where(f => f.Judged && !f.Agrees).Select(f => $"frame {f.Frame}: {string.Join("; ", f.Differences)}")));
    }

    private static void SameBytes(string dir, int count)
    {
        var sent = RecordedTransmits.Model(dir, "host/eth0", "10.1.0.2", "host", "eth1");
        var kernel = RecordedTransmits.Kernel(Path.Combine(dir, "host-eth1-out.pcap"));
        Assert.Equal(count, kernel.Count);
        Assert.Equal(kernel.Count, sent.Count);
        for (int i = 0; i < kernel.Count; i++)
            Assert.True(kernel[i].AsSpan(14).SequenceEqual(sent[i].AsSpan(14)),
                $"frame {i + 1}: kernel {Convert.ToHexString(kernel[i].AsSpan(14))}, model {Convert.ToHexString(sent[i].AsSpan(14))}");
    }
}
