using PktFlow.Netfilter;
using PktFlow.Datapath;
using PktFlow.IPv4;
using PktFlow.IPv6;
using PktFlow.Wire;

namespace PktFlow.Dev;

/// <summary>
/// Receive on one device: eth_type_trans, then __netif_receive_skb_core's order of XDP, GRO, taps,
/// tc ingress, the netdev ingress hook, VLAN untagging, the rx_handler (bridge ports, macvlan lower devices) and the
/// protocol handlers (ip_rcv, ipv6_rcv, arp_rcv). See shared kernel-path.md, "Receive, one device".
/// </summary>
public static class NetifReceiveSkb
{
    /// <summary>Entry for a frame that starts with an Ethernet header.</summary>
    [KernelSymbol("eth_type_trans", "net/ethernet/eth.c")]
    public static void EthTypeTrans(SkBuff skb, TraceBuilder t) => EthTypeTrans(skb, t, xdpDone: false);

    /// <summary>eth_type_trans on a frame native XDP already ran on (veth_xdp_rcv_one built the skb after it).</summary>
    internal static void EthTypeTrans(SkBuff skb, TraceBuilder t, bool xdpDone)
    {
        if (!EthernetFrame.TryParse(skb.Data, out var eth, out var error))
        {
            t.Drop(skb, "EthTypeTrans", "eth_type_trans", "PKT_TOO_SMALL", error ?? "frame shorter than an Ethernet header");
            return;
        }
        var dst = eth.Destination;
        TypeTrans(skb, eth);
        // For the host's own MAC and broadcast the detail follows from the device and protocol: shared.
        if (skb.PktType is PacketType.Host or PacketType.Broadcast)
            t.SharedStage(skb, "EthTypeTrans", "eth_type_trans", Verdict.Pass, (long)skb.PktType << 16 | skb.Protocol, dst, static (s, d) => EthTypeTransDetail(s, d));
        else
            t.Stage(skb, "EthTypeTrans", "eth_type_trans", Verdict.Pass, EthTypeTransDetail(skb, dst));
        Receive(skb, t, xdpDone);
    }

    /// <summary>What eth_type_trans sets from the Ethernet header (also after an XDP program rewrote it).</summary>
    internal static void TypeTrans(SkBuff skb, EthernetFrame eth)
    {
        var dst = eth.Destination;
        skb.MacHeader = 0;
        // Tags are untagged by skb_vlan_untag later; the protocol is the innermost EtherType.
        skb.PktType = dst.IsBroadcast ? PacketType.Broadcast
            : dst.IsMulticast ? PacketType.Multicast
            : dst == skb.Dev.Mac ? PacketType.Host
            : PacketType.OtherHost;
        skb.VlanPresent = eth.VlanCount > 0;
        skb.VlanId = eth.VlanCount > 0 ? eth.Vlan(0).Vid : (ushort)0;
        // an 802.3 length: ETH_P_802_3 for raw Novell (payload ff ff), else ETH_P_802_2 (LLC)
        skb.Protocol = !eth.IsLengthField ? eth.EtherType : eth.Payload is [0xFF, 0xFF, ..] ? EtherTypes.Raw8023 : EtherTypes.Llc;
        skb.NetworkHeader = eth.HeaderLength;
    }

    private static string EthTypeTransDetail(SkBuff skb, MacAddress dst)
    {
        string what = skb.PktType switch
        {
            PacketType.Host => $"pkt_type HOST: {dst} is {skb.Dev.Name}'s address",
            PacketType.Broadcast => "pkt_type BROADCAST",
            PacketType.Multicast => $"pkt_type MULTICAST ({dst})",
            _ => $"pkt_type OTHERHOST: {dst} is not {skb.Dev.Name}'s address {skb.Dev.Mac}",
        };
        return $"{what}, protocol 0x{skb.Protocol:x4}";
    }

    /// <summary>Entry for a frame that starts at the network header (raw IP or cooked captures).</summary>
    public static void ReceiveNetwork(SkBuff skb, ushort protocol, int networkOffset, PacketType pktType, TraceBuilder t)
    {
        skb.Protocol = protocol;
        skb.NetworkHeader = networkOffset;
        skb.PktType = pktType;
        t.Stage(skb, "NetifRx", "netif_receive_skb", Verdict.Pass, $"no Ethernet header in the capture; protocol 0x{protocol:x4}, pkt_type {pktType.ToString().ToUpperInvariant()} assumed");
        Receive(skb, t);
    }

    [KernelSymbol("__netif_receive_skb_core", "net/core/dev.c")]
    internal static void Receive(SkBuff skb, TraceBuilder t, bool xdpDone = false)
    {
        if (!skb.Dev.IsUp)
        {
            t.Drop(skb, "NetifReceiveSkb", "__netif_receive_skb_core", "DEV_READY", $"{skb.Dev.Name} is down: nothing is received");
            return;
        }
        if (!xdpDone && skb.Dev.Xdp is { } xdp && !(xdp.RunsNative(skb.Dev) ? VethXdpRcvSkb.Run(skb, t) : NetifReceiveGenericXdp.Run(skb, t))) return;
        t.NotModelledConstant(skb, "Gro", "napi_gro_receive", "GRO is not modelled yet: each captured frame is one skb");
        skb.Engine.NoteCrossing(skb, outbound: false); // the taps (ptype_all) see it arrive
        if (!Tc.SchHandle.Ingress(skb, t)) return;
        if (!NfHookSlow.Run(skb, t, NfFamily.Netdev, NfHook.Ingress, skb.Dev, null)) return;

        if (skb.VlanPresent)
        {
            // vlan_do_receive: a VLAN device of this VID takes the frame untagged (another_round).
            if (Vlan.VlanCore.DoReceive(skb, t, out bool freed))
            {
                Receive(skb, t);
                return;
            }
            if (freed) return;
            // Otherwise a non-zero VID makes it PACKET_OTHERHOST (dropped by ip_rcv and friends).
            if (skb.VlanId != 0)
            {
                skb.PktType = PacketType.OtherHost;
                t.Stage(skb, "VlanDoReceive", "vlan_do_receive", Verdict.Pass,
                    $"802.1Q VID {skb.VlanId}: no VLAN device on {skb.Dev.Name} for it, pkt_type set to OTHERHOST");
            }
            else t.Stage(skb, "VlanDoReceive", "vlan_do_receive", Verdict.Pass, "priority tag (VID 0): handled as untagged");
        }

        // the rx_handler of a device with macvlans on it (a device has one rx_handler: never a bridge port too)
        if (Macvlan.MacvlanHandleFrame.Run(skb, t)) return;

        if (skb.Dev.Master is { } master)
        {
            Bridge.BrHandleFrame.Receive(skb, t); // the rx_handler of a port of {master}
            return;
        }

        ProtocolHandlers(skb, t);
    }

    /// <summary>The ptype_base handlers: what a frame no rx_handler consumed (or a bridge port passed on) reaches.</summary>
    internal static void ProtocolHandlers(SkBuff skb, TraceBuilder t)
    {
        switch (skb.Protocol)
        {
            case EtherTypes.Ipv4: IpInput.IpRcv(skb, t); break;
            case EtherTypes.Ipv6: Ip6Input.Ipv6Rcv(skb, t); break;
            case EtherTypes.Arp: ArpRcv.Receive(skb, t); break;
            case EtherTypes.Llc: LlcRcv(skb, t); break;
            default:
                // No ptype_base handler: __netif_receive_skb_core frees it as UNHANDLED_PROTO.
                t.Drop(skb, "NetifReceiveSkb", "__netif_receive_skb_core", "UNHANDLED_PROTO",
                    $"no protocol handler for EtherType 0x{skb.Protocol:x4}");
                break;
        }
    }

    /// <summary>
    /// llc_rcv (net/llc/llc_input.c) for SAP 0x42: stp_pdu_rcv hands the BPDU to the bridge's br_stp_rcv
    /// (net/802/stp.c). Other SAPs (LLC2 sockets, SNAP, IPX over 802.2) are not modelled.
    /// </summary>
    [KernelSymbol("llc_rcv", "net/llc/llc_input.c")]
    private static void LlcRcv(SkBuff skb, TraceBuilder t)
    {
        var llc = skb.Network;
        if (!StpBpdu.IsStpLlc(llc))
        {
            t.Unsupported(skb, llc.Length >= 3 ? $"802.2 LLC frame for SAP 0x{llc[0]:x2} (only STP's SAP 0x42 is modelled)" : "an 802.2 frame too short for an LLC header");
            return;
        }
        Bridge.BrStpBpdu.Receive(skb, t, llc[3..]);
    }
}
