using System.Buffers.Binary;
using PktFlow.Datapath;

namespace PktFlow.Tc;

/// <summary>One u32 key: the 32-bit word at Offset from the network header, masked, equals Value.</summary>
public readonly record struct U32Key(uint Value, uint Mask, int Offset)
{
    public override string ToString() => $"match {Value:x8}/{Mask:x8} at {Offset}";
}

/// <summary>
/// cls_u32 (net/sched/cls_u32.c) for one key node of the root hash table: every key must match
/// (u32_classify reads each word with skb_header_pointer; one past the packet ends the classifier
/// without a match). tc sets TC_U32_TERMINAL for a node with an action or a classid; a node without
/// either matches nothing that ends the classification. Hash tables, links and nexthdr offsets are
/// refused on load.
/// </summary>
public sealed class ClsU32 : TcClassifier
{
    public override string Kind => "u32";
    public required IReadOnlyList<U32Key> Keys { get; init; }

    public override bool Terminal(bool hasActions) => hasActions || ClassId is not null;

    [KernelSymbol("u32_classify", "net/sched/cls_u32.c")]
    public override bool Match(SkBuff skb)
    {
        var l3 = skb.Network;
        foreach (var k in Keys)
        {
            if (k.Offset < 0 || k.Offset + 4 > l3.Length) return false;
            if (((BinaryPrimitives.ReadUInt32BigEndian(l3[k.Offset..]) ^ k.Value) & k.Mask) != 0) return false;
        }
        return true;
    }

    public override string ToString() => string.Join(" ", Keys);
}

/// <summary>cls_matchall: every packet (unless skip_sw).</summary>
public sealed class ClsMatchall : TcClassifier
{
    public override string Kind => "matchall";
    [KernelSymbol("mall_classify", "net/sched/cls_matchall.c")]
    public override bool Match(SkBuff skb) => true;
    public override string ToString() => "matchall";
}
