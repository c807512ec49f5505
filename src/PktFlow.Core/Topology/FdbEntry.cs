using PktFlow.Wire;

namespace PktFlow.Topology;

/// <summary>The NUD state of a bridge FDB entry an administrator made (`bridge fdb add ... [permanent|static|dynamic]`).</summary>
public enum FdbState
{
    /// <summary>NUD_PERMANENT (the default of `bridge fdb add ... master`): a local entry, frames to it go up to the bridge device.</summary>
    Permanent,
    /// <summary>NUD_NOARP: forwarded to its port, never aged.</summary>
    Static,
    /// <summary>NUD_REACHABLE: ages like a learned entry.</summary>
    Dynamic,
}

/// <summary>A bridge FDB entry from the configuration (`bridge fdb add MAC dev PORT master`, or a snapshot's `bridge -j fdb`).</summary>
public sealed record FdbEntry(MacAddress Mac, string Port, FdbState State, string Source)
{
    public override string ToString() => $"{Mac} dev {Port} master {State.ToString().ToLowerInvariant()}";
}
