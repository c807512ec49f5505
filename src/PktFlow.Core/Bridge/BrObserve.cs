using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.IPv4;
using PktFlow.Netfilter;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Bridge;

/// <summary>
/// A capture on a bridge port sees both directions, and an Ethernet capture does not say which. In
/// Observe mode, a frame captured at the port whose source MAC belongs to the other side of the
/// bridge was not received on this port but sent out of it: by the host through the bridge device
/// (source = a local fdb address) or bridged from another port (source = a device behind that
/// port's veth peer). The model traces it from where it really started.
/// </summary>
public static class BrObserve
{

    /// <summary>Flooded copies a hairpin port sent back out of itself, by port and bytes, not yet seen in the capture.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<NamespaceState, HashSet<string>> HairpinCopies = new();

    /// <summary>Remembers the copy a flood sends back out of its hairpin ingress port (Observe mode): the capture there shows it next.</summary>
    internal static void ExpectHairpinCopy(SkBuff copy, NetDevice port)
    {
        if (copy.Engine.Mode == ReplayMode.Observe) HairpinCopies.GetOrCreateValue(copy.State).Add(port.Name + "/" + Convert.ToHexString(copy.Data));
    }

    /// <summary>True when the frame was re-attributed (and traced to its end); false to receive it on the port.</summary>
    public static bool TryReattribute(SkBuff skb, TraceBuilder t, NetDevice port, NetDevice br, MacAddress src)
    {
        if (skb.Engine.Mode != ReplayMode.Observe || skb.Hops != 0) return false;
        if (skb.SeenLeaving is not null) return false; // already re-attributed: now it is received where it started
        var ns = skb.Netns;
        if (HairpinCopies.TryGetValue(skb.State, out var copies) && copies.Remove(port.Name + "/" + Convert.ToHexString(skb.Data)))
        {
            // The same bytes came in on this port just before: this is the flood's copy leaving by it.
            skb.SeenLeaving = (ns.Name, port.Name);
            t.Stage(skb, "Observed", "dev_hard_start_xmit", Verdict.Pass, $"seen leaving {port.Name}: the copy a flood sent back out of its hairpin port; traced from its receive on {port.Name}");
            return false;
        }
        if (BrFdb.IsLocal(ns, br, src) && src != port.Mac && CouldBeSentByHost(ns, br, src, skb.Protocol, skb.Network))
        {
            skb.SeenLeaving = (ns.Name, port.Name);
            t.Stage(skb, "Observed", "dev_hard_start_xmit", Verdict.Pass, $"seen leaving {port.Name}; the source {src} is {br.Name}'s own: sent by the host through {br.Name}");
            SentByHost(skb, t, br);
            return true;
        }
        var from = BrPorts.Of(ns, br).FirstOrDefault(q => q.Name != port.Name && IsBehind(skb, q, src));
        if (from is null) return false;
        skb.SeenLeaving = (ns.Name, port.Name);
        t.Stage(skb, "Observed", "dev_hard_start_xmit", Verdict.Pass, $"seen leaving {port.Name}; the source {src} is behind {from.Name}: traced from its receive on {from.Name}");
        skb.Dev = from;
        skb.NetworkHeader = skb.MacHeader;
        skb.TransportHeader = -1;
        NetifReceiveSkb.EthTypeTrans(skb, t);
        return true;
    }

    /// <summary>
    /// Whether the host could have sent a frame with this local source through the bridge: it sends
    /// with the bridge device's MAC only, never with another local entry's (a port's own MAC, a
    /// permanent entry made by hand), and an IPv4 packet from an address not its own only when it
    /// forwards. Otherwise the frame came in on the port: br_fdb_update only warns about a local
    /// source (6.18) and the frame is bridged like any other.
    /// </summary>
    internal static bool CouldBeSentByHost(NetNamespace ns, NetDevice br, MacAddress src, ushort etherType, ReadOnlySpan<byte> l3) =>
        src == br.Mac && !(etherType == EtherTypes.Ipv4 && Ipv4Header.TryParse(l3, out var ip, out _)
            && !ns.IsLocalAddress(ip.Source) && !ns.Sysctls.IsOn("net.ipv4.ip_forward"));

    private static bool IsBehind(SkBuff skb, NetDevice q, MacAddress mac) =>
        q.Kind == DeviceKind.Veth && q.Peer is not null
        && skb.Engine.Topology.Namespace(q.PeerNamespace ?? skb.Netns.Name) is { } peerNs
        && peerNs != skb.Netns && peerNs.Devices.Any(d => d.Mac == mac);

    private static void SentByHost(SkBuff skb, TraceBuilder t, NetDevice br)
    {
        var l3 = skb.Network;
        skb.Dev = br;
        // A tag of a VLAN device on the bridge: that device sent it, and vlan_dev_hard_start_xmit pushed the tag.
        skb.Dev = br = Vlan.VlanCore.SenderOf(skb, skb.Netns, br);
        if (skb.Protocol == EtherTypes.Arp && ArpPacket.TryParse(l3, out var arp, out _) && arp.IsEthernetIpv4
            && (skb.Netns.IsLocalAddress(arp.SenderIp) || arp.SenderIp.IsZero))
        {
            t.Stage(skb, "ArpSend", "arp_send", Verdict.Pass, $"the kernel of {skb.Netns.Name} sends ARP {(arp.Operation == ArpPacket.Request ? $"request who-has {arp.TargetIp}" : $"reply {arp.SenderIp} is-at {arp.SenderMac}")}");
            if (!NfHookSlow.Run(skb, t, NfFamily.Arp, NfHook.Output, null, br)) return;
            DevQueueXmit.Xmit(skb, t, Fate.Transmitted);
            return;
        }
        if (skb.Protocol == EtherTypes.Ipv4 && Ipv4Header.TryParse(l3, out var ip, out _) && skb.Netns.IsLocalAddress(ip.Source))
        {
            IpLocalOut.Send(skb, t, ip.Source, ip.Destination, br);
            return;
        }
        t.Unsupported(skb, $"a frame sent through {br.Name} that this host did not originate (routed out of {br.Name}: its ingress is not in the capture)");
    }
}
