using PktFlow.Wire;

namespace PktFlow.Topology;

// Nexthop objects (`ip nexthop`, net/ipv4/nexthop.c): their checks when added, the routes that use
// them (`nhid N`) and what a device going down does to them (nexthop_flush_dev).
public sealed partial class NamespaceBuilder
{
    private readonly SortedDictionary<uint, NexthopObject> _nexthops = new();

    /// <summary>Whether a device of this namespace is up (a veth peer's carrier).</summary>
    public bool IsUp(string device) => Get(device).Up;

    /// <summary>A nexthop object as `ip -j nexthop` listed it (a snapshot): nothing is checked.</summary>
    public void AddListedNexthop(NexthopObject nh)
    {
        if (!_listed) throw new InvalidOperationException("the *Listed methods are for builders made with NamespaceBuilder.AsListed");
        _nexthops[nh.Id] = nh;
    }

    /// <summary>
    /// rtm_new_nexthop: nh_create_ipv4/ipv6 or nh_create_group with the kernel's refusals.
    /// <paramref name="carrier"/> says whether a device has carrier (a veth whose peer is down has none).
    /// </summary>
    public void AddNexthop(NexthopObject nh, bool replace, Func<string, string?, string?, bool>? carrier = null)
    {
        if (nh.Id == 0) throw new TopologyException("Error: Invalid nexthop id (0).");
        if (_nexthops.ContainsKey(nh.Id) && !replace) throw new TopologyException($"nexthop id {nh.Id} already exists (RTNETLINK answers: File exists)");
        if (nh.Group is { } group)
        {
            if (group.Count == 0) throw new TopologyException("Error: Invalid group: no members.");
            if (group.Select(m => m.Id).Distinct().Count() != group.Count) throw new TopologyException("Error: Nexthop id can not be used twice in a group.");
            foreach (var m in group)
            {
                if (!_nexthops.TryGetValue(m.Id, out var member)) throw new TopologyException($"Error: Invalid nexthop id {m.Id}.");
                if (member.Group is not null) throw new TopologyException("Error: Hash-threshold group can not be a nexthop within a group.");
                if (member.Blackhole && group.Count > 1) throw new TopologyException("Error: Blackhole nexthop can not be used in a group with more than 1 path.");
            }
        }
        else if (!nh.Blackhole)
        {
            var dev = nh.Device ?? throw new TopologyException("Error: Device attribute required for non-blackhole and non-fdb nexthops.");
            var d = Get(dev);
            if (!d.Up) throw new TopologyException("Error: Nexthop device is not up.");
            if (carrier is not null && !carrier(dev, d.Peer, d.PeerNamespace))
                throw new TopologyException($"Error: Carrier for nexthop device is down ({dev}'s peer {d.Peer} is not up: add nexthops after the peer comes up).");
            if (nh.Gateway is { } gw && ConnectedDeviceFor(gw, dev) is null) throw new TopologyException("Error: Nexthop has invalid gateway.");
        }
        _nexthops[nh.Id] = nh;
        // A replaced nexthop changes every route that uses it (directly or through a group).
        for (int i = 0; i < _userRoutes.Count; i++)
            if (_userRoutes[i].NexthopId is { } id && _nexthops.ContainsKey(id))
                _userRoutes[i] = WithNexthopObject(_userRoutes[i], id);
    }

    /// <summary>
    /// A route with `nhid N`: the object's gateway and device, or its group's members and weights,
    /// copied in (an IPv6 route refuses IPv4 nexthops; an IPv4 route may use IPv6 ones, RFC 5549).
    /// </summary>
    public Route WithNexthopObject(Route route, uint id)
    {
        if (!_nexthops.TryGetValue(id, out var nh)) throw new TopologyException("Error: Nexthop id does not exist.");
        var members = nh.Group is { } g ? g.Select(m => (_nexthops[m.Id], m.Weight)).ToList() : [(nh, 1)];
        if (route.Family == IpFamily.V6 && members.Any(m => m.Item1.Family == IpFamily.V4))
            throw new TopologyException("Error: IPv6 routes can not use an IPv4 nexthop.");
        var hops = members.Select(m => new RouteNexthop(m.Item1.Gateway, m.Item1.Device ?? "", m.Weight)).ToList();
        bool blackhole = members.Count == 1 && members[0].Item1.Blackhole;
        return new Route
        {
            Table = route.Table, Type = blackhole ? RouteType.Blackhole : route.Type, Destination = route.Destination,
            Gateway = hops[0].Gateway, Device = blackhole ? null : hops[0].Device, PreferredSource = route.PreferredSource, Metric = route.Metric, Mtu = route.Mtu, MtuLocked = route.MtuLocked,
            Scope = route.Scope, Protocol = route.Protocol, NexthopId = id, Nexthops = hops.Count > 1 ? hops : null,
        };
    }

    /// <summary>
    /// nexthop_flush_dev: a device going down removes the nexthops on it, as if each was deleted
    /// (checked with `ip nexthop` on 6.18).
    /// </summary>
    private void FlushNexthops(string device) =>
        RemoveNexthops(_nexthops.Values.Where(n => n.Group is null && n.Device == device).Select(n => n.Id).ToHashSet());

    /// <summary>`ip nexthop del id N` (rtm_del_nexthop): unknown ids are refused as the kernel refuses them.</summary>
    public void DeleteNexthop(uint id)
    {
        if (!_nexthops.ContainsKey(id)) throw new TopologyException("RTNETLINK answers: No such file or directory");
        RemoveNexthops([id]);
    }

    /// <summary>`ip nexthop flush`: every nexthop object goes, and every route that used one.</summary>
    public void FlushAllNexthops() => RemoveNexthops(_nexthops.Keys.ToHashSet());

    /// <summary>
    /// remove_nexthop: the objects go, each is taken out of the groups it is in (a group left empty goes
    /// too), routes that used a removed object are deleted, and routes of a group that shrank list
    /// what is left (checked with `ip nexthop` / `ip route` on 6.18).
    /// </summary>
    private void RemoveNexthops(HashSet<uint> gone)
    {
        if (gone.Count == 0) return;
        foreach (var id in gone) _nexthops.Remove(id);
        foreach (var grp in _nexthops.Values.Where(n => n.Group is not null).ToList())
        {
            var left = grp.Group!.Where(m => !gone.Contains(m.Id)).ToList();
            if (left.Count == grp.Group!.Count) continue;
            if (left.Count == 0) { _nexthops.Remove(grp.Id); gone.Add(grp.Id); }
            else _nexthops[grp.Id] = new NexthopObject { Id = grp.Id, Group = left };
        }
        _userRoutes.RemoveAll(r => r.NexthopId is { } id && gone.Contains(id));
        for (int i = 0; i < _userRoutes.Count; i++)
            if (_userRoutes[i].NexthopId is { } id) _userRoutes[i] = WithNexthopObject(_userRoutes[i], id);
    }
}
