using PktFlow.Netfilter;

namespace PktFlow.Judge;

/// <summary>The model's conntrack entries against the kernel's: how many agree, and what differs.</summary>
/// <param name="Differences">One line per entry that is only on one side or differs in reply tuple, TCP state or flags.</param>
/// <param name="Agreed">Entries present on both sides with the same original and reply tuples, TCP state and [ASSURED]/[UNREPLIED].</param>
/// <param name="Total">Entries on either side (matched pairs counted once).</param>
public sealed record ConntrackJudgement(IReadOnlyList<string> Differences, int Agreed, int Total)
{
    public override string ToString() => $"conntrack {Agreed}/{Total} entries agree";
}

/// <summary>
/// Compares <c>conntrack -L</c> as the kernel printed it after the traffic with the model's table after
/// the replay (Get-PktFlowConntrack), namespace by namespace, keyed by protocol and original tuple.
/// Timeouts are not compared: the kernel listed its table some seconds after the capture ended.
/// </summary>
public static class ConntrackJudge
{
    public static ConntrackJudgement Compare(IEnumerable<KernelConntrack> kernel, IEnumerable<ConntrackListing> model)
    {
        var k = kernel.ToDictionary(e => (e.Namespace, e.Proto, e.Original));
        var m = model.GroupBy(e => (e.Namespace, e.Protocol, e.Original)).ToDictionary(g => g.Key, g => g.First());
        var diffs = new List<string>();
        int agreed = 0;
        foreach (var (key, ke) in k)
        {
            if (!m.TryGetValue(key, out var me)) { diffs.Add($"{ke}: not in the model's table"); continue; }
            var d = new List<string>();
            if (ke.Reply != me.Reply) d.Add($"reply kernel {ke.Reply}, model {me.Reply}");
            if (ke.State != me.State) d.Add($"state kernel {ke.State}, model {me.State}");
            var kf = string.Join(",", ke.Flags.Order()); var mf = string.Join(",", me.Flags.Order());
            if (kf != mf) d.Add($"flags kernel [{kf}], model [{mf}]");
            if (d.Count == 0) agreed++;
            else diffs.Add($"{ke}: {string.Join("; ", d)}");
        }
        foreach (var (key, me) in m)
            if (!k.ContainsKey(key)) diffs.Add($"{me.Namespace}: {me.Line}: only in the model's table");
        return new ConntrackJudgement(diffs, agreed, k.Count + m.Keys.Count(x => !k.ContainsKey(x)));
    }
}
