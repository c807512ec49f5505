namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// Which base chains nft and the kernel accept: the hooks nft 1.0.6 knows per family (evaluate.c,
/// chain_evaluate: "The X family does not support this hook"), where a device may or must be named
/// ("This chain type cannot be bound to device", "Missing `device' in this chain definition"), the chain
/// types the kernel has per family (nf_tables_chain_type_lookup: -ENOENT) and the hooks each type allows
/// (nft_chain_filter_*, nft_chain_nat_*, nft_chain_route_* hook_mask: -EOPNOTSUPP). Measured on 6.18 with
/// nft 1.0.6, every family x type x hook, with and without a device (docs/nftables-rulesets.md).
/// </summary>
internal static class NftChainType
{
    private const NftHookPoint Pre = NftHookPoint.Prerouting, In = NftHookPoint.Input, Fwd = NftHookPoint.Forward,
        Out = NftHookPoint.Output, Post = NftHookPoint.Postrouting, Ingress = NftHookPoint.Ingress, Egress = NftHookPoint.Egress;

    /// <summary>The hooks nft's parser takes for a family (arp forward is taken, the kernel refuses it).</summary>
    private static NftHookPoint[] FamilyHooks(NftFamily f) => f switch
    {
        NftFamily.Ip or NftFamily.Ip6 or NftFamily.Bridge => [Pre, In, Fwd, Out, Post],
        NftFamily.Inet => [Pre, In, Fwd, Out, Post, Ingress],
        NftFamily.Arp => [In, Fwd, Out],
        _ => [Ingress, Egress],
    };

    /// <summary>The kernel's chain types per family and their hook masks; null: no such type for the family.</summary>
    private static NftHookPoint[]? TypeHooks(NftFamily f, string type) => (type, f) switch
    {
        ("filter", NftFamily.Ip or NftFamily.Ip6 or NftFamily.Bridge) => [Pre, In, Fwd, Out, Post],
        ("filter", NftFamily.Inet) => [Pre, In, Fwd, Out, Post, Ingress],
        ("filter", NftFamily.Arp) => [In, Out],
        ("filter", NftFamily.Netdev) => [Ingress, Egress],
        ("nat", NftFamily.Ip or NftFamily.Ip6 or NftFamily.Inet) => [Pre, In, Out, Post],
        ("route", NftFamily.Ip or NftFamily.Ip6 or NftFamily.Inet) => [Out],
        _ => null,
    };

    /// <summary>nft's refusal of the hook for the family (when the hook is read), or null.</summary>
    public static string? HookProblem(NftFamily f, NftHookPoint hook) =>
        Array.IndexOf(FamilyHooks(f), hook) >= 0 ? null : $"The {NftNames.Family(f)} family does not support this hook";

    /// <summary>Whether a chain of the family at the hook names its device (netdev, inet ingress).</summary>
    public static bool NeedsDevice(NftFamily f, NftHookPoint hook) => f == NftFamily.Netdev || (f == NftFamily.Inet && hook == Ingress);

    /// <summary>
    /// What refuses the base chain once it is read whole, in the order nft and then the kernel check:
    /// the device, the type's existence, the type's hooks. Null when it loads.
    /// </summary>
    public static (string Message, bool AtDevice)? ChainProblem(NftFamily f, string type, NftHookPoint hook, bool hasDevice)
    {
        if (hasDevice && !NeedsDevice(f, hook)) return ("This chain type cannot be bound to device", true);
        if (!hasDevice && NeedsDevice(f, hook)) return ("Missing `device' in this chain definition", false);
        var hooks = TypeHooks(f, type);
        if (hooks is null) return ($"Could not process rule: No such file or directory: no chain type '{type}' in the {NftNames.Family(f)} family", false);
        if (Array.IndexOf(hooks, hook) < 0)
            return ($"Could not process rule: Operation not supported: a {type} chain of the {NftNames.Family(f)} family cannot hook {hook.ToString().ToLowerInvariant()}", false);
        return null;
    }
}
