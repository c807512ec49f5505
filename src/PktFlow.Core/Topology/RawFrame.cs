using System.Buffers.Binary;
using PktFlow.Wire;

namespace PktFlow.Topology;

/// <summary>
/// A frame a lab's traffic script writes to a device through a packet socket (tests/Kernel/bin/sendframe:
/// AF_PACKET, protocol 0) rather than through a TCP, UDP or ping socket. The kernel keeps no socket
/// for it on the sender's side: a crafted SYN leaves no SYN_SENT socket, a crafted datagram no
/// connected UDP socket, an answer to either finds no socket (tcp_v4_send_reset, port unreachable).
/// The fields are the ones the script wrote (scapy's defaults for those it left out); null means
/// the frame's own value is not known (an address scapy takes from the route).
/// For ICMP, <see cref="SourcePort"/> is the echo identifier, <see cref="DestinationPort"/> 0 and
/// <see cref="Seq"/> the echo sequence.
/// </summary>
/// <param name="Protocol">TCP, UDP, or ICMP / ICMPv6 for an echo request.</param>
/// <param name="Source">Where it was written: `traffic.sh:7: sendframe`.</param>
public sealed record RawFrame(byte Protocol, IpAddr? SourceAddress, ushort SourcePort, IpAddr? DestinationAddress, ushort DestinationPort, string Source)
{
    /// <summary>The IPv4 identification (scapy's default 1); null for IPv6.</summary>
    public ushort? IpId { get; init; }
    /// <summary>TCP: the flags byte written (scapy's default: SYN).</summary>
    public byte TcpFlags { get; init; }
    /// <summary>TCP: the sequence number; ICMP: the echo sequence (scapy's default 0 for both).</summary>
    public uint Seq { get; init; }

    /// <summary>
    /// Whether the packet <paramref name="src"/>:<paramref name="sport"/> -> <paramref name="dst"/>:<paramref name="dport"/>
    /// (as its sender wrote it, before any NAT) with transport header <paramref name="l4"/> and IPv4
    /// identification <paramref name="ipId"/> is this frame. For TCP the sequence number and flags must
    /// match too: a socket's own segments start from a random ISN, so they are not taken for it.
    /// </summary>
    public bool Is(byte protocol, IpAddr src, ushort sport, IpAddr dst, ushort dport, ReadOnlySpan<byte> l4, ushort? ipId)
    {
        if (protocol != Protocol || sport != SourcePort || dport != DestinationPort || IpId != ipId) return false;
        if (SourceAddress is { } s && s != src || DestinationAddress is { } d && d != dst) return false;
        return Protocol switch
        {
            IpProtocol.Tcp => l4.Length >= 14 && l4[13] == TcpFlags && BinaryPrimitives.ReadUInt32BigEndian(l4[4..]) == Seq,
            IpProtocol.Udp => true,
            // an echo request: the sequence after the identifier
            _ => l4.Length >= 8 && BinaryPrimitives.ReadUInt16BigEndian(l4[6..]) == Seq,
        };
    }

    public override string ToString() => Protocol is IpProtocol.Tcp or IpProtocol.Udp
        ? $"{(Protocol == IpProtocol.Tcp ? "tcp" : "udp")} {SourceAddress?.ToString() ?? "*"}:{SourcePort} -> {DestinationAddress?.ToString() ?? "*"}:{DestinationPort} ({Source})"
        : $"echo request id {SourcePort} seq {Seq} {SourceAddress?.ToString() ?? "*"} -> {DestinationAddress?.ToString() ?? "*"} ({Source})";
}
