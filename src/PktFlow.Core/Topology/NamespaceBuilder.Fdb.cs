using PktFlow.Wire;

namespace PktFlow.Topology;

/// <summary>Bridge FDB entries made by hand (br_fdb_add / br_fdb_delete, via `bridge fdb add|replace|del ... master`).</summary>
public sealed partial class NamespaceBuilder
{
    private readonly List<FdbEntry> _fdb = new();

    /// <summary>
    /// br_fdb_add with the errors 6.18 gives (checked in namespaces): an entry for a MAC the bridge
    /// already has is EEXIST unless replaced; a dynamic entry needs a port that can learn (EPERM).
    /// </summary>
    public void AddFdb(FdbEntry entry, bool replace)
    {
        var port = Get(entry.Port);
        if (port.Kind == DeviceKind.Bridge)
            throw new TopologyException($"{entry.Port} is the bridge itself, not one of its ports (RTNETLINK answers: Operation not supported)");
        if (port.Master is not { } m || Get(m).Kind != DeviceKind.Bridge)
            throw new TopologyException($"{entry.Port} is not a bridge port (RTNETLINK answers: Operation not supported)");
        var bridge = Get(m);
        bool own = entry.Mac == bridge.Mac || _devices.Any(d => d.Master == m && d.Mac == entry.Mac);
        int at = _fdb.FindIndex(e => e.Mac == entry.Mac && Get(e.Port).Master == m);
        if ((own || at >= 0) && !replace) throw new TopologyException($"{m} already has an entry for {entry.Mac} (RTNETLINK answers: File exists)");
        if (own) throw new TopologyException($"replacing {m}'s own entry for {entry.Mac} (a port's or the bridge's address) is not modelled");
        // fdb_add_entry: a port that cannot learn takes only local and static entries.
        if (entry.State == FdbState.Dynamic && !(port.Up && port.PortState is BrPortState.Learning or BrPortState.Forwarding))
            throw new TopologyException($"{entry.Port} cannot learn (it is down or not in learning/forwarding state): no dynamic entry (RTNETLINK answers: Operation not permitted)");
        if (at >= 0) _fdb[at] = entry;
        else _fdb.Add(entry);
    }

    /// <summary>A snapshot lists the entries as they are: no checks.</summary>
    public void AddListedFdb(FdbEntry entry) { RequireListed(); _fdb.Add(entry); }

    /// <summary>br_fdb_delete: the entry must be on that port (ENOENT otherwise).</summary>
    public void DeleteFdb(MacAddress mac, string portName)
    {
        var port = Get(portName);
        if (port.Master is { } m && (mac == Get(m).Mac || _devices.Any(d => d.Master == m && d.Mac == mac)))
            throw new TopologyException($"deleting {m}'s own entry for {mac} (a port's or the bridge's address) is not modelled");
        if (_fdb.RemoveAll(e => e.Mac == mac && e.Port == portName) == 0)
            throw new TopologyException($"no fdb entry for {mac} on {portName} (RTNETLINK answers: No such file or directory)");
    }

    /// <summary>A port leaving its bridge takes its entries with it (br_fdb_delete_by_port).</summary>
    private void ForgetFdbOf(string port) => _fdb.RemoveAll(e => e.Port == port);

    private void RenameFdb(string name, string newName)
    {
        for (int i = 0; i < _fdb.Count; i++)
            if (_fdb[i].Port == name) _fdb[i] = _fdb[i] with { Port = newName };
    }
}
