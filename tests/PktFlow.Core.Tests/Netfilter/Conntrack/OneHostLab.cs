using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>A host 192.168.1.1 on eth0 with one nft base chain, and a client 192.168.1.2 sending it IPv4 packets.</summary>
internal static class OneHostLab
{
    public static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:01:01"), ClientMac = MacAddress.Parse("02:00:00:00:01:02");
    public static readonly IpAddr Client = IpAddr.Parse("192.168.1.2"), Server = IpAddr.Parse("192.168.1.1");

    /// <param name="lines">Lab lines before the ruleset (sysctl -w ...).</param>
    /// <param name="chain">The base chain's body: its type line and rules.</param>
    public static DatapathEngine Engine(string lines, string chain) => new(LabLoader.Load($"""
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 192.168.1.1/24 dev eth0
        {lines}
        nft -f - <<'NFT'
        table ip t {"{"}
            chain c {"{"}
        {chain}
            {"}"}
        {"}"}
        NFT
        """, "host.lab"));

    /// <summary>Sends a packet from the client to the host at <paramref name="timeNs"/> (frame number <paramref name="frame"/>).</summary>
    public static PacketTrace Send(DatapathEngine engine, int frame, long timeNs, byte protocol, byte[] payload)
    {
        var bytes = FrameBuilder.Ethernet(HostMac, ClientMac, EtherTypes.Ipv4, FrameBuilder.Ipv4(Client, Server, protocol, payload, ttl: 64));
        return engine.Process(new CaptureFrame(frame, timeNs, LinkType.Ethernet, 0, null, bytes.Length, bytes.Length, 24, bytes), "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }
}
