using PktFlow.Replay;
using PktFlow.Socket;

namespace PktFlow.Judge;

/// <summary>One figure of a table the judge compares (a kind of socket, conntrack entries): how many agree, how many were judged on either side, how many kernel items were left out.</summary>
public readonly record struct TableFigure(int Agreed, int Total, int NotJudged)
{
    public override string ToString() => $"{Agreed}/{Total}{(NotJudged > 0 ? $" ({NotJudged} not judged)" : "")}";
}

/// <summary>The model's sockets against the kernel's: how many agree, and what differs.</summary>
/// <param name="Differences">One line per socket that is only on one side or in another state.</param>
/// <param name="Connections">TCP connections (every state but LISTEN).</param>
/// <param name="Listeners">TCP listeners (LISTEN).</param>
/// <param name="Udp">UDP sockets, unconnected (UNCONN) and connected (ESTABLISHED).</param>
/// <param name="NotJudged">Kernel sockets left out: connections no packet of which crossed the capture point.</param>
public sealed record SocketJudgement(IReadOnlyList<string> Differences, TableFigure Connections, TableFigure Listeners, TableFigure Udp, IReadOnlyList<string> NotJudged)
{
    public static readonly SocketJudgement Empty = new(Array.Empty<string>(), default, default, default, Array.Empty<string>());

    /// <summary>Sockets of every kind that agree.</summary>
    public int Agreed => Connections.Agreed + Listeners.Agreed + Udp.Agreed;
    /// <summary>Sockets of every kind judged on either side (matched pairs counted once).</summary>
    public int Total => Connections.Total + Listeners.Total + Udp.Total;

    public override string ToString() => $"sockets: tcp connections {Connections}, listeners {Listeners}, udp {Udp}";
}

/// <summary>
/// Compares <c>ss -tan</c> and <c>ss -uan</c> as the kernel printed them after the traffic with the
/// model's sockets (Get-PktFlowSocket) aged to the moment of that listing, namespace by namespace,
/// keyed by protocol, local and peer address:port; the state must agree. Three figures: TCP
/// connections, TCP listeners (the lab's servers, minus those their program closed) and UDP sockets
/// (the lab's, unconnected or connected to a peer). Every listener and every unconnected UDP socket is
/// judged: the lab declares them. A kernel connection (TCP, or a connected UDP socket) the model lacks
/// is judged only when a packet of it crossed the capture point (else: traffic between other devices,
/// or before the capture, which no replay of the capture can know of); those are listed as not judged.
/// Not judged either: namespaces the recording did not list (older recordings).
/// </summary>
public static class SocketJudge
{
    private enum Kind { Connection, Listener, Udp }

    private static Kind KindOf(string proto, string state) => proto == "udp" ? Kind.Udp : state == "LISTEN" ? Kind.Listener : Kind.Connection;

    /// <param name="capturePoint">"ns/dev" of the capture, named in the reason a socket is not judged.</param>
    public static SocketJudgement Compare(IEnumerable<KernelSocket> kernel, IEnumerable<SocketListing> model, IReadOnlySet<string>? onWire = null, string? capturePoint = null)
    {
        var k = kernel.Where(s => s.Proto is "tcp" or "udp").GroupBy(s => (s.Namespace, s.Proto, s.Local, s.Peer)).ToDictionary(g => g.Key, g => g.First());
        var m = model.GroupBy(s => (s.Namespace, s.Protocol, s.Local, s.Peer)).ToDictionary(g => g.Key, g => g.First());
        var diffs = new List<string>();
        var notJudged = new List<string>();
        var agreed = new int[3];
        var total = new int[3];
        var left = new int[3];
        foreach (var (key, ks) in k)
        {
            var kind = KindOf(ks.Proto, ks.State);
            if (!m.TryGetValue(key, out var ms))
            {
                bool connected = kind == Kind.Connection || kind == Kind.Udp && ks.State != "UNCONN";
                if (connected && onWire is not null && !onWire.Contains(WireTuple(ks.Proto, ks.Local, ks.Peer)) && !onWire.Contains(WireTuple(ks.Proto, ks.Peer, ks.Local)))
                {
                    notJudged.Add($"{ks}: {ConntrackJudge.OffTheCapture(capturePoint)}");
                    left[(int)kind]++;
                    continue;
                }
                diffs.Add($"{ks}: not in the model's table");
                total[(int)kind]++;
                continue;
            }
            total[(int)kind]++;
            if (ks.State == ms.State) agreed[(int)kind]++;
            else diffs.Add($"{ks.Namespace}: {ks.Proto} {ks.Local} {ks.Peer}: state kernel {ks.State}, model {ms.State}");
        }
        foreach (var (key, ms) in m)
            if (!k.ContainsKey(key))
            {
                diffs.Add($"{ms.Namespace}: {ms.Protocol} {ms.State} {ms.Local} {ms.Peer}: only in the model's table");
                total[(int)KindOf(ms.Protocol, ms.State)]++;
            }
        TableFigure F(Kind x) => new(agreed[(int)x], total[(int)x], left[(int)x]);
        return new SocketJudgement(diffs, F(Kind.Connection), F(Kind.Listener), F(Kind.Udp), notJudged);
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
    private static string WireTuple(string proto, string from, string to)
    {
        var (fa, fp) = Split(from);
        var (ta, tp) = Split(to);
        return $"{proto} src={fa} dst={ta} sport={fp} dport={tp}";
    }

    private static (string Address, string Port) Split(string endpoint)
    {
        int colon = endpoint.LastIndexOf(':');
        return (endpoint[..colon].Trim('[', ']'), endpoint[(colon + 1)..]);
    }
}
