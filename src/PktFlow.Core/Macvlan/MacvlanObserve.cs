using System.Runtime.CompilerServices;
using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.Macvlan;

/// <summary>
/// Observe mode on a lower device: a frame a macvlan sent leaves by the device with the macvlan's MAC,
/// and a switch in hairpin mode (VEPA) sends the very same bytes back at once, to be received there
/// (macvlan_handle_frame then gives it to the sibling it is for). The capture does not say which way a
/// frame went: the second sighting of the same bytes within <see cref="WindowNs"/> is taken as the one
/// coming back (a sender repeats a frame byte for byte only after a timer: ARP after a second).
/// </summary>
public static class MacvlanObserve
{
    /// <summary>How soon the copy coming back follows the one leaving (veth and a bridge: microseconds).</summary>
    public const long WindowNs = 10_000_000;

    private sealed class Last { public string Key = ""; public long AtNs; }

    private static readonly ConditionalWeakTable<NamespaceState, Last> LastLeft = new();

    /// <summary>True when <paramref name="data"/>, from a macvlan of the capture device, repeats the frame just seen leaving: it comes back.</summary>
    public static bool ComesBack(InjectionPoint at, SkBuff skb, TraceBuilder t, ReadOnlySpan<byte> data, MacAddress source)
    {
        var port = skb.Engine.Topology.MacvlanPort(at.Namespace.Name, at.Device.Name);
        if (port.Count == 0 || MacvlanPort.HashLookup(port, source) is null) return false;
        var last = LastLeft.GetOrCreateValue(skb.State);
        string key = at.Device.Name + "/" + Convert.ToHexString(data);
        if (last.Key == key && skb.TimestampNs - last.AtNs <= WindowNs)
        {
            last.Key = "";
            t.Note($"the frame just seen leaving {at} again, {(skb.TimestampNs - last.AtNs) / 1000} us later: a switch in hairpin mode sent it back, and {at.Device.Name} receives it");
            return true;
        }
        (last.Key, last.AtNs) = (key, skb.TimestampNs);
        return false;
    }
}
