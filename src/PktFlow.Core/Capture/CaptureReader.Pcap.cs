namespace PktFlow.Capture;

// pcap (libpcap savefile), every field in the writer's byte order, which the magic reveals:
//
//  File header, 24 bytes
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  magic: a1b2c3d4 (microseconds) or a1b23c4d (nanoseconds)     |  0
//  |     version major (2)         |     version minor (4)         |  4
//  |                  thiszone (reserved, 0)                       |  8
//  |                  sigfigs (reserved, 0)                        | 12
//  |                          snaplen                              | 16
//  |FCS len|R|F|     reserved      |        LINKTYPE_*             | 20
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//  Record header, 16 bytes, followed by caplen bytes of packet
//  |                    timestamp seconds                          |  0
//  |          timestamp fraction (micro- or nanoseconds)           |  4
//  |                 captured length (caplen)                      |  8
//  |                    original length                            | 12
public sealed partial class CaptureReader
{
    private const int PcapFileHeaderLength = 24;
    private const int PcapRecordHeaderLength = 16;
    private const uint PcapMicroMagic = 0xa1b2c3d4;
    private const uint PcapNanoMagic = 0xa1b23c4d;

    private bool _pcapNano;
    private uint _pcapSnaplen;
    private LinkType _pcapLinkType;

    private static bool IsPcapMagic(uint littleEndianMagic) =>
        littleEndianMagic is PcapMicroMagic or PcapNanoMagic
        || System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(littleEndianMagic) is PcapMicroMagic or PcapNanoMagic;

    private void OpenPcap(uint littleEndianMagic)
    {
        _bigEndian = littleEndianMagic is not (PcapMicroMagic or PcapNanoMagic);
        int have = _in.Ensure(PcapFileHeaderLength);
        if (have < PcapFileHeaderLength)
        {
            throw new CaptureFormatException(FatalProblem(0, CaptureProblemCodes.TruncatedFileHeader,
                $"the file has a pcap magic number but is only {have} bytes long; the pcap file header needs 24."));
        }

        var header = _in.Span(PcapFileHeaderLength);
        _pcapNano = U32(header, 0) == PcapNanoMagic;
        ushort major = U16(header, 4);
        ushort minor = U16(header, 6);
        _pcapSnaplen = U32(header, 16);
        _pcapLinkType = (LinkType)(U32(header, 20) & 0xffff);
        _in.Advance(PcapFileHeaderLength);
        if (major != 2)
        {
            Report(4, CaptureProblemCodes.UnsupportedVersion,
                $"pcap version {major}.{minor}; PktFlow reads version 2.x and will try to read this file the same way.");
        }
    }

    private void ReadPcapRecord()
    {
        long at = _in.Position;
        int have = _in.Ensure(PcapRecordHeaderLength);
        if (have == 0)
        {
            _finished = true;
            return;
        }

        if (have < PcapRecordHeaderLength)
        {
            Stop(at, CaptureProblemCodes.TruncatedRecordHeader,
                $"the file ends {have} bytes into a 16-byte record header; the capture was cut short (copied while still being written?).");
            return;
        }

        var header = _in.Span(PcapRecordHeaderLength);
        uint seconds = U32(header, 0);
        uint fraction = U32(header, 4);
        uint caplen = U32(header, 8);
        uint original = U32(header, 12);
        bool overSnaplen = _pcapSnaplen != 0 && caplen > _pcapSnaplen;
        string snapNote = overSnaplen ? $" > {_pcapSnaplen} snaplen" : "";

        if (caplen > MaxRecordLength)
        {
            Stop(at, CaptureProblemCodes.CaplenTooLarge,
                $"record claims caplen {caplen}{snapNote}, more than the 256 MiB any packet could have; the record header is corrupt and nothing after it can be found.");
            return;
        }

        int need = PcapRecordHeaderLength + (int)caplen;
        if (_in.Available < need && !BufferRecord(need, out long left))
        {
            Stop(at, CaptureProblemCodes.TruncatedRecord, overSnaplen
                ? $"record claims caplen {caplen}{snapNote} but only {left - PcapRecordHeaderLength} bytes remain; the file is corrupt after this point."
                : $"the last record claims {caplen} captured bytes but only {left - PcapRecordHeaderLength} remain; the file was cut short (copied while still being written?).");
            return;
        }

        if (overSnaplen)
        {
            Report(at, CaptureProblemCodes.CaplenExceedsSnaplen,
                $"record claims caplen {caplen} > {_pcapSnaplen} snaplen of the file; read it anyway (the writer did not honour its own snaplen).");
        }

        if (caplen > original)
        {
            Report(at, CaptureProblemCodes.CaplenExceedsOriginalLength,
                $"record holds {caplen} captured bytes but says the packet had {original} on the wire; read it anyway, with the original length as written.");
        }

        uint perSecond = _pcapNano ? 1_000_000_000u : 1_000_000u;
        if (fraction >= perSecond)
        {
            Report(at, CaptureProblemCodes.BadTimestamp,
                $"record timestamp fraction {fraction} {(_pcapNano ? "ns" : "us")} is not below one second; read it as {seconds} s plus {fraction} {(_pcapNano ? "ns" : "us")}.");
        }

        long timestampNs = seconds * 1_000_000_000L + fraction * (_pcapNano ? 1L : 1000L);
        Deliver(timestampNs, _pcapLinkType, 0, null, (int)caplen, (int)Math.Min(original, int.MaxValue), at, PcapRecordHeaderLength);
        _in.Advance(need);
    }
}
