using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.IPv4;

/// <summary>
/// net/ipv4/arp.c's arp_ignore and arp_filter, and the inet_confirm_addr (net/ipv4/devinet.c) they ask:
/// whether a host that owns the target address still keeps quiet. The level is the larger of
/// conf.all.arp_ignore and the receiving device's (IN_DEV_MAXCONF).
/// </summary>
public static class ArpIgnore
{
    /// <summary>IN_DEV_MAXCONF(in_dev, ARP_IGNORE).</summary>
    public static int Level(NetNamespace ns, NetDevice dev) =>
        Math.Max(Int(ns.Sysctls.Conf("ipv4", "all", "arp_ignore")), Int(ns.Sysctls.Conf("ipv4", dev.Name, "arp_ignore")));

    /// <summary>
    /// arp_ignore: null to reply, else why not. 0 (and the reserved 4-7, and anything above 8) replies for
    /// any local target; 1 wants the target on the receiving device; 2 also wants the sender inside one
    /// of that device's subnets holding the target; 3 refuses targets whose address has scope host
    /// (on any device); 8 never replies.
    /// </summary>
    [KernelSymbol("arp_ignore", "net/ipv4/arp.c")]
    public static string? Check(NetNamespace ns, NetDevice dev, IpAddr sip, IpAddr tip)
    {
        int level = Level(ns, dev);
        switch (level)
        {
            case 1:
                return ConfirmOnDevice(ns, dev, default, tip, AddressScope.Host) ? null : $"arp_ignore {level}: {tip} is not an address of {dev.Name}";
            case 2:
                return ConfirmOnDevice(ns, dev, sip, tip, AddressScope.Host) ? null
                    : $"arp_ignore {level}: {tip} is not an address of {dev.Name} with {sip} in its subnet";
            case 3:
                foreach (var d in ns.Devices)
                    if (ConfirmOnDevice(ns, d, default, tip, AddressScope.Link)) return null;
                return $"arp_ignore {level}: {tip} has scope host";
            case 8:
                return $"arp_ignore {level}: never reply";
            default:
                return null;
        }
    }

    /// <summary>
    /// confirm_addr_indev with a local address: <paramref name="tip"/> is on <paramref name="dev"/> with a
    /// scope no wider than <paramref name="scope"/> (route_localnet narrows host to link), and one of the
    /// device's prefixes holds both tip and, when given, <paramref name="sip"/>.
    /// </summary>
    [KernelSymbol("inet_confirm_addr", "net/ipv4/devinet.c")]
    private static bool ConfirmOnDevice(NetNamespace ns, NetDevice dev, IpAddr sip, IpAddr tip, AddressScope scope)
    {
        var localnet = ns.Sysctls.ConfIsOn("ipv4", dev.Name, "route_localnet") || ns.Sysctls.ConfIsOn("ipv4", "all", "route_localnet")
            ? AddressScope.Link : AddressScope.Host;
        bool addr = false, same = false;
        foreach (var a in ns.AddressesOf(dev.Name))
        {
            if (a.Family != IpFamily.V4) continue;
            if (a.Address == tip && (byte)(a.Scope < localnet ? a.Scope : localnet) <= (byte)scope) addr = true;
            if (a.Prefix.Contains(tip) && (sip.IsZero || a.Prefix.Contains(sip))) same = true;
        }
        return addr && same;
    }

    /// <summary>
    /// arp_filter (conf.all or the device's arp_filter on): reply only when the route from the target back to
    /// the sender leaves by the receiving device. Null to reply, else why not.
    /// </summary>
    [KernelSymbol("arp_filter", "net/ipv4/arp.c")]
    public static string? Filter(NetNamespace ns, NetDevice dev, IpAddr sip, IpAddr tip)
    {
        if (!Filters(ns, dev)) return null;
        var back = ns.Fib.Lookup(sip, tip, "lo", null, 0);
        if (!back.Found) return $"arp_filter: no route from {tip} to {sip}";
        return back.Route!.Device == dev.Name ? null : $"arp_filter: the route to {sip} leaves by {back.Route.Device}, not {dev.Name}";
    }

    /// <summary>IN_DEV_ARPFILTER: conf.all.arp_filter or the device's.</summary>
    public static bool Filters(NetNamespace ns, NetDevice dev) =>
        ns.Sysctls.ConfIsOn("ipv4", "all", "arp_filter") || ns.Sysctls.ConfIsOn("ipv4", dev.Name, "arp_filter");

    private static int Int(string? v) => int.TryParse(v, out var i) ? i : 0;
}
