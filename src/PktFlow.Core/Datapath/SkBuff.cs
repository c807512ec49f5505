using PktFlow.Topology;

namespace PktFlow.Datapath;

/// <summary>PACKET_* values of skb->pkt_type, set by eth_type_trans.</summary>
public enum PacketType { Host = 0, Broadcast = 1, Multicast = 2, OtherHost = 3, Outgoing = 4, Loopback = 5 }

/// <summary>
/// The model's sk_buff: one private copy of the packet bytes (so NAT and TTL edits never touch the
/// captured data) with header offsets and the metadata stages read and write.
/// </summary>
public sealed class SkBuff
{
    public byte[] Buffer { get; private set; }
    public int Length { get; set; }
    /// <summary>Offset of the Ethernet header, or -1 when the packet has none (raw IP captures).</summary>
    public int MacHeader { get; set; } = -1;
    public int NetworkHeader { get; set; }
    public int TransportHeader { get; set; } = -1;
    /// <summary>skb->protocol (EtherType of the network header).</summary>
    public ushort Protocol { get; set; }
    public required NetNamespace Netns { get; set; }
    public required NetDevice Dev { get; set; }
    public PacketType PktType { get; set; } = PacketType.Host;
    public uint Mark { get; set; }
    /// <summary>skb->_nfct: the conntrack entry and state nf_conntrack_in found (null: untracked or no conntrack).</summary>
    public Netfilter.Conntrack.CtLookup? Ct { get; set; }
    /// <summary>802.1Q VLAN id taken off the frame by skb_vlan_untag (0 when none).</summary>
    public ushort VlanId { get; set; }
    public bool VlanPresent { get; set; }

    /// <summary>The engine walking this packet: the whole topology and every namespace's state.</summary>
    public required DatapathEngine Engine { get; init; }
    /// <summary>Per-namespace state the packet's stages read and update (reassembly queues, ...).</summary>
    public NamespaceState State => Engine.StateOf(Netns);
    /// <summary>Devices crossed so far; bounds loops between namespaces.</summary>
    public int Hops { get; set; }

    /// <summary>
    /// Observe mode: the capture point (namespace, device) this packet was seen leaving, set where the
    /// model re-attributes it to its sender; a flood follows the copy for that port, defragmentation
    /// there follows the fragment on. Null otherwise; clones do not inherit it.
    /// </summary>
    public (string Namespace, string Device)? SeenLeaving { get; set; }
    /// <summary>IPCB(skb) after reassembly (frag_max_size, IPSKB_FRAG_PMTU, frag_list); null otherwise. ip_rcv clears it.</summary>
    public IPv4.IpFragInfo? FragInfo { get; set; }
    /// <summary>skb->ignore_df: set by conntrack's defrag, lets ip_fragment split a reassembled DF datagram.</summary>
    public bool IgnoreDf { get; set; }
    /// <summary>Capture time, the model's clock for timeouts.</summary>
    public long TimestampNs { get; init; }

    public SkBuff(ReadOnlySpan<byte> data)
    {
        Buffer = data.ToArray();
        Length = data.Length;
    }

    /// <summary>Writes (or, for a packet captured without one, adds) the Ethernet header neigh_output puts on.</summary>
    public void SetEthernet(Wire.MacAddress destination, Wire.MacAddress source)
    {
        if (MacHeader < 0)
        {
            var b = new byte[14 + Length - NetworkHeader];
            Buffer.AsSpan(NetworkHeader, Length - NetworkHeader).CopyTo(b.AsSpan(14));
            Buffer = b;
            Length = b.Length;
            if (TransportHeader >= 0) TransportHeader += 14 - NetworkHeader;
            NetworkHeader = 14;
            MacHeader = 0;
        }
        destination.Write(Buffer.AsSpan(MacHeader));
        source.Write(Buffer.AsSpan(MacHeader + 6));
        // VLAN tags were taken off on receive (skb_vlan_untag); the frame leaves untagged.
        if (NetworkHeader - MacHeader != 14)
        {
            var b = new byte[14 + Length - NetworkHeader];
            Buffer.AsSpan(MacHeader, 12).CopyTo(b);
            Buffer.AsSpan(NetworkHeader, Length - NetworkHeader).CopyTo(b.AsSpan(14));
            Buffer = b;
            Length = b.Length;
            NetworkHeader = 14;
            MacHeader = 0;
        }
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(Buffer.AsSpan(MacHeader + 12), Protocol);
        VlanPresent = false;
        VlanId = 0;
    }

    /// <summary>Replaces everything from the network header on (reassembly).</summary>
    public void ReplaceNetwork(ReadOnlySpan<byte> network)
    {
        var b = new byte[NetworkHeader + network.Length];
        Buffer.AsSpan(0, NetworkHeader).CopyTo(b);
        network.CopyTo(b.AsSpan(NetworkHeader));
        Buffer = b;
        Length = b.Length;
        TransportHeader = -1;
    }

    public Span<byte> Network => Buffer.AsSpan(NetworkHeader, Length - NetworkHeader);
    public ReadOnlySpan<byte> Data => Buffer.AsSpan(0, Length);

    /// <summary>pskb_trim_rcsum: drop link-layer padding after the IP total length.</summary>
    public void TrimNetwork(int networkLength) => Length = Math.Min(Length, NetworkHeader + networkLength);
}
