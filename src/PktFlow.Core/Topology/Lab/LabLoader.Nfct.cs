namespace PktFlow.Topology.Lab;

public sealed partial class LabLoader
{
    /// <summary>
    /// <c>nfct add timeout NAME inet|inet6 PROTO STATE SECONDS [STATE SECONDS ...]</c>: a cttimeout
    /// policy (nfnetlink_cttimeout) for <c>iptables -t raw ... -j CT --timeout NAME</c>; <c>nfct list</c>
    /// reads only. Other nfct commands (delete, flush, helpers, default-set) are refused.
    /// </summary>
    private void Nfct(List<string> w, string ns)
    {
        if (w.Count >= 3 && w[1] is "list" or "get") return;
        if (w.Count < 6 || w[1] != "add" || w[2] != "timeout")
            throw Error("unsupported: nfct command (only `nfct add timeout NAME inet|inet6 PROTO STATE SECONDS ...` is modelled)", w.Count > 1 ? w[1] : "nfct");
        var states = new List<KeyValuePair<string, int>>();
        for (int i = 6; i < w.Count; i += 2)
        {
            if (i + 1 >= w.Count || !int.TryParse(w[i + 1], out int seconds) || seconds < 0)
                throw Error($"nfct: state {w[i]} needs a number of seconds", w[i]);
            states.Add(new(w[i], seconds));
        }
        try { _namespaces[ns].AddCtTimeout(w[3], w[4], w[5], states); }
        catch (ArgumentException e) { throw Error($"nfct: {e.Message}", w[5]); }
    }
}
