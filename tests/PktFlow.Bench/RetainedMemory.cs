using PktFlow.Capture;
using PktFlow.Replay;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

/// <summary>
/// Retained memory over a long capture: a replay must not keep state per packet or per flow longer than
/// the kernel would (predicted forwards, connected sockets, reassembly queues). The capture varies IP ids
/// and ports per copy, as real traffic does, so that every copy is a new flow; the managed heap left
/// after a full collection is printed at intervals while the replay runs.
/// </summary>
internal static class RetainedMemory
{
    public const long Packets = 1_000_000;
    private const int Intervals = 5;

    public static void Run(string dir, string lab)
    {
        var pcap = Path.Combine(dir, "long.pcap");
        long seconds = Write(pcap);
        Console.WriteLine($"capture: {Packets} packets over {seconds} s of capture time, a new flow per copy (forwarded UDP, host UDP answers, TCP to the host, a fragment never completed, ARP)");
        var runner = new ReplayRunner(new ReplayOptions { Topology = LabLoader.LoadFile(lab), InjectAt = "eth0" });
        long n = 0, baseline = GC.GetTotalMemory(true);
        var line = new List<string>();
        foreach (var e in runner.Run(pcap))
        {
            if (e is not TraceEvent) continue;
            if (++n % (Packets / Intervals) == 0) line.Add($"{n / 1000}k: {(GC.GetTotalMemory(true) - baseline) / 1024.0 / 1024.0:N1} MiB");
        }
        Console.WriteLine($"{"retained managed heap after a full GC",-52} {string.Join(", ", line)}");
    }

    /// <summary>Writes the capture; returns how many seconds of capture time it spans (one frame a millisecond).</summary>
    private static long Write(string pcap)
    {
        var host = MacAddress.Parse("02:00:00:00:01:01");
        var client = MacAddress.Parse("02:00:00:00:01:02");
        IpAddr c4 = IpAddr.Parse("10.1.0.2"), h4 = IpAddr.Parse("10.1.0.1"), far = IpAddr.Parse("10.2.0.9");
        const long start = 1_700_000_000_000_000_000L, step = 1_000_000L;
        long n = 0;
        using var fs = File.Create(pcap);
        using var w = new PcapWriter(fs, LinkType.Ethernet);
        for (int copy = 0; n < Packets; copy++)
        {
            ushort id = (ushort)copy, port = (ushort)(1024 + copy % 64000);
            var frames = new[]
            {
                FrameBuilder.Ethernet(host, client, 0x0800, FrameBuilder.Ipv4(c4, far, 17, FrameBuilder.Udp(c4, far, port, 53, 64), id: id)),
                FrameBuilder.Ethernet(client, host, 0x0800, FrameBuilder.Ipv4(h4, c4, 17, FrameBuilder.Udp(h4, c4, 53, port, 64), id: id)),
                FrameBuilder.Ethernet(host, client, 0x0800, FrameBuilder.Ipv4(c4, h4, 6, FrameBuilder.Tcp(c4, h4, port, 80), id: id)),
                FrameBuilder.Ethernet(host, client, 0x0800, FrameBuilder.Ipv4(c4, h4, 17, new byte[64], df: false, id: id, fragmentField: 0x2000)),
                FrameBuilder.Ethernet(MacAddress.Broadcast, client, 0x0806, FrameBuilder.Arp(1, client, c4, MacAddress.Zero, h4)),
            };
            foreach (var f in frames)
            {
                if (n == Packets) break;
                w.Write(start + n * step, f);
                n++;
            }
        }
        return n * step / 1_000_000_000L;
    }
}
