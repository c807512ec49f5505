using PktFlow.Netfilter.Nftables;

namespace PktFlow.Netfilter.Iptables;

/// <summary>MARK/CONNMARK --set-xmark semantics: mark = (mark &amp; ~mask) ^ value (xt_MARK, xt_CONNMARK).</summary>
internal sealed class XmarkStmt : NftStmt
{
    public bool Ct; public uint Value; public uint Mask;
    public override bool Eval(NftEvalCtx c)
    {
        if (Ct) { uint cur = c.CtMark ?? c.P.Conntrack?.Mark ?? 0; c.CtMark = (cur & ~Mask) ^ Value; }
        else c.P.Mark = (c.P.Mark & ~Mask) ^ Value;
        return true;
    }
}

/// <summary>CONNMARK --save-mark (ct mark = meta mark) and --restore-mark (meta mark = ct mark), full masks.</summary>
internal sealed class CopyMarkStmt : NftStmt
{
    public bool Save;
    public override bool Eval(NftEvalCtx c)
    {
        if (Save) c.CtMark = c.P.Mark;
        else c.P.Mark = c.CtMark ?? c.P.Conntrack?.Mark ?? 0;
        return true;
    }
}


/// <summary>
/// xt_socket (socket_mt4_v1_v2_v3 / socket_mt6_v1_v2_v3): skb->sk, else nf_sk_lookup_slow. A socket
/// bound to the wildcard address does not count unless --nowildcard; with --transparent only an
/// IP_TRANSPARENT one does; --restore-skmark copies the socket's mark to the packet when it counts.
/// </summary>
internal sealed class SocketMatchStmt : NftStmt
{
    public bool Transparent, NoWildcard, RestoreSkmark;
    public override bool Eval(NftEvalCtx c)
    {
        if (c.P.FindSocket() is not { } sk) return false;
        bool wildcard = !NoWildcard && sk.FullSock && sk.Wildcard;
        bool transparent = !Transparent || sk.Transparent;
        if (RestoreSkmark && !wildcard && transparent && sk.FullSock) c.P.Mark = sk.Mark;
        return !wildcard && transparent;
    }
}

/// <summary>
/// xt_TPROXY (tproxy_tg4_v1 / tproxy_tg6_v1): the packet's connection or a listener on --on-ip
/// (0: the receiving device's primary address) and --on-port; a transparent socket gets the packet
/// and the mark (mark &amp; ~mask) ^ value, and the target accepts; anything else is NF_DROP.
/// </summary>
internal sealed class TproxyTargetStmt : NftStmt
{
    public PktFlow.Wire.IpAddr? Address; public ushort Port; public uint Value, Mask;
    public override bool Eval(NftEvalCtx c)
    {
        var p = c.P;
        bool ok = p.L4Protocol is PktFlow.Wire.IpProtocol.Tcp or PktFlow.Wire.IpProtocol.Udp && p.TransportOffset >= 0
            && p.Tproxy(Address, Port) is { Transparent: true };
        if (ok) p.Mark = (p.Mark & ~Mask) ^ Value;
        c.Verdict = ok ? NftVerdict.Accept : NftVerdict.Drop;
        return true;
    }
}

/// <summary>
/// xt_CT (xt_ct_target) with --zone, --helper and --timeout in any combination: one conntrack template
/// carrying them together, attached to a packet that has nothing yet (skb->_nfct == 0: no conntrack, no
/// earlier template, not untracked), so the first CT target wins whole. nf_conntrack_in keys the lookup
/// with the zone and gives a new connection the helper (unless an expectation claims it) and the
/// cttimeout policy. The target does not end the chain.
/// </summary>
internal sealed class CtTemplateStmt : NftStmt
{
    public Conntrack.ConntrackHelper? Helper;
    public Conntrack.ConntrackTimeoutPolicy? Timeout;
    public Conntrack.ConntrackZone? Zone;

    public override bool Eval(NftEvalCtx c)
    {
        if (c.P.Conntrack is not null || c.Notrack || c.CtTemplateZone is not null || c.CtTemplateTimeout is not null || c.CtTemplateHelper is not null)
            return true;
        c.CtTemplateZone = Zone; c.CtTemplateHelper = Helper; c.CtTemplateTimeout = Timeout;
        return true;
    }
}
