using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Netfilter;
using PktFlow.Testing;
using PktFlow.Tests.Judge;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// The recorded ct-sctp scenario (Linux 6.18) replayed: what the model sends towards the client is,
/// from the IP header on, what the kernel sent there (host-eth0-out.pcap, from the recorder's
/// tcpdump -i any): DNATed INIT, COOKIE_ECHO and DATA with port 3869 and the CRC32c computed again,
/// un-masqueraded replies, DCCP whose checksum NAT leaves alone; and the table is the kernel's.
/// </summary>
public class SctpScenarioTests
{
    private static string Dir => Path.Combine(RepoPaths.Root, "tests", "scenarios", "ct-sctp");

    private static (DatapathEngine Engine, List<byte[]> Sent) Replay()
    {
        var (engine, sent) = RecordedTransmits.Replay(Dir, "host/eth1", null,
            (ns, dev, frame) => ns == "host" && dev == "eth0" && frame[12] == 0x08 && frame[13] == 0x00);
        return (engine, sent.Select(s => s.Frame).ToList());
    }

    [Fact]
    public void The_packets_the_model_forwards_to_the_client_are_the_kernels_byte_for_byte()
    {
        var (_, sent) = Replay();
        var kernel = RecordedTransmits.Kernel(Path.Combine(Dir, "host-eth0-out.pcap"))
            .Where(f => f[12] == 0x08 && f[13] == 0x00).ToList();
        Assert.Equal(9, kernel.Count);
        Assert.Equal(kernel.Count, sent.Count);
        for (int i = 0; i < kernel.Count; i++)
            Assert.True(kernel[i].AsSpan(14).SequenceEqual(sent[i].AsSpan(14)),
                $"packet {i + 1}: kernel {Convert.ToHexString(kernel[i].AsSpan(14))}, model {Convert.ToHexString(sent[i].AsSpan(14))}");
        // the DNATed INIT: port 3869 and a CRC32c that is right for it
        Assert.True(SctpHeader.TryParse(sent[3].AsSpan(34), out var init, out _));
        Assert.Equal((3869, init.ComputeChecksum()), (init.DestinationPort, init.Checksum));
    }

    [Fact]
    public void The_table_lists_the_states_the_kernel_listed()
    {
        var (engine, _) = Replay();
        var host = engine.States.Single(s => s.Name == "host");
        var lines = NfStateListing.Conntrack(host).Select(l => l.Line).ToList();
        Assert.Contains(lines, l => l.StartsWith("sctp     132 ") && l.Contains(" CLOSED src=10.1.0.2 dst=203.0.113.53 sport=5000 dport=3868 src=203.0.113.53 dst=203.0.113.1 sport=3868 dport=5000 [ASSURED]"));
        Assert.Contains(lines, l => l.Contains(" ESTABLISHED src=203.0.113.53 dst=203.0.113.1 sport=6000 dport=3868 src=10.1.0.2 dst=203.0.113.53 sport=3869 dport=6000 [ASSURED]"));
        Assert.Contains(lines, l => l.Contains(" ESTABLISHED src=10.1.0.2 dst=203.0.113.53 sport=5002 dport=3868 src=203.0.113.53 dst=203.0.113.1 sport=3868 dport=5002 [ASSURED]"));
        Assert.Contains(lines, l => l.StartsWith("dccp     33 ") && l.Contains("src=10.1.0.2 dst=203.0.113.53 sport=0 dport=0 src=203.0.113.53 dst=203.0.113.1 sport=0 dport=0 mark=0"));
        Assert.Equal(4, lines.Count);
    }
}
