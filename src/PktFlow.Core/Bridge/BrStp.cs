using System.Runtime.CompilerServices;
using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Bridge;

/// <summary>One port's spanning tree state (the STP fields of struct net_bridge_port).</summary>
public sealed class BrStpPort
{
    public required NetDevice Dev { get; init; }
    public int PortNo { get; init; }
    public ushort PortId { get; init; }
    public uint PathCost { get; init; }
    public BrPortState State { get; internal set; }
    public ulong DesignatedRoot { get; internal set; }
    public uint DesignatedCost { get; internal set; }
    public ulong DesignatedBridge { get; internal set; }
    public ushort DesignatedPort { get; internal set; }
    /// <summary>When the recorded information had message age 0 (jiffies - message_age).</summary>
    public long DesignatedAgeNs { get; internal set; }
    internal long? ForwardDelayAt, MessageAgeAt;
}

/// <summary>
/// The kernel's own spanning tree for one bridge (stp_state 1; net/bridge/br_stp.c, br_stp_timer.c,
/// br_stp_if.c), run on capture time. The ports start where br_stp_enable_port puts them when the
/// lab ends (the recorder's labDone; unknown for a capture from elsewhere: then the bridge is taken as
/// settled, root with every port designated and forwarding); forward_delay, message age and
/// topology change timers fire at their nominal time (the kernel's timer wheel fires them up to 1/8 of
/// their length late); received configuration BPDUs are compared and recorded as br_received_config_bpdu
/// does. What changed is logged with its time for the traces (<see cref="TakeChanges"/>).
/// </summary>
public sealed class BrStp
{
    public const int PortBits = 10; // BR_PORT_BITS
    private static readonly ConditionalWeakTable<NamespaceState, Dictionary<string, BrStp>> Tables = new();

    public NetDevice Bridge { get; }
    public IReadOnlyList<BrStpPort> Ports { get; }
    public ulong BridgeId { get; }
    public ulong DesignatedRoot { get; private set; }
    public uint RootPathCost { get; private set; }
    /// <summary>port_no of the root port; 0 when this bridge is the root.</summary>
    public int RootPort { get; private set; }
    public long MaxAgeNs { get; private set; }
    public long HelloTimeNs { get; private set; }
    public long ForwardDelayNs { get; private set; }
    public bool TopologyChange { get; private set; }
    public bool TopologyChangeDetected { get; private set; }
    private long? _topologyChangeAt;
    private readonly List<string> _changes = new();
    private long _now;

    public bool IsRoot => BridgeId == DesignatedRoot;

    /// <summary>
    /// A bridge whose ports br_stp_enable_port enabled at <paramref name="enabledNs"/> (null: long ago,
    /// settled) and that has heard no BPDU since.
    /// </summary>
    public BrStp(NetDevice bridge, IReadOnlyList<NetDevice> ports, long? enabledNs, long nowNs)
    {
        Bridge = bridge;
        var c = bridge.Stp;
        BridgeId = (ulong)c.Priority << 48 | bridge.Mac.Value;
        DesignatedRoot = BridgeId;
        (MaxAgeNs, HelloTimeNs, ForwardDelayNs) = (c.MaxAgeNs, c.HelloTimeNs, c.ForwardDelayNs);
        _now = enabledNs ?? nowNs;
        Ports = ports.Select(p => new BrStpPort
        {
            Dev = p, PortNo = p.StpPort?.PortNo ?? 0,
            PortId = (ushort)((p.StpPort?.Priority ?? 32) << PortBits | (p.StpPort?.PortNo ?? 0)),
            PathCost = p.StpPort?.Cost ?? PortCost(p),
            State = BrPortState.Disabled,
        }).ToList();
        foreach (var p in Ports.Where(p => p.Dev.IsUp && bridge.IsUp)) InitPort(p);
        PortStateSelection();
        if (enabledNs is null)
        {
            // settled: the forward delay timers ran out long before the capture, and with them the topology change
            foreach (var p in Ports.Where(p => p.State is BrPortState.Listening or BrPortState.Learning)) { p.State = BrPortState.Forwarding; p.ForwardDelayAt = null; }
            _changes.Clear();
            _changes.Add($"{bridge.Name} runs STP; when its ports came up is not known (the recorder's labDone): taken as settled, {bridge.Name} root ({StpBpdu.IdText(BridgeId)}), every port designated and forwarding");
        }
    }

    /// <summary>The STP state of <paramref name="bridge"/> in this replay, brought to the time of <paramref name="skb"/>.</summary>
    public static BrStp Of(SkBuff skb, NetDevice bridge)
    {
        var byBridge = Tables.GetOrCreateValue(skb.State);
        if (!byBridge.TryGetValue(bridge.Name, out var stp))
            byBridge[bridge.Name] = stp = new BrStp(bridge, BrPorts.Of(skb.Netns, bridge), skb.Engine.LabDoneNs, skb.TimestampNs);
        stp.AdvanceTo(skb.TimestampNs);
        return stp;
    }

    /// <summary>Whether the model runs STP for this bridge: stp_state 1 now, with every up port enabled under it.</summary>
    public static bool Modelled(NetNamespace ns, NetDevice bridge) =>
        bridge.Stp.On && BrPorts.Of(ns, bridge).All(p => !p.IsUp || p.StpPort is { EnabledUnderStp: true });

    /// <summary>
    /// The state of bridge port <paramref name="port"/> at <paramref name="skb"/>'s time: STP's for a
    /// bridge the model runs STP for, else the state set by hand (`bridge link set ... state`).
    /// </summary>
    public static BrPortState PortState(SkBuff skb, NetDevice port) =>
        BrPorts.BridgeOf(skb.Netns, port) is { Stp.On: true } br && Modelled(skb.Netns, br) ? Of(skb, br).StateOf(port) : port.PortState;

    /// <summary>The FDB hold time of <paramref name="bridge"/> at <paramref name="skb"/>'s time (shorter during an STP topology change).</summary>
    public static long FdbHold(SkBuff skb, NetDevice bridge) =>
        bridge.Stp.On && Modelled(skb.Netns, bridge) ? Of(skb, bridge).FdbHoldNs : bridge.Stp.AgeingTimeNs;

    public BrStpPort? Port(NetDevice dev) => Ports.FirstOrDefault(p => p.Dev.Name == dev.Name);

    /// <summary>A port's state; a port the bridge does not know (not up at the lab's end) is disabled.</summary>
    public BrPortState StateOf(NetDevice dev) => Port(dev)?.State ?? BrPortState.Disabled;

    /// <summary>FDB hold_time: forward_delay while a topology change is under way, else the ageing time.</summary>
    public long FdbHoldNs => TopologyChange ? ForwardDelayNs : Bridge.Stp.AgeingTimeNs;

    /// <summary>What changed since the last call, each with its time, for the trace of the frame that sees it.</summary>
    public string? TakeChanges()
    {
        if (_changes.Count == 0) return null;
        var s = string.Join("; ", _changes);
        _changes.Clear();
        return s;
    }

    private void Log(string what) => _changes.Add(what);

    /// <summary>The capture time of a change, as the time of day (UTC) the capture's timestamps give.</summary>
    private string At => $"at {DateTimeOffset.FromUnixTimeMilliseconds(_now / 1_000_000):HH:mm:ss.fff}";

    /// <summary>Fires every timer due by <paramref name="nowNs"/>, earliest first.</summary>
    public void AdvanceTo(long nowNs)
    {
        while (true)
        {
            long due = long.MaxValue;
            BrStpPort? port = null;
            bool messageAge = false;
            foreach (var p in Ports)
            {
                if (p.ForwardDelayAt is { } f && f <= nowNs && f < due) (due, port, messageAge) = (f, p, false);
                if (p.MessageAgeAt is { } m && m <= nowNs && m < due) (due, port, messageAge) = (m, p, true);
            }
            bool topologyChange = _topologyChangeAt is { } tc && tc <= nowNs && tc < due;
            if (port is null && !topologyChange) break;
            if (topologyChange)
            {
                _now = _topologyChangeAt!.Value;
                TopologyChangeTimerExpired();
            }
            else
            {
                _now = due;
                if (messageAge) MessageAgeTimerExpired(port!);
                else ForwardDelayTimerExpired(port!);
            }
        }
        _now = Math.Max(_now, nowNs);
    }

    [KernelSymbol("br_forward_delay_timer_expired", "net/bridge/br_stp_timer.c")]
    private void ForwardDelayTimerExpired(BrStpPort p)
    {
        p.ForwardDelayAt = null;
        if (p.State == BrPortState.Listening)
        {
            SetState(p, BrPortState.Learning, "forward_delay timer");
            p.ForwardDelayAt = _now + ForwardDelayNs;
        }
        else if (p.State == BrPortState.Learning)
        {
            SetState(p, BrPortState.Forwarding, "forward_delay timer");
            if (Ports.Any(IsDesignatedPort)) TopologyChangeDetection();
        }
    }

    [KernelSymbol("br_message_age_timer_expired", "net/bridge/br_stp_timer.c")]
    private void MessageAgeTimerExpired(BrStpPort p)
    {
        p.MessageAgeAt = null;
        if (p.State == BrPortState.Disabled) return;
        Log($"{At} {p.Dev.Name}: the information from {StpBpdu.IdText(p.DesignatedBridge)} aged out (message age reached max_age)");
        bool wasRoot = IsRoot;
        BecomeDesignatedPort(p);
        ConfigurationUpdate();
        PortStateSelection();
        if (IsRoot && !wasRoot) BecomeRootBridge();
    }

    [KernelSymbol("br_topology_change_timer_expired", "net/bridge/br_stp_timer.c")]
    private void TopologyChangeTimerExpired()
    {
        _topologyChangeAt = null;
        TopologyChangeDetected = false;
        SetTopologyChange(false);
    }

    /// <summary>br_received_config_bpdu: returns what it did, for the trace.</summary>
    [KernelSymbol("br_received_config_bpdu", "net/bridge/br_stp.c")]
    public string ReceivedConfigBpdu(BrStpPort p, in StpBpdu bpdu)
    {
        bool wasRoot = IsRoot;
        if (SupersedesPortInfo(p, bpdu))
        {
            RecordConfigInformation(p, bpdu);
            ConfigurationUpdate();
            PortStateSelection();
            var did = new List<string> { $"supersedes what {p.Dev.Name} held: recorded (ages out in {StpBpdu.Seconds(bpdu.MaxAgeNs - bpdu.MessageAgeNs)} s)" };
            if (!IsRoot && wasRoot)
            {
                did.Add($"{Bridge.Name} is no longer root (hello timer stopped)");
                if (TopologyChangeDetected) { _topologyChangeAt = null; did.Add($"topology change notification sent on the root port"); }
            }
            if (p.PortNo == RootPort)
            {
                // br_record_config_timeout_values: the root's timers and topology change flag
                (MaxAgeNs, HelloTimeNs, ForwardDelayNs) = (bpdu.MaxAgeNs, bpdu.HelloTimeNs, bpdu.ForwardDelayNs);
                SetTopologyChange(bpdu.TopologyChange);
                did.Add($"{p.Dev.Name} is the root port: the root's timers apply (forward_delay {StpBpdu.Seconds(ForwardDelayNs)} s, max_age {StpBpdu.Seconds(MaxAgeNs)} s) and a config BPDU goes out of every designated port");
                if (bpdu.TopologyChangeAck) { TopologyChangeDetected = false; did.Add("topology change acknowledged"); }
            }
            return string.Join("; ", did);
        }
        return IsDesignatedPort(p)
            ? $"does not supersede {p.Dev.Name}'s designated information ({StpBpdu.IdText(p.DesignatedRoot)} cost {p.DesignatedCost}): {p.Dev.Name} is designated, br_reply answers with this bridge's config BPDU"
            : $"does not supersede {p.Dev.Name}'s information: ignored";
    }

    /// <summary>br_received_tcn_bpdu: on a designated port, a topology change is detected and acknowledged.</summary>
    [KernelSymbol("br_received_tcn_bpdu", "net/bridge/br_stp.c")]
    public string ReceivedTcnBpdu(BrStpPort p)
    {
        if (!IsDesignatedPort(p)) return $"{p.Dev.Name} is not designated: ignored";
        TopologyChangeDetection();
        return $"topology change detected; acknowledged with a config BPDU on {p.Dev.Name}";
    }

    /// <summary>br_supersedes_port_info: root id, root path cost, designated bridge, designated port, in that order.</summary>
    [KernelSymbol("br_supersedes_port_info", "net/bridge/br_stp.c")]
    public bool SupersedesPortInfo(BrStpPort p, in StpBpdu bpdu)
    {
        if (bpdu.Root != p.DesignatedRoot) return bpdu.Root < p.DesignatedRoot;
        if (bpdu.RootPathCost != p.DesignatedCost) return bpdu.RootPathCost < p.DesignatedCost;
        if (bpdu.Bridge != p.DesignatedBridge) return bpdu.Bridge < p.DesignatedBridge;
        if (bpdu.Bridge != BridgeId) return true;
        return bpdu.PortId <= p.DesignatedPort;
    }

    [KernelSymbol("br_record_config_information", "net/bridge/br_stp.c")]
    private void RecordConfigInformation(BrStpPort p, in StpBpdu bpdu)
    {
        p.DesignatedRoot = bpdu.Root;
        p.DesignatedCost = bpdu.RootPathCost;
        p.DesignatedBridge = bpdu.Bridge;
        p.DesignatedPort = bpdu.PortId;
        p.DesignatedAgeNs = _now - bpdu.MessageAgeNs;
        p.MessageAgeAt = _now + (bpdu.MaxAgeNs - bpdu.MessageAgeNs);
    }

    [KernelSymbol("br_configuration_update", "net/bridge/br_stp.c")]
    private void ConfigurationUpdate()
    {
        RootSelection();
        foreach (var p in Ports)
            if (p.State != BrPortState.Disabled && ShouldBecomeDesignatedPort(p)) BecomeDesignatedPort(p);
    }

    [KernelSymbol("br_root_selection", "net/bridge/br_stp.c")]
    private void RootSelection()
    {
        BrStpPort? root = null;
        foreach (var p in Ports)
            if (ShouldBecomeRootPort(p, root)) root = p;
        int old = RootPort;
        RootPort = root?.PortNo ?? 0;
        if (root is null) { DesignatedRoot = BridgeId; RootPathCost = 0; }
        else { DesignatedRoot = root.DesignatedRoot; RootPathCost = root.DesignatedCost + root.PathCost; }
        if (old != RootPort)
            Log(root is null ? $"{At} {Bridge.Name} is the root bridge" : $"{At} root port {root.Dev.Name}: root {StpBpdu.IdText(DesignatedRoot)}, cost {RootPathCost}");
    }

    private bool ShouldBecomeRootPort(BrStpPort p, BrStpPort? rp)
    {
        if (p.State == BrPortState.Disabled || IsDesignatedPort(p)) return false;
        if (BridgeId <= p.DesignatedRoot) return false;
        if (rp is null) return true;
        if (p.DesignatedRoot != rp.DesignatedRoot) return p.DesignatedRoot < rp.DesignatedRoot;
        ulong a = (ulong)p.DesignatedCost + p.PathCost, b = (ulong)rp.DesignatedCost + rp.PathCost;
        if (a != b) return a < b;
        if (p.DesignatedBridge != rp.DesignatedBridge) return p.DesignatedBridge < rp.DesignatedBridge;
        if (p.DesignatedPort != rp.DesignatedPort) return p.DesignatedPort < rp.DesignatedPort;
        return p.PortId < rp.PortId;
    }

    private bool ShouldBecomeDesignatedPort(BrStpPort p)
    {
        if (IsDesignatedPort(p)) return true;
        if (p.DesignatedRoot != DesignatedRoot) return true;
        if (RootPathCost != p.DesignatedCost) return RootPathCost < p.DesignatedCost;
        if (BridgeId != p.DesignatedBridge) return BridgeId < p.DesignatedBridge;
        return p.PortId < p.DesignatedPort;
    }

    public bool IsDesignatedPort(BrStpPort p) => p.DesignatedBridge == BridgeId && p.DesignatedPort == p.PortId;

    private void BecomeDesignatedPort(BrStpPort p)
    {
        p.DesignatedRoot = DesignatedRoot;
        p.DesignatedCost = RootPathCost;
        p.DesignatedBridge = BridgeId;
        p.DesignatedPort = p.PortId;
    }

    /// <summary>br_init_port (from br_stp_enable_port): designated, blocking until the state selection.</summary>
    private void InitPort(BrStpPort p)
    {
        BecomeDesignatedPort(p);
        p.State = BrPortState.Blocking;
    }

    [KernelSymbol("br_port_state_selection", "net/bridge/br_stp.c")]
    private void PortStateSelection()
    {
        foreach (var p in Ports)
        {
            if (p.State == BrPortState.Disabled) continue;
            if (p.PortNo == RootPort) MakeForwarding(p, "root port");
            else if (IsDesignatedPort(p)) { p.MessageAgeAt = null; MakeForwarding(p, "designated port"); }
            else MakeBlocking(p, $"{StpBpdu.IdText(p.DesignatedBridge)} port {p.DesignatedPort:x4} is designated for its segment with root {StpBpdu.IdText(p.DesignatedRoot)} cost {p.DesignatedCost}");
        }
    }

    [KernelSymbol("br_make_forwarding", "net/bridge/br_stp.c")]
    private void MakeForwarding(BrStpPort p, string why)
    {
        if (p.State != BrPortState.Blocking) return;
        SetState(p, BrPortState.Listening, why);
        p.ForwardDelayAt = _now + ForwardDelayNs;
    }

    [KernelSymbol("br_make_blocking", "net/bridge/br_stp.c")]
    private void MakeBlocking(BrStpPort p, string why)
    {
        if (p.State is BrPortState.Disabled or BrPortState.Blocking) return;
        if (p.State is BrPortState.Forwarding or BrPortState.Learning) TopologyChangeDetection();
        SetState(p, BrPortState.Blocking, why);
        p.ForwardDelayAt = null;
    }

    private void SetState(BrStpPort p, BrPortState state, string why)
    {
        p.State = state;
        Log($"{At} {p.Dev.Name} {state.ToString().ToLowerInvariant()} ({why})");
    }

    [KernelSymbol("br_become_root_bridge", "net/bridge/br_stp.c")]
    private void BecomeRootBridge()
    {
        var c = Bridge.Stp;
        (MaxAgeNs, HelloTimeNs, ForwardDelayNs) = (c.MaxAgeNs, c.HelloTimeNs, c.ForwardDelayNs);
        TopologyChangeDetection();
    }

    [KernelSymbol("br_topology_change_detection", "net/bridge/br_stp.c")]
    private void TopologyChangeDetection()
    {
        if (IsRoot)
        {
            SetTopologyChange(true);
            _topologyChangeAt = _now + Bridge.Stp.ForwardDelayNs + Bridge.Stp.MaxAgeNs;
        }
        TopologyChangeDetected = true;
    }

    /// <summary>__br_set_topology_change: while it lasts, the FDB forgets entries idle for forward_delay.</summary>
    private void SetTopologyChange(bool on)
    {
        if (on != TopologyChange)
            Log(on ? $"{At} topology change: fdb entries idle for forward_delay ({StpBpdu.Seconds(ForwardDelayNs)} s) are forgotten" : $"{At} topology change over");
        TopologyChange = on;
    }

    /// <summary>
    /// The configuration BPDU br_transmit_config sends on <paramref name="p"/> now: this bridge's view
    /// of the root, its cost, its own id and the port's id. Null when the port is not designated
    /// (br_config_bpdu_generation sends only on designated ports).
    /// </summary>
    [KernelSymbol("br_transmit_config", "net/bridge/br_stp.c")]
    public StpBpdu? ConfigFor(BrStpPort p) =>
        p.State == BrPortState.Disabled || !IsDesignatedPort(p) ? null
            : new StpBpdu(StpBpdu.Config, TopologyChange, false, DesignatedRoot, RootPathCost, BridgeId, p.PortId, 0, MaxAgeNs, HelloTimeNs, ForwardDelayNs);

    /// <summary>port_cost: by link speed; a veth reports 10 Gb/s (cost 2); other devices' speed is not known to the model (100, SPEED_UNKNOWN).</summary>
    public static uint PortCost(NetDevice dev) => dev.Kind == DeviceKind.Veth ? 2u : 100u;
}
