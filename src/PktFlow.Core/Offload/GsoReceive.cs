using PktFlow.Datapath;

namespace PktFlow.Offload;

/// <summary>
/// What ip_rcv / ipv6_rcv take of GSO for a captured frame: the frame teaches the namespace (SYN MSS,
/// ICMP too-big), and a frame longer than its arrival device's MTU is a GSO/GRO super-packet whose
/// gso_size is inferred here; one that already has GSO info (it crossed a veth whole) keeps it.
/// </summary>
public static class GsoReceive
{
    /// <summary>Learns, infers, and returns the text the receive stage appends ("" for a plain packet).</summary>
    public static string Note(SkBuff skb)
    {
        var state = skb.State.Gso;
        GsoSizeInference.Learn(state, skb.Network, skb.TimestampNs);
        skb.Gso ??= GsoSizeInference.Infer(state, skb.Network, skb.Dev.Mtu, skb.Dev.Name, skb.TimestampNs);
        return skb.Gso is { } g ? $"; {skb.Length - skb.NetworkHeader} bytes: a {g.Describe()}" : "";
    }
}
