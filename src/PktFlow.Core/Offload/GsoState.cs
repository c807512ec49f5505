using PktFlow.Wire;

namespace PktFlow.Offload;

/// <summary>
/// What one namespace has seen that tells a sender's gso_size (<see cref="GsoSizeInference"/>): the
/// MSS each TCP flow's peer advertised, the path MTU ICMP errors gave each source for a destination.
/// Entries go after <see cref="Expiry"/> unused (ip_rt_mtu_expires, 10 minutes, for a learnt path
/// MTU; the same for an MSS, which a flow idle that long no longer needs for super-frames).
/// </summary>
public sealed class GsoState
{
    public const long Expiry = 600L * 1_000_000_000;
    private const int PruneAbove = 1024;
    private readonly Dictionary<GsoSizeInference.FlowKey, (int Mss, long Seen)> _mss = new();
    private readonly Dictionary<(IpAddr Source, IpAddr Destination), (int Mtu, long Seen)> _pmtu = new();

    /// <summary>Entries held (for tests of the bound).</summary>
    public int Count => _mss.Count + _pmtu.Count;

    internal void SetPeerMss(GsoSizeInference.FlowKey sender, int mss, long nowNs)
    {
        _mss[sender] = (mss, nowNs);
        Prune(_mss, nowNs);
    }

    internal int? PeerMss(GsoSizeInference.Flow f, long nowNs)
    {
        var key = new GsoSizeInference.FlowKey(f.Source, f.Destination, f.SourcePort, f.DestinationPort);
        if (!_mss.TryGetValue(key, out var e) || nowNs - e.Seen > Expiry) return null;
        _mss[key] = (e.Mss, nowNs);
        return e.Mss;
    }

    internal void SetPathMtu(IpAddr source, IpAddr destination, int mtu, long nowNs)
    {
        _pmtu[(source, destination)] = (mtu, nowNs);
        Prune(_pmtu, nowNs);
    }

    /// <summary>A path MTU ages from when it was learnt, as the sender's route exception does.</summary>
    internal int? PathMtu(IpAddr source, IpAddr destination, long nowNs) =>
        _pmtu.TryGetValue((source, destination), out var e) && nowNs - e.Seen <= Expiry ? e.Mtu : null;

    private static void Prune<TKey>(Dictionary<TKey, (int, long Seen)> map, long nowNs) where TKey : notnull
    {
        if (map.Count <= PruneAbove) return;
        foreach (var k in map.Where(kv => nowNs - kv.Value.Seen > Expiry).Select(kv => kv.Key).ToList()) map.Remove(k);
        if (map.Count <= PruneAbove) return;
        // still too many live ones: forget the least recently used half
        foreach (var k in map.OrderBy(kv => kv.Value.Seen).Take(map.Count / 2).Select(kv => kv.Key).ToList()) map.Remove(k);
    }
}
