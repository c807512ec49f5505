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
    public override bool Eval(NftEvalCtx c)
    {
        (c.Dups ??= new()).Add((this, c.P.Network.ToArray()));
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
    public override bool Eval(NftEvalCtx c)
    {
        c.Fwd = this; c.Verdict = NftVerdict.Stolen;
        return true;
    }
}
