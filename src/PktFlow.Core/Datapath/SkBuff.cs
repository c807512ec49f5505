using System.Buffers.Binary;
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
    /// <summary>
    /// skb->priority: 0 on receive; a local packet takes its socket's (0: SO_PRIORITY is not modelled).
    /// nft/CLASSIFY set it; ip_forward rewrites it from the TOS; veth clears it (__dev_forward_skb).
    /// </summary>
    public uint Priority { get; set; }
    /// <summary>skb->tc_index: TC_H_MIN of the classid a tc classification ended with TC_ACT_OK (tc_run), or what a tc program wrote.</summary>
    public ushort TcIndex { get; set; }
    /// <summary>qdisc_skb_cb(skb)->data: the __sk_buff cb[] tc programs share; null until one writes it.</summary>
    public uint[]? TcCb { get; set; }
    /// <summary>
    /// skb->sk: the socket tproxy assigned on receive (nf_tproxy_assign_sock; ip_forward drops such a
    /// packet, the transport takes it without a lookup), or the socket that sent a local packet.
    /// Crossing a veth orphans it.
    /// </summary>
    public Socket.Sock? Sk { get; set; }
    /// <summary>skb->_nfct: the conntrack entry and state nf_conntrack_in found (null: untracked or no conntrack).</summary>
    public Netfilter.Conntrack.CtLookup? Ct { get; set; }
    /// <summary>802.1Q VLAN id taken off the frame by skb_vlan_untag (0 when none).</summary>
    /// <summary>nf_bridge_info (skb extension SKB_EXT_BRIDGE_NF): the bridge port br_nf_pre_routing saw the frame
    /// enter by (physindev) and the one br_nf_forward_ip sends it out of (physoutdev); null when br_netfilter
    /// never took the frame. skb_scrub_packet drops it (skb_ext_reset).</summary>
    public NfBridgeInfo? NfBridge { get; set; }
    public ushort VlanId { get; set; }
    public bool VlanPresent { get; set; }
    /// <summary>BR_INPUT_SKB_CB(skb)->vlan_filtered: the bridge that took the frame in filters VLANs (br_allowed_ingress).</summary>
    public bool VlanFiltered { get; set; }

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
    /// <summary>Observe mode: the outer destination of the VXLAN datagram the capture showed this inner frame in (the remote whose copy the walk follows).</summary>
    public Wire.IpAddr? SeenVxlanRemote { get; set; }
    /// <summary>IPCB(skb) after reassembly (frag_max_size, IPSKB_FRAG_PMTU, frag_list); null otherwise. ip_rcv clears it.</summary>
    public IPv4.IpFragInfo? FragInfo { get; set; }
    /// <summary>skb_shinfo(skb)'s GSO fields for a super-packet (inferred for a captured one); null for a plain skb. Kept across veth, cleared by segmentation.</summary>
    public Offload.GsoInfo? Gso { get; set; }
    /// <summary>skb->ignore_df: set by conntrack's defrag, lets ip_fragment split a reassembled DF datagram.</summary>
    public bool IgnoreDf { get; set; }
    /// <summary>Capture time, the model's clock for timeouts.</summary>
    public long TimestampNs { get; init; }
    /// <summary>
    /// How many tcf_mirred_act calls this packet's walk runs inside (the kernel's per-CPU mirred nest
    /// level): a redirect or a mirror that hands the packet on synchronously (dev_queue_xmit,
    /// netif_receive_skb) nests one deeper; a veth or netif_rx hands it to a later softirq, back to 0.
    /// </summary>
    public int MirredNest { get; set; }
    /// <summary>A copy nf_dup_ipv4 / nf_dup_ipv6 sends (current->in_nf_duplicate while it is sent): a dup statement it meets does nothing.</summary>
    public bool Duplicate { get; set; }
    /// <summary>Sent with synproxy's conntrack template (snet->tmpl, IP_CT_NEW): the connection nf_conntrack_in makes for it gets the synproxy extension.</summary>
    public bool SynproxyTemplate { get; set; }
    /// <summary>The last syncookie check of this segment (NfSynproxy.CookieCheck), so the statement and its action share one.</summary>
    internal PktFlow.Netfilter.CookieResult? SynproxyCookie { get; set; }
    /// <summary>nf_dup_skb_recursion: how many nf_dup_netdev / nft fwd transmits this packet's walk runs inside.</summary>
    public int NfDupRecursion { get; set; }
    /// <summary>skb->ip_summed: what is known about the transport checksum (<see cref="Offload.SkbChecksum"/>).</summary>
    public Offload.IpSummed IpSummed { get; set; }
    /// <summary>skb->csum_valid: for CHECKSUM_COMPLETE, whether the sum computed verified.</summary>
    public bool CsumValid { get; set; }
    /// <summary>IpSummed is CHECKSUM_PARTIAL by the model's assumption (the capture's pseudo-header sum), not known.</summary>
    public bool CsumAssumed { get; set; }
    /// <summary>The assumed CHECKSUM_PARTIAL is an inner one under a vxlan checksum made by local checksum offload.</summary>
    public bool CsumLco { get; set; }

    public SkBuff(ReadOnlySpan<byte> data)
    {
        Buffer = data.ToArray();
        Length = data.Length;
    }

    /// <summary>skb_clone / pskb_copy: the same bytes (a private copy, so the two walks never share edits) and metadata.</summary>
    public SkBuff Clone() => new(Data)
    {
        MacHeader = MacHeader, NetworkHeader = NetworkHeader, TransportHeader = TransportHeader, Protocol = Protocol,
        Netns = Netns, Dev = Dev, PktType = PktType, Mark = Mark, Priority = Priority, Sk = Sk, Ct = Ct,
        VlanId = VlanId, VlanPresent = VlanPresent, VlanFiltered = VlanFiltered, Engine = Engine, Hops = Hops,
        FragInfo = FragInfo, Gso = Gso, IgnoreDf = IgnoreDf, TimestampNs = TimestampNs, MirredNest = MirredNest, TcIndex = TcIndex, TcCb = (uint[]?)TcCb?.Clone(),
        NfBridge = NfBridge, Duplicate = Duplicate, NfDupRecursion = NfDupRecursion, Trimmed = Trimmed, SeenVxlanRemote = SeenVxlanRemote,
        IpSummed = IpSummed, CsumValid = CsumValid, CsumAssumed = CsumAssumed, CsumLco = CsumLco,
    };

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
        BinaryPrimitives.WriteUInt16BigEndian(Buffer.AsSpan(MacHeader + 12), Protocol);
        VlanPresent = false;
        VlanId = 0;
    }

    /// <summary>
    /// __vlan_hwaccel_put_tag: the model keeps the tag in the frame's bytes (as nft's payload expressions
    /// and the next receiver see it), so a new outer tag is inserted after the MAC addresses; a
    /// priority tag of the same protocol gets its VID filled in and keeps its PCP.
    /// </summary>
    public void PutVlanTag(ushort tpid, ushort vid)
    {
        var at = MacHeader + 12;
        var o = Buffer.AsSpan(at);
        if (BinaryPrimitives.ReadUInt16BigEndian(o) == tpid && (BinaryPrimitives.ReadUInt16BigEndian(o[2..]) & 0xFFF) == 0)
        {
            ushort tci = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(o[2..]) | vid);
            BinaryPrimitives.WriteUInt16BigEndian(o[2..], tci);
        }
        else
        {
            var b = new byte[Length + 4];
            Buffer.AsSpan(0, at).CopyTo(b);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(at), tpid);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(at + 2), vid);
            Buffer.AsSpan(at, Length - at).CopyTo(b.AsSpan(at + 4));
            Shift(b, +4);
        }
        VlanPresent = true;
        VlanId = vid;
    }

    /// <summary>__vlan_hwaccel_clear_tag: the outer tag leaves the frame's bytes (an inner one, if any, becomes the outer).</summary>
    public void ClearVlanTag()
    {
        var at = MacHeader + 12;
        var b = new byte[Length - 4];
        Buffer.AsSpan(0, at).CopyTo(b);
        Buffer.AsSpan(at + 4, Length - at - 4).CopyTo(b.AsSpan(at));
        Shift(b, -4);
        VlanPresent = Wire.EtherTypes.IsVlan(BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(at)));
        VlanId = VlanPresent ? (ushort)(BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(at + 2)) & 0xFFF) : (ushort)0;
    }

    private void Shift(byte[] b, int by)
    {
        Buffer = b;
        Length = b.Length;
        NetworkHeader += by;
        if (TransportHeader >= 0) TransportHeader += by;
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

    /// <summary>Replaces the whole frame (an XDP program moved its head or tail or rewrote it); headers are set again by the caller.</summary>
    public void ReplaceFrame(ReadOnlySpan<byte> frame)
    {
        if (Buffer.Length < frame.Length) Buffer = new byte[frame.Length];
        frame.CopyTo(Buffer);
        Length = frame.Length;
        TransportHeader = -1;
    }

    /// <summary>
    /// skb_push after pskb_expand_head: the bytes from <paramref name="from"/> on keep their content and get
    /// <paramref name="headerLength"/> bytes in front (returned for the caller to write); what was before
    /// <paramref name="from"/> is gone. The buffer grows only when it has no room (one allocation).
    /// </summary>
    public Span<byte> Push(int headerLength, int from)
    {
        int kept = Length - from, total = headerLength + kept;
        if (Buffer.Length < total)
        {
            var b = new byte[total];
            Buffer.AsSpan(from, kept).CopyTo(b.AsSpan(headerLength));
            Buffer = b;
        }
        else Buffer.AsSpan(from, kept).CopyTo(Buffer.AsSpan(headerLength)); // Span.CopyTo handles the overlap
        Length = total;
        TransportHeader = -1;
        return Buffer.AsSpan(0, headerLength);
    }

    public Span<byte> Network => Buffer.AsSpan(NetworkHeader, Length - NetworkHeader);
    public ReadOnlySpan<byte> Data => Buffer.AsSpan(0, Length);

    /// <summary>pskb_trim_rcsum: drop link-layer padding after the IP total length.</summary>
    public void TrimNetwork(int networkLength)
    {
        Length = Math.Min(Length, NetworkHeader + networkLength);
        Trimmed = true;
    }

    /// <summary>
    /// skb->len from the network header on, once ip_rcv / ipv6_rcv trimmed the padding (null before):
    /// afterwards it no longer follows the header's length field, which FOU/GUE receive shrinks.
    /// </summary>
    public int? LengthFromNetwork => Trimmed ? Length - NetworkHeader : null;
    private bool Trimmed { get; set; }
}

/// <summary>What br_netfilter keeps of a bridged frame (struct nf_bridge_info): its ports' names; a value, so a bridged
/// packet allocates nothing for it.</summary>
public readonly record struct NfBridgeInfo(string PhysIn, string? PhysOut);
