using PktFlow.Wire;

namespace PktFlow.Netfilter.Nftables;

/// <summary>The socket expression (`socket transparent|mark|wildcard`) and the tproxy statement.</summary>
internal sealed partial class NftParser
{
    private NftSelector SocketSel(NftTok key) => key.Text switch
    {
        "transparent" => new SocketSelector(SocketKey.Transparent) { Text = "socket transparent" },
        "mark" => new SocketSelector(SocketKey.Mark) { Text = "socket mark" },
        "wildcard" => new SocketSelector(SocketKey.Wildcard) { Text = "socket wildcard" },
        _ => throw Err(key, $"unsupported: socket {key.Text} (transparent, mark and wildcard are modelled)"),
    };

    /// <summary>
    /// tproxy [ip|ip6] to ADDRESS[:PORT] | :PORT. nft refuses it without a transport protocol in the
    /// rule before it, and the kernel outside prerouting (nft_tproxy_validate).
    /// </summary>
    private NftStmt Tproxy(NftChain ch, NftRule rule)
    {
        var at = Take();
        byte family = 0;
        if (TakeIf("ip")) family = 2;
        else if (TakeIf("ip6")) family = 10;
        var table = ch.Table.Family;
        if (table is not (NftFamily.Ip or NftFamily.Ip6 or NftFamily.Inet)) throw Err(at, "tproxy is only valid in the ip, ip6 and inet families");
        if ((family == 10 && table == NftFamily.Ip) || (family == 2 && table == NftFamily.Ip6))
            throw Err(at, "Conflicting network layer protocols");
        if (family == 0 && table != NftFamily.Inet) family = table == NftFamily.Ip ? (byte)2 : (byte)10;
        if (!TakeIf("to")) throw Err(Cur, "syntax error, expected 'to' after tproxy");
        var v = Take(); var w = v.Text;
        string? addr = null, port = null;
        if (w.StartsWith(':')) port = w[1..];
        else if (w.StartsWith('['))
        {
            int rb = w.IndexOf(']');
            if (rb < 0) throw Err(v, $"bad address '{w}'");
            addr = w[1..rb];
            if (rb + 1 < w.Length && w[rb + 1] == ':') port = w[(rb + 2)..];
        }
        else if (w.Count(c => c == ':') == 1) { var i = w.IndexOf(':'); addr = w[..i]; port = w[(i + 1)..]; }
        else addr = w;
        var stmt = new TproxyStmt { Family = family };
        if (addr is not null)
        {
            if (!IpAddr.TryParse(addr, out var a)) throw Err(v, $"bad tproxy address '{addr}'");
            byte af = a.IsV4 ? (byte)2 : (byte)10;
            if (family == 0) family = af; // inet: the address says which (nft lists `tproxy to ADDR`)
            if (af != family) throw Err(v, "Conflicting network layer protocols");
            stmt.Address = a;
        }
        if (port is not null)
        {
            if (!ushort.TryParse(port, out var p) || p == 0) throw Err(v, $"bad tproxy port '{port}'");
            stmt.Port = p;
        }
        if (addr is null && port is null) throw Err(v, "tproxy needs an address or a port");
        if (!_transportKnown) throw Err(at, "Transparent proxy support requires transport protocol match");
        if (ch.Hook is { } hook && hook != NftHookPoint.Prerouting) throw Err(at, $"tproxy is only valid in prerouting (nft_tproxy_validate), not in a {hook.ToString().ToLowerInvariant()} chain");
        return stmt;
    }
}
