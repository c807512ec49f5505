using PktFlow.Datapath;
using PktFlow.Dev;
using PktFlow.Netfilter;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Bridge;

/// <summary>
/// BPDUs (net/bridge/br_stp_bpdu.c): a BPDU a port receives reaches br_stp_rcv through the LLC layer
/// (llc_rcv, stp_pdu_rcv), which frees it after br_received_config_bpdu or br_received_tcn_bpdu;
/// the bridge's own BPDUs (br_send_bpdu: hello timer, replies, relays, TCNs) pass NF_BR_LOCAL_OUT and
/// leave by the port. The model does not predict when the hello timer fires (round_jiffies): a BPDU
/// the capture shows leaving a port is recognised as the bridge's own and compared with what the
/// model's STP state says it would carry.
/// </summary>
public static class BrStpBpdu
{
    /// <summary>br_stp_rcv, for a frame the LLC layer found to be for SAP 0x42 on <paramref name="skb"/>'s device.</summary>
    [KernelSymbol("br_stp_rcv", "net/bridge/br_stp_bpdu.c")]
    public static void Receive(SkBuff skb, TraceBuilder t, ReadOnlySpan<byte> pdu)
    {
        var dev = skb.Dev;
        if (!StpBpdu.TryParse(pdu, out var bpdu, out var why) && why is not null && !why.StartsWith("a configuration", StringComparison.Ordinal))
        {
            Free(skb, t, $"not an STP BPDU: {why}");
            return;
        }
        var br = BrPorts.BridgeOf(skb.Netns, dev);
        if (br is null) { Free(skb, t, $"{dev.Name} is not a bridge port (br_port_get_check_rcu)"); return; }
        if (!br.Stp.On) { Free(skb, t, $"{br.Name} does not run STP (stp_state 0)"); return; }
        if (!BrStp.Modelled(skb.Netns, br)) { t.Unsupported(skb, BrPorts.StpStates(br)); return; }
        if (!br.IsUp) { Free(skb, t, $"{br.Name} is down"); return; }
        var stp = BrStp.Of(skb, br);
        Changes(skb, t, stp);
        var port = stp.Port(dev);
        if (port is null || port.State == BrPortState.Disabled) { Free(skb, t, $"{dev.Name} is disabled"); return; }
        if (!EthernetFrame.TryParse(skb.Data[skb.MacHeader..], out var eth, out _) || eth.Destination != StpBpdu.GroupAddress)
        {
            Free(skb, t, $"sent to {eth.Destination}, not {br.Name}'s group address {StpBpdu.GroupAddress}");
            return;
        }
        if (why is not null) { Free(skb, t, why); return; }
        string did;
        if (bpdu.Type == StpBpdu.Config)
        {
            if (bpdu.MessageAgeNs > bpdu.MaxAgeNs) { Free(skb, t, $"{bpdu}: message age beyond max_age, ignored"); return; }
            did = stp.ReceivedConfigBpdu(port, bpdu);
        }
        else if (bpdu.Type == StpBpdu.Tcn) did = stp.ReceivedTcnBpdu(port);
        else did = $"BPDU type 0x{bpdu.Type:x2}: neither configuration nor TCN, ignored";
        if (stp.TakeChanges() is { } changed) did += $"; {changed}";
        Free(skb, t, $"{(bpdu.Type == StpBpdu.Config ? bpdu.ToString() : "TCN BPDU")} on {dev.Name}: {did}");
    }

    // br_stp_rcv ends with kfree_skb whatever it did with the BPDU (recorded on 6.18: NOT_SPECIFIED).
    private static void Free(SkBuff skb, TraceBuilder t, string detail) =>
        t.Drop(skb, "BrStpRcv", "br_stp_rcv", "NOT_SPECIFIED", $"{detail} (the BPDU is freed)");

    /// <summary>The STP changes since the last frame through this bridge, as a stage of their own.</summary>
    internal static void Changes(SkBuff skb, TraceBuilder t, BrStp stp)
    {
        if (stp.TakeChanges() is { } changes) t.Stage(skb, "BrStpTimer", "br_stp_timer", Verdict.Pass, changes);
    }

    /// <summary>
    /// A BPDU seen leaving <paramref name="port"/> with the port's own MAC: sent by the bridge
    /// (br_send_bpdu from br_transmit_config or br_transmit_tcn). True when recognised and traced.
    /// </summary>
    [KernelSymbol("br_send_bpdu", "net/bridge/br_stp_bpdu.c")]
    public static bool TryObserveOwn(SkBuff skb, TraceBuilder t, NetDevice port)
    {
        if (skb.Engine.Mode != ReplayMode.Observe || skb.Hops != 0 || port.Master is null) return false;
        if (!EthernetFrame.TryParse(skb.Data, out var eth, out _) || !eth.IsLengthField || eth.Source != port.Mac || eth.Destination != StpBpdu.GroupAddress) return false;
        var llc = eth.Payload;
        if (!StpBpdu.IsStpLlc(llc) || BrPorts.BridgeOf(skb.Netns, port) is not { } br || !br.Stp.On || !BrStp.Modelled(skb.Netns, br)) return false;
        skb.SeenLeaving = (skb.Netns.Name, port.Name);
        skb.MacHeader = 0;
        skb.NetworkHeader = eth.HeaderLength;
        skb.Protocol = EtherTypes.Llc;
        var stp = BrStp.Of(skb, br);
        Changes(skb, t, stp);
        string detail;
        if (!StpBpdu.TryParse(llc[3..], out var bpdu, out var why)) detail = $"not a BPDU the bridge makes ({why})";
        else if (bpdu.Type == StpBpdu.Tcn)
            detail = stp.RootPort != 0 && stp.Port(port)?.PortNo == stp.RootPort
                ? $"br_transmit_tcn: a topology change notification on the root port {port.Name}"
                : $"a TCN BPDU, though the model does not have {port.Name} as the root port";
        else detail = Compare(stp, port, bpdu);
        t.Stage(skb, "BrSendBpdu", "br_send_bpdu", Verdict.Pass, $"seen leaving {port.Name}: {detail}");
        if (!NfHookSlow.Run(skb, t, NfFamily.Bridge, NfHook.LocalOut, null, port)) return true;
        DevQueueXmit.Xmit(skb, t, Fate.Transmitted);
        return true;
    }

    /// <summary>The BPDU seen against the one br_transmit_config would send now (the flags and message age are not compared).</summary>
    private static string Compare(BrStp stp, NetDevice port, in StpBpdu seen)
    {
        var p = stp.Port(port);
        if (p is null || stp.ConfigFor(p) is not { } want)
            return $"{seen}; the model does not have {port.Name} as a designated port, where the bridge sends config BPDUs";
        var diff = new List<string>();
        if (seen.Root != want.Root) diff.Add($"root {StpBpdu.IdText(want.Root)}");
        if (seen.RootPathCost != want.RootPathCost) diff.Add($"cost {want.RootPathCost}");
        if (seen.Bridge != want.Bridge) diff.Add($"bridge {StpBpdu.IdText(want.Bridge)}");
        if (seen.PortId != want.PortId) diff.Add($"port {want.PortId:x4}");
        string source = stp.IsRoot ? "hello timer, or a reply to a BPDU" : "relayed after a BPDU on the root port, or a reply";
        return diff.Count == 0
            ? $"br_transmit_config ({source}): {seen}, as the model's STP state has it"
            : $"br_transmit_config: {seen}; the model's STP state would send {string.Join(", ", diff)}";
    }
}
