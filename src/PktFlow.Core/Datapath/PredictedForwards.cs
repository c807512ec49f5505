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

    private readonly record struct Crossing(long Frame, long AtNs, CopyOrigin? Origin, PacketTrace? Trace);

    /// <summary>
    /// The crossings of one device by packets with the same fields, in the order they crossed it (a FIFO):
    /// the last is the latest prediction when <see cref="HasCurrent"/> (what <see cref="TryMatch(string, string, long, out long)"/>
    /// finds); those before it were displaced by a later packet in the same frame's walks (a packet and
    /// its mirred clone) and wait to be taken first.
    /// </summary>
    private sealed class Crossings
    {
        public readonly List<Crossing> Fifo = new(1);
        public bool HasCurrent;
        /// <summary>A frame has shown the current crossing already (<see cref="TryTake"/>): a later packet's replaces it instead of queueing behind it.</summary>
        public bool Taken;
        public int Earlier => Fifo.Count - (HasCurrent ? 1 : 0);
        public Crossing Current => Fifo[^1];

        public void DropCurrent()
        {
            Fifo.RemoveAt(Fifo.Count - 1);
            HasCurrent = Taken = false;
        }

        /// <summary>Removes the displaced crossings of <paramref name="origin"/>, or (origin null) those older than the horizon at <paramref name="nowNs"/>.</summary>
        public void RemoveEarlier(CopyOrigin? origin, long nowNs = 0)
        {
            for (int i = Earlier - 1; i >= 0; i--)
                if (origin is null ? nowNs - Fifo[i].AtNs > HorizonNs : Fifo[i].Origin == origin) Fifo.RemoveAt(i);
        }
    }

    private readonly Dictionary<(string Egress, string Key), Crossings> _crossings = new();
    /// <summary>The keys in the order they were predicted, for trimming the oldest.</summary>
    private readonly Queue<(long AtNs, (string, string) Key)> _order = new();

    /// <summary>Current predictions held (for tests).</summary>
    public int Count => _crossings.Values.Count(c => c.HasCurrent);

    /// <param name="trace">The trace of the forwarded packet, which a copy of it seen leaving takes.</param>
    public void Add(string egress, string key, long frame, long atNs, CopyOrigin? origin = null, PacketTrace? trace = null)
    {
        if (!_crossings.TryGetValue((egress, key), out var c)) _crossings[(egress, key)] = c = new();
        // two packets with the same fields crossing the same device in one frame's walks (a packet and its
        // mirred clone): the earlier one waits to be taken first (TryTake); otherwise the later replaces it
        bool queue = false;
        if (origin is not null)
        {
            queue = !c.Taken && c.HasCurrent && c.Current.Origin is { } other && other != origin && c.Current.AtNs == atNs;
            c.Taken = false;
        }
        if (c.HasCurrent && !queue) c.DropCurrent();
        c.Fifo.Add(new Crossing(frame, atNs, origin, trace));
        c.HasCurrent = true;
        _order.Enqueue((atNs, (egress, key)));
        Trim(atNs);
    }

    /// <summary>
    /// A frame showed <paramref name="origin"/>'s crossing at <paramref name="shown"/> with <paramref name="key"/>,
    /// where the model had other fields (an IP id the kernel chose for a packet it built): every crossing of
    /// that origin with the model's fields takes the frame's, as its later copies show them.
    /// </summary>
    public void Rekey(string shown, string key, CopyOrigin origin)
    {
        string? old = null;
        foreach (var ((egress, k), c) in _crossings)
            if (egress == shown && c.Fifo.Exists(x => x.Origin == origin)) { old = k; break; }
        if (old is null || old == key) return;
        // only the IP id differs (a packet another namespace built, its id from a per-boot hash): the crossings
        // after NAT have other addresses but the same id, and take the frame's id too
        string? oldId = IdOf(old), newId = IdOf(key);
        bool idOnly = oldId is not null && newId is not null && WithId(old, newId) == key;
        foreach (var ((egress, k), c) in _crossings.ToList())
        {
            if (k != old && idOnly && k != key && IdOf(k) == oldId && c.Fifo.Exists(x => x.Origin == origin))
            {
                foreach (var m in c.Fifo.Where(x => x.Origin == origin).ToList())
                {
                    Forget(egress, k, origin);
                    Add(egress, WithId(k, newId!), m.Frame, m.AtNs, origin, m.Trace);
                }
                continue;
            }
            if (k != old) continue;
            foreach (var m in c.Fifo.Where(x => x.Origin == origin).ToList())
            {
                Forget(egress, k, origin);
                Add(egress, key, m.Frame, m.AtNs, origin, m.Trace);
            }
        }
    }

    /// <summary>The IP id field of an IPv4 flow key (src>dst/proto/id/l4), or null for another key.</summary>
    private static string? IdOf(string key)
    {
        var f = key.Split('/');
        return f.Length == 4 && f[0].Contains('.') ? f[2] : null;
    }

    private static string WithId(string key, string id)
    {
        var f = key.Split('/');
        f[2] = id;
        return string.Join('/', f);
    }

    /// <summary>Forgets the crossing <paramref name="key"/> at <paramref name="egress"/> when <paramref name="origin"/> recorded it.</summary>
    public void Forget(string egress, string key, CopyOrigin origin)
    {
        if (!_crossings.TryGetValue((egress, key), out var c)) return;
        if (c.HasCurrent && c.Current.Origin == origin) c.DropCurrent();
        c.RemoveEarlier(origin);
        if (c.Fifo.Count == 0) _crossings.Remove((egress, key));
    }

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
        if (!_crossings.TryGetValue((egress, key), out var c)) return false;
        c.RemoveEarlier(null, nowNs);
        // a child no frame has shown yet (frame 0) may never be: the first one a frame showed is taken
        for (int i = 0; i < c.Earlier; i++)
            if (c.Fifo[i].Origin is { Frame: > 0 })
            {
                (frame, origin) = (c.Fifo[i].Frame, c.Fifo[i].Origin);
                c.Fifo.RemoveAt(i);
                return true;
            }
        if (!c.HasCurrent || nowNs - c.Current.AtNs > HorizonNs)
        {
            if (c.Fifo.Count == 0) _crossings.Remove((egress, key));
            return false;
        }
        (frame, origin) = (c.Current.Frame, c.Current.Origin);
        if (origin is { Frame: > 0 }) c.Taken = true; // shown: a later packet's crossing replaces it
        return true;
    }

    /// <summary>The frame whose forwarded copy this is, if it was predicted within the horizon.</summary>
    public bool TryMatch(string egress, string key, long nowNs, out long frame) => TryMatch(egress, key, nowNs, out frame, out _);

    /// <summary>As above, with what became of the packet whose copy this is, when that was recorded.</summary>
    public bool TryMatch(string egress, string key, long nowNs, out long frame, out CopyOrigin? origin)
    {
        frame = 0;
        origin = null;
        if (CurrentWithin(egress, key, nowNs) is not { } p) return false;
        frame = p.Frame;
        origin = p.Origin;
        return true;
    }

    /// <summary>The trace of the forwarded packet whose copy this is, if it was predicted within the horizon with one.</summary>
    public PacketTrace? MatchTrace(string egress, string key, long nowNs) => CurrentWithin(egress, key, nowNs)?.Trace;

    private Crossing? CurrentWithin(string egress, string key, long nowNs) =>
        _crossings.TryGetValue((egress, key), out var c) && c.HasCurrent && nowNs - c.Current.AtNs <= HorizonNs ? c.Current : null;

    /// <summary>Forgets predictions older than the horizon (a key predicted again since keeps its newer entry).</summary>
    public void Trim(long nowNs)
    {
        while (_order.TryPeek(out var head) && nowNs - head.AtNs > HorizonNs)
        {
            _order.Dequeue();
            if (!_crossings.TryGetValue(head.Key, out var c)) continue;
            if (c.HasCurrent && c.Current.AtNs == head.AtNs) c.DropCurrent();
            c.RemoveEarlier(null, nowNs);
            if (c.Fifo.Count == 0) _crossings.Remove(head.Key);
        }
    }
}
