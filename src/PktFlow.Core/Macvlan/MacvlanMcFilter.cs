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
    /// The multicast MACs on <paramref name="dev"/>'s list by itself, and why: IPv4's all-hosts group
    /// (ip_mc_up), IPv6's all-nodes, all-routers when forwarding, and the solicited-node group of each
    /// of its IPv6 addresses (addrconf, ipv6_dev_mc_inc). Groups sockets join are not modelled.
    /// </summary>
    public static IEnumerable<(MacAddress Mac, string Why)> Groups(NetNamespace ns, NetDevice dev)
    {
        yield return (new MacAddress(0x01005E000001UL), "224.0.0.1, all-hosts (ip_mc_up)");
        if (ns.Sysctls.Ipv6Disabled(dev.Name)) yield break;
        yield return (new MacAddress(0x333300000001UL), "ff02::1, all-nodes");
        if (ns.Sysctls.Ipv6Forwarding) yield return (new MacAddress(0x333300000002UL), "ff02::2, all-routers (forwarding is on)");
        foreach (var a in ns.AddressesOf(dev.Name))
            if (a.Family == IpFamily.V6)
                yield return (new MacAddress(0x3333FF000000UL | (a.Address.Lo & 0xFFFFFF)), $"the solicited-node group of {a.Address}");
    }

    /// <summary>Why <paramref name="dev"/>'s mc_filter passes <paramref name="dst"/>; null when it does not (test_bit in macvlan_broadcast).</summary>
    [KernelSymbol("macvlan_compute_filter", "drivers/net/macvlan.c")]
    public static string? Passes(NetNamespace ns, NetDevice dev, MacAddress dst)
    {
        if (dst.IsBroadcast) return "broadcast";
        if (dev.Macvlan is { McFilterFull: true }) return "promiscuous or allmulti: its mc_filter is full";
        foreach (var g in Groups(ns, dev))
            if (g.Mac == dst) return g.Why;
        return null;
    }

    /// <summary>
    /// What the port's filters say of a frame from the wire to <paramref name="dst"/>: Queue (bc_filter:
    /// macvlan_broadcast_enqueue), Direct (mc_filter only: macvlan_multicast_rx at once) or None (no
    /// macvlan synced a group with its hash).
    /// </summary>
    public static PortFilter Port(IReadOnlyList<(NetNamespace Ns, NetDevice Dev)> port, MacAddress dst)
    {
        int hash = PortHash(dst);
        if (hash == PortHash(MacAddress.Broadcast)) return PortFilter.Queue;
        var synced = new Dictionary<MacAddress, int>();
        foreach (var v in port)
        {
            if (!v.Dev.IsUp) continue; // dev_mc_unsync in macvlan_stop
            foreach (var g in Groups(v.Ns, v.Dev).Select(g => g.Mac).Distinct())
                synced[g] = synced.GetValueOrDefault(g) + 1;
        }
        bool direct = false;
        foreach (var (mac, count) in synced)
        {
            if (PortHash(mac) != hash) continue;
            if (count > BcCutoff) return PortFilter.Queue;
            direct = true;
        }
        return direct ? PortFilter.Direct : PortFilter.None;
    }
}

/// <summary>The port filter a multicast frame from the wire meets in macvlan_handle_frame.</summary>
public enum PortFilter { None, Direct, Queue }
