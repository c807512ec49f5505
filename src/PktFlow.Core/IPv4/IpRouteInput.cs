using PktFlow.Datapath;
using PktFlow.Routing;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.IPv4;

/// <summary>What the input route lookup decided (the rtable's rt_type and dst.input).</summary>
public enum InputRouteKind { Local, Broadcast, Multicast, Forward, Error, Martian }

/// <summary>The outcome of ip_route_input_noref / ip6_route_input for one packet.</summary>
public sealed record InputRoute(
    InputRouteKind Kind,
    Route? Route,
    FibError Error,
    string? DropReason,
    string Detail,
    NetDevice? OutDevice = null,
    IpAddr? NextHop = null)
{
    /// <summary>For a multipath route: how fib_select_multipath chose the nexthop.</summary>
    public string? Multipath { get; init; }
    /// <summary>For a multipath route the kernel hashes with a capture's skb hash: the flow and how many nexthops it could take.</summary>
    public Routing.CaptureHashedFlow? CaptureHashed { get; init; }
    /// <summary>The route has no gateway: ip_finish_output2's next hop is the packet's destination as it is then (rt_nexthop).</summary>
    public bool OnLink { get; init; }

    public string? Describe() => Route?.ToString();
}

/// <summary>
/// ip_route_input_noref -> ip_route_input_rcu -> ip_route_input_slow (net/ipv4/route.c): martian
/// checks, the FIB lookup, source validation and the forwarding switch, in the kernel's order.
/// </summary>
public static class IpRouteInput
{
    [KernelSymbol("ip_route_input_slow", "net/ipv4/route.c")]
    public static InputRoute Lookup(SkBuff skb, IpAddr saddr, IpAddr daddr)
    {
        var ns = skb.Netns;
        var dev = skb.Dev.Name;
        bool forwarding = ns.Sysctls.Ipv4Forwarding(dev);
        bool routeLocalnet = ns.Sysctls.ConfIsOn("ipv4", dev, "route_localnet") || ns.Sysctls.IsOn("net.ipv4.conf.all.route_localnet");

        // ip_route_input_rcu: multicast destinations are local only for groups the device joined.
        if (daddr.IsMulticast)
        {
            if (daddr.V4Value == 0xE000_0001) // 224.0.0.1, joined by every IPv4 device (ip_mc_up)
                return new InputRoute(InputRouteKind.Multicast, null, FibError.None, null, "multicast 224.0.0.1 (all-hosts, joined on every device)");
            if (Tunnel.VxlanRcv.JoinedBy(ns, dev, daddr) is { } vx)
                return new InputRoute(InputRouteKind.Multicast, null, FibError.None, null, $"multicast {daddr}: joined on {dev} by {vx} (vxlan_igmp_join)");
            return new InputRoute(InputRouteKind.Martian, null, FibError.None, "NOT_SPECIFIED",
                $"multicast {daddr}: {dev} has not joined the group (no socket or vxlan device in the lab joins it) and multicast forwarding is off");
        }
        if (saddr.IsMulticast || saddr.IsLimitedBroadcast)
            return Martian("IP_INVALID_SOURCE", $"martian source {saddr} (multicast or broadcast source)");
        if (daddr.IsLimitedBroadcast || (saddr.IsZero && daddr.IsZero))
            return BroadcastInput(ns, dev, saddr, "limited broadcast 255.255.255.255");
        // 6.18 treats 0.x.y.z other than 0.0.0.0 as ordinary unicast, as a source (recorded: rp-filter) and
        // as a destination (recorded: route-sysctls-rules, 0.1.2.3 has no route: ICMP net unreachable).
        if (saddr.IsZero) return Martian("IP_INVALID_SOURCE", $"martian source {saddr}");
        if (daddr.IsZero) return Martian("IP_INVALID_DEST", $"martian destination {daddr}");
        if (daddr.IsLoopback && !routeLocalnet) return Martian("IP_LOCALNET", $"martian destination {daddr} (127.0.0.0/8 arriving on {dev}; route_localnet is off)");
        if (!daddr.IsLoopback && saddr.IsLoopback && !routeLocalnet) return Martian("IP_LOCALNET", $"martian source {saddr} (127.0.0.0/8 arriving on {dev}; route_localnet is off)");

        var res = ns.Fib.Lookup(daddr, saddr, dev, null, skb.Mark);
        if (!res.Found)
        {
            // no_route: the dst gets RTN_UNREACHABLE and ip_error decides what to say.
            var err = forwarding ? res.Error : FibError.HostUnreachable;
            return new InputRoute(InputRouteKind.Error, res.Route, err, null,
                res.Route is null ? $"no route to {daddr}{(res.Rule is { } rl ? $": rule {rl}" : " in tables local, main, default")}" : $"route {res.Route} ({res.Error})");
        }
        var r = res.Route!;
        if (r.Type == RouteType.Broadcast) return BroadcastInput(ns, dev, saddr, $"broadcast route {r}");
        if (r.Type == RouteType.Local)
        {
            if (ValidateSource(ns, skb, saddr, daddr) is { } why) return Martian(why.Reason, why.Detail) with { Route = r };
            return new InputRoute(InputRouteKind.Local, r, FibError.None, null, RouteDetail(local: true, r, res));
        }
        if (!forwarding)
            return new InputRoute(InputRouteKind.Error, r, FibError.HostUnreachable, null,
                $"{daddr} is not local and forwarding is off on {dev} (net.ipv4.conf.{dev}.forwarding = 0)");
        if (r.Type != RouteType.Unicast)
            return Martian("IP_INVALID_DEST", $"route type {r.Type.ToString().ToLowerInvariant()} cannot be forwarded: {r}") with { Route = r };

        // ip_mkroute_input: a multipath route picks its nexthop by the flow's hash, then __mkroute_input
        string? multipath = null;
        CaptureHashedFlow? captureHashed = null;
        IpAddr? gateway = r.Gateway;
        string? device = r.Device;
        if (r.Nexthops is { Count: > 1 })
        {
            var flow = MultipathFlow.Of(skb.Network, out var inner);
            var choice = CaptureHashedNexthops.Apply(FibMultipath.Select(ns, r, flow, inner), skb, null);
            (gateway, device, multipath) = (choice.Nexthop.Gateway, choice.Nexthop.Device, choice.Detail);
            if (choice.CaptureHashed is { } f) captureHashed = new CaptureHashedFlow(CaptureHashedNexthops.Key(f), choice.Allowed.Count);
        }
        var outDev = device is null ? null : ns.Device(device);
        if (outDev is null || !outDev.IsUp)
            return new InputRoute(InputRouteKind.Error, r, FibError.NetUnreachable, null, $"route {r}: output device is missing or down");
        if (ValidateSource(ns, skb, saddr, daddr) is { } whySrc) return Martian(whySrc.Reason, whySrc.Detail) with { Route = r };
        return new InputRoute(InputRouteKind.Forward, r, FibError.None, null, RouteDetail(local: false, r, res), outDev, gateway ?? daddr) { Multipath = multipath, OnLink = gateway is null, CaptureHashed = captureHashed };
    }

    /// <summary>"local route R" / "forward via R": made once per route when a default rule chose it (nearly every packet).</summary>
    private static string RouteDetail(bool local, Route r, FibResult res)
    {
        var rule = RuleText(res);
        if (rule.Length > 0) return local ? $"local route {r}{rule}" : $"forward via {r}{rule}";
        return RouteTexts.GetValue(r, static r => new[] { $"local route {r}", $"forward via {r}" })[local ? 0 : 1];
    }

    /// <summary>Weak, so that a topology that is no longer used takes its texts with it.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Route, string[]> RouteTexts = new();

    /// <summary>Names the policy rule when it is not one of the kernel's defaults.</summary>
    internal static string RuleText(FibResult res) =>
        res.Rule is { } rule && !(rule.Action == FibRuleAction.Lookup && rule.From is null && rule.To is null && rule.FwMark is null && rule.Iif is null && rule.Oif is null && rule.Priority is 0 or 32766 or 32767)
            ? $" (rule {rule})" : "";

    private static InputRoute Martian(string reason, string detail) =>
        new(InputRouteKind.Martian, null, FibError.None, reason, detail);

    private static InputRoute BroadcastInput(NetNamespace ns, string dev, IpAddr saddr, string detail)
    {
        // brd_input: the source is validated unless it is 0.0.0.0 (DHCP clients); accept_local is
        // IN_DEV_ACCEPT_LOCAL, conf.all or the device's
        if (!saddr.IsZeroNet && ns.IsLocalAddress(saddr) && !AcceptLocal(ns, dev))
            return Martian("IP_LOCAL_SOURCE", $"martian source {saddr}: it is an address of this host (accept_local is off)");
        return new InputRoute(InputRouteKind.Broadcast, null, FibError.None, null, detail);
    }

    /// <summary>
    /// fib_validate_source: with rp_filter off (a new namespace's default) a source that is one of this
    /// namespace's own addresses is a martian unless accept_local; with rp_filter on, the route back to
    /// the source must exist (loose, 2) and leave by the device the packet came in on (strict, 1). The
    /// value in force is the larger of conf.all and conf.DEV.
    /// </summary>
    [KernelSymbol("fib_validate_source", "net/ipv4/fib_frontend.c")]
    private static (string Reason, string Detail)? ValidateSource(NetNamespace ns, SkBuff skb, IpAddr saddr, IpAddr daddr)
    {
        var dev = skb.Dev.Name;
        bool acceptLocal = AcceptLocal(ns, dev);
        int rpf = Math.Max(Int(ns.Sysctls.Get("net.ipv4.conf.all.rp_filter")), Int(ns.Sysctls.Conf("ipv4", dev, "rp_filter")));
        if (rpf == 0)
            return !acceptLocal && ns.IsLocalAddress(saddr)
                ? ("IP_LOCAL_SOURCE", $"martian source {saddr}: it is an address of this host (accept_local is off)")
                : null;
        uint mark = ns.Sysctls.ConfIsOn("ipv4", dev, "src_valid_mark") || ns.Sysctls.IsOn("net.ipv4.conf.all.src_valid_mark") ? skb.Mark : 0;
        var back = ns.Fib.Lookup(saddr, daddr, "lo", null, mark);
        string mode = rpf == 1 ? "strict" : "loose";
        if (!back.Found)
            return ("IP_RPFILTER", $"rp_filter ({mode}) on {dev}: no route back to {saddr}");
        var r = back.Route!;
        if (r.Type != RouteType.Unicast && !(r.Type == RouteType.Local && acceptLocal))
            return (r.Type == RouteType.Local ? "IP_LOCAL_SOURCE" : "IP_INVALID_SOURCE", $"martian source {saddr}: the route back is {r}");
        if (r.Device == dev || rpf != 1 || r.Nexthops?.Any(n => n.Device == dev) == true) return null; // fib_info_nh_uses_dev
        return ("IP_RPFILTER", $"rp_filter (strict) on {dev}: the route back to {saddr} leaves by {r.Device} ({r})");
    }

    private static bool AcceptLocal(NetNamespace ns, string dev) =>
        ns.Sysctls.ConfIsOn("ipv4", dev, "accept_local") || ns.Sysctls.ConfIsOn("ipv4", "all", "accept_local");

    private static int Int(string? v) => int.TryParse(v, out var i) ? i : 0;
}
