namespace PktFlow.Topology.Snapshot;

/// <summary>
/// A host snapshot that cannot be read. The message names the file (relative to the snapshot folder,
/// `host/route4.json`), where in it (a JSON path such as `[3].dst`, or a line), and what was expected:
/// <c>host/route4.json: [3].dst: expected an IPv4 prefix, got 'x'</c>.
/// </summary>
public sealed class SnapshotException : Exception
{
    /// <summary>The file, relative to the snapshot folder, with '/' separators.</summary>
    public string File { get; }
    /// <summary>Where in a JSON file: `[3].dst`, `[0].addr_info[2].local`, or null.</summary>
    public string? JsonPath { get; }
    /// <summary>The 1-based line (text files, JSON syntax errors), or null.</summary>
    public int? Line { get; }
    public string Reason { get; }

    public SnapshotException(string file, string? jsonPath, int? line, string reason)
        : base(Format(file, jsonPath, line, reason))
    {
        File = file;
        JsonPath = jsonPath;
        Line = line;
        Reason = reason;
    }

    public SnapshotException(string file, string reason) : this(file, null, null, reason) { }

    private static string Format(string file, string? jsonPath, int? line, string reason) =>
        $"{file}{(line is { } l ? $":{l}" : "")}: {(jsonPath is null ? "" : jsonPath + ": ")}{reason}";
}
