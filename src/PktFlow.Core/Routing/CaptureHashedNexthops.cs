using PktFlow.Datapath;
using PktFlow.Topology;

namespace PktFlow.Routing;

/// <summary>A flow whose multipath nexthop the kernel took from a capture's per-boot skb hash, and how many nexthops it could have taken.</summary>
public readonly record struct CaptureHashedFlow(MultipathFlow Flow, int Nexthops);

/// <summary>
/// Under hash policy 1 a packet a packet socket saw first carries skb->l4_hash, the flow dissector's
/// hash keyed with a per-boot secret, and fib_multipath_hash returns it as it is: the kernel's nexthop
/// is then any allowed one, the same for every packet of the flow (and its reverse: the hash is
/// symmetric, __flow_hash_consistentify). The judge pins each such flow to one allowed nexthop (by
/// index) and searches the pins that reproduce the recording; without pins the model keeps its own hash.
/// </summary>
public sealed class CaptureHashedNexthops
{
    private readonly Dictionary<MultipathFlow, int> _pins = new();

    /// <summary>The index taken for a flow without a pin of its own.</summary>
    public int Default { get; init; }

    public void Pin(MultipathFlow flow, int index) => _pins[Key(flow)] = index;

    /// <summary>The flow in the order __flow_hash_consistentify puts it: both directions of a connection have one key.</summary>
    public static MultipathFlow Key(MultipathFlow f)
    {
        int c = f.Source.CompareTo(f.Destination);
        bool swap = c > 0 || c == 0 && f.SourcePort > f.DestinationPort;
        return swap ? f with { Source = f.Destination, Destination = f.Source, SourcePort = f.DestinationPort, DestinationPort = f.SourcePort } : f;
    }

    /// <summary>
    /// The choice as the engine makes it: unchanged unless the kernel's would come from the capture's
    /// hash (<see cref="FibMultipath.Choice.CaptureHashed"/>); then recorded on the trace and, when
    /// the engine has pins, replaced by the pinned allowed nexthop.
    /// </summary>
    internal static FibMultipath.Choice Apply(FibMultipath.Choice choice, SkBuff skb, TraceBuilder? t)
    {
        if (choice.CaptureHashed is not { } flow || choice.Allowed.Count == 0) return choice;
        t?.CaptureHashed(new CaptureHashedFlow(Key(flow), choice.Allowed.Count));
        if (skb.Engine.CaptureHashedPins is not { } pins) return choice;
        int index = pins._pins.TryGetValue(Key(flow), out var i) ? i : pins.Default;
        var nh = choice.Allowed[((index % choice.Allowed.Count) + choice.Allowed.Count) % choice.Allowed.Count];
        return choice with { Nexthop = nh, Detail = $"{choice.Detail}; the replay takes {nh} (allowed nexthop {index % choice.Allowed.Count + 1} of {choice.Allowed.Count}) for this flow" };
    }
}
