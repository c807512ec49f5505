using PktFlow.Replay;
using PktFlow.Socket;

namespace PktFlow.Judge;

/// <summary>The model's TCP sockets against the kernel's: how many agree, and what differs.</summary>
/// <param name="Differences">One line per connection that is only on one side or in another state.</param>
/// <param name="Agreed">Connections on both sides (namespace, local and peer address:port) in the same state.</param>
/// <param name="Total">Connections judged on either side (matched pairs counted once).</param>
/// <param name="NotJudged">Kernel connections left out: no packet of them crossed the capture point.</param>
public sealed record SocketJudgement(IReadOnlyList<string> Differences, int Agreed, int Total, IReadOnlyList<string> NotJudged)
{
    public static readonly SocketJudgement Empty = new(Array.Empty<string>(), 0, 0, Array.Empty<string>());

    public override string ToString() => $"sockets {Agreed}/{Total} agree{(NotJudged.Count > 0 ? $", {NotJudged.Count} not judged" : "")}";
}

/// <summary>
/// Compares <c>ss -tan</c> as the kernel printed it after the traffic with the model's socket table
/// (Get-PktFlowSocket) aged to the moment of that listing, namespace by namespace, keyed by local and
/// peer address:port; the state must agree. Not judged: listening sockets (the lab's servers, declared
/// to the model by lab.sh, and whichever of them still ran when the kernel listed them), UDP sockets (the
/// model keeps no UDP socket table to list; ss -uan is recorded for later), namespaces the recording did
/// not list (older recordings), and a kernel connection the model lacks when no packet of it crossed
/// the capture point (traffic between other devices, or before the capture): no replay of the capture
/// can know of it. Those are listed as not judged.
/// </summary>
public static class SocketJudge
{
    public static SocketJudgement Compare(IEnumerable<KernelSocket> kernel, IEnumerable<SocketListing> model, IReadOnlySet<string>? onWire = null)
    {
        var k = kernel.Where(s => s.Proto == "tcp" && s.State != "LISTEN").GroupBy(s => (s.Namespace, s.Local, s.Peer)).ToDictionary(g => g.Key, g => g.First());
        var m = model.Where(s => s.State != "LISTEN").GroupBy(s => (s.Namespace, s.Local, s.Peer)).ToDictionary(g => g.Key, g => g.First());
        var diffs = new List<string>();
        var notJudged = new List<string>();
        int agreed = 0;
        foreach (var (key, ks) in k)
        {
            if (!m.TryGetValue(key, out var ms))
            {
                if (onWire is not null && !onWire.Contains(WireTuple(ks.Local, ks.Peer)) && !onWire.Contains(WireTuple(ks.Peer, ks.Local)))
                    notJudged.Add($"{ks}: no packet of it crossed the capture point");
                else diffs.Add($"{ks}: not in the model's table");
                continue;
            }
            if (ks.State == ms.State) agreed++;
            else diffs.Add($"{ks.Namespace}: tcp {ks.Local} {ks.Peer}: state kernel {ks.State}, model {ms.State}");
        }
        foreach (var (key, ms) in m)
            if (!k.ContainsKey(key)) diffs.Add($"{ms.Namespace}: tcp {ms.State} {ms.Local} {ms.Peer}: only in the model's table");
        return new SocketJudgement(diffs, agreed, k.Count - notJudged.Count + m.Keys.Count(x => !k.ContainsKey(x)), notJudged);
    }

    /// <summary>
    /// The model's sockets of every namespace the kernel listed, each aged to the moment it was listed
    /// (a TIME_WAIT that ran out between the capture's end and the listing is gone on both sides).
    /// </summary>
    public static IEnumerable<SocketListing> ModelAt(ReplayState state, IReadOnlyDictionary<string, long> listedNs) =>
        state.Topology.Namespaces.Zip(state.Namespaces)
            .Where(x => listedNs.ContainsKey(x.First.Name))
            .SelectMany(x => SocketListing.List(x.First, x.Second, listedNs[x.First.Name]));

    /// <summary>A packet from <paramref name="from"/> to <paramref name="to"/> as <see cref="ConntrackJudge.TuplesOnWire"/> words its tuple.</summary>
    private static string WireTuple(string from, string to)
    {
        var (fa, fp) = Split(from);
        var (ta, tp) = Split(to);
        return $"tcp src={fa} dst={ta} sport={fp} dport={tp}";
    }

    private static (string Address, string Port) Split(string endpoint)
    {
        int colon = endpoint.LastIndexOf(':');
        return (endpoint[..colon].Trim('[', ']'), endpoint[(colon + 1)..]);
    }
}
