using PktFlow.Capture;
using static PktFlow.Tests.Capture.CaptureTestSupport;

namespace PktFlow.Tests.Capture;

public class PcapNgReaderTests
{
    private static readonly byte[] Eth = Frames.Ethernet(0x0800, Frames.Ipv4Udp);
    private const LinkType Undescribed = (LinkType)uint.MaxValue;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsEitherByteOrder(bool bigEndian)
    {
        byte[] file = new PcapNgBuilder(bigEndian)
            .Interface(1, 65535, name: "eth0")
            .Epb(0, 1_700_000_000_123_456UL, Eth)
            .Epb(0, 1_700_000_001_000_000UL, Eth.AsSpan(0, 21).ToArray(), original: 1500)
            .ToArray();

        var items = ReadAll(file, "x.pcapng");

        Assert.Equal("F F E", Shape(items));
        var first = items[0].Frame;
        Assert.Equal(1, first.Number);
        Assert.Equal(1_700_000_000_123_456_000L, first.TimestampNs);
        Assert.Equal(LinkType.Ethernet, first.LinkType);
        Assert.Equal("eth0", first.InterfaceName);
        Assert.Equal(28 + 32, first.FileOffset);
        Assert.Equal(Eth, items[0].Data);
        Assert.Equal(21, items[1].Frame.CapturedLength);
        Assert.Equal(1500, items[1].Frame.OriginalLength);
        Assert.Equal(Eth.AsSpan(0, 21).ToArray(), items[1].Data);
    }

    [Fact]
    public void WriterRoundTripsInterfacesLinkTypesAndResolutions()
    {
        var stream = new MemoryStream();
        var packets = new List<(int If, long Ts, byte[] Data)>();
        using (var writer = new PcapNgWriter(stream, leaveOpen: true))
        {
            Assert.Equal(0, writer.AddInterface(LinkType.Ethernet, "eth0"));
            Assert.Equal(1, writer.AddInterface(LinkType.LinuxSll, "any", snaplen: 50, tsresol: 6));
            Assert.Equal(2, writer.AddInterface(LinkType.Raw, null, snaplen: 0, tsresol: 3));
            Assert.Equal(3, writer.AddInterface(LinkType.Ipv6, "tun6", tsresol: 0x80 | 30));
            Assert.Equal(4, writer.AddInterface((LinkType)4242, "odd", tsresol: 10));
            for (int i = 0; i < 40; i++)
            {
                var packet = (i % 5, 1_650_000_000_000_000_000L + i * 987_654_321L, Enumerable.Range(0, 30 + i * 3).Select(b => (byte)(b ^ i)).ToArray());
                packets.Add(packet);
                writer.Write(packet.Item1, packet.Item2, packet.Item3);
            }

            Assert.Equal(40, writer.FramesWritten);
        }

        var items = ReadAll(CaptureReader.Open(new MemoryStream(stream.ToArray()), "round.pcapng"));
        Assert.Equal(41, items.Count);
        string?[] names = ["eth0", "any", null, "tun6", "odd"];
        LinkType[] types = [LinkType.Ethernet, LinkType.LinuxSll, LinkType.Raw, LinkType.Ipv6, (LinkType)4242];
        for (int i = 0; i < packets.Count; i++)
        {
            var (id, ts, data) = packets[i];
            var frame = items[i].Frame;
            Assert.Equal(CaptureReadStatus.Frame, items[i].Status);
            Assert.Equal(i + 1, frame.Number);
            Assert.Equal(id, frame.InterfaceId);
            Assert.Equal(names[id], frame.InterfaceName);
            Assert.Equal(types[id], frame.LinkType);
            long expected = id switch
            {
                1 => ts / 1_000 * 1_000,
                2 => ts / 1_000_000 * 1_000_000,
                3 => (long)((((UInt128)(ulong)ts << 30) / 1_000_000_000 * 1_000_000_000) >> 30),
                _ => ts,
            };
            Assert.Equal(expected, frame.TimestampNs);
            Assert.InRange(ts - frame.TimestampNs, 0, 999_999);
            int caplen = id == 1 ? Math.Min(50, data.Length) : data.Length;
            Assert.Equal(caplen, frame.CapturedLength);
            Assert.Equal(data.Length, frame.OriginalLength);
            Assert.Equal(data.AsSpan(0, caplen).ToArray(), items[i].Data);
        }
    }

    [Fact]
    public void WriterRejectsBadArguments()
    {
        using var writer = new PcapNgWriter(new MemoryStream());
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write(0, 0, Eth));
        int id = writer.AddInterface(LinkType.Ethernet);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write(id, -5, Eth));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write(id, 0, Eth, originalLength: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.AddInterface((LinkType)70000));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.AddInterface(LinkType.Ethernet, tsresol: 20));
        int fine = writer.AddInterface(LinkType.Ethernet, tsresol: 19);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write(fine, long.MaxValue, Eth));
    }

    [Fact]
    public void MultipleInterfacesWithDifferentLinkTypesAndResolutions()
    {
        byte[] file = new PcapNgBuilder()
            .Interface(1, name: "eth0")                              // microseconds by default
            .Interface(276, name: "any", tsresol: 9)                 // nanoseconds
            .Interface(101, tsresol: 0x80 | 10)                      // 1/1024 s
            .Interface(228, tsresol: 1, tsoffset: 1_000_000_000)     // tenths of a second, offset by 1e9 s
            .Interface(229, tsresol: 6, tsoffset: -100)
            .Epb(0, 1_000_000UL, Eth)
            .Epb(1, 2_000_000_001UL, Eth)
            .Epb(2, 3 * 1024 + 512, Eth)
            .Epb(3, 75, Eth)
            .Epb(4, 200_000_001UL, Eth)
            .ToArray();

        var frames = FramesOf(ReadAll(file));

        Assert.Equal(
            [
                (LinkType.Ethernet, 0, "eth0", 1_000_000_000L),
                (LinkType.LinuxSll2, 1, "any", 2_000_000_001L),
                (LinkType.Raw, 2, null, 3_500_000_000L),
                (LinkType.Ipv4, 3, null, 1_000_000_007_500_000_000L),
                (LinkType.Ipv6, 4, null, 100_000_001_000L),
            ],
            frames.Select(f => (f.LinkType, f.InterfaceId, f.InterfaceName, f.TimestampNs)).ToArray());
    }

    [Fact]
    public void PowerOfTwoResolutionRoundsDown()
    {
        var frames = FramesOf(ReadAll(new PcapNgBuilder().Interface(1, tsresol: 0x80 | 20).Epb(0, (5UL << 20) + 1, Eth).ToArray()));
        Assert.Equal(5_000_000_953L, Assert.Single(frames).TimestampNs);
    }

    [Fact]
    public void NewSectionResetsInterfacesAndByteOrder()
    {
        byte[] file = new PcapNgBuilder(bigEndian: false)
            .Interface(1, name: "a0").Interface(113, name: "a1")
            .Epb(1, 1, Eth)
            .Section(bigEndian: true, sectionLength: 12345)
            .Interface(101, name: "b0")
            .Epb(0, 2, Frames.Ipv4Udp)
            .Epb(1, 3, Eth)                 // interface 1 belonged to the first section
            .ToArray();

        var items = ReadAll(file, "two.pcapng");

        Assert.Equal("F F P F E", Shape(items));
        Assert.Equal((LinkType.LinuxSll, "a1"), (items[0].Frame.LinkType, items[0].Frame.InterfaceName));
        Assert.Equal((LinkType.Raw, "b0", 0), (items[1].Frame.LinkType, items[1].Frame.InterfaceName, items[1].Frame.InterfaceId));
        Assert.Equal(2_000L, items[1].Frame.TimestampNs);
        var problem = items[2].Problem!;
        Assert.Equal(CaptureProblemCodes.UnknownInterface, problem.Code);
        Assert.Equal(items[3].Frame.FileOffset, problem.Offset);
        Assert.Contains("interface 1", problem.Message);
        Assert.Equal(Undescribed, items[3].Frame.LinkType);
        Assert.Equal(3, items[3].Frame.Number);
        Assert.Equal(1, items[3].Frame.InterfaceId);
        Assert.Equal(Eth, items[3].Data);
    }

    [Fact]
    public void PacketBeforeAnyInterfaceIsReadWithAProblem()
    {
        var items = ReadAll(new PcapNgBuilder().Epb(0, 1, Eth).Spb((uint)Eth.Length, Eth).ToArray());
        Assert.Equal("P F P F E", Shape(items));
        Assert.All(ProblemsOf(items), p => Assert.Equal(CaptureProblemCodes.UnknownInterface, p.Code));
        Assert.All(FramesOf(items), f => Assert.Equal(Undescribed, f.LinkType));
        Assert.Contains("no interface description block", LinkLayer.TryDecode(Undescribed, Eth, out _, out string? error) ? "" : error);
    }

    [Fact]
    public void SimplePacketCaplenIsTheSmallestOfOriginalSnaplenAndBlock()
    {
        byte[] hundred = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        byte[] file = new PcapNgBuilder()
            .Interface(1, snaplen: 64)
            .Epb(0, 7_000_000, Eth)
            .Spb(100, hundred[..64])    // cut to the snaplen
            .Spb(30, hundred[..32])     // original shorter than the padded data
            .Spb(500, hundred[..40])    // a writer that wrote less than it should: what the block holds
            .ToArray();

        var frames = FramesOf(ReadAll(file));

        Assert.Equal([(42, 42), (64, 100), (30, 30), (40, 500)], frames.Select(f => (f.CapturedLength, f.OriginalLength)).ToArray());
        Assert.All(frames, f => Assert.Equal(LinkType.Ethernet, f.LinkType));
        // A simple packet block has no timestamp: it takes the one of the packet before it.
        Assert.All(frames, f => Assert.Equal(7_000_000_000L, f.TimestampNs));
    }

    [Fact]
    public void SimplePacketIsCutToTheSnaplenOfInterfaceZero()
    {
        var items = ReadAll(new PcapNgBuilder().Interface(1, snaplen: 16).Interface(101, snaplen: 0).Spb(60, new byte[60]).ToArray());
        Assert.Equal(16, FramesOf(items)[0].CapturedLength);
    }

    [Fact]
    public void ObsoletePacketBlockIsAPacket()
    {
        var items = ReadAll(new PcapNgBuilder().Interface(1).Interface(113, tsresol: 9).Opb(1, 5_000_000_001UL, Eth, original: 99).ToArray());
        var frame = Assert.Single(FramesOf(items));
        Assert.Equal((LinkType.LinuxSll, 1, 5_000_000_001L, 99), (frame.LinkType, frame.InterfaceId, frame.TimestampNs, frame.OriginalLength));
        Assert.Equal(Eth, items[0].Data);
    }

    [Fact]
    public void KnownNonPacketBlocksAreSkippedSilently()
    {
        byte[] file = new PcapNgBuilder()
            .Block(4, [0, 0, 0, 0])                                   // name resolution
            .Interface(1)
            .Block(5, new byte[20])                                   // interface statistics
            .Epb(0, 1, Eth)
            .Block(0x0a, new byte[12])                                // decryption secrets
            .Block(9, new byte[8])                                    // systemd journal export
            .Block(0x0bad, [0, 0, 0x7f, 0x34, 1, 2, 3])               // custom, copiable
            .Block(0x40000bad, [0, 0, 0x7f, 0x34])                    // custom, not copiable
            .Epb(0, 2, Eth)
            .ToArray();

        Assert.Equal("F F E", Shape(ReadAll(file)));
    }

    [Fact]
    public void UnknownBlockTypeIsReportedOnceAndSkipped()
    {
        var builder = new PcapNgBuilder().Interface(1).Epb(0, 1, Eth);
        long offset = builder.ToArray().Length;
        byte[] file = builder.Block(0x0bae, new byte[10]).Epb(0, 2, Eth).Block(0x0bae, new byte[3]).Block(0x80000001, [])
            .Epb(0, 3, Eth).ToArray();

        var items = ReadAll(file, "u.pcapng");

        Assert.Equal("F P F P F E", Shape(items));
        var problem = items[1].Problem!;
        Assert.Equal(CaptureProblemCodes.UnknownBlockType, problem.Code);
        Assert.False(problem.Fatal);
        Assert.Equal(offset, problem.Offset);
        Assert.Contains($"u.pcapng at byte {offset} (0x{offset:x})", problem.Message);
        Assert.Contains("0x00000bae", problem.Message);
        Assert.Contains("0x80000001", items[3].Problem!.Message);
        Assert.Contains("local use", items[3].Problem!.Message);
        Assert.Equal([1L, 2, 3], FramesOf(items).Select(f => f.Number));
    }

    [Theory]
    [InlineData(8u, null)]        // less than 12
    [InlineData(30u, null)]       // not a multiple of 4
    [InlineData(null, 36u)]       // trailer disagrees
    public void BadBlockLengthIsFatal(uint? length, uint? trailer)
    {
        var builder = new PcapNgBuilder().Interface(1).Epb(0, 1, Eth);
        long offset = builder.ToArray().Length;
        byte[] file = builder.Block(6, new byte[40], length, trailer).Epb(0, 2, Eth).ToArray();

        var items = ReadAll(file, "b.pcapng");

        Assert.Equal("F P! E", Shape(items));
        Assert.Equal(CaptureProblemCodes.BadBlockLength, items[1].Problem!.Code);
        Assert.Equal(offset, items[1].Problem!.Offset);
    }

    [Fact]
    public void BadTrailerOnASkippedBlockIsFatal()
    {
        var items = ReadAll(new PcapNgBuilder().Interface(1).Block(5, new byte[20], trailer: 4).Epb(0, 2, Eth).ToArray());
        Assert.Equal("P! E", Shape(items));
        Assert.Equal(CaptureProblemCodes.BadBlockLength, items[0].Problem!.Code);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TruncatedBlockIsFatal(bool seekable)
    {
        byte[] whole = new PcapNgBuilder().Interface(1).Epb(0, 1, Eth).Epb(0, 2, Eth).ToArray();
        byte[] file = whole[..^10];
        var items = ReadAll(CaptureReader.Open(seekable ? new MemoryStream(file) : new UnseekableStream(file, 5), "t.pcapng"));
        Assert.Equal("F P! E", Shape(items));
        Assert.Equal(CaptureProblemCodes.TruncatedRecord, items[1].Problem!.Code);
        Assert.Contains("The 1 frame before it was read.", items[1].Problem!.Message);
    }

    [Fact]
    public void TruncatedSkippedBlockIsFatal()
    {
        byte[] file = new PcapNgBuilder().Interface(1).Epb(0, 1, Eth).Block(4, new byte[4000]).ToArray()[..^100];
        foreach (var stream in new Stream[] { new MemoryStream(file), new UnseekableStream(file, 64) })
        {
            var items = ReadAll(CaptureReader.Open(stream, "t.pcapng"));
            Assert.Equal("F P! E", Shape(items));
            Assert.Equal(CaptureProblemCodes.TruncatedRecord, items[1].Problem!.Code);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    public void TruncatedBlockHeaderIsFatal(int extra)
    {
        byte[] file = new PcapNgBuilder().Interface(1).Epb(0, 1, Eth).Raw(new byte[extra]).ToArray();
        var items = ReadAll(file);
        Assert.Equal("F P! E", Shape(items));
        Assert.Equal(CaptureProblemCodes.TruncatedRecordHeader, items[1].Problem!.Code);
    }

    [Fact]
    public void AbsurdPacketBlockLengthIsFatal()
    {
        byte[] file = new PcapNgBuilder().Interface(1).Epb(0, 1, Eth).Raw(6, 0, 0, 0, 0, 0, 0, 0x20).Raw(new byte[64]).ToArray();
        var items = ReadAll(file);
        Assert.Equal("F P! E", Shape(items));
        Assert.Equal(CaptureProblemCodes.CaplenTooLarge, items[1].Problem!.Code);
    }

    [Fact]
    public void CaplenOverTheBlockReadsWhatTheBlockHolds()
    {
        byte[] file = new PcapNgBuilder().Interface(1).Epb(0, 1, Eth, caplen: 1000).Epb(0, 2, Eth).ToArray();
        var items = ReadAll(file);
        Assert.Equal("P F F E", Shape(items));
        Assert.Equal(CaptureProblemCodes.CaplenExceedsBlock, items[0].Problem!.Code);
        Assert.Equal(Eth.Length, items[1].Frame.CapturedLength);
        Assert.Equal(Eth, items[1].Data);
    }

    [Fact]
    public void CaplenAndOriginalOverTheBlockReadTheWholeBlock()
    {
        var items = ReadAll(new PcapNgBuilder().Interface(1).Epb(0, 1, Eth, caplen: 1000, original: 1000).ToArray());
        Assert.Equal("P F E", Shape(items));
        Assert.Equal((Eth.Length + 3) & ~3, items[1].Frame.CapturedLength);
        Assert.Equal(1000, items[1].Frame.OriginalLength);
    }

    [Fact]
    public void TimestampBeyondNanosecondRangeIsClampedWithAProblem()
    {
        var items = ReadAll(new PcapNgBuilder().Interface(1, tsoffset: long.MaxValue / 2).Epb(0, 1, Eth).ToArray());
        Assert.Equal("P F E", Shape(items));
        Assert.Equal(CaptureProblemCodes.BadTimestamp, items[0].Problem!.Code);
        Assert.Equal(long.MaxValue, items[1].Frame.TimestampNs);
    }

    [Fact]
    public void ResolutionTooFineForSixtyFourBitsFallsBackToMicroseconds()
    {
        var items = ReadAll(new PcapNgBuilder().Interface(1, tsresol: 20).Epb(0, 5, Eth).ToArray());
        Assert.Equal("P F E", Shape(items));
        Assert.Equal(CaptureProblemCodes.BadOption, items[0].Problem!.Code);
        Assert.Equal(5_000L, items[1].Frame.TimestampNs);
    }

    [Fact]
    public void CaplenOverSnaplenIsReadWithAProblem()
    {
        var items = ReadAll(new PcapNgBuilder().Interface(1, snaplen: 20).Epb(0, 1, Eth).ToArray());
        Assert.Equal("P F E", Shape(items));
        Assert.Equal(CaptureProblemCodes.CaplenExceedsSnaplen, items[0].Problem!.Code);
        Assert.Equal(Eth, items[1].Data);
    }

    [Fact]
    public void TooShortPacketBlockIsSkippedWithAProblem()
    {
        var items = ReadAll(new PcapNgBuilder().Interface(1).Block(6, new byte[8]).Epb(0, 1, Eth).ToArray());
        Assert.Equal("P F E", Shape(items));
        Assert.Equal(CaptureProblemCodes.BadBlockLength, items[0].Problem!.Code);
        Assert.Equal(1, items[1].Frame.Number);
    }

    [Fact]
    public void BadOptionKeepsTheInterface()
    {
        byte[] idb = new ByteBuilder(false).U16(1).U16(0).U32(0).U16(2).U16(3).Bytes("ab\0"u8).U8(0).U16(2).U16(200).U32(0).ToArray();
        var items = ReadAll(new PcapNgBuilder().Block(1, idb).Epb(0, 1, Eth).ToArray());
        Assert.Equal("P F E", Shape(items));
        Assert.Equal(CaptureProblemCodes.BadOption, items[0].Problem!.Code);
        Assert.Equal((LinkType.Ethernet, "ab"), (items[1].Frame.LinkType, items[1].Frame.InterfaceName));
    }

    [Fact]
    public void UnsupportedSectionVersionIsSkippedToTheNextSection()
    {
        byte[] file = new PcapNgBuilder(major: 2).Interface(1).Epb(0, 1, Eth).Block(0x0bae, [])
            .Section(bigEndian: false).Interface(101).Epb(0, 2, Frames.Ipv4Udp).ToArray();
        var items = ReadAll(file);
        Assert.Equal("P F E", Shape(items));
        Assert.Equal(CaptureProblemCodes.UnsupportedVersion, items[0].Problem!.Code);
        Assert.Equal((1L, LinkType.Raw), (items[1].Frame.Number, items[1].Frame.LinkType));
    }

    [Fact]
    public void BadByteOrderMagicThrowsOnOpenAndStopsLater()
    {
        byte[] good = new PcapNgBuilder().Interface(1).Epb(0, 1, Eth).ToArray();
        byte[] bad = (byte[])good.Clone();
        bad[8] = 0x99;
        var e = Assert.Throws<CaptureFormatException>(() => CaptureReader.Open(new MemoryStream(bad), "m.pcapng"));
        Assert.Equal(CaptureProblemCodes.BadMagic, e.Code);

        byte[] later = [.. good, .. bad];
        var items = ReadAll(later);
        Assert.Equal("F P! E", Shape(items));
        Assert.Equal(CaptureProblemCodes.BadMagic, items[1].Problem!.Code);
        Assert.Equal(good.Length, items[1].Problem!.Offset);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(11)]
    [InlineData(27)]
    public void TruncatedSectionHeaderThrows(int length)
    {
        byte[] file = new PcapNgBuilder().ToArray()[..length];
        var e = Assert.Throws<CaptureFormatException>(() => CaptureReader.Open(new MemoryStream(file), "s.pcapng"));
        Assert.Equal(CaptureProblemCodes.TruncatedFileHeader, e.Code);
    }

    [Fact]
    public void BadSectionHeaderLengthThrows()
    {
        byte[] file = new PcapNgBuilder().ToArray();
        file[4] = 26;
        var e = Assert.Throws<CaptureFormatException>(() => CaptureReader.Open(new MemoryStream(file), "s.pcapng"));
        Assert.Equal(CaptureProblemCodes.BadBlockLength, e.Code);
    }

    [Fact]
    public void CommittedSampleReadsAsBuilt()
    {
        var items = ReadAll(CaptureReader.Open(TestData("mixed-sections.pcapng")));
        Assert.Empty(ProblemsOf(items));
        var frames = FramesOf(items);
        Assert.Equal(
            [
                (LinkType.Ethernet, 0, "eth0"), (LinkType.LinuxSll2, 1, "any"), (LinkType.Raw, 2, "tun0"),
                (LinkType.Ethernet, 0, "eth0"), (LinkType.Ethernet, 0, "eth0"), (LinkType.Ethernet, 0, "eth0"),
                (LinkType.Raw, 2, "tun0"), (LinkType.Loop, 0, "lo0"), (LinkType.Null, 1, null),
            ],
            frames.Select(f => (f.LinkType, f.InterfaceId, f.InterfaceName)).ToArray());
    }
}
