using System.Buffers.Binary;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Testing;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>Crafted packets for the conntrack tests (IP header first, as nf_conntrack_in sees them).</summary>
internal static class CtPackets
{
    public static readonly IpAddr A = IpAddr.Parse("10.99.1.1");
    public static readonly IpAddr C = IpAddr.Parse("10.99.2.1");
    public static readonly IpAddr A6 = IpAddr.Parse("2001:db8:1::1");
    public static readonly IpAddr C6 = IpAddr.Parse("2001:db8:2::1");

    /// <summary>Flags as letters: S A F R P U, "-" for none.</summary>
    public static byte Flags(string f) => (byte)f.Sum(c => c switch { 'F' => 1, 'S' => 2, 'R' => 4, 'P' => 8, 'A' => 16, 'U' => 32, _ => 0 });

    public static byte[] Tcp(IpAddr s, IpAddr d, ushort sp, ushort dp, string flags) =>
        s.IsV4 ? FrameBuilder.Ipv4(s, d, IpProtocol.Tcp, FrameBuilder.Tcp(s, d, sp, dp, Flags(flags)))
               : FrameBuilder.Ipv6(s, d, IpProtocol.Tcp, FrameBuilder.Tcp(s, d, sp, dp, Flags(flags)));

    public static byte[] Udp(IpAddr s, IpAddr d, ushort sp, ushort dp) =>
        s.IsV4 ? FrameBuilder.Ipv4(s, d, IpProtocol.Udp, FrameBuilder.Udp(s, d, sp, dp))
               : FrameBuilder.Ipv6(s, d, IpProtocol.Udp, FrameBuilder.Udp(s, d, sp, dp));

    public static byte[] Echo(IpAddr s, IpAddr d, byte type, ushort id)
    {
        if (s.IsV4) return FrameBuilder.Ipv4(s, d, IpProtocol.Icmp, FrameBuilder.IcmpEcho(id, 1, 8, type));
        var body = new byte[4 + 8];
        BinaryPrimitives.WriteUInt16BigEndian(body, id);
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(2), 1);
        return FrameBuilder.Ipv6(s, d, IpProtocol.Icmpv6, FrameBuilder.Icmpv6(s, d, type, body));
    }

    /// <summary>GRE version 0 carrying IPv4 (RFC 2784), or PPTP's enhanced GRE (version 1, key and
    /// sequence present) with <paramref name="callId"/> and inner protocol <paramref name="inner"/>.</summary>
    public static byte[] Gre(IpAddr s, IpAddr d, ushort? callId = null, ushort inner = 0x880b)
    {
        byte[] header = callId is { } id
            ? [0x30, 0x81, (byte)(inner >> 8), (byte)inner, 0, 4, (byte)(id >> 8), (byte)id, 0, 0, 0, 1, 0xab, 0xcd, 0xef, 0x01]
            : [0, 0, 0x08, 0x00, 0xab, 0xcd, 0xef, 0x01];
        return FrameBuilder.Ipv4(s, d, IpProtocol.Gre, header);
    }

    /// <summary>An ICMP (or ICMPv6) error from <paramref name="s"/> to <paramref name="d"/> quoting <paramref name="quoted"/>.</summary>
    public static byte[] Error(IpAddr s, IpAddr d, byte[] quoted, byte type = 3, byte code = 3)
    {
        if (s.IsV4)
        {
            var m = new byte[8 + quoted.Length];
            m[0] = type; m[1] = code;
            quoted.CopyTo(m, 8);
            BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), Checksum.Internet(m));
            return FrameBuilder.Ipv4(s, d, IpProtocol.Icmp, m);
        }
        var body = new byte[4 + quoted.Length];
        quoted.CopyTo(body, 4);
        return FrameBuilder.Ipv6(s, d, IpProtocol.Icmpv6, FrameBuilder.Icmpv6(s, d, type == 3 ? (byte)1 : type, body));
    }

    /// <summary>nf_conntrack_in then, unless the packet is invalid, the confirm at the last hook (as for a forwarded packet).</summary>
    public static CtLookup Pass(this ConntrackTable t, byte[] packet, long nowNs, ushort zone = 0)
    {
        var r = t.In(packet, (packet[0] >> 4) == 6, nowNs, zone);
        if (r.Entry is { Confirmed: false } e) t.Confirm(e);
        return r;
    }

    public static long Sec(double s) => (long)(s * 1_000_000_000);
}
