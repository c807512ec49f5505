using System.Globalization;
using System.Text;

namespace PktFlow.Capture;

// pcapng (draft-ietf-opsawg-pcapng). Every block has the same frame, in the byte order of its
// section (the section header's byte-order magic reveals it):
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                         block type                            |  0
//  |                      block total length                       |  4
//  /                  body (padded to 32 bits)                     /  8
//  |                      block total length                       |  len-4
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//  SHB 0x0a0d0d0a  8 byte-order magic 1a2b3c4d, 12 major (1), 14 minor, 16 section length (i64, -1 = unknown), 24 options
//  IDB 1           8 LINKTYPE_* (u16), 10 reserved, 12 snaplen (0 = none), 16 options (if_name 2, if_tsresol 9, if_tsoffset 14)
//  EPB 6           8 interface id, 12 timestamp high, 16 timestamp low, 20 caplen, 24 original length, 28 data, options
//  OPB 2 (obsolete) 8 interface id (u16), 10 drops (u16), 12..27 as EPB, 28 data, options
//  SPB 3           8 original length, 12 data (caplen = min(original, snaplen of interface 0, room in block))
//  Options: code (u16), length (u16), value padded to 32 bits; code 0 ends the list.
public sealed partial class CaptureReader
{
    private const uint PcapNgSectionHeader = 0x0a0d0d0a;
    private const uint ByteOrderMagic = 0x1a2b3c4d;
    private const uint InterfaceDescription = 1;
    private const uint ObsoletePacket = 2;
    private const uint SimplePacket = 3;
    private const uint NameResolution = 4;
    private const uint InterfaceStatistics = 5;
    private const uint EnhancedPacket = 6;
    private const uint SystemdJournalExport = 9;
    private const uint DecryptionSecrets = 0x0a;
    private const uint CustomCopiable = 0x0bad;
    private const uint CustomNotCopiable = 0x40000bad;
    private const int SectionHeaderMinLength = 28;
    private const int OptionIfName = 2;
    private const int OptionIfTsresol = 9;
    private const int OptionIfTsoffset = 14;

    /// <summary>Link type given to frames whose interface was never described.</summary>
    internal const LinkType UndescribedInterface = (LinkType)uint.MaxValue;

    private static readonly ulong[] Pow10 =
    [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
        10_000_000_000, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000,
        1_000_000_000_000_000, 10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000,
        10_000_000_000_000_000_000,
    ];

    private readonly List<Interface> _interfaces = [];
    private HashSet<uint>? _reportedBlockTypes;
    private bool _skipSection;
    private long _lastTimestampNs;

    private sealed class Interface(LinkType linkType, uint snaplen)
    {
        public LinkType LinkType { get; } = linkType;
        public uint Snaplen { get; } = snaplen;
        public string? Name { get; set; }
        public bool TsPowerOfTwo { get; set; }
        public int TsExponent { get; set; } = 6;
        public long TsOffsetSeconds { get; set; }
    }

    private readonly record struct Failure(long Offset, string Code, string What);

    private void OpenPcapNg()
    {
        if (ReadSectionHeader(first: true) is { } failure)
        {
            throw new CaptureFormatException(FatalProblem(failure.Offset, failure.Code, failure.What));
        }
    }

    private void ReadPcapNgBlocks()
    {
        while (true)
        {
            long at = _in.Position;
            int have = _in.Ensure(8);
            if (have == 0)
            {
                _finished = true;
                return;
            }

            if (have < 8)
            {
                Stop(at, CaptureProblemCodes.TruncatedRecordHeader,
                    $"the file ends {have} bytes into an 8-byte block header; the capture was cut short (copied while still being written?).");
                return;
            }

            uint type = U32(_in.Span(8), 0);
            if (type == PcapNgSectionHeader)
            {
                if (ReadSectionHeader(first: false) is { } failure)
                {
                    Stop(failure.Offset, failure.Code, failure.What);
                    return;
                }

                if (_problems is { Count: > 0 })
                {
                    return;
                }

                continue;
            }

            uint length = U32(_in.Span(8), 4);
            if (length < 12 || length % 4 != 0)
            {
                Stop(at, CaptureProblemCodes.BadBlockLength,
                    $"{BlockName(type)} has length {length}, {(length < 12 ? "less than the 12 bytes any block needs" : "not a multiple of 4")}; the blocks after it cannot be found.");
                return;
            }

            if (_skipSection || !IsBuffered(type))
            {
                bool report = !_skipSection && !IsKnownSkipped(type) && (_reportedBlockTypes ??= []).Add(type);
                if (!SkipBlock(at, type, length))
                {
                    return;
                }

                if (report)
                {
                    Report(at, CaptureProblemCodes.UnknownBlockType, string.Create(CultureInfo.InvariantCulture,
                        $"block type 0x{type:x8} ({type}{((type & 0x80000000) != 0 ? ", local use" : "")}) is not one PktFlow knows; skipped its {length} bytes and went on (further blocks of this type are skipped without a report)."));
                    return;
                }

                continue;
            }

            bool isPacket = type != InterfaceDescription;
            if (length > MaxRecordLength + 64)
            {
                Stop(at, isPacket ? CaptureProblemCodes.CaplenTooLarge : CaptureProblemCodes.BadBlockLength,
                    $"{BlockName(type)} claims {length} bytes, more than the 256 MiB any packet could have; the block header is corrupt and nothing after it can be found.");
                return;
            }

            if (_in.Available < length && !BufferRecord((int)length, out long left))
            {
                Stop(at, CaptureProblemCodes.TruncatedRecord,
                    $"{BlockName(type)} claims {length} bytes but only {left} remain; the file was cut short (copied while still being written?).");
                return;
            }

            var block = _in.Span((int)length);
            uint trailer = U32(block, (int)length - 4);
            if (trailer != length)
            {
                Stop(at, CaptureProblemCodes.BadBlockLength,
                    $"{BlockName(type)} length {length} at its start disagrees with {trailer} at its end; the file is corrupt after this point.");
                return;
            }

            bool delivered = type switch
            {
                InterfaceDescription => ReadInterface(block, at),
                EnhancedPacket => ReadPacket(block, at, type),
                ObsoletePacket => ReadPacket(block, at, type),
                _ => ReadSimplePacket(block, at),
            };
            _in.Advance((int)length);
            if (delivered || _problems is { Count: > 0 })
            {
                return;
            }
        }
    }

    /// <summary>Reads a section header; a non-null result is a problem after which nothing can be read.</summary>
    private Failure? ReadSectionHeader(bool first)
    {
        long at = _in.Position;
        string truncated = first ? CaptureProblemCodes.TruncatedFileHeader : CaptureProblemCodes.TruncatedRecord;
        int have = _in.Ensure(12);
        if (have < 12)
        {
            return new Failure(at, first ? truncated : CaptureProblemCodes.TruncatedRecordHeader,
                $"the file ends {have} bytes into a pcapng section header block, which needs at least {SectionHeaderMinLength}.");
        }

        uint magic = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(_in.Span(12)[8..]);
        if (magic != ByteOrderMagic && magic != System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(ByteOrderMagic))
        {
            return new Failure(at, CaptureProblemCodes.BadMagic, string.Create(CultureInfo.InvariantCulture,
                $"pcapng section header has byte-order magic {Convert.ToHexString(_in.Span(12)[8..]).ToLowerInvariant()}, neither 1a2b3c4d nor 4d3c2b1a; {(first ? "this is not a pcapng file, or its first block is corrupt" : "the file is corrupt after this point")}."));
        }

        _bigEndian = magic != ByteOrderMagic;
        uint length = U32(_in.Span(12), 4);
        if (length < SectionHeaderMinLength || length % 4 != 0 || length > MaxRecordLength)
        {
            return new Failure(at, CaptureProblemCodes.BadBlockLength,
                $"section header block has length {length}; it must be a multiple of 4 between {SectionHeaderMinLength} and 256 MiB.");
        }

        if (_in.Available < length && !BufferRecord((int)length, out long left))
        {
            return new Failure(at, truncated,
                $"the file ends {left} bytes into a {length}-byte pcapng section header block.");
        }

        var block = _in.Span((int)length);
        uint trailer = U32(block, (int)length - 4);
        if (trailer != length)
        {
            return new Failure(at, CaptureProblemCodes.BadBlockLength,
                $"section header block length {length} at its start disagrees with {trailer} at its end.");
        }

        ushort major = U16(block, 12);
        ushort minor = U16(block, 14);
        _in.Advance((int)length);
        _interfaces.Clear();
        _skipSection = major != 1;
        if (_skipSection)
        {
            Report(at, CaptureProblemCodes.UnsupportedVersion,
                $"section is pcapng version {major}.{minor}; PktFlow reads version 1.x, so it skipped this section up to the next section header.");
        }

        return null;
    }

    private bool SkipBlock(long at, uint type, uint length)
    {
        long body = length - 4;
        long remaining = _in.Remaining;
        if (remaining >= 0 && length > remaining)
        {
            Stop(at, CaptureProblemCodes.TruncatedRecord,
                $"{BlockName(type)} claims {length} bytes but only {remaining} remain; the file was cut short (copied while still being written?).");
            return false;
        }

        long skipped = _in.Skip(body);
        if (skipped < body || _in.Ensure(4) < 4)
        {
            Stop(at, CaptureProblemCodes.TruncatedRecord,
                $"{BlockName(type)} claims {length} bytes but the file ends {skipped + _in.Available} bytes into it; the file was cut short.");
            return false;
        }

        uint trailer = U32(_in.Span(4), 0);
        _in.Advance(4);
        if (trailer != length)
        {
            Stop(at, CaptureProblemCodes.BadBlockLength,
                $"{BlockName(type)} length {length} at its start disagrees with {trailer} at its end; the file is corrupt after this point.");
            return false;
        }

        return true;
    }

    private bool ReadInterface(ReadOnlySpan<byte> block, long at)
    {
        int id = _interfaces.Count;
        if (block.Length < 20)
        {
            _interfaces.Add(new Interface(UndescribedInterface, 0));
            Report(at, CaptureProblemCodes.BadBlockLength,
                $"interface description block for interface {id} is {block.Length} bytes, less than the 20 it needs; its packets get an unknown link type.");
            return false;
        }

        var iface = new Interface((LinkType)U16(block, 8), U32(block, 12));
        _interfaces.Add(iface);
        int end = block.Length - 4;
        for (int p = 16; p + 4 <= end;)
        {
            int code = U16(block, p);
            int size = U16(block, p + 2);
            if (code == 0)
            {
                break;
            }

            if (p + 4 + size > end)
            {
                Report(at + p, CaptureProblemCodes.BadOption,
                    $"option {code} of interface {id} claims {size} bytes but only {end - p - 4} remain in the block; ignored it and the options after it.");
                break;
            }

            var value = block.Slice(p + 4, size);
            switch (code)
            {
                case OptionIfName:
                    iface.Name = Encoding.UTF8.GetString(value).TrimEnd('\0');
                    break;
                case OptionIfTsresol when size >= 1:
                    SetResolution(iface, value[0], at + p, id);
                    break;
                case OptionIfTsoffset when size >= 8:
                    iface.TsOffsetSeconds = (long)U64(value, 0);
                    break;
            }

            p += 4 + ((size + 3) & ~3);
        }

        return false;
    }

    private void SetResolution(Interface iface, byte tsresol, long at, int id)
    {
        bool powerOfTwo = (tsresol & 0x80) != 0;
        int exponent = tsresol & 0x7f;
        if (exponent > (powerOfTwo ? 63 : 19))
        {
            Report(at, CaptureProblemCodes.BadOption, string.Create(CultureInfo.InvariantCulture,
                $"if_tsresol 0x{tsresol:x2} of interface {id} asks for units of {(powerOfTwo ? 2 : 10)}^-{exponent} s, finer than a 64-bit timestamp can count; assumed microseconds."));
            return;
        }

        iface.TsPowerOfTwo = powerOfTwo;
        iface.TsExponent = exponent;
    }

    private bool ReadPacket(ReadOnlySpan<byte> block, long at, uint type)
    {
        if (block.Length < 32)
        {
            Report(at, CaptureProblemCodes.BadBlockLength,
                $"{BlockName(type)} is {block.Length} bytes, less than the 32 its fixed fields need; skipped it.");
            return false;
        }

        uint interfaceId = type == EnhancedPacket ? U32(block, 8) : U16(block, 8);
        ulong units = ((ulong)U32(block, 12) << 32) | U32(block, 16);
        uint caplen = U32(block, 20);
        uint original = U32(block, 24);
        int room = block.Length - 32;
        var iface = interfaceId < (uint)_interfaces.Count ? _interfaces[(int)interfaceId] : null;
        if (iface is null)
        {
            Report(at, CaptureProblemCodes.UnknownInterface,
                $"{BlockName(type)} names interface {interfaceId} but this section describes only {_interfaces.Count}; read the packet with an unknown link type.");
        }

        if (caplen > room)
        {
            Report(at, CaptureProblemCodes.CaplenExceedsBlock,
                $"{BlockName(type)} claims caplen {caplen} but holds only {room} bytes of packet data; read those bytes.");

            // The block's bytes are padded to 32 bits: the original length says how many are packet.
            caplen = original > 0 && original <= room ? original : (uint)room;
        }

        if (iface is { Snaplen: > 0 } && caplen > iface.Snaplen)
        {
            Report(at, CaptureProblemCodes.CaplenExceedsSnaplen,
                $"{BlockName(type)} claims caplen {caplen} > {iface.Snaplen} snaplen of interface {interfaceId}; read it anyway (the writer did not honour its own snaplen).");
        }

        if (caplen > original)
        {
            Report(at, CaptureProblemCodes.CaplenExceedsOriginalLength,
                $"{BlockName(type)} holds {caplen} captured bytes but says the packet had {original} on the wire; read it anyway, with the original length as written.");
        }

        long timestampNs = ToNanoseconds(units, iface, at);
        _lastTimestampNs = timestampNs;
        Deliver(timestampNs, iface?.LinkType ?? UndescribedInterface, (int)Math.Min(interfaceId, int.MaxValue), iface?.Name,
            (int)caplen, (int)Math.Min(original, int.MaxValue), at, 28);
        return true;
    }

    private bool ReadSimplePacket(ReadOnlySpan<byte> block, long at)
    {
        if (block.Length < 16)
        {
            Report(at, CaptureProblemCodes.BadBlockLength,
                $"simple packet block is {block.Length} bytes, less than the 16 its fixed fields need; skipped it.");
            return false;
        }

        uint original = U32(block, 8);
        var iface = _interfaces.Count > 0 ? _interfaces[0] : null;
        if (iface is null)
        {
            Report(at, CaptureProblemCodes.UnknownInterface,
                "simple packet block belongs to interface 0 but this section describes no interface; read the packet with an unknown link type.");
        }

        long caplen = Math.Min(original, block.Length - 16);
        if (iface is { Snaplen: > 0 })
        {
            caplen = Math.Min(caplen, iface.Snaplen);
        }

        // A simple packet block has no timestamp; it takes the one of the packet before it.
        Deliver(_lastTimestampNs, iface?.LinkType ?? UndescribedInterface, 0, iface?.Name,
            (int)caplen, (int)Math.Min(original, int.MaxValue), at, 12);
        return true;
    }

    private long ToNanoseconds(ulong units, Interface? iface, long at)
    {
        int exponent = iface?.TsExponent ?? 6;
        Int128 ns;
        if (iface is { TsPowerOfTwo: true })
        {
            ns = (Int128)(((UInt128)units * 1_000_000_000UL) >> exponent);
        }
        else if (exponent <= 9)
        {
            ns = (Int128)units * Pow10[9 - exponent];
        }
        else
        {
            ns = units / Pow10[exponent - 9];
        }

        ns += (Int128)(iface?.TsOffsetSeconds ?? 0) * 1_000_000_000;
        if (ns > long.MaxValue || ns < long.MinValue)
        {
            Report(at, CaptureProblemCodes.BadTimestamp,
                $"packet timestamp {units} (units of {(iface is { TsPowerOfTwo: true } ? 2 : 10)}^-{exponent} s, offset {iface?.TsOffsetSeconds ?? 0} s) lies outside the years 1677-2262 that nanoseconds can hold; clamped it.");
            return ns > long.MaxValue ? long.MaxValue : long.MinValue;
        }

        return (long)ns;
    }

    private static bool IsBuffered(uint type) =>
        type is InterfaceDescription or EnhancedPacket or ObsoletePacket or SimplePacket;

    private static bool IsKnownSkipped(uint type) =>
        type is NameResolution or InterfaceStatistics or SystemdJournalExport or DecryptionSecrets
            or CustomCopiable or CustomNotCopiable;

    private static string BlockName(uint type) => type switch
    {
        InterfaceDescription => "interface description block",
        ObsoletePacket => "packet block (obsolete)",
        SimplePacket => "simple packet block",
        NameResolution => "name resolution block",
        InterfaceStatistics => "interface statistics block",
        EnhancedPacket => "enhanced packet block",
        DecryptionSecrets => "decryption secrets block",
        CustomCopiable or CustomNotCopiable => "custom block",
        _ => string.Create(CultureInfo.InvariantCulture, $"block of type 0x{type:x8}"),
    };
}
