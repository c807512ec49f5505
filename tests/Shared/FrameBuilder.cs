using System.Buffers.Binary;
using PktFlow.Wire;

namespace PktFlow.Testing;

/// <summary>
/// Builds well-formed frames byte by byte (checksums right unless told otherwise) for tests and the
/// benchmark. Kept independent of the wire views it is used to test, except for the checksum sum.
/// </summary>
public static class FrameBuilder
{
    public static byte[] Ethernet(MacAddress dst, MacAddress src, ushort etherType, ReadOnlySpan<byte> payload, ushort? vlan = null)
    {
        int tag = vlan is null ? 0 : 4;
        var f = new byte[14 + tag + payload.Length];
        dst.Write(f);
        src.Write(f.AsSpan(6));
        if (vlan is { } v)
        {
            BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x8100);
            BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(14), v);
        }
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12 + tag), etherType);
        payload.CopyTo(f.AsSpan(14 + tag));
        return f;
    }

    public static byte[] Ipv4(IpAddr src, IpAddr dst, byte protocol, ReadOnlySpan<byte> payload, byte ttl = 64, bool df = true,
        ushort id = 1, ushort fragmentField = 0)
    {
        var p = new byte[20 + payload.Length];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(6), (ushort)((df ? 0x4000 : 0) | fragmentField));
        p[8] = ttl;
        p[9] = protocol;
        src.Write(p.AsSpan(12));
        dst.Write(p.AsSpan(16));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Internet(p.AsSpan(0, 20)));
        payload.CopyTo(p.AsSpan(20));
        return p;
    }

    public static byte[] Ipv6(IpAddr src, IpAddr dst, byte nextHeader, ReadOnlySpan<byte> payload, byte hopLimit = 64)
    {
        var p = new byte[40 + payload.Length];
        p[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), (ushort)payload.Length);
        p[6] = nextHeader;
        p[7] = hopLimit;
        src.Write(p.AsSpan(8));
        dst.Write(p.AsSpan(24));
        payload.CopyTo(p.AsSpan(40));
        return p;
    }

    public static byte[] Tcp(IpAddr src, IpAddr dst, ushort sport, ushort dport, byte flags = 0x02, uint seq = 1000, int payload = 0)
    {
        var s = new byte[20 + payload];
        BinaryPrimitives.WriteUInt16BigEndian(s, sport);
        BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt32BigEndian(s.AsSpan(4), seq);
        s[12] = 5 << 4;
        s[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(14), 64240);
        BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(16), Checksum.Transport(src, dst, 6, s));
        return s;
    }

    public static byte[] Udp(IpAddr src, IpAddr dst, ushort sport, ushort dport, int payload = 4) =>
        UdpWithPayload(src, dst, sport, dport, new byte[payload]);

    public static byte[] UdpWithPayload(IpAddr src, IpAddr dst, ushort sport, ushort dport, ReadOnlySpan<byte> payload)
    {
        var s = new byte[8 + payload.Length];
        payload.CopyTo(s.AsSpan(8));
        BinaryPrimitives.WriteUInt16BigEndian(s, sport);
        BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(4), (ushort)s.Length);
        var c = Checksum.Transport(src, dst, 17, s);
        BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(6), c == 0 ? (ushort)0xFFFF : c);
        return s;
    }

    public static byte[] IcmpEcho(ushort id, ushort seq, int payload = 56, byte type = 8)
    {
        var m = new byte[8 + payload];
        m[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(6), seq);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), Checksum.Internet(m));
        return m;
    }

    public static byte[] Icmpv6(IpAddr src, IpAddr dst, byte type, ReadOnlySpan<byte> body)
    {
        var m = new byte[4 + body.Length];
        m[0] = type;
        body.CopyTo(m.AsSpan(4));
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), Checksum.Transport(src, dst, 58, m));
        return m;
    }

    /// <summary>A neighbour solicitation for <paramref name="target"/> with a source link-layer address option.</summary>
    public static byte[] NeighborSolicitation(IpAddr src, IpAddr dst, IpAddr target, MacAddress sll)
    {
        var body = new byte[4 + 16 + 8];
        target.Write(body.AsSpan(4));
        body[20] = 1; body[21] = 1;
        sll.Write(body.AsSpan(22));
        return Icmpv6(src, dst, 135, body);
    }

    public static byte[] Arp(ushort op, MacAddress sha, IpAddr spa, MacAddress tha, IpAddr tpa)
    {
        var a = new byte[28];
        BinaryPrimitives.WriteUInt16BigEndian(a, 1);
        BinaryPrimitives.WriteUInt16BigEndian(a.AsSpan(2), 0x0800);
        a[4] = 6; a[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(a.AsSpan(6), op);
        sha.Write(a.AsSpan(8));
        spa.Write(a.AsSpan(14));
        tha.Write(a.AsSpan(18));
        tpa.Write(a.AsSpan(24));
        return a;
    }

    /// <summary>The solicited-node multicast address of <paramref name="a"/> (ff02::1:ffXX:XXXX).</summary>
    public static IpAddr SolicitedNode(IpAddr a) => IpAddr.V6(0xFF02UL << 48, 0x0000_0001_FF00_0000UL | (a.Lo & 0xFFFFFF));

    /// <summary>The Ethernet multicast MAC for an IPv6 group (33:33 + low 32 bits).</summary>
    public static MacAddress MulticastMac(IpAddr group) => new(0x3333_0000_0000UL | (group.Lo & 0xFFFF_FFFF));
}
