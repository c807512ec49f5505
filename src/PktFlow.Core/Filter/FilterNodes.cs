using System.Globalization;
using PktFlow.Wire;

namespace PktFlow.Filter;

internal enum CompareOp : byte { Eq, Ne, Lt, Gt, Le, Ge }

internal enum ArithOp : byte { Add, Sub, Mul, Div, Mod, And, Or, Xor, Shl, Shr }

/// <summary>
/// A compiled filter is a tree of these, built once by <see cref="FilterParser"/>; evaluating it
/// walks the tree over a <see cref="FilterPacket"/> and allocates nothing. Every node returns false
/// once the packet is <see cref="FilterPacket.Aborted"/>, so an out-of-range load rejects the packet
/// from anywhere in the tree (as BPF does).
/// </summary>
internal abstract class FilterNode
{
    public abstract bool Eval(ref FilterPacket p);

    /// <summary>A fully parenthesised rendering, for tests and debugging.</summary>
    public abstract override string ToString();

    protected static bool Compare(uint a, CompareOp op, uint b) => op switch
    {
        CompareOp.Eq => a == b,
        CompareOp.Ne => a != b,
        CompareOp.Lt => a < b,
        CompareOp.Gt => a > b,
        CompareOp.Le => a <= b,
        _ => a >= b,
    };

    protected static string Symbol(CompareOp op) => op switch
    {
        CompareOp.Eq => "=",
        CompareOp.Ne => "!=",
        CompareOp.Lt => "<",
        CompareOp.Gt => ">",
        CompareOp.Le => "<=",
        _ => ">=",
    };

    protected static string Hex(uint v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    protected static string Layer(FilterLayer layer, int depth) => layer switch
    {
        FilterLayer.Link => "link",
        FilterLayer.Network => "net",
        FilterLayer.Transport => "l4",
        _ => "ip6pay",
    } + (depth > 0 ? "@vlan" + depth.ToString(CultureInfo.InvariantCulture) : "");
}

internal sealed class AndNode(FilterNode left, FilterNode right) : FilterNode
{
    public FilterNode Left { get; } = left;
    public FilterNode Right { get; } = right;

    public override bool Eval(ref FilterPacket p) => Left.Eval(ref p) && Right.Eval(ref p);

    public override string ToString() => $"({Left} and {Right})";
}

internal sealed class OrNode(FilterNode left, FilterNode right) : FilterNode
{
    public FilterNode Left { get; } = left;
    public FilterNode Right { get; } = right;

    public override bool Eval(ref FilterPacket p)
    {
        if (Left.Eval(ref p)) return true;
        return !p.Aborted && Right.Eval(ref p);
    }

    public override string ToString() => $"({Left} or {Right})";
}

internal sealed class NotNode(FilterNode operand) : FilterNode
{
    public FilterNode Operand { get; } = operand;

    public override bool Eval(ref FilterPacket p)
    {
        bool r = Operand.Eval(ref p);
        return !p.Aborted && !r;
    }

    public override string ToString() => $"(not {Operand})";
}

/// <summary>Matches every packet (the empty expression).</summary>
internal sealed class TrueNode : FilterNode
{
    public static readonly TrueNode Instance = new();

    public override bool Eval(ref FilterPacket p) => true;

    public override string ToString() => "true";
}

/// <summary>The network protocol <paramref name="depth"/> VLAN tags in is <paramref name="type"/> (ip = 0x0800...).</summary>
internal sealed class EtherTypeNode(int depth, ushort type) : FilterNode
{
    public override bool Eval(ref FilterPacket p) => p.EtherType(depth) == type;

    public override string ToString() => $"type{(depth > 0 ? "@vlan" + depth : "")} = {Hex(type)}";
}

/// <summary>
/// An 802.1Q / 802.1ad tag at <paramref name="depth"/> (TPID 0x8100, 0x88a8 or 0x9100), with VID
/// <paramref name="vid"/> unless it is -1. Only Ethernet frames carry tags in band.
/// </summary>
internal sealed class VlanNode(int depth, int vid) : FilterNode
{
    private const int TciOffset = 14;

    public override bool Eval(ref FilterPacket p)
    {
        if (!p.IsEthernet) return false;
        int tpid = p.EtherType(depth);
        if (p.Aborted || !EtherTypes.IsVlan((ushort)tpid)) return false;
        if (vid < 0) return true;
        uint tci = p.Load((uint)(TciOffset + depth * EthernetFrame.TagLength), 2);
        return !p.Aborted && (tci & 0x0FFF) == (uint)vid;
    }

    public override string ToString() => $"vlan{(depth > 0 ? "@vlan" + depth : "")}{(vid >= 0 ? " " + vid : "")}";
}

/// <summary>(field &amp; mask) op value, the field being <paramref name="size"/> bytes at a fixed offset in a layer.</summary>
internal sealed class FieldNode(FilterLayer layer, int depth, uint offset, int size, uint mask, CompareOp op, uint value) : FilterNode
{
    public override bool Eval(ref FilterPacket p)
    {
        uint at = p.Base(layer, depth) + offset;
        uint v = p.Load(at, size) & mask;
        return !p.Aborted && Compare(v, op, value);
    }

    public override string ToString()
    {
        string field = $"{Layer(layer, depth)}[{offset}:{size}]";
        if (mask != SizeMask(size)) field = $"({field} & {Hex(mask)})";
        return $"{field} {Symbol(op)} {Hex(value)}";
    }

    public static uint SizeMask(int size) => size switch { 1 => 0xFF, 2 => 0xFFFF, _ => uint.MaxValue };
}

/// <summary>
/// A 128-bit address (or prefix) compared 32 bits at a time, stopping at the first word that
/// differs, as libpcap's code does; words the mask leaves out are not read.
/// </summary>
internal sealed class AddressWordsNode : FilterNode
{
    private readonly FilterLayer _layer;
    private readonly int _depth;
    private readonly uint _offset;
    private readonly uint[] _values;
    private readonly uint[] _masks;

    public AddressWordsNode(FilterLayer layer, int depth, uint offset, uint[] values, uint[] masks)
    {
        _layer = layer;
        _depth = depth;
        _offset = offset;
        _values = values;
        _masks = masks;
    }

    public override bool Eval(ref FilterPacket p)
    {
        uint at = p.Base(_layer, _depth) + _offset;
        for (int i = 0; i < _values.Length; i++)
        {
            if (_masks[i] == 0) continue;
            uint v = p.Load(at + (uint)(4 * i), 4);
            if (p.Aborted || (v & _masks[i]) != _values[i]) return false;
        }

        return true;
    }

    public override string ToString()
    {
        var words = new List<string>();
        for (int i = 0; i < _values.Length; i++)
        {
            if (_masks[i] != 0) words.Add(_masks[i] == uint.MaxValue ? Hex(_values[i]) : $"{Hex(_values[i])}/{Hex(_masks[i])}");
        }

        return $"{Layer(_layer, _depth)}[{_offset}:16] = {string.Join(':', words)}";
    }
}

/// <summary>inbound / outbound: the PACKET_* type of a Linux cooked capture (PACKET_OUTGOING is 4).</summary>
internal sealed class PacketTypeNode(bool outbound) : FilterNode
{
    private const int Outgoing = (int)Capture.LinuxPacketType.Outgoing;

    public override bool Eval(ref FilterPacket p) =>
        p.PacketType >= 0 && (p.PacketType == Outgoing) == outbound;

    public override string ToString() => outbound ? "outbound" : "inbound";
}

/// <summary>
/// protochain: the protocol appears somewhere in the header chain. IPv6 steps over hop-by-hop,
/// destination options, routing, fragment (RFC 8200 4) and AH (RFC 4302 2) headers; IPv4 over AH.
/// </summary>
internal sealed class ProtochainNode(int depth, bool ipv6, byte protocol) : FilterNode
{
    private const int MaxHeaders = Ipv6ExtensionHeaders.MaxHeaders;

    public override bool Eval(ref FilterPacket p)
    {
        uint nh = p.Base(FilterLayer.Network, depth);
        uint next;
        uint at;
        if (ipv6)
        {
            next = p.Load(nh + 6, 1);
            at = nh + Ipv6Header.HeaderLength;
        }
        else
        {
            next = p.Load(nh + 9, 1);
            at = nh + (p.Load(nh, 1) & 0x0F) * 4;
        }

        for (int i = 0; i <= MaxHeaders && !p.Aborted; i++)
        {
            if (next == protocol) return true;
            bool generic = ipv6 && next is IpProtocol.HopByHop or IpProtocol.DestOpts or IpProtocol.Routing or IpProtocol.Fragment;
            if (!generic && next != IpProtocol.Ah) return false;
            uint following = p.Load(at, 1);
            uint length = p.Load(at + 1, 1);
            at += generic ? (length + 1) * 8 : (length + 2) * 4;
            next = following;
        }

        return false;
    }

    public override string ToString() => $"{(ipv6 ? "ip6" : "ip")}{(depth > 0 ? "@vlan" + depth : "")} protochain {protocol}";
}

/// <summary>An arithmetic comparison: left op right, unsigned 32-bit.</summary>
internal sealed class RelationNode(ArithNode left, CompareOp op, ArithNode right) : FilterNode
{
    public override bool Eval(ref FilterPacket p)
    {
        uint a = left.Eval(ref p);
        uint b = right.Eval(ref p);
        return !p.Aborted && Compare(a, op, b);
    }

    public override string ToString() => $"{left} {Symbol(op)} {right}";
}

/// <summary>An unsigned 32-bit arithmetic expression over the packet.</summary>
internal abstract class ArithNode
{
    public abstract uint Eval(ref FilterPacket p);

    public abstract override string ToString();
}

internal sealed class ConstArith(uint value) : ArithNode
{
    public uint Value { get; } = value;

    public override uint Eval(ref FilterPacket p) => Value;

    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>len: the packet's length on the wire.</summary>
internal sealed class LenArith : ArithNode
{
    public static readonly LenArith Instance = new();

    public override uint Eval(ref FilterPacket p) => p.Length;

    public override string ToString() => "len";
}

/// <summary>proto[index:size]: 1, 2 or 4 bytes at index past the start of a layer.</summary>
internal sealed class LoadArith(FilterLayer layer, int depth, ArithNode index, int size, string name) : ArithNode
{
    public override uint Eval(ref FilterPacket p)
    {
        uint i = index.Eval(ref p);
        uint at = p.Base(layer, depth) + i;
        return p.Aborted ? 0 : p.Load(at, size);
    }

    public override string ToString() => $"{name}{(depth > 0 ? "@vlan" + depth : "")}[{index}:{size}]";
}

internal sealed class NegArith(ArithNode operand) : ArithNode
{
    public override uint Eval(ref FilterPacket p) => unchecked(0u - operand.Eval(ref p));

    public override string ToString() => $"(-{operand})";
}

internal sealed class BinaryArith(ArithOp op, ArithNode left, ArithNode right) : ArithNode
{
    public override uint Eval(ref FilterPacket p)
    {
        uint a = left.Eval(ref p);
        uint b = right.Eval(ref p);
        if (p.Aborted) return 0;
        if (b == 0 && op is ArithOp.Div or ArithOp.Mod)
        {
            // BPF ends the program with "reject" on a division by zero.
            p.Aborted = true;
            return 0;
        }

        return Apply(op, a, b);
    }

    /// <summary>One operation, 32-bit wrapping; shift counts use their low 5 bits (as the x86 BPF interpreters do).</summary>
    public static uint Apply(ArithOp op, uint a, uint b) => unchecked(op switch
    {
        ArithOp.Add => a + b,
        ArithOp.Sub => a - b,
        ArithOp.Mul => a * b,
        ArithOp.Div => a / b,
        ArithOp.Mod => a % b,
        ArithOp.And => a & b,
        ArithOp.Or => a | b,
        ArithOp.Xor => a ^ b,
        ArithOp.Shl => a << (int)(b & 31),
        _ => a >> (int)(b & 31),
    });

    public override string ToString() => $"({left} {Symbol(op)} {right})";

    public static string Symbol(ArithOp op) => op switch
    {
        ArithOp.Add => "+",
        ArithOp.Sub => "-",
        ArithOp.Mul => "*",
        ArithOp.Div => "/",
        ArithOp.Mod => "%",
        ArithOp.And => "&",
        ArithOp.Or => "|",
        ArithOp.Xor => "^",
        ArithOp.Shl => "<<",
        _ => ">>",
    };
}
