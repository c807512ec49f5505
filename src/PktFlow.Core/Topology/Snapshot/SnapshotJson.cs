using System.Text;
using System.Text.Json;
using PktFlow.Wire;

namespace PktFlow.Topology.Snapshot;

/// <summary>
/// A JSON value of one snapshot file together with where it is (`[3].dst`), so every accessor can
/// fail with the file, the path and what it expected. Absent and null members read the same way:
/// iproute2 leaves out what does not apply.
/// </summary>
internal readonly struct SnapshotJson
{
    private readonly JsonElement _e;
    public string File { get; }
    public string Path { get; }

    public SnapshotJson(JsonElement e, string file, string path)
    {
        _e = e;
        File = file;
        Path = path;
    }

    /// <summary>Parses a whole file; a syntax error names its line.</summary>
    public static SnapshotJson Parse(byte[] bytes, string file, out JsonDocument document)
    {
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            // JsonException.Message ends with " LineNumber: n | BytePositionInLine: m."; say it our way.
            var why = e.Message;
            int cut = why.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0) why = why[..cut];
            var column = e.BytePositionInLine is { } b ? $" (byte {b + 1} of the line)" : "";
            throw new SnapshotException(file, null, (int)(e.LineNumber ?? 0) + 1, $"not valid JSON{column}: {why}");
        }
        return new SnapshotJson(document.RootElement, file, "");
    }

    private string Where => Path.Length == 0 ? "top level" : Path;

    public SnapshotException Error(string expected) => new(File, Where, null, $"expected {expected}, got {Describe()}");
    public SnapshotException Problem(string message) => new(File, Where, null, message);

    /// <summary>The value as a short quote for messages: 'x' for strings, the JSON text otherwise.</summary>
    public string Describe()
    {
        var text = _e.ValueKind == JsonValueKind.String ? $"'{_e.GetString()}'" : _e.GetRawText();
        text = text.ReplaceLineEndings(" ");
        return text.Length > 60 ? text[..57] + "..." : text;
    }

    public bool IsString => _e.ValueKind == JsonValueKind.String;
    public bool IsObject => _e.ValueKind == JsonValueKind.Object;

    public SnapshotJson? Opt(string name) =>
        _e.ValueKind == JsonValueKind.Object && _e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? new SnapshotJson(v, File, Member(name))
            : null;

    public SnapshotJson Req(string name, string expected)
    {
        if (_e.ValueKind != JsonValueKind.Object) throw Error("an object");
        return Opt(name) ?? throw new SnapshotException(File, Member(name), null, $"missing, expected {expected}");
    }

    public bool Has(string name) => Opt(name) is not null;

    /// <summary>The member is there, null included: iproute2 prints flags such as `"proxy": null`.</summary>
    public bool HasFlag(string name) => _e.ValueKind == JsonValueKind.Object && _e.TryGetProperty(name, out _);

    public IEnumerable<SnapshotJson> Items()
    {
        if (_e.ValueKind != JsonValueKind.Array) throw Error("an array");
        return ItemsOf(_e, File, Path);

        static IEnumerable<SnapshotJson> ItemsOf(JsonElement e, string file, string path)
        {
            int i = 0;
            foreach (var item in e.EnumerateArray()) yield return new SnapshotJson(item, file, $"{path}[{i++}]");
        }
    }

    /// <summary>The members of an object in file order.</summary>
    public IEnumerable<(string Name, SnapshotJson Value)> Members()
    {
        if (_e.ValueKind != JsonValueKind.Object) throw Error("an object");
        var (file, path) = (File, Path);
        return _e.EnumerateObject().Select(p => (p.Name, new SnapshotJson(p.Value, file, path.Length == 0 ? p.Name : path + "." + p.Name)));
    }

    private string Member(string name) => Path.Length == 0 ? name : Path + "." + name;

    public string String() => _e.ValueKind == JsonValueKind.String ? _e.GetString()! : throw Error("a string");

    /// <summary>A string, or a number or boolean as its JSON text (for messages and unmodelled lines).</summary>
    public string Text() => TextOf(_e);

    private static string TextOf(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Array => string.Join(",", e.EnumerateArray().Select(TextOf)),
        _ => e.GetRawText(),
    };

    public string Raw() => _e.GetRawText();

    public long Integer(long min, long max)
    {
        if (_e.ValueKind == JsonValueKind.Number && _e.TryGetInt64(out var v) && v >= min && v <= max) return v;
        throw Error(min == 0 && max == uint.MaxValue ? "a number from 0 to 4294967295" : $"a number from {min} to {max}");
    }

    public int Int(int min = 0, int max = int.MaxValue) => (int)Integer(min, max);

    public IpAddr Address(IpFamily? family = null)
    {
        if (_e.ValueKind == JsonValueKind.String && IpAddr.TryParse(_e.GetString(), out var a) && (family is null || a.Family == family))
            return a;
        throw Error(family switch { IpFamily.V4 => "an IPv4 address", IpFamily.V6 => "an IPv6 address", _ => "an address" });
    }

    /// <summary>`default`, `10.1.0.0/24` or a host address without a length, as `ip route` prints them.</summary>
    public IpPrefix Prefix(IpFamily family)
    {
        if (_e.ValueKind == JsonValueKind.String && IpPrefix.TryParse(_e.GetString(), family, out var p) && p.Family == family)
            return p;
        throw Error(family == IpFamily.V4 ? "an IPv4 prefix" : "an IPv6 prefix");
    }

    public IReadOnlyList<string> Strings() => Items().Select(x => x.String()).ToList();

    /// <summary>The value as one compact line of JSON (for unmodelled configuration).</summary>
    public string Compact()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            _e.WriteTo(w);
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
