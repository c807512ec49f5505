using PktFlow.Wire;

namespace PktFlow.Topology;

/// <summary>Raised when configuration cannot be applied; the lab parser adds file and line.</summary>
public sealed class TopologyException(string message, string? file = null, int line = 0) : Exception(message)
{
    /// <summary>Where the offending configuration came from, when it is not the command being applied.</summary>
    public string? File { get; } = file;
    public int Line { get; } = line;
}

/// <summary>
/// Applies configuration commands in order the way the kernel would (rtnetlink semantics), including
/// the routes the kernel adds by itself for addresses (fib_add_ifaddr, addrconf) and refusals such as
/// a route whose device is down. <see cref="Build"/> freezes the result.
/// </summary>
public sealed partial class NamespaceBuilder
{
    private sealed class Dev
    {
        public required string Name;
        public required int IfIndex;
        public required DeviceKind Kind;
        public MacAddress Mac;
        public int Mtu = 1500;
        public uint Group;
        public bool Up;
        public string? Master, Peer, PeerNamespace;
        public bool Hairpin;
        public BrPortState PortState = BrPortState.Forwarding;
        public bool StpOn, StpRan; // IFLA_BR_STP_STATE now, and whether it was ever on
        public BrStpConfig Stp = BrStpConfig.Default; // a bridge's STP timers and priority
        public int PortNo; public byte PortPriority = 32; public uint? PortCost; public bool EnabledUnderStp; // a port's
        public IpTunnelParameters? Tunnel;
        public VlanDevParameters? VlanDev;
        public VxlanParameters? Vxlan;
        public MacvlanParameters? Macvlan;
        public XdpAttachment? Xdp;
        public bool IsLoopback => Kind == DeviceKind.Loopback;
    }

    private readonly List<Dev> _devices = new();
    private readonly List<InterfaceAddress> _addresses = new();
    private readonly List<Route> _userRoutes = new();
    private readonly Dictionary<string, string> _sysctls = new();
    private readonly List<string> _unmodelled = new();
    private int _nextIndex = 1;

    public string Name { get; }

    /// <summary>True for a namespace taken as the kernel listed it (<see cref="AsListed"/>).</summary>
    private readonly bool _listed;

    /// <summary>
    /// A builder for a namespace as the kernel listed it (a host snapshot is ground truth): no `lo` of
    /// its own, devices keep their ifindex, and <see cref="Build"/> derives nothing: the addresses and
    /// routes are exactly those added with the Add*Listed methods, sysctls are stored as read.
    /// </summary>
    public static NamespaceBuilder AsListed(string name, bool allowUnsupported = false) => new(name) { AllowUnsupported = allowUnsupported };

    private NamespaceBuilder(string name)
    {
        Name = name;
        _listed = true;
    }

    /// <summary>Keep rules the model cannot evaluate, marked unsupported, instead of refusing the namespace's rulesets (<see cref="TopologyLoadOptions"/>).</summary>
    public bool AllowUnsupported { get; init; }

    private void RequireListed()
    {
        if (!_listed) throw new InvalidOperationException("the *Listed methods are for builders made with NamespaceBuilder.AsListed");
    }

    public void AddListedDevice(NetDevice device)
    {
        RequireListed();
        if (HasDevice(device.Name)) throw new TopologyException($"device {device.Name} is listed twice");
        _devices.Add(new Dev
        {
            Name = device.Name, IfIndex = device.IfIndex, Kind = device.Kind, Mac = device.Mac, Mtu = device.Mtu, Group = device.Group, Up = device.IsUp,
            Master = device.Master, Peer = device.Peer, PeerNamespace = device.PeerNamespace, Hairpin = device.Hairpin, PortState = device.PortState,
            Tunnel = device.Tunnel, VlanDev = device.VlanDev, Vxlan = device.Vxlan, Macvlan = device.Macvlan, Stp = device.Stp,
        });
    }

    public void AddListedAddress(InterfaceAddress address) { RequireListed(); Get(address.Device); _addresses.Add(address); }

    public void AddListedRoute(Route route) { RequireListed(); _userRoutes.Add(route); }

    /// <summary>The socket table is known (a snapshot's `ss` listing) even when nothing listens.</summary>
    public void DeclareSocketTable() => _sockets ??= new();

    /// <summary>A value as `sysctl -a` read it: no propagation (every key is listed anyway).</summary>
    public void SetListedSysctl(string key, string value) { RequireListed(); _sysctls[PktFlow.Topology.Sysctls.Normalize(key)] = value; }

    public NamespaceBuilder(string name, bool loopbackUp)
    {
        Name = name;
        AddDevice("lo", DeviceKind.Loopback, MacAddress.Zero, mtu: 65536);
        if (loopbackUp) SetUp("lo", true);
    }

    public bool HasDevice(string name) => _devices.Any(d => d.Name == name);

    /// <param name="keepIndex">A device moved in from another namespace keeps its ifindex when no device here has it (dev_change_net_namespace).</param>
    public void AddDevice(string name, DeviceKind kind, MacAddress? mac = null, int? mtu = null, string? peer = null, string? peerNamespace = null,
        IpTunnelParameters? tunnel = null, int? keepIndex = null)
    {
        if (HasDevice(name)) throw new TopologyException($"device {name} already exists (RTNETLINK answers: File exists)");
        if (name.Length > 15) throw new TopologyException($"device name '{name}' is longer than 15 characters (IFNAMSIZ)");
        _devices.Add(new Dev
        {
            Name = name, IfIndex = keepIndex is { } k && !_devices.Any(d => d.IfIndex == k) ? k : NextIndex(), Kind = kind, Mac = mac ?? StableMac(name),
            Mtu = mtu ?? 1500, Peer = peer, PeerNamespace = peerNamespace, Tunnel = tunnel,
        });
        if (kind == DeviceKind.Bridge) InitBridgeVlans(name);
    }

    /// <summary>dev_index_reserve: the namespace's next number after the last one given, skipping numbers in use (a device moved in keeps its own).</summary>
    private int NextIndex()
    {
        while (_devices.Any(d => d.IfIndex == _nextIndex)) _nextIndex++;
        return _nextIndex++;
    }

    private readonly List<FouPort> _fou = new();

    /// <summary>ip fou add: one receiving port per (port, family, local address), as fou_add_to_port_list refuses duplicates.</summary>
    public void AddFou(FouPort port)
    {
        if (_fou.Any(f => f.Port == port.Port && f.V6 == port.V6 && f.Local == port.Local))
            throw new TopologyException($"fou port {port.Port} already exists (RTNETLINK answers: File exists)");
        _fou.Add(port);
    }

    public IpTunnelParameters? TunnelOf(string name) => Get(name).Tunnel;

    /// <summary>The kernel picks a random MAC; the model picks a stable locally administered one per name.</summary>
    private MacAddress StableMac(string name)
    {
        uint h = 2166136261;
        foreach (char c in Name + "/" + name) h = (h ^ c) * 16777619;
        return new MacAddress(0x0200_0000_0000UL | h);
    }

    private Dev Get(string name) =>
        _devices.FirstOrDefault(d => d.Name == name) ?? throw new TopologyException($"Cannot find device \"{name}\"");

    public void SetUp(string name, bool up)
    {
        var d = Get(name);
        // The loopback device gets 127.0.0.1/8 and ::1 the first time it comes up (inetdev_event, addrconf).
        if (up && !d.Up && d.IsLoopback && !_addresses.Any(a => a.Device == name))
        {
            AddAddress(name, new IpPrefix(IpAddr.V4(0x7F00_0001), 8), null);
            AddAddress(name, new IpPrefix(IpAddr.V6(0, 1), 128), null);
        }
        d.Up = up;
        if (up) d.PortState = BrPortState.Forwarding; // br_stp_enable_port without STP: straight to forwarding
        // br_stp_enable_port runs for a port coming up under a running bridge, and for every up port of a
        // bridge coming up (br_stp_enable_bridge): with STP on it starts listening.
        if (d.Master is { } m && _devices.FirstOrDefault(x => x.Name == m) is { Kind: DeviceKind.Bridge } br) d.EnabledUnderStp = up && br.Up && br.StpOn;
        if (d.Kind == DeviceKind.Bridge)
            foreach (var p in _devices.Where(x => x.Master == name && x.Up)) p.EnabledUnderStp = up && d.StpOn;
        // fib_sync_down_dev flushes IPv4 routes through the device; a multipath route only when every nexthop is dead.
        if (!up) _userRoutes.RemoveAll(r => r.Family == IpFamily.V4 && r.NexthopId is null && (r.Nexthops is { } nhs
            ? nhs.All(n => n.Device == name || _devices.FirstOrDefault(d => d.Name == n.Device)?.Up != true)
            : r.Device == name));
        if (!up) FlushNexthops(name);
    }

    public void SetMtu(string name, int mtu)
    {
        var d = Get(name);
        if (d.Vxlan is { } p) SetVxlanMtu(d, p, mtu);
        else d.Mtu = mtu;
    }
    public void SetGroup(string name, uint group) => Get(name).Group = group;
    /// <summary>Attaches (or with null detaches) an XDP program; a device holds one.</summary>
    public void SetXdp(string name, XdpAttachment? xdp) => Get(name).Xdp = xdp;
    /// <summary>
    /// The devices whose XDP program has a map of that name (bpftool's `name MAP`: the kernel keeps
    /// BPF_OBJ_NAME_LEN - 1 = 15 characters of it).
    /// </summary>
    public IEnumerable<(string Device, XdpAttachment Xdp, Bpf.BpfMapDef Map)> XdpWithMap(string map) =>
        _devices.Where(d => d.Xdp is not null).SelectMany(d => d.Xdp!.Program.Maps
            .Where(m => (m.Name.Length > 15 ? m.Name[..15] : m.Name) == map).Select(m => (d.Name, d.Xdp!, m)));
    public uint GroupOf(string name) => Get(name).Group;
    public void SetMac(string name, MacAddress mac) => Get(name).Mac = mac;
    public void SetMaster(string name, string? master)
    {
        if (master is not null) Get(master);
        var d = Get(name);
        if (d.Master != master) { ForgetFdbOf(name); PortVlansOnMasterChange(name, master); }
        if (master is not null && d.Master != master)
        {
            // find_portno: the lowest port number not in use on the bridge
            var used = _devices.Where(x => x.Master == master).Select(x => x.PortNo).ToHashSet();
            d.PortNo = Enumerable.Range(1, 1023).First(n => !used.Contains(n));
            var br = Get(master);
            d.EnabledUnderStp = d.Up && br.Up && br.StpOn;
        }
        d.Master = master;
        d.PortState = BrPortState.Forwarding;
        d.Hairpin = false;
    }

    /// <summary>
    /// Bridge STP settings (IFLA_BR_PRIORITY, IFLA_BR_FORWARD_DELAY, IFLA_BR_HELLO_TIME, IFLA_BR_MAX_AGE),
    /// in centiseconds as ip link takes them; the ranges br_set_hello_time, br_set_max_age and
    /// br_set_forward_delay (with STP on) enforce.
    /// </summary>
    public void SetBridgeStp(string bridge, int? priority, long? forwardDelayCs, long? helloCs, long? maxAgeCs, long? ageingCs = null)
    {
        var d = Get(bridge);
        if (d.Kind != DeviceKind.Bridge) throw new TopologyException($"{bridge} is not a bridge");
        const long Cs = 10_000_000;
        var s = d.Stp;
        if (priority is { } p) s = s with { Priority = (ushort)(p is < 0 or > 65535 ? throw new TopologyException("priority is 0-65535 (RTNETLINK answers: Numerical result out of range)") : p) };
        if (helloCs is { } h) s = s with { HelloTimeNs = h is < 100 or > 1000 ? throw new TopologyException("hello_time is 100-1000 (1 to 10 s; RTNETLINK answers: Numerical result out of range)") : h * Cs };
        // br_set_ageing_time takes any clock_t (0: every learned entry is gone at once, the bridge floods like a hub)
        if (ageingCs is { } ag) s = s with { AgeingTimeNs = ag is < 0 or > uint.MaxValue ? throw new TopologyException("ageing_time is a 32-bit number of centiseconds") : ag * Cs };
        if (maxAgeCs is { } a) s = s with { MaxAgeNs = a is < 600 or > 4000 ? throw new TopologyException("max_age is 600-4000 (6 to 40 s; RTNETLINK answers: Numerical result out of range)") : a * Cs };
        if (forwardDelayCs is { } f)
        {
            if ((d.StpOn || s.On) && f is < 200 or > 3000) throw new TopologyException("with STP on, forward_delay is 200-3000 (2 to 30 s; RTNETLINK answers: Numerical result out of range)");
            s = s with { ForwardDelayNs = f * Cs };
        }
        d.Stp = s;
    }

    /// <summary>Bridge port STP settings (IFLA_BRPORT_PRIORITY 0-63, IFLA_BRPORT_COST 1-65535).</summary>
    public void SetBridgePortStp(string name, int? priority, long? cost)
    {
        var d = Get(name);
        if (priority is { } p) d.PortPriority = p is < 0 or > 63 ? throw new TopologyException("port priority is 0-63 (RTNETLINK answers: Numerical result out of range)") : (byte)p;
        if (cost is { } c) d.PortCost = c is < 1 or > 65535 ? throw new TopologyException("port cost is 1-65535 (RTNETLINK answers: Numerical result out of range)") : (uint)c;
    }

    /// <summary>
    /// Bridge port options (IFLA_BRPORT_MODE, IFLA_BRPORT_STATE via `bridge link set` or `ip link set
    /// type bridge_slave`). br_set_port_state refuses a port that is not up (-ENETDOWN).
    /// </summary>
    public void SetBridgePort(string name, bool? hairpin, BrPortState? state)
    {
        var d = Get(name);
        if (d.Master is not { } m || Get(m).Kind != DeviceKind.Bridge)
            throw new TopologyException($"{name} is not a bridge port (RTNETLINK answers: Operation not supported)");
        if (state is { } st)
        {
            if (Get(m).StpOn) throw new TopologyException($"cannot set the state of {name}: {m} runs STP (stp_state 1), which owns its ports' states (RTNETLINK answers: Device or resource busy)");
            if (!d.Up && st != BrPortState.Disabled) throw new TopologyException($"cannot set the state of {name} while it is down (RTNETLINK answers: Network is down)");
            // br_set_port_state then runs br_port_state_selection; without STP (the model has none)
            // br_make_forwarding turns a blocking designated port forwarding at once (checked on 6.18).
            d.PortState = st == BrPortState.Blocking ? BrPortState.Forwarding : st;
        }
        if (hairpin is { } h) d.Hairpin = h;
    }

    /// <summary>IFLA_BR_STP_STATE (`ip link add|set BR type bridge stp_state N`): 0 off, anything else kernel STP (in a namespace other than the first there is no user-space STP helper).</summary>
    public void SetStpState(string bridge, int state)
    {
        var d = Get(bridge);
        if (d.Kind != DeviceKind.Bridge) throw new TopologyException($"{bridge} is not a bridge");
        // br_stp_start leaves ports that are already up where they are: they were not enabled under STP
        if (state != 0 && !d.StpOn)
            foreach (var p in _devices.Where(x => x.Master == bridge)) p.EnabledUnderStp = false;
        d.StpOn = state != 0;
        d.StpRan |= d.StpOn;
        d.Stp = d.Stp with { On = d.StpOn };
    }

    public void Rename(string name, string newName)
    {
        if (HasDevice(newName)) throw new TopologyException($"device {newName} already exists");
        var d = Get(name);
        if (d.Up) throw new TopologyException($"cannot rename {name} while it is up (Device or resource busy)");
        d.Name = newName;
        RenameFdb(name, newName);
        RenameTc(name, newName);
        RenameVlans(name, newName);
        RenameVlanLowers(name, newName);
        for (int i = 0; i < _addresses.Count; i++)
            if (_addresses[i].Device == name)
                _addresses[i] = new InterfaceAddress { Device = newName, Prefix = _addresses[i].Prefix, Broadcast = _addresses[i].Broadcast, Scope = _addresses[i].Scope };
    }

    public void AddAddress(string device, IpPrefix prefix, IpAddr? broadcast, AddressScope? scope = null)
    {
        Get(device);
        if (_addresses.Any(a => a.Device == device && a.Address == prefix.Address))
            throw new TopologyException($"address {prefix.Address} already assigned to {device} (RTNETLINK answers: File exists)");
        var sc = scope ?? (prefix.Address.IsLoopback ? AddressScope.Host : prefix.Address.IsLinkLocal && prefix.Family == IpFamily.V6 ? AddressScope.Link : AddressScope.Global);
        _addresses.Add(new InterfaceAddress { Device = device, Prefix = prefix, Broadcast = broadcast, Scope = sc });
    }

    public void AddRoute(Route route)
    {
        if (route.Nexthops is { } nhs) route = ResolveNexthops(route, nhs);
        if (route.Device is { } dev)
        {
            var d = Get(dev);
            if (!d.Up && route.Family == IpFamily.V4 && route.Type == RouteType.Unicast)
                throw new TopologyException($"Error: Nexthop device is not up (the kernel refuses a route on {dev} while it is down; bring it up first)");
        }
        if (route.Gateway is { } gw)
        {
            var via = ConnectedDeviceFor(gw, route.Device);
            if (via is null)
                throw new TopologyException($"Error: Nexthop has invalid gateway (no connected route reaches {gw}{(route.Device is null ? "" : " on " + route.Device)})");
            if (route.Device is null) route = Clone(route, via);
        }
        else if (route.Device is null && route.Type == RouteType.Unicast)
            throw new TopologyException("a unicast route needs 'dev DEVICE' or 'via GATEWAY'");
        if (_userRoutes.Any(r => r.Table == route.Table && r.Destination.Network == route.Destination.Network
                                 && r.Destination.Length == route.Destination.Length && r.Metric == route.Metric && r.Type == route.Type))
            throw new TopologyException($"route {route.Destination} already exists in table {RouteTables.Name(route.Table)} (RTNETLINK answers: File exists)");
        _userRoutes.Add(route);
    }

    /// <summary>fib_check_nh for every nexthop of a multipath route: a nexthop without a device gets the one its gateway is on.</summary>
    private Route ResolveNexthops(Route route, IReadOnlyList<RouteNexthop> nhs)
    {
        var resolved = new List<RouteNexthop>();
        foreach (var nh in nhs)
        {
            string dev = nh.Device;
            if (dev.Length > 0) Get(dev);
            if (nh.Gateway is { } gw)
                dev = ConnectedDeviceFor(gw, dev.Length > 0 ? dev : null)
                    ?? throw new TopologyException($"Error: Nexthop has invalid gateway (no connected route reaches {gw}{(dev.Length == 0 ? "" : " on " + dev)})");
            resolved.Add(nh with { Device = dev });
        }
        return new Route
        {
            Table = route.Table, Type = route.Type, Destination = route.Destination, Gateway = resolved[0].Gateway, Device = resolved[0].Device,
            PreferredSource = route.PreferredSource, Metric = route.Metric, Scope = route.Scope, Protocol = route.Protocol, Nexthops = resolved, NexthopId = route.NexthopId, Mtu = route.Mtu, MtuLocked = route.MtuLocked,
        };
    }

    /// <summary>`onlink`: the kernel skips the gateway check.</summary>
    public void AddRouteUnchecked(Route route) => _userRoutes.Add(route);

    private static Route Clone(Route r, string device) => new()
    {
        Table = r.Table, Type = r.Type, Destination = r.Destination, Gateway = r.Gateway, Device = device,
        PreferredSource = r.PreferredSource, Metric = r.Metric, Scope = r.Scope, Protocol = r.Protocol, Nexthops = r.Nexthops, NexthopId = r.NexthopId, Mtu = r.Mtu, MtuLocked = r.MtuLocked,
    };

    /// <summary>The up device whose connected prefix covers the gateway (fib_check_nh's scope-link lookup).</summary>
    private string? ConnectedDeviceFor(IpAddr gw, string? device)
    {
        foreach (var r in KernelRoutes().Concat(_userRoutes))
            if (r.Type == RouteType.Unicast && r.Gateway is null && r.Device is not null && (device is null || r.Device == device)
                && r.Destination.Contains(gw) && r.Table != RouteTables.Local)
                return r.Device;
        return null;
    }

    public void AddRouteDeletion(IpPrefix dst, uint table) =>
        _userRoutes.RemoveAll(r => r.Table == table && r.Destination.Network == dst.Network && r.Destination.Length == dst.Length);

    public void Sysctl(string key, string value) => PktFlow.Topology.Sysctls.Apply(_sysctls, key, value, _devices.Select(d => d.Name));

    public void NoteUnmodelled(string what) => _unmodelled.Add(what);

    private readonly List<NftSource> _nft = new();
    private readonly List<Routing.FibRule> _rules = new(Routing.FibRule.Defaults(IpFamily.V4).Concat(Routing.FibRule.Defaults(IpFamily.V6)));
    private readonly List<Neighbour> _neighbours = new();

    /// <summary>ip rule add: without a priority the kernel gives one less than the first rule after priority 0.</summary>
    public void AddRule(Routing.FibRule rule, bool priorityGiven)
    {
        if (!priorityGiven)
        {
            rule = new Routing.FibRule
            {
                Family = rule.Family, Priority = DefaultRulePriority(rule.Family), Not = rule.Not, From = rule.From, To = rule.To, Iif = rule.Iif, Oif = rule.Oif,
                FwMark = rule.FwMark, FwMask = rule.FwMask, Action = rule.Action, Table = rule.Table, GotoTarget = rule.GotoTarget,
                SuppressPrefixLength = rule.SuppressPrefixLength,
            };
        }
        _rules.Add(rule);
    }

    /// <summary>fib_default_rule_pref: a rule added without a priority goes one below the lowest non-zero one (main's 32766 at first).</summary>
    public uint DefaultRulePriority(IpFamily family) =>
        _rules.Where(r => r.Family == family && r.Priority > 0).Select(r => r.Priority).DefaultIfEmpty(32766u).Min() - 1;

    /// <summary>A snapshot's `ip -j rule` listing is the family's whole rule list, defaults included.</summary>
    public void SetListedRules(IpFamily family, IEnumerable<Routing.FibRule> rules)
    {
        RequireListed();
        _rules.RemoveAll(r => r.Family == family);
        _rules.AddRange(rules);
    }

    public void DeleteRule(Func<Routing.FibRule, bool> match) => _rules.Remove(_rules.LastOrDefault(match) ?? throw new TopologyException("RTNETLINK answers: No such file or directory (no such rule)"));

    /// <summary>ip neigh add: a static neighbour entry, or a proxy entry (the proxy table is a table of its own).</summary>
    public void AddNeighbour(Neighbour n)
    {
        Get(n.Device);
        _neighbours.RemoveAll(x => x.Device == n.Device && x.Address == n.Address && x.IsProxy == n.IsProxy);
        _neighbours.Add(n);
    }

    /// <summary>nftables configuration given to this namespace, in order (compiled when built).</summary>
    public void AddNftSource(NftSource source)
    {
        FlushesIptablesRuleset(source);
        if (DeletesIptablesTable(source) || FlushesIptablesTable(source)) return;
        _nft.Add(source with { Registration = NextRegistration() });
    }

    /// <summary>
    /// `flush ruleset [ip|ip6]` among the nft commands: the kernel deletes every table of the family, the ones
    /// iptables-nft made too (measured on 6.18: scenario ipt-nft-nft-flush); the nft text flushes its own.
    /// </summary>
    private void FlushesIptablesRuleset(NftSource source)
    {
        if (source.Kind != "nft") return;
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(source.Text, @"(?:^|[;\n])\s*flush\s+ruleset(?:\s+(\w+))?\s*(?=$|[;\n])"))
        {
            var family = m.Groups[1].Success ? m.Groups[1].Value : null;
            foreach (var (ipt, name) in new[] { (_ipt4, "ip"), (_ipt6, "ip6") })
                if (ipt is not null && (family is null || family == name))
                    foreach (var table in ipt.TableNames) ipt.DeleteTable(table);
        }
    }

    /// <summary>
    /// `nft flush table ip|ip6 NAME` or `flush chain ip|ip6 NAME CHAIN` of a table iptables-nft made (and no nft
    /// text of the lab named): the rules go, the chains and policies stay.
    /// </summary>
    private bool FlushesIptablesTable(NftSource source)
    {
        if (source.Kind != "nft") return false;
        var m = System.Text.RegularExpressions.Regex.Match(source.Text, @"^\s*flush\s+(table|chain)\s+(ip6?)\s+(\S+?)(?:\s+(\S+?))?\s*;?\s*$");
        if (!m.Success || m.Groups[1].Value == "chain" != m.Groups[4].Success) return false;
        var (family, table) = (m.Groups[2].Value, m.Groups[3].Value);
        if (NamedByNftText(family, table)) return false;
        var ipt = family == "ip6" ? _ipt6 : _ipt4;
        return ipt is not null && ipt.Flush(table, m.Groups[4].Success ? m.Groups[4].Value : null);
    }

    private bool NamedByNftText(string family, string table)
    {
        var named = new System.Text.RegularExpressions.Regex($@"\btable\s+{family}\s+{System.Text.RegularExpressions.Regex.Escape(table)}\b");
        return _nft.Any(x => x.Kind == "nft" && named.IsMatch(x.Text));
    }

    /// <summary>
    /// `nft delete table ip|ip6 NAME` of a table iptables-nft made (and no nft text of the lab named): the
    /// nft text does not know that table, the kernel deletes it with its chains. Its nat chains leave the
    /// nat core now: measured on 6.18, the next iptables nat rule registers the core anew, after a chain
    /// registered meanwhile, unless another nat chain still holds it.
    /// </summary>
    private bool DeletesIptablesTable(NftSource source)
    {
        if (source.Kind != "nft") return false;
        var m = System.Text.RegularExpressions.Regex.Match(source.Text, @"^\s*delete\s+table\s+(ip6?)\s+(\S+)\s*;?\s*$");
        if (!m.Success) return false;
        var (family, table) = (m.Groups[1].Value, m.Groups[2].Value);
        if (NamedByNftText(family, table)) return false;
        var ipt = family == "ip6" ? _ipt6 : _ipt4;
        return ipt is not null && ipt.DeleteTable(table);
    }

    /// <summary>A tick of the namespace's clock of nft and iptables commands: base chains register in the order
    /// the lab's commands created them, whichever tool did (<see cref="Netfilter.Nftables.NftRuleset.OrderRegistrations"/>).</summary>
    private int NextRegistration() => ++_registrations;
    private int _registrations;
    public IReadOnlyList<NftSource> NftSources => _nft;

    private Netfilter.Iptables.IptablesState? _ipt4, _ipt6;

    /// <summary>The namespace's iptables (or ip6tables) configuration as the lab's commands build it.</summary>
    public Netfilter.Iptables.IptablesState Iptables(bool v6) => v6 ? (_ipt6 ??= new(true, IptablesOptions)) : (_ipt4 ??= new(false, IptablesOptions));

    private Netfilter.Iptables.IptablesLoadOptions IptablesOptions => new() { AllowUnsupported = AllowUnsupported, CtTimeouts = _ctTimeouts, ConnLabels = ConnLabels, NextRegistration = NextRegistration, IpSets = IpSets };

    /// <summary>The namespace's ipsets (ipset create/add ..., or a snapshot's ipset save), which iptables' -m set reads.</summary>
    public Netfilter.Ipset.IpSetTable IpSets { get; } = new();

    /// <summary>Conntrack label names (connlabel.conf) rules and listings use; null: bit numbers only.</summary>
    public Netfilter.Conntrack.ConnLabelMap? ConnLabels { get; init; }

    /// <summary>The namespace's cttimeout policies (nfct add timeout), by name.</summary>
    private readonly Dictionary<string, Netfilter.Conntrack.ConntrackTimeoutPolicy> _ctTimeouts = new();

    /// <summary>
    /// nfct add timeout NAME FAMILY PROTO STATE SECONDS ...: a policy whose unnamed states are the
    /// namespace's conntrack sysctls now. Throws <see cref="ArgumentException"/> as nfct fails.
    /// </summary>
    public Netfilter.Conntrack.ConntrackTimeoutPolicy AddCtTimeout(string name, string family, string protocol, IEnumerable<KeyValuePair<string, int>> states)
    {
        // adding a name again fails even when no rule uses it (6.18, nfct 1.4.7)
        if (_ctTimeouts.ContainsKey(name)) throw new ArgumentException("netlink error: Device or resource busy");
        var policy = Netfilter.Conntrack.ConntrackTimeoutPolicy.CreateCttimeout(name, family, protocol, states,
            Netfilter.Conntrack.ConntrackSysctls.From(Sysctls()));
        _ctTimeouts[name] = policy;
        return policy;
    }

    /// <summary>
    /// All the namespace's nft text as one ruleset, in the order given; an error names the source file
    /// and line it came from.
    /// </summary>
    private Netfilter.Nftables.NftRuleset CompileNft()
    {
        var parts = new List<Netfilter.Nftables.NftRuleset>();
        var nft = _nft.Where(x => x.Kind == "nft").ToList();
        if (nft.Count > 0)
        {
            var text = new System.Text.StringBuilder();
            var starts = new List<(int Line, NftSource Source)>();
            int line = 1;
            foreach (var src in nft)
            {
                starts.Add((line, src));
                text.Append(src.Text).Append('\n');
                line += src.Text.Count(c => c == '\n') + 1;
            }
            try
            {
                var rs = Netfilter.Nftables.NftRuleset.Parse(text.ToString(), $"{Name} ruleset", new Netfilter.Nftables.NftLoadOptions { AllowUnsupported = AllowUnsupported, ConnLabels = ConnLabels });
                // a rule kept unsupported names the lab file and line, not the namespace's joined text
                foreach (var r in rs.AllRules.Where(r => r.Unsupported is not null && r.SourceLine > 0))
                {
                    var (start, source) = starts.Last(s => s.Line <= r.SourceLine);
                    var prefix = $"{Name} ruleset:{r.SourceLine}:";
                    if (r.Unsupported!.StartsWith(prefix, StringComparison.Ordinal))
                        r.Unsupported = $"{source.File}:{source.FirstLine + r.SourceLine - start}:{r.Unsupported[prefix.Length..]}";
                }
                // each base chain goes with the lab command whose text registered it
                foreach (var c in rs.RegisteredChains.Where(c => c.RegistrationOrder > 0))
                {
                    c.LoadStamp = starts.Last(s => s.Line <= c.RegistrationLine).Source.Registration;
                    if (c.UnregistrationOrder > 0) c.UnloadStamp = starts.Last(s => s.Line <= c.UnregistrationLine).Source.Registration;
                }
                parts.Add(rs);
            }
            catch (Netfilter.Nftables.NftParseException e)
            {
                var (start, source) = starts.Last(s => s.Line <= e.Line);
                var message = e.Message[(e.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..];
                throw new TopologyException($"nft (column {e.Column}, namespace {Name}): {message}", source.File, source.FirstLine + e.Line - start);
            }
        }
        foreach (var src in _nft.Where(x => x.Kind == "nft-json"))
        {
            try { parts.Add(Stamped(Netfilter.Nftables.NftRuleset.ParseJson(src.Text, src.File, new Netfilter.Nftables.NftLoadOptions { AllowUnsupported = AllowUnsupported, ConnLabels = ConnLabels }), src)); }
            catch (Netfilter.Nftables.NftParseException e)
            {
                var where = e.JsonPath is not null ? $"{e.JsonPath}: " : "";
                throw new TopologyException($"nft -j (namespace {Name}): {where}{e.Reason}", src.File, src.FirstLine + Math.Max(0, e.Line - 1));
            }
        }
        foreach (var src in _nft.Where(x => x.Kind is "iptables" or "ip6tables"))
        {
            try { parts.Add(KernelHandles(Stamped(Netfilter.Iptables.IptablesRestore.Load(src.Text, src.File, src.Kind == "ip6tables", new Netfilter.Iptables.IptablesLoadOptions { AllowUnsupported = AllowUnsupported, ConnLabels = ConnLabels, IpSets = IpSets }), src), src.Handles)); }
            catch (Netfilter.Iptables.IptablesParseException e)
            {
                var message = e.Message[(e.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..];
                throw new TopologyException($"{src.Kind}-restore (namespace {Name}): {message}", src.File, src.FirstLine + e.Line - 1);
            }
        }
        foreach (var st in new[] { _ipt4, _ipt6 })
        {
            if (st is not { IsEmpty: false }) continue;
            // a rule whose translation the evaluator cannot run is refused here, when the lab's commands are compiled
            try { parts.Add(st.Build()); }
            catch (Netfilter.Iptables.IptablesParseException e)
            {
                var message = e.Message[(e.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..];
                throw new TopologyException($"{st.Command} (namespace {Name}): {message} (at '{e.Token}')", e.FileName, e.Line);
            }
        }
        var all = parts.Count == 1 ? parts[0] : Netfilter.Nftables.NftRuleset.Combine(parts);
        all.OrderRegistrations();
        return all;

        // a snapshot's table keeps the handles the kernel gave it (rules added over time are not numbered as one restore numbers them)
        static Netfilter.Nftables.NftRuleset KernelHandles(Netfilter.Nftables.NftRuleset rs, IReadOnlyDictionary<string, int[]>? handles)
        {
            if (handles is null) return rs;
            foreach (var t in rs.Tables)
            {
                if (handles.TryGetValue(t.Name, out var th)) t.Handle = th[0];
                foreach (var c in t.Chains)
                {
                    if (!handles.TryGetValue($"{t.Name}/{c.Name}", out var h)) continue;
                    c.Handle = h[0];
                    if (h.Length == c.Rules.Count + 1) for (int i = 0; i < c.Rules.Count; i++) c.Rules[i].Handle = h[i + 1];
                }
            }
            return rs;
        }

        static Netfilter.Nftables.NftRuleset Stamped(Netfilter.Nftables.NftRuleset rs, NftSource src)
        {
            foreach (var c in rs.Tables.SelectMany(t => t.Chains)) c.LoadStamp = src.Registration;
            return rs;
        }
    }

    private List<ListeningSocket>? _sockets;

    /// <summary>A listening socket; once one is declared the namespace's socket table is taken as complete.</summary>
    public void AddSocket(ListeningSocket socket) => (_sockets ??= new()).Add(socket);

    private readonly List<ClientSocket> _clientSockets = new();

    /// <summary>A connected socket the namespace holds (<see cref="NetNamespace.ClientSockets"/>).</summary>
    public void AddClientSocket(ClientSocket socket) => _clientSockets.Add(socket);

    private readonly List<RawFrame> _rawFrames = new();

    /// <summary>A frame the namespace writes through a packet socket (<see cref="NetNamespace.RawFrames"/>).</summary>
    public void AddRawFrame(RawFrame frame) => _rawFrames.Add(frame);

    /// <summary>Moves a device out of this namespace (ip link set DEV netns NS): it arrives down, without addresses.</summary>
    public (DeviceKind Kind, MacAddress Mac, int Mtu, string? Peer, string? PeerNamespace, int IfIndex) RemoveDevice(string name)
    {
        var d = Get(name);
        _devices.Remove(d);
        _addresses.RemoveAll(a => a.Device == name);
        _userRoutes.RemoveAll(r => r.Device == name);
        _vlanStates.Remove(name);
        ForgetTcOf(name); // dev_shutdown in dev_change_net_namespace frees its qdiscs
        return (d.Kind, d.Mac, d.Mtu, d.Peer, d.PeerNamespace, d.IfIndex);
    }

    /// <summary>Updates where a veth's peer lives after the peer moved.</summary>
    public void SetPeerNamespace(string device, string peerNamespace)
    {
        var d = _devices.FirstOrDefault(x => x.Name == device);
        if (d is not null) d.PeerNamespace = peerNamespace;
    }

    /// <summary>
    /// Routes the kernel adds by itself for the addresses of up devices: IPv4 fib_add_ifaddr (local,
    /// broadcast, connected prefix) and IPv6 addrconf (local, prefix, fe80::/64, ff00::/8 multicast).
    /// Checked against `ip route show table all` of a real namespace in captures/*/host-snapshot.
    /// </summary>
    private IEnumerable<Route> KernelRoutes()
    {
        // fib_add_ifaddr adds the local route of an IPv4 address even while its device is down.
        foreach (var d in _devices.Where(d => !d.Up))
            foreach (var a in _addresses.Where(a => a.Device == d.Name && a.Family == IpFamily.V4))
                yield return new Route
                {
                    Table = RouteTables.Local, Type = RouteType.Local, Destination = new IpPrefix(a.Address, 32),
                    Device = d.Name, Protocol = "kernel", Scope = AddressScope.Host, PreferredSource = a.Address,
                };
        foreach (var d in _devices.Where(d => d.Up))
        {
            foreach (var a in AllAddresses(d))
            {
                var p = a.Prefix;
                if (p.Family == IpFamily.V4)
                {
                    yield return new Route
                    {
                        Table = RouteTables.Local, Type = RouteType.Local, Destination = new IpPrefix(p.Address, 32),
                        Device = d.Name, Protocol = "kernel", Scope = AddressScope.Host, PreferredSource = p.Address,
                    };
                    if (p.Length < 32 && d.IsLoopback)
                        yield return new Route
                        {
                            Table = RouteTables.Local, Type = RouteType.Local, Destination = new IpPrefix(p.Network, p.Length),
                            Device = d.Name, Protocol = "kernel", Scope = AddressScope.Host, PreferredSource = p.Address,
                        };
                    if (p.Length < 31 || a.Broadcast is not null)
                        yield return new Route
                        {
                            Table = RouteTables.Local, Type = RouteType.Broadcast,
                            Destination = new IpPrefix(a.Broadcast ?? p.Address.HostBitsSet(p.Length), 32),
                            Device = d.Name, Protocol = "kernel", Scope = AddressScope.Link, PreferredSource = p.Address,
                        };
                    if (p.Length < 32 && !d.IsLoopback)
                        yield return new Route
                        {
                            Table = RouteTables.Main, Destination = new IpPrefix(p.Network, p.Length), Device = d.Name,
                            Protocol = "kernel", Scope = AddressScope.Link, PreferredSource = p.Address,
                        };
                }
                else
                {
                    yield return new Route
                    {
                        Table = RouteTables.Local, Type = RouteType.Local, Destination = new IpPrefix(p.Address, 128),
                        Device = d.Name, Protocol = "kernel",
                    };
                    if (p.Length < 128 && !d.IsLoopback)
                        yield return new Route
                        {
                            Table = RouteTables.Main, Destination = new IpPrefix(p.Network, p.Length), Device = d.Name,
                            Protocol = "kernel", Metric = 256,
                        };
                    // A router joins the subnet-router anycast address of each prefix (addrconf_join_anycast).
                    if (p.Length < 128 && !d.IsLoopback && Sysctls().Ipv6Forwarding && !p.Network.IsZero)
                        yield return new Route
                        {
                            Table = RouteTables.Local, Type = RouteType.Anycast, Destination = new IpPrefix(p.Network, 128),
                            Device = d.Name, Protocol = "kernel",
                        };
                }
            }
            if (!d.IsLoopback && !Sysctls().Ipv6Disabled(d.Name))
                yield return new Route
                {
                    Table = RouteTables.Local, Type = RouteType.Multicast, Destination = new IpPrefix(IpAddr.V6(0xFF00UL << 48, 0), 8),
                    Device = d.Name, Protocol = "kernel", Metric = 256,
                };
        }
    }

    private Sysctls Sysctls() => new(new Dictionary<string, string>(_sysctls));

    /// <summary>Explicit addresses plus the fe80:: address addrconf generates (EUI-64) when the device comes up.</summary>
    private IEnumerable<InterfaceAddress> AllAddresses(Dev d)
    {
        foreach (var a in _addresses.Where(a => a.Device == d.Name))
            if (a.Family == IpFamily.V4 || !Sysctls().Ipv6Disabled(d.Name)) yield return a;
        if (d.Up && !d.IsLoopback && !d.Mac.IsZero && !Sysctls().Ipv6Disabled(d.Name)
            && !_addresses.Any(a => a.Device == d.Name && a.Address.IsLinkLocal && a.Family == IpFamily.V6))
            yield return new InterfaceAddress { Device = d.Name, Prefix = new IpPrefix(LinkLocalFor(d.Mac), 64), Scope = AddressScope.Link };
    }

    /// <summary>fe80::/64 with the modified EUI-64 interface identifier (RFC 4291 appendix A).</summary>
    public static IpAddr LinkLocalFor(MacAddress mac)
    {
        ulong m = mac.Value;
        ulong iid = ((m >> 24) << 40 | 0xFFFEUL << 24 | (m & 0xFFFFFF)) ^ 0x0200_0000_0000_0000UL;
        return IpAddr.V6(0xFE80UL << 48, iid);
    }

    public NetNamespace Build()
    {
        var devices = _devices.Select(d => new NetDevice
        {
            Name = d.Name, Namespace = Name, IfIndex = d.IfIndex, Kind = d.Kind, Mac = d.Mac, Mtu = d.Mtu, Group = d.Group, IsUp = d.Up,
            Master = d.Master, Peer = d.Peer, PeerNamespace = d.PeerNamespace, Hairpin = d.Hairpin, PortState = d.PortState,
            KernelStp = d.StpRan, Stp = d.Stp,
            StpPort = d.Master is null ? null : new BrStpPortConfig(d.PortNo, d.PortPriority, d.PortCost, d.EnabledUnderStp), Tunnel = d.Tunnel, VlanDev = d.VlanDev, Vxlan = d.Vxlan, Macvlan = d.Macvlan, Xdp = d.Xdp, Vlans = FrozenVlans(d.Name), VlanOptions = FrozenVlanOptions(d.Name),
        }).ToList();
        var addresses = _listed ? _addresses.ToList() : _devices.SelectMany(AllAddresses).ToList();
        var routes = _listed ? _userRoutes.ToList() : KernelRoutes().Concat(_userRoutes).DistinctBy(r => (r.ToString(), r.Table)).ToList();
        var ns = new NetNamespace(Name, devices, addresses, routes, Sysctls(), _unmodelled.ToList(), _sockets?.ToList(), _rules.ToList(), _neighbours.ToList());
        if (_nft.Count > 0 || _ipt4 is { IsEmpty: false } || _ipt6 is { IsEmpty: false }) ns.Nft = CompileNft();
        ns.FouPorts = _fou.ToList();
        ns.NexthopObjects = _nexthops.Values.ToList();
        ns.FdbEntries = _fdb.ToList();
        ns.VxlanFdb = _vxlanFdb.ToList();
        ns.ClientSockets = _clientSockets.ToList();
        ns.RawFrames = _rawFrames.ToList();
        ns.Tc = BuildTc();
        ns.ConnLabels = ConnLabels;
        ns.IpSets = IpSets.Sets.ToList();
        return ns;
    }
}

