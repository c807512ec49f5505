using PktFlow.Routing;
using PktFlow.Wire;

namespace PktFlow.Topology;

/// <summary>
/// One network namespace (struct net): devices, addresses, routes of every table, sysctls.
/// Immutable once built; the FIB is compiled once here and evaluated per packet.
/// </summary>
public sealed class NetNamespace
{
    public string Name { get; }
    public IReadOnlyList<NetDevice> Devices { get; }
    public IReadOnlyList<InterfaceAddress> Addresses { get; }
    /// <summary>Routes of every table, kernel-made ones included, as `ip route show table all` lists them.</summary>
    public IReadOnlyList<Route> Routes { get; }
    public Sysctls Sysctls { get; }
    public Fib Fib { get; }
    /// <summary>The nftables ruleset (from the lab's nft commands or a snapshot), or null when there is none.</summary>
    public Netfilter.Nftables.NftRuleset? Nft
    {
        get => _nft;
        internal set
        {
            _nft = value;
            // Decided once: it is read at every hook of every packet. nf_ct_netns_get is per family: a
            // table of family ip hooks IPv4 conntrack only, ip6 IPv6 only, inet and bridge (bridge plus
            // inet) both; arp and netdev tables cannot use conntrack (their ct rules are refused)
            // (measured on 6.18: with only an ip6 nat table, bridged IPv4 pings left no conntrack entry; br-nf-dnat6).
            var users = value is { } rs ? rs.Tables.Where(t => t.Chains.Any(c => c.Type == "nat" || c.Rules.Any(r => NamesCt(r.Text, r.Comment)
                || r.Stmts.Any(s => s is Netfilter.Iptables.CtTemplateStmt or Netfilter.Iptables.ConnlabelMatch)))) // xt_CT: nf_ct_netns_get
                .Select(t => t.Family).ToList() : [];
            UsesConntrackV4 = users.Any(f => f is Netfilter.Nftables.NftFamily.Ip or Netfilter.Nftables.NftFamily.Inet or Netfilter.Nftables.NftFamily.Bridge);
            UsesConntrackV6 = users.Any(f => f is Netfilter.Nftables.NftFamily.Ip6 or Netfilter.Nftables.NftFamily.Inet or Netfilter.Nftables.NftFamily.Bridge);
        }
    }

    /// <summary>
    /// A ct expression or statement in the rule (nft_ct_get_init and friends call nf_ct_netns_get): the
    /// word `ct`, not the end of another word (`jump direct ...`) nor inside the rule's comment.
    /// </summary>
    internal static bool NamesCt(string text, string? comment)
    {
        if (comment is not null) text = text.Replace(comment, "", StringComparison.Ordinal);
        for (int i = text.IndexOf("ct ", StringComparison.Ordinal); i >= 0; i = text.IndexOf("ct ", i + 1, StringComparison.Ordinal))
            if (i == 0 || text[i - 1] is ' ' or '{' or '(' or ',' or ':' or '!' or '=') return true;
        return false;
    }
    private Netfilter.Nftables.NftRuleset? _nft;
    /// <summary>True when something in the namespace needs conntrack (ct expressions, NAT chains), as loading nf_conntrack does.</summary>
    public bool UsesConntrack => UsesConntrackV4 || UsesConntrackV6;
    /// <summary>IPv4 conntrack is hooked: a table of family ip, inet (or bridge, arp, netdev) needs it.</summary>
    public bool UsesConntrackV4 { get; private set; }
    /// <summary>IPv6 conntrack is hooked: a table of family ip6, inet (or bridge, arp, netdev) needs it.</summary>
    public bool UsesConntrackV6 { get; private set; }
    /// <summary>Conntrack label names (the lab's connlabel.conf) that conntrack listings print; null: none.</summary>
    public Netfilter.Conntrack.ConnLabelMap? ConnLabels { get; internal set; }

    /// <summary>The namespace's ipsets as the lab or snapshot left them (what iptables' -m set rules read); empty when none.</summary>
    public IReadOnlyList<Netfilter.Ipset.IpSet> IpSets { get; internal set; } = Array.Empty<Netfilter.Ipset.IpSet>();
    /// <summary>Receiving FOU/GUE ports (`ip fou add`).</summary>
    public IReadOnlyList<FouPort> FouPorts { get; internal set; } = Array.Empty<FouPort>();
    /// <summary>Whether the ipip module's IPPROTO_IPIP handler (tunnel4_rcv -> ipip_rcv) is there: it comes with any ipip device (or `modprobe ipip`).</summary>
    public bool HasIpipHandler => Devices.Any(d => d.Kind == DeviceKind.Ipip);
    /// <summary>Nexthop objects (`ip nexthop`) by id; routes that use one carry its id and copy its nexthops.</summary>
    public IReadOnlyList<NexthopObject> NexthopObjects { get; internal set; } = Array.Empty<NexthopObject>();
    /// <summary>Bridge FDB entries an administrator made (`bridge fdb add ... master`), in the order made.</summary>
    public IReadOnlyList<FdbEntry> FdbEntries { get; internal set; } = Array.Empty<FdbEntry>();
    /// <summary>vxlan FDB entries (`bridge fdb append|add MAC dev VX dst IP`, and each device's default remote), in the order made.</summary>
    public IReadOnlyList<VxlanFdbEntry> VxlanFdb { get; internal set; } = Array.Empty<VxlanFdbEntry>();
    /// <summary>
    /// tc clsact/ingress configuration by device; null when the configuration does not say (a snapshot
    /// that did not record tc): sch_handle_ingress/egress are then not modelled. A device missing from
    /// a known table has no filters.
    /// </summary>
    public IReadOnlyDictionary<string, Tc.TcDeviceConfig>? Tc { get; internal set; }
    /// <summary>Static neighbour entries (ip neigh add ... nud permanent).</summary>
    public IReadOnlyList<Neighbour> Neighbours { get; }
    /// <summary>Listening sockets; null when the configuration does not say (socket lookup is then not modelled).</summary>
    public IReadOnlyList<ListeningSocket>? Sockets { get; }
    /// <summary>Connected (client) sockets the configuration declares: `ss -tun` of a snapshot, the client
    /// commands of a lab's traffic script. They say who sent a flow seen after source NAT (Observe mode).</summary>
    public IReadOnlyList<ClientSocket> ClientSockets { get; internal set; } = Array.Empty<ClientSocket>();
    /// <summary>Frames a lab's traffic script writes from this namespace through a packet socket (sendframe):
    /// no socket sent them, so none is learnt from them.</summary>
    public IReadOnlyList<RawFrame> RawFrames { get; internal set; } = Array.Empty<RawFrame>();
    /// <summary>Lab commands that shape this namespace but that the model does not evaluate yet (nft, tc, ...).</summary>
    public IReadOnlyList<string> Unmodelled { get; }

    private readonly Dictionary<string, NetDevice> _byName;
    private readonly Dictionary<int, NetDevice> _byIndex;
    private readonly HashSet<IpAddr> _local;

    internal NetNamespace(string name, List<NetDevice> devices, List<InterfaceAddress> addresses, List<Route> routes,
        Sysctls sysctls, List<string> unmodelled, List<ListeningSocket>? sockets = null, List<Routing.FibRule>? rules = null,
        List<Neighbour>? neighbours = null)
    {
        Sockets = sockets;
        Neighbours = neighbours ?? new List<Neighbour>();
        Name = name;
        Devices = devices;
        Addresses = addresses;
        Routes = routes;
        Sysctls = sysctls;
        Unmodelled = unmodelled;
        _byName = devices.ToDictionary(d => d.Name, StringComparer.Ordinal);
        _byIndex = devices.GroupBy(d => d.IfIndex).ToDictionary(g => g.Key, g => g.First());
        // inet_lookup_ifaddr: an IPv4 address is local whatever its device's state; IPv6 ones count once up.
        _local = addresses.Where(a => a.Family == IpFamily.V4 || Device(a.Device)?.IsUp == true).Select(a => a.Address).ToHashSet();
        Fib = new Fib(routes, rules);
    }

    public NetDevice? Device(string name) => _byName.TryGetValue(name, out var d) ? d : null;

    /// <summary>The device with ifindex <paramref name="ifindex"/> (bpf_redirect, devmap entries), or null.</summary>
    public NetDevice? Device(int ifindex) => _byIndex.TryGetValue(ifindex, out var d) ? d : null;

    /// <summary>True when the address is assigned to an up device of this namespace (inet_lookup_ifaddr).</summary>
    public bool IsLocalAddress(IpAddr a) => _local.Contains(a);

    public IEnumerable<InterfaceAddress> AddressesOf(string device) => AddressArrayOf(device);

    /// <summary>AddressesOf as the cached array, for per-frame loops that must not allocate an enumerator.</summary>
    internal InterfaceAddress[] AddressArrayOf(string device) => _addressesOf.TryGetValue(device, out var list) ? list : FilterAddresses(device);

    // apart, so the lambda's closure is made on a miss only, not on every call
    private InterfaceAddress[] FilterAddresses(string device) => _addressesOf[device] = Addresses.Where(a => a.Device == device).ToArray();

    /// <summary>AddressesOf by device, filtered once: stages ask it for every packet.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, InterfaceAddress[]> _addressesOf = new(StringComparer.Ordinal);

    public override string ToString() => Name;
}

/// <summary>
/// A neighbour table entry (struct neighbour): an address, its link-layer address, the device and state;
/// state "proxy" is a proxy entry instead (struct pneigh_entry, `ip neigh add proxy ADDRESS dev DEV`).
/// </summary>
public sealed record Neighbour(string Device, IpAddr Address, MacAddress? LinkLayer, string State)
{
    public const string ProxyState = "proxy";
    /// <summary>An entry of the proxy table (pneigh_lookup), not of the neighbour table.</summary>
    public bool IsProxy => State == ProxyState;

    public override string ToString() => IsProxy ? $"proxy {Address} dev {Device}" : $"{Address} dev {Device}{(LinkLayer is { } m ? $" lladdr {m}" : "")} {State.ToUpperInvariant()}";
}

/// <summary>nftables text given to a namespace (a file, a here-document or one command) and where it came from.</summary>
public sealed record NftSource(string Text, string File, int FirstLine)
{
    /// <summary>"nft", "nft-json" (libnftables-json), or "iptables"/"ip6tables" for iptables-restore input (translated as iptables-nft does).</summary>
    public string Kind { get; init; } = "nft";
    /// <summary>When the lab gave it, among the namespace's nft and iptables commands (base chains register in that order).</summary>
    internal int Registration { get; init; }
    /// <summary>The kernel's handles of a snapshot's iptables-nft tables (nft.json), which the translation's own
    /// numbering replaces: "TABLE" -> [table handle]; "TABLE/CHAIN" -> [chain handle, rule handles in order].</summary>
    internal IReadOnlyDictionary<string, int[]>? Handles { get; init; }
}

/// <summary>A whole modelled host: its namespaces, where it came from and what the loader noticed.</summary>
public sealed class HostTopology
{
    public IReadOnlyList<NetNamespace> Namespaces { get; }
    /// <summary>The lab file or snapshot it was built from, or a description of how it was inferred.</summary>
    public string Source { get; }
    public IReadOnlyList<string> Warnings { get; }

    public HostTopology(IReadOnlyList<NetNamespace> namespaces, string source, IReadOnlyList<string> warnings)
    {
        if (namespaces.Count == 0) throw new ArgumentException("a topology needs at least one namespace");
        Namespaces = namespaces;
        Source = source;
        Warnings = warnings;
    }

    /// <summary>The namespace the lab's own commands configure (the host under test).</summary>
    public NetNamespace Host => Namespaces[0];

    public NetNamespace? Namespace(string name) => Namespaces.FirstOrDefault(n => n.Name == name);

    /// <summary>
    /// The macvlan port of a lower device (struct macvlan_port): the macvlans on it, in whichever
    /// namespace they are, in the order they were made (port->vlans). Empty for a device without one.
    /// Made once: __netif_receive_skb_core asks for every frame.
    /// </summary>
    public IReadOnlyList<(NetNamespace Ns, NetDevice Dev)> MacvlanPort(string lowerNamespace, string lower) =>
        (_macvlanPorts ??= MacvlanPorts()).TryGetValue((lowerNamespace, lower), out var port) ? port : [];

    private Dictionary<(string, string), List<(NetNamespace, NetDevice)>>? _macvlanPorts;

    private Dictionary<(string, string), List<(NetNamespace, NetDevice)>> MacvlanPorts()
    {
        var ports = new Dictionary<(string, string), List<(NetNamespace, NetDevice)>>();
        foreach (var ns in Namespaces)
            foreach (var d in ns.Devices)
                if (d.Macvlan is { } m)
                {
                    if (!ports.TryGetValue((m.LowerNamespace, m.Lower), out var list)) ports[(m.LowerNamespace, m.Lower)] = list = new();
                    list.Add((ns, d));
                }
        // port->vlans in creation order: the namespaces' own order would put a moved macvlan elsewhere
        foreach (var list in ports.Values) list.Sort((a, b) => a.Item2.IfIndex.CompareTo(b.Item2.IfIndex));
        return ports;
    }
}
