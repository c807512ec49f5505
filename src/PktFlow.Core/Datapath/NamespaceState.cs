using PktFlow.IPv4;

namespace PktFlow.Datapath;

/// <summary>
/// What a namespace remembers between packets during one replay: reassembly queues now; conntrack,
/// neighbour and FDB tables as later issues add them.
/// </summary>
public sealed class NamespaceState
{
    public NamespaceState(int seed = DatapathEngine.DefaultSeed, string name = "", Netfilter.Conntrack.ConntrackSettings? conntrack = null)
    {
        Name = name;
        Conntrack = new(conntrack ?? Netfilter.Conntrack.ConntrackSettings.Default);
        Nft = new Netfilter.Nftables.NftState(seed, name);
        ConnectedSockets = new(Conntrack.Settings);
        TcpSocks = new(Conntrack.Settings.TcpTimeoutEstablished * 1_000_000_000L, key =>
        {
            ConnectedSockets.Remove(key);
            TransparentConnections.Remove(key);
        }, LabSockets.Accepted);
    }

    /// <summary>The namespace's name.</summary>
    public string Name { get; }

    public FragmentQueues Fragments { get; } = new();

    /// <summary>What the namespace's ruleset remembers: counters, quotas, limit buckets, sets, random draws.</summary>
    public Netfilter.Nftables.NftState Nft { get; }
    /// <summary>ICMP rate limiting: the global credit and the per-destination token buckets (inet_peer).</summary>
    public IcmpRateLimit.State IcmpLimits { get; } = new();

    /// <summary>The namespace's conntrack table (nf_conntrack), filled as packets pass.</summary>
    public Netfilter.Conntrack.ConntrackTable Conntrack { get; }
    /// <summary>The syncookies synproxy handed out in this namespace (<see cref="Netfilter.NfSynproxy"/>).</summary>
    internal Netfilter.SynproxyCookies Synproxy { get; } = new();

    /// <summary>Connected sockets learned from the capture (see <see cref="Socket.ConnectedSocketTable"/>), idle ones forgotten on conntrack's timeouts.</summary>
    public Socket.ConnectedSocketTable ConnectedSockets { get; }

    /// <summary>What the programs behind the lab's sockets did with them (see <see cref="Socket.LabSocketLife"/>).</summary>
    public Socket.LabSocketLife LabSockets { get; } = new();

    /// <summary>The namespace's TCP connections with their socket states (see <see cref="Socket.TcpSockTable"/>).</summary>
    public Socket.TcpSockTable TcpSocks { get; }

    /// <summary>
    /// A TCP/UDP segment this namespace sent from <paramref name="key"/>'s local end: its socket is
    /// connected, and a TCP socket's state follows what it sent (<paramref name="listener"/>: the one
    /// a SYN-ACK answers for; <paramref name="connectTimeout"/>: the declared client's connect limit).
    /// </summary>
    internal void SocketSent((byte Protocol, Wire.IpAddr Local, ushort LocalPort, Wire.IpAddr Remote, ushort RemotePort) key, ReadOnlySpan<byte> l4, long nowNs, Topology.ListeningSocket? listener, TimeSpan? connectTimeout = null)
    {
        if (key.Protocol != Wire.IpProtocol.Tcp) { ConnectedSockets.Add(key, nowNs); return; }
        if (!Socket.TcpSegment.TryParse(l4, out var seg)) return;
        if (!seg.Has(Wire.TcpFlags.Rst)) ConnectedSockets.Add(key, nowNs);
        TcpSocks.Sent(key, seg, nowNs, listener, connectTimeout);
    }

    /// <summary>
    /// Connections tproxy handed to a transparent listener, keyed (protocol, local, local port, remote,
    /// remote port) as the client addressed them, with whether the handshake completed (a full socket,
    /// else a request socket). Forgotten with the connected sockets' timeouts.
    /// </summary>
    public Dictionary<(byte Protocol, Wire.IpAddr Local, ushort LocalPort, Wire.IpAddr Remote, ushort RemotePort), (Topology.ListeningSocket Listener, bool Full)> TransparentConnections { get; } = new();

    /// <summary>Marks of connection requests under net.ipv4.tcp_fwmark_accept (see <see cref="Socket.RequestMarks"/>).</summary>
    public Socket.RequestMarks RequestMarks { get; } = new();

    /// <summary>The XDP programs' VMs and maps by device, made at the first packet (maps live as long as the replay).</summary>
    public Dictionary<Topology.NetDevice, Bpf.BpfRuntime> Bpf { get; } = new();

    /// <summary>The tc programs' VMs and maps by cls_bpf filter (ClsBpf) or act_bpf action (ActBpf), made at the first packet.</summary>
    public Dictionary<object, Bpf.BpfRuntime> TcBpf { get; } = new();

    /// <summary>Immutable events that are the same for every packet at a device (NotModelled stages), shared by traces.</summary>
    internal Dictionary<(Topology.NetDevice Device, string Stage, NfHook? Hook), HookEvent> EventCache { get; } = new();

    /// <summary>Events whose detail depends only on the device and a small key (pkt_type and protocol, ...), shared the same way.</summary>
    internal Dictionary<(Topology.NetDevice Device, string Stage, long Key), HookEvent> SharedEvents { get; } = new();

    /// <summary>nft_do_chain events by device, hook and run (chain, rule, verdict): they hold nothing of the packet, so traces share them.</summary>
    internal Dictionary<(Topology.NetDevice Device, NfHook Hook, Netfilter.Nftables.NftChainRun Run), HookEvent> ChainRunEvents { get; } = new();

    /// <summary>Texts that depend only on a device of this namespace (the reason and egress of a frame sent on it), made once.</summary>
    internal string DeviceText(Topology.NetDevice dev, string what, Func<NamespaceState, Topology.NetDevice, string> make) =>
        _deviceTexts.TryGetValue((dev, what), out var s) ? s : _deviceTexts[(dev, what)] = make(this, dev);
    private readonly Dictionary<(Topology.NetDevice, string), string> _deviceTexts = new();

    /// <summary>
    /// For a device the capture was taken on: every address that sent something on that wire. A next
    /// hop there that never speaks would not answer ARP/ND either (see Neighbour/NeighResolve).
    /// </summary>
    public Dictionary<string, HashSet<Wire.IpAddr>> ObservedSenders { get; } = new();

    /// <summary>Path MTUs learned from ICMP errors (fnhe / IPv6 cached routes), until mtu_expires.</summary>
    public Routing.PmtuExceptions Pmtu { get; } = new();
    /// <summary>What tells a sender's gso_size for captured super-frames: SYN MSS, learnt path MTUs.</summary>
    public Offload.GsoState Gso { get; } = new();

    /// <summary>Neighbour entries whose resolution found no answer, with the packets waiting on them.</summary>
    public Neighbour.NeighQueues NeighQueues { get; } = new();
    /// <summary>The vxlan FDB entries vxlan_snoop learned.</summary>
    public Tunnel.VxlanFdbState VxlanFdb { get; } = new();
}
