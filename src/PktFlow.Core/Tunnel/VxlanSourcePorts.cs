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
    private readonly Dictionary<((int Low, int High) Range, Flow Flow), ushort> _seen = new();

    public void Saw((int Low, int High) range, ReadOnlySpan<byte> innerFrame, ushort port)
    {
        if (FlowOf(innerFrame) is { } flow) _seen[(range, flow)] = port;
    }

    public ushort? For((int Low, int High) range, ReadOnlySpan<byte> innerFrame) =>
        FlowOf(innerFrame) is { } flow && _seen.TryGetValue((range, flow), out var p) ? p : null;

    /// <summary>What the hash covers, as a value key (no string per packet); ARP is protocol 0 with nothing else.</summary>
    internal readonly record struct Flow(byte Protocol, IpAddr A, ushort APort, IpAddr B, ushort BPort);

    /// <summary>What the hash of <paramref name="innerFrame"/> depends on, as a key; null when unsure (then nothing is learned).</summary>
    internal static Flow? FlowOf(ReadOnlySpan<byte> innerFrame)
    {
        if (innerFrame.Length < 14) return null;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(innerFrame[12..]);
        var l3 = innerFrame[14..];
        if (type == EtherTypes.Arp) return new Flow(0, default, 0, default, 0);
        if (type != EtherTypes.Ipv4 || !Ipv4Header.TryParse(l3, out var ip, out _) || ip.IsFragment) return null;
        IpAddr a = ip.Source, b = ip.Destination;
        var l4 = ip.Payload;
        if (ip.Protocol is IpProtocol.Tcp or IpProtocol.Udp)
            return l4.Length < 4 ? null : new Flow(ip.Protocol, a, BinaryPrimitives.ReadUInt16BigEndian(l4), b, BinaryPrimitives.ReadUInt16BigEndian(l4[2..]));
        // ICMP hashes the same both ways: the addresses in a fixed order
        if (ip.Protocol == IpProtocol.Icmp) return a.CompareTo(b) < 0 ? new Flow(ip.Protocol, a, 0, b, 0) : new Flow(ip.Protocol, b, 0, a, 0);
        return null;
    }
}
