using System.Buffers.Binary;
using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.LoadBalancer;

/// <summary>What the load balancer did with a packet.</summary>
public enum LbOutcome
{
    /// <summary>Not for a VIP and not a reply it translates: the packet goes on unchanged.</summary>
    NotMine,
    /// <summary>Scheduled and rewritten: it now enters the model at the backend's namespace/device.</summary>
    Redirected,
    /// <summary>The packet's way ends at the load balancer (a NAT reply sent to the client, or no backend up).</summary>
    Ended,
}

/// <summary>
/// The load balancer in front of the host (docs/load-balancer.md): the one entry point of this folder.
/// A packet to a VIP is matched against the flow table (flows stick to their backend), scheduled when
/// new, rewritten for the VIP's forwarding mode and handed to the backend's namespace/device; a reply
/// of a NAT flow is rewritten back to the VIP. Each step is an event of the packet's trace, under the
/// load balancer's name. State lives for one replay, and time is capture time.
/// </summary>
public sealed class Balancer
{
    public LoadBalancerConfig Config { get; }
    public IReadOnlyList<LbService> Services { get; }
    public LbFlowTable Flows { get; }
    private long? _startNs;

    public Balancer(LoadBalancerConfig config)
    {
        Config = config;
        Services = config.Vips.Select(v => new LbService(v)).ToList();
        Flows = new LbFlowTable((long)(config.IdleTimeoutSeconds * 1e9), config.FlowTableSize);
    }

    /// <summary>Checks every backend's "at" against the topology: an error names the JSON path.</summary>
    public void Validate(Func<string, InjectionPoint> resolve)
    {
        for (int i = 0; i < Config.Vips.Count; i++)
            for (int j = 0; j < Config.Vips[i].Backends.Count; j++)
                if (Config.Vips[i].Backends[j].At is { } at)
                {
                    try { resolve(at); }
                    catch (ArgumentException e) { throw new LoadBalancerConfigException(Config.File, $"vips[{i}].backends[{j}].at", e.Message.Replace("-InjectAt ", "")); }
                }
    }

    /// <summary>
    /// Runs the load balancer on a packet whose network header and protocol are set. When it returns
    /// <see cref="LbOutcome.Redirected"/>, <paramref name="target"/> is where the rewritten frame (with
    /// an Ethernet header) enters; for <see cref="LbOutcome.Ended"/> the trace has its fate.
    /// </summary>
    public LbOutcome Receive(SkBuff skb, TraceBuilder t, long frame, InjectionPoint defaultAt, Func<string, InjectionPoint> resolve, out InjectionPoint target)
    {
        target = defaultAt;
        if (!TryKey(skb, out var key, out var tcpFlags, out var fragment)) return LbOutcome.NotMine;
        _startNs ??= skb.TimestampNs;
        double since = (skb.TimestampNs - _startNs.Value) / 1e9;
        foreach (var s in Services)
            foreach (var change in s.ApplyHealth(since))
                Event(t, s, "LbHealth", "lb_health", Verdict.Pass, change);

        if (Flows.FindReverse(key) is { } back) return ReverseNat(skb, t, key, back, tcpFlags);

        var service = Services.FirstOrDefault(s => s.Vip.Protocol == key.Protocol && (fragment || s.Vip.Port == key.DestinationPort) && s.Vip.Address == key.Destination);
        if (service is null) return LbOutcome.NotMine;
        if (fragment)
        {
            Event(t, service, "LbLookup", "lb_flow_lookup", Verdict.NotModelled, "an IP fragment to the VIP: fragments are not load-balanced by the model");
            t.Unsupported(null, $"IP fragment to VIP {service.Vip} (the load balancer needs the ports of the first fragment)");
            return LbOutcome.Ended;
        }
        var vip = service.Vip;
        var flow = Flows.Find(key);
        int backend;
        string decision;
        if (flow is not null && flow.Service == service && Flows.Alive(flow, skb.TimestampNs) && service.IsUp(flow.Backend))
        {
            backend = flow.Backend;
            decision = $"flow table: {key} sticks to {vip.Backends[backend]} (scheduled at frame {flow.FirstFrame})";
        }
        else
        {
            string prefix = flow is null ? "new flow" : !service.IsUp(flow.Backend) && Flows.Alive(flow, skb.TimestampNs)
                ? $"its backend {vip.Backends[flow.Backend]} is down: flow re-scheduled"
                : flow.Ended ? "the flow's earlier connection ended (FIN/RST): scheduled anew" : "the flow was idle longer than the timeout: scheduled anew";
            var conns = vip.Scheduler == LbScheduler.WeightedLeastConnections ? Flows.ActiveConnections(service, skb.TimestampNs) : null;
            if (flow is not null && conns is not null && Flows.Alive(flow, skb.TimestampNs)) conns[flow.Backend]--; // it is leaving that backend
            backend = service.Schedule(key, conns, out var why);
            if (backend < 0)
            {
                Event(t, service, "LbSchedule", ScheduleFunction(vip.Scheduler), Verdict.Drop, $"{prefix}: {why}");
                t.End(Fate.Dropped, $"load balancer: no backend up for {vip}");
                return LbOutcome.Ended;
            }
            decision = $"{prefix}: {why} -> {vip.Backends[backend]}";
            var reply = vip.Mode == LbForwardingMode.Nat ? ReplyKey(key, vip.Backends[backend], vip) : (LbFlowKey?)null;
            if (flow is not null && flow.Service == service) Flows.MoveTo(flow, backend, reply);
            else Flows.Add(flow = new LbFlow { Service = service, Key = key, Backend = backend, FirstFrame = frame }, reply);
        }
        Flows.Touch(flow, skb.TimestampNs);
        if ((tcpFlags & (TcpFlags.Fin | TcpFlags.Rst)) != 0) flow.Ended = true;
        Event(t, service, "LbSchedule", ScheduleFunction(vip.Scheduler), Verdict.Accept, decision);

        var b = vip.Backends[backend];
        target = b.At is { } at ? resolve(at) : defaultAt;
        var dstMac = b.Mac ?? target.Device.Mac;
        string how = Forward(skb, vip, b, key, dstMac);
        Event(t, service, "LbXmit", XmitFunction(vip.Mode), Verdict.Accept, $"{how}; enters {target}");
        skb.Netns = target.Namespace;
        skb.Dev = target.Device;
        skb.Hops++;
        return LbOutcome.Redirected;
    }

    private string Forward(SkBuff skb, LbVip vip, LbBackend b, LbFlowKey key, MacAddress dstMac)
    {
        bool v6 = skb.Protocol == EtherTypes.Ipv6;
        var srcMac = skb.MacHeader >= 0 ? MacAddress.Read(skb.Data[(skb.MacHeader + 6)..]) : Config.Mac;
        switch (vip.Mode)
        {
            case LbForwardingMode.Nat:
            {
                ushort port = b.Port ?? vip.Port;
                AddressRewrite.Rewrite(skb.Network, v6, source: false, b.Address, port, out _, out _);
                skb.SetEthernet(dstMac, Config.Mac);
                return $"NAT: destination {key.Destination.WithPort(key.DestinationPort)} -> {b.Address.WithPort(port)}, checksums updated; MAC {Config.Mac} > {dstMac}";
            }
            case LbForwardingMode.Dsr:
                skb.SetEthernet(dstMac, srcMac);
                return $"DSR: destination MAC -> {dstMac}, the VIP {key.Destination} stays (the backend must hold it)";
            default:
            {
                var source = (b.Address.IsV4 ? Config.Source : Config.Source6)!.Value;
                var inner = skb.Network.ToArray();
                byte[] outer;
                string what;
                if (vip.Mode == LbForwardingMode.Ipip)
                {
                    outer = LbEncap.Ipip(source, b.Address, inner, v6);
                    what = $"IP-in-IP: outer {(b.Address.IsV4 ? "IPv4" : "IPv6")} {source} > {b.Address} proto {(v6 ? "41 (IPv6)" : "4 (IPIP)")}";
                }
                else
                {
                    ushort sport = GueSourcePort(key);
                    outer = LbEncap.Gue(source, b.Address, sport, b.GuePort, inner, v6);
                    what = $"GUE: outer {(b.Address.IsV4 ? "IPv4" : "IPv6")} {source} > {b.Address}, UDP {sport} > {b.GuePort}, {(v6 ? "IPv6" : "IPv4")} inside";
                }
                skb.ReplaceNetwork(outer);
                skb.Protocol = b.Address.IsV4 ? EtherTypes.Ipv4 : EtherTypes.Ipv6;
                skb.SetEthernet(dstMac, Config.Mac);
                return $"{what}; MAC {Config.Mac} > {dstMac}";
            }
        }
    }

    /// <summary>The GUE source port carries flow entropy (the backend's RSS spreads on it): the flow hash folded into 16 bits.</summary>
    public static ushort GueSourcePort(LbFlowKey key)
    {
        var h = key.Hash();
        return (ushort)(h ^ h >> 16 ^ h >> 32 ^ h >> 48);
    }

    /// <summary>For a NAT backend's reply (no state changed): the backend's <c>at</c>, where its packets enter and leave the model.</summary>
    public InjectionPoint? ReplyBackendAt(SkBuff skb, InjectionPoint defaultAt, Func<string, InjectionPoint> resolve) =>
        TryKey(skb, out var key, out _, out _) && Flows.FindReverse(key) is { } f
            ? f.Service.Vip.Backends[f.Backend].At is { } at ? resolve(at) : defaultAt
            : null;

    private LbOutcome ReverseNat(SkBuff skb, TraceBuilder t, LbFlowKey key, LbFlow flow, TcpFlags tcpFlags)
    {
        var vip = flow.Service.Vip;
        AddressRewrite.Rewrite(skb.Network, skb.Protocol == EtherTypes.Ipv6, source: true, vip.Address, vip.Port, out _, out _);
        Flows.Touch(flow, skb.TimestampNs);
        if ((tcpFlags & (TcpFlags.Fin | TcpFlags.Rst)) != 0) flow.Ended = true;
        Event(t, flow.Service, "LbReverseNat", "lb_reverse_nat", Verdict.Accept,
            $"reply of {flow.Key} from {vip.Backends[flow.Backend]}: source {key.Source.WithPort(key.SourcePort)} -> {vip.Address.WithPort(vip.Port)}, checksums updated");
        t.End(Fate.Forwarded, $"load balancer: reply sent to {flow.Key.Source.WithPort(flow.Key.SourcePort)}", $"{Config.Name}/{vip}");
        return LbOutcome.Ended;
    }

    /// <summary>The key a NAT backend's reply carries: from the backend's address and port to the client.</summary>
    private static LbFlowKey ReplyKey(LbFlowKey key, LbBackend b, LbVip vip) =>
        new(key.Protocol, b.Address, b.Port ?? vip.Port, key.Source, key.SourcePort);

    private static bool TryKey(SkBuff skb, out LbFlowKey key, out TcpFlags tcpFlags, out bool fragment)
    {
        key = default; tcpFlags = 0; fragment = false;
        var n = skb.Network;
        IpAddr src, dst; byte proto; ReadOnlySpan<byte> l4;
        if (skb.Protocol == EtherTypes.Ipv4 && Ipv4Header.TryParse(n, out var ip, out _) && ip.HeaderComplete)
        {
            src = ip.Source; dst = ip.Destination; proto = ip.Protocol;
            fragment = ip.IsFragment;
            l4 = n[Math.Min(ip.HeaderLength, n.Length)..];
        }
        else if (skb.Protocol == EtherTypes.Ipv6 && Ipv6Header.TryParse(n, out var ip6, out _))
        {
            Ipv6ExtensionHeaders.Walk(ip6.NextHeader, n[Ipv6Header.HeaderLength..], out var chain);
            src = ip6.Source; dst = ip6.Destination; proto = chain.UpperProtocol;
            fragment = chain.HasFragment;
            l4 = n[Math.Min(Ipv6Header.HeaderLength + chain.UpperOffset, n.Length)..];
        }
        else return false;
        if (proto is not (IpProtocol.Tcp or IpProtocol.Udp)) return false;
        ushort sport = 0, dport = 0;
        if (!fragment)
        {
            if (l4.Length < 4) return false;
            sport = BinaryPrimitives.ReadUInt16BigEndian(l4);
            dport = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
            if (proto == IpProtocol.Tcp && l4.Length >= 14) tcpFlags = (TcpFlags)l4[13];
        }
        key = new LbFlowKey(proto, src, sport, dst, dport);
        return true;
    }

    private void Event(TraceBuilder t, LbService s, string stage, string function, Verdict verdict, string detail) =>
        t.Add(new HookEvent { Namespace = Config.Name, Device = s.Vip.ToString(), Stage = stage, Function = function, Verdict = verdict, Detail = detail });

    private static string ScheduleFunction(LbScheduler s) => s switch
    {
        LbScheduler.RoundRobin => "lb_schedule_rr",
        LbScheduler.WeightedLeastConnections => "lb_schedule_wlc",
        LbScheduler.SourceHash => "lb_schedule_sh",
        _ => "lb_schedule_maglev",
    };

    private static string XmitFunction(LbForwardingMode m) => m switch
    {
        LbForwardingMode.Nat => "lb_xmit_nat",
        LbForwardingMode.Dsr => "lb_xmit_dsr",
        LbForwardingMode.Ipip => "lb_xmit_ipip",
        _ => "lb_xmit_gue",
    };

}
