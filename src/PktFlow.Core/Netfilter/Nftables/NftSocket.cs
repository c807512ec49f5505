using PktFlow.Wire;

namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// A socket as nftables reads it: IP_TRANSPARENT (inet_sk_transparent), sk_mark, whether it is bound
/// to the wildcard address, whether it is a full socket (a request socket has no mark and no bound
/// address), and its owner's uid/gid (null: the lab does not say).
/// </summary>
public sealed record NftSock(string Description, bool Transparent, uint Mark, bool Wildcard, bool FullSock, uint? Uid, uint? Gid);

internal enum SocketKey { Transparent, Mark, Wildcard }

/// <summary>
/// nft_socket_eval: skb->sk or a lookup (nf_sk_lookup_slow_v4/v6); no socket, or a request socket
/// asked for its mark or wildcard, is NFT_BREAK (the rule does not match).
/// </summary>
internal sealed class SocketSelector : NftSelector
{
    public readonly SocketKey Key;
    public SocketSelector(SocketKey key) { Key = key; }
    public override NftType Type => Key == SocketKey.Mark ? NftType.Mark : NftType.Boolean;
    public override bool HostOrder => Key == SocketKey.Mark;

    public override bool Load(NftEvalCtx c, Span<byte> d)
    {
        if (c.P.FindSocket() is not { } sk) return false;
        switch (Key)
        {
            case SocketKey.Transparent: d[0] = sk.Transparent ? (byte)1 : (byte)0; return true;
            case SocketKey.Mark:
                if (!sk.FullSock) return false;
                d[0] = (byte)(sk.Mark >> 24); d[1] = (byte)(sk.Mark >> 16); d[2] = (byte)(sk.Mark >> 8); d[3] = (byte)sk.Mark;
                return true;
            default:
                if (!sk.FullSock) return false;
                d[0] = sk.Wildcard ? (byte)1 : (byte)0; return true;
        }
    }
}

/// <summary>
/// nft_tproxy_eval_v4/v6: TCP or UDP only, of the statement's family (any for `tproxy to`); the socket
/// found must be transparent (nf_tproxy_sk_is_transparent), else NFT_BREAK. The statement sets no
/// mark and no verdict: the rule goes on (`meta mark set 1 accept`).
/// </summary>
internal sealed class TproxyStmt : NftStmt
{
    /// <summary>2 (ipv4), 10 (ipv6) or 0 (either: `tproxy to :PORT`).</summary>
    public byte Family;
    public IpAddr? Address;
    public ushort Port;

    public override bool Eval(NftEvalCtx c)
    {
        var p = c.P;
        if (p.L4Protocol is not (IpProtocol.Tcp or IpProtocol.Udp) || p.TransportOffset < 0) return false;
        var l3 = NftSelector.NetProto(p);
        if (l3 is not (L3.V4 or L3.V6) || (Family == 2 && l3 != L3.V4) || (Family == 10 && l3 != L3.V6)) return false;
        return p.Tproxy(Address, Port) is { Transparent: true };
    }
}
