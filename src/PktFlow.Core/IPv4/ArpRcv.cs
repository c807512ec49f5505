using PktFlow.Netfilter;
using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.IPv4;

/// <summary>net/ipv4/arp.c: arp_rcv and arp_process. The kernel answers requests for its own addresses.</summary>
public static class ArpRcv
{
    [KernelSymbol("arp_rcv", "net/ipv4/arp.c")]
    public static void Receive(SkBuff skb, TraceBuilder t)
    {
        if (!ArpPacket.TryParse(skb.Network, out var arp, out var error) || !arp.IsEthernetIpv4)
        {
            t.Drop(skb, "ArpRcv", "arp_rcv", "NOT_SPECIFIED", error ?? $"ARP hardware/protocol lengths {arp.HardwareLength}/{arp.ProtocolLength} are not Ethernet/IPv4");
            return;
        }
        if (skb.PktType == PacketType.OtherHost)
        {
            t.Stage(skb, "ArpRcv", "arp_rcv", Verdict.Pass, "ARP frame for another host (pkt_type OTHERHOST): consumed without processing");
            t.End(Fate.Consumed, "arp_rcv (not for this host)");
            return;
        }
        t.Stage(skb, "ArpRcv", "arp_rcv", Verdict.Pass, $"ARP op {arp.Operation}, {arp.SenderIp} ({arp.SenderMac}) asks about {arp.TargetIp}");
        if (!NfHookSlow.Run(skb, t, NfFamily.Arp, NfHook.Input, skb.Dev, null)) return;
        ArpProcess(skb, t, arp.Operation, arp.SenderIp, arp.SenderMac, arp.TargetIp);
    }

    [KernelSymbol("arp_process", "net/ipv4/arp.c")]
    private static void ArpProcess(SkBuff skb, TraceBuilder t, ushort op, IpAddr sip, MacAddress sha, IpAddr tip)
    {
        var ns = skb.Netns;
        var dev = skb.Dev;
        if (op is not (ArpPacket.Request or ArpPacket.Reply))
        {
            t.Stage(skb, "ArpProcess", "arp_process", Verdict.Pass, $"ARP operation {op} is ignored");
            t.End(Fate.Consumed, "arp_process");
            return;
        }
        if (tip.IsMulticast || (tip.IsLoopback && !ns.Sysctls.IsOn("net.ipv4.conf.all.route_localnet")))
        {
            t.Stage(skb, "ArpProcess", "arp_process", Verdict.Pass, $"target {tip} is multicast or loopback: ignored");
            t.End(Fate.Consumed, "arp_process");
            return;
        }
        bool targetLocal = ns.IsLocalAddress(tip) && !tip.IsLoopback;
        if (op == ArpPacket.Request && targetLocal)
        {
            int ignore = int.TryParse(ns.Sysctls.Conf("ipv4", dev.Name, "arp_ignore") ?? ns.Sysctls.Get("net.ipv4.conf.all.arp_ignore"), out var v) ? v : 0;
            bool onThisDevice = ns.AddressesOf(dev.Name).Any(a => a.Address == tip);
            if (ignore >= 2) t.Note($"arp_ignore {ignore} is modelled as 1 (answer only for addresses on the receiving device)");
            if (ignore >= 1 && !onThisDevice)
            {
                t.Stage(skb, "ArpProcess", "arp_process", Verdict.Pass, $"{tip} is local but not on {dev.Name} and arp_ignore = {ignore}: no reply");
                t.End(Fate.Consumed, "arp_process (arp_ignore)");
                return;
            }
            if (!sip.IsZero && ns.IsLocalAddress(sip))
            {
                t.Stage(skb, "ArpProcess", "arp_process", Verdict.Pass, $"sender {sip} is one of this host's addresses: the route check fails, no reply");
                t.End(Fate.Consumed, "arp_process");
                return;
            }
            ArpSend.Reply(skb, t, sip, sha, tip, $"ARP reply {tip} is-at {dev.Mac} to {(sip.IsZero ? "broadcast (duplicate address probe)" : sip.ToString())}");
            t.Stage(skb, "ArpProcess", "arp_process", Verdict.Pass,
                $"{tip} is local: ARP reply {tip} is-at {dev.Mac} sent{(sip.IsZero ? "" : $"; neighbour {sip} lladdr {sha} learned")}");
            t.End(Fate.Consumed, "arp_process (reply sent)");
            return;
        }
        string learn = ns.AddressesOf(dev.Name).Any(a => a.Family == IpFamily.V4 && a.Prefix.Contains(sip))
            ? $"; an existing neighbour entry for {sip} would be updated to {sha}" : "";
        t.Stage(skb, "ArpProcess", "arp_process", Verdict.Pass,
            op == ArpPacket.Reply ? $"ARP reply {sip} is-at {sha}{learn}" : $"{tip} is not an address of this host: no reply (proxy_arp is not modelled){learn}");
        t.End(Fate.Consumed, "arp_process");
    }
}
