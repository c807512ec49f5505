using System.Buffers.Binary;

namespace PktFlow.Capture;

/// <summary>
/// Writes a little-endian pcap file (layout in CaptureReader.Pcap.cs). No allocation per packet.
/// </summary>
public sealed class PcapWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly byte[] _header = new byte[24];
    private bool _disposed;

    /// <param name="stream">Where to write; disposed with the writer unless <paramref name="leaveOpen"/>.</param>
    /// <param name="linkType">LINKTYPE_* of every packet.</param>
    /// <param name="snaplen">Packets longer than this are cut to it (their original length is kept).</param>
    /// <param name="nanosecond">Nanosecond timestamps (magic a1b23c4d) rather than microseconds (a1b2c3d4).</param>
    public PcapWriter(Stream stream, LinkType linkType, int snaplen = 262144, bool nanosecond = true, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(snaplen);
        if (!stream.CanWrite)
        {
            throw new ArgumentException("The stream must be writable.", nameof(stream));
        }

        _stream = stream;
        _leaveOpen = leaveOpen;
        LinkType = linkType;
        Snaplen = snaplen;
        Nanosecond = nanosecond;

        var h = _header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(h, nanosecond ? 0xa1b23c4du : 0xa1b2c3d4u);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(h[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], (uint)snaplen);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], (uint)linkType);
        _stream.Write(h);
    }

    public LinkType LinkType { get; }
    public int Snaplen { get; }
    public bool Nanosecond { get; }
    public long FramesWritten { get; private set; }

    /// <summary>Appends one packet.</summary>
    /// <param name="timestampNs">Nanoseconds since the Unix epoch; 0 to 2^32 seconds (pcap stores unsigned 32-bit seconds).</param>
    /// <param name="data">The packet; cut to the snaplen.</param>
    /// <param name="originalLength">Length on the wire; -1 for <paramref name="data"/>'s length.</param>
    public void Write(long timestampNs, ReadOnlySpan<byte> data, int originalLength = -1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long seconds = timestampNs / 1_000_000_000;
        if (timestampNs < 0 || seconds > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(timestampNs), timestampNs,
                "pcap timestamps hold 0 to 2^32-1 seconds after the Unix epoch.");
        }

        int caplen = Math.Min(data.Length, Snaplen);
        int original = CheckOriginalLength(originalLength, data.Length);
        long fraction = timestampNs % 1_000_000_000;

        var h = _header.AsSpan(0, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)(Nanosecond ? fraction : fraction / 1000));
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)caplen);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], (uint)original);
        _stream.Write(h);
        _stream.Write(data[..caplen]);
        FramesWritten++;
    }

    internal static int CheckOriginalLength(int originalLength, int dataLength)
    {
        if (originalLength == -1)
        {
            return dataLength;
        }

        if (originalLength < dataLength)
        {
            throw new ArgumentOutOfRangeException(nameof(originalLength), originalLength,
                $"The original length must be -1 or at least the {dataLength} bytes given.");
        }

        return originalLength;
    }

    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _stream.Flush();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stream.Flush();
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }
}
