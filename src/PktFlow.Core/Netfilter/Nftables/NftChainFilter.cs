namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// Which base chains of a hook one run takes, as a value: nf_hook_slow cuts a hook's entries at the
/// places of conntrack (-200) and the nat core (-100 / 100), runs one nat chain at a time, and leaves nat
/// chains to the nat core. A hook's entries are ordered by priority, then by registration, the latest
/// first (nf_hook_entries_grow), so each cut is a place (priority, registration) in that order. A value
/// rather than a delegate so that a hook call allocates nothing; <c>default</c> takes every chain.
/// </summary>
public readonly record struct NftChainFilter
{
    private readonly NftChain? _only;
    private readonly bool _skipNat, _hasFrom, _hasUntil;
    private readonly int _fromPriority, _fromRegistration, _untilPriority, _untilRegistration;

    private NftChainFilter(NftChain? only, bool skipNat, bool hasFrom, int fromPriority, int fromRegistration, bool hasUntil, int untilPriority, int untilRegistration)
    {
        (_only, _skipNat) = (only, skipNat);
        (_hasFrom, _fromPriority, _fromRegistration) = (hasFrom, fromPriority, fromRegistration);
        (_hasUntil, _untilPriority, _untilRegistration) = (hasUntil, untilPriority, untilRegistration);
    }

    /// <summary>Every base chain.</summary>
    public static NftChainFilter All => default;

    /// <summary>This one chain only (a nat chain the nat core runs, a chain of a mixed netdev/inet ingress list).</summary>
    public static NftChainFilter Only(NftChain chain) => new(chain, false, false, 0, 0, false, 0, 0);

    /// <summary>The same chains but those of type nat (nf_nat runs them itself, from the nat core's hook).</summary>
    public NftChainFilter WithoutNat() => new(_only, true, _hasFrom, _fromPriority, _fromRegistration, _hasUntil, _untilPriority, _untilRegistration);

    /// <summary>Only the chains running before a hook of <paramref name="priority"/> registered at <paramref name="registration"/>
    /// (int.MaxValue: before any registration, so chains of that very priority are left out).</summary>
    public NftChainFilter Before(int priority, int registration) => new(_only, _skipNat, _hasFrom, _fromPriority, _fromRegistration, true, priority, registration);

    /// <summary>Only the chains running after (or as) such a hook.</summary>
    public NftChainFilter From(int priority, int registration) => new(_only, _skipNat, true, priority, registration, _hasUntil, _untilPriority, _untilRegistration);

    public bool Includes(NftChain c) =>
        (_only is null || c == _only)
        && !(_skipNat && c.Type == "nat")
        && (!_hasFrom || !RunsBefore(c, _fromPriority, _fromRegistration))
        && (!_hasUntil || RunsBefore(c, _untilPriority, _untilRegistration));

    /// <summary>Whether <paramref name="c"/> runs before a hook of <paramref name="priority"/> registered at <paramref name="registration"/>:
    /// a lower priority, or the same one and a later registration.</summary>
    private static bool RunsBefore(NftChain c, int priority, int registration) =>
        c.Priority < priority || c.Priority == priority && c.RegistrationOrder > registration;
}
