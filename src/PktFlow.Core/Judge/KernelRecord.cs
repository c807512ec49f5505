using System.Text.Json;

namespace PktFlow.Judge;

/// <summary>One chain run the kernel's trace showed (nft monitor trace), as recorded in kernel.json.</summary>
public sealed record KernelChainRun(string Family, string Table, string Chain, string Verdict, int? RuleHandle, string? RuleText, string? By)
{
    public override string ToString() =>
        $"{Family} {Table} {Chain}: {Verdict}{(RuleHandle is { } h ? $" (rule {h}{(RuleText is null ? "" : ": " + RuleText)})" : By is null ? "" : $" ({By})")}";
}

/// <summary>What happened to the packet in one namespace.</summary>
public sealed record KernelHop(string Namespace, string? In, IReadOnlyList<KernelChainRun> Chains, string? Fate, string? Reason);

/// <summary>Where the packet ended: a namespace, a fate and maybe a drop reason.</summary>
public sealed record KernelEnd(string Namespace, string Fate, string? Reason)
{
    public override string ToString() => $"{Namespace}: {Fate}{(Reason is null ? "" : $" {Reason}")}";
}

public sealed record KernelFrame(long Frame, string Direction, string Summary, bool Attributed, IReadOnlyList<KernelEnd> Ends, IReadOnlyList<KernelHop> Path);

/// <summary>
/// A recorded scenario's kernel.json (tests/scenarios/README.md has the schema): per frame of wire.pcap,
/// the namespaces the packet crossed, the chains the kernel ran there, and where it ended.
/// </summary>
public sealed class KernelRecord
{
    public required string Scenario { get; init; }
    /// <summary>"ns/dev" of the capture point.</summary>
    public required string Wire { get; init; }
    public string? Kernel { get; init; }
    public required IReadOnlyList<KernelFrame> Frames { get; init; }

    public static KernelRecord Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        string wire = root.GetProperty("wire") is { ValueKind: JsonValueKind.Object } w
            ? $"{Str(w, "ns")}/{Str(w, "dev")}" : root.GetProperty("wire").GetString()!;
        var frames = new List<KernelFrame>();
        foreach (var f in root.GetProperty("frames").EnumerateArray())
        {
            var ends = Arr(f, "end").Select(e => new KernelEnd(Str(e, "ns") ?? "?", Str(e, "fate") ?? "?", Str(e, "reason"))).ToList();
            var path2 = Arr(f, "path").Select(p => new KernelHop(
                Str(p, "ns") ?? "?", Str(p, "in"),
                Arr(p, "chains").Select(c => new KernelChainRun(
                    Str(c, "family") ?? "?", Str(c, "table") ?? "?", Str(c, "chain") ?? "?", Str(c, "verdict") ?? "?",
                    c.TryGetProperty("rule", out var r) && r.ValueKind == JsonValueKind.Object && r.TryGetProperty("handle", out var h) && h.ValueKind == JsonValueKind.Number ? h.GetInt32() : null,
                    c.TryGetProperty("rule", out var r2) && r2.ValueKind == JsonValueKind.Object ? Str(r2, "text") : null,
                    Str(c, "by"))).ToList(),
                Str(p, "fate"), Str(p, "reason"))).ToList();
            frames.Add(new KernelFrame(f.GetProperty("frame").GetInt64(), Str(f, "direction") ?? "?", Str(f, "summary") ?? "",
                !f.TryGetProperty("attributed", out var a) || a.ValueKind != JsonValueKind.False, ends, path2));
        }
        return new KernelRecord { Scenario = Str(root, "scenario") ?? Path.GetFileName(Path.GetDirectoryName(path)) ?? "?", Wire = wire, Kernel = Str(root, "kernel"), Frames = frames };
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined) ? v.ToString() : null;

    private static IEnumerable<JsonElement> Arr(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : Enumerable.Empty<JsonElement>();
}
