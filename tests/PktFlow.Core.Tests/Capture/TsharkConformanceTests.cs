using System.Globalization;
using PktFlow.Capture;
using static PktFlow.Tests.Capture.CaptureTestSupport;

namespace PktFlow.Tests.Capture;

/// <summary>
/// The reader against tshark, on tcpdump's test captures (referenced in place) and the committed
/// sample; expectations in TestData/capture/tshark-expected.tsv (its header says how it was made).
/// </summary>
public class TsharkConformanceTests
{
    private sealed record Expected(long Number, string Epoch, int Length, int CapturedLength, int InterfaceId);

    private static Dictionary<string, List<Expected>> LoadExpectations()
    {
        var byFile = new Dictionary<string, List<Expected>>();
        foreach (string line in File.ReadLines(TestData("tshark-expected.tsv")))
        {
            if (line.StartsWith('#') || line.StartsWith("file\t", StringComparison.Ordinal) || line.Length == 0)
            {
                continue;
            }

            string[] f = line.Split('\t');
            Assert.Equal(6, f.Length);
            var rows = byFile.TryGetValue(f[0], out var list) ? list : byFile[f[0]] = [];
            if (f[1] == "0")
            {
                continue;
            }

            rows.Add(new Expected(long.Parse(f[1], CultureInfo.InvariantCulture), f[2],
                int.Parse(f[3], CultureInfo.InvariantCulture), int.Parse(f[4], CultureInfo.InvariantCulture),
                f[5].Length == 0 ? 0 : int.Parse(f[5], CultureInfo.InvariantCulture)));
        }

        return byFile;
    }

    /// <summary>tshark's "seconds.nanoseconds" as nanoseconds, exactly.</summary>
    internal static long ParseEpoch(string epoch)
    {
        string[] parts = epoch.Split('.');
        Assert.Equal(2, parts.Length);
        Assert.Equal(9, parts[1].Length);
        return long.Parse(parts[0], CultureInfo.InvariantCulture) * 1_000_000_000
            + long.Parse(parts[1], CultureInfo.InvariantCulture);
    }

    [TcpdumpFact]
    public void TcpdumpCapturesAgreeWithTshark()
    {
        var expectations = LoadExpectations().Where(e => e.Key.StartsWith("../", StringComparison.Ordinal)).ToList();
        Assert.InRange(expectations.Count, 10, 20);
        int compared = expectations.Sum(e => Compare(e.Key, e.Value));
        Assert.True(compared > 200, $"only {compared} frames compared");
    }

    [Fact]
    public void CommittedSampleAgreesWithTshark()
    {
        var sample = LoadExpectations().Single(e => e.Key == SampleFiles.MixedSections);
        Assert.Equal(9, Compare(sample.Key, sample.Value));
    }

    /// <summary>Reads <paramref name="file"/> and checks it frame by frame; returns how many frames were compared.</summary>
    private static int Compare(string file, List<Expected> rows)
    {
        var items = ReadAll(CaptureReader.Open(Path.Combine(RepoRoot, file)));
        Assert.True(ProblemsOf(items).Count == 0, $"{file}: {string.Join("; ", ProblemsOf(items))}");
        var frames = items.Where(i => i.Status == CaptureReadStatus.Frame).ToList();
        Assert.True(rows.Count == frames.Count, $"{file}: tshark has {rows.Count} frames, the reader {frames.Count}");
        long previous = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            var want = rows[i];
            var got = frames[i].Frame;
            string at = $"{file} frame {want.Number}";
            Assert.True(want.Number == got.Number, at);
            Assert.True(want.Length == got.OriginalLength, $"{at}: len {want.Length} != {got.OriginalLength}");
            Assert.True(want.CapturedLength == got.CapturedLength, $"{at}: cap_len {want.CapturedLength} != {got.CapturedLength}");
            Assert.True(want.CapturedLength == frames[i].Data.Length, $"{at}: {frames[i].Data.Length} bytes of data");
            Assert.True(want.InterfaceId == got.InterfaceId, $"{at}: interface {want.InterfaceId} != {got.InterfaceId}");
            // No timestamp in tshark (a simple packet block): the reader repeats the previous one.
            long ns = want.Epoch.Length == 0 ? previous : ParseEpoch(want.Epoch);
            Assert.True(ns == got.TimestampNs, $"{at}: time {ns} != {got.TimestampNs}");
            previous = got.TimestampNs;
        }

        return rows.Count;
    }

    [TcpdumpFact]
    public void LinkTypesOfTcpdumpCaptures()
    {
        // As file(1) names them.
        (string File, LinkType Type, CaptureFileFormat Format)[] cases =
        [
            ("tcp/tcpdump__ssh.pcap", LinkType.Ethernet, CaptureFileFormat.Pcap),
            ("tunnel/tcpdump__pptp.pcap", LinkType.Ethernet, CaptureFileFormat.Pcap),                // big-endian
            ("linktype/tcpdump__ipoib.pcap", (LinkType)242, CaptureFileFormat.Pcap),                 // big-endian
            ("linktype/tcpdump__nflog.pcap", (LinkType)239, CaptureFileFormat.Pcap),
            ("linktype/tcpdump__quic_handshake.pcap", LinkType.Null, CaptureFileFormat.Pcap),
            ("linktype/tcpdump__LINKTYPE_IPV4.pcap", LinkType.Ipv4, CaptureFileFormat.Pcap),
            ("linktype/tcpdump__LINKTYPE_IPV6.pcap", LinkType.Ipv6, CaptureFileFormat.Pcap),
            ("linktype/tcpdump__LINKTYPE_RAW_ipv4.pcap", LinkType.Raw, CaptureFileFormat.Pcap),
            ("tcp/tcpdump__mptcp-v1.pcap", LinkType.LinuxSll, CaptureFileFormat.Pcap),
            ("tcp/tcpdump__tcp-handshake-nano.pcap", LinkType.LinuxSll, CaptureFileFormat.Pcap),
            ("malformed/tcpdump__udp-length-heapoverflow.pcap", LinkType.Ethernet, CaptureFileFormat.Pcap), // FCS bits set
            ("trunc/tcpdump__esp_truncated.pcap", LinkType.Ethernet, CaptureFileFormat.Pcap),                // FCS bits set
            ("malformed/tcpdump__unsupported-link-type-160.pcap", (LinkType)160, CaptureFileFormat.Pcap),
        ];
        foreach (var (file, type, format) in cases)
        {
            using var reader = CaptureReader.Open(Path.Combine(TcpdumpPcaps, file));
            Assert.Equal(format, reader.Format);
            var items = ReadAll(reader);
            Assert.All(FramesOf(items), f => Assert.True(f.LinkType == type, $"{file}: {f.LinkType}"));
            Assert.NotEmpty(FramesOf(items));
        }

        using var empty = CaptureReader.Open(Path.Combine(TcpdumpPcaps, "malformed/tcpdump__empty.pcapng"));
        Assert.Equal(CaptureFileFormat.PcapNg, empty.Format);
    }

    [TcpdumpFact]
    public void SupportedLinkLayersDecodeInTcpdumpCaptures()
    {
        (string File, ushort EtherType)[] cases =
        [
            ("linktype/tcpdump__quic_handshake.pcap", 0x86dd),     // tshark: null:ipv6:udp:quic
            ("linktype/tcpdump__LINKTYPE_IPV6.pcap", 0x86dd),
            ("linktype/tcpdump__LINKTYPE_RAW_ipv4.pcap", 0x0800),
            ("linktype/tcpdump__LINKTYPE_RAW_ipv6.pcap", 0x86dd),
            ("tcp/tcpdump__tcp-handshake-nano.pcap", 0x0800),
        ];
        foreach (var (file, etherType) in cases)
        {
            var items = ReadAll(CaptureReader.Open(Path.Combine(TcpdumpPcaps, file)));
            foreach (var item in items.Where(i => i.Status == CaptureReadStatus.Frame))
            {
                Assert.True(LinkLayer.TryDecode(item.Frame.LinkType, item.Data, out var info, out string? error), $"{file}: {error}");
                Assert.Equal(etherType, info.EtherType);
            }
        }

        var nflog = FramesOf(ReadAll(CaptureReader.Open(Path.Combine(TcpdumpPcaps, "linktype/tcpdump__nflog.pcap"))))[0];
        Assert.False(LinkLayer.TryDecode(nflog.LinkType, default, out _, out string? nflogError));
        Assert.StartsWith("link type 239 (NFLOG) is not supported", nflogError);
    }

    [TcpdumpFact]
    public void InvalidNanosecondsAreReadWithProblems()
    {
        // tcpdump prints "(invalid ns)"; tshark 4.0 prints nonsense ("1418145370.1000000000", a negative
        // time for 2147483648 ns), so this file is checked here rather than in the TSV.
        var items = ReadAll(CaptureReader.Open(Path.Combine(TcpdumpPcaps, "linktype/tcpdump__timestamp_invalid_nano.pcap")));
        Assert.Equal("F P F P F E", Shape(items));
        Assert.All(ProblemsOf(items), p => Assert.Equal(CaptureProblemCodes.BadTimestamp, p.Code));
        Assert.Equal([1_418_145_369_999_999_999L, 1_418_145_371_000_000_000L, 1_418_145_372_147_483_648L],
            FramesOf(items).Select(f => f.TimestampNs));
    }

    [TcpdumpFact]
    public void EveryTcpdumpCaptureReadsWithoutProblems()
    {
        var files = Directory.EnumerateFiles(TcpdumpPcaps, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".pcap", StringComparison.Ordinal) || f.EndsWith(".pcapng", StringComparison.Ordinal))
            .Where(f => !f.Contains("timestamp_invalid_nano", StringComparison.Ordinal))
            .ToList();
        Assert.True(files.Count > 50, $"{files.Count} captures");
        foreach (string file in files)
        {
            var items = ReadAll(CaptureReader.Open(file));
            Assert.True(ProblemsOf(items).Count == 0, $"{file}: {string.Join("; ", ProblemsOf(items))}");
        }
    }
}
