using PktFlow.Wire;

namespace PktFlow.Netfilter.Nftables;

/// <summary>The dup and fwd statements (nft_dup_ipv4/ipv6/netdev, nft_fwd_netdev).</summary>
internal sealed partial class NftParser
{
    /// <summary>
    /// dup to ADDRESS [device DEV] (ip, ip6, inet) or dup to DEV (netdev): a copy goes out; the original
    /// packet continues with the next statement.
    /// </summary>
    private NftStmt Dup(NftChain ch)
    {
        var at = Take();
        if (!TakeIf("to")) throw Err(Cur, "syntax error, expected 'to' after dup");
        if (ch.Table.Family == NftFamily.Netdev)
            return IsMapKey() ? new DupStmt { DeviceMap = DeviceMapBody() } : new DupStmt { Device = DeviceName(Take()) };
        if (ch.Table.Family is not (NftFamily.Ip or NftFamily.Ip6 or NftFamily.Inet)) throw Err(at, "dup is only valid in the ip, ip6, inet and netdev families");
        if (IsMapKey())
        {
            var key = Selector();
            if (!TakeIf("map")) throw Err(Cur, $"unsupported: dup to {key.Text} (an address from a map or a constant is modelled)");
            var map = MapBody(key, () => DupAddress(ch, Take()), set => set.DataTypes is [{ Kind: NftTypeKind.Ipv4 or NftTypeKind.Ipv6 }] ? null : "not to addresses");
            return new DupStmt { AddressMap = map, Device = TakeIf("device") ? DeviceName(Take()) : null };
        }
        var v = Take();
        var addr = DupAddress(ch, v);
        string? dev = null;
        if (TakeIf("device")) dev = DeviceName(Take());
        return new DupStmt { Address = addr, Device = dev };
    }

    /// <summary>The next words are an expression (<c>ip saddr map { ... }</c>) rather than an address or a name.</summary>
    private bool IsMapKey() => Cur.Kind == TokKind.Word && SelectorWords.Contains(Cur.Text);

    /// <summary><c>KEY map { k : "dev", ... }</c>: a device per packet (nft resolves the names to ifindexes when it loads).</summary>
    private NftMapLookup DeviceMapBody()
    {
        var key = Selector();
        if (!TakeIf("map")) throw Err(Cur, $"unsupported: a device from an expression ('{key.Text}'); a device name or a map to names is modelled");
        return MapBody(key, () => DeviceName(Take()), set => set.DataTypes is [{ Kind: NftTypeKind.Ifname }] || set.DataText == "iface_index" ? null : "not to devices");
    }

    private IpAddr DupAddress(NftChain ch, NftTok v)
    {
        if (!IpAddr.TryParse(v.Text, out var addr))
            throw Err(v, v.Kind == TokKind.Word && SelectorWords.Contains(v.Text)
                ? $"unsupported: dup to {v.Text} (only a constant address is modelled)" : $"bad dup address '{v.Text}'");
        if ((addr.Family == IpFamily.V6) != (ch.Table.Family == NftFamily.Ip6) && ch.Table.Family != NftFamily.Inet) throw Err(v, "Conflicting network layer protocols");
        return addr;
    }

    /// <summary>fwd to DEV | fwd ip|ip6 to ADDRESS device DEV (netdev only): the packet leaves by DEV and the rule set ends (NF_STOLEN).</summary>
    private NftStmt Fwd(NftChain ch)
    {
        var at = Take();
        if (ch.Table.Family != NftFamily.Netdev) throw Err(at, "fwd statement is only supported in the netdev family");
        IpAddr? addr = null;
        if (Cur.Text is "ip" or "ip6")
        {
            bool v6 = Take().Text == "ip6";
            if (!TakeIf("to")) throw Err(Cur, "syntax error, expected 'to'");
            var a = Take();
            if (!IpAddr.TryParse(a.Text, out var parsed) || (parsed.Family == IpFamily.V6) != v6) throw Err(a, $"bad fwd address '{a.Text}'");
            addr = parsed;
            if (!TakeIf("device")) throw Err(Cur, "syntax error, fwd ip to ADDRESS needs 'device'");
            return new FwdStmt { Address = addr, Device = DeviceName(Take()) };
        }
        if (!TakeIf("to")) throw Err(Cur, "syntax error, expected 'to' after fwd");
        return IsMapKey() ? new FwdStmt { DeviceMap = DeviceMapBody() } : new FwdStmt { Device = DeviceName(Take()) };
    }

    private string DeviceName(NftTok t)
    {
        if (t.Kind is not (TokKind.Word or TokKind.String) || (t.Kind == TokKind.Word && SelectorWords.Contains(t.Text)))
            throw Err(t, $"unsupported: a device from an expression ('{t.Text}'); a device name is modelled");
        return t.Text;
    }
}
