using PktFlow.Wire;

namespace PktFlow.Netfilter.Ipset;

/// <summary>The set types the model knows (net/netfilter/ipset/ip_set_hash_*.c, ip_set_bitmap_port.c).</summary>
public enum IpSetKind { HashIp, HashNet, HashIpPort, HashNetPort, HashIpPortIp, HashIpPortNet, BitmapPort }

/// <summary>
/// One element as the kernel stores it: addresses already masked to their prefix, the port dimension as
/// (protocol, port) with ICMP's type and code in the port (type &lt;&lt; 8 | code, ip_set_getport.c), the
/// nomatch flag of the net types, and the extensions the listing shows (timeout, counters, comment).
/// </summary>
public sealed record IpSetElement(IpAddr Ip, int Cidr, byte Proto, ushort Port, IpAddr Ip2, int Cidr2, bool Nomatch)
{
    public uint? Timeout { get; init; }
    public string? Comment { get; init; }
    public ulong Packets { get; init; }
    public ulong Bytes { get; init; }
}

/// <summary>
/// An ipset of one network namespace (ip_set_create / ip_set_uadt). Matching follows the types' kadt
/// functions: exact keys for ip and port dimensions; for a net dimension the most specific prefix holding
/// the packet's address wins (mtype_test_cidrs walks the set's prefix lengths from the longest), and
/// when that element is nomatch the answer is -ENOTEMPTY (<see cref="Test"/> returns -1).
/// </summary>
public sealed class IpSet
{
    public string Name { get; internal set; }
    public IpSetKind Kind { get; private set; }
    public bool V6 { get; private set; }
    public uint? Timeout { get; private set; }
    public bool Counters { get; private set; }
    public bool Comments { get; private set; }
    public uint MaxElem { get; private set; } = 65536;
    /// <summary>bitmap:port's range (first_port, last_port).</summary>
    public ushort FirstPort { get; private set; }
    public ushort LastPort { get; private set; }
    private List<IpSetElement> _elements = new();
    public IReadOnlyList<IpSetElement> Elements => _elements;

    internal IpSet(string name, IpSetKind kind, bool v6) { Name = name; Kind = kind; V6 = v6; }

    public static string TypeName(IpSetKind k) => k switch
    {
        IpSetKind.HashIp => "hash:ip", IpSetKind.HashNet => "hash:net", IpSetKind.HashIpPort => "hash:ip,port",
        IpSetKind.HashNetPort => "hash:net,port", IpSetKind.HashIpPortIp => "hash:ip,port,ip", IpSetKind.HashIpPortNet => "hash:ip,port,net",
        _ => "bitmap:port",
    };
    public string Type => TypeName(Kind);

    /// <summary>The type's dimension (IPSET_DIM_ONE..THREE): a match naming fewer src/dst flags never matches (ip_set_test).</summary>
    public int Dimension => Kind switch
    {
        IpSetKind.HashIp or IpSetKind.HashNet or IpSetKind.BitmapPort => 1,
        IpSetKind.HashIpPort or IpSetKind.HashNetPort => 2,
        _ => 3,
    };

    /// <summary>IPSET_TYPE_NOMATCH: the types with a net dimension.</summary>
    public bool HasNomatch => Kind is IpSetKind.HashNet or IpSetKind.HashNetPort or IpSetKind.HashIpPortNet;
    internal bool FirstIsNet => Kind is IpSetKind.HashNet or IpSetKind.HashNetPort;
    internal bool ThirdIsNet => Kind == IpSetKind.HashIpPortNet;
    internal bool HasPort => Kind is not (IpSetKind.HashIp or IpSetKind.HashNet);

    internal void Configure(uint? timeout, bool counters, bool comments, uint maxElem, ushort first, ushort last)
    { Timeout = timeout; Counters = counters; Comments = comments; MaxElem = maxElem; FirstPort = first; LastPort = last; }

    /// <summary>ipset swap: the two sets exchange everything but their names, so rules naming either follow the name.</summary>
    internal void SwapWith(IpSet o)
    {
        (Kind, o.Kind) = (o.Kind, Kind); (V6, o.V6) = (o.V6, V6); (Timeout, o.Timeout) = (o.Timeout, Timeout);
        (Counters, o.Counters) = (o.Counters, Counters); (Comments, o.Comments) = (o.Comments, Comments);
        (MaxElem, o.MaxElem) = (o.MaxElem, MaxElem); (FirstPort, o.FirstPort) = (o.FirstPort, FirstPort);
        (LastPort, o.LastPort) = (o.LastPort, LastPort); (_elements, o._elements) = (o._elements, _elements);
    }

    internal int IndexOf(IpSetElement e) => _elements.FindIndex(x => SameKey(x, e));
    internal void Add(IpSetElement e) => _elements.Add(e);
    internal void Replace(int i, IpSetElement e) => _elements[i] = e;
    internal void RemoveAt(int i) => _elements.RemoveAt(i);
    internal void Flush() => _elements.Clear();

    private static bool SameKey(IpSetElement a, IpSetElement b) =>
        a.Ip == b.Ip && a.Cidr == b.Cidr && a.Proto == b.Proto && a.Port == b.Port && a.Ip2 == b.Ip2 && a.Cidr2 == b.Cidr2;

    /// <summary>
    /// The type's test for a packet's key: 1 a match, 0 none, -1 the most specific element is nomatch
    /// (-ENOTEMPTY, which ip_set_test turns into no match unless --return-nomatch). An element whose
    /// timeout has run out <paramref name="elapsedNs"/> after the capture began is gone
    /// (ip_set_timeout_expired); the lab or snapshot has just set its timeout, so it counts from there.
    /// </summary>
    public int Test(IpAddr ip, byte proto, ushort port, IpAddr ip2, long elapsedNs = 0)
    {
        if (Kind == IpSetKind.BitmapPort)
        {
            if (port < FirstPort || port > LastPort) return 0;
            foreach (var e in _elements) if (e.Port == port && !Expired(e, elapsedNs)) return 1;
            return 0;
        }
        int best = -1; bool nomatch = false;
        foreach (var e in _elements)
        {
            if (Expired(e, elapsedNs)) continue;
            if (HasPort && (e.Proto != proto || e.Port != port)) continue;
            if (FirstIsNet ? ip.Family != e.Ip.Family || ip.Mask(e.Cidr) != e.Ip : ip != e.Ip) continue;
            if (Dimension == 3 && (ThirdIsNet ? ip2.Family != e.Ip2.Family || ip2.Mask(e.Cidr2) != e.Ip2 : ip2 != e.Ip2)) continue;
            int cidr = FirstIsNet ? e.Cidr : ThirdIsNet ? e.Cidr2 : 0;
            if (cidr > best) { best = cidr; nomatch = e.Nomatch; }
        }
        return best < 0 ? 0 : nomatch ? -1 : 1;
    }

    /// <summary>timeout 0 is an element that never times out (IPSET_ELEM_PERMANENT).</summary>
    private static bool Expired(IpSetElement e, long elapsedNs) => e.Timeout is { } t and > 0 && elapsedNs >= t * 1_000_000_000L;
}
