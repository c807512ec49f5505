using PktFlow.Capture;
using PktFlow.Filter;
using PktFlow.Tests.Capture;
using Xunit.Abstractions;

namespace PktFlow.Tests.Filter;

/// <summary>
/// <see cref="CaptureFilter"/> against tcpdump: every expression of filter-expectations.tsv over
/// every capture it lists (tcpdump's test captures, referenced in place, and the filter-*.pcap files
/// here) must match exactly the frames tcpdump matched. The TSV's header says how it was made.
/// </summary>
public class CaptureFilterConformanceTests(ITestOutputHelper output)
{
    private const string Folder = "tests/PktFlow.Core.Tests/Filter";

    private sealed record Expectations(List<string> Captures, List<string> Expressions, Dictionary<(string, string), string> Cells);

    private sealed record Frame(long Number, LinkType LinkType, byte[] Data, int OriginalLength);

    private static Expectations Load()
    {
        var captures = new List<string>();
        var expressions = new List<string>();
        var cells = new Dictionary<(string, string), string>();
        foreach (string line in File.ReadLines(Path.Combine(CaptureTestSupport.RepoRoot, Folder, "filter-expectations.tsv")))
        {
            string[] f = line.Split('\t');
            if (f[0] == "#capture") captures.Add(f[1]);
            else if (f[0] == "#expression") expressions.Add(f[1]);
            else if (!line.StartsWith('#') && line.Length > 0)
            {
                Assert.Equal(3, f.Length);
                cells.Add((f[0], f[1]), f[2]);
            }
        }

        return new Expectations(captures, expressions, cells);
    }

    [Fact]
    public void ExpectationsCoverFortyExpressionsAndTheGeneratedCaptures()
    {
        var e = Load();
        Assert.True(e.Expressions.Count >= 40, $"{e.Expressions.Count} expressions");
        Assert.Contains($"{Folder}/filter-ethernet.pcap", e.Captures);
        Assert.Contains($"{Folder}/filter-sll2.pcap", e.Captures);
        Assert.All(e.Cells.Keys, k => Assert.Contains(k.Item1, e.Captures));
        Assert.All(e.Cells.Keys, k => Assert.Contains(k.Item2, e.Expressions));
    }

    [Fact]
    public void GeneratedCapturesAgreeWithTcpdump()
    {
        var e = Load();
        var (cells, mismatches) = Compare(e, e.Captures.Where(c => c.StartsWith(Folder, StringComparison.Ordinal)));
        Assert.True(cells >= 2 * e.Expressions.Count, $"only {cells} cells compared");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [TcpdumpFact]
    public void TcpdumpCapturesAgreeWithTcpdump()
    {
        var e = Load();
        var (cells, mismatches) = Compare(e, e.Captures.Where(c => c.StartsWith("../", StringComparison.Ordinal)));
        Assert.True(cells >= 40 * e.Expressions.Count, $"only {cells} cells compared");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {cells} cells differ from tcpdump:\n" + string.Join("\n", mismatches));
    }

    private (int Cells, List<string> Mismatches) Compare(Expectations e, IEnumerable<string> captures)
    {
        var filters = e.Expressions.Select(CaptureFilter.Parse).ToList();
        var mismatches = new List<string>();
        int cells = 0;
        foreach (string capture in captures)
        {
            var frames = ReadFrames(Path.Combine(CaptureTestSupport.RepoRoot, capture));
            foreach (var filter in filters)
            {
                cells++;
                string want = e.Cells.GetValueOrDefault((capture, filter.Expression), "-");
                if (want.StartsWith("error: ", StringComparison.Ordinal))
                {
                    // tcpdump would not compile it for this link type: PktFlow must say so too.
                    var linkType = frames.Count > 0 ? frames[0].LinkType : LinkType.Ethernet;
                    if (filter.CheckLinkType(linkType) is null)
                    {
                        mismatches.Add($"{capture}\t{filter.Expression}\ttcpdump: {want}; PktFlow: no link-type problem");
                    }

                    continue;
                }

                var matched = frames.Where(f => filter.Matches(f.LinkType, f.Data, f.OriginalLength)).Select(f => f.Number).ToList();
                string got = Ranges(matched);
                if (got != want) mismatches.Add($"{capture}\t{filter.Expression}\ttcpdump {want}\tPktFlow {got}");
            }
        }

        output.WriteLine($"{cells - mismatches.Count} of {cells} cells agree with tcpdump");
        return (cells, mismatches);
    }

    private static List<Frame> ReadFrames(string path)
    {
        var frames = new List<Frame>();
        using var reader = CaptureReader.Open(path);
        while (reader.Read(out var frame, out _) is var status && status != CaptureReadStatus.End)
        {
            if (status == CaptureReadStatus.Frame)
            {
                frames.Add(new Frame(frame.Number, frame.LinkType, frame.Data.ToArray(), frame.OriginalLength));
            }
        }

        return frames;
    }

    /// <summary>1-3,5,7-9 (the TSV's notation); "-" when empty.</summary>
    internal static string Ranges(IReadOnlyList<long> numbers)
    {
        if (numbers.Count == 0) return "-";
        var parts = new List<string>();
        int i = 0;
        while (i < numbers.Count)
        {
            int j = i;
            while (j + 1 < numbers.Count && numbers[j + 1] == numbers[j] + 1) j++;
            parts.Add(i == j ? $"{numbers[i]}" : $"{numbers[i]}-{numbers[j]}");
            i = j + 1;
        }

        return string.Join(",", parts);
    }
}
