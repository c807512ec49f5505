using System.Buffers.Binary;

namespace PktFlow.Netfilter.Nftables;

/// <summary>Per-hook evaluation state (one per RunHook call; rules write side effects here).</summary>
internal sealed class NftEvalCtx
{
    public INftPacket P = null!;
    public NftRule Rule = null!;
    public NftVerdict Verdict;
    public string? JumpTarget;
    public bool QueueBypass;
    /// <summary>The fwd statement that stole the packet (NF_STOLEN).</summary>
    public FwdStmt? Fwd;
    /// <summary>The synproxy statement that took the packet (a SYN or an ACK).</summary>
    public SynproxyInfo? Synproxy;
    /// <summary>The dup statements that ran, each with the packet as it was then (nf_dup_* copies it at once).</summary>
    public List<(DupStmt Dup, byte[] Network)>? Dups;
    public NatAction? Nat;
    public string? Reject;
    public List<string>? Logs;
    /// <summary>Notes of statements described, not modelled (ct event set, ct helper set ...).</summary>
    public List<string>? Notes;
    public uint? CtMark;
    public NftObject? CtTimeout;
    public Conntrack.ConntrackTimeoutPolicy? CtTemplateTimeout;
    public NftObject? CtHelper;
    public Conntrack.ConntrackHelper? CtTemplateHelper;
    /// <summary>The zone of the conntrack template a <c>ct zone set</c> / <c>-j CT --zone</c> attached.</summary>
    public Conntrack.ConntrackZone? CtTemplateZone;
    /// <summary>The connection's labels after <c>ct label set</c> / <c>connlabel --set</c> in this hook.</summary>
    public UInt128? CtLabels;
    public bool Notrack;
    /// <summary>The namespace's stateful memory for this replay.</summary>
    public NftState State = null!;
    /// <summary>skb->len as the hook sees it (what counters, quotas and byte limits charge).</summary>
    public long Length => P.SkbLength;
    /// <summary>The set element a per-element statement runs for (meters: add @s { key limit ... }), and its key.</summary>
    public NftSetEntry? Element;
    public string? ElementKey;
    /// <summary>What a rule met that the model cannot know (a socket owner the lab does not give): said in the trace.</summary>
    public List<string>? Unknowns;
    public void Unknown(string what) { if (!(Unknowns ??= new()).Contains(what)) Unknowns.Add(what); }
}

internal enum NftVerdict { None, Continue, Accept, Drop, Queue, Jump, Goto, Return, Stolen }

internal enum L3 { None, V4, V6, Arp }

/// <summary>Loads a key (big-endian) from the packet; false = not present (the rule does not match, NFT_BREAK).</summary>
internal abstract class NftSelector
{
    public abstract NftType Type { get; }
    public int Length => Type.Length;
    public string Text = "";
    public abstract bool Load(NftEvalCtx c, Span<byte> dst);
    /// <summary>The kernel keeps the value in a register in host byte order (meta mark, numgen, hashes), not as header bytes.</summary>
    public virtual bool HostOrder => false;
    /// <summary>Loading it may draw a random number (numgen random, hashes with a secret seed).</summary>
    public virtual bool DrawsRandom => false;

    /// <summary>Copies a header field into the key; a sub-byte field is shifted and masked (nft's payload + bitwise).</summary>
    protected bool Field(ReadOnlySpan<byte> b, Span<byte> dst, int shift, ulong mask)
    {
        if (mask == 0) { b.CopyTo(dst); return true; }
        ulong v = (NftBytes.ToUlong(b) >> shift) & mask;
        for (int i = Length - 1; i >= 0; i--) { dst[i] = (byte)v; v >>= 8; }
        return true;
    }

    public static L3 NetProto(INftPacket p)
    {
        switch (p.Family)
        {
            case NftFamily.Ip: return L3.V4;
            case NftFamily.Ip6: return L3.V6;
            case NftFamily.Arp: return L3.Arp;
        }
        var l = p.Link;
        if (l.Length < 14) return L3.None;
        int o = 12; ushort et = BinaryPrimitives.ReadUInt16BigEndian(l[o..]);
        while ((et == 0x8100 || et == 0x88A8) && l.Length >= o + 6) { o += 4; et = BinaryPrimitives.ReadUInt16BigEndian(l[o..]); }
        return et switch { 0x0800 => L3.V4, 0x86DD => L3.V6, 0x0806 => L3.Arp, _ => L3.None };
    }
}

internal enum PBase { Link, Network, Transport }

/// <summary>A header field: base, byte offset, width, and for sub-byte fields a shift and mask.</summary>
internal sealed class PayloadSelector : NftSelector
{
    private readonly NftType _type;
    public override NftType Type => _type;
    public PBase Base; public int Offset; public int Width; public int Shift; public ulong Mask;
    public L3 NeedL3; public int NeedL4 = -1; public int NeedL4Alt = -1; // -1: none
    /// <summary>The ICMP/ICMPv6 types whose header has the field (nft's dependency: icmp id on echo, icmp gateway on redirect ...); null: any.</summary>
    public byte[]? NeedIcmpType;
    public PayloadSelector(NftType t) { _type = t; }

    public override bool Load(NftEvalCtx c, Span<byte> dst)
    {
        var p = c.P;
        if (NeedL3 != L3.None && NetProto(p) != NeedL3) return false;
        ReadOnlySpan<byte> b;
        switch (Base)
        {
            case PBase.Link: b = p.Link; break;
            case PBase.Network: b = p.Network; break;
            default:
                if (p.TransportOffset < 0 || p.TransportOffset > p.Network.Length) return false;
                if (NeedL4 >= 0 && p.L4Protocol != NeedL4 && p.L4Protocol != NeedL4Alt) return false;
                b = p.Network[p.TransportOffset..];
                if (NeedIcmpType is not null && (b.Length == 0 || Array.IndexOf(NeedIcmpType, b[0]) < 0)) return false;
                break;
        }
        if (b.Length < Offset + Width) return false;
        return Field(b.Slice(Offset, Width), dst, Shift, Mask);
    }
}

internal enum MetaKey { L4Proto, NfProto, Protocol, Iifname, Oifname, Iif, Oif, Mark, PktType, Length, CtState, CtStatus, CtDir, CtMark, Priority, SkUid, SkGid }

internal sealed class MetaSelector : NftSelector
{
    private readonly NftType _type;
    public readonly MetaKey Key;
    public override NftType Type => _type;
    public MetaSelector(MetaKey k, NftType t) { Key = k; _type = t; }
    public override bool HostOrder => Key is MetaKey.Mark or MetaKey.Priority or MetaKey.Iif or MetaKey.Oif or MetaKey.Length or MetaKey.CtState or MetaKey.CtStatus or MetaKey.CtMark or MetaKey.SkUid or MetaKey.SkGid;

    private static void Put(Span<byte> d, ulong v, int len) { for (int i = len - 1; i >= 0; i--) { d[i] = (byte)v; v >>= 8; } }
    private static bool Name(string? n, Span<byte> d)
    {
        if (n is null) return false;
        d[..16].Clear();
        for (int i = 0; i < n.Length && i < 16; i++) d[i] = (byte)n[i];
        return true;
    }

    public override bool Load(NftEvalCtx c, Span<byte> d)
    {
        var p = c.P;
        switch (Key)
        {
            case MetaKey.L4Proto: if (p.TransportOffset < 0 && p.L4Protocol == 0) return false; d[0] = p.L4Protocol; return true;
            case MetaKey.NfProto:
                var l3 = NetProto(p);
                d[0] = l3 switch { L3.V4 => 2, L3.V6 => 10, L3.Arp => 3, _ => 0 }; return l3 != L3.None;
            case MetaKey.Protocol:
                Put(d, NetProto(p) switch { L3.V4 => 0x0800u, L3.V6 => 0x86DDu, L3.Arp => 0x0806u, _ => 0u }, 2); return true;
            case MetaKey.Iifname: return Name(p.InputInterface, d);
            case MetaKey.Oifname: return Name(p.OutputInterface, d);
            case MetaKey.Iif: if (p.InputIfIndex <= 0) return false; Put(d, (uint)p.InputIfIndex, 4); return true;
            case MetaKey.Oif: if (p.OutputIfIndex <= 0) return false; Put(d, (uint)p.OutputIfIndex, 4); return true;
            case MetaKey.Mark: Put(d, p.Mark, 4); return true;
            case MetaKey.Priority: Put(d, p.Priority, 4); return true;
            case MetaKey.PktType: d[0] = p.PacketType; return true;
            case MetaKey.Length: Put(d, (uint)p.SkbLength, 4); return true;
            case MetaKey.CtState:
                var ct = p.Conntrack;
                Put(d, ct is null ? 1u : ct.State switch
                {
                    "new" => 8u, "established" => 2u, "related" => 4u, "untracked" => 64u, _ => 1u,
                }, 4);
                return true;
            case MetaKey.CtStatus:
                if (p.Conntrack is not { } cs) return false;
                uint bits = 0;
                foreach (var s in cs.Status.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    if (NftType.CtStatus.Symbols!.TryGetValue(s.ToLowerInvariant(), out var b)) bits |= (uint)b;
                Put(d, bits, 4); return true;
            case MetaKey.CtDir:
                if (p.Conntrack is not { } cd) return false;
                d[0] = cd.Direction == "reply" ? (byte)1 : (byte)0; return true;
            case MetaKey.CtMark:
                if (p.Conntrack is not { } cm) return false;
                Put(d, c.CtMark ?? cm.Mark, 4); return true;
            case MetaKey.SkUid or MetaKey.SkGid:
            {
                // nft_meta_get_eval_skugid: skb_to_full_sk, and only a socket with a file (a process's) has an owner
                if (p.Socket is not { FullSock: true } sk) return false;
                if ((Key == MetaKey.SkUid ? sk.Uid : sk.Gid) is not { } id)
                {
                    c.Unknown($"unsupported: {Text}: the owner of {sk.Description} is not known (declare the process in the lab, run with setpriv --reuid/--regid)");
                    return false;
                }
                Put(d, id, 4); return true;
            }
        }
        return false;
    }
}

/// <summary>Iif/oif written as a name: compared by name (the model has no load-time ifindex table).</summary>
internal sealed class ConcatSelector : NftSelector
{
    private readonly NftType _type;
    public readonly NftSelector[] Parts;
    public override NftType Type => _type;
    public ConcatSelector(NftSelector[] parts) { Parts = parts; _type = new NftType("concat", NftTypeKind.Int, parts.Sum(x => x.Length)); }
    public override bool DrawsRandom => Parts.Any(p => p.DrawsRandom);
    public override bool Load(NftEvalCtx c, Span<byte> dst)
    {
        int o = 0;
        foreach (var s in Parts) { if (!s.Load(c, dst.Slice(o, s.Length))) return false; o += s.Length; }
        return true;
    }
}

/// <summary>A set element: per key component an inclusive [lo, hi]; optional verdict for vmaps.</summary>
internal sealed class NftElement
{
    public byte[][] Lo = null!, Hi = null!;
    public NftVerdict Verdict; public string? Target;
    /// <summary>A map element's data: the address of a NAT map, the object statement of an object map.</summary>
    public object? Data;
    /// <summary><c>timeout</c> / <c>expires</c> given with the element, in ns.</summary>
    public long? TimeoutNs, ExpiresNs;

    /// <summary>
    /// The catch-all element <c>*</c> (NFT_SET_ELEM_CATCHALL): no key, it holds whatever no other element
    /// holds (nft_lookup_eval falls back to nft_set_catchall_lookup only when the set's own lookup misses).
    /// </summary>
    public bool CatchAll;

    public bool Matches(ReadOnlySpan<byte> key, int[] widths)
    {
        if (CatchAll) return false; // taken only after every keyed element missed (NftSetLookup)
        int o = 0;
        for (int i = 0; i < Lo.Length; i++)
        {
            var k = key.Slice(o, widths[i]);
            if (k.SequenceCompareTo(Lo[i]) < 0 || k.SequenceCompareTo(Hi[i]) > 0) return false;
            o += widths[i];
        }
        return true;
    }
}

internal abstract class NftStmt
{
    /// <summary>False: the rule stops here without a verdict (no match).</summary>
    public abstract bool Eval(NftEvalCtx c);
    /// <summary>It may draw a random number: only rulesets with such statements have outcomes to enumerate.</summary>
    internal virtual bool DrawsRandom => false;
}

internal enum CmpOp { Eq, Ne, Lt, Gt, Le, Ge, AnyBit, NoBit }

internal sealed class MatchStmt : NftStmt
{
    public NftSelector Sel = null!;
    public byte[]? Mask;           // applied to the key before comparing (&, prefix via Lo/Hi instead)
    public byte[]? Xor;            // then xored (nft_bitwise's (key & mask) ^ xor: `meta mark or 0x3 == 0x1`)
    public CmpOp Op;
    public byte[]? Value;          // Eq/Ne/Lt/...; AnyBit/NoBit
    public byte[]? Lo, Hi;         // range (Op Eq/Ne)
    public List<NftElement>? Elements; public NftSet? Set; public int[] Widths = Array.Empty<int>();
    public bool Vmap;
    internal override bool DrawsRandom => Sel.DrawsRandom;

    public override bool Eval(NftEvalCtx c)
    {
        Span<byte> k = stackalloc byte[Sel.Length];
        if (!Sel.Load(c, k)) return false;
        if (Mask is not null) for (int i = 0; i < k.Length; i++) k[i] &= Mask[i];
        if (Xor is not null) for (int i = 0; i < k.Length; i++) k[i] ^= Xor[i];
        bool neg = Op == CmpOp.Ne;
        if (Elements is not null || Set is not null)
        {
            var hit = Set is not null ? NftSetLookup.Find(c, Set, k, Widths) : NftSetLookup.First(Elements!, k, Widths);
            if (Vmap)
            {
                if (hit is null) return false;
                c.Verdict = hit.Verdict; c.JumpTarget = hit.Target; return true;
            }
            return (hit is not null) != neg;
        }
        if (Lo is not null) { bool inr = k.SequenceCompareTo(Lo) >= 0 && k.SequenceCompareTo(Hi) <= 0; return inr != neg; }
        switch (Op)
        {
            case CmpOp.AnyBit:
            case CmpOp.NoBit:
                bool any = false;
                for (int i = 0; i < k.Length; i++) if ((k[i] & Value![i]) != 0) any = true;
                return Op == CmpOp.AnyBit ? any : !any;
        }
        int cmp = k.SequenceCompareTo(Value);
        return Op switch
        {
            CmpOp.Eq => cmp == 0, CmpOp.Ne => cmp != 0, CmpOp.Lt => cmp < 0, CmpOp.Gt => cmp > 0,
            CmpOp.Le => cmp <= 0, _ => cmp >= 0,
        };
    }
}

/// <summary>nft_counter: the rule's packets/bytes (from <c>counter packets N bytes M</c>), kept in the replay's state.</summary>
internal sealed class CounterStmt : NftStmt
{
    public long InitialPackets, InitialBytes;
    public override bool Eval(NftEvalCtx c)
    {
        NftCounterValue v;
        if (c.Element is { } e) v = e.Counter ??= new NftCounterValue();
        else if (c.State.PeekCounter(this) is { } known) v = known;
        else { v = c.State.Counter(this); v.Packets = InitialPackets; v.Bytes = InitialBytes; }
        v.Add(c.Length);
        return true;
    }
}

internal sealed class LogStmt : NftStmt
{
    public string Text = "";
    public override bool Eval(NftEvalCtx c) { (c.Logs ??= new()).Add(Text); return true; }
}

/// <summary>
/// nft_meta_set / nft_ct_set of the mark: a constant, what an expression loads (through nft_bitwise's
/// (v &amp; mask) ^ xor when written with and/or/xor: kube-proxy's <c>mark set mark or 0x4000</c>), or a
/// map's data (no element: no match).
/// </summary>
internal sealed class SetMarkStmt : NftStmt
{
    public bool Ct; public uint Value;
    public NftSelector? Source; public NftMapLookup? Map;
    internal override bool DrawsRandom => (Source ?? Map?.Key)?.DrawsRandom == true;

    public override bool Eval(NftEvalCtx c)
    {
        uint v = Value;
        if (Map is not null)
        {
            if (Map.Find(c) is not { Data: uint data }) return false;
            v = data;
        }
        else if (Source is not null)
        {
            Span<byte> k = stackalloc byte[4];
            if (!Source.Load(c, k)) return false;
            v = BinaryPrimitives.ReadUInt32BigEndian(k);
        }
        if (Ct) c.CtMark = v; else c.P.Mark = v;
        return true;
    }
}

/// <summary>nft_meta_set_eval of skb->priority (<c>meta priority set 1:2</c>): what tc's prio/htb classify by.</summary>
internal sealed class SetPriorityStmt : NftStmt
{
    public uint Value;
    public override bool Eval(NftEvalCtx c) { c.P.Priority = Value; return true; }
}

internal sealed class NotrackStmt : NftStmt
{
    // nft_notrack_eval: a packet with a conntrack or a template keeps it
    public override bool Eval(NftEvalCtx c) { if (c.CtTemplateZone is null) c.Notrack = true; return true; }
}

internal sealed class VerdictStmt : NftStmt
{
    public NftVerdict Verdict; public string? Target; public string? Reject; public NatAction? Nat;
    /// <summary>queue ... bypass (NF_VERDICT_FLAG_QUEUE_BYPASS): with no listener the packet goes on instead of being dropped.</summary>
    public bool QueueBypass;
    public override bool Eval(NftEvalCtx c)
    {
        if (Nat is not null && !NatAction.OfFamily(Nat.Family, c.P)) return true;
        c.Verdict = Verdict; c.JumpTarget = Target; c.QueueBypass = QueueBypass;
        if (Reject is not null) c.Reject = Reject;
        if (Nat is not null) c.Nat = Nat;
        return true;
    }
}
