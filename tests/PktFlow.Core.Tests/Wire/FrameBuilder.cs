using System.Buffers.Binary;
using PktFlow.Wire;

namespace PktFlow.Tests.Wire;

/// <summary>
/// Builds test frames byte by byte (independent of the views under test, apart from the checksum
/// routine, which PacketDotNet cross-checks in the Construct tests).
/// </summary>
public static class FrameBuilder
{
    public static readonly MacAddress MacA = MacAddress.Parse("02:00:00:00:00:01");
    public static readonly MacAddress MacB = MacAddress.Parse("02:00:00:00:00:02");

    public static byte[] Ether(MacAddress dst, MacAddress src, ushort type, ReadOnlySpan<byte> payload, params (ushort Tpid, ushort Tci)[] tags)
    {
        var b = new byte[14 + 4 * tags.Length + payload.Length];
        dst.Write(b);
        src.Write(b.AsSpan(6));
        int o = 12;
        foreach (var (tpid, tci) in tags)
        {
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(o), tpid);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(o + 2), tci);
            o += 4;
        }
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(o), type);
        payload.CopyTo(b.AsSpan(o + 2));
        return b;
    }

    public static byte[] Ether(ushort type, ReadOnlySpan<byte> payload) => Ether(MacB, MacA, type, payload);

    /// <summary>Pads an Ethernet frame to the 60-byte minimum as a NIC would.</summary>
    public static byte[] Pad60(byte[] frame) => frame.Length >= 60 ? frame : [.. frame, .. new byte[60 - frame.Length]];

    public static byte[] Ipv4(string src, string dst, byte protocol, ReadOnlySpan<byte> payload, byte ttl = 64,
        ushort id = 1, bool df = false, bool mf = false, int fragOffset = 0, ReadOnlySpan<byte> options = default,
        int? totalLength = null, byte tos = 0, bool fixChecksum = true)
    {
        int hl = 20 + options.Length;
        var b = new byte[hl + payload.Length];
        b[0] = (byte)(0x40 | (hl / 4));
        b[1] = tos;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)(totalLength ?? b.Length));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), (ushort)((df ? 0x4000 : 0) | (mf ? 0x2000 : 0) | (fragOffset / 8)));
        b[8] = ttl;
        b[9] = protocol;
        IpAddr.Parse(src).Write(b.AsSpan(12));
        IpAddr.Parse(dst).Write(b.AsSpan(16));
        options.CopyTo(b.AsSpan(20));
        if (fixChecksum) BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(10), Checksum.Internet(b.AsSpan(0, hl)));
        payload.CopyTo(b.AsSpan(hl));
        return b;
    }

    public static byte[] Ipv6(string src, string dst, byte nextHeader, ReadOnlySpan<byte> payload, byte hopLimit = 64,
        int? payloadLength = null, byte trafficClass = 0, uint flowLabel = 0)
    {
        var b = new byte[40 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(b, 0x6000_0000u | (uint)trafficClass << 20 | (flowLabel & 0xFFFFF));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), (ushort)(payloadLength ?? payload.Length));
        b[6] = nextHeader;
        b[7] = hopLimit;
        IpAddr.Parse(src).Write(b.AsSpan(8));
        IpAddr.Parse(dst).Write(b.AsSpan(24));
        payload.CopyTo(b.AsSpan(40));
        return b;
    }

    /// <summary>A generic extension header (hop-by-hop, routing, destination options) of 8*(len+1) bytes.</summary>
    public static byte[] ExtHeader(byte next, ReadOnlySpan<byte> body)
    {
        int total = (body.Length + 2 + 7) / 8 * 8;
        var b = new byte[total];
        b[0] = next;
        b[1] = (byte)(total / 8 - 1);
        body.CopyTo(b.AsSpan(2));
        if (total - 2 - body.Length >= 2) { b[2 + body.Length] = 1; b[3 + body.Length] = (byte)(total - 4 - body.Length); } // PadN
        else if (total - 2 - body.Length == 1) b[2 + body.Length] = 0; // Pad1
        return b;
    }

    public static byte[] FragmentHeader(byte next, int offset, bool more, uint id)
    {
        var b = new byte[8];
        b[0] = next;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)((offset & 0xFFF8) | (more ? 1 : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), id);
        return b;
    }

    public static byte[] Tcp(string src, string dst, ushort sport, ushort dport, uint seq, uint ack, TcpFlags flags,
        ReadOnlySpan<byte> options = default, ReadOnlySpan<byte> payload = default, ushort window = 64240,
        ushort urgent = 0, int? dataOffset = null)
    {
        int hl = 20 + (options.Length + 3) / 4 * 4;
        var b = new byte[hl + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(b, sport);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), seq);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), ack);
        b[12] = (byte)((dataOffset ?? hl / 4) << 4 | ((int)flags >> 8 & 1));
        b[13] = (byte)flags;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(14), window);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(18), urgent);
        options.CopyTo(b.AsSpan(20));
        payload.CopyTo(b.AsSpan(hl));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(16), Checksum.Transport(IpAddr.Parse(src), IpAddr.Parse(dst), IpProtocol.Tcp, b));
        return b;
    }

    public static byte[] Udp(string src, string dst, ushort sport, ushort dport, ReadOnlySpan<byte> payload, int? length = null, bool checksum = true)
    {
        var b = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(b, sport);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), (ushort)(length ?? b.Length));
        payload.CopyTo(b.AsSpan(8));
        if (checksum) BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), Checksum.Transport(IpAddr.Parse(src), IpAddr.Parse(dst), IpProtocol.Udp, b));
        return b;
    }

    public static byte[] Icmp(byte type, byte code, uint rest, ReadOnlySpan<byte> payload)
    {
        var b = new byte[8 + payload.Length];
        b[0] = type;
        b[1] = code;
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), rest);
        payload.CopyTo(b.AsSpan(8));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), Checksum.Internet(b));
        return b;
    }

    public static byte[] Icmpv6(string src, string dst, byte type, byte code, uint rest, ReadOnlySpan<byte> body)
    {
        var b = new byte[8 + body.Length];
        b[0] = type;
        b[1] = code;
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), rest);
        body.CopyTo(b.AsSpan(8));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), Checksum.Transport(IpAddr.Parse(src), IpAddr.Parse(dst), IpProtocol.Icmpv6, b));
        return b;
    }

    public static byte[] Arp(ushort op, MacAddress sha, string spa, MacAddress tha, string tpa)
    {
        var b = new byte[28];
        BinaryPrimitives.WriteUInt16BigEndian(b, 1);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), 0x0800);
        b[4] = 6;
        b[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), op);
        sha.Write(b.AsSpan(8));
        IpAddr.Parse(spa).Write(b.AsSpan(14));
        tha.Write(b.AsSpan(18));
        IpAddr.Parse(tpa).Write(b.AsSpan(24));
        return b;
    }

    public static byte[] Bytes(int n, byte seed = 0)
    {
        var b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte)(seed + i);
        return b;
    }

    public static byte[] Ascii(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static byte[] Ipv6Addr(string a)
    {
        var b = new byte[16];
        IpAddr.Parse(a).Write(b);
        return b;
    }

    // TCP option encodings.
    public static byte[] OptMss(ushort mss) => [2, 4, (byte)(mss >> 8), (byte)mss];
    public static byte[] OptWscale(byte s) => [3, 3, s];
    public static readonly byte[] OptSackOk = [4, 2];
    public static readonly byte[] OptNop = [1];
    public static byte[] OptTs(uint val, uint ecr)
    {
        var b = new byte[10];
        b[0] = 8; b[1] = 10;
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(2), val);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(6), ecr);
        return b;
    }
    public static byte[] OptSack(params (uint L, uint R)[] blocks)
    {
        var b = new byte[2 + 8 * blocks.Length];
        b[0] = 5; b[1] = (byte)b.Length;
        for (int i = 0; i < blocks.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(2 + 8 * i), blocks[i].L);
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(6 + 8 * i), blocks[i].R);
        }
        return b;
    }
}
