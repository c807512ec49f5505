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
/// </summary>
public static class MacvlanObserve
{
    /// <summary>How soon the copy coming back follows the one leaving (veth and a bridge: microseconds).</summary>
    public const long WindowNs = 10_000_000;

    /// <summary>How many frames seen leaving are remembered: the oldest is forgotten first.</summary>
    public const int Recent = 16;

    private struct Left { public NetDevice? Device; public ulong Hash; public int Length; public long AtNs; }

    private sealed class Table { public readonly Left[] Entries = new Left[Recent]; public int Next; }

    private static readonly ConditionalWeakTable<NamespaceState, Table> LeftRecently = new();

    /// <summary>True when <paramref name="data"/>, from a macvlan of the capture device, repeats a frame seen leaving just before: it comes back.</summary>
    public static bool ComesBack(InjectionPoint at, SkBuff skb, TraceBuilder t, ReadOnlySpan<byte> data, MacAddress source)
    {
        var port = skb.Engine.Topology.MacvlanPort(at.Namespace.Name, at.Device.Name);
        if (port.Count == 0 || MacvlanPort.HashLookup(port, source) is null) return false;
        var table = LeftRecently.GetOrCreateValue(skb.State);
        ulong hash = Fnv1a(data);
        var entries = table.Entries;
        for (int i = 0; i < entries.Length; i++)
        {
            ref var e = ref entries[i];
            if (e.Device != at.Device || e.Hash != hash || e.Length != data.Length || skb.TimestampNs - e.AtNs > WindowNs || skb.TimestampNs < e.AtNs) continue;
            long after = skb.TimestampNs - e.AtNs;
            e = default; // each sighting leaving pairs with one coming back
            t.Note($"the frame seen leaving {at} {after / 1000} us before, again: a switch in hairpin mode sent it back, and {at.Device.Name} receives it");
            return true;
        }
        entries[table.Next] = new Left { Device = at.Device, Hash = hash, Length = data.Length, AtNs = skb.TimestampNs };
        table.Next = (table.Next + 1) % Recent;
        return false;
    }

    /// <summary>FNV-1a over the frame's bytes: a key without copying or formatting them.</summary>
    private static ulong Fnv1a(ReadOnlySpan<byte> data)
    {
        ulong h = 14695981039346656037UL;
        foreach (var b in data) h = (h ^ b) * 1099511628211UL;
        return h;
    }
}
