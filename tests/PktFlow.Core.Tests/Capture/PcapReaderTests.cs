using PktFlow.Capture;
using static PktFlow.Tests.Capture.CaptureTestSupport;

namespace PktFlow.Tests.Capture;

public class PcapReaderTests
{
    private static readonly byte[] Eth = Frames.Ethernet(0x0800, Frames.Ipv4Udp);

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void ReadsEveryByteOrderAndResolution(bool bigEndian, bool nano)
    {
        byte[] file = new PcapBuilder(bigEndian, nano, snaplen: 65535, linkType: 1)
            .Record(1_700_000_000, nano ? 123_456_789u : 123_456u, Eth)
            .Record(1_700_000_001, 0, Eth.AsSpan(0, 20).ToArray(), original: 1500)
            .ToArray();

        var items = ReadAll(file);

        Assert.Equal("F F E", Shape(items));
        var first = items[0].Frame;
        Assert.Equal(1, first.Number);
        Assert.Equal(nano ? 1_700_000_000_123_456_789L : 1_700_000_000_123_456_000L, first.TimestampNs);
        Assert.Equal(LinkType.Ethernet, first.LinkType);
        Assert.Equal(0, first.InterfaceId);
        Assert.Null(first.InterfaceName);
        Assert.Equal(Eth.Length, first.CapturedLength);
        Assert.Equal(Eth.Length, first.OriginalLength);
        Assert.Equal(24, first.FileOffset);
        Assert.Equal(Eth, items[0].Data);
        var second = items[1].Frame;
        Assert.Equal(2, second.Number);
        Assert.Equal(1_700_000_001_000_000_000L, second.TimestampNs);
        Assert.Equal(20, second.CapturedLength);
        Assert.Equal(1500, second.OriginalLength);
        Assert.Equal(24 + 16 + Eth.Length, second.FileOffset);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WriterRoundTrips(bool nano)
    {
        var stream = new MemoryStream();
        var packets = Enumerable.Range(0, 50)
            .Select(i => (Ts: 1_600_000_000_000_000_000L + i * 1_234_567_891L, Data: Enumerable.Range(0, 40 + i).Select(b => (byte)(b + i)).ToArray()))
            .ToList();
        using (var writer = new PcapWriter(stream, LinkType.LinuxSll2, snaplen: 70, nanosecond: nano, leaveOpen: true))
        {
            foreach (var (ts, data) in packets)
            {
                writer.Write(ts, data);
            }

            writer.Write(1_600_000_100_000_000_000L, new byte[10], originalLength: 60);
            Assert.Equal(51, writer.FramesWritten);
        }

        using var reader = CaptureReader.Open(new MemoryStream(stream.ToArray()), "round.pcap");
        Assert.Equal(CaptureFileFormat.Pcap, reader.Format);
        var frames = ReadAll(reader);
        Assert.Equal(52, frames.Count);
        for (int i = 0; i < packets.Count; i++)
        {
            var (ts, data) = packets[i];
            var item = frames[i];
            Assert.Equal(CaptureReadStatus.Frame, item.Status);
            Assert.Equal(i + 1, item.Frame.Number);
            Assert.Equal(nano ? ts : ts / 1000 * 1000, item.Frame.TimestampNs);
            Assert.Equal(LinkType.LinuxSll2, item.Frame.LinkType);
            Assert.Equal(Math.Min(data.Length, 70), item.Frame.CapturedLength);
            Assert.Equal(data.Length, item.Frame.OriginalLength);
            Assert.Equal(data.AsSpan(0, Math.Min(data.Length, 70)).ToArray(), item.Data);
        }

        Assert.Equal(60, frames[50].Frame.OriginalLength);
        Assert.Equal(10, frames[50].Frame.CapturedLength);
    }

    [Fact]
    public void WriterRejectsWhatPcapCannotHold()
    {
        using var writer = new PcapWriter(new MemoryStream(), LinkType.Ethernet);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write(-1, Eth));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write((uint.MaxValue + 1L) * 1_000_000_000, Eth));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write(0, Eth, originalLength: 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PcapWriter(new MemoryStream(), LinkType.Ethernet, snaplen: 0));
    }

    [Fact]
    public void WriterHeaderIsStandard()
    {
        var stream = new MemoryStream();
        using (new PcapWriter(stream, LinkType.Raw, snaplen: 1000, nanosecond: false, leaveOpen: true))
        {
        }

        Assert.Equal(Convert.FromHexString("d4c3b2a1020004000000000000000000e803000065000000"), stream.ToArray());
    }

    [Fact]
    public void LinkTypeIgnoresFcsBits()
    {
        // tcpdump's udp-length-heapoverflow.pcap has 0x30000001: FCS length 3 in the top bits, Ethernet below.
        var frames = FramesOf(ReadAll(new PcapBuilder(linkType: 0x34000001).Record(1, 0, Eth).ToArray()));
        Assert.Equal(LinkType.Ethernet, Assert.Single(frames).LinkType);
    }

    [Fact]
    public void UnknownLinkTypeIsPassedThrough()
    {
        var items = ReadAll(new PcapBuilder(linkType: 147).Record(1, 0, Eth).ToArray());
        Assert.Equal("F E", Shape(items));
        Assert.Equal((LinkType)147, items[0].Frame.LinkType);
    }

    [Fact]
    public void EmptyCaptureHasNoFrames()
    {
        using var reader = CaptureReader.Open(new MemoryStream(new PcapBuilder().ToArray()), "empty.pcap");
        Assert.Equal(CaptureReadStatus.End, reader.Read(out _, out var problem));
        Assert.Null(problem);
        Assert.Equal(24, reader.Position);
        Assert.Equal(24, reader.Length);
    }

    [Fact]
    public void WrongMagicThrows()
    {
        var e = Assert.Throws<CaptureFormatException>(() =>
            CaptureReader.Open(new MemoryStream(Convert.FromHexString("0123456789abcdef0123456789abcdef01234567")), "x.bin"));
        Assert.Equal(CaptureProblemCodes.BadMagic, e.Code);
        Assert.Equal("x.bin", e.File);
        Assert.Equal(0, e.Offset);
        Assert.Contains("x.bin at byte 0 (0x0)", e.Message);
        Assert.Contains("01234567", e.Message);
    }

    [Theory]
    [InlineData("1f8b0800000000000003", "gzip")]
    [InlineData("31373a31363a3039", "text")]
    [InlineData("34cdb2a102000400", "Kuznetzov")]
    public void WrongMagicSaysWhatTheFileIs(string hex, string hint)
    {
        var e = Assert.Throws<CaptureFormatException>(() => CaptureReader.Open(new MemoryStream(Convert.FromHexString(hex)), "x"));
        Assert.Equal(CaptureProblemCodes.BadMagic, e.Code);
        Assert.Contains(hint, e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(23)]
    public void TruncatedFileHeaderThrows(int length)
    {
        byte[] file = new PcapBuilder().ToArray()[..length];
        var e = Assert.Throws<CaptureFormatException>(() => CaptureReader.Open(new MemoryStream(file), "short.pcap"));
        Assert.Equal(CaptureProblemCodes.TruncatedFileHeader, e.Code);
        Assert.StartsWith("short.pcap at byte 0 (0x0): ", e.Message);
    }

    [Fact]
    public void OpenOfMissingFileThrowsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => CaptureReader.Open(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("n") + ".pcap")));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    public void TruncatedRecordHeaderIsFatalAfterTheFramesBeforeIt(int extra)
    {
        byte[] file = new PcapBuilder().Record(1, 0, Eth).Raw(new byte[extra]).ToArray();

        var items = ReadAll(file, "cut.pcap");

        Assert.Equal("F P! E", Shape(items));
        var problem = items[1].Problem!;
        Assert.Equal(CaptureProblemCodes.TruncatedRecordHeader, problem.Code);
        long offset = 24 + 16 + Eth.Length;
        Assert.Equal(offset, problem.Offset);
        Assert.Equal("cut.pcap", problem.File);
        Assert.Contains($"cut.pcap at byte {offset} (0x{offset:x})", problem.Message);
        Assert.Contains("The 1 frame before it was read.", problem.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TruncatedLastRecordIsFatal(bool seekable)
    {
        byte[] file = new PcapBuilder().Record(1, 0, Eth).Record(2, 0, Eth).ToArray()[..^5];
        Stream stream = seekable ? new MemoryStream(file) : new UnseekableStream(file, maxRead: 7);

        var items = ReadAll(CaptureReader.Open(stream, "cut.pcap"));

        Assert.Equal("F P! E", Shape(items));
        var problem = items[1].Problem!;
        Assert.Equal(CaptureProblemCodes.TruncatedRecord, problem.Code);
        Assert.True(problem.Fatal);
        Assert.Equal(24 + 16 + Eth.Length, problem.Offset);
        Assert.Contains($"claims {Eth.Length} captured bytes but only {Eth.Length - 5} remain", problem.Message);
    }

    [Fact]
    public void CaplenOverSnaplenIsReadWithAProblem()
    {
        byte[] big = Enumerable.Range(0, 200).Select(i => (byte)i).ToArray();
        byte[] file = new PcapBuilder(snaplen: 96).Record(1, 0, Eth).Record(2, 0, big).Record(3, 0, Eth).ToArray();

        var items = ReadAll(file, "x.pcap");

        Assert.Equal("F P F F E", Shape(items));
        var problem = items[1].Problem!;
        Assert.Equal(CaptureProblemCodes.CaplenExceedsSnaplen, problem.Code);
        Assert.False(problem.Fatal);
        Assert.Equal(items[2].Frame.FileOffset, problem.Offset);
        Assert.Contains("caplen 200 > 96 snaplen", problem.Message);
        Assert.Equal(2, items[2].Frame.Number);
        Assert.Equal(big, items[2].Data);
        Assert.Equal(3, items[3].Frame.Number);
    }

    [Fact]
    public void AbsurdCaplenIsFatal()
    {
        byte[] file = new PcapBuilder().Record(1, 0, Eth).Record(2, 0, Eth, caplen: 300_000_000).ToArray();

        var items = ReadAll(file, "x.pcap");

        Assert.Equal("F P! E", Shape(items));
        Assert.Equal(CaptureProblemCodes.CaplenTooLarge, items[1].Problem!.Code);
        Assert.Contains("caplen 300000000 > 262144 snaplen", items[1].Problem!.Message);
    }

    [Fact]
    public void CaplenBeyondTheEndOfTheFileIsTruncatedRecord()
    {
        // Plausible enough not to be absurd, but larger than what is left: the brief calls it TruncatedRecord.
        byte[] file = new PcapBuilder(snaplen: 65535).Record(1, 0, Eth).Record(2, 0, Eth, caplen: 900_000).ToArray();

        var items = ReadAll(file, "x.pcap");

        Assert.Equal("F P! E", Shape(items));
        Assert.Equal(CaptureProblemCodes.TruncatedRecord, items[1].Problem!.Code);
        Assert.Contains("caplen 900000 > 65535 snaplen", items[1].Problem!.Message);
    }

    [Fact]
    public void CaplenOverOriginalLengthIsReadWithAProblem()
    {
        var items = ReadAll(new PcapBuilder().Record(1, 0, Eth, original: 10).ToArray());
        Assert.Equal("P F E", Shape(items));
        Assert.Equal(CaptureProblemCodes.CaplenExceedsOriginalLength, items[0].Problem!.Code);
        Assert.Equal(10, items[1].Frame.OriginalLength);
        Assert.Equal(Eth.Length, items[1].Frame.CapturedLength);
    }

    [Fact]
    public void FractionOfASecondOutOfRangeIsReadWithAProblem()
    {
        // As in tcpdump's timestamp_invalid_nano.pcap.
        var items = ReadAll(new PcapBuilder(nano: true).Record(10, 1_000_000_000, Eth).Record(10, 999_999_999, Eth).ToArray());
        Assert.Equal("P F F E", Shape(items));
        Assert.Equal(CaptureProblemCodes.BadTimestamp, items[0].Problem!.Code);
        Assert.Equal(11_000_000_000L, items[1].Frame.TimestampNs);
        Assert.Equal(10_999_999_999L, items[2].Frame.TimestampNs);
    }

    [Fact]
    public void OtherMajorVersionIsReadWithAProblem()
    {
        var items = ReadAll(new PcapBuilder(major: 1, minor: 0).Record(1, 0, Eth).ToArray());
        Assert.Equal("P F E", Shape(items));
        Assert.Equal(CaptureProblemCodes.UnsupportedVersion, items[0].Problem!.Code);
    }

    [Fact]
    public void FramesLargerThanTheInitialBufferAreRead()
    {
        byte[] huge = Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7)).ToArray();
        byte[] file = new PcapBuilder().Record(1, 0, Eth).Record(2, 0, huge).Record(3, 0, Eth).ToArray();

        foreach (var stream in new Stream[] { new MemoryStream(file), new UnseekableStream(file, maxRead: 1000) })
        {
            var items = ReadAll(CaptureReader.Open(stream, "big.pcap"));
            Assert.Equal("F F F E", Shape(items));
            Assert.Equal(huge, items[1].Data);
            Assert.Equal(Eth, items[2].Data);
        }
    }

    [Fact]
    public void PipeReportsUnknownLengthAndTracksPosition()
    {
        byte[] file = new PcapBuilder().Record(1, 0, Eth).ToArray();
        using var reader = CaptureReader.Open(new UnseekableStream(file, maxRead: 3), "pipe");
        Assert.Equal(-1, reader.Length);
        Assert.Equal(CaptureReadStatus.Frame, reader.Read(out var frame, out _));
        Assert.Equal(Eth, frame.Data.ToArray());
        Assert.Equal(file.Length, reader.Position);
        Assert.Equal(CaptureReadStatus.End, reader.Read(out _, out _));
    }

    [Fact]
    public void ReadsFromTheStreamsCurrentPosition()
    {
        byte[] file = [0xee, 0xee, .. new PcapBuilder().Record(1, 0, Eth).ToArray()];
        var stream = new MemoryStream(file) { Position = 2 };
        var items = ReadAll(CaptureReader.Open(stream, "x"));
        Assert.Equal(24, items[0].Frame.FileOffset);
        Assert.Equal(Eth, items[0].Data);
    }

    [Fact]
    public void OpenByPathReadsAFileAndDisposeClosesIt()
    {
        string path = Path.Combine(Path.GetTempPath(), $"pktflow-capture-{Guid.NewGuid():n}.pcap");
        try
        {
            File.WriteAllBytes(path, new PcapBuilder().Record(5, 6, Eth).ToArray());
            using (var reader = CaptureReader.Open(path))
            {
                Assert.Equal(path, reader.Name);
                Assert.Equal(CaptureReadStatus.Frame, reader.Read(out var frame, out _));
                Assert.Equal(5_000_006_000L, frame.TimestampNs);
                Assert.Equal(reader.Length, reader.Position);
            }

            File.Delete(path);
            Assert.False(File.Exists(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void DisposeHonoursLeaveOpen()
    {
        byte[] file = new PcapBuilder().ToArray();
        var kept = new MemoryStream(file);
        CaptureReader.Open(kept, "x", leaveOpen: true).Dispose();
        Assert.True(kept.CanRead);
        var owned = new MemoryStream(file);
        var reader = CaptureReader.Open(owned, "x");
        reader.Dispose();
        Assert.False(owned.CanRead);
        Assert.Throws<ObjectDisposedException>(() => reader.Read(out _, out _));
    }
}
