namespace PktFlow.Topology.Snapshot;

/// <summary>
/// manifest.txt of a host snapshot: where and when it was taken, with which tools, which namespaces
/// it holds (in the order they were collected, the collector's own namespace first as `host`), and
/// which files were skipped (tool not installed) or failed. See scripts/README.md.
/// </summary>
public sealed class SnapshotManifest
{
    public const string FileName = "manifest.txt";
    public const int SupportedFormat = 1;

    public int Format { get; private init; }
    public string? Hostname { get; private init; }
    public string? Kernel { get; private init; }
    public string? Date { get; private init; }
    /// <summary>Folder names: `host` for the collector's namespace, else the `ip netns` name.</summary>
    public IReadOnlyList<string> Namespaces { get; private init; } = [];
    /// <summary>`tool: NAME: VERSION` lines, by tool name.</summary>
    public IReadOnlyDictionary<string, string> Tools { get; private init; } = new Dictionary<string, string>();
    /// <summary>Why a file is not in the snapshot, by its relative path (`host/nft.json`): "skipped: ..." or "failed: ...".</summary>
    public IReadOnlyDictionary<string, string> Missing { get; private init; } = new Dictionary<string, string>();
    /// <summary>The collector's `complete:` line.</summary>
    public string Complete { get; private init; } = "";

    public static SnapshotManifest Read(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path))
            throw new SnapshotException(FileName, "missing: a snapshot folder holds the manifest.txt that scripts/pktflow-collect.sh writes");
        return Parse(File.ReadAllLines(path));
    }

    public static SnapshotManifest Parse(IReadOnlyList<string> lines)
    {
        int? format = null;
        string? hostname = null, kernel = null, date = null, complete = null;
        var namespaces = new List<string>();
        var tools = new Dictionary<string, string>(StringComparer.Ordinal);
        var missing = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line.Length == 0 || line.StartsWith('#')) continue;
            int colon = line.IndexOf(": ", StringComparison.Ordinal);
            var key = colon < 0 ? line.TrimEnd(':') : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 2)..];
            SnapshotException Bad(string expected) => new(FileName, null, i + 1, $"expected {expected}, got '{line}'");
            switch (key)
            {
                case "format":
                    format = int.TryParse(value, out var f) ? f : throw Bad("'format: N'");
                    if (f != SupportedFormat)
                        throw new SnapshotException(FileName, null, i + 1, $"snapshot format {f} is not supported (this PktFlow reads format {SupportedFormat})");
                    break;
                case "hostname": hostname = value; break;
                case "kernel": kernel = value; break;
                case "date": date = value; break;
                case "namespace":
                    if (value.Length == 0 || value.Contains('/') || value is "." or "..") throw Bad("'namespace: NAME'");
                    if (namespaces.Contains(value)) throw new SnapshotException(FileName, null, i + 1, $"namespace '{value}' is listed twice");
                    namespaces.Add(value);
                    break;
                case "tool":
                {
                    int c = value.IndexOf(": ", StringComparison.Ordinal);
                    if (c <= 0) throw Bad("'tool: NAME: VERSION'");
                    tools[value[..c]] = value[(c + 2)..];
                    break;
                }
                case "skipped" or "failed":
                {
                    // "skipped: host/nft.json: nft not installed", "failed: host/nft.json: exit 1: ..."
                    int c = value.IndexOf(": ", StringComparison.Ordinal);
                    var file = c < 0 ? value : value[..c];
                    missing[file] = $"{key}: {(c < 0 ? "" : value[(c + 2)..])}";
                    break;
                }
                case "interrupted":
                    throw new SnapshotException(FileName, null, i + 1, "the collector was interrupted; take the snapshot again");
                case "complete": complete = value; break;
                default: break; // uid, prefixes, host, and lines later collectors add
            }
        }
        if (format is null) throw new SnapshotException(FileName, "no 'format:' line: this is not a manifest written by scripts/pktflow-collect.sh");
        if (complete is null)
            throw new SnapshotException(FileName, "no 'complete:' line: the collector did not finish (interrupted, or the folder was copied while it ran)");
        return new SnapshotManifest
        {
            Format = format.Value, Hostname = hostname, Kernel = kernel, Date = date, Namespaces = namespaces,
            Tools = tools, Missing = missing, Complete = complete,
        };
    }
}
