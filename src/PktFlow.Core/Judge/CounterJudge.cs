using PktFlow.Netfilter;

namespace PktFlow.Judge;

/// <summary>The model's counters against the kernel's: one figure (a counter agrees when its packets and bytes both do), and what differs.</summary>
/// <param name="Differences">One line per counter whose packets or bytes differ, or that only one side has.</param>
/// <param name="NotJudged">Kernel counters that counted something in a table no captured frame reached, on either side.</param>
public sealed record CounterJudgement(IReadOnlyList<string> Differences, TableFigure Counters, IReadOnlyList<string> NotJudged)
{
    public static readonly CounterJudgement Empty = new(Array.Empty<string>(), default, Array.Empty<string>());
    public override string ToString() => $"counters {Counters}";
}

/// <summary>
/// Compares what the traffic added to the kernel's netfilter counters (kernel.json "counters": rule
/// counters and quotas by rule handle, named counters and quotas, set element counters) with what the
/// replay added to the model's (Get-PktFlowCounter, Get-PktFlowSet). The kernel counts every packet,
/// the replay only those of the capture, so two rules decide what is judged: only namespaces the
/// capture covers whole (<see cref="KernelRecord.CoveredByCapture"/>: the capture's namespace, when it
/// captured every device of it or its only one; the caller passes them as <c>judged</c>), and there
/// only tables a captured frame reached, in the kernel's trace or in the model's replay. Every counter
/// of such a table is compared, also those that stayed at zero; the kernel counters that counted
/// something elsewhere are listed as not judged only when their namespace is judged.
/// </summary>
public static class CounterJudge
{
    /// <summary>(namespace, family, table) of a table whose chains a captured frame reached.</summary>
    public readonly record struct TableKey(string Namespace, string Family, string Table);

    public static CounterJudgement Compare(IEnumerable<KernelCounter> kernel, IReadOnlySet<string> judged,
        IEnumerable<NetfilterCounter> model, IEnumerable<NetfilterSetElement> elements, IReadOnlySet<TableKey> reached)
    {
        var m = new Dictionary<string, (long? Packets, long Bytes, string Text)>();
        foreach (var c in model.Where(c => c.Kind != "Policy" && judged.Contains(c.Namespace)))
        {
            bool quota = c.Kind == "Quota";
            m.TryAdd(Key(c.Namespace, c.Family, c.Table, c.Kind.ToLowerInvariant(), c.Name is null ? c.Chain : null, c.Name is null ? c.Handle : null, c.Name, null, null),
                (quota ? null : c.Packets - c.InitialPackets, c.Bytes - c.InitialBytes, c.Rule ?? c.Name ?? ""));
        }
        foreach (var e in elements.Where(e => e.Packets is not null && judged.Contains(e.Namespace)))
            m.TryAdd(Key(e.Namespace, e.Family, e.Table, "element", null, null, null, e.Set, e.Element), (e.Packets, e.Bytes ?? 0, ""));

        var diffs = new List<string>();
        var notJudged = new List<string>();
        int agreed = 0, total = 0;
        var seen = new HashSet<string>();
        foreach (var k in kernel.Where(k => judged.Contains(k.Namespace)))
        {
            var key = Key(k.Namespace, k.Family, k.Table, k.Kind, k.Name is null ? k.Chain : null, k.Name is null ? k.Handle : null, k.Name, k.Set, k.Element);
            seen.Add(key);
            if (!reached.Contains(new TableKey(k.Namespace, k.Family, k.Table)))
            {
                if (k.Packets is > 0 || k.Bytes > 0) notJudged.Add($"{k}: {Counts(k.Packets, k.Bytes)}, no captured frame reached the table");
                continue;
            }
            total++;
            if (!m.TryGetValue(key, out var mv))
            {
                diffs.Add($"{k}: kernel {Counts(k.Packets, k.Bytes)}, not in the model");
                continue;
            }
            if (k.Packets == mv.Packets && k.Bytes == mv.Bytes) agreed++;
            else diffs.Add($"{k}: kernel {Counts(k.Packets, k.Bytes)}, model {Counts(mv.Packets, mv.Bytes)}{(mv.Text.Length > 0 ? $" ({mv.Text})" : "")}");
        }
        // a counter only the model has (an element the kernel no longer lists, a rule the kernel refused)
        foreach (var c in model.Where(c => c.Kind != "Policy" && judged.Contains(c.Namespace) && reached.Contains(new TableKey(c.Namespace, c.Family, c.Table))))
        {
            var key = Key(c.Namespace, c.Family, c.Table, c.Kind.ToLowerInvariant(), c.Name is null ? c.Chain : null, c.Name is null ? c.Handle : null, c.Name, null, null);
            if (!seen.Add(key)) continue;
            total++;
            diffs.Add($"{c.Namespace}: {c.Family} {c.Table} {c.Chain} {c.Kind} #{c.Handle} {c.Name}: only in the model ({Counts(c.Kind == "Quota" ? null : c.Packets, c.Bytes)})");
        }
        return new CounterJudgement(diffs, new TableFigure(agreed, total, notJudged.Count), notJudged);
    }

    /// <summary>The tables whose chains a captured frame reached: in the kernel's trace of the capture's frames, or in the model's replay of them.</summary>
    public static HashSet<TableKey> Reached(IEnumerable<KernelFrame> kernel, IEnumerable<PacketTrace> model)
    {
        var set = new HashSet<TableKey>();
        foreach (var f in kernel)
            foreach (var h in f.Path)
                foreach (var c in h.Chains) set.Add(new TableKey(h.Namespace, c.Family, c.Table));
        foreach (var t in model)
            foreach (var e in t.Path)
                if (e.Stage == "NfHook" && e.Table is not null && e.Family is { } fam)
                    set.Add(new TableKey(e.Namespace, fam.ToString().ToLowerInvariant(), e.Table));
        return set;
    }

    private static string Key(string ns, string family, string table, string kind, string? chain, int? handle, string? name, string? set, string? element) =>
        $"{ns}\u0001{family}\u0001{table}\u0001{kind}\u0001{chain}\u0001{handle}\u0001{name}\u0001{set}\u0001{element}";

    private static string Counts(long? packets, long bytes) => packets is { } p ? $"packets {p} bytes {bytes}" : $"used {bytes} bytes";
}
