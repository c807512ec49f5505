namespace PktFlow.Netfilter.Nftables;

internal enum FibResultKind { Oif, Oifname, Type }

/// <summary>
/// nft_fib: a route lookup of the packet's saddr or daddr (optionally on iif/oif and with the mark) whose
/// result (the output device's index or name, or the address type) is a value like any other, so it can be
/// compared, looked up in a set or key a verdict map (<c>fib daddr type vmap { local : accept }</c>).
/// </summary>
internal sealed class FibSelector : NftSelector, IHookRestricted
{
    public FibResultKind Result; public bool Daddr, Iif, Oif, Mark;
    public override NftType Type => Result switch { FibResultKind.Oifname => NftType.Ifname, FibResultKind.Type => NftType.FibAddrType, _ => NftType.IfaceIndex };
    public override bool HostOrder => Result != FibResultKind.Oifname;

    public override bool Load(NftEvalCtx c, Span<byte> d)
    {
        var p = c.P; var n = p.Network; var l3 = NetProto(p);
        int off, len;
        if (l3 == L3.V4 && n.Length >= 20) { off = Daddr ? 16 : 12; len = 4; }
        else if (l3 == L3.V6 && n.Length >= 40) { off = Daddr ? 24 : 8; len = 16; }
        else return false;
        int otherOff = l3 == L3.V4 ? (Daddr ? 12 : 16) : (Daddr ? 8 : 24);
        string? dev = Iif ? p.InputInterface : Oif ? p.OutputInterface : null;
        if ((Iif || Oif) && dev is null) return false;
        if (Result == FibResultKind.Type) { Put(d, p.FibType(n.Slice(off, len), l3 == L3.V6, dev)); return true; }
        if (p.FibOif(n.Slice(off, len), n.Slice(otherOff, len), l3 == L3.V6, dev, Mark) is not { } r)
        {
            c.Unknown($"{Text}: the model has no routing table for this packet");
            return false;
        }
        if (Result == FibResultKind.Oif) { Put(d, (uint)r.IfIndex); return true; }
        d[..16].Clear();
        for (int i = 0; r.Name is { } name && i < name.Length && i < 16; i++) d[i] = (byte)name[i];
        return true;
    }

    /// <summary>
    /// Why the kernel refuses this lookup at <paramref name="hook"/> (nft_fib_validate: an input-side
    /// lookup needs an input device, an output-side one an output device), or null where it is allowed.
    /// netdev ingress and egress count as prerouting and postrouting; inet's ingress hook allows none.
    /// </summary>
    public string Keyword => "fib";

    public string? HookProblem(NftFamily family, NftHookPoint hook)
    {
        var h = (family, hook) switch
        {
            (NftFamily.Netdev, NftHookPoint.Ingress) => NftHookPoint.Prerouting,
            (NftFamily.Netdev, NftHookPoint.Egress) => NftHookPoint.Postrouting,
            (NftFamily.Ip or NftFamily.Ip6 or NftFamily.Inet, not NftHookPoint.Ingress) => hook,
            _ => (NftHookPoint?)null,
        };
        bool inputSide = h is NftHookPoint.Prerouting or NftHookPoint.Input or NftHookPoint.Forward;
        bool outputSide = h is NftHookPoint.Output or NftHookPoint.Postrouting or NftHookPoint.Forward;
        bool ok = Result != FibResultKind.Type || Iif ? inputSide : Oif ? outputSide : inputSide || outputSide;
        if (ok) return null;
        string where = Result != FibResultKind.Type ? "an oif lookup only in prerouting, input and forward"
            : Iif ? "an iif lookup only in prerouting, input and forward"
            : Oif ? "an oif lookup only in output, postrouting and forward"
            : "only the prerouting, input, forward, output and postrouting hooks";
        return $"'{Text}' is not valid in a {NftNames.Family(family)} {hook.ToString().ToLowerInvariant()} chain (nft_fib_validate allows {where})";
    }

    private static void Put(Span<byte> d, uint v) { d[0] = (byte)(v >> 24); d[1] = (byte)(v >> 16); d[2] = (byte)(v >> 8); d[3] = (byte)v; }
}

/// <summary>fib ... oif missing|exists: the lookup found a device, or did not (the rp_filter idiom <c>fib saddr . iif oif missing drop</c>).</summary>
internal sealed class FibPresentStmt : NftStmt
{
    public FibSelector Sel = null!; public bool Present;
    public override bool Eval(NftEvalCtx c)
    {
        Span<byte> d = stackalloc byte[16];
        if (!Sel.Load(c, d)) return false;
        bool found = d[..Sel.Length].IndexOfAnyExcept((byte)0) >= 0;
        return found == Present;
    }
}
