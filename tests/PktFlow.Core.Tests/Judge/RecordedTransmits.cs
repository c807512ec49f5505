using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Judge;

/// <summary>
/// A recorded scenario's frames the model sends on one device, next to what the kernel sent there
/// (a `host-DEV-out.pcap` kept with the recording), for byte-for-byte comparisons.
/// </summary>
internal static class RecordedTransmits
{
    public static string Scenario(string name) => Path.Combine(RepoPaths.Root, "tests", "scenarios", name);

    /// <summary>The scenario's wire.pcap replayed at <paramref name="injectAt"/> (the observed sender given): every frame the model transmits on <paramref name="ns"/>/<paramref name="dev"/>.</summary>
    public static List<byte[]> Model(string dir, string injectAt, string observedSender, string ns, string dev) =>
        Replay(dir, injectAt, observedSender, (n, d, _) => n == ns && d == dev).Sent.Select(s => s.Frame).ToList();

    /// <summary>
    /// The scenario's wire.pcap (its first <paramref name="frames"/> frames) replayed at <paramref name="injectAt"/>,
    /// with the observed sender when given: the engine after it and the frames it transmitted that <paramref name="keep"/> takes, with their device.
    /// </summary>
    public static (DatapathEngine Engine, List<(string Dev, byte[] Frame)> Sent) Replay(
        string dir, string injectAt, string? observedSender, Func<string, string, byte[], bool> keep, int frames = int.MaxValue)
    {
        var sent = new List<(string, byte[])>();
        var engine = new DatapathEngine(LabLoader.LoadFile(Path.Combine(dir, "lab.sh")))
        {
            OnTransmit = (n, d, frame) => { if (keep(n, d, frame)) sent.Add((d, frame)); },
        };
        var at = engine.ResolveInjectionPoint(injectAt);
        if (observedSender != null) engine.ObserveSenders(at, new[] { IpAddr.Parse(observedSender) });
        using (var reader = CaptureReader.Open(Path.Combine(dir, "wire.pcap")))
            for (int n = 0; n < frames && reader.Read(out var f, out _) == CaptureReadStatus.Frame; n++) engine.Process(f, "wire.pcap", at);
        return (engine, sent);
    }

    /// <summary>The frames of a capture file, in order.</summary>
    public static List<byte[]> Kernel(string pcap)
    {
        var kernel = new List<byte[]>();
        using var reader = CaptureReader.Open(pcap);
        while (reader.Read(out var f, out _) == CaptureReadStatus.Frame) kernel.Add(f.Data.ToArray());
        return kernel;
    }
}
