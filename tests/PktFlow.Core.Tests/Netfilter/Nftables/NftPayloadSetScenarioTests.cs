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
    public void TheRewrittenSegmentsAreTheKernels()
    {
        var sent = RecordedTransmits.Model(Dir, "host/eth0", "10.1.0.2", "host", "eth1");
        var kernel = RecordedTransmits.Kernel(Path.Combine(Dir, "host-eth1-out.pcap"));
        Assert.Equal(4, kernel.Count);
        Assert.Equal(kernel.Count, sent.Count);
        for (int i = 0; i < kernel.Count; i++)
            Assert.True(kernel[i].AsSpan(14).SequenceEqual(sent[i].AsSpan(14)),
                $"SYN {i + 1}: kernel {Convert.ToHexString(kernel[i].AsSpan(14))}, model {Convert.ToHexString(sent[i].AsSpan(14))}");
    }
}
