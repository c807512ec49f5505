using System.Globalization;
using PktFlow.Wire;

namespace PktFlow.Netfilter.Ipset;

/// <summary>An ipset command the kernel (or ipset 7.17 itself) refuses; the message is ipset's, the token what it names.</summary>
public sealed class IpSetException(string message, string? token = null) : Exception(message)
{
    public string? Token { get; } = token;
}

/// <summary>
/// The ipsets of one network namespace (ip_set_net: sets are per netns) and the ipset commands that build
/// them: create/add/del/flush/destroy/swap/rename, given on the command line or as `ipset restore` /
/// `ipset save` / `ipset list -o save` lines. Checked with ipset v7.17 on 6.18 (docs/iptables.md).
/// </summary>
public sealed class IpSetTable
{
    private readonly List<IpSet> _sets = new();
    public IReadOnlyList<IpSet> Sets => _sets;
    public IpSet? Find(string name) => _sets.Find(s => s.Name == name);

    /// <summary>Leaves a set out of the model (a snapshot's set the model could not load whole).</summary>
    internal void Forget(string name) => _sets.RemoveAll(s => s.Name == name);

    /// <summary>
    /// Who references sets now (each namespace's iptables state, by its current rules): a set a rule holds is
    /// in use (ip_set_nfnl_get_byindex takes a reference, the match's destroy puts it), so ipset destroy and
    /// rename refuse it; a rule deleted, flushed or replaced lets it go.
    /// </summary>
    internal readonly List<Func<IEnumerable<IpSet>>> Referrers = new();

    /// <summary>ipset 7.17's words for IPSET_ERR_REFERENCED on rename (checked on 6.18).</summary>
    private const string RenameReferenced = "Set cannot be renamed: it is in use by another system";

    private bool InUse(IpSet s) => Referrers.Exists(r => r().Contains(s));

    /// <summary>
    /// One command: the words after `ipset` (or one restore line). -exist / -! anywhere makes create of an
    /// identical set, add of a present element and del of an absent one succeed. Returns false for commands
    /// that change nothing (list, save, test, version, help).
    /// </summary>
    public bool Apply(IReadOnlyList<string> args)
    {
        var w = new List<string>();
        bool exist = false;
        foreach (var a in args)
        {
            if (a is "-exist" or "-!") exist = true;
            else if (a is "-q" or "-quiet" or "-n" or "-name" or "-o" && w.Count == 0) { }
            else w.Add(a);
        }
        if (w.Count == 0) throw new IpSetException("No command specified.");
        string Arg(int i, string what) => i < w.Count ? w[i] : throw new IpSetException($"Missing mandatory argument: {what}", w[0]);
        IpSet Set(int i) { var n = Arg(i, "set name"); return Find(n) ?? throw new IpSetException("The set with the given name does not exist", n); }
        switch (w[0])
        {
            case "create" or "n" or "-N" or "--create": Create(w, exist); return true;
            case "add" or "a" or "-A" or "--add":
            {
                var s = Set(1);
                foreach (var e in Elements(s, Arg(2, "element"), w.Skip(3).ToList(), adding: true))
                {
                    if (s.IndexOf(e) is var i and >= 0)
                    {
                        if (!exist) throw new IpSetException("Element cannot be added to the set: it's already added", w[2]);
                        s.Replace(i, e); // -exist re-adds: the new timeout, comment and nomatch replace the old
                        continue;
                    }
                    if (s.Elements.Count >= s.MaxElem) throw new IpSetException($"Hash is full, cannot add more elements", w[2]);
                    s.Add(e);
                }
                return true;
            }
            case "del" or "d" or "-D" or "--del":
            {
                var s = Set(1);
                foreach (var e in Elements(s, Arg(2, "element"), w.Skip(3).ToList(), adding: false))
                {
                    if (s.IndexOf(e) is var i and >= 0) s.RemoveAt(i);
                    else if (!exist) throw new IpSetException("Element cannot be deleted from the set: it's not added", w[2]);
                }
                return true;
            }
            case "flush" or "f" or "-F" or "--flush":
                if (w.Count > 1) Set(1).Flush(); else foreach (var s in _sets) s.Flush();
                return true;
            case "destroy" or "x" or "-X" or "--destroy":
            {
                var gone = w.Count > 1 ? new List<IpSet> { Set(1) } : _sets.ToList();
                if (gone.Find(InUse) is { } used) throw new IpSetException("Set cannot be destroyed: it is in use by a kernel component", used.Name);
                foreach (var s in gone) _sets.Remove(s);
                return true;
            }
            case "swap" or "w" or "-W" or "--swap":
            {
                var (a, b) = (Set(1), Set(2));
                // ip_set_swap: the types' families must agree (IPSET_ERR_TYPE_MISMATCH otherwise)
                if (a.Kind != b.Kind || a.V6 != b.V6) throw new IpSetException("The sets cannot be swapped: their type does not match", w[2]);
                a.SwapWith(b);
                return true;
            }
            case "rename" or "e" or "-E" or "--rename":
            {
                var s = Set(1); var to = Arg(2, "new set name");
                if (Find(to) is not null) throw new IpSetException("Set cannot be renamed: a set with the new name already exists", to);
                // ip_set_rename: IPSET_ERR_REFERENCED while a rule holds it
                if (InUse(s)) throw new IpSetException(RenameReferenced, s.Name);
                s.Name = to;
                return true;
            }
            case "list" or "-L" or "save" or "-S" or "test" or "-T" or "version" or "-V" or "help" or "-h": return false;
        }
        throw new IpSetException($"unsupported: ipset command '{w[0]}'", w[0]);
    }

    private void Create(List<string> w, bool exist)
    {
        if (w.Count < 3) throw new IpSetException("Missing mandatory argument: set type", w[0]);
        var name = w[1];
        if (name.Length > 31) throw new IpSetException("Syntax error: setname is longer than 31 characters", name);
        var kind = w[2] switch
        {
            "hash:ip" or "iphash" => IpSetKind.HashIp, "hash:net" or "nethash" => IpSetKind.HashNet,
            "hash:ip,port" or "ipporthash" => IpSetKind.HashIpPort, "hash:net,port" or "netporthash" => IpSetKind.HashNetPort,
            "hash:ip,port,ip" or "ipportiphash" => IpSetKind.HashIpPortIp, "hash:ip,port,net" or "ipportnethash" => IpSetKind.HashIpPortNet,
            "bitmap:port" or "portmap" => IpSetKind.BitmapPort,
            _ => throw new IpSetException($"unsupported: ipset type '{w[2]}' (hash:ip, hash:net, hash:ip,port, hash:net,port, hash:ip,port,ip, hash:ip,port,net and bitmap:port are modelled)", w[2]),
        };
        bool v6 = false, counters = false, comments = false; uint? timeout = null; uint maxElem = 65536;
        ushort first = 0, last = 0; bool range = false;
        for (int i = 3; i < w.Count; i++)
        {
            string V() => i + 1 < w.Count ? w[++i] : throw new IpSetException($"Missing mandatory argument of '{w[i]}'", w[i]);
            uint U() { var v = V(); return uint.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new IpSetException($"Syntax error: '{v}' is invalid as number", v); }
            switch (w[i])
            {
                case "family" when kind != IpSetKind.BitmapPort:
                    var f = V();
                    v6 = f switch { "inet" or "ipv4" => false, "inet6" or "ipv6" => true, _ => throw new IpSetException($"Syntax error: unknown family {f}", f) };
                    break;
                case "-4" when kind != IpSetKind.BitmapPort: v6 = false; break;
                case "-6" when kind != IpSetKind.BitmapPort: v6 = true; break;
                case "hashsize" or "bucketsize" or "initval" or "revision" when kind != IpSetKind.BitmapPort: V(); break;
                case "maxelem" when kind != IpSetKind.BitmapPort: maxElem = U(); break;
                case "timeout": timeout = U(); break;
                case "counters": counters = true; break;
                case "comment": comments = true; break;
                case "forceadd": break;
                case "netmask" when kind == IpSetKind.HashIp:
                    var nm = V();
                    if (nm != (v6 ? "128" : "32")) throw new IpSetException($"unsupported: hash:ip netmask {nm} (elements stored as networks)", nm);
                    break;
                case "range" when kind == IpSetKind.BitmapPort:
                    (first, last) = PortRange(V());
                    range = true;
                    break;
                default:
                    throw new IpSetException($"unsupported: create option '{w[i]}' for {IpSet.TypeName(kind)}", w[i]);
            }
        }
        if (kind == IpSetKind.BitmapPort && !range) throw new IpSetException("Missing mandatory argument: range", name);
        if (Find(name) is { } old)
        {
            // ip_set_create with IPSET_FLAG_EXIST: the same type and family is no error
            if (exist && old.Kind == kind && old.V6 == v6) return;
            throw new IpSetException("Set cannot be created: set with the same name already exists", name);
        }
        var s = new IpSet(name, kind, v6);
        s.Configure(timeout, counters, comments, maxElem, first, last);
        _sets.Add(s);
    }

    /// <summary>The elements one add/del names (hash:ip takes a CIDR or a range, ports a range: the kernel adds each).</summary>
    private static List<IpSetElement> Elements(IpSet s, string text, List<string> opts, bool adding)
    {
        uint? timeout = null; string? comment = null; bool nomatch = false; ulong packets = 0, bytes = 0;
        for (int i = 0; i < opts.Count; i++)
        {
            string V() => i + 1 < opts.Count ? opts[++i] : throw new IpSetException($"Missing mandatory argument of '{opts[i]}'", opts[i]);
            switch (opts[i])
            {
                case "timeout" when adding:
                    if (s.Timeout is null) throw new IpSetException("Timeout cannot be used: set was created without timeout support", opts[i]);
                    timeout = uint.TryParse(V(), out var t) ? t : throw new IpSetException($"Syntax error: '{opts[i]}' is invalid as number", opts[i]);
                    break;
                case "comment" when adding:
                    if (!s.Comments) throw new IpSetException("Comment cannot be used: set was created without comment support", opts[i]);
                    comment = V();
                    break;
                case "packets" or "bytes" when adding:
                    if (!s.Counters) throw new IpSetException("Packet/byte counters cannot be used: set was created without counter support", opts[i]);
                    var k = opts[i]; var n = ulong.TryParse(V(), out var c) ? c : throw new IpSetException($"Syntax error: '{opts[i]}' is invalid as number", opts[i]);
                    if (k == "packets") packets = n; else bytes = n;
                    break;
                case "nomatch" when s.HasNomatch: nomatch = adding; break;
                default: throw new IpSetException($"unsupported: element option '{opts[i]}' for {s.Type}", opts[i]);
            }
        }
        var parts = text.Split(',');
        if (parts.Length != s.Dimension) throw new IpSetException($"Syntax error: {s.Type} elements have {s.Dimension} part{(s.Dimension > 1 ? "s" : "")}: '{text}'", text);
        var list = new List<IpSetElement>();
        if (s.Kind == IpSetKind.BitmapPort)
        {
            var (lo, hi) = PortRange(parts[0]);
            if (lo < s.FirstPort || hi > s.LastPort) throw new IpSetException("Element is out of the range of the set", text);
            for (int p = lo; p <= hi; p++) list.Add(new IpSetElement(default, 0, 0, (ushort)p, default, 0, false));
            return list;
        }
        var firsts = s.FirstIsNet ? new List<(IpAddr, int)> { Net(parts[0], s.V6) } : Hosts(parts[0], s.V6);
        var ports = s.HasPort ? ProtoPorts(parts[1], s.V6) : new List<(byte, ushort)> { (0, 0) };
        (IpAddr Ip, int Cidr) third = s.Dimension < 3 ? (default, 0) : s.ThirdIsNet ? Net(parts[2], s.V6) : Host(parts[2], s.V6);
        if ((long)firsts.Count * ports.Count > 65536) throw new IpSetException("unsupported: an add expanding to more than 65536 elements", text);
        foreach (var (ip, cidr) in firsts)
            foreach (var (proto, port) in ports)
                list.Add(new IpSetElement(ip, cidr, proto, port, third.Ip, third.Cidr, nomatch) { Timeout = timeout ?? s.Timeout, Comment = comment, Packets = packets, Bytes = bytes });
        return list;
    }

    private static IpAddr Addr(string v, bool v6) =>
        IpAddr.TryParse(v, out var a) && a.IsV6 == v6 ? a : throw new IpSetException($"Syntax error: cannot parse {v}: resolving to {(v6 ? "IPv6" : "IPv4")} address failed", v);

    private static (IpAddr, int) Host(string v, bool v6) => (Addr(v, v6), v6 ? 128 : 32);

    /// <summary>A net dimension: IP[/CIDR]; prefix 0 is refused (IPSET_ERR_INVALID_CIDR), host bits are cleared.</summary>
    private static (IpAddr, int) Net(string v, bool v6)
    {
        if (v.Contains('-') && !v6) throw new IpSetException($"unsupported: an address range '{v}' in a net dimension (write the prefixes)", v);
        var p = v.Split('/');
        var a = Addr(p[0], v6);
        int max = v6 ? 128 : 32, cidr = max;
        if (p.Length > 1 && (!int.TryParse(p[1], out cidr) || cidr < 1 || cidr > max))
            throw new IpSetException("The value of the CIDR parameter of the IP address is invalid", v);
        return (a.Mask(cidr), cidr);
    }

    /// <summary>An ip dimension: IP, IP/CIDR or FROM-TO of IPv4 (each address added), IPv6 one address only.</summary>
    private static List<(IpAddr, int)> Hosts(string v, bool v6)
    {
        int max = v6 ? 128 : 32;
        if (v6)
        {
            if (v.Contains('/') || v.Contains('-')) throw new IpSetException("unsupported: IPv6 ranges and prefixes in an ip dimension", v);
            return new() { Host(v, true) };
        }
        uint lo, hi;
        if (v.Split('-') is [var a, var b]) { lo = Addr(a, false).V4Value; hi = Addr(b, false).V4Value; if (hi < lo) throw new IpSetException("Syntax error: range is invalid", v); }
        else if (v.Split('/') is [var n, var c])
        {
            if (!int.TryParse(c, out var cidr) || cidr < 1 || cidr > 32) throw new IpSetException("The value of the CIDR parameter of the IP address is invalid", v);
            lo = Addr(n, false).Mask(cidr).V4Value; hi = lo | (cidr == 32 ? 0 : uint.MaxValue >> cidr);
        }
        else { lo = hi = Addr(v, false).V4Value; }
        if (hi - lo >= 65536) throw new IpSetException("unsupported: an add expanding to more than 65536 elements", v);
        var list = new List<(IpAddr, int)>();
        for (ulong x = lo; x <= hi; x++) list.Add((IpAddr.V4((uint)x), max));
        return list;
    }

    private static (ushort, ushort) PortRange(string v)
    {
        var p = v.Split('-');
        ushort P(string x) => ushort.TryParse(x, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
            : throw new IpSetException($"Syntax error: cannot parse '{x}' as a port number (service names are not resolved)", x);
        if (p.Length > 2) throw new IpSetException($"Syntax error: bad port range '{v}'", v);
        var (lo, hi) = (P(p[0]), P(p[^1]));
        return lo <= hi ? (lo, hi) : (hi, lo);
    }

    private static readonly Dictionary<string, byte> PortProtos = new() { ["tcp"] = 6, ["udp"] = 17, ["sctp"] = 132, ["udplite"] = 136 };

    /// <summary>
    /// [PROTO:]PORT[-PORT] (ipset_parse_proto_port): no protocol means tcp; tcp/udp/sctp/udplite take ports,
    /// icmp/icmpv6 take TYPE/CODE or a name (stored type &lt;&lt; 8 | code), any other protocol port 0.
    /// </summary>
    internal static List<(byte, ushort)> ProtoPorts(string v, bool v6)
    {
        int colon = v.IndexOf(':');
        string proto = colon < 0 ? "tcp" : v[..colon].ToLowerInvariant(), rest = colon < 0 ? v : v[(colon + 1)..];
        if (PortProtos.TryGetValue(proto, out var pn))
        {
            var (lo, hi) = PortRange(rest);
            return Enumerable.Range(lo, hi - lo + 1).Select(p => (pn, (ushort)p)).ToList();
        }
        if (proto is "icmp" or "icmpv6" or "ipv6-icmp")
        {
            if ((proto == "icmp") == v6) throw new IpSetException($"Syntax error: protocol {proto} in a set of family {(v6 ? "inet6" : "inet")}", v);
            var (type, code) = Iptables.IptablesRestore.IcmpTypeCode(rest, v6)
                ?? throw new IpSetException($"Syntax error: cannot parse '{rest}' as an ICMP type", rest);
            return new() { ((byte)(v6 ? 58 : 1), (ushort)(type << 8 | code)) };
        }
        byte num = byte.TryParse(proto, out var b) ? b : Iptables.IptablesRestore.ProtocolNumber(proto)
            ?? throw new IpSetException($"Syntax error: cannot parse '{proto}' as a protocol", proto);
        if (rest != "0") throw new IpSetException($"Syntax error: Protocol {proto} can be used with pseudo port value 0 only.", v);
        return new() { (num, 0) };
    }
}
