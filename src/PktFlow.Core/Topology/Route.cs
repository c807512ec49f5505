using System.Text;
using PktFlow.Wire;

namespace PktFlow.Topology;

/// <summary>Route types (RTN_*), as `ip route` prints them.</summary>
public enum RouteType { Unicast, Local, Broadcast, Anycast, Multicast, Blackhole, Unreachable, Prohibit, Throw, Nat }

/// <summary>Well-known routing table ids (RT_TABLE_*).</summary>
public static class RouteTables
{
    public const uint Default = 253, Main = 254, Local = 255;

    public static string Name(uint id) => id switch { Local => "local", Main => "main", Default => "default", _ => id.ToString() };

    public static bool TryParse(string s, out uint id)
    {
        switch (s)
        {
            case "local": id = Local; return true;
            case "main": id = Main; return true;
            case "default": id = Default; return true;
            default: return uint.TryParse(s, out id);
        }
    }
}

/// <summary>One FIB entry (fib_alias + fib_info) of one table.</summary>
public sealed class Route
{
    public uint Table { get; init; } = RouteTables.Main;
    public RouteType Type { get; init; } = RouteType.Unicast;
    public required IpPrefix Destination { get; init; }
    public IpAddr? Gateway { get; init; }
    public string? Device { get; init; }
    public IpAddr? PreferredSource { get; init; }
    public uint Metric { get; init; }
    public AddressScope Scope { get; init; } = AddressScope.Global;
    /// <summary>"kernel" for routes the kernel adds for addresses, "boot" for `ip route add`, "static", ...</summary>
    public string Protocol { get; init; } = "boot";
    public IpFamily Family => Destination.Family;
    /// <summary>
    /// The nexthops of a multipath route (`nexthop via A dev X weight W ...`), in order; null for a
    /// route with one nexthop. <see cref="Gateway"/> and <see cref="Device"/> then name the first.
    /// </summary>
    public IReadOnlyList<RouteNexthop>? Nexthops { get; init; }
    /// <summary>
    /// The nexthop object the route uses (`nhid N`, fib_info.nh / fib6_info.nh), or null. Its gateway
    /// and device (one nexthop) or its group's members with their weights (<see cref="Nexthops"/>)
    /// are copied in when the route is added, as `ip route` lists them.
    /// </summary>
    public uint? NexthopId { get; init; }
    /// <summary>
    /// The route's mtu metric (RTAX_MTU, `mtu [lock] N`), 0 when it has none: forwarding and the
    /// host's own packets on the route use it instead of the device MTU (ip_dst_mtu_maybe_forward,
    /// ip6_dst_mtu_maybe_forward).
    /// </summary>
    public int Mtu { get; init; }
    /// <summary>`mtu lock N`: RTAX_MTU in RTAX_LOCK; the path MTU learned from ICMP never lowers it.</summary>
    public bool MtuLocked { get; init; }

    private string? _text;

    /// <summary>Printed the way `ip route show table all` does, so users can diff against a host.</summary>
    public override string ToString() => _text ??= Format();

    private string Format()
    {
        var sb = new StringBuilder();
        if (Type != RouteType.Unicast) sb.Append(Type.ToString().ToLowerInvariant()).Append(' ');
        sb.Append(Destination.IsDefault ? "default" : Destination.IsHost ? Destination.Address.ToString() : $"{Destination.Network}/{Destination.Length}");
        if (NexthopId is { } id) sb.Append(" nhid ").Append(id);
        if (Nexthops is null && Gateway is { } gw) sb.Append(gw.Family == Family ? " via " : " via inet6 ").Append(gw);
        if (Nexthops is null && Device is not null) sb.Append(" dev ").Append(Device);
        if (Table != RouteTables.Main) sb.Append(" table ").Append(RouteTables.Name(Table));
        if (Protocol != "boot") sb.Append(" proto ").Append(Protocol);
        if (Scope != AddressScope.Global) sb.Append(" scope ").Append(Scope.ToString().ToLowerInvariant());
        if (PreferredSource is { } src) sb.Append(" src ").Append(src);
        if (Metric != 0) sb.Append(" metric ").Append(Metric);
        if (Mtu != 0) sb.Append(MtuLocked ? " mtu lock " : " mtu ").Append(Mtu);
        if (Nexthops is { } nhs)
            foreach (var nh in nhs) sb.Append(" nexthop ").Append(nh.ToString(Family));
        return sb.ToString();
    }
}

/// <summary>One nexthop of a multipath route (struct fib_nh): gateway, device and weight (1-256).</summary>
public sealed record RouteNexthop(IpAddr? Gateway, string Device, int Weight)
{
    public override string ToString() => $"{(Gateway is { } gw ? $"via {gw} " : "")}dev {Device} weight {Weight}";

    /// <summary>As `ip route` lists it in a route of <paramref name="routeFamily"/>: a gateway of the other family says so (`via inet6 A`).</summary>
    public string ToString(IpFamily routeFamily) => Gateway is { } gw && gw.Family != routeFamily ? $"via inet6 {gw} dev {Device} weight {Weight}" : ToString();
}
