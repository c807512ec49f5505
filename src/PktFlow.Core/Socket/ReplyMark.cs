using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.Socket;

/// <summary>
/// The mark of a packet the stack builds in answer to another (a reset, an ICMP error, an echo reply),
/// which its output route lookup (flowi4_mark / flowi6_mark: `ip rule fwmark`) and the output hooks
/// (`meta mark`) see. IP4_REPLY_MARK / IP6_REPLY_MARK: with net.ipv4.fwmark_reflect
/// (net.ipv6.fwmark_reflect) it is the mark of the packet answered, else 0. ip_send_unicast_reply
/// (tcp_v4_send_reset, tcp_v4_send_ack) and tcp_v6_send_response fall back to the mark of the socket
/// that answers (its control socket takes sk_mark, or a TIME_WAIT socket's tw_mark) when that is 0.
/// </summary>
public static class ReplyMark
{
    /// <summary>IP4_REPLY_MARK / IP6_REPLY_MARK of the packet at <paramref name="skb"/>.</summary>
    public static uint Reflected(SkBuff skb) =>
        skb.Netns.Sysctls.IsOn(skb.Protocol == EtherTypes.Ipv6 ? "net.ipv6.fwmark_reflect" : "net.ipv4.fwmark_reflect") ? skb.Mark : 0;

    /// <summary>The mark of the answer to <paramref name="skb"/>, and why, when <paramref name="sk"/> (or nobody) answers.</summary>
    public static (uint Mark, string? Source) Of(SkBuff skb, Sock? sk)
    {
        if (Reflected(skb) is var m and not 0)
            return (m, $"the mark of the packet it answers ({(skb.Protocol == EtherTypes.Ipv6 ? "net.ipv6" : "net.ipv4")}.fwmark_reflect = 1)");
        if (sk is { Mark: not 0 } s) return (s.Mark, $"the mark of {s}, which answers (SO_MARK)");
        return (0, null);
    }
}
