using System.Buffers.Binary;
using System.Text;

namespace PktFlow.Capture;

/// <summary>
/// Writes a little-endian pcapng file (layout in CaptureReader.PcapNg.cs): one section header,
/// an interface description block per <see cref="AddInterface"/>, an enhanced packet block per
/// <see cref="Write"/>. No allocation per packet.
/// </summary>
public sealed class PcapNgWriter : IDisposable
{
    private const int EnhancedPacketFixed = 32;
    private static readonly byte[] Padding = new byte[4];
    private static readonly byte[] Application = Encoding.UTF8.GetBytes("PktFlow");

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly List<(int Snaplen, byte Tsresol)> _interfaces = [];
    private readonly byte[] _header = new byte[EnhancedPacketFixed];
    private bool _disposed;

    public PcapNgWriter(Stream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite)
        {
            throw new ArgumentException("The stream must be writable.", nameof(stream));
        }

        _stream = stream;
        _leaveOpen = leaveOpen;

        // Section header: byte-order magic, version 1.0, section length unknown (-1), shb_userappl.
        var body = new byte[16 + OptionLength(Application.Length) + 4];
        BinaryPrimitives.WriteUInt32LittleEndian(body, 0x1a2b3c4d);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(6), 0);
        BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(8), -1);
        int p = WriteOption(body, 16, 4, Application);
        WriteBlock(0x0a0d0d0a, body.AsSpan(0, p + 4));
    }

    public int InterfaceCount => _interfaces.Count;
    public long FramesWritten { get; private set; }

    /// <summary>Describes an interface; returns its id for <see cref="Write"/>.</summary>
    /// <param name="snaplen">Packets longer than this are cut to it; 0 for no limit.</param>
    /// <param name="tsresol">
    /// if_tsresol: units of 10^-n seconds (9 = nanoseconds, 6 = microseconds), or with the high bit
    /// set units of 2^-n seconds.
    /// </param>
    public int AddInterface(LinkType linkType, string? name = null, int snaplen = 262144, byte tsresol = 9)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(snaplen);
        if ((uint)linkType > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(linkType), linkType, "pcapng link types are 16-bit.");
        }

        int exponent = tsresol & 0x7f;
        if (exponent > ((tsresol & 0x80) != 0 ? 63 : 19))
        {
            throw new ArgumentOutOfRangeException(nameof(tsresol), tsresol, "A 64-bit timestamp cannot count units that small.");
        }

        byte[] nameBytes = name is null ? [] : Encoding.UTF8.GetBytes(name);
        if (nameBytes.Length > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(name), "An interface name must fit in 65535 UTF-8 bytes.");
        }

        var body = new byte[8 + OptionLength(nameBytes.Length) + OptionLength(1) + 4];
        BinaryPrimitives.WriteUInt16LittleEndian(body, (ushort)linkType);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(4), (uint)snaplen);
        int p = 8;
        if (name is not null)
        {
            p = WriteOption(body, p, 2, nameBytes);
        }

        if (tsresol != 6)
        {
            p = WriteOption(body, p, 9, [tsresol]);
        }

        if (p > 8)
        {
            p += 4; // opt_endofopt
        }

        WriteBlock(1, body.AsSpan(0, p));
        _interfaces.Add((snaplen, tsresol));
        return _interfaces.Count - 1;
    }

    /// <summary>Appends one packet as an enhanced packet block.</summary>
    /// <param name="timestampNs">Nanoseconds since the Unix epoch, not negative.</param>
    /// <param name="data">The packet; cut to the interface's snaplen.</param>
    /// <param name="originalLength">Length on the wire; -1 for <paramref name="data"/>'s length.</param>
    public void Write(int interfaceId, long timestampNs, ReadOnlySpan<byte> data, int originalLength = -1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)interfaceId >= (uint)_interfaces.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(interfaceId), interfaceId,
                $"No such interface: {_interfaces.Count} were added.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(timestampNs);
        var (snaplen, tsresol) = _interfaces[interfaceId];
        int caplen = snaplen == 0 ? data.Length : Math.Min(data.Length, snaplen);
        int original = PcapWriter.CheckOriginalLength(originalLength, data.Length);
        ulong units = ToUnits(timestampNs, tsresol);
        int padded = (caplen + 3) & ~3;
        uint total = (uint)(EnhancedPacketFixed + padded);

        var h = _header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(h, 6);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], total);
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)interfaceId);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], (uint)(units >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], (uint)units);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], (uint)caplen);
        BinaryPrimitives.WriteUInt32LittleEndian(h[24..], (uint)original);
        _stream.Write(h[..28]);
        _stream.Write(data[..caplen]);
        _stream.Write(Padding.AsSpan(0, padded - caplen));
        BinaryPrimitives.WriteUInt32LittleEndian(h, total);
        _stream.Write(h[..4]);
        FramesWritten++;
    }

    private static ulong ToUnits(long timestampNs, byte tsresol)
    {
        int exponent = tsresol & 0x7f;
        UInt128 units = (tsresol & 0x80) != 0
            ? ((UInt128)(ulong)timestampNs << exponent) / 1_000_000_000UL
            : exponent >= 9
                ? (UInt128)(ulong)timestampNs * UInt128Pow10(exponent - 9)
                : (ulong)timestampNs / (ulong)UInt128Pow10(9 - exponent);
        if (units > ulong.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(timestampNs), timestampNs,
                $"The timestamp does not fit in 64 bits at if_tsresol 0x{tsresol:x2}.");
        }

        return (ulong)units;
    }

    private static UInt128 UInt128Pow10(int exponent)
    {
        UInt128 value = 1;
        for (int i = 0; i < exponent; i++)
        {
            value *= 10;
        }

        return value;
    }

    private static int OptionLength(int valueLength) => 4 + ((valueLength + 3) & ~3);

    private static int WriteOption(byte[] body, int at, ushort code, ReadOnlySpan<byte> value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(at), code);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(at + 2), (ushort)value.Length);
        value.CopyTo(body.AsSpan(at + 4));
        return at + OptionLength(value.Length);
    }

    private void WriteBlock(uint type, ReadOnlySpan<byte> body)
    {
        uint total = (uint)(12 + body.Length);
        Span<byte> word = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(word, type);
        BinaryPrimitives.WriteUInt32LittleEndian(word[4..], total);
        _stream.Write(word);
        _stream.Write(body);
        _stream.Write(word[4..]);
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
