using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.IPv4;
using PktFlow.Routing;
using PktFlow.Wire;

namespace PktFlow.IPv6;

/// <summary>
/// The ICMPv6 messages the IPv6 stack builds itself: icmp6_send for errors, icmpv6_echo_reply, and
/// ndisc_send_na for neighbour advertisements. Handed to the engine as child traces.
/// </summary>
public static class Icmp6Send
{
    public const byte DestUnreach = 1, PacketTooBig = 2, TimeExceeded = 3, ParamProblem = 4, EchoReply = 129, NeighborAdvertisement = 136;

    [KernelSymbol("icmp6_send", "net/ipv6/icmp.c")]
    public static void Error(SkBuff skb, TraceBuilder t, byte type, byte code, uint info, string description)
    {
        var orig = skb.Network;
        Ipv6Header.TryParse(orig, out var ip6, out _);
        var ns = skb.Netns;
        IpAddr? src = ns.IsLocalAddress(ip6.Destination) ? ip6.Destination : null;
        if (ip6.Destination.IsMulticast || skb.PktType != PacketType.Host)
        {
            if (type != PacketTooBig && !(type == ParamProblem && code == 2)) { t.Generate($"{description}: not sent (the packet went to a multicast address)"); return; }
            src = null;
        }
        // RFC 4443 2.4 (e): the source must identify a single node; never answer an ICMPv6 error.
        if (ip6.Source.IsZero || ip6.Source.IsMulticast) { t.Generate($"{description}: not sent (source {ip6.Source} is not a single node)"); return; }
        if (Ineligible(orig, ip6)) { t.Generate($"{description}: not sent (an ICMPv6 error or a later fragment is never answered)"); return; }
        // The global limit comes before the source address and the route back; the per-destination one after.
        var gate = Icmp6RateLimit.GlobalAllow(skb, type);
        if (!gate.Allowed) { t.Generate($"{description}: not sent ({IcmpRateLimit.Refused(gate).Detail})"); return; }
        src ??= SourceAddress.Select(ns, ip6.Source, orig);
        if (src is null) { t.Generate($"{description}: not sent (no route back to {ip6.Source})"); return; }
        var limit = Icmp6RateLimit.XrlimAllow(skb, gate, ip6.Source);
        if (!limit.Allowed) { t.Generate($"{description}: not sent ({limit.Detail})"); return; }
        int length = Math.Min(Math.Min(orig.Length, Ipv6Header.HeaderLength + ip6.PayloadLength), 1280 - 40 - 8); // IPV6_MIN_MTU
        Emit(skb, t, src.Value, ip6.Source, Message(src.Value, ip6.Source, type, code, info, orig[..length]), 0, description + limit.Suffix, "icmp6_send", orig.ToArray());
    }

    /// <summary>is_ineligible: the packet is itself an ICMPv6 error, or not the first fragment.</summary>
    private static bool Ineligible(ReadOnlySpan<byte> orig, Ipv6Header ip6)
    {
        Ipv6ExtensionHeaders.Walk(ip6.NextHeader, orig[Ipv6Header.HeaderLength..], out var chain);
        if (chain.HasFragment && chain.FragmentOffset != 0) return true;
        if (chain.UpperProtocol != IpProtocol.Icmpv6) return false;
        int at = Ipv6Header.HeaderLength + chain.UpperOffset;
        return at >= orig.Length || orig[at] < 128;
    }

    [KernelSymbol("icmpv6_echo_reply", "net/ipv6/icmp.c")]
    public static void EchoReplyTo(SkBuff skb, TraceBuilder t, ReadOnlySpan<byte> request, string description)
    {
        Ipv6Header.TryParse(skb.Network, out var ip6, out _);
        var ns = skb.Netns;
        var src = !ip6.Destination.IsMulticast && ns.IsLocalAddress(ip6.Destination) ? ip6.Destination
            : SourceAddress.Select(ns, ip6.Source) ?? ip6.Destination;
        // Echo replies are limited like errors when 129 is in net.ipv6.icmp.ratemask (not by default).
        var gate = Icmp6RateLimit.GlobalAllow(skb, EchoReply);
        var limit = gate.Allowed ? Icmp6RateLimit.XrlimAllow(skb, gate, ip6.Source) : IcmpRateLimit.Refused(gate);
        if (!limit.Allowed) { t.Generate($"{description}: not sent ({limit.Detail})"); return; }
        var body = request[8..];
        Emit(skb, t, src, ip6.Source, Message(src, ip6.Source, EchoReply, 0, BinaryPrimitives.ReadUInt32BigEndian(request[4..]), body), 0, description + limit.Suffix, "icmpv6_echo_reply");
    }

    /// <summary>ndisc_send_na: hop limit 255, from the target, the target link-layer option when asked for it.</summary>
    [KernelSymbol("ndisc_send_na", "net/ipv6/ndisc.c")]
    public static void NeighbourAdvertisement(SkBuff skb, TraceBuilder t, IpAddr to, IpAddr target, bool router, bool solicited, bool @override, bool includeOption, string description)
    {
        var body = new byte[16 + (includeOption ? 8 : 0)];
        target.Write(body);
        if (includeOption)
        {
            body[16] = 2; // ND_OPT_TARGET_LL_ADDR
            body[17] = 1;
            skb.Dev.Mac.Write(body.AsSpan(18));
        }
        uint flags = (router ? 0x8000_0000u : 0) | (solicited ? 0x4000_0000u : 0) | (@override ? 0x2000_0000u : 0);
        Emit(skb, t, target, to, Message(target, to, NeighborAdvertisement, 0, flags, body), 255, description, "ndisc_send_na");
    }

    /// <summary>
    /// ndisc_solicit's multicast probe (ndisc_send_ns): to the target's solicited-node group, hop limit
    /// 255, from the packet's own source when it is an address of the device, else the device's
    /// link-local address; the source link-layer address option.
    /// </summary>
    [KernelSymbol("ndisc_solicit", "net/ipv6/ndisc.c")]
    public static void NeighbourSolicitation(SkBuff skb, TraceBuilder t, IpAddr? packetSource, IpAddr target, string description)
    {
        var own = skb.Netns.AddressesOf(skb.Dev.Name).Where(a => a.Family == IpFamily.V6).ToList();
        IpAddr? src = packetSource is { } ps && own.Any(a => a.Address == ps) ? ps : own.FirstOrDefault(a => a.Scope == Topology.AddressScope.Link)?.Address;
        if (src is null) { t.Generate($"{description}: not sent ({skb.Dev.Name} has no link-local address)"); return; }
        var group = IpAddr.V6(0xFF02UL << 48, 0x0000_0001_FF00_0000UL | (target.Lo & 0xFF_FFFF));
        var body = new byte[16 + 8];
        target.Write(body);
        body[16] = 1; // ND_OPT_SOURCE_LL_ADDR
        body[17] = 1;
        skb.Dev.Mac.Write(body.AsSpan(18));
        Emit(skb, t, src.Value, group, Message(src.Value, group, Icmpv6Header.NeighborSolicitation, 0, 0, body), 255,
            $"{description}: who has {target}, from {src}", "ndisc_solicit");
    }

    private static byte[] Message(IpAddr src, IpAddr dst, byte type, byte code, uint rest, ReadOnlySpan<byte> body)
    {
        var m = GeneratedHeaders.Icmp(type, code, rest, body);
        GeneratedHeaders.TransportChecksum(src, dst, IpProtocol.Icmpv6, m, 2); // ICMPv6 sums the pseudo-header too
        return m;
    }

    private static void Emit(SkBuff skb, TraceBuilder t, IpAddr src, IpAddr dst, byte[] message, int hopLimit, string description, string function, byte[]? hashed = null)
    {
        var ns = skb.Netns;
        byte hops = (byte)(hopLimit > 0 ? hopLimit : GeneratedHeaders.HopLimit(ns, skb.Dev.Name));
        // icmp6_send and icmpv6_echo_reply: flowi6_mark = IP6_REPLY_MARK; neighbour discovery has none
        var (mark, markSource) = function is "icmp6_send" or "icmpv6_echo_reply" ? Socket.ReplyMark.Of(skb, null) : (0u, null);
        t.Emit(new GeneratedPacket
        {
            Description = description, Function = function, Namespace = ns, Device = skb.Dev, Mark = mark, MarkSource = markSource,
            Protocol = EtherTypes.Ipv6, Network = GeneratedHeaders.Ipv6(src, dst, IpProtocol.Icmpv6, hops, message),
            // icmpv6_getfrag: nf_ct_attach for errors (types below 128), not for informational messages
            Ct = function == "icmp6_send" ? skb.Ct?.AttachedToAnswer() : null,
            HashedPacket = hashed,
        });
    }
}
