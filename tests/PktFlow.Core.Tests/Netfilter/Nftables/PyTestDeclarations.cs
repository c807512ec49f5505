using System.Globalization;
using System.Text.RegularExpressions;
using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// The sets (<c>!set1 type ipv4_addr flags interval;ok</c>) and stateful objects (<c>%qt1 type quota 25 mbytes;ok</c>)
/// an nftables py test file declares: nft-test.py adds them to the file's tables before it tries the rules,
/// so the rules naming them (<c>ip saddr @set1</c>, <c>quota name "qt1"</c>) can load. Declarations the
/// file marks fail are not added; one the model refuses (synproxy, <c>type time</c>) is left out, and the
/// rules naming it fail as they would without it.
/// </summary>
internal static partial class PyTestDeclarations
{
    /// <summary>The declarations of <paramref name="tFile"/> as text inside a table block (<c>set s { type T; }</c>, <c>quota q { 25 mbytes }</c>).</summary>
    public static string Text(string tFile, string family) => string.Join("\n",
        Declared(tFile).Select(d => d.IsSet
                ? $"set {d.Name} {{ type {string.Join("; ", SetOptions().Split(d.Spec))}; }}"
                : $"{d.Kind} {d.Name} {{ {(d.Spec.StartsWith('{') ? d.Spec[1..^1] : d.Spec)} }}")
            .Where(decl => Loads(() => NftRuleset.Parse($"table {family} test {{ {decl}\n}}", "decl.nft"))));

    /// <summary>The declarations of <paramref name="tFile"/> as libnftables JSON objects of table <c>test</c>.</summary>
    public static IEnumerable<string> Json(string tFile, string family)
    {
        foreach (var d in Declared(tFile))
        {
            var fields = d.IsSet ? SetJson(d.Spec) : ObjectJson(d.Kind, d.Spec);
            if (fields is null) continue;
            var obj = $"{{\"{(d.IsSet ? "set" : d.Kind)}\": {{\"family\": \"{family}\", \"table\": \"test\", \"name\": \"{d.Name}\"{fields}}}}}";
            var table = $"{{\"table\": {{\"family\": \"{family}\", \"name\": \"test\"}}}}";
            if (Loads(() => NftRuleset.ParseJson($"{{\"nftables\": [{table}, {obj}]}}", "decl.json"))) yield return obj;
        }
    }

    private sealed record Decl(bool IsSet, string Name, string Kind, string Spec);

    private static IEnumerable<Decl> Declared(string tFile)
    {
        foreach (var raw in File.ReadLines(tFile))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is not ('!' or '%')) continue;
            int semi = line.LastIndexOf(';');
            if (semi < 0 || line[(semi + 1)..].Trim() != "ok") continue;
            var m = Declaration().Match(line[1..semi]);
            if (!m.Success) continue;
            var rest = m.Groups[2].Value.Trim();
            if (line[0] == '!') { yield return new Decl(true, m.Groups[1].Value, "set", rest); continue; }
            var kind = rest.StartsWith("ct ", StringComparison.Ordinal) ? string.Join(' ', rest.Split(' ', 3)[..2]) : rest.Split(' ')[0];
            yield return new Decl(false, m.Groups[1].Value, kind, rest[kind.Length..].Trim());
        }
    }

    private static bool Loads(Action parse)
    {
        try { parse(); return true; }
        catch (NftParseException) { return false; }
    }

    /// <summary>"ipv4_addr . inet_service flags interval timeout 60s" as JSON "type", "flags", "timeout" (seconds).</summary>
    private static string SetJson(string spec)
    {
        var parts = SetOptions().Split(spec);
        var types = parts[0].Split(" . ").Select(t => $"\"{t.Trim()}\"");
        var o = $", \"type\": [{string.Join(", ", types)}]";
        foreach (var p in parts.Skip(1))
        {
            var (k, v) = (p.Split(' ', 2)[0], p.Split(' ', 2)[1].Trim());
            o += k == "flags" ? $", \"flags\": [\"{v}\"]" : $", \"timeout\": {Seconds(v)}";
        }
        return o;
    }

    /// <summary>An object's JSON fields as nft 1.0.6 writes them; null for a kind the text has no JSON form for here.</summary>
    private static string? ObjectJson(string kind, string spec)
    {
        var w = spec.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        switch (kind)
        {
            case "counter": return "";
            case "quota":
            {
                bool over = w[0] == "over";
                return $", \"bytes\": {Bytes(w[over ? 1 : 0], w[over ? 2 : 1])}, \"inv\": {(over ? "true" : "false")}";
            }
            case "limit":
            {
                var m = LimitSpec().Match(spec);
                if (!m.Success) return null;
                var o = $", \"rate\": {m.Groups["rate"].Value}, \"per\": \"{m.Groups["per"].Value}\", \"inv\": {(m.Groups["over"].Success ? "true" : "false")}";
                if (m.Groups["ru"].Success) o += $", \"rate_unit\": \"{m.Groups["ru"].Value}\"";
                if (m.Groups["burst"].Success) o += $", \"burst\": {m.Groups["burst"].Value}" + (m.Groups["bu"].Value is not "packets" ? $", \"burst_unit\": \"{m.Groups["bu"].Value}\"" : "");
                return o;
            }
            case "ct helper" or "ct timeout" or "ct expectation":
            {
                var o = "";
                foreach (var f in spec.Trim('{', '}', ' ').Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (f.StartsWith("policy", StringComparison.Ordinal))
                    {
                        var states = PolicyStates().Matches(f).Select(x => $"\"{x.Groups[1].Value}\": {x.Groups[2].Value}");
                        o += $", \"policy\": {{{string.Join(", ", states)}}}";
                        continue;
                    }
                    // ct helper writes `type "ftp" protocol tcp` in one field
                    foreach (Match kv in KeyValue().Matches(f))
                    {
                        var (k, v) = (kv.Groups[1].Value, kv.Groups[2].Value.Trim('"'));
                        o += k == "timeout" ? $", \"timeout\": {Seconds(v) * 1000}"
                            : long.TryParse(v, out var n) ? $", \"{k}\": {n}" : $", \"{k}\": \"{v}\"";
                    }
                }
                return o;
            }
        }
        return null;
    }

    private static long Bytes(string n, string unit) => long.Parse(n, CultureInfo.InvariantCulture) * unit switch
    {
        "kbytes" => 1024L, "mbytes" => 1024L * 1024, _ => 1L,
    };

    private static long Seconds(string t) => TimeParts().Matches(t).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * m.Groups[2].Value switch
    {
        "d" => 86400L, "h" => 3600L, "m" => 60L, _ => 1L,
    });

    [GeneratedRegex(@"^(\S+)\s+type\s+(.+)$")] private static partial Regex Declaration();
    [GeneratedRegex(@"\s+(?=flags |timeout )")] private static partial Regex SetOptions();
    [GeneratedRegex(@"^rate (?<over>over )?(?<rate>\d+) ?(?<ru>[km]?bytes)?/(?<per>\w+)( burst (?<burst>\d+) (?<bu>[km]?bytes|packets))?$")] private static partial Regex LimitSpec();
    [GeneratedRegex(@"(\w+)\s*:\s*(\d+)")] private static partial Regex PolicyStates();
    [GeneratedRegex(@"(\w+)\s+(""[^""]*""|\S+)")] private static partial Regex KeyValue();
    [GeneratedRegex(@"(\d+)([dhms])")] private static partial Regex TimeParts();
}
