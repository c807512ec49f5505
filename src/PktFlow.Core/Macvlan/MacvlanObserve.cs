using System.Runtime.CompilerServices;
using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Macvlan;

/// <summary>
/// Observe mode on a lower device: a frame a macvlan sent leaves by the device with the macvlan's MAC,
/// and a switch in hairpin mode (VEPA) sends the very same bytes back at once, to be received there
/// (macvlan_handle_frame then gives it to the sibling it is for). The capture does not say which way a
/// frame went: the second sighting of the same bytes within <see cref="WindowNs"/> is taken as the one
/// coming back (a sender repeats a frame byte for byte only after a timer: ARP after a second). Several
/// frames may leave before the first comes back, so the recent ones are kept in a small table (by a
/// hash of their bytes, their length and when they left), bounded to <see cref="Recent"/> entries.
/// When the lab models the switch, the trace of the frame leaving already brought it back through the
/// hairpin and on to the sibling (its conntrack, its sockets): the sighting coming back is that very
/// frame, and takes that trace rather than being walked through the sibling a second time.
/// </summary>
public static class MacvlanObserve
{
    /// <summary>How soon the copy coming back follows the one leaving (veth and a bridge: microseconds).</summary>
    public const long WindowNs = 10_000_000;

    /// <summary>How many frames seen leaving are remembered: the oldest is forgotten first.</summary>
    public const int Recent = 16;

    private struct Left
    {
        public NetDevice? Device;
        public ulong Hash;
        public int Length;
        public long AtNs;
        public long Frame;
        /// <summary>The trace of the sighting leaving, when it was itself received back on the device (the model's hairpin).</summary>
        public PacketTrace? CameBack;
    }

    private sealed class Table
    {
        public readonly Left[] Entries = new Left[Recent];
        public int Next;
        /// <summary>The entry of the sighting being traced (set by ComesBack, completed by <see cref="Traced"/>), or -1.</summary>
        public int Pending = -1;
    }

    private static readonly ConditionalWeakTable<NamespaceState, Table> LeftRecently = new();

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
        var table = LeftRecently.GetOrCreateValue(skb.State);
        table.Pending = -1;
        ulong hash = Fnv1a(data);
        var entries = table.Entries;
        for (int i = 0; i < entries.Length; i++)
        {
            ref var e = ref entries[i];
            if (e.Device != at.Device || e.Hash != hash || e.Length != data.Length || skb.TimestampNs - e.AtNs > WindowNs || skb.TimestampNs < e.AtNs) continue;
            long after = skb.TimestampNs - e.AtNs;
            traced = e.CameBack;
            t.Note(traced is null
                ? $"the frame seen leaving {at} {after / 1000} us before, again: a switch in hairpin mode sent it back, and {at.Device.Name} receives it"
                : $"the frame seen leaving {at} {after / 1000} us before (frame {e.Frame}), again: the trace of frame {e.Frame} already brought it back through the switch in hairpin mode and on; this sighting takes that trace (no namespace walks it twice)");
            e = default; // each sighting leaving pairs with one coming back
            return true;
        }
        table.Pending = table.Next;
        entries[table.Next] = new Left { Device = at.Device, Hash = hash, Length = data.Length, AtNs = skb.TimestampNs, Frame = frame };
        table.Next = (table.Next + 1) % Recent;
        return false;
    }

    /// <summary>
    /// The trace of a sighting <see cref="ComesBack"/> took as leaving: when the model received it back on
    /// the capture device (the lab's switch sent it back), the sighting coming back will take this trace.
    /// </summary>
    public static void Traced(InjectionPoint at, NamespaceState state, PacketTrace trace)
    {
        if (!LeftRecently.TryGetValue(state, out var table) || table.Pending < 0) return;
        ref var e = ref table.Entries[table.Pending];
        table.Pending = -1;
        if (e.Device != at.Device || e.Frame != trace.Frame) return;
        foreach (var h in trace.Path)
            if (h.Stage == "EthTypeTrans" && h.Namespace == at.Namespace.Name && h.Device == at.Device.Name)
            {
                e.CameBack = trace;
                return;
            }
    }

    /// <summary>FNV-1a over the frame's bytes: a key without copying or formatting them.</summary>
    private static ulong Fnv1a(ReadOnlySpan<byte> data)
    {
        ulong h = 14695981039346656037UL;
        foreach (var b in data) h = (h ^ b) * 1099511628211UL;
        return h;
    }
}
