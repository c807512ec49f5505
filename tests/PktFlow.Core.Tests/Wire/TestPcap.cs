using System.Buffers.Binary;

namespace PktFlow.Tests.Wire;

/// <summary>One record of a classic pcap file.</summary>
public sealed record PcapRecord(int LinkType, byte[] Data, int WireLength);

/// <summary>
/// A minimal classic-pcap reader/writer for the wire tests (microsecond and nanosecond magic, both
/// byte orders). Private to the tests so they do not depend on the Capture layer.
/// </summary>
public static class TestPcap
{
    public const int LinkEthernet = 1;
    public const int LinkRaw = 101;
    public const int LinkIpv4 = 228;
    public const int LinkIpv6 = 229;

    public static List<PcapRecord> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var list = new List<PcapRecord>();
        if (bytes.Length < 24) return list;
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        bool le;
        if (magic is 0xA1B2C3D4 or 0xA1B23C4D) le = true;
        else if (magic is 0xD4C3B2A1 or 0x4D3CB2A1) le = false;
        else return list; // pcapng or unknown: not handled here
        uint U32(int o) => le ? BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(o)) : BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(o));
        int link = (int)(U32(20) & 0x0FFF_FFFF);
        int off = 24;
        while (off + 16 <= bytes.Length)
        {
            int incl = (int)U32(off + 8);
            int orig = (int)U32(off + 12);
            off += 16;
            if (incl < 0 || off + incl > bytes.Length) break;
            list.Add(new PcapRecord(link, bytes.AsSpan(off, incl).ToArray(), Math.Max(orig, incl)));
            off += incl;
        }
        return list;
    }

    public static byte[] Write(int linkType, IEnumerable<(byte[] Data, int WireLength)> records, uint firstSecond = 1_700_000_000)
    {
        using var ms = new MemoryStream();
        Span<byte> h = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(h, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], 262144);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], (uint)linkType);
        ms.Write(h);
        uint t = firstSecond;
        Span<byte> r = stackalloc byte[16];
        foreach (var (data, wire) in records)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(r, t++);
            BinaryPrimitives.WriteUInt32LittleEndian(r[4..], 0);
            BinaryPrimitives.WriteUInt32LittleEndian(r[8..], (uint)data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(r[12..], (uint)Math.Max(wire, data.Length));
            ms.Write(r);
            ms.Write(data);
        }
        return ms.ToArray();
    }

    /// <summary>The EtherType argument for <c>PacketSummary.Format</c> for a link type, or -1 if unsupported.</summary>
    public static int EtherTypeFor(int linkType, ReadOnlySpan<byte> data) => linkType switch
    {
        LinkEthernet => 0,
        LinkIpv4 => 0x0800,
        LinkIpv6 => 0x86DD,
        LinkRaw or 12 or 14 => data.Length > 0 && data[0] >> 4 == 6 ? 0x86DD : 0x0800,
        _ => -1,
    };

    public static string RepoRoot() => PktFlow.Testing.RepoPaths.Root;

    public static string WireTestData(string file) => Path.Combine(RepoRoot(), "tests", "PktFlow.Core.Tests", "TestData", "wire", file);

    private static readonly System.Text.RegularExpressions.Regex Timestamp = new(
        @"^\s*(?:\d+\s+(?=\d{2}:|\d{4}-))?(?:\d{4}-\d{2}-\d{2} )?\d{2}:\d{2}:\d{2}(?:\.\d+)? ",
        System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>Drops tcpdump's packet number (-#) and timestamp ("HH:MM:SS.ffffff " or with a date).</summary>
    public static string StripTimestamp(string line)
    {
        var m = Timestamp.Match(line);
        return m.Success ? line[m.Length..] : line;
    }

    /// <summary>Splits a record into what <c>PacketSummary.Format</c> takes: the bytes from the
    /// Ethernet header (etherType 0) or from the network header, or false for link types not handled.</summary>
    public static bool Link(PcapRecord r, out byte[] data, out int etherType, out int wireLength)
    {
        data = r.Data;
        wireLength = r.WireLength;
        etherType = EtherTypeFor(r.LinkType, r.Data);
        if (r.LinkType == LinkLinuxSll)
        {
            // Linux cooked v1: 16-byte header, protocol type in the last two bytes; tcpdump prints it only with -e.
            if (r.Data.Length < 16) return false;
            etherType = BinaryPrimitives.ReadUInt16BigEndian(r.Data.AsSpan(14));
            data = r.Data[16..];
            wireLength = r.WireLength - 16;
        }
        return etherType >= 0;
    }

    public const int LinkLinuxSll = 113;

}
