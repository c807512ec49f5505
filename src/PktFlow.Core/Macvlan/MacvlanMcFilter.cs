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
    /// The multicast MACs on <paramref name="dev"/>'s list by itself: IPv4's all-hosts group (ip_mc_up),
    /// IPv6's all-nodes, all-routers when forwarding, and the solicited-node group of each of its IPv6
    /// addresses (addrconf, ipv6_dev_mc_inc), with that address (null for the others). Groups sockets
    /// join are not modelled.
    /// </summary>
    public static IEnumerable<(MacAddress Mac, IpAddr? Address)> Groups(NetNamespace ns, NetDevice dev)
    {
        yield return (AllHosts, null);
        if (ns.Sysctls.Ipv6Disabled(dev.Name)) yield break;
        yield return (AllNodes, null);
        if (ns.Sysctls.Ipv6Forwarding) yield return (AllRouters, null);
        foreach (var a in ns.AddressesOf(dev.Name))
            if (a.Family == IpFamily.V6) yield return (new MacAddress(0x3333FF000000UL | (a.Address.Lo & 0xFFFFFF)), a.Address);
    }

    private static readonly MacAddress AllHosts = new(0x01005E000001UL), AllNodes = new(0x333300000001UL), AllRouters = new(0x333300000002UL);

    /// <summary>Why <paramref name="dev"/>'s mc_filter passes <paramref name="dst"/>; null when it does not (test_bit in macvlan_broadcast).</summary>
    [KernelSymbol("macvlan_compute_filter", "drivers/net/macvlan.c")]
    public static string? Passes(NetNamespace ns, NetDevice dev, MacAddress dst)
    {
        if (dst.IsBroadcast) return "broadcast";
        if (dev.Macvlan is { McFilterFull: true }) return "promiscuous or allmulti: its mc_filter is full";
        foreach (var (mac, address) in Groups(ns, dev))
            if (mac == dst)
                return address is { } a ? $"the solicited-node group of {a}" : mac == AllHosts ? "224.0.0.1, all-hosts (ip_mc_up)"
                    : mac == AllNodes ? "ff02::1, all-nodes" : "ff02::2, all-routers (forwarding is on)";
        return null;
    }

    /// <summary>
    /// What the port's filters say of a frame from the wire to <paramref name="dst"/>: Queue (bc_filter:
    /// macvlan_broadcast_enqueue), Direct (mc_filter only: macvlan_multicast_rx at once) or None (no
    /// macvlan synced a group with its hash). Only groups with the frame's hash are counted.
    /// </summary>
    public static PortFilter Port(IReadOnlyList<(NetNamespace Ns, NetDevice Dev)> port, MacAddress dst)
    {
        int hash = PortHash(dst);
        if (hash == PortHash(MacAddress.Broadcast)) return PortFilter.Queue;
        List<(MacAddress Mac, int Synced)>? hits = null; // the groups with this hash, and how many macvlans synced each
        foreach (var v in port)
        {
            if (!v.Dev.IsUp) continue; // dev_mc_unsync in macvlan_stop
            List<MacAddress>? mine = null; // its list is refcounted: a group counts once per macvlan
            foreach (var (mac, _) in Groups(v.Ns, v.Dev))
                if (PortHash(mac) == hash && mine?.Contains(mac) != true) (mine ??= new()).Add(mac);
            if (mine is null) continue;
            hits ??= new();
            foreach (var mac in mine)
            {
                int i = hits.FindIndex(h => h.Mac == mac);
                if (i < 0) hits.Add((mac, 1));
                else hits[i] = (mac, hits[i].Synced + 1);
            }
        }
        if (hits is null) return PortFilter.None;
        foreach (var h in hits)
            if (h.Synced > BcCutoff) return PortFilter.Queue;
        return PortFilter.Direct;
    }
}

/// <summary>The port filter a multicast frame from the wire meets in macvlan_handle_frame.</summary>
public enum PortFilter { None, Direct, Queue }
