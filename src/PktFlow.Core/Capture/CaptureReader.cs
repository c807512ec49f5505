using System.Buffers.Binary;
using System.Globalization;

namespace PktFlow.Capture;

/// <summary>
/// Streaming reader for pcap and pcapng files, in constant memory whatever the file size.
/// </summary>
/// <remarks>
/// What can still be read is read. Each <see cref="Read"/> returns one frame, one problem or the end.
/// A record with something wrong that could still be read yields its problem(s) first and then
/// the frame (the problem's Offset equals the frame's FileOffset); a fatal problem is followed by End.
/// Format errors never throw from Read; only I/O errors do. <see cref="Open(string)"/> throws
/// <see cref="CaptureFormatException"/> when nothing at all can be read.
/// </remarks>
public sealed partial class CaptureReader : IDisposable
{
    /// <summary>Largest record or packet block accepted; anything bigger is corruption, not a packet.</summary>
    internal const int MaxRecordLength = 256 * 1024 * 1024;

    private readonly ReadWindow _in;
    private readonly string _name;
    private Queue<CaptureProblem>? _problems;
    private CaptureFrame _pending;
    private bool _hasPending;
    private bool _finished;
    private bool _disposed;
    private long _frames;
    private bool _bigEndian;

    private CaptureReader(Stream stream, string name, bool leaveOpen)
    {
        _name = name;
        _in = new ReadWindow(stream, leaveOpen);
        int have = _in.Ensure(4);
        if (have < 4)
        {
            throw new CaptureFormatException(FatalProblem(0, CaptureProblemCodes.TruncatedFileHeader, have == 0
                ? "the file is empty; a capture file starts with a 24-byte pcap header or a pcapng section header block"
                : $"the file is only {have} bytes long, too short for any capture file header"));
        }

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(_in.Span(4));
        if (magic == PcapNgSectionHeader)
        {
            Format = CaptureFileFormat.PcapNg;
            OpenPcapNg();
        }
        else if (IsPcapMagic(magic))
        {
            Format = CaptureFileFormat.Pcap;
            OpenPcap(magic);
        }
        else
        {
            throw new CaptureFormatException(FatalProblem(0, CaptureProblemCodes.BadMagic, DescribeBadMagic(_in.Span(4))));
        }
    }

    public static CaptureReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete,
            bufferSize: 1, FileOptions.SequentialScan);
        try
        {
            return new CaptureReader(stream, path, leaveOpen: false);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Reads from <paramref name="stream"/>, which the reader disposes; <paramref name="name"/> is used in messages.</summary>
    public static CaptureReader Open(Stream stream, string name) => Open(stream, name, leaveOpen: false);

    public static CaptureReader Open(Stream stream, string name, bool leaveOpen)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        if (!stream.CanRead)
        {
            throw new ArgumentException("The stream must be readable.", nameof(stream));
        }

        return new CaptureReader(stream, name, leaveOpen);
    }

    public CaptureFileFormat Format { get; }

    /// <summary>The name used in problem messages (the path for files).</summary>
    public string Name => _name;

    /// <summary>Bytes consumed so far, for progress.</summary>
    public long Position => _in.Position;

    /// <summary>Total bytes, or -1 when the stream cannot tell (a pipe).</summary>
    public long Length => _in.Length;

    /// <summary>Frames returned so far.</summary>
    public long FrameCount => _frames;

    /// <summary>
    /// Reads the next frame, problem or the end. A frame's <see cref="CaptureFrame.Data"/> stays valid
    /// until the next call.
    /// </summary>
    public CaptureReadStatus Read(out CaptureFrame frame, out CaptureProblem? problem)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((_problems is null || _problems.Count == 0) && !_hasPending && !_finished)
        {
            if (Format == CaptureFileFormat.Pcap)
            {
                ReadPcapRecord();
            }
            else
            {
                ReadPcapNgBlocks();
            }
        }

        if (_problems is { Count: > 0 })
        {
            problem = _problems.Dequeue();
            frame = default;
            return CaptureReadStatus.Problem;
        }

        problem = null;
        if (_hasPending)
        {
            _hasPending = false;
            frame = _pending;
            _pending = default;
            return CaptureReadStatus.Frame;
        }

        frame = default;
        return CaptureReadStatus.End;
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _in.Dispose();
        }
    }

    /// <summary>
    /// Buffers <paramref name="count"/> bytes, checking the file length first (when known) so a
    /// corrupt length never makes the window grow; <paramref name="left"/> is what was there instead.
    /// </summary>
    private bool BufferRecord(int count, out long left)
    {
        long remaining = _in.Remaining;
        if (remaining >= 0 && count > remaining)
        {
            left = remaining;
            return false;
        }

        left = _in.Ensure(count);
        return left >= count;
    }

    private void Deliver(long timestampNs, LinkType linkType, int interfaceId, string? interfaceName,
        int capturedLength, int originalLength, long fileOffset, int dataOffset)
    {
        _frames++;
        _pending = new CaptureFrame(_frames, timestampNs, linkType, interfaceId, interfaceName,
            capturedLength, originalLength, fileOffset, _in.Memory(dataOffset, capturedLength));
        _hasPending = true;
    }

    private void Report(long offset, string code, string what)
    {
        (_problems ??= new Queue<CaptureProblem>()).Enqueue(new CaptureProblem(_name, offset, code, Where(offset) + what, fatal: false));
    }

    /// <summary>Reports a problem after which nothing can be read, and stops.</summary>
    private void Stop(long offset, string code, string what)
    {
        (_problems ??= new Queue<CaptureProblem>()).Enqueue(FatalProblem(offset, code, what));
        _finished = true;
    }

    private CaptureProblem FatalProblem(long offset, string code, string what)
    {
        string read = _frames switch
        {
            0 => " No frames were read before it.",
            1 => " The 1 frame before it was read.",
            _ => $" The {_frames.ToString(CultureInfo.InvariantCulture)} frames before it were read.",
        };
        return new CaptureProblem(_name, offset, code, Where(offset) + what + read, fatal: true);
    }

    private string Where(long offset) =>
        string.Create(CultureInfo.InvariantCulture, $"{_name} at byte {offset} (0x{offset:x}): ");

    private ushort U16(ReadOnlySpan<byte> s, int at) => _bigEndian
        ? BinaryPrimitives.ReadUInt16BigEndian(s[at..])
        : BinaryPrimitives.ReadUInt16LittleEndian(s[at..]);

    private uint U32(ReadOnlySpan<byte> s, int at) => _bigEndian
        ? BinaryPrimitives.ReadUInt32BigEndian(s[at..])
        : BinaryPrimitives.ReadUInt32LittleEndian(s[at..]);

    private ulong U64(ReadOnlySpan<byte> s, int at) => _bigEndian
        ? BinaryPrimitives.ReadUInt64BigEndian(s[at..])
        : BinaryPrimitives.ReadUInt64LittleEndian(s[at..]);

    private static string DescribeBadMagic(ReadOnlySpan<byte> first)
    {
        string hex = Convert.ToHexString(first).ToLowerInvariant();
        string hint = first switch
        {
            [0x1f, 0x8b, ..] => "it is gzip-compressed; decompress it (gunzip) and open the result",
            [0x28, 0xb5, 0x2f, 0xfd] => "it is zstd-compressed; decompress it (zstd -d) and open the result",
            [0x50, 0x4b, 0x03, 0x04] => "it is a zip archive; extract the capture from it first",
            [0x34, 0xcd, 0xb2, 0xa1] or [0xa1, 0xb2, 0xcd, 0x34] =>
                "it is the modified (Kuznetzov) pcap format; convert it with 'editcap -F pcap'",
            [0x58, 0x43, 0x50, 0x00] => "it looks like a NetXray/Sniffer file; convert it with 'editcap -F pcap'",
            _ when IsText(first) => "it looks like text, not a capture (tcpdump's printed output?); write captures with 'tcpdump -w'",
            _ => "it is neither pcap (a1b2c3d4 or a1b23c4d, either byte order) nor pcapng (0a0d0d0a); convert it with 'editcap -F pcap'",
        };
        return $"unknown file magic {hex}: {hint}.";
    }

    private static bool IsText(ReadOnlySpan<byte> s)
    {
        foreach (byte b in s)
        {
            if (b is not ((>= 0x20 and < 0x7f) or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return false;
            }
        }

        return true;
    }
}
