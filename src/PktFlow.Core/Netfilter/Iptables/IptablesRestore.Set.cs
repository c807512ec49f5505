using System.Buffers.Binary;
using PktFlow.Netfilter.Ipset;
using PktFlow.Netfilter.Nftables;

namespace PktFlow.Netfilter.Iptables;

/// <summary>
/// xt_set's set_match_v4 (ip_set_test): the packet's key, each dimension from the source or destination as
/// the rule's flags say, tested in the set. Fewer flags than the set's dimension, or a set of the other
/// family, is no match (bitmap:port has family NFPROTO_UNSPEC: it serves IPv4 and IPv6 packets alike); a nomatch element answers no (with --return-nomatch: yes, and a plain element no);
/// ! inverts the answer. Counter updates have no effect on the verdict.
/// </summary>
internal sealed class SetMatch : NftStmt
{
    public IpSet Set = null!; public bool[] Src = Array.Empty<bool>(); public bool Negate, ReturnNomatch;

    public override bool Eval(NftEvalCtx c) => (Test(c.P, Set, Src, ReturnNomatch, c.State.NowNs - (c.State.StartNs ?? c.State.NowNs)) > 0) ^ Negate;

    internal static int Test(INftPacket p, IpSet set, bool[] src, bool returnNomatch, long elapsedNs)
    {
        var n = p.Network;
        if (n.Length < 1) return 0;
        bool v6 = n[0] >> 4 == 6;
        if (src.Length < set.Dimension || v6 != set.V6 && set.Kind != IpSetKind.BitmapPort) return 0;
        int r = Kadt(p, n, v6, set, src, elapsedNs);
        if (returnNomatch && set.HasNomatch && r != 0) r = -r;
        return r < 0 ? 0 : r;
    }

    /// <summary>The type's kadt: -EINVAL (a port the packet does not carry) is no match.</summary>
    private static int Kadt(INftPacket p, ReadOnlySpan<byte> n, bool v6, IpSet set, bool[] src, long elapsedNs)
    {
        if (set.Kind == IpSetKind.BitmapPort)
            // ip_set_get_ip_port: TCP and UDP only
            return Port(p, n, src[0]) is ({ } proto and (6 or 17), var port) ? set.Test(default, proto, port, default, elapsedNs) : 0;
        var ip = Addr(n, v6, src[0]);
        byte pr = 0; ushort po = 0;
        if (set.Dimension > 1)
        {
            if (Port(p, n, src[1]) is not ({ } x, var y)) return 0;
            (pr, po) = (x, y);
        }
        var ip2 = set.Dimension > 2 ? Addr(n, v6, src[2]) : default;
        return set.Test(ip, pr, po, ip2, elapsedNs);
    }

    private static PktFlow.Wire.IpAddr Addr(ReadOnlySpan<byte> n, bool v6, bool source) => v6
        ? (n.Length >= 40 ? PktFlow.Wire.IpAddr.ReadV6(n.Slice(source ? 8 : 24, 16)) : default)
        : (n.Length >= 20 ? PktFlow.Wire.IpAddr.ReadV4(n.Slice(source ? 12 : 16, 4)) : default);

    /// <summary>
    /// ip_set_get_ip4_port / ip_set_get_ip6_port: TCP, UDP, SCTP and UDP-Lite give the source or destination
    /// port, ICMP and ICMPv6 type &lt;&lt; 8 | code, any other protocol port 0; a non-first fragment of a
    /// protocol with ports, or a header cut short, has none.
    /// </summary>
    private static (byte? Proto, ushort Port) Port(INftPacket p, ReadOnlySpan<byte> n, bool source)
    {
        byte proto = p.L4Protocol; int off = p.TransportOffset;
        bool ports = proto is 6 or 17 or 132 or 136, icmp = proto is 1 or 58;
        if (proto == 0) return (null, 0);
        if (!ports && !icmp) return (proto, 0);
        if (off < 0 || off + 4 > n.Length) return (null, 0);
        if (icmp) return (proto, (ushort)(n[off] << 8 | n[off + 1]));
        return (proto, BinaryPrimitives.ReadUInt16BigEndian(n[(off + (source ? 0 : 2))..]));
    }
}

public static partial class IptablesRestore
{
    /// <summary>
    /// -m set [!] --match-set NAME src|dst[,...] [--return-nomatch] [! --update-counters] [! --update-subcounters]:
    /// a compat match (nft lists `xt match set`). The set must exist when the rule is added; iptables
    /// refuses the rule otherwise ("Set NAME doesn't exist.", checked with iptables 1.8.9 on 6.18).
    /// </summary>
    private static void SetOption(SetMatch m, string o, Func<string> value, bool negated, IptablesLoadOptions opt, Func<string, string, IptablesParseException> E)
    {
        switch (o)
        {
            case "--match-set" or "--set":
            {
                if (m.Src.Length > 0) throw E(o, "set: --match-set can be specified only once");
                var name = value(); var flags = value();
                m.Set = opt.IpSets?.Find(name) ?? throw new IptablesParseException("", 0, name, $"Set {name} doesn't exist.") { Refused = true };
                var dirs = flags.Split(',');
                if (dirs.Length > 6) throw E(flags, "Can't be more src/dst options than 6.");
                m.Src = dirs.Select(d => d switch { "src" => true, "dst" => false, _ => throw E(d, $"You must specify (the comma separated list of) 'src' or 'dst': '{flags}'") }).ToArray();
                m.Negate = negated;
                return;
            }
            case "--return-nomatch": if (negated) throw E(o, "set: --return-nomatch cannot be negated"); m.ReturnNomatch = true; return;
            // without ! they are the default; with ! the set's counters stop counting, which no verdict reads here
            case "--update-counters" or "--update-subcounters": return;
            case "--packets-eq" or "--packets-lt" or "--packets-gt" or "--bytes-eq" or "--bytes-lt" or "--bytes-gt":
                throw E(o, $"unsupported: set {o} (the elements' packet and byte counters are not modelled)");
        }
        throw E(o, $"unknown option '{o}' for match 'set'");
    }
}
