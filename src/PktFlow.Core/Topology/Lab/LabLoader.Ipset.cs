namespace PktFlow.Topology.Lab;

public sealed partial class LabLoader
{
    /// <summary>
    /// ipset COMMAND ... in the namespace, or ipset restore [-exist] with a here-document, -f FILE or &lt; FILE
    /// (the lines `ipset save` prints); an error names the line as ipset does ("Error in line N").
    /// </summary>
    private void Ipset(List<string> w, string ns)
    {
        var sets = _namespaces[ns].IpSets;
        var args = w.Skip(1).ToList();
        if (args.FirstOrDefault(a => !a.StartsWith('-') || a is "-R" or "--restore") is "restore" or "-R" or "--restore")
        {
            bool exist = args.Contains("-exist") || args.Contains("-!");
            int f = args.FindIndex(a => a is "-f" or "-file" or "<");
            string text; string origin; int first;
            if (_cmd.HereDoc is { } doc) { text = doc; origin = _file; first = _cmd.Line + 1; }
            else if (f >= 0 && f + 1 < args.Count)
            {
                var path = Path.IsPathRooted(args[f + 1]) ? args[f + 1] : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(_file)) ?? ".", args[f + 1]);
                if (!File.Exists(path)) throw Error($"ipset restore: {path} does not exist", args[f + 1]);
                text = File.ReadAllText(path); origin = path; first = 1;
            }
            else throw Error("ipset restore reads standard input: give the lines as a here-document (<<EOF) or -f FILE");
            var lines = text.Replace("\r\n", "\n").Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.Length == 0 || line.StartsWith('#') || line == "COMMIT") continue;
                var words = ShellWords.Split(line).FirstOrDefault()?.Words.ToList() ?? new List<string>();
                if (exist) words = words.Append("-exist").ToList();
                try { sets.Apply(words); }
                catch (Netfilter.Ipset.IpSetException e) { throw new LabException(origin, first + i, line, e.Token, $"ipset v7.17: Error in line {i + 1}: {e.Message}"); }
            }
            return;
        }
        try { sets.Apply(args); }
        catch (Netfilter.Ipset.IpSetException e) { throw Error($"ipset v7.17: {e.Message}", e.Token); }
    }
}
