using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Macvlan;

/// <summary>
/// Observe mode on a lower device: a frame a macvlan sent leaves by the device with the macvlan's MAC,
/// and a switch in hairpin mode (VEPA) sends the very same bytes back at once, to be received there
/// (macvlan_handle_frame then gives it to the sibling it is for). The second sighting of the same bytes
/// is the one coming back (<see cref="SeenAgain"/>).
/// </summary>
public static class MacvlanObserve
{
    /// <summary>True when <paramref name="data"/>, from a macvlan of the capture device, repeats a frame seen leaving just before: it comes back.</summary>
    public static bool ComesBack(InjectionPoint at, SkBuff skb, TraceBuilder t, ReadOnlySpan<byte> data, MacAddress source)
    {
        var port = skb.Engine.Topology.MacvlanPort(at.Namespace.Name, at.Device.Name);
        if (port.Count == 0 || MacvlanPort.HashLookup(port, source) is null) return false;
        if (!SeenAgain.Repeats(at, skb, data, out long after)) return false;
        t.Note($"the frame seen leaving {at} {after / 1000} us before, again: a switch in hairpin mode sent it back, and {at.Device.Name} receives it");
        return true;
    }
}
