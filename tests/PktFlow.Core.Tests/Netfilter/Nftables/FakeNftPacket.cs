using PktFlow.Netfilter.Nftables;
using PktFlow.Testing;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>An INftPacket over bytes built with FrameBuilder.</summary>
internal sealed class FakeNftPacket : INftPacket
{
    public NftFamily Family { get; init; } = NftFamily.Ip;
    public byte[] Net = Array.Empty<byte>();
    public byte[] Mac = Array.Empty<byte>();
    public ReadOnlySpan<byte> Network => Net;
    public Span<byte> MutableNetwork => Net;
    public ReadOnlySpan<byte> Link => Mac;
    public Span<byte> MutableLink => Mac;
    public bool VlanTagOutside { get; init; }
    public byte L4Protocol { get; init; }
    public int TransportOffset { get; init; } = -1;
    public string? InputInterface { get; init; } = "eth0";
    public string? OutputInterface { get; init; }
    public int InputIfIndex { get; init; } = 2;
    public int OutputIfIndex { get; init; }
    public uint Mark { get; set; }
    public uint Priority { get; set; }
    public byte PacketType { get; init; }
    public NftCtInfo? Conntrack { get; init; }
    public Func<byte[], bool> Local = _ => false;
    public bool IsLocalAddress(ReadOnlySpan<byte> address, bool v6) => Local(address.ToArray());
    /// <summary>The connection ct count counts this packet as (null: no tuple).</summary>
    public NftConnKey? ConnCountKey { get; init; }
    /// <summary>What the fake conntrack holds for a counted connection (default: nothing).</summary>
    public Func<NftConnKey, NftConnPresence> Presence = _ => NftConnPresence.Gone;
    public NftConnPresence FindConnection(NftConnKey key) => Presence(key);
    public NftDevInfo? InputDevice { get; init; }
    public NftDevInfo? OutputDevice { get; init; }
    public NftBridgePort? InputBridge { get; init; }
    public NftBridgePort? OutputBridge { get; init; }
    public int? Sdif { get; init; } = 0;
    public NftSock? Socket { get; init; }
    public ushort? RtTcpMss { get; init; }
    /// <summary>What the namespace's synproxy would say of this ACK's cookie.</summary>
    public bool SynproxyCookieValid { get; init; }
    /// <summary>What nf_ip_checksum would say of the TCP checksum.</summary>
    public bool ChecksumBad { get; init; }
    public bool SynproxyChecksumBad(bool xt) => ChecksumBad;
    public PktFlow.Datapath.NfBridgeInfo? NfBridge { get; init; }

    public static IpAddr A(string s) => IpAddr.Parse(s);

    public static FakeNftPacket Tcp4(string src, string dst, ushort sport, ushort dport, byte flags = 0x02, string? iif = "eth0", NftCtInfo? ct = null)
        => new() { Net = FrameBuilder.Ipv4(A(src), A(dst), 6, FrameBuilder.Tcp(A(src), A(dst), sport, dport, flags)), L4Protocol = 6, TransportOffset = 20, InputInterface = iif, Conntrack = ct };

    public static FakeNftPacket Udp4(string src, string dst, ushort sport, ushort dport)
        => new() { Net = FrameBuilder.Ipv4(A(src), A(dst), 17, FrameBuilder.Udp(A(src), A(dst), sport, dport)), L4Protocol = 17, TransportOffset = 20 };

    public static FakeNftPacket Tcp6(string src, string dst, ushort sport, ushort dport)
        => new() { Family = NftFamily.Ip6, Net = FrameBuilder.Ipv6(A(src), A(dst), 6, FrameBuilder.Tcp(A(src), A(dst), sport, dport)), L4Protocol = 6, TransportOffset = 40 };

    public static FakeNftPacket Icmp4(string src, string dst, byte type = 8)
        => new() { Net = FrameBuilder.Ipv4(A(src), A(dst), 1, FrameBuilder.IcmpEcho(1, 1, 8, type)), L4Protocol = 1, TransportOffset = 20 };
}
