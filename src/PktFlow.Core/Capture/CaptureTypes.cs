namespace PktFlow.Capture;

/// <summary>
/// LINKTYPE_* value of a capture (pcap file header, pcapng interface description). Only the
/// values PktFlow replays are named; any other number may appear and is passed through unchanged
/// (<see cref="LinkLayer.TryDecode"/> refuses it with a message naming the type).
/// </summary>
public enum LinkType : uint
{
    Null = 0,
    Ethernet = 1,
    Raw = 101,
    Loop = 108,
    LinuxSll = 113,
    Ipv4 = 228,
    Ipv6 = 229,
    LinuxSll2 = 276,
}

public enum CaptureFileFormat { Pcap, PcapNg }

/// <summary>What one <see cref="CaptureReader.Read"/> call produced.</summary>
public enum CaptureReadStatus
{
    /// <summary>A frame; its data is valid until the next Read.</summary>
    Frame,
    /// <summary>A problem with the file. Non-fatal problems are followed by more output; a fatal one by End.</summary>
    Problem,
    /// <summary>Nothing more to read. Every later call returns End again.</summary>
    End,
}

/// <summary>
/// One captured packet. A value type over the reader's buffer, so reading allocates nothing per
/// packet; <see cref="Data"/> is only valid until the next <see cref="CaptureReader.Read"/> call
/// (copy it to keep it).
/// </summary>
public readonly struct CaptureFrame
{
    internal CaptureFrame(long number, long timestampNs, LinkType linkType, int interfaceId, string? interfaceName,
        int capturedLength, int originalLength, long fileOffset, ReadOnlyMemory<byte> data)
    {
        Number = number;
        TimestampNs = timestampNs;
        LinkType = linkType;
        InterfaceId = interfaceId;
        InterfaceName = interfaceName;
        CapturedLength = capturedLength;
        OriginalLength = originalLength;
        FileOffset = fileOffset;
        Data = data;
    }

    /// <summary>1-based packet number in the file; problems do not consume numbers.</summary>
    public long Number { get; }

    /// <summary>Nanoseconds since the Unix epoch, with pcapng if_tsresol and if_tsoffset applied.</summary>
    public long TimestampNs { get; }

    /// <summary>
    /// Link type of the frame's interface. <c>(LinkType)uint.MaxValue</c> when a pcapng packet names an
    /// interface that was never described (reported as UnknownInterface before the frame).
    /// </summary>
    public LinkType LinkType { get; }

    /// <summary>pcapng interface id within the current section; 0 for pcap.</summary>
    public int InterfaceId { get; }

    /// <summary>pcapng if_name when the interface has one.</summary>
    public string? InterfaceName { get; }

    public int CapturedLength { get; }

    /// <summary>Length of the packet on the wire (may exceed <see cref="CapturedLength"/> when the capture was snapped).</summary>
    public int OriginalLength { get; }

    /// <summary>Byte offset of the record header (pcap) or block header (pcapng) in the file.</summary>
    public long FileOffset { get; }

    /// <summary>The captured bytes, valid until the next Read call.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    public override string ToString() =>
        $"#{Number} if{InterfaceId} {LinkLayer.Describe(LinkType)} {CapturedLength}/{OriginalLength} bytes at {FileOffset}";
}

/// <summary>Stable <see cref="CaptureProblem.Code"/> values.</summary>
public static class CaptureProblemCodes
{
    /// <summary>The file starts with neither a pcap magic number nor a pcapng section header.</summary>
    public const string BadMagic = "BadMagic";
    /// <summary>The file ends inside the pcap file header or the first pcapng section header.</summary>
    public const string TruncatedFileHeader = "TruncatedFileHeader";
    /// <summary>The file ends inside a pcap record header or a pcapng block header.</summary>
    public const string TruncatedRecordHeader = "TruncatedRecordHeader";
    /// <summary>The file ends inside a record or block.</summary>
    public const string TruncatedRecord = "TruncatedRecord";
    /// <summary>A record or packet block claims more than 256 MiB.</summary>
    public const string CaplenTooLarge = "CaplenTooLarge";
    /// <summary>A record holds more bytes than the snaplen of its file or interface; it is read anyway.</summary>
    public const string CaplenExceedsSnaplen = "CaplenExceedsSnaplen";
    /// <summary>A record holds more bytes than the packet had on the wire; it is read anyway.</summary>
    public const string CaplenExceedsOriginalLength = "CaplenExceedsOriginalLength";
    /// <summary>A pcapng packet block claims more captured bytes than the block holds; the bytes present are read.</summary>
    public const string CaplenExceedsBlock = "CaplenExceedsBlock";
    /// <summary>A pcapng block of a type PktFlow does not know; it is skipped.</summary>
    public const string UnknownBlockType = "UnknownBlockType";
    /// <summary>A pcapng block length that is too small, not a multiple of 4, or disagrees with its trailer.</summary>
    public const string BadBlockLength = "BadBlockLength";
    /// <summary>A pcapng packet names an interface with no interface description block.</summary>
    public const string UnknownInterface = "UnknownInterface";
    /// <summary>A frame of a capture of several devices (tcpdump -i any, pcapng) names a device the model does not have, or none (reported by the replay).</summary>
    public const string InterfaceNotInModel = "InterfaceNotInModel";
    /// <summary>A frame's link type is not one PktFlow replays (reported by callers of <see cref="LinkLayer"/>; the reader passes link types through).</summary>
    public const string UnknownLinkType = "UnknownLinkType";
    /// <summary>A pcap major version other than 2, or a pcapng section whose major version is not 1.</summary>
    public const string UnsupportedVersion = "UnsupportedVersion";
    /// <summary>A pcap fraction of a second out of range, or a timestamp outside what 64-bit nanoseconds hold.</summary>
    public const string BadTimestamp = "BadTimestamp";
    /// <summary>A malformed pcapng option list; the options before it are kept.</summary>
    public const string BadOption = "BadOption";
}

/// <summary>
/// Something wrong with a capture file, found while reading it. <see cref="Message"/> names the
/// file, the byte offset (decimal and hex), what is wrong and what it means for the read.
/// </summary>
public sealed class CaptureProblem
{
    public CaptureProblem(string file, long offset, string code, string message, bool fatal)
    {
        File = file;
        Offset = offset;
        Code = code;
        Message = message;
        Fatal = fatal;
    }

    public string File { get; }

    /// <summary>Byte offset of the record, block or field the problem is about.</summary>
    public long Offset { get; }

    /// <summary>A stable id, one of <see cref="CaptureProblemCodes"/>.</summary>
    public string Code { get; }

    public string Message { get; }

    /// <summary>True when nothing after this point can be read: the next Read returns End.</summary>
    public bool Fatal { get; }

    public override string ToString() => $"{Code}: {Message}";
}

/// <summary>Thrown by <see cref="CaptureReader.Open(string)"/> only when nothing at all can be read.</summary>
public sealed class CaptureFormatException : Exception
{
    public CaptureFormatException(string file, long offset, string code, string message)
        : base(message)
    {
        File = file;
        Offset = offset;
        Code = code;
    }

    internal CaptureFormatException(CaptureProblem problem)
        : this(problem.File, problem.Offset, problem.Code, problem.Message)
    {
    }

    public string File { get; }
    public long Offset { get; }
    public string Code { get; }
}
