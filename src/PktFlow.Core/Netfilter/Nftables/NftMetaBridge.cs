namespace PktFlow.Netfilter.Nftables;

internal enum MetaBridgeKey { IbrName, ObrName, IbrPvid, IbrVproto }

/// <summary>
/// nft_meta_bridge_get_eval (net/bridge/netfilter/nft_meta_bridge.c, bridge family only): <c>meta ibrname|obrname</c>
/// is the name of the bridge the input (output) device is a port of, an empty name when it is no port;
/// <c>meta ibrpvid</c> the input port's PVID (host order) and <c>meta ibrvproto</c> the bridge's VLAN
/// protocol, both NFT_BREAK (no match) unless the input device is a port of a bridge with vlan_filtering on.
/// </summary>
internal sealed class MetaBridgeSelector : NftSelector
{
    public readonly MetaBridgeKey Key;
    public MetaBridgeSelector(MetaBridgeKey key) { Key = key; }
    public override NftType Type => Key switch
    {
        MetaBridgeKey.IbrPvid => NftType.Int2,
        MetaBridgeKey.IbrVproto => NftType.EtherType,
        _ => NftType.Ifname,
    };
    public override bool HostOrder => Key == MetaBridgeKey.IbrPvid;

    public override bool Load(NftEvalCtx c, Span<byte> d)
    {
        var br = Key == MetaBridgeKey.ObrName ? c.P.OutputBridge : c.P.InputBridge;
        switch (Key)
        {
            case MetaBridgeKey.IbrName or MetaBridgeKey.ObrName:
                d[..16].Clear();
                if (br is { } b) System.Text.Encoding.ASCII.GetBytes(b.Bridge.AsSpan(0, Math.Min(b.Bridge.Length, 15)), d);
                return true;
            default:
                if (br is not { VlanFiltering: true } v) return false;
                ushort x = Key == MetaBridgeKey.IbrPvid ? v.Pvid : v.VlanProtocol;
                d[0] = (byte)(x >> 8); d[1] = (byte)x;
                return true;
        }
    }
}

/// <summary>
/// meta sdif / meta sdifname (nft_meta_get_eval_sdif, _sdifname): the L3 slave device's ifindex (host order)
/// and name; 0 and an empty name for a packet no l3mdev master took (every packet the model carries).
/// </summary>
internal sealed class MetaSdifSelector : NftSelector, IHookRestricted
{
    public string Keyword => "meta";

    /// <summary>nft_meta_get_validate_sdif: input and forward hooks only.</summary>
    public string? HookProblem(NftFamily family, NftHookPoint hook) => hook is NftHookPoint.Input or NftHookPoint.Forward ? null
        : $"{Text} is read in input and forward chains only, not {hook.ToString().ToLowerInvariant()}";

    public readonly bool Name;
    public MetaSdifSelector(bool name) { Name = name; }
    public override NftType Type => Name ? NftType.Ifname : NftType.Int4;
    public override bool HostOrder => !Name;

    public override bool Load(NftEvalCtx c, Span<byte> d)
    {
        if (c.P.Sdif is not { } sdif)
        {
            c.Unknown($"unsupported: {Text}: the input device's master is a kind the model does not build (an l3mdev such as a VRF?)");
            return false;
        }
        d[..Length].Clear();
        if (sdif != 0) { c.Unknown($"unsupported: {Text} of an l3mdev slave"); return false; }
        return true;
    }
}
