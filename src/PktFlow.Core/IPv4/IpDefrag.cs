using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.IPv4;

/// <summary>
/// Reassembly queues (net/ipv4/ip_fragment.c, net/ipv6/reassembly.c) of one namespace: fragments are
/// held by (source, destination, protocol, id) until the datagram is whole, against capture time
/// (ipfrag_time, 30 s by default). The packet that completes it carries on as the whole datagram.
/// </summary>
public sealed class FragmentQueues
{
    private sealed class Queue
    {
        public readonly SortedDictionary<int, byte[]> Parts = new();
        public int TotalLength = -1; // payload length once the last fragment (MF=0) is seen
        public byte[]? FirstHeader; // the header of the offset-0 fragment (ip_frag_reasm keeps it)
        public long FirstSeenNs;
        public int MaxSize, MaxDfSize; // q.max_size and max_df_size: the largest fragment (header + payload), the largest with DF
    }

    private readonly Dictionary<(IpAddr, IpAddr, byte, uint), Queue> _queues = new();
    public const long TimeoutNs = 30_000_000_000;
    /// <summary>Capture time of the next sweep for queues whose datagram never completed.</summary>
    private long _nextSweepNs = long.MinValue;

    /// <summary>Queues held (incomplete datagrams not yet expired or swept).</summary>
    internal int Count => _queues.Count;

    /// <summary>
    /// ip_expire: a queue is freed ipfrag_time (30 s) after its first fragment. A queue past that is
    /// never completed (a fragment with its key starts a new one), so queues of datagrams that never
    /// complete are swept once a second of capture time rather than kept for the whole replay.
    /// </summary>
    private void Sweep(long nowNs)
    {
        if (nowNs < _nextSweepNs) return;
        _nextSweepNs = nowNs + 1_000_000_000;
        List<(IpAddr, IpAddr, byte, uint)>? dead = null;
        foreach (var (key, q) in _queues)
            if (nowNs - q.FirstSeenNs > TimeoutNs) (dead ??= []).Add(key);
        if (dead is not null) foreach (var key in dead) _queues.Remove(key);
    }

    /// <summary>Adds one fragment. Returns the reassembled datagram (header + payload) when complete, else null.</summary>
    public byte[]? Add(IpAddr src, IpAddr dst, byte protocol, uint id, int offset, bool more,
        ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, long nowNs, out string detail) =>
        Add(src, dst, protocol, id, offset, more, false, header, payload, nowNs, out detail, out _);

    /// <summary>
    /// Adds one fragment (<paramref name="df"/>: its DF bit). When it completes the datagram, also says
    /// what ip_frag_reasm leaves in IPCB(skb): frag_max_size, IPSKB_FRAG_PMTU and the frag_list geometry.
    /// </summary>
    public byte[]? Add(IpAddr src, IpAddr dst, byte protocol, uint id, int offset, bool more, bool df,
        ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, long nowNs, out string detail, out IpFragInfo? info)
    {
        info = null;
        Sweep(nowNs);
        var key = (src, dst, protocol, id);
        if (_queues.TryGetValue(key, out var q) && nowNs - q.FirstSeenNs > TimeoutNs)
        {
            _queues.Remove(key);
            q = null;
        }
        if (q is null) _queues[key] = q = new Queue { FirstSeenNs = nowNs };
        q.Parts[offset] = payload.ToArray();
        int size = header.Length + payload.Length; // ip_frag_queue: fragsize = skb->len + ihl
        q.MaxSize = Math.Max(q.MaxSize, size);
        if (df) q.MaxDfSize = Math.Max(q.MaxDfSize, size);
        if (offset == 0) q.FirstHeader = header.ToArray();
        if (!more) q.TotalLength = offset + payload.Length;
        int have = 0;
        foreach (var (off, part) in q.Parts)
        {
            if (off > have) break;
            have = Math.Max(have, off + part.Length);
        }
        if (q.TotalLength < 0 || have < q.TotalLength || q.FirstHeader is null)
        {
            detail = $"fragment at offset {offset} ({payload.Length} bytes{(more ? ", more follow" : ", the last")}) queued: {q.Parts.Count} held, waiting for the rest";
            return null;
        }
        _queues.Remove(key);
        var whole = new byte[q.FirstHeader.Length + q.TotalLength];
        q.FirstHeader.CopyTo(whole, 0);
        foreach (var (off, part) in q.Parts)
        {
            int n = Math.Min(part.Length, q.TotalLength - off);
            if (n > 0) part.AsSpan(0, n).CopyTo(whole.AsSpan(q.FirstHeader.Length + off));
        }
        // ip_frag_reasm: frag_max_size = max(max_df_size, max_size); DF and IPSKB_FRAG_PMTU only when
        // the largest fragment had DF.
        info = new IpFragInfo(Math.Max(q.MaxDfSize, q.MaxSize), q.MaxDfSize == q.MaxSize,
            q.Parts.Select(p => Math.Min(p.Value.Length, q.TotalLength - p.Key)).ToArray()) { Id = id, HeaderLength = q.FirstHeader.Length };
        detail = $"last missing fragment: {q.Parts.Count} fragments reassembled into {whole.Length} bytes (largest fragment {info.MaxSize} bytes)";
        return whole;
    }
}

/// <summary>
/// What ip_frag_reasm leaves in IPCB(skb) for ip_do_fragment: frag_max_size (the largest fragment it
/// arrived in), IPSKB_FRAG_PMTU (that fragment had DF), and the payload length of each fragment in
/// offset order (the frag_list the fast path sends again as it is).
/// </summary>
public sealed record IpFragInfo(int MaxSize, bool Pmtu, IReadOnlyList<int> PayloadLengths)
{
    /// <summary>The identification the fragments arrived with.</summary>
    public uint Id { get; init; }

    /// <summary>The headers in front of the fragment data (IPv4 header; IPv6 header and the extension headers before the fragment header).</summary>
    public int HeaderLength { get; init; }
}
