using PktFlow.Netfilter;
using PktFlow.Datapath;
using PktFlow.Routing;
using PktFlow.Socket;
using PktFlow.Wire;

namespace PktFlow.IPv4;

/// <summary>net/ipv4/ip_input.c: ip_rcv, ip_rcv_finish, ip_local_deliver and their _finish halves.</summary>
public static class IpInput
{
    [KernelSymbol("ip_rcv", "net/ipv4/ip_input.c")]
    [KernelSymbol("ip_rcv_core", "net/ipv4/ip_input.c")]
    public static void IpRcv(SkBuff skb, TraceBuilder t)
    {
        skb.FragInfo = null; // ip_rcv_core clears IPCB(skb)
        // "When the interface is in promisc. mode, drop all the crap that it receives."
        if (skb.PktType == PacketType.OtherHost)
        {
            t.Drop(skb, "IpRcv", "ip_rcv_core", "OTHERHOST", "packet is not for this host (pkt_type OTHERHOST)");
            return;
        }
        var data = skb.Network;
        if (!Ipv4Header.TryParse(data, out var ip, out var error))
        {
            t.Drop(skb, "IpRcv", "ip_rcv_core", "IP_INHDR", error ?? "IPv4 header cut short");
            return;
        }
        if (ip.HeaderProblem() is { } problem)
        {
            t.Drop(skb, "IpRcv", "ip_rcv_core", problem.Contains("checksum") ? "IP_CSUM" : "IP_INHDR", problem);
            return;
        }
        if (ip.TotalLengthZero)
            t.Note("IPv4 total length 0 (a TSO/GRO super-frame as captured): the frame's length is used");
        else if (ip.TotalLength > data.Length)
        {
            t.Drop(skb, "IpRcv", "ip_rcv_core", "PKT_TOO_SMALL", $"IPv4 total length {ip.TotalLength} > {data.Length} bytes present");
            return;
        }
        else if (ip.LengthProblem(data.Length) is { } lengthProblem)
        {
            t.Drop(skb, "IpRcv", "ip_rcv_core", "IP_INHDR", lengthProblem);
            return;
        }
        skb.TrimNetwork(ip.TotalLengthZero ? data.Length : ip.TotalLength); // tot_len 0: the whole frame is the packet
        skb.TransportHeader = skb.NetworkHeader + ip.HeaderLength;
        string gso = Offload.GsoReceive.Note(skb);
        t.Stage(skb, "IpRcv", "ip_rcv_core", Verdict.Pass,
            $"IPv4 {ip.Source} > {ip.Destination}, header ok, ttl {ip.Ttl}{(ip.HeaderLength > 20 ? $", {ip.HeaderLength - 20} bytes of options" : "")}{gso}");
        // br_netfilter's ip_sabotage_in (NF_IP_PRI_FIRST) ends PRE_ROUTING for a frame that already passed it inside the bridge.
        if (!Bridge.BrNetfilter.IpSabotageIn(skb, t) && !NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.PreRouting, skb.Dev, null)) return;
        IpRcvFinish(skb, t);
    }

    [KernelSymbol("ip_rcv_finish", "net/ipv4/ip_input.c")]
    private static void IpRcvFinish(SkBuff skb, TraceBuilder t)
    {
        Ipv4Header.TryParse(skb.Network, out var ip, out _);
        var saddr = ip.Source;
        var daddr = ip.Destination;
        var rt = IpRouteInput.Lookup(skb, saddr, daddr);
        t.Route = rt.Describe();
        if (ip.HeaderLength > 20 && rt.Kind != InputRouteKind.Martian && !IpRcvOptions(skb, t, ip, rt)) return;
        switch (rt.Kind)
        {
            case InputRouteKind.Martian:
                t.Drop(skb, "IpRouteInput", "ip_route_input_slow", rt.DropReason ?? "IP_INVALID_SOURCE", rt.Detail);
                return;
            case InputRouteKind.Error:
                t.Stage(skb, "IpRouteInput", "ip_route_input_slow", Verdict.Pass, rt.Detail);
                IpError(skb, t, rt, saddr);
                return;
            case InputRouteKind.Forward:
                t.Stage(skb, "IpRouteInput", "ip_route_input_slow", Verdict.Pass, rt.Detail);
                if (rt.Multipath is { } mp) t.Stage(skb, "FibSelectMultipath", "fib_select_multipath", Verdict.Pass, mp);
                if (rt.CaptureHashed is { } hashed) t.CaptureHashed(hashed);
                IpForward.Forward(skb, t, rt);
                return;
            default:
                t.Stage(skb, "IpRouteInput", "ip_route_input_slow", Verdict.Pass, rt.Detail);
                IpLocalDeliver(skb, t, rt);
                return;
        }
    }

    /// <summary>ip_rcv_options: after the route is known, the options are compiled; a bad one is answered with a parameter problem.</summary>
    [KernelSymbol("ip_rcv_options", "net/ipv4/ip_input.c")]
    private static bool IpRcvOptions(SkBuff skb, TraceBuilder t, Ipv4Header ip, InputRoute rt)
    {
        if (IpOptions.Problem(ip.Options, out int pointer, out bool sourceRoute) is { } problem)
        {
            IcmpSend.Error(skb, t, IcmpSend.ParameterProblem, 0, (uint)pointer << 24, rt.Kind == InputRouteKind.Local, $"ICMP parameter problem (pointer {pointer}) to {ip.Source}");
            t.Stage(skb, "IpRouteInput", "ip_route_input_slow", Verdict.Pass, rt.Detail);
            t.Drop(skb, "IpRcvOptions", "ip_rcv_finish_core", "IP_INHDR", $"{problem}: ICMP parameter problem sent to {ip.Source}");
            return false;
        }
        if (sourceRoute)
        {
            t.Unsupported(skb, "IPv4 source route option: ip_options_rcv_srr (source routing, off unless accept_source_route) is not modelled yet");
            return false;
        }
        t.Note($"IPv4 options ({ip.HeaderLength - 20} bytes) are well formed; record route and timestamp updates are not modelled");
        return true;
    }

    /// <summary>
    /// ip_error, the dst.input of unreachable routes: with forwarding off on the device nothing is sent
    /// back; otherwise the ICMP destination unreachable code follows the route's error.
    /// </summary>
    [KernelSymbol("ip_error", "net/ipv4/route.c")]
    private static void IpError(SkBuff skb, TraceBuilder t, InputRoute rt, IpAddr saddr)
    {
        bool forwarding = skb.Netns.Sysctls.Ipv4Forwarding(skb.Dev.Name);
        if (!forwarding)
        {
            var reason = rt.Error == FibError.NetUnreachable ? "IP_INNOROUTES" : "IP_INADDRERRORS";
            t.Drop(skb, "IpError", "ip_error", reason, $"not for this host and forwarding is off on {skb.Dev.Name}: dropped without ICMP");
            return;
        }
        (string? icmp, byte code) = rt.Error switch
        {
            FibError.HostUnreachable => ("host unreachable (code 1)", (byte)1),
            FibError.NetUnreachable => ("net unreachable (code 0)", (byte)0),
            FibError.Prohibited => ("communication administratively prohibited (code 13)", (byte)13),
            _ => ((string?)null, (byte)0),
        };
        if (icmp is null)
        {
            t.Drop(skb, "IpError", "ip_error", "NOT_SPECIFIED", "blackhole route: dropped silently");
            return;
        }
        IcmpSend.Error(skb, t, IcmpSend.DestUnreach, code, 0, false, $"ICMP destination unreachable, {icmp}, to {saddr}");
        t.Drop(skb, "IpError", "ip_error", rt.Error == FibError.NetUnreachable ? "IP_INNOROUTES" : "NOT_SPECIFIED",
            $"{rt.Detail}: ICMP {icmp} sent to {saddr}");
    }

    /// <summary>
    /// A fragment the capture shows leaving this namespace (Observe mode) is not held: its datagram was
    /// completed by fragments that arrived where the capture does not see, forwarded, and fragmented
    /// again (ip_do_fragment), so the trace follows this fragment on.
    /// </summary>
    internal static bool SeenLeavingAsFragment(SkBuff skb, TraceBuilder t, string stage, string function, string detail)
    {
        if (skb.SeenLeaving?.Namespace != skb.Netns.Name) return false;
        t.Stage(skb, stage, function, Verdict.Pass,
            $"{detail}; the capture shows this fragment leaving, so its datagram was completed by fragments not captured here and is sent again as fragments: followed as this fragment");
        return true;
    }

    /// <summary>ip_defrag: hold the fragment, or continue with the whole datagram when this one completes it.</summary>
    [KernelSymbol("ip_defrag", "net/ipv4/ip_fragment.c")]
    /// <param name="conntrack">nf_ct_ipv4_gather_frags: conntrack's defrag also sets skb->ignore_df.</param>
    internal static bool IpDefrag(SkBuff skb, TraceBuilder t, ref Ipv4Header ip, bool conntrack = false)
    {
        var whole = skb.State.Fragments.Add(ip.Source, ip.Destination, ip.Protocol, ip.Identification, ip.FragmentOffset,
            ip.MoreFragments, ip.DontFragment, skb.Network[..ip.HeaderLength], ip.Payload, skb.TimestampNs, out var detail, out var info);
        if (whole is null && SeenLeavingAsFragment(skb, t, "IpDefrag", "ip_defrag", detail)) return true;
        if (whole is null)
        {
            t.Stage(skb, "IpDefrag", "ip_defrag", Verdict.Stolen, detail);
            t.End(Fate.Consumed, "ip_defrag (held for reassembly)");
            return false;
        }
        // ip_frag_reasm: the datagram carries on with its total length fixed and no fragment bits.
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(whole.AsSpan(2), (ushort)whole.Length);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(whole.AsSpan(6), (ushort)(info!.Pmtu ? Ipv4Header.FlagDf : 0));
        whole[10] = 0; whole[11] = 0;
        var cs = Checksum.Internet(whole.AsSpan(0, ip.HeaderLength));
        whole[10] = (byte)(cs >> 8); whole[11] = (byte)cs;
        skb.ReplaceNetwork(whole);
        skb.FragInfo = info;
        skb.IgnoreDf |= conntrack;
        Ipv4Header.TryParse(skb.Network, out ip, out _);
        t.Stage(skb, "IpDefrag", "ip_defrag", Verdict.Pass, detail);
        return true;
    }

    [KernelSymbol("ip_local_deliver", "net/ipv4/ip_input.c")]
    private static void IpLocalDeliver(SkBuff skb, TraceBuilder t, InputRoute rt)
    {
        Ipv4Header.TryParse(skb.Network, out var ip, out _);
        if (ip.IsFragment && !IpDefrag(skb, t, ref ip)) return;
        if (!NfHookSlow.Run(skb, t, NfFamily.Inet, NfHook.LocalIn, skb.Dev, null)) return;
        Ipv4Header.TryParse(skb.Network, out ip, out _); // NAT may have rewritten it
        LocalDeliver.Transport(skb, t, ip.Protocol, ip.Source, ip.Destination, ip.Payload,
            broadcast: rt.Kind is InputRouteKind.Broadcast or InputRouteKind.Multicast);
    }
}
