using PktFlow.Datapath;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Nftables;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Netfilter;

/// <summary>The datapath's skb as nftables sees it (struct nft_pktinfo): headers, devices, mark, conntrack.</summary>
internal sealed class SkbNftPacket : INftPacket
{
    private readonly SkBuff _skb;
    private readonly NetDevice? _in, _out;

    private readonly bool _fromMac;

    /// <param name="fromMac">skb->len counts from the MAC header (netdev egress: dev_queue_xmit runs the hook on the built frame).</param>
    public SkbNftPacket(SkBuff skb, NftFamily family, NetDevice? indev, NetDevice? outdev, bool fromMac = false)
    {
        _skb = skb;
        _fromMac = fromMac;
        Family = family;
        _in = indev;
        _out = outdev;
        (L4Protocol, TransportOffset) = Transport(skb);
    }

    public NftFamily Family { get; }
    public ReadOnlySpan<byte> Network => _skb.Network;
    public long SkbLength => _fromMac && _skb.MacHeader >= 0 ? _skb.Length - _skb.MacHeader : _skb.Network.Length;
    public Span<byte> MutableNetwork => _skb.Network;
    public ReadOnlySpan<byte> Link => _skb.MacHeader < 0 ? ReadOnlySpan<byte>.Empty : _skb.Data[_skb.MacHeader..];
    public Span<byte> MutableLink => _skb.MacHeader < 0 ? Span<byte>.Empty : _skb.Buffer.AsSpan(_skb.MacHeader, _skb.Length - _skb.MacHeader);
    // the model keeps the tag in the bytes; VlanPresent is where the kernel holds it in skb->vlan_tci
    public bool VlanTagOutside => _skb.VlanPresent;

    public void LinkWritten()
    {
        // skb->vlan_tci written by nft_payload_set_vlan: the VID the VLAN devices and the bridge read
        if (_skb.VlanPresent && _skb.MacHeader >= 0 && _skb.Length >= _skb.MacHeader + 16)
            _skb.VlanId = (ushort)(System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(_skb.Buffer.AsSpan(_skb.MacHeader + 14)) & 0xFFF);
    }
    public byte L4Protocol { get; }
    public int TransportOffset { get; }
    public bool SynproxyCookieValid => NfSynproxy.CookieCheck(_skb).Valid;
    public bool SynproxyChecksumBad(bool xt) => NfSynproxy.ChecksumCheck(_skb, xt).Bad;
    public string? InputInterface => _in?.Name;
    public string? OutputInterface => _out?.Name;
    public int InputIfIndex => _in?.IfIndex ?? 0;
    public int OutputIfIndex => _out?.IfIndex ?? 0;
    public NftDevInfo? InputDevice => DevInfo(_in);
    public NftDevInfo? OutputDevice => DevInfo(_out);
    public NftBridgePort? InputBridge => BridgeOf(_in);
    public NftBridgePort? OutputBridge => BridgeOf(_out);

    /// <summary>netif_is_bridge_port then netdev_master_upper_dev_get_rcu: the port's bridge.</summary>
    private NftBridgePort? BridgeOf(NetDevice? port) =>
        port?.Master is { } m && _skb.Netns.Device(m) is { Kind: DeviceKind.Bridge } br
            ? new NftBridgePort(br.Name, br.VlanOptions.Filtering, br.VlanOptions.Protocol, port.Vlans.Pvid)
            : null;

    // inet_sdif / inet6_sdif: non-zero only for a packet an l3mdev master (VRF) took from its slave; the model
    // builds no l3mdev, so 0, unless the input device is enslaved to a device of a kind it does not build
    public int? Sdif => _in?.Master is { } m && _skb.Netns.Device(m) is { Kind: DeviceKind.Other } ? null : 0;
    public uint Mark { get => _skb.Mark; set => _skb.Mark = value; }
    public uint Priority { get => _skb.Priority; set => _skb.Priority = value; }
    public byte PacketType => (byte)_skb.PktType;
    public NfBridgeInfo? NfBridge => _skb.NfBridge;

    public NftCtInfo? Conntrack => _skb.Ct is { } ct
        ? new NftCtInfo(StateNames[(int)ct.State], DirectionNames[(int)ct.Direction], ct.Entry?.Mark ?? 0, StatusOf(ct.Entry))
        {
            Original = ct.Entry?.Original, Reply = ct.Entry?.Reply, Zone = ct.Entry?.Zone ?? 0, ZoneDir = ct.Entry?.ZoneKey.Dir ?? ConntrackZone.BothDirections, Labels = ct.Entry?.Labels ?? 0,
            OriginalCounters = (ct.Entry?.OriginalPackets ?? 0, ct.Entry?.OriginalBytes ?? 0),
            ReplyCounters = (ct.Entry?.ReplyPackets ?? 0, ct.Entry?.ReplyBytes ?? 0),
            ExpirationMs = ct.Entry is { Confirmed: true } e ? (uint)Math.Clamp((e.ExpiresNs - _skb.TimestampNs) / 1_000_000, 0, uint.MaxValue) : 0,
            MasterHelper = ct.Entry?.Master?.Helper?.Name,
        }
        : null;

    // Rules ask ct state for nearly every packet: the names, and the status text per combination of
    // status bits, are made once instead of on every question.
    private static readonly string[] StateNames = Enum.GetNames<Conntrack.CtState>().Select(n => n.ToLowerInvariant()).ToArray();
    private static readonly string[] DirectionNames = Enum.GetNames<Conntrack.CtDirection>().Select(n => n.ToLowerInvariant()).ToArray();
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> StatusTexts = new();

    private static string StatusOf(Conntrack.ConntrackEntry? e)
    {
        if (e is null) return "";
        int bits = (e.Master is not null ? 1 : 0) | (e.SeenReply ? 2 : 0) | (e.Assured ? 4 : 0) | (e.Confirmed ? 8 : 0) | (e.SourceNat ? 16 : 0)
            | (e.DestinationNat ? 32 : 0) | (e.SourceNatDone ? 64 : 0) | (e.DestinationNatDone ? 128 : 0) | (e.Dying ? 256 : 0) | (e.SeqAdj is not null ? 512 : 0);
        return StatusTexts.TryGetValue(bits, out var s) ? s : StatusTexts[bits] = NftStatus(e.Status);
    }

    /// <summary>conntrack's status bits in nft's names (ct status dnat, seen-reply, ...).</summary>
    private static string NftStatus(string? status) => status is null or "" ? "" : string.Join(',', status.Split('|').Select(b => b switch
    {
        "SEEN_REPLY" => "seen-reply", "SRC_NAT" => "snat", "DST_NAT" => "dnat", "SRC_NAT_DONE" => "snat-done", "DST_NAT_DONE" => "dnat-done", _ => b.ToLowerInvariant(),
    }));

    /// <summary>dev->type as each device's setup gives it (ether_setup, loopback_setup, ipip's ipip_tunnel_setup); null for kinds the model does not build.</summary>
    private static NftDevInfo? DevInfo(NetDevice? d) => d is null ? null : new NftDevInfo(d.Kind switch
    {
        DeviceKind.Loopback => (ushort)772, // ARPHRD_LOOPBACK
        DeviceKind.Ipip => (ushort)768,     // ARPHRD_TUNNEL
        DeviceKind.Other => null,
        _ => (ushort)1,                     // ARPHRD_ETHER: physical, veth, bridge, dummy, vlan, vxlan, macvlan
    }, d.Group);

    public bool IsLocalAddress(ReadOnlySpan<byte> address, bool v6) =>
        _skb.Netns.IsLocalAddress(v6 ? IpAddr.ReadV6(address) : IpAddr.ReadV4(address));

    public (int IfIndex, string? Name)? FibOif(ReadOnlySpan<byte> address, ReadOnlySpan<byte> other, bool v6, string? dev, bool mark)
    {
        var ns = _skb.Netns;
        IpAddr dst = v6 ? IpAddr.ReadV6(address) : IpAddr.ReadV4(address);
        IpAddr? src = v6 ? IpAddr.ReadV6(other) : IpAddr.ReadV4(other);
        // nft_fib4_eval: the lookup is made as from lo (flowi4_iif LOOPBACK_IFINDEX), without a multicast,
        // broadcast or zero source (get_saddr); a failed lookup, or a local route, leaves 0; with iif/oif the
        // route must leave by that device
        if (!v6 && (other[0] >= 224 || other.IndexOfAnyExcept((byte)0) < 0)) src = null;
        var res = ns.Fib.Lookup(dst, src, "lo", null, mark ? _skb.Mark : 0);
        if (!res.Found || res.Route is not { } r || r.Type is Topology.RouteType.Local || r.Device is null) return (0, null);
        if (dev is not null && r.Device != dev) return (0, null);
        return (ns.Device(r.Device)?.IfIndex ?? 0, r.Device);
    }

    public uint FibType(ReadOnlySpan<byte> address, bool v6, string? dev)
    {
        var a = v6 ? IpAddr.ReadV6(address) : IpAddr.ReadV4(address);
        if (v6) return Fib6Type(address, a, dev);
        // __inet_dev_addr_type: 0.0.0.0 and 255.255.255.255 are broadcast, multicast is multicast, else the
        // local table's route type (when on dev, if one is given), else unicast
        if (!v6 && (a.Equals(IpAddr.ReadV4(stackalloc byte[4])) || address.IndexOfAnyExcept((byte)0xff) < 0)) return 3;
        if (v6 ? address[0] == 0xff : (address[0] & 0xf0) == 0xe0) return 5;
        if (_skb.Netns.Fib.LookupTable(a, Topology.RouteTables.Local) is { } r && (dev is null || r.Device == dev))
            return (uint)(r.Type switch
            {
                Topology.RouteType.Unicast => 1, Topology.RouteType.Local => 2, Topology.RouteType.Broadcast => 3, Topology.RouteType.Anycast => 4,
                Topology.RouteType.Multicast => 5, Topology.RouteType.Blackhole => 6, Topology.RouteType.Unreachable => 7, Topology.RouteType.Prohibit => 8, _ => 1,
            });
        // an address of this host without a local-table route in the lab (the model's routes may omit them)
        return dev is null && IsLocalAddress(address, v6) ? 2u : 1u;
    }

    /// <summary>
    /// nft_fib6_type: multicast by the address; an address of <paramref name="dev"/> (of any device
    /// when none is given) is local; else the route lookup says: a miss is unreachable (the null entry),
    /// a reject route its kind, a subnet-router anycast anycast, a local route of another device unicast
    /// when a device is given. Checked on 6.18 for each (prerouting, with and without `. iif`).
    /// </summary>
    private uint Fib6Type(ReadOnlySpan<byte> address, IpAddr a, string? dev)
    {
        if (a.IsMulticast) return 5;
        var ns = _skb.Netns;
        if (ns.Fib.LookupTable(a, Topology.RouteTables.Local) is { Type: Topology.RouteType.Local } l && (dev is null || l.Device == dev)) return 2;
        if (dev is null && IsLocalAddress(address, true)) return 2; // an address without a local route in the lab
        var res = ns.Fib.Lookup(a, null, "lo", null, 0);
        return res.Error switch
        {
            Routing.FibError.Blackhole => 6,
            Routing.FibError.Prohibited => 8,
            Routing.FibError.NetUnreachable or Routing.FibError.HostUnreachable => 7,
            _ => res.Route?.Type switch
            {
                Topology.RouteType.Anycast => 4,
                Topology.RouteType.Local => dev is null ? 2u : 1u,
                Topology.RouteType.Multicast => 5,
                _ => 1,
            },
        };
    }

    public NftConnKey? ConnCountKey
    {
        get
        {
            if (_skb.Ct?.Entry is { } e) return new NftConnKey(e.Original, e.Zone);
            bool v6 = _skb.Protocol == EtherTypes.Ipv6;
            if (ConntrackTable.TryTuple(Network, v6, out var tuple)) return new NftConnKey(tuple, 0);
            // nf_ct_get_tuplepr: protocols without ports are keyed by addresses and protocol
            if (!v6 && Ipv4Header.TryParse(Network, out var ip, out _)) return new NftConnKey(new ConntrackTuple(ip.Source, ip.Destination, ip.Protocol, 0, 0), 0);
            if (v6 && Ipv6Header.TryParse(Network, out var ip6, out _)) return new NftConnKey(new ConntrackTuple(ip6.Source, ip6.Destination, L4Protocol, 0, 0), 0);
            return null;
        }
    }

    /// <summary>
    /// get_tcpmss: dst_mtu of the packet's route (ipv4_mtu / ip6_mtu: a learned path MTU, else the route's
    /// mtu metric, else the output device's) and of the output route back to the source (nf_route), the
    /// smaller less 40 (IPv4) or 60 (IPv6) bytes of headers; TCP_MSS_DEFAULT (536) when that is out of
    /// range. Null without an output device (no route yet).
    /// </summary>
    public ushort? RtTcpMss
    {
        get
        {
            if (_out is null) return null;
            bool v6 = _skb.Protocol == EtherTypes.Ipv6;
            var n = Network;
            if (n.Length < (v6 ? 40 : 20)) return null;
            IpAddr src = v6 ? IpAddr.ReadV6(n.Slice(8, 16)) : IpAddr.ReadV4(n.Slice(12, 4));
            IpAddr dst = v6 ? IpAddr.ReadV6(n.Slice(24, 16)) : IpAddr.ReadV4(n.Slice(16, 4));
            int mtu = DstMtu(dst, _out);
            var back = _skb.Netns.Fib.Lookup(src, null, "lo", null, 0);
            if (back is { Found: true, Route: { Device: { } d } r } && r.Type is Topology.RouteType.Unicast && _skb.Netns.Device(d) is { } dev)
                mtu = Math.Min(mtu, DstMtu(src, dev, r.Mtu));
            int minlen = v6 ? 60 : 40;
            return mtu <= minlen || mtu > 0xffff ? (ushort)536 : (ushort)(mtu - minlen);
        }
    }

    private int DstMtu(IpAddr to, NetDevice dev, int? routeMtu = null)
    {
        if (_skb.State.Pmtu.Find(to, _skb.TimestampNs) is { } learned) return learned.Mtu;
        int metric = routeMtu ?? (_skb.Netns.Fib.Lookup(to, null, "lo", null, _skb.Mark) is { Found: true, Route: { } r } ? r.Mtu : 0);
        return metric > 0 ? metric : dev.Mtu;
    }

    public NftSock? Socket => Nft(_skb.Sk);

    public NftSock? FindSocket() => Nft(_skb.Sk ?? PktFlow.Socket.SockLookup.Slow(_skb));

    public NftSock? Tproxy(IpAddr? address, ushort port)
    {
        var (sk, laddr, lport) = PktFlow.Socket.SockLookup.Tproxy(_skb, address, port);
        if (sk is not { Transparent: true }) return Nft(sk);
        PktFlow.Socket.SockLookup.Assign(_skb, sk);
        return Nft(sk);
    }

    private static NftSock? Nft(PktFlow.Socket.Sock? s) =>
        s is null ? null : new NftSock(s.Description, s.Transparent, s.Mark, s.Wildcard, s.FullSock, s.Uid, s.Gid);

    public NftConnPresence FindConnection(NftConnKey key) => _skb.State.Conntrack.Find(key.Tuple, key.Zone) switch
    {
        null => NftConnPresence.Gone,
        { Original.Protocol: IpProtocol.Tcp, TcpState: TcpCtState.TimeWait or TcpCtState.Close } => NftConnPresence.Closed,
        _ => NftConnPresence.Live,
    };

    /// <summary>The transport protocol and header offset within Network; -1 for a non-first fragment.</summary>
    private static (byte, int) Transport(SkBuff skb)
    {
        var n = skb.Network;
        if (skb.Protocol == EtherTypes.Ipv4 && Ipv4Header.TryParse(n, out var ip, out _))
            return (ip.Protocol, ip.FragmentOffset != 0 ? -1 : ip.HeaderLength);
        if (skb.Protocol == EtherTypes.Ipv6 && Ipv6Header.TryParse(n, out var ip6, out _))
        {
            Ipv6ExtensionHeaders.Walk(ip6.NextHeader, n[Ipv6Header.HeaderLength..], out var chain);
            return (chain.UpperProtocol, chain.IsNonFirstFragment ? -1 : Ipv6Header.HeaderLength + chain.UpperOffset);
        }
        return (0, -1);
    }
}
