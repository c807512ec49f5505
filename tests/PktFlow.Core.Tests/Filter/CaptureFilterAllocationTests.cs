using PktFlow.Capture;
using PktFlow.Filter;
using PktFlow.Tests.Capture;

namespace PktFlow.Tests.Filter;

/// <summary>A compiled filter allocates nothing per packet.</summary>
public class CaptureFilterAllocationTests
{
    [Fact]
    public void MatchesAllocatesNothingPerPacket()
    {
        var filter = CaptureFilter.Parse(
            "(tcp port 80 or 443 or udp portrange 50-60) and not host 10.0.0.9 or vlan 100 and net 10.0.0.0/8 "
            + "or host 2001:db8::1 or tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn or ip6 protochain 17 "
            + "or icmp[icmptype] = icmp-echo or ether broadcast or outbound or len / (ip[0] & 0xf) > 100");
        var frames = ReadFrames(Path.Combine(CaptureTestSupport.RepoRoot, "tests/PktFlow.Core.Tests/Filter/filter-ethernet.pcap"))
            .Concat(ReadFrames(Path.Combine(CaptureTestSupport.RepoRoot, "tests/PktFlow.Core.Tests/Filter/filter-sll2.pcap")))
            .Append((LinkType.Raw, new byte[] { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2 }))
            .ToArray();
        Assert.True(frames.Length > 50);

        int matched = 0;
        foreach (var (type, data) in frames) matched += filter.Matches(type, data) ? 1 : 0; // warm up

        // Three measured passes, the least counted: a per-packet allocation shows in every pass, while a
        // one-off on this thread (seen once under the whole suite's load, not reproducible alone) does not.
        long allocated = long.MaxValue;
        for (int pass = 0; pass < 3 && allocated > 0; pass++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int round = 0; round < 2_000; round++)
            {
                foreach (var (type, data) in frames)
                {
                    matched += filter.Matches(type, data, data.Length + round) ? 1 : 0;
                }
            }
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.True(matched > 0);
        Assert.Equal(0, allocated);
    }

    private static List<(LinkType, byte[])> ReadFrames(string path)
    {
        var frames = new List<(LinkType, byte[])>();
        using var reader = CaptureReader.Open(path);
        while (reader.Read(out var frame, out _) is var status && status != CaptureReadStatus.End)
        {
            if (status == CaptureReadStatus.Frame) frames.Add((frame.LinkType, frame.Data.ToArray()));
        }

        return frames;
    }
}
