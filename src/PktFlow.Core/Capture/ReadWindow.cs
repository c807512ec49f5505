namespace PktFlow.Capture;

/// <summary>
/// A sliding window over a stream: one growable buffer that the readers parse in place, so a
/// frame's data is a slice of it and steady-state reading allocates nothing. The buffer only
/// grows when a single record is larger than it, and then in doubling steps as bytes actually
/// arrive, so a corrupt length on a pipe cannot make it allocate far beyond the data.
/// </summary>
internal sealed class ReadWindow : IDisposable
{
    private const int InitialSize = 64 * 1024;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly long _origin;
    private byte[] _buffer = new byte[InitialSize];
    private int _start;
    private int _end;
    private long _position;
    private bool _eof;

    public ReadWindow(Stream stream, bool leaveOpen)
    {
        _stream = stream;
        _leaveOpen = leaveOpen;
        _origin = stream.CanSeek ? stream.Position : 0;
    }

    /// <summary>Offset (from where the stream started) of the first unconsumed byte.</summary>
    public long Position => _position;

    /// <summary>Length of the data from where the stream started, or -1 when the stream cannot tell.</summary>
    public long Length => _stream.CanSeek ? _stream.Length - _origin : -1;

    /// <summary>Bytes left after <see cref="Position"/>, or -1 when unknown.</summary>
    public long Remaining => _stream.CanSeek ? Math.Max(0, Length - _position) : -1;

    public int Available => _end - _start;

    /// <summary>Buffers at least <paramref name="count"/> bytes if the stream has them; returns how many are buffered.</summary>
    public int Ensure(int count)
    {
        while (_end - _start < count && !_eof)
        {
            if (_end == _buffer.Length)
            {
                MakeRoom(count);
            }

            int read = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0)
            {
                _eof = true;
            }

            _end += read;
        }

        return _end - _start;
    }

    public ReadOnlySpan<byte> Span(int count) => _buffer.AsSpan(_start, count);

    public ReadOnlyMemory<byte> Memory(int offset, int count) => _buffer.AsMemory(_start + offset, count);

    public void Advance(int count)
    {
        _start += count;
        _position += count;
    }

    /// <summary>Consumes <paramref name="count"/> bytes without keeping them; returns how many there were.</summary>
    public long Skip(long count)
    {
        long skipped = Math.Min(count, _end - _start);
        Advance((int)skipped);
        if (skipped == count)
        {
            return skipped;
        }

        _start = _end = 0;
        if (_stream.CanSeek)
        {
            long room = Math.Max(0, _stream.Length - _stream.Position);
            long jump = Math.Min(count - skipped, room);
            _stream.Seek(jump, SeekOrigin.Current);
            _position += jump;
            skipped += jump;
            return skipped;
        }

        while (skipped < count)
        {
            int read = _stream.Read(_buffer, 0, (int)Math.Min(_buffer.Length, count - skipped));
            if (read == 0)
            {
                _eof = true;
                break;
            }

            _position += read;
            skipped += read;
        }

        return skipped;
    }

    private void MakeRoom(int count)
    {
        int held = _end - _start;
        if (_start > 0 && count <= _buffer.Length)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, held);
        }
        else
        {
            // Grow towards count, but never more than double what is already held.
            long size = Math.Min(count, Math.Max((long)_buffer.Length * 2, InitialSize));
            var grown = new byte[Math.Max(size, held + 1)];
            Buffer.BlockCopy(_buffer, _start, grown, 0, held);
            _buffer = grown;
        }

        _start = 0;
        _end = held;
    }

    public void Dispose()
    {
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }
}
