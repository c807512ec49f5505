using PktFlow.Wire;

namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// An anonymous map (nft_lookup with a data register, nft_objref_map): the key an expression loads from
/// the packet picks an element; no element, no match (NFT_BREAK: the rule stops).
/// </summary>
internal sealed class NftMapLookup
{
    public NftSelector Key = null!;
    /// <summary>An anonymous map's elements; null when <see cref="Set"/> names a map of the table.</summary>
    public List<NftElement>? Elements;
    public NftSet? Set;
    public int[] Widths = Array.Empty<int>();

    public NftElement? Find(NftEvalCtx c)
    {
        Span<byte> k = stackalloc byte[Key.Length];
        if (!Key.Load(c, k)) return null;
        return Elements is not null ? NftSetLookup.First(Elements, k, Widths) : NftSetLookup.Find(c, Set!, k, Widths);
    }
}

/// <summary>
/// nft_lookup in a set or map: the first element holding the key (a named set as the replay left it), else
/// the catch-all element <c>*</c> when the set has one (nft_set_catchall_lookup, tried only after a miss).
/// </summary>
internal static class NftSetLookup
{
    public static NftElement? First(List<NftElement> elements, ReadOnlySpan<byte> k, int[] widths)
    {
        NftElement? catchAll = null;
        foreach (var e in elements)
        {
            if (e.Matches(k, widths)) return e;
            if (e.CatchAll) catchAll ??= e;
        }
        return catchAll;
    }

    public static NftElement? Find(NftEvalCtx c, NftSet set, ReadOnlySpan<byte> k, int[] widths)
    {
        if (!set.IsStateful && !c.State.HasLiveContents(set)) return First(set.Elements, k, widths);
        NftElement? catchAll = null;
        foreach (var e in c.State.Set(set))
        {
            if (e.ExpiresNs <= c.State.NowNs) continue;
            if (e.Element.Matches(k, widths)) return e.Element;
            if (e.Element.CatchAll) catchAll ??= e.Element;
        }
        return catchAll;
    }
}

/// <summary>
/// A map element's data as the model keeps it: an address (<see cref="IpAddr"/>), <c>address . port</c> and
/// interval NAT data (<see cref="NatTarget"/>), a MAC address or an interface name (text), an integer up to 32
/// bits. Data a rule loads from the packet (nft_dynset's sreg_data: <c>update @m { ip saddr : ip daddr }</c>)
/// is turned into the same form.
/// </summary>
internal static class NftMapData
{
    public static object Of(NftType[] types, ReadOnlySpan<byte> b) => types switch
    {
        [{ Kind: NftTypeKind.Ipv4 or NftTypeKind.Ipv6 } t] => Address(t, b),
        [{ Kind: NftTypeKind.Ether or NftTypeKind.Ifname } t] => Format(t, b),
        [var a, _] => new NatTarget(Address(a, b[..a.Length]), (int)NftBytes.ToUlong(b.Slice(a.Length, 2))),
        _ => (uint)NftBytes.ToUlong(b),
    };

    private static IpAddr Address(NftType t, ReadOnlySpan<byte> b) => t.Kind == NftTypeKind.Ipv4 ? IpAddr.ReadV4(b) : IpAddr.ReadV6(b);

    /// <summary>A value as nft lists it: addresses, MAC addresses, interface names, protocol names, numbers.</summary>
    public static string Format(NftType ty, ReadOnlySpan<byte> b) => ty.Kind switch
    {
        NftTypeKind.Ipv4 or NftTypeKind.Ipv6 => new System.Net.IPAddress(b).ToString(),
        NftTypeKind.Ether => Convert.ToHexString(b).ToLowerInvariant().Chunk(2).Select(x => new string(x)).Aggregate((x, y) => x + ":" + y),
        NftTypeKind.Ifname => System.Text.Encoding.ASCII.GetString(b).TrimEnd('\0'),
        _ => ty == NftType.InetProto && ProtoName(b[0]) is { } name ? name : NftBytes.ToUlong(b).ToString(),
    };

    private static string? ProtoName(byte p) => NftType.InetProto.Symbols!.FirstOrDefault(kv => kv.Value == p).Key;
}

/// <summary>
/// A NAT map's data beyond a single address: <c>address . port</c>, or interval data (<c>a-b</c>, <c>a/n</c>,
/// <c>. p-q</c>), which nft stores as the first and last value (nft_nat's addr_max and proto_max registers).
/// </summary>
internal sealed record NatTarget(IpAddr Address, int? Port, IpAddr? AddressMax = null, int? PortMax = null)
{
    /// <summary>As nft lists the element's data.</summary>
    public override string ToString() =>
        NftNatAddress.Text(Address, AddressMax ?? Address) + (Port is { } p ? $" . {p}{(PortMax is { } q && q != p ? $"-{q}" : "")}" : "");
}

/// <summary>
/// A NAT statement with a part chosen per packet: <c>snat|dnat to KEY map { k : address, ... }</c> (nft_lookup
/// puts the element's address, and port when the data has one, in the registers nft_nat reads), and
/// <c>dnat to ADDRESS : KEY map { k : port }</c>, <c>redirect|masquerade to : KEY map { ... }</c> (the port
/// from a map). A key no element holds breaks the rule (NFT_BREAK): no NAT, the rule's later statements do not run.
/// </summary>
internal sealed class NatMapStmt : NftStmt
{
    /// <summary>The address (or address . port) map; null when the address range is <see cref="AddressMin"/>-<see cref="AddressMax"/> (or none).</summary>
    public NftMapLookup? Map;
    public IpAddr? AddressMin, AddressMax;
    /// <summary>The port map; null when the port is <see cref="PortMin"/>-<see cref="PortMax"/> (or none).</summary>
    public NftMapLookup? PortMap;
    public string Kind = ""; public int? PortMin, PortMax; public IReadOnlyList<string> Flags = Array.Empty<string>();
    public bool Netmap;
    /// <summary>In an inet table, the family the statement names or the rule fixes (nft_nat_inet_eval); null: any.</summary>
    public IpFamily? Family;
    public string RuleText = "";
    internal override bool DrawsRandom => Map?.Key.DrawsRandom == true || PortMap?.Key.DrawsRandom == true;

    /// <summary>The action when nothing comes from a map.</summary>
    public NatAction Constant() => new(Kind, AddressMin, PortMin, PortMax, RuleText) { AddressMax = AddressMax, Flags = Flags, Netmap = Netmap, Family = Family };

    public override bool Eval(NftEvalCtx c)
    {
        if (!NatAction.OfFamily(Family, c.P)) return true;
        IpAddr? address = AddressMin, addressMax = AddressMax;
        int? pmin = PortMin, pmax = PortMax;
        if (Map is not null)
        {
            switch (Map.Find(c)?.Data)
            {
                case IpAddr a: (address, addressMax) = (a, null); break;
                case NatTarget t:
                    (address, addressMax) = (t.Address, t.AddressMax);
                    if (t.Port is { } p) (pmin, pmax) = (p, t.PortMax ?? p);
                    break;
                default: return false;
            }
        }
        if (PortMap is not null)
        {
            if (PortMap.Find(c)?.Data is not uint port) return false;
            pmin = pmax = (int)port;
        }
        c.Verdict = NftVerdict.Accept;
        c.Nat = new NatAction(Kind, address, pmin, pmax, RuleText) { Flags = Flags, AddressMax = addressMax, Netmap = Netmap, Family = Family };
        return true;
    }
}

/// <summary>
/// <c>counter|quota|limit name KEY map { k : "object", ... }</c> (nft_objref_map_eval): the element names
/// the stateful object that counts this packet; each object keeps its one shared state.
/// </summary>
internal sealed class ObjrefMapStmt : NftStmt
{
    public NftMapLookup Map = null!;
    internal override bool DrawsRandom => Map.Key.DrawsRandom;

    public override bool Eval(NftEvalCtx c) => Map.Find(c) is { Data: NftObject o } && o.Ref.Eval(c);
}
