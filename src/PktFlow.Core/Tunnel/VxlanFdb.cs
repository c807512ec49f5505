using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Tunnel;

/// <summary>
/// A vxlan device's forwarding database (drivers/net/vxlan/vxlan_core.c): MAC -> remotes. Entries made
/// by hand (`bridge fdb append|add ... dst`, the default remote as the all-zeros entry) come with the
/// topology; entries vxlan_snoop learns from received frames live in the replay (<see cref="VxlanFdbState"/>)
/// and age out after the device's ageing time (FDB_AGE_DEFAULT, 300 s).
/// </summary>
public static class VxlanFdb
{
    public const long AgeNs = 300L * 1_000_000_000;

    /// <summary>One remote (struct vxlan_rdst): its address and the output device its route is bound to (remote_ifindex; none for a learned one).</summary>
    public readonly record struct Rdst(IpAddr Ip, string? Via)
    {
        public override string ToString() => Via is null ? Ip.ToString() : $"{Ip} via {Via}";
    }

    /// <summary>One entry: its remotes (in the order they were appended) and whether it is static (NUD_PERMANENT / NUD_NOARP).</summary>
    public readonly record struct Found(MacAddress Mac, IReadOnlyList<Rdst> Remotes, bool Static, bool Learned);

    /// <summary>vxlan_find_mac: the entry for <paramref name="mac"/> on <paramref name="dev"/>, made by hand or learned and not aged out.</summary>
    [KernelSymbol("vxlan_find_mac", "drivers/net/vxlan/vxlan_core.c")]
    public static Found? Find(SkBuff skb, NetDevice dev, MacAddress mac)
    {
        if (Index(skb.Netns.VxlanFdb).TryGetValue((dev.Name, mac), out var remotes)) return new Found(mac, remotes, true, false);
        if (skb.State.VxlanFdb.LearnedRemote(dev.Name, mac, skb.TimestampNs) is { } r) return new Found(mac, r, false, true);
        return null;
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IReadOnlyList<VxlanFdbEntry>, Dictionary<(string, MacAddress), Rdst[]>> Indexes = new();

    /// <summary>The namespace's static entries by device and MAC, remotes in append order: built once per topology, so a lookup allocates nothing.</summary>
    private static Dictionary<(string, MacAddress), Rdst[]> Index(IReadOnlyList<VxlanFdbEntry> entries) =>
        Indexes.GetValue(entries, static es => es.GroupBy(e => (e.Device, e.Mac)).ToDictionary(g => g.Key, g => g.Select(e => new Rdst(e.Remote, e.Via)).ToArray()));

    /// <summary>
    /// vxlan_snoop: a frame from <paramref name="src"/> received from <paramref name="remote"/>. A source that
    /// is not a valid unicast address (is_valid_ether_addr: multicast, broadcast, zero) is dropped
    /// (MAC_INVALID_SOURCE); a new MAC is learned (NUD_REACHABLE); one learned from another remote moves
    /// there; a static entry pointing elsewhere is not moved and the frame is dropped (VXLAN_ENTRY_EXISTS).
    /// Returns the drop reason, null when the frame goes on.
    /// </summary>
    [KernelSymbol("vxlan_snoop", "drivers/net/vxlan/vxlan_core.c")]
    public static string? Snoop(SkBuff skb, NetDevice dev, MacAddress src, IpAddr remote, out string detail)
    {
        if (src.IsMulticast || src.IsZero)
        {
            detail = $"the inner source {src} is not a valid unicast address (is_valid_ether_addr)";
            return "MAC_INVALID_SOURCE";
        }
        var found = Find(skb, dev, src);
        if (found is { } f)
        {
            if (f.Remotes[0].Ip == remote) { detail = $"{src} is known at {remote}"; if (f.Learned) skb.State.VxlanFdb.Learn(dev.Name, src, remote, skb.TimestampNs); return null; }
            if (f.Static) { detail = $"{src} has a static entry to {f.Remotes[0]}, not {remote}: not moved, the frame is dropped"; return "VXLAN_ENTRY_EXISTS"; }
            skb.State.VxlanFdb.Learn(dev.Name, src, remote, skb.TimestampNs);
            detail = $"{src} moved from {f.Remotes[0]} to {remote}";
            return null;
        }
        skb.State.VxlanFdb.Learn(dev.Name, src, remote, skb.TimestampNs);
        detail = $"{src} learned at {remote}";
        return null;
    }
}

/// <summary>The entries vxlan_snoop learned in one namespace during a replay, with the time each was last refreshed.</summary>
public sealed class VxlanFdbState
{
    // the remote as a one-element array, made when it is learned or moves, so a lookup allocates nothing
    private readonly Dictionary<(string Device, MacAddress Mac), (VxlanFdb.Rdst[] Remote, long UpdatedNs)> _learned = new();

    public IpAddr? Learned(string device, MacAddress mac, long nowNs) => LearnedRemote(device, mac, nowNs)?[0].Ip;

    /// <summary>The learned entry's remote as vxlan_find_mac gives it (a one-element list), null when none or aged out.</summary>
    internal VxlanFdb.Rdst[]? LearnedRemote(string device, MacAddress mac, long nowNs)
    {
        if (!_learned.TryGetValue((device, mac), out var e)) return null;
        // vxlan_cleanup deletes an entry once updated + ageing is not after now (time_before_eq); it runs
        // every FDB_AGE_INTERVAL (10 s), a phase the capture does not show: the model ages it at once
        if (nowNs - e.UpdatedNs < VxlanFdb.AgeNs) return e.Remote;
        _learned.Remove((device, mac)); // vxlan_cleanup: aged out
        return null;
    }

    public void Learn(string device, MacAddress mac, IpAddr remote, long nowNs) =>
        _learned[(device, mac)] = (_learned.TryGetValue((device, mac), out var e) && e.Remote[0].Ip == remote ? e.Remote : [new VxlanFdb.Rdst(remote, null)], nowNs);

    /// <summary>What `bridge fdb show dev VX` would list of the learned entries at <paramref name="nowNs"/>.</summary>
    public IEnumerable<(string Device, MacAddress Mac, IpAddr Remote)> Entries(long nowNs) =>
        _learned.Where(x => nowNs - x.Value.UpdatedNs < VxlanFdb.AgeNs).Select(x => (x.Key.Device, x.Key.Mac, x.Value.Remote[0].Ip));
}
