using PktFlow.Wire;

namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// dup: nf_dup_ipv4/ipv6 route a copy to the address (out of the device when given) and nf_dup_netdev sends
/// a copy out of the device; the original goes on. The copy is made of the packet as it is at the
/// statement, and traced as a child trace (<see cref="NfDup"/>).
/// </summary>
internal sealed class DupStmt : NftStmt
{
    public IpAddr? Address; public string? Device;
    /// <summary><c>dup to ip saddr map { ... }</c>, <c>dup to meta mark map { k : "dev" }</c>: the address or device
    /// from a map per packet (nft_lookup into the register nft_dup reads); a key no element holds ends the rule.</summary>
    public NftMapLookup? AddressMap, DeviceMap;
    internal override bool DrawsRandom => AddressMap?.Key.DrawsRandom == true || DeviceMap?.Key.DrawsRandom == true;

    public override bool Eval(NftEvalCtx c)
    {
        var dup = this;
        if (AddressMap is not null || DeviceMap is not null)
        {
            var address = Address; var device = Device;
            if (AddressMap is not null) { if (AddressMap.Find(c)?.Data is not IpAddr a) return false; address = a; }
            if (DeviceMap is not null) { if (DeviceMap.Find(c)?.Data is not string d) return false; device = d; }
            dup = new DupStmt { Address = address, Device = device };
        }
        (c.Dups ??= new()).Add((dup, c.P.Network.ToArray()));
        return true;
    }

    public override string ToString() => Address is { } a ? $"dup to {a}{(Device is null ? "" : $" device {Device}")}" : $"dup to {Device}";
}

/// <summary>
/// fwd (nft_fwd_netdev): the packet is handed to the device's transmit (nf_fwd_netdev_egress /
/// neigh_xmit for fwd ip to ADDRESS) and the rule set ends with NF_STOLEN.
/// </summary>
internal sealed class FwdStmt : NftStmt
{
    public string Device = ""; public IpAddr? Address;
    /// <summary><c>fwd to meta mark map { k : "dev" }</c>: the device from a map per packet; a miss ends the rule.</summary>
    public NftMapLookup? DeviceMap;
    internal override bool DrawsRandom => DeviceMap?.Key.DrawsRandom == true;

    public override bool Eval(NftEvalCtx c)
    {
        var fwd = this;
        if (DeviceMap is not null)
        {
            if (DeviceMap.Find(c)?.Data is not string d) return false;
            fwd = new FwdStmt { Device = d, Address = Address };
        }
        c.Fwd = fwd; c.Verdict = NftVerdict.Stolen;
        return true;
    }
}
