using System.Buffers.Binary;
using PktFlow.Wire;

namespace PktFlow.Tunnel;

/// <summary>
/// The outer source ports a capture showed (Observe mode). udp_flow_src_port scales the inner packet's
/// skb_get_hash into the port range, and that hash is keyed with a secret drawn once per boot, the
/// same for every namespace: the model cannot compute it, but a port seen for a flow is the port of
/// that flow on every vxlan device of the machine with the same range. What the hash covers (measured
/// on 6.18, docs/vxlan.md): for a packet the flow dissector hashes, the addresses and protocol both
/// ways (ICMP without its identifier; ARP without anything of its own); for a TCP or UDP packet the
/// ports too, one way only, since a socket's packets carry its own random sk_txhash.
/// </summary>
public sealed class VxlanSourcePorts
{
    private readonly Dictionary<(string Range, string Flow), ushort> _seen = new();

    public void Saw(string range, ReadOnlySpan<byte> innerFrame, ushort port)
    {
        if (FlowOf(innerFrame) is { } flow) _seen[(range, flow)] = port;
    }

    public ushort? For(string range, ReadOnlySpan<byte> innerFrame) =>
        FlowOf(innerFrame) is { } flow && _seen.TryGetValue((range, flow), out var p) ? p : null;

    /// <summary>What the hash of <paramref name="innerFrame"/> depends on, as a key; null when unsure (then nothing is learned).</summary>
    internal static string? FlowOf(ReadOnlySpan<byte> innerFrame)
    {
        if (innerFrame.Length < 14) return null;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(innerFrame[12..]);
        var l3 = innerFrame[14..];
        if (type == EtherTypes.Arp) return "arp";
        if (type != EtherTypes.Ipv4 || !Ipv4Header.TryParse(l3, out var ip, out _) || ip.IsFragment) return null;
        string a = ip.Source.ToString(), b = ip.Destination.ToString();
        var l4 = ip.Payload;
        if (ip.Protocol is IpProtocol.Tcp or IpProtocol.Udp)
            return l4.Length < 4 ? null : $"{ip.Protocol} {a}:{BinaryPrimitives.ReadUInt16BigEndian(l4)} > {b}:{BinaryPrimitives.ReadUInt16BigEndian(l4[2..])}";
        if (ip.Protocol == IpProtocol.Icmp) return string.CompareOrdinal(a, b) < 0 ? $"icmp {a} {b}" : $"icmp {b} {a}";
        return null;
    }
}
