using PktFlow.Datapath;
using PktFlow.IPv4;
using PktFlow.IPv6;
using PktFlow.Socket;
using PktFlow.Wire;

namespace PktFlow.Netfilter;

/// <summary>
/// nft_reject / ipt_REJECT: what a reject rule sends before the packet is dropped: a TCP reset
/// (nf_send_reset, nf_send_reset6) or an ICMP destination unreachable (nf_send_unreach: icmp_send;
/// nf_send_unreach6: icmpv6_send) with the rule's code.
/// </summary>
public static class NfReject
{
    [KernelSymbol("nf_send_unreach", "net/ipv4/netfilter/nf_reject_ipv4.c")]
    [KernelSymbol("nf_send_unreach6", "net/ipv6/netfilter/nf_reject_ipv6.c")]
    public static void Send(SkBuff skb, TraceBuilder t, string reject)
    {
        string description = $"reject: {reject}";
        bool v6 = skb.Protocol == EtherTypes.Ipv6;
        var n = skb.Network;
        IpAddr src, dst; byte proto; ReadOnlySpan<byte> l4;
        if (!v6 && Ipv4Header.TryParse(n, out var ip, out _)) { src = ip.Source; dst = ip.Destination; proto = ip.Protocol; l4 = ip.FragmentOffset == 0 ? ip.Payload : default; }
        else if (v6 && Ipv6Header.TryParse(n, out var ip6, out _))
        {
            Ipv6ExtensionHeaders.Walk(ip6.NextHeader, n[Ipv6Header.HeaderLength..], out var chain);
            src = ip6.Source; dst = ip6.Destination; proto = chain.UpperProtocol;
            l4 = n[Math.Min(n.Length, Ipv6Header.HeaderLength + chain.UpperOffset)..];
        }
        else { t.Generate(description); return; }
        var words = reject.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (reject == "tcp reset")
        {
            if (proto == IpProtocol.Tcp) TcpSendReset.Send(skb, t, src, dst, l4, v6 ? "nf_send_reset6" : "nf_send_reset", description);
            else t.Generate($"{description}: not sent (not a TCP segment)");
            return;
        }
        string what = words.Length > 1 ? words[^1] : "port-unreachable";
        if (v6)
        {
            byte code = what switch
            {
                "no-route" => 0, "admin-prohibited" or "adm-prohibited" => 1, "addr-unreachable" or "host-unreachable" => 3,
                "port-unreachable" => 4, _ => byte.TryParse(what, out var c) ? c : (byte)4,
            };
            Icmp6Send.Error(skb, t, Icmp6Send.DestUnreach, code, 0, description);
        }
        else
        {
            byte code = what switch
            {
                "net-unreachable" or "no-route" => 0, "host-unreachable" => 1, "prot-unreachable" => 2, "port-unreachable" => 3,
                "net-prohibited" => 9, "host-prohibited" => 10, "admin-prohibited" => 13, _ => byte.TryParse(what, out var c) ? c : (byte)3,
            };
            IcmpSend.Error(skb, t, IcmpSend.DestUnreach, code, 0, skb.Netns.IsLocalAddress(dst), description);
        }
    }
}
