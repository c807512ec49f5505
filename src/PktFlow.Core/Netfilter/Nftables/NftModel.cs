using PktFlow.Wire;

namespace PktFlow.Netfilter.Nftables;

/// <summary>nftables address families (NFPROTO_*), as tables declare them.</summary>
public enum NftFamily { Ip, Ip6, Inet, Arp, Bridge, Netdev }

/// <summary>Hook points; bridge/arp/netdev reuse the names their family knows.</summary>
public enum NftHookPoint { Prerouting, Input, Forward, Output, Postrouting, Ingress, Egress }

/// <summary>Load switches.</summary>
public sealed class NftLoadOptions
{
    /// <summary>Keep rules the evaluator cannot evaluate, marked <see cref="NftRule.Unsupported"/>, instead of rejecting the load.</summary>
    public bool AllowUnsupported { get; init; }
    /// <summary>Read <c>include</c> files (relative to the including file). Off: an include is an error.</summary>
    public bool AllowIncludes { get; init; } = true;
    /// <summary>Directory relative paths of includes resolve against when the file name has none.</summary>
    public string? BaseDirectory { get; init; }
    /// <summary>Conntrack label names (what nft reads from /etc/connlabel.conf); null: only bit numbers are taken.</summary>
    public Conntrack.ConnLabelMap? ConnLabels { get; init; }
    /// <summary>Text PktFlow wrote itself from iptables chains (iptables-nft names chains over netlink, so any word is a name): skips nft's keyword check.</summary>
    internal bool AnyName { get; init; }
}

/// <summary>A load error: "file:line:col: message", or "file: json.path: message" for JSON input.</summary>
public sealed class NftParseException : Exception
{
    public string FileName { get; }
    public int Line { get; }
    public int Column { get; }
    public string Token { get; }
    /// <summary>For JSON input: where in the document, e.g. <c>nftables[12].rule.expr[3]</c>; null for text.</summary>
    public string? JsonPath { get; }
    /// <summary>The message without its location.</summary>
    public string Reason { get; }
    public NftParseException(string file, int line, int col, string token, string message)
        : base($"{file}:{line}:{col}: {message}")
    { FileName = file; Line = line; Column = col; Token = token; Reason = message; }
    public NftParseException(string file, string jsonPath, string token, string message)
        : base($"{file}: {jsonPath}: {message}")
    { FileName = file; JsonPath = jsonPath; Token = token; Reason = message; }
}

public sealed class NftTable
{
    public NftFamily Family { get; internal set; }
    public string Name { get; internal set; } = "";
    /// <summary>Handle from the per-namespace table counter (1, 2, ... never reused after flush).</summary>
    public int Handle { get; internal set; }
    internal int HandleCounter;
    internal readonly List<NftChain> ChainList = new();
    internal readonly Dictionary<string, NftSet> SetMap = new(StringComparer.Ordinal);
    internal readonly Dictionary<string, NftObject> ObjectMap = new(StringComparer.Ordinal);
    public IReadOnlyList<NftChain> Chains => ChainList;
    /// <summary>Named stateful objects (counter, quota, limit), in declaration order of handles.</summary>
    public IEnumerable<NftObject> Objects => ObjectMap.Values.OrderBy(o => o.Handle);
    internal readonly List<NftDeclaredObject> DeclaredObjectList = new();
    /// <summary>Flowtables a JSON ruleset declares (listed, not evaluated).</summary>
    public IReadOnlyList<NftDeclaredObject> DeclaredObjects => DeclaredObjectList;
    public IReadOnlyCollection<NftSet> Sets => SetMap.Values;
    public NftChain? FindChain(string name)
    {
        foreach (var c in ChainList) if (c.Name == name) return c; // a loop: a lambda here allocated on every jump
        return null;
    }
    public override string ToString() => $"table {NftNames.Family(Family)} {Name}";
}

public sealed class NftChain
{
    public NftTable Table { get; internal set; } = null!;
    public string Name { get; internal set; } = "";
    public int Handle { get; internal set; }
    public NftHookPoint? Hook { get; internal set; }
    public int Priority { get; internal set; }
    public string? Type { get; internal set; }
    public bool PolicyDrop { get; internal set; }
    public string? Device { get; internal set; }
    /// <summary>Order in which the kernel registered this base chain's hook (load order).</summary>
    public int RegistrationOrder { get; internal set; }
    /// <summary>The text line that registered it (the `type ... hook ...` line): tells which lab command of a
    /// namespace's concatenated nft input it came from.</summary>
    internal int RegistrationLine;
    /// <summary>When, among all the lab's nft and iptables commands of its namespace, the command that registered
    /// it ran; 0 when unknown (a ruleset loaded on its own). See <see cref="NftRuleset.OrderRegistrations"/>.</summary>
    internal int LoadStamp;
    /// <summary>For a deleted base chain: when its hook was unregistered, in the order of <see cref="RegistrationOrder"/>
    /// (0 while registered), the text line that deleted it and the lab command's stamp (as <see cref="LoadStamp"/>).</summary>
    internal int UnregistrationOrder, UnregistrationLine, UnloadStamp;
    internal readonly List<NftRule> RuleList = new();
    public IReadOnlyList<NftRule> Rules => RuleList;
    public bool IsBase => Hook is not null;
    public override string ToString() => $"{Table} chain {Name}";
}

public sealed class NftRule
{
    public NftChain Chain { get; internal set; } = null!;
    public int Handle { get; internal set; }
    /// <summary>The rule as written, normalised (single spaces, "{ a, b }").</summary>
    public string Text { get; internal set; } = "";
    public string? Comment { get; internal set; }
    /// <summary>Set when loaded with AllowUnsupported: the load error this rule would have raised.</summary>
    public string? Unsupported { get; internal set; }
    public string SourceFile { get; internal set; } = "";
    public int SourceLine { get; internal set; }
    /// <summary>For a rule read from JSON: its place in the document (<c>nftables[7].rule</c>).</summary>
    public string? SourcePath { get; internal set; }
    internal NftStmt[] Stmts = Array.Empty<NftStmt>();
    internal bool HasCounter;
    /// <summary>Reads ct bytes/packets/avgpkt: loading it turns conntrack accounting on (nft_ct_get_init -> nf_ct_set_acct).</summary>
    internal bool TurnsOnCtAcct;
    /// <summary>The rule's expressions some hooks refuse (fib, meta sdif), checked once the chains that reach it are known.</summary>
    internal List<IHookRestricted>? HookRestricted;
    public override string ToString() => $"{Text} # handle {Handle}";
}

public sealed class NftSet
{
    public NftTable Table { get; internal set; } = null!;
    public string Name { get; internal set; } = "";
    public int Handle { get; internal set; }
    public string TypeText { get; internal set; } = "";
    public IReadOnlyList<string> Flags { get; internal set; } = Array.Empty<string>();
    internal NftType[] KeyTypes = Array.Empty<NftType>();
    /// <summary>A map (<c>map NAME { type K : D }</c>): its elements carry data.</summary>
    public bool IsMap { get; internal set; }
    /// <summary>A map's data type as declared (<c>verdict</c>, <c>ipv4_addr . inet_service</c>, <c>mark</c>); null for a set.</summary>
    public string? DataText { get; internal set; }
    /// <summary>A map's data types (empty for a verdict map).</summary>
    internal NftType[] DataTypes = Array.Empty<NftType>();
    /// <summary>An object map's object kind (<c>type ipv4_addr : counter</c>: counter, quota or limit); null otherwise.</summary>
    public string? ObjectKind { get; internal set; }
    public bool IsVerdictMap => IsMap && DataTypes.Length == 0 && ObjectKind is null;
    internal readonly List<NftElement> Elements = new();
    internal List<(NftTok Tok, NftTokenStream Src)> PendingElements = new();
    public int Count => Elements.Count;
    /// <summary>The set's default element timeout (<c>timeout 30s</c>), in ns.</summary>
    public long? TimeoutNs { get; internal set; }
    /// <summary>Maximum element count (<c>size N</c>); a dynamic add beyond it fails as nft_dynset does.</summary>
    public int? Size { get; internal set; }
    /// <summary>Made by a <c>meter</c> statement: nft lists the meter in its rule, not the set.</summary>
    public bool IsMeter { get; internal set; }
    /// <summary>Rules add, update or delete elements (<c>add @set { ... }</c>).</summary>
    public bool UpdatedByRules { get; internal set; }
    private bool? _stateful;
    /// <summary>Its contents change during a replay (rules update it or elements time out): lookups read the replay's state.</summary>
    internal bool IsStateful => _stateful ??= UpdatedByRules || TimeoutNs is not null || Flags.Contains("timeout") || Flags.Contains("dynamic")
        || Elements.Any(e => e.TimeoutNs is not null || e.ExpiresNs is not null);
}

/// <summary>
/// A named stateful object of a table: <c>counter NAME { }</c>, <c>quota NAME { [over] N bytes [used M bytes] }</c>
/// or <c>limit NAME { rate [over] N/unit [burst B] }</c>. Every rule that names it (nft_objref) shares its state.
/// </summary>
public sealed class NftObject
{
    public NftTable Table { get; internal set; } = null!;
    public string Kind { get; internal set; } = "";
    public string Name { get; internal set; } = "";
    public int Handle { get; internal set; }
    /// <summary>Initial packets/bytes of a counter, or the bytes already used of a quota.</summary>
    public long InitialPackets { get; internal set; }
    public long InitialBytes { get; internal set; }
    public long QuotaBytes { get; internal set; }
    public bool Over { get; internal set; }
    /// <summary>A limit's token bucket parameters; the bucket itself is shared by every rule naming the object.</summary>
    internal LimitStmt? Limit;
    /// <summary>A synproxy object's options.</summary>
    public SynproxyInfo? Synproxy { get; internal set; }
    /// <summary>A ct helper/timeout/expectation object's body as written (<c>type "ftp"; protocol tcp</c>).</summary>
    public string Detail { get; internal set; } = "";
    /// <summary>A ct timeout object's policy.</summary>
    public Conntrack.ConntrackTimeoutPolicy? TimeoutPolicy { get; internal set; }
    /// <summary>A ct helper object's helper when the model has it (ftp/tcp, tftp/udp), its protocol, and
    /// whether it is there for IPv4 and IPv6 connections (its l3proto, or the table's family).</summary>
    public Conntrack.ConntrackHelper? Helper { get; internal set; }
    internal string HelperType = "";
    internal byte HelperProtocol;
    internal bool HelperV4, HelperV6;
    private NftStmt? _ref;
    /// <summary>What a reference to the object does (nft_objref): count, charge the quota, take a limit token.</summary>
    internal NftStmt Ref => _ref ??= Kind switch
    {
        "counter" => new ObjCounterStmt { Object = this },
        "quota" => new QuotaStmt { Object = this },
        "limit" => Limit!,
        "synproxy" => new SynproxyStmt { Info = Synproxy! },
        _ => new CtObjectStmt { Object = this },
    };
    public override string ToString() => $"{Kind} {Name}";
}

/// <summary>
/// A flowtable a table declares. Declaring one changes no verdict (the model has no flow offload).
/// </summary>
public sealed record NftDeclaredObject(string Kind, string Name, int Handle);

/// <summary>A conntrack summary the datapath hands to nft.</summary>
public sealed record NftCtInfo(string State, string Direction, uint Mark, string Status)
{
    /// <summary>The connection's tuples and zone (null: the packet has no connection entry, e.g. untracked).</summary>
    public Conntrack.ConntrackTuple? Original { get; init; }
    public Conntrack.ConntrackTuple? Reply { get; init; }
    public ushort Zone { get; init; }
    /// <summary>The directions the zone applies to (<see cref="Conntrack.ConntrackZone"/>), and the connection's labels.</summary>
    public byte ZoneDir { get; init; } = Conntrack.ConntrackZone.BothDirections;
    public UInt128 Labels { get; init; }
    /// <summary>The connection's accounting (nf_conn_acct), per direction: packets and bytes.</summary>
    public (ulong Packets, ulong Bytes) OriginalCounters { get; init; }
    public (ulong Packets, ulong Bytes) ReplyCounters { get; init; }
    /// <summary>ct expiration: milliseconds left (nf_ct_expires); 0 for an entry not confirmed yet, whose
    /// timeout is still relative (the kernel's subtraction comes out negative and is clamped).</summary>
    public uint ExpirationMs { get; init; }
    /// <summary>The helper of the connection's master (what nft's <c>ct helper</c> and xt_helper read), or null.</summary>
    public string? MasterHelper { get; init; }
}

/// <summary>What nft reads of a packet. Implemented by the datapath over its skb.</summary>
public interface INftPacket
{
    NftFamily Family { get; }
    ReadOnlySpan<byte> Network { get; }
    /// <summary>The network header onwards for payload statements to rewrite (the skb's own bytes); empty where nothing may be written.</summary>
    Span<byte> MutableNetwork => Span<byte>.Empty;
    /// <summary>The frame from the MAC header on for link-layer payload statements; empty where the skb has no MAC header (nft_payload_set_eval: NFT_BREAK).</summary>
    Span<byte> MutableLink => Span<byte>.Empty;
    /// <summary>The outer VLAN tag is skb->vlan_tci (taken off by skb_vlan_untag or put by a VLAN device), not bytes of the frame: nft_payload_set_vlan applies.</summary>
    bool VlanTagOutside => false;
    /// <summary>A link-layer payload statement wrote the frame: what the skb keeps of the tag follows the bytes.</summary>
    void LinkWritten() { }
    ReadOnlySpan<byte> Link { get; }
    /// <summary>skb->len at the hook (what counters, quotas, byte limits and meta length read): the network
    /// header onward, but at netdev egress, where the frame is built, from the MAC header on (measured:
    /// an 84-byte ping counts 84 at ingress and in the bridge family, 98 at egress).</summary>
    long SkbLength => Network.Length;
    byte L4Protocol { get; }
    int TransportOffset { get; }
    string? InputInterface { get; }
    string? OutputInterface { get; }
    int InputIfIndex { get; }
    int OutputIfIndex { get; }
    uint Mark { get; set; }
    /// <summary>skb->priority (meta priority): the qdisc class tc picks on the way out.</summary>
    uint Priority { get; set; }
    byte PacketType { get; }
    NftCtInfo? Conntrack { get; }
    bool IsLocalAddress(ReadOnlySpan<byte> address, bool v6);

    /// <summary>Whether this ACK returns a syncookie the namespace's synproxy handed out (<see cref="NfSynproxy.CookieCheck"/>); false where there is no namespace.</summary>
    bool SynproxyCookieValid => false;

    /// <summary>Whether synproxy's checksum check finds the TCP checksum bad (<see cref="NfSynproxy.ChecksumCheck"/>: xt's
    /// SYNPROXY or nft's synproxy, which differ for IPv6); false where there is no skb.</summary>
    bool SynproxyChecksumBad(bool xt) => false;

    /// <summary>
    /// What nf_conncount (nft_connlimit, <c>ct count</c>) counts this packet as: the original tuple and zone
    /// of its connection (nf_ct_get), else the packet's own tuple (nf_ct_get_tuplepr); null when it has none.
    /// </summary>
    NftConnKey? ConnCountKey => null;

    /// <summary>skb->sk: the socket tproxy assigned, or the one that sent a local packet; null for a packet without one.</summary>
    NftSock? Socket => null;

    /// <summary>The bridge ports br_netfilter recorded for this packet (nf_bridge_info); null when it has none.</summary>
    Datapath.NfBridgeInfo? NfBridge => null;

    /// <summary>
    /// nft_rt_get_eval's NFT_RT_TCPMSS (get_tcpmss): the smaller MTU of the packet's route and of the route
    /// back to its source, less the IP and TCP headers (536 when out of range); null when the packet has no route.
    /// </summary>
    ushort? RtTcpMss => null;

    /// <summary>The socket match's lookup (nft_socket, xt_socket): skb->sk, else nf_sk_lookup_slow_v4/v6.</summary>
    NftSock? FindSocket() => null;

    /// <summary>
    /// nf_tproxy_get_sock_v4/v6: the packet's established socket, else a listener on the tproxy address
    /// (null: the receiving device's primary one) and port (0: the packet's). A transparent socket found
    /// is assigned to the packet (nf_tproxy_assign_sock).
    /// </summary>
    NftSock? Tproxy(Wire.IpAddr? address, ushort port) => null;

    /// <summary>The input and output devices' ARPHRD type (dev->type) and group (dev->group); null without the device.</summary>
    NftDevInfo? InputDevice => null;
    NftDevInfo? OutputDevice => null;

    /// <summary>nft_meta_get_bridge: the bridge the input (output) device is a port of, with what meta ibrpvid and ibrvproto read; null when it is no bridge port.</summary>
    NftBridgePort? InputBridge => null;
    NftBridgePort? OutputBridge => null;

    /// <summary>
    /// nft_get_sdif (meta sdif): the ifindex of the L3 slave device an l3mdev (VRF) master received the packet
    /// through, 0 for other packets; null when the input device's master is a kind the model does not build.
    /// </summary>
    int? Sdif => 0;

    /// <summary>
    /// nft_fib4/6_eval: the device a route lookup of <paramref name="address"/> leaves by (0 and null: none, a
    /// local or failed lookup, or not <paramref name="dev"/> when one is given); null when the model has no FIB.
    /// </summary>
    (int IfIndex, string? Name)? FibOif(ReadOnlySpan<byte> address, ReadOnlySpan<byte> other, bool v6, string? dev, bool mark) => null;

    /// <summary>nft_fib4/6_eval_type (inet_dev_addr_type): the RTN_* type of <paramref name="address"/>, on <paramref name="dev"/> when given.</summary>
    uint FibType(ReadOnlySpan<byte> address, bool v6, string? dev) => IsLocalAddress(address, v6) ? 2u : 1u;

    /// <summary>find_or_evict / already_closed: whether conntrack still holds a counted connection.</summary>
    NftConnPresence FindConnection(NftConnKey key) => NftConnPresence.Gone;
}

/// <summary>What nft's meta iiftype/oiftype and iifgroup/oifgroup read of a device: its ARPHRD type (null: a kind whose type the model does not know) and group.</summary>
public readonly record struct NftDevInfo(ushort? Type, uint Group);

/// <summary>A bridge port's bridge: its name, vlan_filtering and vlan_protocol (br_vlan_enabled, br_vlan_get_proto) and the port's PVID (br_vlan_get_pvid_rcu, 0: none).</summary>
public readonly record struct NftBridgePort(string Bridge, bool VlanFiltering, ushort VlanProtocol, ushort Pvid);

/// <summary>One connection an nf_conncount list remembers: its original tuple and zone.</summary>
public readonly record struct NftConnKey(Conntrack.ConntrackTuple Tuple, ushort Zone);

/// <summary>What conntrack holds for a remembered connection: none (evicted), a live one, or a TCP one
/// already closed (TIME_WAIT, CLOSE: nf_conncount ditches it).</summary>
public enum NftConnPresence { Gone, Live, Closed }

/// <summary>
/// What a NAT statement asks of nf_nat_setup_info for one packet: the address range (struct nf_nat_range2's
/// min_addr/max_addr, parsed once when the ruleset loads; null: NF_NAT_RANGE_MAP_IPS unset, the address stays),
/// the port range, flags.
/// </summary>
public sealed record NatAction(string Kind, IpAddr? AddressMin, int? PortMin, int? PortMax, string RuleText)
{
    /// <summary>The last address of the range (null: <see cref="AddressMin"/> alone).</summary>
    public IpAddr? AddressMax { get; init; }
    /// <summary>The address range as nft lists it: one address, a prefix <c>a/n</c> or a range <c>a-b</c> (null: none).</summary>
    public string? Address => AddressMin is { } min ? NftNatAddress.Text(min, AddressMax ?? min) : null;
    /// <summary>NF_NAT_RANGE_NETMAP (<c>snat ip prefix to ...</c>): the range's network bits replace the address's, its host bits stay.</summary>
    public bool Netmap { get; init; }
    /// <summary>The statement's flags as nft writes them: random, fully-random, persistent.</summary>
    public IReadOnlyList<string> Flags { get; init; } = Array.Empty<string>();
    /// <summary>NF_NAT_RANGE_PROTO_RANDOM_ALL: random or fully-random.</summary>
    public bool RandomAll => Flags.Contains("random") || Flags.Contains("fully-random");
    /// <summary>In an inet table, the statement's family (<c>snat ip6 to</c>, or the one the rule's matches fix); null: any.</summary>
    public IpFamily? Family { get; init; }

    /// <summary>
    /// nft_nat_inet_eval: a statement of the other family than the packet's does nothing, the rule goes on
    /// (NFT_CONTINUE: its next rule runs; measured on 6.18 with an inet table's `snat ip6 to` then a drop rule).
    /// </summary>
    internal static bool OfFamily(IpFamily? family, INftPacket p) =>
        family is not { } f || NftSelector.NetProto(p) == (f == IpFamily.V4 ? L3.V4 : L3.V6);
}

public sealed record NftChainRun(NftChain Chain, NftRule? Rule, string Verdict, string? By);

/// <summary>
/// Result of one hook. Besides the agreed fields: CtMark (a <c>ct mark set</c> value, for the
/// conntrack entry), Notrack, and Unsupported (rules met that were loaded as unsupported).
/// </summary>
public sealed record NftHookResult(string Verdict, IReadOnlyList<NftChainRun> Runs, NatAction? Nat, string? Reject, IReadOnlyList<string> Logs)
{
    /// <summary>The synproxy statement (or SYNPROXY target) that took a SYN or an ACK (stolen, or an ACK without a valid cookie dropped).</summary>
    public SynproxyInfo? Synproxy { get; init; }
    public uint? CtMark { get; init; }
    /// <summary>The ct timeout object the last <c>ct timeout set</c> for this packet's protocol named (for the conntrack entry).</summary>
    public NftObject? CtTimeout { get; init; }
    /// <summary>The timeout policy of the conntrack template an xt_CT --timeout target attached (raw table): a new connection takes it.</summary>
    public Conntrack.ConntrackTimeoutPolicy? CtTemplateTimeout { get; init; }
    /// <summary>The ct helper object the first <c>ct helper set</c> for this packet's protocol and family named (for the conntrack entry).</summary>
    public NftObject? CtHelper { get; init; }
    /// <summary>The helper of a conntrack template (iptables <c>-j CT --helper</c>), for nf_conntrack_in.</summary>
    public Conntrack.ConntrackHelper? CtTemplateHelper { get; init; }
    /// <summary>The zone of a conntrack template (<c>ct zone set</c>, <c>-j CT --zone</c>), for nf_conntrack_in.</summary>
    public Conntrack.ConntrackZone? CtTemplateZone { get; init; }
    /// <summary>The connection's labels as rules left them (<c>ct label set</c>, connlabel --set), for the conntrack entry.</summary>
    public UInt128? CtLabels { get; init; }
    public bool Notrack { get; init; }
    public IReadOnlyList<NftRule> UnsupportedRules { get; init; } = Array.Empty<NftRule>();
    /// <summary>What rules met that the model cannot know ("unsupported: ..."): their expression did not match.</summary>
    public IReadOnlyList<string> Unknowns { get; init; } = Array.Empty<string>();
    /// <summary>Random choices rules made for this packet at this hook, in order.</summary>
    public IReadOnlyList<NftRandomDecision> Decisions { get; init; } = Array.Empty<NftRandomDecision>();
    /// <summary>What statements the model describes without modelling said for this packet (ct event set, ct helper set ...), for the trace.</summary>
    public IReadOnlyList<string> Notes { get; init; } = Array.Empty<string>();
    /// <summary>The fwd statement that took the packet (Verdict "stolen"): where it is transmitted.</summary>
    internal FwdStmt? Fwd { get; init; }
    /// <summary>The dup statements that ran, in order, each with the packet as it was then.</summary>
    internal IReadOnlyList<(DupStmt Dup, byte[] Network)> Dups { get; init; } = Array.Empty<(DupStmt, byte[])>();
}

/// <summary>An expression whose validate callback refuses some hooks (nft_chain_validate_hooks): a base chain
/// holding it, or jumping to a chain that does, at another hook is refused at commit.</summary>
internal interface IHookRestricted
{
    /// <summary>Why <paramref name="hook"/> of a <paramref name="family"/> table refuses it; null where it is allowed.</summary>
    string? HookProblem(NftFamily family, NftHookPoint hook);
    /// <summary>The word a refusal names.</summary>
    string Keyword { get; }
}
