using System.Buffers.Binary;

namespace PktFlow.Wire;

/// <summary>
/// An 802.1D BPDU after its LLC header (DSAP 0x42, SSAP 0x42, UI), as br_stp_rcv reads it
/// (net/bridge/br_stp_bpdu.c). A configuration BPDU is 35 bytes:
/// <code>
///  0      2         3     4      5            13          17             25      27     29     31      33
/// +------+---------+-----+------+------------+-----------+--------------+-------+------+------+-------+-------+
/// | 0000 | version | type| flags| root id (8)| root cost | bridge id (8)| port  | age  | max  | hello | fwd   |
/// +------+---------+-----+------+------------+-----------+--------------+-------+------+------+-------+-------+
/// </code>
/// Times are in 1/256 s. A TCN BPDU is the first 4 bytes with type 0x80.
/// </summary>
public readonly record struct StpBpdu(byte Type, bool TopologyChange, bool TopologyChangeAck, ulong Root, uint RootPathCost,
    ulong Bridge, ushort PortId, long MessageAgeNs, long MaxAgeNs, long HelloTimeNs, long ForwardDelayNs)
{
    public const byte Config = 0x00, Tcn = 0x80;
    /// <summary>The bridge group address 01:80:c2:00:00:00.</summary>
    public static readonly MacAddress GroupAddress = new(0x0180_C200_0000UL);

    /// <summary>
    /// Parses the bytes after the LLC header. False when br_stp_rcv drops it unread: fewer than 4
    /// bytes, or protocol id and version not all zero (an RSTP BPDU, version 2, is one of those);
    /// a configuration BPDU shorter than 35 bytes (why says so).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> b, out StpBpdu bpdu, out string? why)
    {
        bpdu = default;
        why = null;
        if (b.Length < 4) { why = "shorter than 4 bytes"; return false; }
        if (b[0] != 0 || b[1] != 0 || b[2] != 0) { why = $"protocol id {b[0]:x2}{b[1]:x2} version {b[2]} (br_stp_rcv takes 802.1D: all zero)"; return false; }
        if (b[3] != Config) { bpdu = new StpBpdu(b[3], false, false, 0, 0, 0, 0, 0, 0, 0, 0); return true; }
        if (b.Length < 35) { why = "a configuration BPDU shorter than 35 bytes"; return false; }
        bpdu = new StpBpdu(Config, (b[4] & 0x01) != 0, (b[4] & 0x80) != 0, BinaryPrimitives.ReadUInt64BigEndian(b[5..]),
            BinaryPrimitives.ReadUInt32BigEndian(b[13..]), BinaryPrimitives.ReadUInt64BigEndian(b[17..]), BinaryPrimitives.ReadUInt16BigEndian(b[25..]),
            Ticks(b[27..]), Ticks(b[29..]), Ticks(b[31..]), Ticks(b[33..]));
        return true;
    }

    private static long Ticks(ReadOnlySpan<byte> b) => BinaryPrimitives.ReadUInt16BigEndian(b) * 1_000_000_000L / 256;

    /// <summary>The LLC header of a BPDU: DSAP and SSAP 0x42 (LLC_SAP_BSPAN), control 0x03 (UI).</summary>
    public static bool IsStpLlc(ReadOnlySpan<byte> llc) => llc.Length >= 3 && llc[0] == 0x42 && llc[1] == 0x42 && llc[2] == 0x03;

    /// <summary>A bridge id as tcpdump prints it: priority.MAC (8000.02:00:00:00:00:fe).</summary>
    public static string IdText(ulong id) => $"{id >> 48:x4}.{new MacAddress(id)}";

    public override string ToString() => Type == Tcn ? "TCN BPDU"
        : $"config BPDU root {IdText(Root)} cost {RootPathCost} from {IdText(Bridge)} port {PortId:x4}, age {Seconds(MessageAgeNs)}/{Seconds(MaxAgeNs)} s{(TopologyChange ? ", TC" : "")}{(TopologyChangeAck ? ", TC ack" : "")}";

    internal static string Seconds(long ns) => (ns / 1e9).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}
