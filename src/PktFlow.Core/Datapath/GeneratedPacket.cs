using System.Buffers.Binary;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Datapath;

/// <summary>
/// A packet the kernel builds in answer to the one being traced (an ICMP error, an echo reply, a TCP
/// reset, an ARP reply, a neighbour advertisement): its bytes from the network header on, the
/// namespace that sends it and the device its cause arrived on. The engine traces it through that
/// namespace's output path as a child trace once the cause's walk has ended.
/// </summary>
public sealed class GeneratedPacket
{
    /// <summary>What it is, in words (the cause's <see cref="PacketTrace.Generated"/> line).</summary>
    public required string Description { get; init; }
    /// <summary>The kernel function that builds and sends it (icmp_send, tcp_v4_send_reset, arp_send...).</summary>
    public required string Function { get; init; }
    public required NetNamespace Namespace { get; init; }
    /// <summary>The device the cause arrived on (ARP and neighbour advertisements leave by it).</summary>
    public required NetDevice Device { get; init; }
    /// <summary>EtherType of <see cref="Network"/>.</summary>
    public required ushort Protocol { get; init; }
    /// <summary>The packet from the network header on (IP header, or the ARP payload).</summary>
    public required byte[] Network { get; init; }
    /// <summary>Where arp_send addresses the frame (the requester); null for IP packets, which the neighbour layer addresses.</summary>
    public MacAddress? LinkDestination { get; init; }
    /// <summary>The conntrack nf_ct_attach gives it (the cause's connection, RELATED / RELATED_REPLY), or null.</summary>
    public Netfilter.Conntrack.CtLookup? Ct { get; init; }
    /// <summary>
    /// For an ICMP error: the packet that caused it, whose flow the output lookup's multipath hash
    /// uses (icmp_route_lookup passes skb_in to fib_multipath_hash; icmp6_send hashes its skb into
    /// fl6.mp_hash); null when the hash is that of the packet's own flow.
    /// </summary>
    public byte[]? HashedPacket { get; init; }
    /// <summary>
    /// skb->mark it is built with, which its output route lookup and the output hooks see: the mark of
    /// the packet it answers under fwmark_reflect (IP4_REPLY_MARK), else that of the socket that
    /// answers (a listener's reset), else 0 (<see cref="Socket.ReplyMark"/>).
    /// </summary>
    public uint Mark { get; init; }
    /// <summary>Where <see cref="Mark"/> comes from, in words (null when it is 0).</summary>
    public string? MarkSource { get; init; }
    /// <summary>A copy of the packet itself (tc mirred mirror, nft dup) rather than one the kernel builds; null for built packets.</summary>
    public PacketCopy? Copy { get; init; }
    /// <summary>
    /// Its TCP sequence number is the host's secret (a synproxy syncookie): the frame the capture shows is
    /// recognised without it, and gives it (<see cref="ChildTraces"/>).
    /// </summary>
    public bool SeqUnknown { get; init; }
    /// <summary>Built by the kernel (not a copy) though walked like a copy from the stage that sends it (synproxy's packets, sent from inside a hook).</summary>
    public bool Built { get; init; }
}

/// <summary>
/// A copy of the traced packet that the kernel sends on its own way while the original goes on
/// (skb_clone in tcf_mirred_act, pskb_copy in nf_dup_ipv4/ipv6, skb_clone in nf_dup_netdev_egress):
/// the clone with its metadata as it was made, and the walk it takes from there. It is traced as a
/// child trace of the original, with its own stages and fate.
/// </summary>
public sealed class PacketCopy
{
    /// <summary>The clone, its bytes and metadata as the copying stage left them.</summary>
    public required SkBuff Skb { get; init; }
    /// <summary>Where its walk goes from the copying stage on (dev_queue_xmit of a device, netif_receive_skb, ip_local_out).</summary>
    public required Action<SkBuff, TraceBuilder> Walk { get; init; }
    /// <summary>Received on <see cref="Skb"/>'s device (a mirred ingress mirror) rather than sent: a capture there shows it arriving.</summary>
    public bool Received { get; init; }
    /// <summary>Handed on synchronously (inside the action or hook that made it): walked at once, before the original goes on.</summary>
    public bool Synchronous { get; init; }
    /// <summary>The walk, once made (at once for a synchronous copy, else after the original's).</summary>
    internal ChildTraces.TracedChild? Traced { get; set; }

    /// <summary>The child a copy is: made from <paramref name="clone"/> at its namespace and device.</summary>
    public static GeneratedPacket Of(SkBuff clone, string function, string description, Action<SkBuff, TraceBuilder> walk, bool synchronous, bool received = false, bool seqUnknown = false, bool built = false) => new()
    {
        Description = description, Function = function, Namespace = clone.Netns, Device = clone.Dev, Protocol = clone.Protocol,
        Network = clone.Network.ToArray(), Mark = clone.Mark, SeqUnknown = seqUnknown, Built = built,
        Copy = new PacketCopy { Skb = clone, Walk = walk, Received = received, Synchronous = synchronous },
    };
}

/// <summary>Writes the IP headers the kernel puts on the packets it generates.</summary>
internal static class GeneratedHeaders
{
    /// <summary>An IPv4 header (ip_build_and_send_pkt / ip_push_pending_frames): no options, checksum filled in.</summary>
    public static byte[] Ipv4(IpAddr src, IpAddr dst, byte protocol, byte tos, byte ttl, bool dontFragment, ReadOnlySpan<byte> payload)
    {
        var b = new byte[20 + payload.Length];
        payload.CopyTo(b.AsSpan(20));
        WriteIpv4(b, src, dst, protocol, tos, ttl, dontFragment);
        return b;
    }

    /// <summary>The same header written in place over the first 20 bytes of <paramref name="packet"/>, its payload already after them.</summary>
    public static void WriteIpv4(Span<byte> packet, IpAddr src, IpAddr dst, byte protocol, byte tos, byte ttl, bool dontFragment)
    {
        packet[0] = 0x45;
        packet[1] = tos;
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], (ushort)packet.Length);
        BinaryPrimitives.WriteUInt16BigEndian(packet[4..], 0);
        // IP id: ip_select_ident hashes a per-net secret for packets without DF; with DF and no
        // connected socket it is 0. The model writes 0 either way (see docs/results.md).
        BinaryPrimitives.WriteUInt16BigEndian(packet[6..], dontFragment ? (ushort)0x4000 : (ushort)0);
        packet[8] = ttl;
        packet[9] = protocol;
        packet[10] = packet[11] = 0;
        src.Write(packet[12..]);
        dst.Write(packet[16..]);
        Ipv4HeaderWriter.UpdateHeaderChecksum(packet);
    }

    /// <summary>An IPv6 header (ip6_xmit / ip6_push_pending_frames) with flow label 0.</summary>
    public static byte[] Ipv6(IpAddr src, IpAddr dst, byte nextHeader, byte hopLimit, ReadOnlySpan<byte> payload)
    {
        var b = new byte[40 + payload.Length];
        payload.CopyTo(b.AsSpan(40));
        WriteIpv6(b, src, dst, nextHeader, hopLimit);
        return b;
    }

    /// <summary>The same header written in place over the first 40 bytes of <paramref name="packet"/>, its payload already after them.</summary>
    public static void WriteIpv6(Span<byte> packet, IpAddr src, IpAddr dst, byte nextHeader, byte hopLimit)
    {
        BinaryPrimitives.WriteUInt32BigEndian(packet, 0x60000000);
        BinaryPrimitives.WriteUInt16BigEndian(packet[4..], (ushort)(packet.Length - 40));
        packet[6] = nextHeader;
        packet[7] = hopLimit;
        src.Write(packet[8..]);
        dst.Write(packet[24..]);
    }

    /// <summary>An ICMP message: type, code, the 4-byte rest of header, the body, the Internet checksum.</summary>
    public static byte[] Icmp(byte type, byte code, uint rest, ReadOnlySpan<byte> body)
    {
        var m = new byte[8 + body.Length];
        m[0] = type;
        m[1] = code;
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(4), rest);
        body.CopyTo(m.AsSpan(8));
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), Checksum.Internet(m));
        return m;
    }

    /// <summary>Fills in the checksum at <paramref name="offset"/> of a transport segment over the pseudo-header.</summary>
    public static void TransportChecksum(IpAddr src, IpAddr dst, byte protocol, Span<byte> segment, int offset)
    {
        segment[offset] = 0;
        segment[offset + 1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(segment[offset..], Checksum.Transport(src, dst, protocol, segment));
    }

    public static int DefaultTtl(NetNamespace ns) =>
        int.TryParse(ns.Sysctls.Get("net.ipv4.ip_default_ttl"), out var v) && v is > 0 and < 256 ? v : 64;

    public static int HopLimit(NetNamespace ns, string device) =>
        int.TryParse(ns.Sysctls.Conf("ipv6", device, "hop_limit") ?? ns.Sysctls.Get("net.ipv6.conf.all.hop_limit"), out var v) && v is > 0 and < 256 ? v : 64;
}
