using System.Buffers.Binary;

namespace PktFlow.Wire;

// Generic UDP Encapsulation (draft-ietf-intarea-gue-09, section 3.1), the payload of the UDP datagram:
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |Ver|C|   Hlen  |  Proto/ctype  |             Flags             |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  ~                  Extensions fields (optional)                 ~
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Variant ("Ver") 0 is this header; variant 1 (section 4) has no header at all: the payload is an IPv4
// or IPv6 packet, whose version nibble 0100 / 0110 starts with the bits 01.

/// <summary>A view of the first word of a GUE payload (struct guehdr).</summary>
public readonly ref struct GueHeader
{
    public const int HeaderLength = 4;
    /// <summary>GUE_FLAG_PRIV: a 4-byte private flags field follows (the only flag Linux knows, GUE_FLAGS_ALL).</summary>
    public const ushort FlagPrivate = 0x0001;

    private readonly ReadOnlySpan<byte> _data;
    private GueHeader(ReadOnlySpan<byte> data) => _data = data;

    public static bool TryParse(ReadOnlySpan<byte> data, out GueHeader header)
    {
        header = new GueHeader(data);
        return data.Length >= HeaderLength;
    }

    /// <summary>The two-bit variant (the kernel's guehdr->version).</summary>
    public int Variant => _data[0] >> 6;
    /// <summary>C: a control message rather than data.</summary>
    public bool Control => (_data[0] & 0x20) != 0;
    /// <summary>Length of the extension fields in 32-bit words.</summary>
    public int Hlen => _data[0] & 0x1F;
    public byte ProtoCtype => _data[1];
    public ushort Flags => BinaryPrimitives.ReadUInt16BigEndian(_data[2..]);
    /// <summary>For variant 1, the IP version nibble of the encapsulated packet.</summary>
    public int InnerIpVersion => _data[0] >> 4;
}
