using System.Runtime.CompilerServices;
using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Bridge;

/// <summary>
/// One forwarding database entry (struct net_bridge_fdb_entry): the port a MAC was last seen on;
/// <see cref="IsStatic"/> for BR_FDB_STATIC (made by hand: never aged);
/// <see cref="Vid"/> is the VLAN the entry belongs to (0 when the bridge does not filter VLANs).
/// </summary>
public sealed record BrFdbEntry(MacAddress Mac, string Port, long UpdatedNs, bool IsStatic = false, ushort Vid = 0);

/// <summary>
/// The forwarding database of one bridge (net/bridge/br_fdb.c): entries learned from the source MAC
/// of frames received on a port (br_fdb_update), aged out after the bridge's ageing_time (the hold time
/// the caller passes: BrStp.FdbHold) of capture time without a refresh, entries made by hand (`bridge fdb add ... master`: static ones never age,
/// dynamic ones age from the first frame of the capture, the lab having just made them), plus the
/// bridge's "local" entries (its MAC, every port's MAC and the permanent entries made by hand).
/// Entries are keyed by MAC and VLAN (fdb_find_rcu's key): with vlan_filtering on, the frame's VLAN;
/// otherwise 0.
/// </summary>
public sealed class BrFdb
{
    private static readonly ConditionalWeakTable<NamespaceState, Dictionary<string, BrFdb>> Tables = new();
    private readonly Dictionary<(MacAddress Mac, ushort Vid), BrFdbEntry> _entries = new();

    /// <summary>
    /// The FDB of bridge <paramref name="bridge"/> in the namespace whose replay state is <paramref name="state"/>,
    /// made at the first frame (<paramref name="nowNs"/>) with the configured static and dynamic entries.
    /// </summary>
    public static BrFdb Of(NamespaceState state, NetNamespace ns, NetDevice bridge, long nowNs)
    {
        var byBridge = Tables.GetOrCreateValue(state);
        if (byBridge.TryGetValue(bridge.Name, out var fdb)) return fdb;
        byBridge[bridge.Name] = fdb = new BrFdb();
        foreach (var e in Configured(ns, bridge).Where(e => e.State != FdbState.Permanent))
            foreach (var vid in VidsOf(ns, e))
                fdb._entries[(e.Mac, vid)] = new BrFdbEntry(e.Mac, e.Port, nowNs, IsStatic: e.State == FdbState.Static, vid);
        return fdb;
    }

    /// <summary>
    /// The VLANs an entry made without `vlan` is added for: 0 and every VLAN of its port (br_fdb_add does
    /// this with the port's VLANs when the entry is made; the model takes the VLANs the lab leaves).
    /// </summary>
    private static IEnumerable<ushort> VidsOf(NetNamespace ns, FdbEntry e) =>
        new ushort[] { 0 }.Concat(ns.Device(e.Port)?.Vlans.Vlans.Select(v => v.Vid) ?? []);

    /// <summary>The configured entries whose port belongs to <paramref name="bridge"/>.</summary>
    private static IEnumerable<FdbEntry> Configured(NetNamespace ns, NetDevice bridge) =>
        ns.FdbEntries.Where(e => ns.Device(e.Port)?.Master == bridge.Name);

    public IReadOnlyCollection<BrFdbEntry> Entries => _entries.Values;

    /// <summary>
    /// br_fdb_update: learns or refreshes <paramref name="mac"/> on <paramref name="port"/>; returns what changed.
    /// A static entry is moved like a learned one (only local and sticky entries are not; checked on 6.18) and stays static.
    /// </summary>
    [KernelSymbol("br_fdb_update", "net/bridge/br_fdb.c")]
    public string Update(MacAddress mac, string port, long nowNs, ushort vid, long holdNs)
    {
        string inVlan = vid == 0 ? "" : $" in VLAN {vid}";
        if (_entries.TryGetValue((mac, vid), out var old) && (old.IsStatic || nowNs - old.UpdatedNs < holdNs))
        {
            _entries[(mac, vid)] = old with { Port = port, UpdatedNs = nowNs };
            var kind = old.IsStatic ? "static entry " : "";
            return old.Port == port ? $"{kind}{mac}{inVlan} refreshed on {port}" : $"{kind}{mac}{inVlan} moved from {old.Port} to {port}";
        }
        _entries[(mac, vid)] = new BrFdbEntry(mac, port, nowNs, Vid: vid);
        return $"{mac} learned on {port}{inVlan}";
    }

    /// <summary>
    /// br_fdb_find_rcu for a non-local entry: the port, or null when unknown or aged out (has_expired:
    /// idle for <paramref name="holdNs"/>, the ageing time or, during an STP topology change,
    /// forward_delay; static entries never age).
    /// </summary>
    [KernelSymbol("br_fdb_find_rcu", "net/bridge/br_fdb.c")]
    public BrFdbEntry? Find(MacAddress mac, long nowNs, ushort vid, long holdNs)
    {
        if (!_entries.TryGetValue((mac, vid), out var e)) return null;
        if (!e.IsStatic && nowNs - e.UpdatedNs >= holdNs)
        {
            _entries.Remove((mac, vid)); // br_fdb_cleanup
            return null;
        }
        return e;
    }

    /// <summary>
    /// A local (permanent) entry in VLAN <paramref name="vid"/>: the bridge's own MAC, the MAC of one of
    /// its ports, or a permanent entry made by hand. Each is there for VLAN 0 and, as br_fdb_add_local
    /// adds them, for every VLAN of its owner (the bridge's own `self` VLANs for the bridge's MAC).
    /// </summary>
    public static bool IsLocal(NetNamespace ns, NetDevice bridge, MacAddress mac, ushort vid = 0) =>
        (mac == bridge.Mac && Has(bridge, vid)) || BrPorts.Of(ns, bridge).Any(p => p.Mac == mac && Has(p, vid))
        || (ns.FdbEntries.Count > 0 && Configured(ns, bridge).Any(e => e.State == FdbState.Permanent && e.Mac == mac && VidsOf(ns, e).Contains(vid)));

    internal static bool Has(NetDevice owner, ushort vid) => vid == 0 || owner.Vlans.Find(vid) is not null;
}

/// <summary>The ports of a bridge (br->port_list).</summary>
public static class BrPorts
{
    /// <summary>
    /// Ports in br->port_list order: br_add_if puts a new port at the head of the list, so the port
    /// enslaved last comes first (the order in which br_flood hands out copies).
    /// </summary>
    public static IReadOnlyList<NetDevice> Of(NetNamespace ns, NetDevice bridge) =>
        ns.Devices.Where(d => d.Master == bridge.Name).Reverse().ToList();

    /// <summary>
    /// Why the STP of a bridge is not modelled: its ports were up before stp_state 1 (br_stp_start
    /// leaves them where they are, which the model has not checked), or STP ran and was turned off
    /// (the ports keep whatever states STP gave them).
    /// </summary>
    public static string StpStates(NetDevice bridge) => bridge.Stp.On
        ? $"{bridge.Name} runs STP (stp_state 1), but its ports were up before it was turned on (br_stp_start leaves them where they were): their states are not modelled; bring the ports up after stp_state 1"
        : $"{bridge.Name} ran STP (stp_state 1) and it was turned off: its ports keep the states STP gave them (listening, learning, forwarding, blocking), which depend on timers and BPDUs of that time";

    /// <summary>The bridge a port belongs to, or null when its master is not a bridge of the namespace.</summary>
    public static NetDevice? BridgeOf(NetNamespace ns, NetDevice port) =>
        port.Master is { } m && ns.Device(m) is { Kind: DeviceKind.Bridge } br ? br : null;

    /// <summary>The MAC of the device behind a port (the veth peer), when the topology shows it.</summary>
    public static MacAddress? MacBehind(SkBuff skb, NetDevice port) =>
        port.Kind == DeviceKind.Veth && port.Peer is { } peer
            && skb.Engine.Topology.Namespace(port.PeerNamespace ?? skb.Netns.Name)?.Device(peer) is { } d ? d.Mac : null;

    /// <summary>
    /// The MAC of the device behind one of the bridge's ports (a veth peer) that has <paramref name="address"/>:
    /// what the neighbour resolution over the bridge would find, when the model holds that namespace.
    /// </summary>
    public static MacAddress? AddressBehind(SkBuff skb, NetDevice bridge, IpAddr address) =>
        PortBehind(skb, bridge, address) is { } found ? found.Mac : null;

    /// <summary>The port behind which a veth peer has <paramref name="address"/>, and that peer's MAC.</summary>
    public static (NetDevice Port, MacAddress Mac)? PortBehind(SkBuff skb, NetDevice bridge, IpAddr address)
    {
        foreach (var port in Of(skb.Netns, bridge))
        {
            if (port.Kind != DeviceKind.Veth || port.Peer is null) continue;
            var peerNs = skb.Engine.Topology.Namespace(port.PeerNamespace ?? skb.Netns.Name);
            if (peerNs?.Device(port.Peer) is { } peer && peerNs.AddressesOf(peer.Name).Any(a => a.Address == address)) return (port, peer.Mac);
        }
        return null;
    }

    /// <summary>
    /// The host asked the segment behind <paramref name="bridge"/> who has <paramref name="address"/>:
    /// the owner's answer (ARP reply) enters the bridge on its port, and br_handle_frame_finish learns
    /// its source MAC there (br_fdb_update) before the answer goes up to the host. Returns what was
    /// learned, or null when no port of the model leads to the address. On a bridge that filters VLANs
    /// the answer comes back in the request's VLAN <paramref name="vid"/> (0 when it does not filter),
    /// through a port that is a member of it.
    /// </summary>
    public static string? LearnAnswer(SkBuff skb, NetDevice bridge, IpAddr address, ushort vid)
    {
        if (PortBehind(skb, bridge, address) is not var (port, mac) || !port.IsUp || BrStp.PortState(skb, port) is not (BrPortState.Forwarding or BrPortState.Learning)
            || !BrFdb.Has(port, vid)) return null;
        return BrFdb.Of(skb.State, skb.Netns, bridge, skb.TimestampNs).Update(mac, port.Name, skb.TimestampNs, vid, BrStp.FdbHold(skb, bridge));
    }
}
