using PktFlow.Wire;

namespace PktFlow.Datapath;

/// <summary>
/// Child traces: every packet a walk built in answer (<see cref="TraceBuilder.Emitted"/>) is traced
/// through the output path of the namespace that sends it (ip_local_out / ip6_local_out, the OUTPUT
/// and POSTROUTING hooks, routing, the neighbour layer, dev_queue_xmit and on across veth pairs).
/// In Observe mode a child that crosses the capture point is remembered, so that the frame the capture
/// shows the kernel sending is recognised as that child (same addresses, ports, ICMP type and code,
/// quoted header) and takes its trace rather than being walked through the stack a second time.
/// </summary>
public sealed class ChildTraces
{
    /// <summary>Children waiting to be seen on the wire, by <see cref="Key"/>, oldest first.</summary>
    private readonly Dictionary<string, Queue<PacketTrace>> _pending = new();
    private readonly Queue<string> _order = new();
    /// <summary>Bound on remembered children (a capture that never shows them must not grow memory).</summary>
    private const int MaxPending = 4096;
    /// <summary>The path list of the previous child, reused (only the array is kept).</summary>
    private List<HookEvent>? _sparePath;

    internal PacketTrace[] Trace(DatapathEngine engine, TraceBuilder parent, string file, long frame, long timestampNs, InjectionPoint? wire)
    {
        if (parent.Emitted.Count == 0) return Array.Empty<PacketTrace>();
        var children = new List<PacketTrace>(parent.Emitted.Count);
        foreach (var p in parent.Emitted) Add(engine, p, p.Copy?.Traced ?? TraceOne(engine, p, file, frame, timestampNs), wire, children);
        return children.ToArray();
    }

    /// <summary>
    /// A copy the kernel hands on synchronously (dev_queue_xmit, netif_receive_skb, ip_local_out from
    /// inside the hook or action that made it) is walked at once, before the original goes on: what
    /// it changes on its way (a conntrack entry, the copies a capture shows) comes first, as in the kernel.
    /// </summary>
    internal void TraceNow(DatapathEngine engine, GeneratedPacket p, string file, long frame, long timestampNs) =>
        p.Copy!.Traced = TraceOne(engine, p, file, frame, timestampNs, _generation);

    /// <summary>The backlog generation of the walk in progress: a synchronous copy belongs to its maker's (else a loop through it would start counting again).</summary>
    private int _generation;

    /// <summary>
    /// Generations of backlog copies traced after one another (a copy's walk making another): past this, a
    /// mirred loop. The kernel (6.18) has no bound there: netif_rx starts each copy outside any
    /// tcf_mirred_act, so MIRRED_NEST_LIMIT and the loop check of sched_mirred_dev never see the loop
    /// (netdev, "net/sched: act_mirred: Fix ingress mirred loop", 2026) and the copies go on while the filters stand.
    /// </summary>
    internal const int MaxBacklogGenerations = 16;

    private TracedChild TraceOne(DatapathEngine engine, GeneratedPacket p, string file, long frame, long timestampNs, int generation = 0)
    {
        var skb = p.Copy?.Skb ?? new SkBuff(p.Network) { Netns = p.Namespace, Dev = p.Device, Engine = engine, TimestampNs = timestampNs, Protocol = p.Protocol, NetworkHeader = 0, Ct = p.Ct, Mark = p.Mark };
        var t = _sparePath is { } spare ? new TraceBuilder(spare) : new TraceBuilder();
        _sparePath = null;
        var copies = engine.BeginChildCopies();
        if (p.Copy is { } copy)
        {
            // a copy of the packet: from the stage that made it on, its own way
            t.Stage(skb, StageName(p.Function), p.Function, Verdict.Pass, p.Description);
            if (generation > MaxBacklogGenerations) t.Unsupported(skb, $"a mirred loop through the backlog: this is copy generation {generation}; the kernel makes copies for as long as the filters stand (netif_rx starts each outside MIRRED_NEST_LIMIT), the model follows {MaxBacklogGenerations}");
            else
            {
                int outer = _generation;
                _generation = generation;
                try { copy.Walk(skb, t); }
                finally { _generation = outer; }
            }
        }
        else if (p.Protocol == EtherTypes.Arp)
        {
            skb.SetEthernet(p.LinkDestination ?? MacAddress.Broadcast, p.Device.Mac);
            IPv4.ArpSend.Xmit(skb, t, p.Device, p.Description);
        }
        else
        {
            var (src, dst) = Addresses(p.Protocol, p.Network);
            t.Stage(skb, StageName(p.Function), p.Function, Verdict.Pass, p.Description);
            if (p.MarkSource is { } why) t.Note($"skb mark 0x{p.Mark:x}: {why}");
            IPv4.IpLocalOut.Send(skb, t, src, dst, p.Device, p.HashedPacket, built: true);
        }
        if (!t.Ended) throw new InvalidOperationException($"frame {frame}: a generated packet's walk ended without a fate (model bug)");
        // What it generated in turn is described, not traced (children are one level deep), except copies of it, traced already.
        var child = new PacketTrace
        {
            File = file, Frame = frame, TimestampNs = timestampNs,
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(timestampNs / 1_000_000).AddTicks(timestampNs % 1_000_000 / 100),
            Length = p.Network.Length + 14, CapturedLength = p.Network.Length + 14,
            Summary = PacketSummary.Format(p.Network, p.Protocol), Ingress = $"{p.Namespace.Name}/{p.Device.Name}",
            Path = t.PathArray(out _sparePath), Route = t.Route, Egress = t.Egress, Fate = t.Fate!.Value, Reason = t.Reason,
            Generated = t.Generated.ToArray(), Notes = t.Notes.ToArray(), CausedBy = frame, GeneratedBy = p.Function, IsCopy = p.Copy is not null && !p.Built, GeneratedNetwork = p.Network,
        };
        engine.EndChildCopies(copies, child);
        List<GeneratedPacket>? copiesOfIt = null; // most children make no copy: no list for them
        foreach (var e in t.Emitted)
        {
            if (e.Copy is not { } c) continue;
            // a copy handed to the backlog (netif_rx from tc egress) runs after the walk that made it, as the
            // original's do: walked now, after this child's; a synchronous one was walked on the way
            c.Traced ??= TraceOne(engine, e, file, frame, timestampNs, generation + 1);
            (copiesOfIt ??= new()).Add(e);
        }
        return new TracedChild(child, Key(skb.Protocol, skb.Network), copiesOfIt ?? (IReadOnlyList<GeneratedPacket>)Array.Empty<GeneratedPacket>());
    }

    /// <summary>A child as walked: its trace, its key as it left (after NAT), and the copies made of it on its way.</summary>
    internal sealed record TracedChild(PacketTrace Trace, string? LastKey, IReadOnlyList<GeneratedPacket> Copies);

    private void Add(DatapathEngine engine, GeneratedPacket p, TracedChild traced, InjectionPoint? wire, List<PacketTrace> children)
    {
        var child = traced.Trace;
        children.Add(child);
        // a copy received on a device (mirred ingress): a capture there shows it arriving
        if (wire is not null && p.Copy is { Received: true } && p.Namespace == wire.Namespace
            && (engine.CopiesIn == wire.Namespace || p.Device == wire.Device) && Key(p.Protocol, p.Network) is { } rxKey)
            Remember(Arriving(p.Device.Name, rxKey), child);
        // a packet another namespace sends in answer that arrives in the captured namespace by the capture
        // device (a peer's ARP reply, an echo reply): the capture shows it arriving, and that frame takes
        // this trace instead of being walked through the namespace's hooks a second time (its counters
        // would count it twice). Before the test for leaving: an answer the namespace forwards on (an echo
        // reply to a masqueraded client) is seen arriving first, and a multi-device capture's later frame
        // of it leaving is a copy of that frame (AdoptChildCopies), not the child again
        else if (wire is not null && p.Copy is null && p.Namespace != wire.Namespace
            && FirstIn(child, wire.Namespace.Name) is { } dev && (engine.CopiesIn == wire.Namespace || dev == wire.Device.Name)
            && Key(p.Protocol, p.Network) is { } inKey)
            Remember(Arriving(dev, inKey), child);
        // a capture of every device of the namespace sees it leave by whichever device it leaves by
        else if (wire is not null && LeavesBy(child, wire.Namespace.Name, engine.CopiesIn == wire.Namespace ? null : wire.Device.Name))
        {
            // p.Network is the packet as built: the walk edits the skb's own copy
            string firstKey = Key(p.Protocol, p.Network, p.SeqUnknown) ?? "";
            Remember(firstKey, child);
            if (traced.LastKey is { } lastKey && !p.SeqUnknown && lastKey != firstKey) Remember(lastKey, child); // after NAT
        }
        // copies made while a child ran (a mirred clone mirrored again, a generated packet mirrored) are children
        // of the same frame, after it; the nest limit bounds synchronous ones, MaxBacklogGenerations the backlog's
        foreach (var c in traced.Copies) Add(engine, c, c.Copy!.Traced!, wire, children);
    }

    /// <summary>The device by which a trace first enters namespace <paramref name="ns"/>, received there (not sent through it, as by a macvlan's lower device), or null.</summary>
    private static string? FirstIn(PacketTrace trace, string ns)
    {
        foreach (var e in trace.Path)
            if (e.Namespace == ns) return e.Stage == "EthTypeTrans" ? e.Device : null;
        return null;
    }

    /// <summary>Whether a trace shows the packet sent on namespace/device (where a capture of that device sees it leave); a null device: on any device of the namespace.</summary>
    public static bool LeavesBy(PacketTrace trace, string ns, string? device)
    {
        foreach (var e in trace.Path)
            if (e.Namespace == ns && (device is null || e.Device == device) && e.Stage is "VethXmit" or "DevQueueXmit" && e.Verdict == Verdict.Pass) return true;
        return false;
    }

    /// <summary>The child a frame leaving the capture point is, if the model built it; it is then no longer pending.</summary>
    internal PacketTrace? Match(ushort protocol, ReadOnlySpan<byte> network) =>
        Key(protocol, network) is { } key && Take(key) is { } child ? child
        // a synproxy SYN-ACK: its sequence number is the cookie, which only the capture shows
        : _pending.Count > 0 && Key(protocol, network, withoutSeq: true) is { } unseq ? Take(unseq) : null;

    /// <summary>The copy a frame arriving on <paramref name="device"/> is (a clone mirred to that device's ingress), if the model made it.</summary>
    internal PacketTrace? MatchArriving(string device, ushort protocol, ReadOnlySpan<byte> network) =>
        _pending.Count > 0 && Key(protocol, network) is { } key ? Take(Arriving(device, key)) : null;

    /// <summary>Arriving copies are kept apart from children leaving, by device.</summary>
    private static string Arriving(string device, string key) => "<" + device + "<" + key;

    private PacketTrace? Take(string key)
    {
        if (!_pending.TryGetValue(key, out var q) || q.Count == 0) return null;
        var child = q.Dequeue();
        if (q.Count == 0) _pending.Remove(key);
        return child;
    }

    private void Remember(string key, PacketTrace child)
    {
        if (key.Length == 0) return;
        if (!_pending.TryGetValue(key, out var q)) _pending[key] = q = new Queue<PacketTrace>();
        q.Enqueue(child);
        _order.Enqueue(key);
        while (_order.Count > MaxPending && _order.TryDequeue(out var old))
            if (_pending.TryGetValue(old, out var oq) && oq.TryDequeue(out _) && oq.Count == 0) _pending.Remove(old);
    }

    /// <summary>
    /// What identifies a generated packet on the wire: addresses, protocol and the transport header
    /// without checksums (ICMP type, code, rest of header and up to 40 bytes of the quoted packet or echo
    /// data; TCP ports, sequence and acknowledgment numbers and flags; UDP ports, length and up to 32
    /// bytes of data, which only copies of packets are), or the whole ARP payload. TTL, IP
    /// id, TOS and the IPv6 flow label are left out: the IP id and flow label come from per-boot hashes
    /// the model cannot know, and TTL changes on the way.
    /// </summary>
    internal static string? Key(ushort protocol, ReadOnlySpan<byte> l3, bool withoutSeq = false)
    {
        // One string per key: the fields' bytes in hex behind a tag (0 ARP, 4 IPv4, 6 IPv6), which keeps
        // the families apart; the protocol fixes the layout of what follows, so the bytes are unambiguous.
        Span<byte> k = stackalloc byte[1 + 16 + 16 + 1 + 2 + 44];
        if (protocol == EtherTypes.Arp)
        {
            if (l3.Length < 28) return null;
            k[0] = 0;
            l3[6..28].CopyTo(k[1..]);
            return KeyText(k[..23]);
        }
        IpAddr src, dst; byte proto; ReadOnlySpan<byte> l4;
        // A fragment is never recognised as a child (a child too big for its device is fragmented): no key.
        if (protocol == EtherTypes.Ipv4 && Ipv4Header.TryParse(l3, out var ip, out _) && !ip.IsFragment) { src = ip.Source; dst = ip.Destination; proto = ip.Protocol; l4 = ip.Payload; }
        else if (protocol == EtherTypes.Ipv6 && Ipv6Header.TryParse(l3, out var ip6, out _) && ip6.NextHeader != 44)
        {
            src = ip6.Source; dst = ip6.Destination; proto = ip6.NextHeader;
            l4 = l3[Ipv6Header.HeaderLength..Math.Min(l3.Length, Ipv6Header.HeaderLength + ip6.PayloadLength)];
        }
        else return null;
        int n = 1;
        k[0] = (byte)(src.IsV4 ? 4 : 6);
        src.Write(k[n..]);
        n += src.BitLength / 8;
        dst.Write(k[n..]);
        n += dst.BitLength / 8;
        k[n++] = proto;
        if (proto is IpProtocol.Icmp or IpProtocol.Icmpv6 && l4.Length >= 8)
        {
            l4[..2].CopyTo(k[n..]);
            n += 2;
            var rest = l4[4..Math.Min(l4.Length, 48)];
            rest.CopyTo(k[n..]);
            n += rest.Length;
        }
        else if (proto == IpProtocol.Tcp && l4.Length >= 14)
        {
            l4[..14].CopyTo(k[n..]);
            // a key without the sequence number is only a SYN-ACK's (a synproxy cookie): a zero there, and a tag
            // of its own, so a built SYN-ACK whose sequence number is 0 (its normal key) never takes its place
            if (withoutSeq) { if ((l4[13] & 0x12) != 0x12) return null; k.Slice(n + 4, 4).Clear(); k[0] |= 0x80; }
            n += 14;
        }
        else if (proto == IpProtocol.Udp && VxlanKey(l4) is { } vxlan)
            // a VXLAN datagram (vxlan_xmit_one) is the inner packet's: its source port is udp_flow_src_port,
            // the inner flow's hash with a per-boot secret, and a child walked on past the tunnel's far end
            // ends decapsulated there, so a child and the datagram the capture shows meet on the inner key
            return vxlan;
        else if (proto == IpProtocol.Udp && l4.Length >= 8)
        {
            // only copies of packets (mirred, dup) are UDP: ports, length and the first bytes of data
            l4[..6].CopyTo(k[n..]);
            n += 6;
            var data = l4[8..Math.Min(l4.Length, 40)];
            data.CopyTo(k[n..]);
            n += data.Length;
        }
        else return null;
        return KeyText(k[..n]);
    }

    /// <summary>
    /// For a UDP payload that is a VXLAN header with only the I flag (as vxlan_build_skb writes it) and an
    /// inner Ethernet frame: the inner packet's own key; else null.
    /// </summary>
    private static string? VxlanKey(ReadOnlySpan<byte> udp) =>
        VxlanHeader.TryInner(udp, out var type, out var inner) ? Key(type, inner) : null;

    /// <summary>The key bytes as a string of one char per byte (half the size of hex; only ever compared).</summary>
    private static string KeyText(ReadOnlySpan<byte> k)
    {
        Span<char> c = stackalloc char[k.Length];
        for (int i = 0; i < k.Length; i++) c[i] = (char)k[i];
        return new string(c);
    }

    private static (IpAddr Src, IpAddr Dst) Addresses(ushort protocol, ReadOnlySpan<byte> l3) =>
        protocol == EtherTypes.Ipv4 ? (IpAddr.ReadV4(l3[12..]), IpAddr.ReadV4(l3[16..])) : (IpAddr.ReadV6(l3[8..]), IpAddr.ReadV6(l3[24..]));

    /// <summary>The kernel symbol in PascalCase, as stages are named: __icmp_send -> IcmpSend.</summary>
    internal static string StageName(string function) =>
        StageNames.GetOrAdd(function, f => string.Concat(f.Split('_', StringSplitOptions.RemoveEmptyEntries).Select(w => char.ToUpperInvariant(w[0]) + w[1..])));

    /// <summary>The few builder functions there are, named once.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> StageNames = new();
}
