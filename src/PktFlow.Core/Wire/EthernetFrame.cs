using System.Buffers.Binary;

namespace PktFlow.Wire;

// Ethernet II frame (IEEE 802.3 clause 3, RFC 894) with up to two VLAN tags (IEEE 802.1Q, 802.1ad):
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                  Destination MAC (6 octets)                   |
//  +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                               |                               |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//  |                    Source MAC (6 octets)                      |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  TPID 0x88a8/0x8100 (optional)| PCP |D|         VID           |  <- outer tag (S-tag or C-tag)
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  TPID 0x8100 (optional)       | PCP |D|         VID           |  <- inner tag (QinQ)
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |          EtherType            |  Payload ...
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

/// <summary>One 802.1Q / 802.1ad tag (TPID + TCI).</summary>
public readonly struct VlanTag : IEquatable<VlanTag>
{
    public VlanTag(ushort tpid, ushort tci) { Tpid = tpid; Tci = tci; }

    /// <summary>Tag protocol identifier: 0x8100 (C-tag), 0x88a8 or 0x9100 (S-tag).</summary>
    public ushort Tpid { get; }
    /// <summary>Tag control information: PCP (3 bits), DEI (1 bit), VID (12 bits).</summary>
    public ushort Tci { get; }
    /// <summary>Priority code point (IEEE 802.1p), 0..7.</summary>
    public byte Pcp => (byte)(Tci >> 13);
    /// <summary>Drop eligible indicator (formerly CFI).</summary>
    public bool Dei => (Tci & 0x1000) != 0;
    /// <summary>VLAN identifier, 0..4095 (0 = priority tag only, 4095 reserved).</summary>
    public ushort Vid => (ushort)(Tci & 0x0FFF);

    public override string ToString() => $"vlan {Vid}, p {Pcp}{(Dei ? ", DEI" : "")}";
    public bool Equals(VlanTag o) => Tpid == o.Tpid && Tci == o.Tci;
    public override bool Equals(object? obj) => obj is VlanTag t && Equals(t);
    public override int GetHashCode() => Tpid << 16 | Tci;
    public static bool operator ==(VlanTag a, VlanTag b) => a.Equals(b);
    public static bool operator !=(VlanTag a, VlanTag b) => !a.Equals(b);
}

/// <summary>
/// A zero-copy view of an Ethernet II frame with at most two VLAN tags. <see cref="TryParse"/> checks
/// the 14-byte header and every tag it walks; after that no member throws. A third tag is left in
/// the payload (EtherType then reads as its TPID), as the kernel's vlan_do_receive handles one tag
/// per pass.
/// </summary>
public readonly ref struct EthernetFrame
{
    private const int DestinationOffset = 0;
    private const int SourceOffset = 6;
    private const int TypeOffset = 12;
    /// <summary>Untagged header length (ETH_HLEN).</summary>
    public const int MinHeaderLength = 14;
    /// <summary>Length of one VLAN tag (VLAN_HLEN).</summary>
    public const int TagLength = 4;
    public const int MaxTags = 2;

    private readonly ReadOnlySpan<byte> _data;
    private readonly int _tags;

    private EthernetFrame(ReadOnlySpan<byte> data, int tags) { _data = data; _tags = tags; }

    /// <summary>The bytes this view was created over (the whole frame).</summary>
    public ReadOnlySpan<byte> Data => _data;

    public static bool TryParse(ReadOnlySpan<byte> data, out EthernetFrame frame, out string? error)
    {
        frame = default;
        if (data.Length < MinHeaderLength)
        {
            error = $"Ethernet frame {data.Length} bytes < {MinHeaderLength}";
            return false;
        }
        int tags = 0;
        int typeOffset = TypeOffset;
        while (tags < MaxTags && EtherTypes.IsVlan(BinaryPrimitives.ReadUInt16BigEndian(data[typeOffset..])))
        {
            // A tag is TPID (already read) + TCI, and the next type field must follow it.
            if (data.Length < typeOffset + TagLength + 2)
            {
                error = $"Ethernet VLAN tag {tags + 1} cut: {data.Length} bytes < {typeOffset + TagLength + 2}";
                return false;
            }
            tags++;
            typeOffset += TagLength;
        }
        frame = new EthernetFrame(data, tags);
        error = null;
        return true;
    }

    public MacAddress Destination => MacAddress.Read(_data[DestinationOffset..]);
    public MacAddress Source => MacAddress.Read(_data[SourceOffset..]);
    /// <summary>Number of VLAN tags found (0..2).</summary>
    public int VlanCount => _tags;
    /// <summary>The i-th tag, outermost first; default when i is out of range.</summary>
    public VlanTag Vlan(int i)
    {
        if ((uint)i >= (uint)_tags) return default;
        int o = TypeOffset + i * TagLength;
        return new VlanTag(BinaryPrimitives.ReadUInt16BigEndian(_data[o..]), BinaryPrimitives.ReadUInt16BigEndian(_data[(o + 2)..]));
    }
    /// <summary>The type after the tags (or an 802.3 length when &lt;= 1500).</summary>
    public ushort EtherType => BinaryPrimitives.ReadUInt16BigEndian(_data[(TypeOffset + _tags * TagLength)..]);
    /// <summary>The type field right after the MAC addresses (the outer TPID when tagged).</summary>
    public ushort OuterEtherType => BinaryPrimitives.ReadUInt16BigEndian(_data[TypeOffset..]);
    /// <summary>14 + 4 per tag.</summary>
    public int HeaderLength => MinHeaderLength + _tags * TagLength;
    /// <summary>True when the type field is an IEEE 802.3 length (LLC frame), not an EtherType.</summary>
    public bool IsLengthField => EtherType <= EtherTypes.MaxLength;
    public ReadOnlySpan<byte> Payload => _data[HeaderLength..];
}
