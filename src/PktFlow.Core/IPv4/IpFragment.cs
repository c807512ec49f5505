using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.IPv4;

/// <summary>
/// ip_fragment / ip_do_fragment (net/ipv4/ip_output.c): an IPv4 datagram too big for the device, or
/// one conntrack reassembled (IPCB frag_max_size set), leaves as fragments, each through
/// ip_finish_output2 (neighbour output and transmit) on its own.
/// </summary>
public static class IpFragment
{
    /// <summary>One fragment as built (IPv4 or IPv6): the packet, its fragment offset, and whether more follow.</summary>
    public sealed record Piece(byte[] Network, int Offset, int PayloadLength, bool More);

    /// <summary>
    /// __ip_finish_output for a packet that is not GSO: returns false when it fits and was not
    /// reassembled (the caller sends it whole); otherwise fragments it (or drops it) and ends the trace.
    /// </summary>
    /// <param name="routeMtu">What ip_skb_dst_mtu answered from the route's mtu metric, or null for the device MTU.</param>
    [KernelSymbol("ip_fragment", "net/ipv4/ip_output.c")]
    public static bool Output(SkBuff skb, TraceBuilder t, NetDevice outDev, IpAddr nextHop, Fate fate, string via, int? routeMtu = null)
    {
        int mtu = routeMtu ?? outDev.Mtu;
        int length = skb.Length - skb.NetworkHeader;
        var info = skb.FragInfo;
        if (length <= mtu && info is null) return false;
        Ipv4Header.TryParse(skb.Network, out var ip, out _);
        string why = length > mtu ? $"{length} bytes > MTU {mtu}" : $"reassembled from fragments of up to {info!.MaxSize} bytes (frag_max_size)";
        if (ip.DontFragment && (!skb.IgnoreDf || info is not null && info.MaxSize > mtu))
        {
            IcmpSend.Error(skb, t, IcmpSend.DestUnreach, IcmpSend.FragNeeded, (uint)mtu, false, $"ICMP destination unreachable, fragmentation needed (mtu {mtu}) to {ip.Source}");
            skb.State.Gso.SetPathMtu(ip.Source, ip.Destination, mtu, skb.TimestampNs);
            t.Drop(skb, "IpFragment", "ip_fragment", "NOT_SPECIFIED", $"{why} with DF set: ICMP fragmentation needed sent to {ip.Source}");
            return true;
        }
        var pieces = Split(skb.Network, mtu, info, out bool fast);
        string list = string.Join(", ", pieces.Select(p => $"{p.Network.Length} (offset {p.Offset}{(p.More ? ", MF" : "")})"));
        t.Stage(skb, "IpDoFragment", "ip_do_fragment", Verdict.Pass,
            $"{why}: {pieces.Count} fragments {(fast ? "along the boundaries it arrived in (frag_list)" : $"cut at MTU {Math.Min(mtu, info?.MaxSize ?? mtu)}")}: {list}; the trace follows the last");
        Transmit(skb, t, pieces, EtherTypes.Ipv4, "IpFragment", "ip_do_fragment", outDev, nextHop, fate, via);
        return true;
    }

    /// <summary>
    /// Sends the fragments, each through neighbour output on its own: the earlier ones on scratch
    /// traces whose stages and fate join the trace (as notes), then the last one as the packet itself.
    /// Shared with ip6_fragment.
    /// </summary>
    internal static void Transmit(SkBuff skb, TraceBuilder t, IReadOnlyList<Piece> pieces, ushort protocol,
        string stage, string fn, NetDevice outDev, IpAddr nextHop, Fate fate, string via)
    {
        for (int i = 0; i < pieces.Count - 1; i++)
        {
            var piece = pieces[i];
            OnScratch(skb, t, piece.Network, protocol, outDev, $"fragment {i + 1} of {pieces.Count} ({piece.Network.Length} bytes)", (frag, scratch) =>
            {
                scratch.Stage(frag, stage, fn, Verdict.Pass, $"fragment {i + 1} of {pieces.Count}: {piece.Network.Length} bytes at offset {piece.Offset}");
                DevQueueXmit.NeighOutput(frag, scratch, nextHop, fate, via);
            });
        }
        var last = pieces[^1];
        skb.ReplaceNetwork(last.Network);
        skb.FragInfo = null;
        t.Stage(skb, stage, fn, Verdict.Pass, $"fragment {pieces.Count} of {pieces.Count}: {last.Network.Length} bytes at offset {last.Offset}");
        DevQueueXmit.NeighOutput(skb, t, nextHop, fate, via);
    }

    /// <summary>
    /// One of several packets made of <paramref name="skb"/> (a fragment, a GSO segment) sent on a
    /// scratch trace: its stages, generated packets and fate join <paramref name="t"/>, its fate as a note.
    /// </summary>
    internal static void OnScratch(SkBuff skb, TraceBuilder t, byte[] network, ushort protocol, NetDevice outDev, string label, Action<SkBuff, TraceBuilder> send)
    {
        var piece = new SkBuff(network)
        {
            Netns = skb.Netns, Dev = outDev, Engine = skb.Engine, TimestampNs = skb.TimestampNs, Protocol = protocol,
            NetworkHeader = 0, Mark = skb.Mark, Ct = skb.Ct, Hops = skb.Hops, PktType = skb.PktType, IgnoreDf = skb.IgnoreDf,
        };
        var scratch = new TraceBuilder();
        send(piece, scratch);
        foreach (var e in scratch.Path) t.Add(e);
        foreach (var n in scratch.Notes) t.Note(n);
        t.TakeGenerated(scratch);
        t.Note($"{label}: {scratch.Fate} {scratch.Reason}".TrimEnd());
    }

    /// <summary>
    /// The fragments ip_do_fragment makes of <paramref name="datagram"/> for a device MTU: the frag_list
    /// of a reassembled datagram as it arrived when every piece fits (fast path, DF cleared), else pieces
    /// of the largest multiple of 8 that fits min(MTU, frag_max_size) (slow path, DF only with
    /// IPSKB_FRAG_PMTU). Every fragment carries the header with the IP id kept; options without the
    /// copied flag become NOOPs in all but the first (ip_options_fragment); checksums are recomputed.
    /// </summary>
    [KernelSymbol("ip_do_fragment", "net/ipv4/ip_output.c")]
    public static List<Piece> Split(ReadOnlySpan<byte> datagram, int mtu, IpFragInfo? info, out bool fastPath)
    {
        int hlen = (datagram[0] & 0x0F) * 4;
        int total = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]), datagram.Length);
        if (info is not null && info.MaxSize < mtu) mtu = info.MaxSize;
        int room = mtu - hlen;
        ushort field = BinaryPrimitives.ReadUInt16BigEndian(datagram[6..]);
        var header = datagram[..hlen].ToArray();
        var payload = datagram[hlen..total];
        var pieces = new List<Piece>();
        fastPath = info is not null && (field & 0x3FFF) == 0 && FitsFastPath(info.PayloadLengths, room);
        if (fastPath)
        {
            int offset = 0;
            for (int i = 0; i < info!.PayloadLengths.Count; i++)
            {
                int len = info.PayloadLengths[i];
                bool more = i < info.PayloadLengths.Count - 1;
                pieces.Add(Build(header, payload.Slice(offset, len), offset, more, df: false));
                if (i == 0) OptionsFragment(header);
                offset += len;
            }
            return pieces;
        }
        // ip_frag_init: a fragment being fragmented again keeps its offset and its MF.
        int start = (field & 0x1FFF) * 8;
        bool notLast = (field & 0x2000) != 0;
        bool df = info?.Pmtu == true;
        int left = payload.Length, ptr = 0;
        while (left > 0)
        {
            int len = Math.Min(left, room);
            if (len < left) len &= ~7;
            left -= len;
            pieces.Add(Build(header, payload.Slice(ptr, len), start + ptr, left > 0 || notLast, df));
            if (start + ptr == 0) OptionsFragment(header);
            ptr += len;
        }
        return pieces;
    }

    /// <summary>The fast path's geometry check: each piece fits, and all but the last are multiples of 8.</summary>
    private static bool FitsFastPath(IReadOnlyList<int> lengths, int room)
    {
        for (int i = 0; i < lengths.Count; i++)
            if (lengths[i] > room || (i < lengths.Count - 1 && lengths[i] % 8 != 0)) return false;
        return lengths.Count > 0;
    }

    private static Piece Build(byte[] header, ReadOnlySpan<byte> data, int offset, bool more, bool df)
    {
        var b = new byte[header.Length + data.Length];
        header.CopyTo(b, 0);
        data.CopyTo(b.AsSpan(header.Length));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)b.Length);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), (ushort)(offset >> 3 | (df ? 0x4000 : 0) | (more ? 0x2000 : 0)));
        b[10] = 0; b[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(10), Checksum.Internet(b.AsSpan(0, header.Length)));
        return new Piece(b, offset, data.Length, more);
    }

    /// <summary>ip_options_fragment: options without the copied flag (0x80) are overwritten with NOOPs, in place.</summary>
    [KernelSymbol("ip_options_fragment", "net/ipv4/ip_options.c")]
    internal static void OptionsFragment(byte[] header)
    {
        int i = 20;
        while (i < header.Length)
        {
            byte kind = header[i];
            if (kind == IpOptions.End) return;
            if (kind == IpOptions.Noop) { i++; continue; }
            if (i + 1 >= header.Length) return;
            int len = header[i + 1];
            if (len < 2 || len > header.Length - i) return;
            if ((kind & 0x80) == 0) header.AsSpan(i, len).Fill(IpOptions.Noop);
            i += len;
        }
    }
}
