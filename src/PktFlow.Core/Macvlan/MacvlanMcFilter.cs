using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Macvlan;

/// <summary>
/// Which macvlans a multicast frame reaches (drivers/net/macvlan.c). Each macvlan has an mc_filter,
/// built by macvlan_compute_filter from its multicast list (the groups its namespace joined on it) and
/// the broadcast address, or full when it is promiscuous or allmulti; macvlan_broadcast gives a clone
/// only to macvlans whose filter has the frame's destination. The port has two more filters over the
/// groups its macvlans synced to the lower device (dev_mc_sync): mc_filter (synced by at least one) and
/// bc_filter (by more than bc_cutoff, 1 by default, and broadcast): a frame from the wire whose hash
/// is in bc_filter is queued for the port's work item (macvlan_broadcast_enqueue), one only in mc_filter
/// goes at once to its one subscriber (macvlan_multicast_rx), before the lower device's own stack.
/// A macvlan's own filter mixes its hash with the macvlan's address in memory (macvlan_hash_mix), so
/// which other groups collide with a joined one differs from boot to boot: the model takes a group as
/// passing exactly when it was joined. The port's filters hash without that mix, and are computed.
/// </summary>
public static class MacvlanMcFilter
{
    /// <summary>MACVLAN_MC_FILTER_BITS: 256 bits per filter.</summary>
    private const int FilterBits = 8;

    /// <summary>MACVLAN_DEFAULT_BC_CUTOFF: a group more macvlans than this joined goes by the queue.</summary>
    public const int BcCutoff = 1;

    /// <summary>mc_hash(NULL, addr): hash_32 of the four bytes after the first two, read in the CPU's (little-endian) order.</summary>
    [KernelSymbol("mc_hash", "drivers/net/macvlan.c")]
    public static int PortHash(MacAddress mac)
    {
        ulong v = mac.Value; // 48 bits, first byte highest
        uint val = (uint)((v >> 24) & 0xFF) | (uint)((v >> 16) & 0xFF) << 8 | (uint)((v >> 8) & 0xFF) << 16 | (uint)(v & 0xFF) << 24;
        return (int)((val * 0x61C88647u) >> (32 - FilterBits)); // hash_32: GOLDEN_RATIO_32
    }

    /// <summary>
    /// Whether <paramref name="mac"/> is on <paramref name="dev"/>'s multicast list by itself, and why: IPv4's
    /// all-hosts group (ip_mc_up), IPv6's all-nodes, all-routers when forwarding, and the solicited-node
    /// group of each of its IPv6 addresses (addrconf, ipv6_dev_mc_inc). Groups sockets join are not
    /// modelled. Null when it is not; asked per frame, so it allocates nothing but the answer.
    /// </summary>
    private static string? Joined(NetNamespace ns, NetDevice dev, MacAddress mac)
    {
        if (mac == AllHosts) return "224.0.0.1, all-hosts (ip_mc_up)";
        if (mac != AllNodes && mac != AllRouters && (mac.Value & ~0xFFFFFFUL) != SolicitedNode || ns.Sysctls.Ipv6Disabled(dev.Name)) return null;
        if (mac == AllNodes) return "ff02::1, all-nodes";
        if (mac == AllRouters) return ns.Sysctls.Ipv6Forwarding ? "ff02::2, all-routers (forwarding is on)" : null;
        if ((mac.Value & ~0xFFFFFFUL) != SolicitedNode) return null;
        foreach (var a in ns.AddressArrayOf(dev.Name))
            if (a.Family == IpFamily.V6 && (a.Address.Lo & 0xFFFFFF) == (mac.Value & 0xFFFFFF)) return $"the solicited-node group of {a.Address}";
        return null;
    }

    private static readonly MacAddress AllHosts = new(0x01005E000001UL), AllNodes = new(0x333300000001UL), AllRouters = new(0x333300000002UL);
    private const ulong SolicitedNode = 0x3333FF000000UL;

    /// <summary>Why <paramref name="dev"/>'s mc_filter passes <paramref name="dst"/>; null when it does not (test_bit in macvlan_broadcast).</summary>
    [KernelSymbol("macvlan_compute_filter", "drivers/net/macvlan.c")]
    public static string? Passes(NetNamespace ns, NetDevice dev, MacAddress dst)
    {
        if (dst.IsBroadcast) return "broadcast";
        if (dev.Macvlan is { McFilterFull: true }) return "promiscuous or allmulti: its mc_filter is full";
        return Joined(ns, dev, dst);
    }

    /// <summary>
    /// macvlan_set_mac_lists computes the port's filters from the lower device's flags: a macvlan's allmulti
    /// and, but in passthru mode, its promisc reach the lower device while the macvlan is up
    /// (macvlan_change_rx_flags), and an up passthru macvlan makes it promiscuous (macvlan_open); either
    /// flag there fills both port filters (macvlan_compute_filter).
    /// </summary>
    private static bool FillsPortFilters(MacvlanParameters m) => m.AllMulti || m.Promisc || m.Mode == MacvlanMode.Passthru;

    /// <summary>
    /// What the port's filters say of a frame from the wire to <paramref name="dst"/>: Queue (bc_filter:
    /// macvlan_broadcast_enqueue), Direct (mc_filter only: macvlan_multicast_rx at once) or None (no
    /// macvlan synced a group with its hash). Only groups with the frame's hash are counted; a group is
    /// counted once per macvlan (its list is refcounted). Asked per frame: allocates nothing.
    /// </summary>
    public static PortFilter Port(IReadOnlyList<(NetNamespace Ns, NetDevice Dev)> port, MacAddress dst)
    {
        int hash = PortHash(dst);
        if (hash == PortHash(MacAddress.Broadcast)) return PortFilter.Queue;
        for (int i = 0; i < port.Count; i++)
            if (port[i].Dev.IsUp && FillsPortFilters(port[i].Dev.Macvlan!)) return PortFilter.Queue;
        var found = PortFilter.None;
        for (int i = 0; i < port.Count; i++)
        {
            var (ns, dev) = port[i];
            if (!dev.IsUp) continue; // dev_mc_unsync in macvlan_stop
            found = Max(found, Synced(port, hash, AllHosts));
            found = Max(found, Synced(port, hash, AllNodes));
            found = Max(found, Synced(port, hash, AllRouters));
            foreach (var a in ns.AddressArrayOf(dev.Name))
                if (a.Family == IpFamily.V6) found = Max(found, Synced(port, hash, new MacAddress(SolicitedNode | (a.Address.Lo & 0xFFFFFF))));
            if (found == PortFilter.Queue) break;
        }
        return found;
    }

    private static PortFilter Max(PortFilter a, PortFilter b) => a > b ? a : b;

    /// <summary>For a group with the frame's hash: how many up macvlans synced it, against bc_cutoff.</summary>
    private static PortFilter Synced(IReadOnlyList<(NetNamespace Ns, NetDevice Dev)> port, int hash, MacAddress group)
    {
        if (PortHash(group) != hash) return PortFilter.None;
        int synced = 0;
        for (int i = 0; i < port.Count; i++)
            if (port[i].Dev.IsUp && Joined(port[i].Ns, port[i].Dev, group) is not null) synced++;
        return synced == 0 ? PortFilter.None : synced > BcCutoff ? PortFilter.Queue : PortFilter.Direct;
    }
}

/// <summary>The port filter a multicast frame from the wire meets in macvlan_handle_frame.</summary>
public enum PortFilter { None, Direct, Queue }
