using PktFlow.Capture;
using PktFlow.Wire;

namespace PktFlow.Replay;

/// <summary>
/// The next frames of a capture of several devices, read by a second reader ahead of the replay: the
/// copy of a packet after source NAT follows its copy before NAT within a few frames (the kernel
/// handles both in one softirq), so the port or ICMP id the kernel picked at random for a colliding
/// flow is there to be read when the packet is traced from its first copy.
/// </summary>
internal sealed class Lookahead : IDisposable
{
    /// <summary>How many frames ahead are kept: the copies of one packet on every device of a node, and some.</summary>
    public const int Depth = 32;

    private readonly CaptureReader _reader;
    private readonly Queue<(long Number, ushort Protocol, byte[] Network)> _queue = new();
    private bool _end;

    public Lookahead(string capturePath) => _reader = CaptureReader.Open(capturePath);

    /// <summary>The network headers and protocols of the frames after frame <paramref name="number"/>, up to <see cref="Depth"/>.</summary>
    public IReadOnlyCollection<(ushort Protocol, byte[] Network)> After(long number)
    {
        while (_queue.TryPeek(out var head) && head.Number <= number) _queue.Dequeue();
        while (!_end && _queue.Count < Depth)
        {
            var s = _reader.Read(out var frame, out _);
            if (s == CaptureReadStatus.End) { _end = true; break; }
            if (s != CaptureReadStatus.Frame || frame.Number <= number) continue;
            var data = frame.Data.Span;
            if (!LinkLayer.TryDecode(frame.LinkType, data, out var link, out _)) continue;
            if (link.IsEthernet)
            {
                if (EthernetFrame.TryParse(data, out var eth, out _)) _queue.Enqueue((frame.Number, eth.EtherType, eth.Payload.ToArray()));
            }
            else _queue.Enqueue((frame.Number, link.EtherType, data[link.NetworkOffset..].ToArray()));
        }
        return _queue.Select(q => (q.Protocol, q.Network)).ToArray();
    }

    public void Dispose() => _reader.Dispose();
}
