using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.IPv4;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.IPv6;

/// <summary>
/// ip6_fragment (net/ipv6/ip6_output.c): __ip6_finish_output sends an IPv6 datagram as fragments
/// when it is larger than the device MTU (a packet the host built) or larger than the largest
/// fragment conntrack reassembled it from (IP6CB frag_max_size); each fragment goes through
/// ip6_finish_output2 (neighbour output and transmit) on its own.
/// </summary>
public static class Ip6Fragment
{
    /// <summary>
    /// __ip6_finish_output for a packet that is not GSO: returns false when it goes whole to
    /// ip6_finish_output2 (the caller sends it); otherwise fragments it (or drops it with packet too
    /// big) and ends the trace.
    /// </summary>
    /// <param name="routeMtu">The route's mtu metric (ip6_skb_dst_mtu: dst_mtu), or null for the device MTU.</param>
    [KernelSymbol("__ip6_finish_output", "net/ipv6/ip6_output.c")]
    public static bool Output(SkBuff skb, TraceBuilder t, NetDevice outDev, IpAddr nextHop, Fate fate, string via, int? routeMtu = null)
    {
        int mtu = routeMtu ?? outDev.Mtu;
        int length = skb.Length - skb.NetworkHeader;
        var info = skb.FragInfo;
        if (length <= mtu && (info is null || length <= info.MaxSize)) return false;
        string why = length > mtu ? $"{length} bytes > MTU {mtu}" : $"reassembled from fragments of up to {info!.MaxSize} bytes (frag_max_size)";
        // ip6_fragment: never a fragment larger than one it arrived in, nor smaller than IPV6_MIN_MTU (fail_toobig:
        // plain kfree_skb, no drop reason);
        // a forwarded datagram (ignore_df clear) larger than a route mtu below the device's is too big.
        if (info is not null && info.MaxSize > mtu || Unfragmentable(skb.Network) + 16 > mtu || fate == Fate.Forwarded && info is null && length > mtu)
        {
            Ipv6Header.TryParse(skb.Network, out var ip6, out _);
            Icmp6Send.Error(skb, t, Icmp6Send.PacketTooBig, 0, (uint)mtu, $"ICMPv6 packet too big (mtu {mtu}) to {ip6.Source}");
            t.Drop(skb, "Ip6Fragment", "ip6_fragment", "NOT_SPECIFIED", $"{why}: ICMPv6 packet too big sent to {ip6.Source}");
            return true;
        }
        var pieces = Split(skb.Network, mtu, info, FragmentId(skb), out bool fast);
        string list = string.Join(", ", pieces.Select(p => $"{p.Network.Length} (offset {p.Offset}{(p.More ? ", M" : "")})"));
        t.Stage(skb, "Ip6DoFragment", "ip6_fragment", Verdict.Pass,
            $"{why}: {pieces.Count} fragments (identification: a new one from ipv6_select_ident, keyed by a boot-time secret, shown as {(info is null ? "0" : "the one they arrived with")}) {(fast ? "along the boundaries it arrived in (frag_list)" : $"cut at {(info is null ? $"MTU {mtu}" : $"frag_max_size {Math.Max(info.MaxSize, 1280)}")}")}: {list}; the trace follows the last");
        IpFragment.Transmit(skb, t, pieces, EtherTypes.Ipv6, "Ip6Fragment", "ip6_fragment", outDev, nextHop, fate, via);
        return true;
    }

    /// <summary>
    /// The kernel draws a new identification (ipv6_select_ident: a keyed hash of the addresses) that
    /// the model cannot know; it writes the one the fragments arrived with, or 0.
    /// </summary>
    private static uint FragmentId(SkBuff skb) => skb.FragInfo?.Id ?? 0;

    /// <summary>
    /// The fragments ip6_fragment makes of <paramref name="datagram"/>: each is the unfragmentable
    /// part (<see cref="Unfragmentable"/>, its last next-header field now 44), a fragment header (the
    /// upper next header, offset in 8-byte units, M, <paramref name="id"/>) and a piece of the rest.
    /// A datagram conntrack reassembled leaves along the boundaries it arrived in when each piece fits
    /// and all but the last are multiples of 8 (the frag_list fast path); otherwise it is cut in
    /// pieces of the largest multiple of 8 that fits the MTU, or max(frag_max_size, IPV6_MIN_MTU) for a
    /// reassembled one (the slow path).
    /// </summary>
    [KernelSymbol("ip6_fragment", "net/ipv6/ip6_output.c")]
    public static List<IpFragment.Piece> Split(ReadOnlySpan<byte> datagram, int mtu, IpFragInfo? info, uint id, out bool fastPath)
    {
        int hlen = Unfragmentable(datagram, out int prevhdr);
        int total = Math.Min(Ipv6Header.HeaderLength + BinaryPrimitives.ReadUInt16BigEndian(datagram[4..]), datagram.Length);
        if (info is not null) mtu = Math.Max(info.MaxSize, 1280);
        int room = mtu - hlen - 8;
        var header = datagram[..hlen].ToArray();
        byte upper = header[prevhdr];
        header[prevhdr] = IpProtocol.Fragment;
        var payload = datagram[hlen..total];
        var pieces = new List<IpFragment.Piece>();
        // The fast path also needs headroom in every piece of the frag_list for the unfragmentable part
        // and a fragment header (skb_headroom(frag) >= hlen + LL_RESERVED_SPACE + 8): a received fragment
        // has room for the headers it arrived with, so extension headers that ip6_find_1stfragopt moves
        // from the first piece into the unfragmentable part send it down the slow path (recorded on 6.18:
        // ip6-fragment-forward, destination options after the fragment header).
        var lengths = info?.PayloadLengths.ToArray();
        fastPath = lengths is not null && hlen <= info!.HeaderLength && FitsFastPath(lengths, room);
        int ptr = 0;
        if (fastPath)
        {
            for (int i = 0; i < lengths!.Length; i++)
            {
                pieces.Add(Build(header, upper, id, payload.Slice(ptr, lengths[i]), ptr, i < lengths.Length - 1));
                ptr += lengths[i];
            }
            return pieces;
        }
        int left = payload.Length;
        while (left > 0)
        {
            int len = Math.Min(left, room);
            if (len < left) len &= ~7;
            left -= len;
            pieces.Add(Build(header, upper, id, payload.Slice(ptr, len), ptr, left > 0));
            ptr += len;
        }
        return pieces;
    }

    /// <summary>The fast path's geometry check: each piece fits, and all but the last are multiples of 8.</summary>
    private static bool FitsFastPath(int[] lengths, int room)
    {
        for (int i = 0; i < lengths.Length; i++)
            if (lengths[i] <= 0 || lengths[i] > room || (i < lengths.Length - 1 && lengths[i] % 8 != 0)) return false;
        return lengths.Length > 0;
    }

    private static IpFragment.Piece Build(byte[] header, byte upper, uint id, ReadOnlySpan<byte> data, int offset, bool more)
    {
        var b = new byte[header.Length + 8 + data.Length];
        header.CopyTo(b, 0);
        b[header.Length] = upper;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(header.Length + 2), (ushort)(offset | (more ? 1 : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(header.Length + 4), id);
        data.CopyTo(b.AsSpan(header.Length + 8));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), (ushort)(b.Length - Ipv6Header.HeaderLength));
        return new IpFragment.Piece(b, offset, data.Length, more);
    }

    /// <summary>The length of the unfragmentable part (see the overload).</summary>
    public static int Unfragmentable(ReadOnlySpan<byte> datagram) => Unfragmentable(datagram, out _);

    /// <summary>
    /// ip6_find_1stfragopt: the IPv6 header and the extension headers in front of the first one that
    /// may be fragmented: hop-by-hop, routing, and destination options unless they follow a routing
    /// header (so destination options in front of the upper header count as unfragmentable too);
    /// <paramref name="prevhdr"/> is where the next-header field naming the fragmentable part sits.
    /// </summary>
    [KernelSymbol("ip6_find_1stfragopt", "net/ipv6/output_core.c")]
    public static int Unfragmentable(ReadOnlySpan<byte> datagram, out int prevhdr)
    {
        prevhdr = 6;
        int offset = Ipv6Header.HeaderLength;
        bool routing = false;
        while (offset + 8 <= datagram.Length)
        {
            byte next = datagram[prevhdr];
            if (next == IpProtocol.Routing) routing = true;
            else if (next != IpProtocol.HopByHop && (next != IpProtocol.DestOpts || routing)) return offset;
            prevhdr = offset;
            offset += (datagram[offset + 1] + 1) * 8;
        }
        return Math.Min(offset, datagram.Length);
    }
}
