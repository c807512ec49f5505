using PktFlow.Wire;
using Xunit.Abstractions;

namespace PktFlow.Tests.Wire;

/// <summary>
/// Measures <see cref="PacketSummary"/> against the decodes tcpdump's own test suite expects
/// (../shared/conformance/pcaps-tcpdump, used in place). Only captures whose expected output was made
/// without extra flags (MANIFEST "flags: (none)", i.e. plain `tcpdump -n`) are comparable; -v/-e/-x
/// outputs print other things. Compared: the first line of each packet, timestamp and -# number removed.
/// </summary>
public class PacketSummaryConformanceTests
{
    private readonly ITestOutputHelper _out;
    public PacketSummaryConformanceTests(ITestOutputHelper output) => _out = output;

    /// <summary>Agreement reached on the TCP / UDP / ICMP captures (lines equal / lines compared).
    /// Raise it when PacketSummary improves; a drop means a regression.</summary>
    private const double TransportFloor = 1.0; // 114/114 lines on 2025 data

    private static readonly string[] TransportDirectories = ["tcp", "udp-dns", "icmp"];

    public static string? ConformanceRoot()
    {
        var dir = Path.GetFullPath(Path.Combine(TestPcap.RepoRoot(), "..", "shared", "conformance", "pcaps-tcpdump"));
        return Directory.Exists(dir) ? dir : null;
    }

    /// <summary>(pcap path, expected .out path) for every capture whose expected output used no extra flags.</summary>
    public static List<(string Pcap, string Out)> PlainCases(string root)
    {
        var manifest = Path.Combine(root, "..", "MANIFEST.tsv");
        var plain = new HashSet<string>(StringComparer.Ordinal);
        if (File.Exists(manifest))
        {
            foreach (var line in File.ReadLines(manifest))
            {
                var cols = line.Split('\t');
                if (cols.Length > 0 && cols[0].EndsWith(".tcpdump.out", StringComparison.Ordinal) && line.Contains("flags: (none)", StringComparison.Ordinal))
                    plain.Add(cols[0].Replace("pcaps-tcpdump/", "", StringComparison.Ordinal));
            }
        }
        var list = new List<(string, string)>();
        foreach (var outFile in Directory.EnumerateFiles(root, "*.tcpdump.out", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var rel = Path.GetRelativePath(root, outFile).Replace('\\', '/');
            if (!plain.Contains(rel)) continue;
            var pcap = outFile[..^".tcpdump.out".Length];
            if (File.Exists(pcap)) list.Add((pcap, outFile));
        }
        return list;
    }

    /// <summary>Compares one capture; returns (equal, compared) and the differing lines.</summary>
    public static (int Same, int Total, List<string> Diffs) Compare(string pcap, string outFile)
    {
        var records = TestPcap.Read(pcap);
        // Continuation lines (hex dumps, -v detail) start with a tab; packet lines with the -# number or the time.
        var expected = File.ReadAllLines(outFile).Where(l => l.Length > 0 && l[0] != '\t').ToList();
        var diffs = new List<string>();
        var session = new PacketSummarySession();
        int same = 0, total = 0;
        for (int i = 0; i < records.Count && i < expected.Count; i++)
        {
            if (!TestPcap.Link(records[i], out var data, out int et, out int wire)) return (0, 0, diffs); // link type we do not summarise
            total++;
            string got = PacketSummary.Format(data, et, wire, session);
            string want = TestPcap.StripTimestamp(expected[i]);
            if (got == want) same++;
            else diffs.Add($"{Path.GetFileName(pcap)} #{i + 1}\n  want: {want}\n  got:  {got}");
        }
        return (same, total, diffs);
    }

    [Fact]
    public void TransportCaptures_AgreeWithTcpdump()
    {
        var root = ConformanceRoot();
        if (root is null) { _out.WriteLine("conformance data absent: skipped"); return; }
        int same = 0, total = 0;
        foreach (var (pcap, outFile) in PlainCases(root))
        {
            var dir = Path.GetFileName(Path.GetDirectoryName(pcap))!;
            // The LINKTYPE_IPV4/IPV6/RAW captures are UDP (DNS) over raw IP links.
            bool transport = TransportDirectories.Contains(dir) || (dir == "linktype" && Path.GetFileName(pcap).StartsWith("tcpdump__LINKTYPE_", StringComparison.Ordinal));
            var (s, t, diffs) = Compare(pcap, outFile);
            _out.WriteLine($"{(transport ? "*" : " ")} {dir}/{Path.GetFileName(pcap)}: {s}/{t}");
            foreach (var d in diffs.Take(6)) _out.WriteLine(d);
            if (!transport) continue;
            same += s;
            total += t;
        }
        double ratio = total == 0 ? 1 : (double)same / total;
        _out.WriteLine($"TCP/UDP/ICMP captures: {same}/{total} lines agree ({100 * ratio:F1}%)");
        Assert.True(ratio >= TransportFloor, $"agreement {ratio:P1} fell below the floor {TransportFloor:P1}");
    }
}
