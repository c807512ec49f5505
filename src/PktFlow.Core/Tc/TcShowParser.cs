using System.Globalization;
using System.Text.RegularExpressions;

namespace PktFlow.Tc;

/// <summary>
/// A host snapshot's tc filters: `tc filter show dev D ingress|egress` text (iproute2 6.1) under a
/// `dev D ingress|egress` line per listing (scripts/pktflow-collect.sh). The JSON tc prints for u32
/// repeats the "match" key per selector, so the text is read instead. A flower filter's key lines
/// are the words `tc filter add` takes; u32 keys are read as listed (VALUE/MASK at OFFSET); actions
/// from their `action order N:` lines. A filter the model cannot read makes its device's direction
/// not modelled (named in <see cref="Problems"/>), never a silently missing filter.
/// </summary>
public sealed partial class TcShowParser
{
    public readonly Dictionary<(string Device, TcDirection Direction), List<TcFilter>> Filters = new();
    public readonly Dictionary<(string Device, TcDirection Direction), string> Problems = new();

    [GeneratedRegex(@"^filter (?:parent \S+ )?protocol (\S+) pref (\d+) (\S+) chain (\d+)(?: (.*))?$")]
    private static partial Regex FilterLine();
    [GeneratedRegex(@"^match ([0-9a-f]{8})/([0-9a-f]{8}) at (-?\d+)$")]
    private static partial Regex U32Match();
    [GeneratedRegex(@"^action order \d+: (\S+)\s*(.*)$")]
    private static partial Regex ActionLine();
    [GeneratedRegex(@"^\((Egress|Ingress) (Redirect|Mirror) to device (\S+)\) (\S+)$")]
    private static partial Regex MirredText();

    private sealed class Block
    {
        public required ushort Protocol; public required int Pref; public required string Kind; public required string Head;
        public readonly List<string> Keys = new();
        public readonly List<(string Kind, string Args)> Actions = new();
    }

    public static TcShowParser Parse(IEnumerable<string> lines)
    {
        var p = new TcShowParser();
        (string Dev, TcDirection Dir)? at = null;
        Block? block = null;
        var blocks = new List<Block>();
        void Flush()
        {
            if (at is { } a && blocks.Count > 0) p.Add(a, blocks);
            blocks = new List<Block>();
            block = null;
        }
        foreach (var raw in lines)
        {
            var line = raw.TrimEnd();
            if (line.Length == 0) continue;
            var t = line.Trim();
            if (!char.IsWhiteSpace(line[0]) && t.StartsWith("dev ", StringComparison.Ordinal))
            {
                Flush();
                var w = t.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                at = (w[1], w.Length > 2 && w[2] == "egress" ? TcDirection.Egress : TcDirection.Ingress);
                continue;
            }
            if (t.StartsWith("filter ", StringComparison.Ordinal) && FilterLine().Match(t) is { Success: true } m)
            {
                var rest = m.Groups[5].Value;
                // the classifier's own header lines (`filter ... u32 chain 0`, `fh 800: ht divisor 1`) are no filter
                bool node = m.Groups[3].Value == "u32" ? Regex.IsMatch(rest, @"^fh [0-9a-f]+:[0-9a-f]*:[0-9a-f]+ ") : rest.StartsWith("handle ", StringComparison.Ordinal);
                block = null;
                if (!node) continue;
                block = new Block
                {
                    Protocol = TcNames.ParseProtocol(m.Groups[1].Value) ?? 0, Pref = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
                    Kind = m.Groups[3].Value, Head = rest,
                };
                if (m.Groups[4].Value != "0") block.Keys.Add("chain " + m.Groups[4].Value);
                blocks.Add(block);
                continue;
            }
            if (block is null) continue;
            if (ActionLine().Match(t) is { Success: true } am) block.Actions.Add((am.Groups[1].Value, am.Groups[2].Value.Trim()));
            else if (block.Actions.Count == 0) block.Keys.Add(t); // lines after an action line are its statistics
        }
        Flush();
        return p;
    }

    private void Add((string Dev, TcDirection Dir) at, List<Block> blocks)
    {
        var list = new List<TcFilter>();
        try
        {
            uint n = 0;
            foreach (var b in blocks) list.Add(Filter(at.Dir, b, ++n));
            Filters[at] = list;
        }
        catch (TcParseException e)
        {
            Problems[at] = e.Message + (e.Token is null ? "" : $" (at '{e.Token}')");
        }
    }

    private static TcFilter Filter(TcDirection dir, Block b, uint order)
    {
        if (b.Keys.FirstOrDefault(k => k.StartsWith("chain ", StringComparison.Ordinal)) is { } chain)
            throw new TcParseException($"filters of {chain} are not modelled (goto chain is not)", chain);
        var actions = b.Actions.Select(a => Action(a.Kind, a.Args)).ToList();
        TcClassifier cls;
        uint handle = order;
        switch (b.Kind)
        {
            case "u32":
            {
                var fh = Regex.Match(b.Head, @"^fh ([0-9a-f]+):[0-9a-f]*:([0-9a-f]+) ");
                handle = uint.Parse(fh.Groups[1].Value, NumberStyles.HexNumber) << 20 | uint.Parse(fh.Groups[2].Value, NumberStyles.HexNumber);
                if (b.Head.Contains(" link ", StringComparison.Ordinal) || b.Head.Contains(" ht divisor", StringComparison.Ordinal))
                    throw new TcParseException("u32 hash tables and links are not modelled", b.Head);
                var keys = new List<U32Key>();
                foreach (var k in b.Keys.Where(k => k.StartsWith("match ", StringComparison.Ordinal)))
                {
                    var km = U32Match().Match(k);
                    if (!km.Success) throw new TcParseException("u32 key not understood (offmask, nexthdr?)", k);
                    keys.Add(new U32Key(uint.Parse(km.Groups[1].Value, NumberStyles.HexNumber), uint.Parse(km.Groups[2].Value, NumberStyles.HexNumber), int.Parse(km.Groups[3].Value, CultureInfo.InvariantCulture)));
                }
                var classid = Regex.Match(b.Head, @"\*?flowid (\S+)");
                cls = new ClsU32
                {
                    Keys = keys, SkipSw = b.Keys.Contains("skip_sw") || b.Head.Contains(" skip_sw", StringComparison.Ordinal),
                    ClassId = classid.Success && classid.Groups[1].Value != "not_in_hw" && !b.Head.Contains("terminal flowid", StringComparison.Ordinal) ? classid.Groups[1].Value : null,
                };
                break;
            }
            case "flower":
            {
                var words = b.Keys.Where(k => k is not ("not_in_hw" or "in_hw") && !k.StartsWith("eth_type ", StringComparison.Ordinal) && !k.StartsWith("in_hw_count", StringComparison.Ordinal))
                    .SelectMany(k => k.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
                handle = HeadHandle(b.Head);
                cls = TcFilterParser.ParseFlower(words, b.Protocol);
                break;
            }
            case "matchall":
                handle = HeadHandle(b.Head);
                cls = TcFilterParser.ParseMatchall(b.Keys.Where(k => k is not ("not_in_hw" or "in_hw") && !k.StartsWith("in_hw_count", StringComparison.Ordinal)).ToList());
                break;
            case "bpf": throw new TcParseException("cls_bpf from a snapshot: `tc filter show` names a loaded program (id, tag), not an object file the model could read (a lab's `bpf da obj FILE` is modelled, docs/bpf.md)", b.Kind);
            default: throw new TcParseException($"classifier '{b.Kind}' is not modelled", b.Kind);
        }
        return new TcFilter(dir, b.Pref, b.Protocol, handle, cls, actions, $"pref {b.Pref} {b.Kind} {b.Head}".Trim());
    }

    private static uint HeadHandle(string head)
    {
        var m = Regex.Match(head, @"^handle 0x([0-9a-f]+)");
        return m.Success ? uint.Parse(m.Groups[1].Value, NumberStyles.HexNumber) : 1;
    }

    private static TcAction Action(string kind, string args)
    {
        var words = args.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        switch (kind)
        {
            case "gact":
                // "gact action drop"
                if (words.Count < 2 || words[0] != "action") throw new TcParseException("gact line not understood", args);
                return TcFilterParser.ParseAction("gact", [words[1]]);
            case "mirred":
                var m = MirredText().Match(args);
                if (!m.Success) throw new TcParseException("mirred line not understood", args);
                return TcFilterParser.ParseAction("mirred", [m.Groups[1].Value.ToLowerInvariant(), m.Groups[2].Value.ToLowerInvariant(), "dev", m.Groups[3].Value, Control(m.Groups[4].Value)]);
            case "skbedit" or "vlan":
                if (words.Count > 0) words[^1] = Control(words[^1]);
                return TcFilterParser.ParseAction(kind, words);
            case "bpf":
                throw new TcParseException("act_bpf from a snapshot: `tc filter show` names a loaded program (id, tag), not an object file the model could read (a lab's `action bpf obj FILE` is modelled, docs/bpf.md)", kind);
            default:
                return TcFilterParser.ParseAction(kind, words); // refused with the kind's own message
        }
    }

    /// <summary>tc prints the controls as filter add takes them, and `stolen` for a redirect's default.</summary>
    private static string Control(string printed) => printed;
}
