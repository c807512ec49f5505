namespace PktFlow.Netfilter.Nftables;

internal enum MetaDevKey { Cpu, IifType, OifType, IifGroup, OifGroup, Cgroup }

/// <summary>
/// nft_meta_get_eval's keys about where the packet is handled: <c>meta cpu</c> (smp_processor_id: the
/// model runs everything on CPU 0), <c>meta iiftype|oiftype</c> (dev->type), <c>meta iifgroup|oifgroup</c>
/// (dev->group) and <c>meta cgroup</c> (the net_cls classid of the sending socket). A missing device
/// or socket is NFT_BREAK: the rule does not match.
/// </summary>
internal sealed class MetaDevSelector : NftSelector
{
    public readonly MetaDevKey Key;
    public MetaDevSelector(MetaDevKey key) { Key = key; }
    public override NftType Type => Key switch
    {
        MetaDevKey.IifType or MetaDevKey.OifType => NftType.IfaceType,
        MetaDevKey.IifGroup or MetaDevKey.OifGroup => NftType.DevGroup,
        _ => NftType.Int4,
    };
    public override bool HostOrder => true;

    public override bool Load(NftEvalCtx c, Span<byte> d)
    {
        var p = c.P;
        switch (Key)
        {
            case MetaDevKey.Cpu: Put(d, 0); return true;
            case MetaDevKey.IifType or MetaDevKey.OifType:
            {
                if ((Key == MetaDevKey.IifType ? p.InputDevice : p.OutputDevice) is not { } dev) return false;
                if (dev.Type is not { } type)
                {
                    c.Unknown($"unsupported: {Text}: the type of {(Key == MetaDevKey.IifType ? p.InputInterface : p.OutputInterface)} (a device kind the model does not build) is not known");
                    return false;
                }
                Put(d, type); return true;
            }
            case MetaDevKey.IifGroup or MetaDevKey.OifGroup:
                if ((Key == MetaDevKey.IifGroup ? p.InputDevice : p.OutputDevice) is not { } g) return false;
                Put(d, g.Group); return true;
            case MetaDevKey.Cgroup:
                // nft_meta_get_eval_cgroup: skb_to_full_sk; forwarded packets have none
                if (p.Socket is not { FullSock: true } sk) return false;
                c.Unknown($"unsupported: {Text}: the net_cls classid of {sk.Description} is not modelled");
                return false;
        }
        return false;
    }

    private void Put(Span<byte> d, ulong v) { for (int i = Length - 1; i >= 0; i--) { d[i] = (byte)v; v >>= 8; } }
}
