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
        var arp = Build(ArpPacket.Reply, dev.Mac, tip, sha, sip);
        t.Emit(new GeneratedPacket
        {
            Description = description, Function = "arp_send", Namespace = skb.Netns, Device = dev,
            Protocol = EtherTypes.Arp, Network = arp, LinkDestination = sha,
        });
    }

    /// <summary>
    /// arp_solicit's broadcast probe: who-has target, from the packet's own source when it is local
    /// here (arp_announce 0; 1 also wants it on target's subnet; 2 never), else the device's address
    /// inet_select_addr picks for the target.
    /// </summary>
    [KernelSymbol("arp_solicit", "net/ipv4/arp.c")]
    public static void Request(SkBuff skb, TraceBuilder t, NetDevice dev, IpAddr? packetSource, IpAddr target, string description)
    {
        var ns = skb.Netns;
        var sip = SolicitSource(ns, dev, packetSource, target);
        if (sip is null) { t.Generate($"{description}: not sent ({dev.Name} has no IPv4 address)"); return; }
        var arp = Build(ArpPacket.Request, dev.Mac, sip.Value, MacAddress.Zero, target);
        t.Emit(new GeneratedPacket
        {
            Description = $"{description}: who-has {target} tell {sip}", Function = "arp_solicit", Namespace = ns, Device = dev,
            Protocol = EtherTypes.Arp, Network = arp, LinkDestination = MacAddress.Broadcast,
        });
    }

    /// <summary>arp_solicit's sender address for a request about <paramref name="target"/> (see <see cref="Request"/>).</summary>
    public static IpAddr? SolicitSource(NetNamespace ns, NetDevice dev, IpAddr? packetSource, IpAddr target)
    {
        int announce = Math.Max(Level(ns, "all"), Level(ns, dev.Name));
        var own = ns.AddressesOf(dev.Name).Where(a => a.Family == IpFamily.V4).ToList();
        IpAddr? sip = packetSource is { } ps && ns.IsLocalAddress(ps)
            && (announce == 0 || announce == 1 && own.Any(a => a.Prefix.Contains(ps) && a.Prefix.Contains(target))) ? ps : null;
        return sip ?? (own.FirstOrDefault(a => a.Prefix.Contains(target)) ?? own.FirstOrDefault())?.Address;

        static int Level(NetNamespace ns, string scope) =>
            int.TryParse(ns.Sysctls.Conf("ipv4", scope, "arp_announce"), out var v) ? v : 0;
    }

    /// <summary>The sender address of the request the packet in <paramref name="skb"/> makes <paramref name="dev"/> send.</summary>
    public static IpAddr? SolicitSource(SkBuff skb, NetDevice dev, IpAddr target) =>
        SolicitSource(skb.Netns, dev, skb.Protocol == EtherTypes.Ipv4 && skb.Network.Length >= 20 ? IpAddr.ReadV4(skb.Network[12..]) : null, target);

    /// <summary>arp_create: an Ethernet/IPv4 ARP packet (the target hardware address of a request is zero).</summary>
    private static byte[] Build(ushort op, MacAddress sha, IpAddr sip, MacAddress tha, IpAddr tip)
    {
        var arp = new byte[28];
        arp[1] = 1;              // ARPHRD_ETHER
        arp[2] = 0x08;           // ETH_P_IP
        arp[4] = 6;
        arp[5] = 4;
        arp[7] = (byte)op;
        sha.Write(arp.AsSpan(8));
        sip.Write(arp.AsSpan(14));
        tha.Write(arp.AsSpan(18));
        tip.Write(arp.AsSpan(24));
        return arp;
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
