namespace PktFlow.Netfilter.Conntrack;

/// <summary>
/// connlabel.conf: "BIT NAME" per line (# starts a comment), the names of conntrack label bits 0..127.
/// nft reads /etc/connlabel.conf, iptables' connlabel match and conntrack -L /etc/xtables/connlabel.conf
/// (libnetfilter_conntrack); the model reads the file it is given (a lab's connlabel.conf beside it).
/// The first name of a bit is the one printed; a name maps to its first bit.
/// </summary>
public sealed class ConnLabelMap
{
    private readonly Dictionary<string, int> _bits = new(StringComparer.Ordinal);
    private readonly string?[] _names = new string?[128];

    /// <summary>Where the names came from (a file path), for messages.</summary>
    public string Source { get; }

    private ConnLabelMap(string source) => Source = source;

    /// <summary>Parses the text of a connlabel.conf; a malformed line or a bit above 127 is an error naming it.</summary>
    public static ConnLabelMap Parse(string text, string source)
    {
        var map = new ConnLabelMap(source);
        int n = 0;
        foreach (var raw in text.Split('\n'))
        {
            n++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var w = line.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
            if (w.Length != 2 || !int.TryParse(w[0], out int bit) || bit is < 0 or > 127)
                throw new FormatException($"{source}:{n}: expected 'BIT NAME' with BIT 0..127, got '{line}'");
            var name = w[1].Trim();
            map._names[bit] ??= name;
            map._bits.TryAdd(name, bit);
        }
        return map;
    }

    public int? Bit(string name) => _bits.TryGetValue(name, out var b) ? b : null;

    public string? Name(int bit) => bit is >= 0 and < 128 ? _names[bit] : null;

    /// <summary>The set bits of <paramref name="labels"/>, lowest first.</summary>
    public static IEnumerable<int> Bits(UInt128 labels)
    {
        for (int i = 0; i < 128; i++) if (((labels >> i) & 1) != 0) yield return i;
    }

    /// <summary>What conntrack -L prints: the names of the set bits that have one, comma-separated (unnamed bits are left out).</summary>
    public string Listing(UInt128 labels) => string.Join(',', Bits(labels).Select(Name).Where(x => !string.IsNullOrEmpty(x)));
}
