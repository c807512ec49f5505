using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.Netfilter;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.IPv4;

/// <summary>arp_send / arp_xmit: ARP packets the kernel sends, through the ARP OUTPUT hook to the device.</summary>
public static class ArpSend
{
    /// <summary>arp_send(ARPOP_REPLY, ...) for arp_process: tip is-at our MAC, to the requester's MAC.</summary>
    [KernelSymbol("arp_send", "net/ipv4/arp.c")]
    public static void Reply(SkBuff skb, TraceBuilder t, IpAddr sip, MacAddress sha, IpAddr tip, string description)
    {
        var dev = skb.Dev;
        var arp = new byte[28];
        arp[1] = 1;              // ARPHRD_ETHER
        arp[2] = 0x08;           // ETH_P_IP
        arp[4] = 6;
        arp[5] = 4;
        arp[7] = (byte)ArpPacket.Reply;
        dev.Mac.Write(arp.AsSpan(8));
        tip.Write(arp.AsSpan(14));
        sha.Write(arp.AsSpan(18));
        sip.Write(arp.AsSpan(24));
        t.Emit(new GeneratedPacket
        {
            Description = description, Function = "arp_send", Namespace = skb.Netns, Device = dev,
            Protocol = EtherTypes.Arp, Network = arp, LinkDestination = sha,
        });
    }

    /// <summary>arp_xmit: NF_ARP_OUT, then dev_queue_xmit on the device (across a veth pair the peer receives it).</summary>
    [KernelSymbol("arp_xmit", "net/ipv4/arp.c")]
    public static void Xmit(SkBuff skb, TraceBuilder t, NetDevice dev, string detail)
    {
        t.Stage(skb, "ArpSend", "arp_send", Verdict.Pass, detail);
        if (!NfHookSlow.Run(skb, t, NfFamily.Arp, NfHook.Output, null, dev)) return;
        DevQueueXmit.Xmit(skb, t, Fate.Transmitted);
    }
}
