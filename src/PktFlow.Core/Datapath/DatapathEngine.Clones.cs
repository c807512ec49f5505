namespace PktFlow.Datapath;

/// <summary>Copies of the traced packet (tc mirred mirror, nft dup): child traces walked when the kernel hands them on.</summary>
public sealed partial class DatapathEngine
{
    /// <summary>The frame being replayed (file, number, capture time): what a copy walked at once is a child of.</summary>
    private (string File, long Frame, long TimestampNs) _replaying = ("", 0, 0);

    /// <summary>
    /// A copy of the packet the walk is at: emitted as a child of the frame, and walked at once when the
    /// kernel hands it on inside the action or hook that made it (skb_clone + dev_queue_xmit or
    /// netif_receive_skb in tcf_mirred_act, ip_local_out in nf_dup_ipv4), before the original goes on.
    /// </summary>
    internal void EmitCopy(TraceBuilder t, GeneratedPacket copy)
    {
        t.Emit(copy);
        if (!copy.Copy!.Synchronous) return;
        // the copy's walk has its own crossings; the original's go on being remembered after it
        var (tracing, wire, leftByWire) = (_tracing, _wire, _leftByWire);
        _wire = null;
        try { _children.TraceNow(this, copy, _replaying.File, _replaying.Frame, _replaying.TimestampNs); }
        finally { (_tracing, _wire, _leftByWire) = (tracing, wire, leftByWire); }
    }
}
