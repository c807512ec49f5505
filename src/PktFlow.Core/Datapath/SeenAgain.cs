using System.Runtime.CompilerServices;
using PktFlow.Topology;

namespace PktFlow.Datapath;

/// <summary>
/// Observe mode, for a device where a frame sent comes straight back in (a hairpin switch behind a
/// macvlan's lower device, a vxlan device whose remote is the host itself): the capture does not say
/// which way a frame went, so the second sighting of the same bytes on the device within
/// <see cref="WindowNs"/> is taken as the one coming back (a sender repeats a frame byte for byte only
/// after a timer: ARP after a second). Several frames may leave before the first comes back, so the
/// recent ones are kept in a small table (by a hash of their bytes, their length and when they left),
/// bounded to <see cref="Recent"/> entries. When the model's own trace of the frame leaving already
/// brought it back in (<see cref="Traced"/>), the sighting coming back is handed that trace, so no
/// namespace walks the frame twice.
/// </summary>
internal static class SeenAgain
{
    /// <summary>How soon the copy coming back follows the one leaving (veth, a bridge, the backlog: microseconds).</summary>
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
        /// <summary>The trace of the sighting leaving, when it was itself received back on the device.</summary>
        public PacketTrace? CameBack;
    }

    private sealed class Table
    {
        public readonly Left[] Entries = new Left[Recent];
        public int Next;
        /// <summary>The entry of the sighting being traced (set by Repeats, completed by <see cref="Traced"/>), or -1.</summary>
        public int Pending = -1;
    }

    private static readonly ConditionalWeakTable<NamespaceState, Table> LeftRecently = new();

    /// <summary>True, with how long after, when <paramref name="data"/> on <paramref name="at"/> repeats a frame seen there just before; else it is remembered as leaving.</summary>
    public static bool Repeats(InjectionPoint at, SkBuff skb, ReadOnlySpan<byte> data, out long afterNs)
        => Repeats(at, skb, data, -1, out afterNs, out _, out _);

    /// <summary>
    /// As above, for capture frame <paramref name="frame"/>: when it repeats, <paramref name="leftFrame"/> is
    /// the frame seen leaving and <paramref name="cameBack"/> that frame's trace if the model brought it back in.
    /// </summary>
    public static bool Repeats(InjectionPoint at, SkBuff skb, ReadOnlySpan<byte> data, long frame, out long afterNs, out long leftFrame, out PacketTrace? cameBack)
    {
        var table = LeftRecently.GetOrCreateValue(skb.State);
        table.Pending = -1;
        ulong hash = Fnv1a(data);
        var entries = table.Entries;
        for (int i = 0; i < entries.Length; i++)
        {
            ref var e = ref entries[i];
            if (e.Device != at.Device || e.Hash != hash || e.Length != data.Length || skb.TimestampNs - e.AtNs > WindowNs || skb.TimestampNs < e.AtNs) continue;
            afterNs = skb.TimestampNs - e.AtNs;
            leftFrame = e.Frame;
            cameBack = e.CameBack;
            e = default; // each sighting leaving pairs with one coming back
            return true;
        }
        if (frame >= 0) table.Pending = table.Next;
        entries[table.Next] = new Left { Device = at.Device, Hash = hash, Length = data.Length, AtNs = skb.TimestampNs, Frame = frame };
        table.Next = (table.Next + 1) % Recent;
        afterNs = 0;
        leftFrame = -1;
        cameBack = null;
        return false;
    }

    /// <summary>
    /// The trace of a sighting <see cref="Repeats"/> took as leaving: when the model received it back on
    /// the capture device, the sighting coming back will take this trace.
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
