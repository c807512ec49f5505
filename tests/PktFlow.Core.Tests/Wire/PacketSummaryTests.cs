using PktFlow.Wire;
using Xunit.Abstractions;

namespace PktFlow.Tests.Wire;

public class PacketSummaryTests
{
    private readonly ITestOutputHelper _out;
    public PacketSummaryTests(ITestOutputHelper output) => _out = output;

    private const string SamplesPcap = "samples.pcap";
    private const string SamplesExpected = "samples.tcpdump.txt";

    /// <summary>The committed capture is exactly what <see cref="WireSamples"/> builds (set
    /// PKTFLOW_WRITE_WIRE_SAMPLES=1 to rewrite it, then regenerate the expected text with
    /// `tcpdump -n -r samples.pcap`).</summary>
    [Fact]
    public void SamplesCapture_MatchesGenerator()
    {
        var samples = WireSamples.All();
        var bytes = TestPcap.Write(TestPcap.LinkEthernet, samples.Select(s => (s.Frame, s.WireLength)));
        var path = TestPcap.WireTestData(SamplesPcap);
        if (Environment.GetEnvironmentVariable("PKTFLOW_WRITE_WIRE_SAMPLES") == "1")
        {
            File.WriteAllBytes(path, bytes);
            File.WriteAllLines(TestPcap.WireTestData("samples.names.txt"), samples.Select((s, i) => $"{i + 1} {s.Name}"));
        }
        Assert.Equal(bytes, File.ReadAllBytes(path));
    }

    [Fact]
    public void Samples_MatchTcpdump()
    {
        var records = TestPcap.Read(TestPcap.WireTestData(SamplesPcap));
        var expected = File.ReadAllLines(TestPcap.WireTestData(SamplesExpected)).Where(l => l.Length > 0 && !char.IsWhiteSpace(l[0])).ToList();
        var names = WireSamples.All().Select(s => s.Name).ToList();
        Assert.Equal(records.Count, expected.Count);
        var session = new PacketSummarySession();
        int same = 0;
        var diffs = new List<string>();
        for (int i = 0; i < records.Count; i++)
        {
            var r = records[i];
            string got = PacketSummary.Format(r.Data, 0, r.WireLength, session);
            string want = TestPcap.StripTimestamp(expected[i]);
            if (got == want) same++;
            else diffs.Add($"#{i + 1} {(i < names.Count ? names[i] : "?")}\n  want: {want}\n  got:  {got}");
        }
        _out.WriteLine($"PacketSummary vs tcpdump on samples.pcap: {same}/{records.Count} lines ({100.0 * same / records.Count:F1}%)");
        foreach (var d in diffs) _out.WriteLine(d);
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
    }
}
