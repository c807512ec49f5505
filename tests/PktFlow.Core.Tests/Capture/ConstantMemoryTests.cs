using PktFlow.Capture;

namespace PktFlow.Tests.Capture;

/// <summary>Reading allocates nothing per packet once the buffer has grown to the largest record.</summary>
public class ConstantMemoryTests
{
    private const int Packets = 50_000;

    private static byte[] Packet(int i) => new byte[60 + i % 1400];

    private static long AllocatedWhileReading(string path, out long frames)
    {
        using var reader = CaptureReader.Open(path);
        long before = GC.GetAllocatedBytesForCurrentThread();
        frames = 0;
        long bytes = 0;
        while (reader.Read(out var frame, out var problem) is var status && status != CaptureReadStatus.End)
        {
            Assert.Null(problem);
            frames++;
            bytes += frame.Data.Span[^1];
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(bytes);
        return allocated;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FiftyThousandPacketsAllocateAlmostNothing(bool pcapng)
    {
        string path = Path.Combine(Path.GetTempPath(), $"pktflow-capture-{Guid.NewGuid():n}.{(pcapng ? "pcapng" : "pcap")}");
        try
        {
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                if (pcapng)
                {
                    using var writer = new PcapNgWriter(file, leaveOpen: true);
                    int eth = writer.AddInterface(LinkType.Ethernet, "eth0");
                    int any = writer.AddInterface(LinkType.LinuxSll2, "any", tsresol: 6);
                    for (int i = 0; i < Packets; i++)
                    {
                        writer.Write(i % 2 == 0 ? eth : any, 1_700_000_000_000_000_000L + i * 1000L, Packet(i));
                    }
                }
                else
                {
                    using var writer = new PcapWriter(file, LinkType.Ethernet, leaveOpen: true);
                    for (int i = 0; i < Packets; i++)
                    {
                        writer.Write(1_700_000_000_000_000_000L + i * 1000L, Packet(i));
                    }
                }
            }

            AllocatedWhileReading(path, out _);   // warm up the JIT
            long allocated = AllocatedWhileReading(path, out long frames);

            Assert.Equal(Packets, frames);
            // One object per packet would be at least 24 bytes each (1.2 MB); allow less than one byte per packet.
            Assert.True(allocated < Packets, $"{allocated} bytes allocated reading {Packets} packets");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void WritingAllocatesAlmostNothing()
    {
        var stream = new MemoryStream(capacity: 8 << 20);
        byte[] data = new byte[100];
        using var pcap = new PcapWriter(stream, LinkType.Ethernet, leaveOpen: true);
        using var ng = new PcapNgWriter(new MemoryStream(capacity: 8 << 20));
        int id = ng.AddInterface(LinkType.Ethernet);
        pcap.Write(0, data);
        ng.Write(id, 0, data);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20_000; i++)
        {
            pcap.Write(i * 1000L, data);
            ng.Write(id, i * 1000L, data);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 20_000, $"{allocated} bytes allocated writing 40000 packets");
    }
}
