using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Macvlan;

/// <summary>
/// Observe mode on a lower device: a frame a macvlan sent leaves by the device with the macvlan's MAC,
/// and a switch in hairpin mode (VEPA) sends the very same bytes back at once, to be received there
/// (macvlan_handle_frame then gives it to the sibling it is for). The second sighting of the same bytes
/// is the one coming back (<see cref="SeenAgain"/>). When the lab models the switch, the trace of the
/// frame leaving already brought it back through the hairpin and on to the sibling (its conntrack, its
/// sockets): the sighting coming back is that very frame, and takes that trace rather than being walked
/// through the sibling a second time.
/// </summary>
public static class MacvlanObserve
{
    /// <summary>
    /// True when <paramref name="data"/>, from a macvlan of the capture device, repeats a frame seen leaving
    /// just before: it comes back. <paramref name="traced"/> is then the trace of that frame leaving when
    /// the model already brought it back (through a switch the lab has), else null: walk it as it arrives.
    /// </summary>
    public static bool ComesBack(InjectionPoint at, SkBuff skb, TraceBuilder t, ReadOnlySpan<byte> data, MacAddress source, long frame, out PacketTrace? traced)
    {
        traced = null;
        var port = skb.Engine.Topology.MacvlanPort(at.Namespace.Name, at.Device.Name);
        if (port.Count == 0 || MacvlanPort.HashLookup(port, source) is null) return false;
        if (!SeenAgain.Repeats(at, skb, data, frame, out long after, out long left, out traced)) return false;
        t.Note(traced is null
            ? $"the frame seen leaving {at} {after / 1000} us before, again: a switch in hairpin mode sent it back, and {at.Device.Name} receives it"
            : $"the frame seen leaving {at} {after / 1000} us before (frame {left}), again: the trace of frame {left} already brought it back through the switch in hairpin mode and on; this sighting takes that trace (no namespace walks it twice)");
        return true;
    }

    /// <summary>The trace of a sighting taken as leaving (<see cref="SeenAgain.Traced"/>).</summary>
    public static void Traced(InjectionPoint at, NamespaceState state, PacketTrace trace) => SeenAgain.Traced(at, state, trace);
}
