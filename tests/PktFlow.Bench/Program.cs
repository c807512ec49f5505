using System.Diagnostics;
using System.Runtime.CompilerServices;
using PktFlow.Capture;
using PktFlow.Filter;
using PktFlow.Judge;
using PktFlow.Replay;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

// build.ps1 Bench: replays a generated capture (local TCP, forwarded UDP, ARP, IPv6 echo) and reports
// throughput and managed bytes allocated per packet for the reader alone and for the whole datapath, with a
// -Filter, and over a realistic ruleset (a recorded kube-proxy scenario replicated); then the managed heap a long
// replay retains (RetainedMemory.cs).
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
// `dotnet run -- memory`: only the retained-memory figure; `dotnet run -- tc-bpf`: only the tc BPF figure
if (args is ["memory"]) { RetainedMemory.Run(dir, lab); return; }
if (args is ["tc-bpf"]) { TcBpf(dir); return; }

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
Measure("whole datapath (PacketTrace per packet)", () => Replay(pcap, lab, "eth0"));
// -Filter: every frame is read and matched, one in four is traced; figures are per frame read.
Measure("whole datapath, -Filter udp (1 in 4 traced)", () =>
{
    Replay(pcap, lab, "eth0", CaptureFilter.Parse("udp"));
    return Packets;
});

// A realistic ruleset: the kube-proxy NodePort scenario (iptables-nft rules of a Kubernetes node, br_netfilter,
// DNAT to a pod, masquerade, conntrack) with its recorded capture repeated, each copy 300 s after the last so
// that every connection is a new one for conntrack (TIME_WAIT is 120 s).
var scenario = Path.Combine(RepoRoot(), "tests", "scenarios", "kube-proxy-nodeport");
var kubePcap = Path.Combine(dir, "kube-proxy-nodeport.pcap");
long kubePackets = Repeat(Path.Combine(scenario, "wire.pcap"), kubePcap, Packets / 4);
var kubeWire = KernelRecord.Load(Path.Combine(scenario, "kernel.json")).Wire;
Console.WriteLine($"capture: {kubePackets} packets, tests/scenarios/kube-proxy-nodeport/wire.pcap repeated (NodePort connections, a closed port, ARP)");
Measure("kube-proxy NodePort ruleset (PacketTrace per packet)", () => Replay(kubePcap, Path.Combine(scenario, "lab.sh"), kubeWire));
TcBpf(dir);
RetainedMemory.Run(dir, lab);

// A cls_bpf program on the hot path: the tc-bpf-tailcall scenario (direct action, tail calls through a
// program array, 33 of them for UDP 9999, array and hash map lookups and updates, LD_ABS loads) repeated.
static void TcBpf(string dir)
{
    var scenario = Path.Combine(RepoRoot(), "tests", "scenarios", "tc-bpf-tailcall");
    var pcap = Path.Combine(dir, "tc-bpf-tailcall.pcap");
    long packets = Repeat(Path.Combine(scenario, "wire.pcap"), pcap, Packets / 4);
    var wire = KernelRecord.Load(Path.Combine(scenario, "kernel.json")).Wire;
    Console.WriteLine($"capture: {packets} packets, tests/scenarios/tc-bpf-tailcall/wire.pcap repeated (tc ingress cls_bpf: tail calls, map lookups)");
    Measure("tc cls_bpf with tail calls and maps (PacketTrace per packet)", () => Replay(pcap, Path.Combine(scenario, "lab.sh"), wire));
}

static long Replay(string capture, string labFile, string injectAt, CaptureFilter? filter = null)
{
    long n = 0;
    var runner = new ReplayRunner(new ReplayOptions { Topology = LabLoader.LoadFile(labFile), InjectAt = injectAt, Filter = filter });
    foreach (var e in runner.Run(capture)) if (e is TraceEvent) n++;
    return n;
}

// Allocation is deterministic and measured once; packets/s depends on what else the machine runs, so the
// run is timed three times and the best and the median are given.
static void Measure(string name, Func<long> run)
{
    run(); // warm up
    GC.Collect();
    long before = GC.GetTotalAllocatedBytes(precise: true);
    var rates = new List<double>();
    long n = 0;
    for (int i = 0; i < 3; i++)
    {
        var sw = Stopwatch.StartNew();
        n = run();
        sw.Stop();
        rates.Add(n / sw.Elapsed.TotalSeconds);
        if (i == 0)
        {
            long bytes = GC.GetTotalAllocatedBytes(precise: true) - before;
            Console.Write($"{name,-52} {bytes / (double)Math.Max(1, n),10:N1} bytes allocated/packet");
        }
    }
    rates.Sort();
    Console.WriteLine($"   {rates[^1],10:N0} packets/s best of 3 (median {rates[1]:N0})");
}

// Writes the capture's frames again and again, each copy shifted 300 s, until at least `packets` are written.
static long Repeat(string source, string target, long packets)
{
    var frames = new List<(long Ts, byte[] Data, LinkType Link)>();
    using (var r = CaptureReader.Open(source))
        while (r.Read(out var f, out _) is var s && s != CaptureReadStatus.End)
            if (s == CaptureReadStatus.Frame) frames.Add((f.TimestampNs, f.Data.ToArray(), f.LinkType));
    long n = 0;
    using var fs = File.Create(target);
    using var w = new PcapWriter(fs, frames[0].Link);
    for (long copy = 0; n < packets; copy++)
        foreach (var (ts, data, _) in frames) { w.Write(ts + copy * 300_000_000_000L, data); n++; }
    return n;
}

// The repository this file was compiled from (the build output may live anywhere, e.g. --artifacts-path).
static string RepoRoot([CallerFilePath] string source = "") =>
    Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", ".."));
