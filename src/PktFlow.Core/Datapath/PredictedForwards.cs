using PktFlow.Wire;

namespace PktFlow.Datapath;

/// <summary>
/// Forwarded packets the model predicted leaving a device, by their unchanging header fields, so that
/// Observe mode recognises the copy a capture shows leaving. A forward leaves within moments of its
/// arrival: the longest the kernel holds one is the neighbour queue, (mcast_solicit + app_solicit) x
/// retrans_time (3 s by default). A frame seen later is another packet that happens to share the
/// fields (the IPv4 id wraps), so predictions are kept for <see cref="HorizonNs"/> of capture time and
/// then forgotten: a long capture does not keep one per forwarded packet.
/// </summary>
internal sealed class PredictedForwards
{
    /// <summary>How long a prediction is kept: far beyond any neighbour queue a lab configures in practice.</summary>
    public const long HorizonNs = 60_000_000_000;

    private readonly Dictionary<(string Egress, string Key), (long Frame, long AtNs, CopyOrigin? Origin, PacketTrace? Trace)> _byKey = new();
    /// <summary>The keys in the order they were predicted, for trimming the oldest.</summary>
    private readonly Queue<(long AtNs, (string, string) Key)> _order = new();

    public int Count => _byKey.Count;

    /// <param name="trace">The trace of the forwarded packet, which a copy of it seen leaving takes.</param>
    public void Add(string egress, string key, long frame, long atNs, CopyOrigin? origin = null, PacketTrace? trace = null)
    {
        // two packets with the same fields crossing the same device in one frame's walks (a packet and its
        // mirred clone): the earlier one waits to be taken first (TryTake); otherwise the later replaces it
        if (origin is not null && !_taken.Remove((egress, key)) && _byKey.TryGetValue((egress, key), out var was)
            && was.Origin is { } other && other != origin && was.AtNs == atNs)
        {
            if (!_earlier.TryGetValue((egress, key), out var q)) _earlier[(egress, key)] = q = new();
            q.Add(was);
        }
        _byKey[(egress, key)] = (frame, atNs, origin, trace);
        _order.Enqueue((atNs, (egress, key)));
        Trim(atNs);
    }

    /// <summary>Forgets the crossing <paramref name="key"/> at <paramref name="egress"/> when <paramref name="origin"/> recorded it.</summary>
    public void Forget(string egress, string key, CopyOrigin origin)
    {
        if (_byKey.TryGetValue((egress, key), out var p) && p.Origin == origin) _byKey.Remove((egress, key));
        if (_earlier.TryGetValue((egress, key), out var q) && q.RemoveAll(e => e.Origin == origin) > 0 && q.Count == 0) _earlier.Remove((egress, key));
    }

    /// <summary>Crossings displaced by a later packet with the same fields on the same device, oldest first.</summary>
    private readonly Dictionary<(string Egress, string Key), List<(long Frame, long AtNs, CopyOrigin? Origin, PacketTrace? Trace)>> _earlier = new();

    /// <summary>
    /// Like <see cref="TryMatch(string, string, long, out long, out CopyOrigin?)"/>, but a crossing a frame
    /// showed is taken (each is shown once), oldest first, so that two packets with the same fields on one
    /// device are told apart in the order they crossed it. One whose frame is not known yet (a child no
    /// frame has shown) is left in place.
    /// </summary>
    public bool TryTake(string egress, string key, long nowNs, out long frame, out CopyOrigin? origin)
    {
        frame = 0;
        origin = null;
        if (_earlier.TryGetValue((egress, key), out var q))
        {
            q.RemoveAll(e => nowNs - e.AtNs > HorizonNs);
            // a child no frame has shown yet (frame 0) may never be: the first one a frame showed is taken
            int i = q.FindIndex(e => e.Origin is { Frame: > 0 });
            if (q.Count == 0) _earlier.Remove((egress, key));
            if (i >= 0)
            {
                (frame, origin) = (q[i].Frame, q[i].Origin);
                q.RemoveAt(i);
                if (q.Count == 0) _earlier.Remove((egress, key));
                return true;
            }
        }
        if (!_byKey.TryGetValue((egress, key), out var p) || nowNs - p.AtNs > HorizonNs) return false;
        (frame, origin) = (p.Frame, p.Origin);
        if (p.Origin is { Frame: > 0 }) _taken.Add((egress, key)); // shown: a later packet's crossing replaces it
        return true;
    }

    /// <summary>Crossings a frame has shown already (<see cref="TryTake"/>): not kept when a later packet's replaces them.</summary>
    private readonly HashSet<(string Egress, string Key)> _taken = new();

    /// <summary>The frame whose forwarded copy this is, if it was predicted within the horizon.</summary>
    public bool TryMatch(string egress, string key, long nowNs, out long frame) => TryMatch(egress, key, nowNs, out frame, out _);

    /// <summary>As above, with what became of the packet whose copy this is, when that was recorded.</summary>
    public bool TryMatch(string egress, string key, long nowNs, out long frame, out CopyOrigin? origin)
    {
        frame = 0;
        origin = null;
        if (!_byKey.TryGetValue((egress, key), out var p) || nowNs - p.AtNs > HorizonNs) return false;
        frame = p.Frame;
        origin = p.Origin;
        return true;
    }

    /// <summary>The trace of the forwarded packet whose copy this is, if it was predicted within the horizon with one.</summary>
    public PacketTrace? MatchTrace(string egress, string key, long nowNs) =>
        _byKey.TryGetValue((egress, key), out var p) && nowNs - p.AtNs <= HorizonNs ? p.Trace : null;

    /// <summary>Forgets predictions older than the horizon (a key predicted again since keeps its newer entry).</summary>
    public void Trim(long nowNs)
    {
        while (_order.TryPeek(out var head) && nowNs - head.AtNs > HorizonNs)
        {
            _order.Dequeue();
            if (_byKey.TryGetValue(head.Key, out var p) && p.AtNs == head.AtNs) { _byKey.Remove(head.Key); _taken.Remove(head.Key); }
            if (_earlier.TryGetValue(head.Key, out var q) && q.RemoveAll(e => nowNs - e.AtNs > HorizonNs) >= 0 && q.Count == 0) _earlier.Remove(head.Key);
        }
    }
}
