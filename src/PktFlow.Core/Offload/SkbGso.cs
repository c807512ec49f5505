namespace PktFlow.Offload;

/// <summary>The kind of GSO packet, as skb_shinfo(skb)->gso_type names it.</summary>
public enum GsoType { TcpV4, TcpV6, UdpL4 }

/// <summary>
/// skb_shinfo(skb)'s GSO fields for a captured super-frame: a capture holds the bytes, not the
/// skb's gso_size, so it is inferred (<see cref="GsoSizeInference"/>) and <see cref="Source"/> says from what.
/// </summary>
/// <param name="Size">gso_size: payload bytes per segment (all but the last).</param>
/// <param name="HeaderLength">Network plus transport header length every segment carries.</param>
/// <param name="PayloadLength">Transport payload of the whole super-packet.</param>
public sealed record GsoInfo(GsoType Type, int Size, int HeaderLength, int PayloadLength, string Source)
{
    /// <summary>An IPv6 BIG TCP packet whose first 8 header bytes after IPv6 are the hop-by-hop jumbo header (ipv6_hopopt_jumbo_remove takes it off before segmenting).</summary>
    public bool JumboHbh { get; init; }

    /// <summary>gso_segs: DIV_ROUND_UP(payload, gso_size).</summary>
    public int Segments => Size <= 0 ? 1 : (PayloadLength + Size - 1) / Size;

    /// <summary>skb_gso_network_seglen: the network length of a full segment (header plus gso_size).</summary>
    public int SegmentLength => HeaderLength + Size;

    /// <summary>skb_gso_validate_network_len (net/core/gso.c): every segment fits <paramref name="mtu"/>.</summary>
    [Datapath.KernelSymbol("skb_gso_validate_network_len", "net/core/gso.c")]
    public bool ValidateNetworkLength(int mtu) => SegmentLength <= mtu;

    /// <summary>How the trace names it: "GSO packet of 5 segments of gso_size 1448 (inferred ...)".</summary>
    public string Describe() => $"GSO packet of {Segments} segments of gso_size {Size} ({Source})";
}
