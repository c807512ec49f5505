using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Routing;
using PktFlow.Wire;

namespace PktFlow.IPv4;

/// <summary>
/// The ICMP messages the IPv4 stack builds itself (net/ipv4/icmp.c): __icmp_send for errors and
/// icmp_reply for echo replies, with the checks that suppress them and the rate limits
/// (<see cref="IcmpRateLimit"/>). The packet is handed to the engine, which traces it as a child.
/// </summary>
public static class IcmpSend
{
    public const byte EchoReply = 0, DestUnreach = 3, Redirect = 5, TimeExceeded = 11, ParameterProblem = 12;
    public const byte PortUnreach = 3, FragNeeded = 4, RedirectHost = 1;

    /// <summary>icmp_pointers[type].error: the types that are errors (an error never answers an error).</summary>
    public static bool IsError(byte type) => type is 1 or 2 or 3 or 4 or 5 or 6 or 7 or 9 or 10 or 11 or 12 || type > 18;

    /// <summary>
    /// __icmp_send(skb_in, type, code, info): answers the packet at skb's network header.
    /// <paramref name="localDestination"/> is RTCF_LOCAL of its input route (the source is then its
    /// destination); otherwise the output route to the sender picks the source.
    /// </summary>
    [KernelSymbol("__icmp_send", "net/ipv4/icmp.c")]
    public static void Error(SkBuff skb, TraceBuilder t, byte type, byte code, uint info, bool localDestination, string description)
    {
        var why = Suppressed(skb, type);
        if (why is not null) { t.Generate($"{description}: not sent ({why})"); return; }
        var orig = skb.Network;
        Ipv4Header.TryParse(orig, out var ip, out _);
        var ns = skb.Netns;
        IpAddr? src = localDestination ? ip.Destination : null;
        if (src is null && ns.Sysctls.IsOn("net.ipv4.icmp_errors_use_inbound_ifaddr"))
            src = ns.AddressesOf(skb.Dev.Name).FirstOrDefault(a => a.Family == IpFamily.V4)?.Address;
        src ??= SourceAddress.Select(ns, ip.Source, orig) ?? IpAddr.V4(0xC0000008); // INADDR_DUMMY 192.0.0.8
        var (mark, markSource) = Socket.ReplyMark.Of(skb, null); // icmp_route_lookup: flowi4_mark = IP4_REPLY_MARK
        var route = ns.Fib.Lookup(ip.Source, src, "lo", null, mark);
        if (!route.Found) { t.Generate($"{description}: not sent (no route back to {ip.Source})"); return; }
        var limit = IcmpRateLimit.Allow(skb, type, code, ip.Source);
        if (!limit.Allowed) { t.Generate($"{description}: not sent ({limit.Detail})"); return; }
        // RFC 1812 4.3.2.3 / icmp.c: as much of the original as fits in 576 bytes.
        int mtu = route.Route?.Device is { } d && ns.Device(d) is { } dev ? dev.Mtu : 1500;
        int room = Math.Min(mtu, 576) - 20 - 8;
        // skb_in->len from the network header: ip_rcv trimmed it to tot_len, which a decapsulation
        // may have shrunk since (FOU/GUE); a packet the stack did not trim yet is cut at tot_len.
        int ipLength = skb.LengthFromNetwork ?? Math.Min(ip.TotalLength, orig.Length);
        var quoted = orig[..Math.Min(ipLength, room)];
        byte tos = IsError(type) ? (byte)((ip.Tos & 0x1E) | 0xC0) : ip.Tos;
        var message = GeneratedHeaders.Icmp(type, code, info, quoted);
        var bytes = GeneratedHeaders.Ipv4(src.Value, ip.Source, IpProtocol.Icmp, tos, (byte)GeneratedHeaders.DefaultTtl(ns), false, message);
        t.Emit(new GeneratedPacket
        {
            Description = description + limit.Suffix, Function = "__icmp_send", Namespace = ns, Device = skb.Dev, Mark = mark, MarkSource = markSource,
            Protocol = EtherTypes.Ipv4, Network = bytes,
            Ct = IsError(type) ? skb.Ct?.AttachedToAnswer() : null, // icmp_glue_bits: nf_ct_attach for errors
            HashedPacket = orig.ToArray(),
        });
    }

    /// <summary>Why __icmp_send sends nothing for this packet, or null.</summary>
    private static string? Suppressed(SkBuff skb, byte type)
    {
        if (skb.PktType != PacketType.Host) return "the frame was not addressed to this host's MAC";
        if (!Ipv4Header.TryParse(skb.Network, out var ip, out _)) return "no IPv4 header";
        if (ip.Destination.IsMulticast || ip.Destination.IsLimitedBroadcast) return "the packet went to a broadcast/multicast address";
        if (ip.FragmentOffset != 0) return "only the first fragment is answered";
        if (IsError(type) && ip.Protocol == IpProtocol.Icmp)
        {
            var inner = ip.Payload;
            if (inner.Length < 1) return "the ICMP header is cut short";
            if (IsError(inner[0])) return "an ICMP error is never answered with an ICMP error";
        }
        return null;
    }

    /// <summary>icmp_reply for icmp_echo: the request's data back, from the address it was sent to.</summary>
    [KernelSymbol("icmp_reply", "net/ipv4/icmp.c")]
    public static void Reply(SkBuff skb, TraceBuilder t, ReadOnlySpan<byte> request, string description)
    {
        Ipv4Header.TryParse(skb.Network, out var ip, out _);
        var ns = skb.Netns;
        var limit = IcmpRateLimit.Allow(skb, EchoReply, 0, ip.Source, fromLoopbackExempt: false); // icmp_reply has no loopback exemption
        if (!limit.Allowed) { t.Generate($"{description}: not sent ({limit.Detail})"); return; }
        // fib_compute_spec_dst: the destination when it is a local unicast address, else the
        // address the receiving device would use towards the sender.
        IpAddr src = ns.IsLocalAddress(ip.Destination) ? ip.Destination
            : SourceAddress.Select(ns, ip.Source) ?? ip.Destination;
        var message = GeneratedHeaders.Icmp(EchoReply, 0, BinaryPrimitives.ReadUInt32BigEndian(request[4..]), request[8..]);
        var bytes = GeneratedHeaders.Ipv4(src, ip.Source, IpProtocol.Icmp, ip.Tos, (byte)GeneratedHeaders.DefaultTtl(ns), false, message);
        var (mark, markSource) = Socket.ReplyMark.Of(skb, null);
        t.Emit(new GeneratedPacket
        {
            Description = description + limit.Suffix, Function = "icmp_reply", Namespace = ns, Device = skb.Dev, Mark = mark, MarkSource = markSource,
            Protocol = EtherTypes.Ipv4, Network = bytes,
        });
    }
}
