using System.Buffers.Binary;
using System.Text;

namespace PktFlow.Tests.Capture;

/// <summary>Builds capture files byte by byte, in either byte order, including broken ones.</summary>
internal sealed class ByteBuilder(bool bigEndian)
{
    private readonly List<byte> _bytes = [];

    public bool BigEndian { get; set; } = bigEndian;
    public int Length => _bytes.Count;

    public ByteBuilder U8(byte v)
    {
        _bytes.Add(v);
        return this;
    }

    public ByteBuilder U16(ushort v)
    {
        Span<byte> b = stackalloc byte[2];
        if (BigEndian) BinaryPrimitives.WriteUInt16BigEndian(b, v); else BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        return Bytes(b);
    }

    public ByteBuilder U32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        if (BigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return Bytes(b);
    }

    public ByteBuilder U64(ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        if (BigEndian) BinaryPrimitives.WriteUInt64BigEndian(b, v); else BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return Bytes(b);
    }

    public ByteBuilder Bytes(ReadOnlySpan<byte> v)
    {
        foreach (byte b in v) _bytes.Add(b);
        return this;
    }

    public ByteBuilder Pad4()
    {
        while (_bytes.Count % 4 != 0) _bytes.Add(0);
        return this;
    }

    public byte[] ToArray() => [.. _bytes];
}

/// <summary>A pcap file, header first, records appended.</summary>
internal sealed class PcapBuilder
{
    private readonly ByteBuilder _b;

    public PcapBuilder(bool bigEndian = false, bool nano = false, uint snaplen = 262144, uint linkType = 1,
        ushort major = 2, ushort minor = 4)
    {
        _b = new ByteBuilder(bigEndian);
        _b.U32(nano ? 0xa1b23c4du : 0xa1b2c3d4u).U16(major).U16(minor).U32(0).U32(0).U32(snaplen).U32(linkType);
    }

    public PcapBuilder Record(uint seconds, uint fraction, byte[] data, uint? caplen = null, uint? original = null)
    {
        _b.U32(seconds).U32(fraction).U32(caplen ?? (uint)data.Length).U32(original ?? (uint)data.Length).Bytes(data);
        return this;
    }

    public PcapBuilder Raw(params byte[] bytes)
    {
        _b.Bytes(bytes);
        return this;
    }

    public byte[] ToArray() => _b.ToArray();
}

/// <summary>A pcapng file: sections, interfaces, packet and other blocks, with lengths filled in unless overridden.</summary>
internal sealed class PcapNgBuilder
{
    private readonly ByteBuilder _b;

    public PcapNgBuilder(bool bigEndian = false, ushort major = 1)
    {
        _b = new ByteBuilder(bigEndian);
        Section(bigEndian, major);
    }

    public PcapNgBuilder Section(bool bigEndian, ushort major = 1, ulong sectionLength = ulong.MaxValue)
    {
        _b.BigEndian = bigEndian;
        var body = new ByteBuilder(bigEndian).U32(0x1a2b3c4d).U16(major).U16(0).U64(sectionLength);
        return Block(0x0a0d0d0a, body.ToArray());
    }

    public PcapNgBuilder Interface(uint linkType, uint snaplen = 262144, string? name = null, byte? tsresol = null,
        long? tsoffset = null)
    {
        var body = new ByteBuilder(_b.BigEndian).U16((ushort)linkType).U16(0).U32(snaplen);
        bool any = false;
        if (name is not null)
        {
            byte[] n = Encoding.UTF8.GetBytes(name);
            body.U16(2).U16((ushort)n.Length).Bytes(n).Pad4();
            any = true;
        }

        if (tsresol is { } r)
        {
            body.U16(9).U16(1).U8(r).Pad4();
            any = true;
        }

        if (tsoffset is { } o)
        {
            body.U16(14).U16(8).U64((ulong)o);
            any = true;
        }

        if (any) body.U32(0);
        return Block(1, body.ToArray());
    }

    public PcapNgBuilder Epb(uint interfaceId, ulong timestamp, byte[] data, uint? caplen = null, uint? original = null)
    {
        var body = new ByteBuilder(_b.BigEndian).U32(interfaceId).U32((uint)(timestamp >> 32)).U32((uint)timestamp)
            .U32(caplen ?? (uint)data.Length).U32(original ?? (uint)data.Length).Bytes(data).Pad4();
        return Block(6, body.ToArray());
    }

    public PcapNgBuilder Opb(ushort interfaceId, ulong timestamp, byte[] data, uint? original = null)
    {
        var body = new ByteBuilder(_b.BigEndian).U16(interfaceId).U16(0).U32((uint)(timestamp >> 32)).U32((uint)timestamp)
            .U32((uint)data.Length).U32(original ?? (uint)data.Length).Bytes(data).Pad4();
        return Block(2, body.ToArray());
    }

    public PcapNgBuilder Spb(uint original, byte[] data)
    {
        var body = new ByteBuilder(_b.BigEndian).U32(original).Bytes(data).Pad4();
        return Block(3, body.ToArray());
    }

    /// <summary>Any block; the body is padded to 32 bits.</summary>
    public PcapNgBuilder Block(uint type, byte[] body, uint? length = null, uint? trailer = null)
    {
        int padded = (body.Length + 3) & ~3;
        uint total = (uint)(12 + padded);
        _b.U32(type).U32(length ?? total).Bytes(body);
        for (int i = body.Length; i < padded; i++) _b.U8(0);
        _b.U32(trailer ?? length ?? total);
        return this;
    }

    public PcapNgBuilder Raw(params byte[] bytes)
    {
        _b.Bytes(bytes);
        return this;
    }

    public byte[] ToArray() => _b.ToArray();
}

/// <summary>Small frames for each link layer.</summary>
internal static class Frames
{
    public static readonly byte[] Ipv4Udp = Convert.FromHexString(
        "4500001c0001000040110000c0000201c6336401" + "d431003500080000");

    public static readonly byte[] Ipv6Udp = Convert.FromHexString(
        "6000000000081140" + "20010db8000000000000000000000001" + "20010db8000000000000000000000002" + "d431003500080000");

    public static byte[] Ethernet(ushort etherType, byte[] payload) =>
        [.. Convert.FromHexString("020000000002020000000001"), (byte)(etherType >> 8), (byte)etherType, .. payload];

    public static byte[] Sll(ushort packetType, ushort arphrd, ushort protocol, byte[] payload) =>
        [(byte)(packetType >> 8), (byte)packetType, (byte)(arphrd >> 8), (byte)arphrd, 0, 6,
            .. Convert.FromHexString("0200000000010000"), (byte)(protocol >> 8), (byte)protocol, .. payload];

    public static byte[] Sll2(ushort protocol, int ifindex, ushort arphrd, byte packetType, byte[] payload) =>
        [(byte)(protocol >> 8), (byte)protocol, 0, 0, (byte)(ifindex >> 24), (byte)(ifindex >> 16), (byte)(ifindex >> 8), (byte)ifindex,
            (byte)(arphrd >> 8), (byte)arphrd, packetType, 6, .. Convert.FromHexString("0200000000010000"), .. payload];

    public static byte[] Null(uint family, bool bigEndian, byte[] payload)
    {
        var b = new ByteBuilder(bigEndian).U32(family).Bytes(payload);
        return b.ToArray();
    }
}

/// <summary>The committed sample capture TestData/capture/mixed-sections.pcapng, built from code so it can be regenerated.</summary>
internal static class SampleFiles
{
    public const string MixedSections = "tests/PktFlow.Core.Tests/TestData/capture/mixed-sections.pcapng";

    public static byte[] BuildMixedSections()
    {
        byte[] eth = Frames.Ethernet(0x0800, Frames.Ipv4Udp);
        byte[] sll2 = Frames.Sll2(0x86dd, 7, 1, 0, Frames.Ipv6Udp);
        byte[] loop = Frames.Null(24, bigEndian: true, Frames.Ipv6Udp);
        byte[] nullLe = Frames.Null(2, bigEndian: false, Frames.Ipv4Udp);
        return new PcapNgBuilder(bigEndian: false)
            .Interface(1, 64, name: "eth0")                                         // if0: microseconds, snaplen 64
            .Interface(276, 0, name: "any", tsresol: 9)                              // if1: nanoseconds, no snaplen
            .Interface(101, 262144, name: "tun0", tsresol: 0x94)                      // if2: 2^-20 s
            .Block(4, [0, 0, 0, 0])                                                   // name resolution: skipped
            .Epb(0, 1_700_000_000_123_456UL, eth)
            .Epb(1, 1_700_000_000_987_654_321UL, sll2)
            .Epb(2, (1_700_000_001UL << 20) + (1UL << 19), Frames.Ipv6Udp)            // +0.5 s
            .Opb(0, 1_700_000_002_000_001UL, eth)
            .Spb(100, [.. eth, .. new byte[22]])                                      // 100-byte packet cut to the snaplen
            .Block(5, new ByteBuilder(false).U32(0).U32(0).U32(0).U32(0).ToArray())     // interface statistics: skipped
            .Epb(0, 1_700_000_003_000_000UL, eth.AsSpan(0, 34).ToArray(), original: 1514)
            .Epb(2, (1_700_000_003UL << 20) + 1, Frames.Ipv4Udp)                      // +1/2^20 s = 953.67 ns
            .Section(bigEndian: true)
            .Interface(108, 65535, name: "lo0", tsresol: 3)                           // if0: milliseconds
            .Interface(0, 65535, tsoffset: 86_400)                                    // if1: microseconds, one day later
            .Epb(0, 1_700_000_004_250UL, loop)
            .Epb(1, 1_700_000_005_000_007UL, nullLe)
            .Block(0x0a, new ByteBuilder(true).U32(0x544c534b).U32(4).Bytes([1, 2, 3, 4]).ToArray()) // decryption secrets: skipped
            .ToArray();
    }
}
