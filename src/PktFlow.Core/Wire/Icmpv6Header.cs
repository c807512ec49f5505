using System.Buffers.Binary;

namespace PktFlow.Wire;

// ICMPv6 header (RFC 4443 2.1) and Neighbor Discovery messages (RFC 4861 4):
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |     Type      |     Code      |          Checksum             |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  Echo: Identifier | Sequence; PTB: MTU; param problem: pointer |
//  |  NA: |R|S|O| reserved;  NS, RS, redirect: reserved            |
//  |  RA: cur hop limit |M|O| reserved | router lifetime           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  NS / NA / redirect: Target Address (16 octets)               |
//  |  RA: reachable time (4), retrans timer (4)                    |
//  |  redirect: Destination Address (16 octets)                    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  ND options (RFC 4861 4.6): Type (1) | Length in 8-octet units |
//  |  (1) | data ...   Source (1) / Target (2) link-layer address   |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

/// <summary>
/// A zero-copy view of an ICMPv6 message: the 8-byte header icmpv6_rcv pulls, then Neighbor
/// Discovery accessors (target, flags, options) for types 133..137. ND accessors return defaults when
/// the message is too short; <see cref="NdProblem()"/> describes what ndisc_rcv would drop.
/// </summary>
public readonly ref struct Icmpv6Header
{
    private const int TypeOffset = 0;
    private const int CodeOffset = 1;
    internal const int ChecksumOffset = 2;
    private const int IdentifierOffset = 4;
    private const int SequenceOffset = 6;
    private const int MtuOffset = 4;
    private const int NaFlagsOffset = 4;
    private const int RaHopLimitOffset = 4;
    private const int RaFlagsOffset = 5;
    private const int RaLifetimeOffset = 6;
    private const int TargetOffset = 8;
    private const int RedirectDestinationOffset = 24;
    public const int HeaderLength = 8;
    /// <summary>NS and NA: header + target address.</summary>
    public const int NeighborMessageLength = 24;
    public const int RouterSolicitationLength = 8;
    public const int RouterAdvertisementLength = 16;
    public const int RedirectLength = 40;

    public const byte DestUnreach = 1;
    public const byte PacketTooBig = 2;
    public const byte TimeExceeded = 3;
    public const byte ParamProblem = 4;
    public const byte EchoRequest = 128;
    public const byte EchoReply = 129;
    public const byte MldQuery = 130;
    public const byte MldReport = 131;
    public const byte MldDone = 132;
    public const byte RouterSolicitation = 133;
    public const byte RouterAdvertisement = 134;
    public const byte NeighborSolicitation = 135;
    public const byte NeighborAdvertisement = 136;
    public const byte Redirect = 137;
    public const byte Mldv2Report = 143;

    // Destination unreachable codes (RFC 4443 3.1).
    public const byte CodeNoRoute = 0;
    public const byte CodeAdminProhibited = 1;
    public const byte CodeBeyondScope = 2;
    public const byte CodeAddressUnreachable = 3;
    public const byte CodePortUnreachable = 4;
    public const byte CodeSourcePolicyFailed = 5;
    public const byte CodeRejectRoute = 6;

    // ND option types (RFC 4861 4.6).
    public const byte OptionSourceLinkLayerAddress = 1;
    public const byte OptionTargetLinkLayerAddress = 2;
    public const byte OptionPrefixInformation = 3;
    public const byte OptionRedirectedHeader = 4;
    public const byte OptionMtu = 5;

    private const byte NaRouter = 0x80;
    private const byte NaSolicited = 0x40;
    private const byte NaOverride = 0x20;

    private readonly ReadOnlySpan<byte> _data;
    private Icmpv6Header(ReadOnlySpan<byte> data) => _data = data;

    public ReadOnlySpan<byte> Data => _data;

    public static bool TryParse(ReadOnlySpan<byte> data, out Icmpv6Header header, out string? error)
    {
        if (data.Length < HeaderLength)
        {
            header = default;
            error = $"ICMPv6 header {data.Length} bytes < {HeaderLength}";
            return false;
        }
        header = new Icmpv6Header(data);
        error = null;
        return true;
    }

    public byte Type => _data[TypeOffset];
    public byte Code => _data[CodeOffset];
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_data[ChecksumOffset..]);
    public ushort Identifier => BinaryPrimitives.ReadUInt16BigEndian(_data[IdentifierOffset..]);
    public ushort SequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(_data[SequenceOffset..]);
    /// <summary>Bytes 4..8 as one word (packet-too-big MTU, parameter-problem pointer).</summary>
    public uint RestOfHeader => BinaryPrimitives.ReadUInt32BigEndian(_data[MtuOffset..]);
    public uint Mtu => RestOfHeader;
    /// <summary>Data after the 8-byte header (errors: the quoted packet; echo: the echo data).</summary>
    public ReadOnlySpan<byte> Payload => _data[HeaderLength..];

    /// <summary>Error messages (types 0..127, RFC 4443 2.1).</summary>
    public bool IsError => Type < 128;
    public bool IsNeighborDiscovery => Type is >= RouterSolicitation and <= Redirect;

    /// <summary>The ND message's fixed length for this type, or 0 for other types.</summary>
    public int NdFixedLength => Type switch
    {
        RouterSolicitation => RouterSolicitationLength,
        RouterAdvertisement => RouterAdvertisementLength,
        NeighborSolicitation or NeighborAdvertisement => NeighborMessageLength,
        Redirect => RedirectLength,
        _ => 0,
    };

    private bool HasTarget => Type is NeighborSolicitation or NeighborAdvertisement or Redirect && _data.Length >= NeighborMessageLength;

    /// <summary>NS/NA/redirect target address (default when absent).</summary>
    public IpAddr TargetAddress => HasTarget ? IpAddr.ReadV6(_data[TargetOffset..]) : IpAddr.AnyV6;
    /// <summary>Redirect destination address (default when absent).</summary>
    public IpAddr RedirectDestination => Type == Redirect && _data.Length >= RedirectLength ? IpAddr.ReadV6(_data[RedirectDestinationOffset..]) : IpAddr.AnyV6;

    public bool Router => Type == NeighborAdvertisement && (_data[NaFlagsOffset] & NaRouter) != 0;
    public bool Solicited => Type == NeighborAdvertisement && (_data[NaFlagsOffset] & NaSolicited) != 0;
    public bool Override => Type == NeighborAdvertisement && (_data[NaFlagsOffset] & NaOverride) != 0;

    /// <summary>RA current hop limit.</summary>
    public byte RaCurrentHopLimit => Type == RouterAdvertisement ? _data[RaHopLimitOffset] : (byte)0;
    /// <summary>RA flags byte (M 0x80, O 0x40, ...).</summary>
    public byte RaFlags => Type == RouterAdvertisement ? _data[RaFlagsOffset] : (byte)0;
    public ushort RaRouterLifetime => Type == RouterAdvertisement ? BinaryPrimitives.ReadUInt16BigEndian(_data[RaLifetimeOffset..]) : (ushort)0;

    /// <summary>The ND option area (empty for non-ND types or when the fixed part is cut).</summary>
    public ReadOnlySpan<byte> NdOptions
    {
        get
        {
            int fixedLength = NdFixedLength;
            return fixedLength == 0 || _data.Length < fixedLength ? default : _data[fixedLength..];
        }
    }

    /// <summary>Allocation-free walk of the ND options.</summary>
    public NdOptionEnumerator EnumerateNdOptions() => new(NdOptions);

    /// <summary>The source link-layer address option (Ethernet, 6 octets), if present.</summary>
    public MacAddress? SourceLinkLayerAddress => FindLinkLayer(OptionSourceLinkLayerAddress);
    /// <summary>The target link-layer address option (Ethernet, 6 octets), if present.</summary>
    public MacAddress? TargetLinkLayerAddress => FindLinkLayer(OptionTargetLinkLayerAddress);

    private MacAddress? FindLinkLayer(byte type)
    {
        foreach (var o in EnumerateNdOptions())
            if (!o.IsMalformed && o.Type == type && o.Data.Length >= 6) return MacAddress.Read(o.Data);
        return null;
    }

    /// <summary>ND validity checks that need only the ICMPv6 bytes (RFC 4861 6.1, 7.1, 8.1); null when fine or not ND.</summary>
    public string? NdProblem() => NdProblem(255);

    /// <summary>As <see cref="NdProblem()"/>, also checking the IPv6 hop limit is 255 (RFC 4861 7.1.1).</summary>
    public string? NdProblem(byte hopLimit)
    {
        int fixedLength = NdFixedLength;
        if (fixedLength == 0) return null;
        string name = TypeName(Type);
        if (hopLimit != 255) return $"ND {name} hop limit {hopLimit} != 255";
        if (Code != 0) return $"ND {name} code {Code} != 0";
        if (_data.Length < fixedLength) return $"ND {name} {_data.Length} bytes < {fixedLength}";
        if (Type is NeighborSolicitation or NeighborAdvertisement && TargetAddress.IsMulticast)
            return $"ND {name} target {TargetAddress} is multicast";
        var e = EnumerateNdOptions();
        while (e.MoveNext())
        {
            var o = e.Current;
            if (o.IsMalformed)
                return o.Length == 0 ? $"ND option type {o.Type} length 0" : $"ND option type {o.Type} cut at byte {fixedLength + e.Offset}";
        }
        return null;
    }

    /// <summary>Name of an ICMPv6 type as tcpdump prints it, or null.</summary>
    public static string TypeName(byte type) => type switch
    {
        DestUnreach => "destination unreachable",
        PacketTooBig => "packet too big",
        TimeExceeded => "time exceeded",
        ParamProblem => "parameter problem",
        EchoRequest => "echo request",
        EchoReply => "echo reply",
        MldQuery => "multicast listener query",
        MldReport => "multicast listener report",
        MldDone => "multicast listener done",
        RouterSolicitation => "router solicitation",
        RouterAdvertisement => "router advertisement",
        NeighborSolicitation => "neighbor solicitation",
        NeighborAdvertisement => "neighbor advertisement",
        Redirect => "redirect",
        Mldv2Report => "multicast listener report v2",
        _ => $"type {type}",
    };
}

/// <summary>One ND option (RFC 4861 4.6).</summary>
public readonly ref struct NdOption
{
    internal NdOption(byte type, int length, ReadOnlySpan<byte> data, bool malformed) { Type = type; Length = length; Data = data; IsMalformed = malformed; }
    public byte Type { get; }
    /// <summary>Length field in 8-octet units.</summary>
    public int Length { get; }
    /// <summary>Option bytes after type and length (clamped).</summary>
    public ReadOnlySpan<byte> Data { get; }
    /// <summary>Length 0 or running past the message; the walk stops after it (ndisc_parse_options).</summary>
    public bool IsMalformed { get; }
}

/// <summary>Allocation-free walk over ND options.</summary>
public ref struct NdOptionEnumerator
{
    private readonly ReadOnlySpan<byte> _options;
    private int _next;
    private bool _done;
    private NdOption _current;

    public NdOptionEnumerator(ReadOnlySpan<byte> options) { _options = options; _next = 0; _done = false; _current = default; }

    public readonly NdOption Current => _current;
    public readonly NdOptionEnumerator GetEnumerator() => this;
    /// <summary>Offset of the current/next option in the option area.</summary>
    public readonly int Offset => _next;

    public bool MoveNext()
    {
        if (_done || _next >= _options.Length) return false;
        int remaining = _options.Length - _next;
        byte type = _options[_next];
        if (remaining < 2)
        {
            _current = new NdOption(type, 0, default, true);
            _done = true;
            return true;
        }
        int units = _options[_next + 1];
        int len = units * 8;
        if (units == 0 || len > remaining)
        {
            _current = new NdOption(type, units, _options[(_next + 2)..], true);
            _done = true;
            return true;
        }
        _current = new NdOption(type, units, _options.Slice(_next + 2, len - 2), false);
        _next += len;
        return true;
    }
}
