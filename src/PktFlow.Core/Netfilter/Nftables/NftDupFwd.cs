using PktFlow.Wire;

namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// dup: nf_dup_ipv4/ipv6 route a copy to the address (out of the device when given) and nf_dup_netdev sends
/// a copy out of the device; the original goes on. The copy is described in the trace, not followed.
/// </summary>
internal sealed class DupStmt : NftStmt
{
    public IpAddr? Address; public string? Device;
    public override bool Eval(NftEvalCtx c)
    {
        var to = Address is { } a ? $"{a}{(Device is null ? "" : $" via {Device}")}" : $"out of {Device}";
        (c.Notes ??= new()).Add($"dup: a copy of the packet is sent to {to} (not followed); the original continues");
        return true;
    }
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
