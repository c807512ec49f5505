using System.Diagnostics;
using PktFlow.Capture;
using PktFlow.Replay;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

// build.ps1 Bench: replays a generated capture (local TCP, forwarded UDP, ARP, IPv6 echo) and reports
// throughput and managed bytes allocated per packet for the reader alone and for the whole datapath.
const int Packets = 200_000;
var dir = Path.Combine(Path.GetTempPath(), "pktflow-bench");
Directory.CreateDirectory(dir);
var pcap = Path.Combine(dir, "bench.pcap");
var lab = Path.Combine(dir, "bench.lab");
File.WriteAllText(lab, """
    ip link set eth0 address 02:00:00:00:01:01
    ip link set eth0 up
    ip link set eth1 address 02:00:00:00:02:01
    ip link set eth1 up
    ip addr add 10.1.0.1/24 dev eth0
    ip addr add 10.2.0.1/24 dev eth1
    ip addr add 2001:db8:1::1/64 dev eth0
    sysctl -w net.ipv4.ip_forward=1
    """);

var host = MacAddress.Parse("02:00:00:00:01:01");
var client = MacAddress.Parse("02:00:00:00:01:02");
IpAddr c4 = IpAddr.Parse("10.1.0.2"), h4 = IpAddr.Parse("10.1.0.1"), far = IpAddr.Parse("10.2.0.9");
IpAddr c6 = IpAddr.Parse("2001:db8:1::2"), h6 = IpAddr.Parse("2001:db8:1::1");
var frames = new[]
{
    FrameBuilder.Ethernet(host, client, 0x0800, FrameBuilder.Ipv4(c4, h4, 6, FrameBuilder.Tcp(c4, h4, 40000, 80))),
    FrameBuilder.Ethernet(host, client, 0x0800, FrameBuilder.Ipv4(c4, far, 17, FrameBuilder.Udp(c4, far, 5000, 53, 64))),
    FrameBuilder.Ethernet(MacAddress.Broadcast, client, 0x0806, FrameBuilder.Arp(1, client, c4, MacAddress.Zero, h4)),
    FrameBuilder.Ethernet(host, client, 0x86DD, FrameBuilder.Ipv6(c6, h6, 58, FrameBuilder.Icmpv6(c6, h6, 128, new byte[60]))),
};
using (var fs = File.Create(pcap))
using (var w = new PcapWriter(fs, LinkType.Ethernet))
    for (int i = 0; i < Packets; i++) w.Write(1_700_000_000_000_000_000L + i * 1000L, frames[i % frames.Length]);

Console.WriteLine($"capture: {Packets} packets, {new FileInfo(pcap).Length / 1024} KiB, 4 kinds (local TCP, forwarded UDP, ARP, ICMPv6 echo)");
Measure("reader only", () =>
{
    long n = 0;
    using var r = CaptureReader.Open(pcap);
    while (r.Read(out _, out _) != CaptureReadStatus.End) n++;
    return n;
});
Measure("reader + summary line", () =>
{
    long n = 0;
    using var r = CaptureReader.Open(pcap);
    while (r.Read(out var f, out _) == CaptureReadStatus.Frame) { _ = PacketSummary.Format(f.Data.Span, 0); n++; }
    return n;
});
Measure("whole datapath (PacketTrace per packet)", () =>
{
    long n = 0;
    var runner = new ReplayRunner(new ReplayOptions { Topology = LabLoader.LoadFile(lab), InjectAt = "eth0" });
    foreach (var e in runner.Run(pcap)) if (e is TraceEvent) n++;
    return n;
});

static void Measure(string name, Func<long> run)
{
    run(); // warm up
    GC.Collect();
    long before = GC.GetTotalAllocatedBytes(precise: true);
    var sw = Stopwatch.StartNew();
    long n = run();
    sw.Stop();
    long bytes = GC.GetTotalAllocatedBytes(precise: true) - before;
    Console.WriteLine($"{name,-42} {n / sw.Elapsed.TotalSeconds,12:N0} packets/s   {bytes / (double)Math.Max(1, n),10:N1} bytes allocated/packet");
}
