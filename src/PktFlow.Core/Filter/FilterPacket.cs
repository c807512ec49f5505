using System.Buffers.Binary;
using PktFlow.Capture;
using PktFlow.Wire;

namespace PktFlow.Filter;

/// <summary>Where a byte offset in a filter counts from.</summary>
internal enum FilterLayer : byte
{
    /// <summary>The first byte of the frame (ether[], link[]).</summary>
    Link,
    /// <summary>The network header (ip[], ip6[], arp[]): after the link header and any VLAN tags the filter stepped into.</summary>
    Network,
    /// <summary>After the IPv4 header, IHL * 4 bytes past the network header (tcp[], udp[], icmp[], IPv4 ports).</summary>
    Transport,
    /// <summary>40 bytes past the network header: after the IPv6 fixed header (icmp6[], IPv6 ports).</summary>
    Ipv6Payload,
}

/// <summary>
/// One packet as a compiled filter sees it: the captured bytes, the wire length, and what the link
/// layer says about where the network header is. A load past the captured bytes sets
/// <see cref="Aborted"/>, and the whole filter then rejects the packet, whatever the expression
/// around the load says: that is what a BPF program does (tcpdump runs one), so
/// <c>not tcp[100] = 1</c> does not match a short TCP segment.
/// </summary>
internal ref struct FilterPacket
{
    private const int NoType = -1;
    private const int EthernetTypeOffset = 12;
    private const int Tag = EthernetFrame.TagLength;

    private readonly ReadOnlySpan<byte> _data;
    private readonly bool _ethernet;
    /// <summary>Non-Ethernet: the protocol of the network header (EtherType), or <see cref="NoType"/>.</summary>
    private readonly int _type;
    /// <summary>Non-Ethernet: the frame is too short for its link header, so reading the type aborts.</summary>
    private readonly bool _typeUnreadable;
    private readonly int _networkOffset;
    private readonly int _packetType;

    public FilterPacket(LinkType linkType, ReadOnlySpan<byte> data, int wireLength)
    {
        _data = data;
        Length = wireLength >= 0 ? (uint)wireLength : (uint)data.Length;
        Aborted = false;
        _packetType = NoType;
        _typeUnreadable = false;
        if (linkType == LinkType.Ethernet)
        {
            _ethernet = true;
            _type = NoType;
            _networkOffset = EthernetFrame.MinHeaderLength;
            return;
        }

        _ethernet = false;
        _networkOffset = 0;
        switch (linkType)
        {
            // The link type alone says what the packet is, even when it is empty (libpcap tests nothing).
            case LinkType.Ipv4:
                _type = EtherTypes.Ipv4;
                return;
            case LinkType.Ipv6:
                _type = EtherTypes.Ipv6;
                return;
        }

        if (LinkLayer.TryDecode(linkType, data, out LinkInfo info, out _))
        {
            _type = info.EtherType;
            _networkOffset = info.NetworkOffset;
            _packetType = info.PacketType is { } pt ? (int)pt : NoType;
            return;
        }

        _type = NoType;
        _typeUnreadable = LinkLayer.IsSupported(linkType) && data.Length < MinimumHeader(linkType);
    }

    /// <summary>The wire length (the captured length when the capture did not record more): pcap-filter's <c>len</c>.</summary>
    public readonly uint Length;

    /// <summary>A load fell outside the captured bytes (or a division by zero): the filter rejects the packet.</summary>
    public bool Aborted;

    /// <summary>PACKET_* type of a Linux cooked capture, or -1.</summary>
    public readonly int PacketType => _packetType;

    /// <summary>
    /// The EtherType of the header <paramref name="depth"/> VLAN tags in: for Ethernet the type field
    /// at 12 + 4 * depth (a tag's TPID when there is one more tag), for other link types what the link
    /// header says (-1 when nothing, or when depth &gt; 0: only Ethernet has in-band tags).
    /// </summary>
    public int EtherType(int depth)
    {
        if (_ethernet) return (int)Load((uint)(EthernetTypeOffset + depth * Tag), 2);
        if (depth > 0) return NoType;
        if (_typeUnreadable)
        {
            Aborted = true;
            return NoType;
        }

        return _type;
    }

    /// <summary>Whether the frame can carry 802.1Q tags in band (Ethernet).</summary>
    public readonly bool IsEthernet => _ethernet;

    /// <summary>The offset of what <paramref name="layer"/> starts at; may load (the IPv4 IHL) and so abort.</summary>
    public uint Base(FilterLayer layer, int depth)
    {
        uint network = (uint)(_networkOffset + (_ethernet ? depth * Tag : 0));
        return layer switch
        {
            FilterLayer.Link => 0,
            FilterLayer.Network => network,
            FilterLayer.Transport => network + (Load(network, 1) & 0x0F) * 4,
            _ => network + Ipv6Header.HeaderLength,
        };
    }

    /// <summary>
    /// A big-endian load of 1, 2 or 4 bytes; 0 with <see cref="Aborted"/> set when it does not fit in
    /// the captured bytes. Offsets are 32-bit and wrap like BPF's (tcp[-1] is the byte before the TCP header).
    /// </summary>
    public uint Load(uint offset, int size)
    {
        if ((ulong)offset + (ulong)size > (ulong)_data.Length)
        {
            Aborted = true;
            return 0;
        }

        var at = _data[(int)offset..];
        return size switch
        {
            1 => at[0],
            2 => BinaryPrimitives.ReadUInt16BigEndian(at),
            _ => BinaryPrimitives.ReadUInt32BigEndian(at),
        };
    }

    private static int MinimumHeader(LinkType type) => type switch
    {
        LinkType.LinuxSll => 16,
        LinkType.LinuxSll2 => 20,
        LinkType.Null or LinkType.Loop => 4,
        _ => 1,
    };
}
