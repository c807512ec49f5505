using System.Buffers.Binary;

namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// An IPv6 extension header field (nft_exthdr, NFT_EXTHDR_OP_IPV6): ipv6_find_hdr walks the chain of
/// extension headers to the first header of the type; the field is read at an offset into it. No such
/// header, no match (NFT_BREAK); with <c>exists</c> the value is whether it was found. rt0, rt2 and srh
/// also need the routing header's type (the dependency nft adds: <c>rt type 0|2|4</c>).
/// </summary>
internal sealed class ExthdrSelector : NftSelector
{
    private readonly NftType _type;
    public byte HeaderType; public int Offset, Width, Shift; public ulong Mask;
    public bool Exists; public int RoutingType = -1;
    public ExthdrSelector(NftType t) { _type = t; }
    public override NftType Type => _type;

    public override bool Load(NftEvalCtx c, Span<byte> dst)
    {
        if (NetProto(c.P) != L3.V6) return false;
        var n = c.P.Network;
        int at = Find(n, HeaderType);
        if (at >= 0 && RoutingType >= 0 && (n.Length < at + 3 || n[at + 2] != RoutingType)) at = -1;
        if (Exists) { dst[0] = at >= 0 ? (byte)1 : (byte)0; return true; }
        if (at < 0 || n.Length < at + Offset + Width) return false;
        return Field(n.Slice(at + Offset, Width), dst, Shift, Mask);
    }

    /// <summary>ipv6_find_hdr: the offset of the first header of <paramref name="target"/>, or -1.</summary>
    internal static int Find(ReadOnlySpan<byte> n, byte target)
    {
        if (n.Length < 40) return -1;
        byte next = n[6]; int off = 40;
        for (int guard = 0; guard < 64; guard++)
        {
            if (next == target) return off;
            // ipv6_ext_hdr: hop-by-hop, routing, fragment, AH, destination options (and no next header: the end)
            if (next is not (0 or 43 or 44 or 51 or 60) || n.Length < off + 8) return -1;
            if (next == 44)
            {
                if ((((n[off + 2] << 8) | n[off + 3]) & 0xFFF8) != 0) return -1; // a later fragment: nothing follows
                next = n[off]; off += 8; continue;
            }
            int len = next == 51 ? (n[off + 1] + 2) * 4 : (n[off + 1] + 1) * 8;
            next = n[off]; off += len;
        }
        return -1;
    }
}

/// <summary>
/// A TCP option field (nft_exthdr, NFT_EXTHDR_OP_TCPOPT): the options after the fixed header are walked
/// (EOL and NOP are one byte, the others carry their length; the last byte is never a kind) to the first
/// option of the kind; the field is read at an offset into it, if the option is long enough. Not found,
/// no match; with <c>exists</c> the value is whether it was found.
/// </summary>
internal sealed class TcpOptionSelector : NftSelector
{
    private readonly NftType _type;
    public byte Kind; public int Offset, Width, Shift; public ulong Mask; public bool Exists;
    public TcpOptionSelector(NftType t) { _type = t; }
    public override NftType Type => _type;

    public override bool Load(NftEvalCtx c, Span<byte> dst)
    {
        var p = c.P;
        if (p.L4Protocol != 6 || p.TransportOffset < 0 || p.Network.Length < p.TransportOffset + 20) return false;
        var tcp = p.Network[p.TransportOffset..];
        int hdrLen = Math.Min((tcp[12] >> 4) * 4, tcp.Length);
        int found = NftTcpOption.Find(tcp, hdrLen, Kind, out int at, out int len) && at + len <= hdrLen && Offset + (Exists ? 0 : Width) <= len ? at : -1;
        if (Exists) { dst[0] = found >= 0 ? (byte)1 : (byte)0; return true; }
        if (found < 0) return false;
        return Field(tcp.Slice(found + Offset, Width), dst, Shift, Mask);
    }
}

/// <summary>What <see cref="CtTupleSelector"/> reads of a connection's tuple.</summary>
internal enum CtTupleKey { Saddr, Daddr, ProtoSrc, ProtoDst, L3Proto, Protocol, Zone }

/// <summary>
/// nft_ct_get_eval of the tuple keys: <c>ct [original|reply] ip|ip6 saddr|daddr</c>, <c>proto-src</c>,
/// <c>proto-dst</c> (network order), <c>l3proto</c>, <c>protocol</c>, <c>zone</c>. A packet without a
/// connection entry (untracked, invalid) does not match (NFT_BREAK).
/// </summary>
internal sealed class CtTupleSelector : NftSelector
{
    private readonly NftType _type;
    public CtTupleKey Key; public bool Reply;
    /// <summary>ct original|reply zone: the zone id of that direction (nf_ct_zone_id); plain ct zone reads the id.</summary>
    public bool Directed;
    public CtTupleSelector(NftType t) { _type = t; }
    public override NftType Type => _type;
    public override bool HostOrder => Key == CtTupleKey.Zone;

    public override bool Load(NftEvalCtx c, Span<byte> dst)
    {
        if (Key == CtTupleKey.Zone && c.P.Conntrack is null && c.CtTemplateZone is { } tz)
        {
            // before conntrack the packet's ct is the template a ct zone set attached
            BinaryPrimitives.WriteUInt16BigEndian(dst, Directed ? tz.IdFor(Reply ? Conntrack.CtDirection.Reply : Conntrack.CtDirection.Original) : tz.Id);
            return true;
        }
        if (c.P.Conntrack is not { Original: { } orig } ct) return false;
        var t = Reply ? ct.Reply ?? orig : orig;
        switch (Key)
        {
            case CtTupleKey.Saddr or CtTupleKey.Daddr:
                var a = Key == CtTupleKey.Saddr ? t.Source : t.Destination;
                if (dst.Length != (a.IsV4 ? 4 : 16)) return false; // the other family
                a.Write(dst);
                return true;
            case CtTupleKey.ProtoSrc: BinaryPrimitives.WriteUInt16BigEndian(dst, t.SourcePort); return true;
            case CtTupleKey.ProtoDst: BinaryPrimitives.WriteUInt16BigEndian(dst, t.DestinationPort); return true;
            case CtTupleKey.L3Proto: dst[0] = t.Source.IsV4 ? (byte)2 : (byte)10; return true;
            case CtTupleKey.Protocol: dst[0] = t.Protocol; return true;
            default:
                var zone = new Conntrack.ConntrackZone(ct.Zone, ct.ZoneDir);
                BinaryPrimitives.WriteUInt16BigEndian(dst, Directed ? zone.IdFor(Reply ? Conntrack.CtDirection.Reply : Conntrack.CtDirection.Original) : zone.Id);
                return true;
        }
    }
}

/// <summary>
/// An SCTP chunk field (nft_exthdr, NFT_EXTHDR_OP_SCTP): the chunks after the 12-byte common header are
/// walked (each padded to 4 bytes; a zero length ends the walk) to the first chunk of the type; the
/// field must lie within the chunk's length. Not found, no match; with <c>exists</c> whether it was found.
/// </summary>
internal sealed class SctpChunkSelector : NftSelector
{
    private readonly NftType _type;
    public byte ChunkType; public int Offset, Width; public bool Exists;
    public SctpChunkSelector(NftType t) { _type = t; }
    public override NftType Type => _type;

    public override bool Load(NftEvalCtx c, Span<byte> dst)
    {
        var p = c.P;
        if (p.L4Protocol != 132 || p.TransportOffset < 0) return false;
        var n = p.Network;
        int found = -1;
        for (int off = p.TransportOffset + 12; off + 4 <= n.Length;)
        {
            int len = (n[off + 2] << 8) | n[off + 3];
            if (len == 0) break;
            if (n[off] == ChunkType)
            {
                if (Exists || (Offset + Width <= len && off + len <= n.Length)) found = off;
                break;
            }
            off += (len + 3) & ~3;
        }
        if (Exists) { dst[0] = found >= 0 ? (byte)1 : (byte)0; return true; }
        if (found < 0) return false;
        n.Slice(found + Offset, Width).CopyTo(dst);
        return true;
    }
}
