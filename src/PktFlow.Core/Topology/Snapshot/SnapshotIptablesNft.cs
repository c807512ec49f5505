using System.Text.Json;
using System.Text.Json.Nodes;

namespace PktFlow.Topology.Snapshot;

/// <summary>
/// The tables iptables-nft made, split out of a snapshot's nft.json. `nft -j list ruleset` prints their
/// xtables matches and targets (-j MASQUERADE, -m multiport, ...) as opaque `xt` expressions it cannot
/// describe; iptables-save (iptables.txt / ip6tables.txt, read back by the same iptables-nft) prints them
/// in full. Such a table is taken from the save file through the iptables-restore translator, keeping
/// only the chains the kernel holds (iptables-save also prints built-in chains iptables-nft never made);
/// nft-native tables stay in nft.json.
/// </summary>
internal static class SnapshotIptablesNft
{
    /// <summary>The result: nft.json without iptables-nft's tables, and the save text of each family holding them.</summary>
    internal sealed record Split(string NftJson, string? Ipv4Save, string? Ipv6Save, IReadOnlySet<(string Family, string Table)> Tables,
        IReadOnlyDictionary<string, int[]> Ipv4Handles, IReadOnlyDictionary<string, int[]> Ipv6Handles);

    /// <summary>
    /// A table of family ip or ip6 is iptables-nft's when one of its rules holds an `xt` expression or its
    /// comment names iptables, and the family's save file lists it. Returns null when there is none.
    /// </summary>
    internal static Split? Find(string nftJson, string[]? iptables, string[]? ip6tables)
    {
        var root = JsonNode.Parse(nftJson)?["nftables"] as JsonArray;
        if (root is null) return null;
        var saved = new Dictionary<string, string[]?> { ["ip"] = iptables, ["ip6"] = ip6tables };
        var found = new HashSet<(string, string)>();
        foreach (var o in root.OfType<JsonObject>())
        {
            var (kind, body) = (o.First().Key, o.First().Value as JsonObject);
            if (body is null || body["family"]?.GetValue<string>() is not ("ip" or "ip6") || body["table"] is null && kind != "table") continue;
            var family = body["family"]!.GetValue<string>();
            var table = kind == "table" ? body["name"]?.GetValue<string>() : body["table"]?.GetValue<string>();
            if (table is null) continue;
            var marked = kind == "rule" && HasXt(body["expr"])
                || kind == "table" && body["comment"]?.ToString().Contains("iptables", StringComparison.OrdinalIgnoreCase) == true;
            if (marked && saved[family] is { } lines && lines.Any(l => l.Trim() == $"*{table}")) found.Add((family, table));
        }
        if (found.Count == 0) return null;

        var chains = new HashSet<(string, string, string)>();
        var kept = new JsonArray();
        var (h4, h6) = (new Dictionary<string, int[]>(), new Dictionary<string, int[]>());
        foreach (var o in root.ToList())
        {
            var body = (o as JsonObject)?.First().Value as JsonObject;
            var family = body?["family"]?.GetValue<string>();
            var table = (o as JsonObject)?.First().Key == "table" ? body?["name"]?.GetValue<string>() : body?["table"]?.GetValue<string>();
            if (family is not null && table is not null && found.Contains((family, table)))
            {
                var handles = family == "ip" ? h4 : h6;
                var handle = body!["handle"]?.GetValue<int>() ?? 0;
                switch ((o as JsonObject)!.First().Key)
                {
                    case "table": handles[table] = [handle]; break;
                    case "chain":
                        chains.Add((family, table, body["name"]!.GetValue<string>()));
                        handles[$"{table}/{body["name"]!.GetValue<string>()}"] = [handle];
                        break;
                    case "rule":
                        var key = $"{table}/{body["chain"]?.GetValue<string>()}";
                        if (handles.TryGetValue(key, out var list)) handles[key] = [.. list, handle];
                        break;
                }
                continue;
            }
            root.Remove(o);
            kept.Add(o);
        }
        var json = new JsonObject { ["nftables"] = kept }.ToJsonString();
        return new Split(json, Save(iptables, "ip", found, chains), Save(ip6tables, "ip6", found, chains), found, h4, h6);
    }

    private static bool HasXt(JsonNode? n) => n switch
    {
        JsonObject o => o.ContainsKey("xt") || o.Any(p => HasXt(p.Value)),
        JsonArray a => a.Any(HasXt),
        _ => false,
    };

    /// <summary>The sections of the save file for the family's iptables-nft tables, with only the chains nft.json lists.</summary>
    private static string? Save(string[]? lines, string family, HashSet<(string, string)> tables, HashSet<(string, string, string)> chains)
    {
        if (lines is null || !tables.Any(t => t.Item1 == family)) return null;
        var sb = new System.Text.StringBuilder();
        string? table = null;
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.StartsWith('*')) table = line[1..];
            bool ours = table is not null && tables.Contains((family, table));
            // keep line numbers: a line left out becomes a comment, so errors name the save file's line
            if (!ours || line.StartsWith(':') && !chains.Contains((family, table!, line[1..].Split(' ')[0]))) sb.Append('#');
            sb.Append(ours ? raw : "").Append('\n');
            if (line == "COMMIT") table = null;
        }
        return sb.ToString();
    }

    /// <summary>The save file's lines outside the tables evaluated from it (the rest stays listed).</summary>
    internal static string[] Others(string[] lines, string family, IReadOnlySet<(string Family, string Table)> tables)
    {
        var result = new string[lines.Length];
        string? table = null;
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.StartsWith('*')) table = line[1..];
            result[i] = table is not null && tables.Contains((family, table)) && !line.StartsWith('*') ? "" : lines[i];
            if (line == "COMMIT") table = null;
        }
        return result;
    }
}
