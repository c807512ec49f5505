using PktFlow.Wire;

namespace PktFlow.Topology.Lab;

/// <summary>A lab file that cannot be applied: names the file, line, the command and the token.</summary>
public sealed class LabException(string file, int line, string command, string? token, string message)
    : Exception($"{file}:{line}: {message}{(token is null ? "" : $" (at '{token}')")}\n    {command}")
{
    public string File { get; } = file;
    public int Line { get; } = line;
    public string Command { get; } = command;
    public string? Token { get; } = token;
    public string Reason { get; } = message;
}

/// <summary>
/// Builds a <see cref="HostTopology"/> from a lab script: the iproute2 and sysctl commands people write
/// to build a host, applied in order with the kernel's own rules (see docs/lab-format.md). Commands
/// that shape the datapath but are not modelled yet (nft, iptables, tc, ip rule, ...) are recorded
/// and named in every result; unknown commands are warnings that name the line.
/// </summary>
public sealed partial class LabLoader
{
    public const string HostNamespace = "host";

    private string _file;
    private readonly Dictionary<string, NamespaceBuilder> _namespaces = new();
    private readonly List<string> _warnings = new();
    private LabCommand _cmd = null!;

    private readonly TopologyLoadOptions _options;

    private LabLoader(string file, TopologyLoadOptions? options)
    {
        _file = file;
        _options = options ?? TopologyLoadOptions.Strict;
        _connLabels = ReadConnLabels(file);
        _namespaces[HostNamespace] = new NamespaceBuilder(HostNamespace, loopbackUp: true) { ConnLabels = _connLabels, AllowUnsupported = _options.AllowUnsupported };
    }

    /// <summary>
    /// Conntrack label names: a connlabel.conf beside the lab file stands for the host's
    /// /etc/connlabel.conf (nft) and /etc/xtables/connlabel.conf (iptables' connlabel, conntrack -L)
    /// in every namespace of the lab. Without it rules name labels by bit number and listings show none.
    /// </summary>
    private readonly Netfilter.Conntrack.ConnLabelMap? _connLabels;

    private static Netfilter.Conntrack.ConnLabelMap? ReadConnLabels(string labFile)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(labFile));
        var path = dir is null ? null : Path.Combine(dir, "connlabel.conf");
        if (path is null || !File.Exists(path)) return null;
        try { return Netfilter.Conntrack.ConnLabelMap.Parse(File.ReadAllText(path), path); }
        catch (FormatException e) { throw new LabException(path, 0, "", null, e.Message); }
    }

    public static HostTopology LoadFile(string path) => Load(File.ReadAllText(path), path);

    public static HostTopology Load(string text, string fileName) => Load(text, fileName, (TopologyLoadOptions?)null);

    /// <param name="options">Null: <see cref="TopologyLoadOptions.Strict"/>.</param>
    public static HostTopology Load(string text, string fileName, TopologyLoadOptions? options) => Read(text, fileName, options).Build(text, fileName);

    private HostTopology Build(string text, string fileName)
    {
        List<NetNamespace> namespaces;
        try { namespaces = _namespaces.Values.Select(b => b.Build()).ToList(); }
        catch (TopologyException e) when (e.File is not null)
        {
            var source = e.File == fileName ? text : File.Exists(e.File) ? File.ReadAllText(e.File) : "";
            throw new LabException(e.File, e.Line, source.Split('\n').ElementAtOrDefault(e.Line - 1)?.Trim() ?? "", null, e.Message);
        }
        // loaded with AllowUnsupported: each rule the model skips is named once here and in every trace that meets it
        foreach (var ns in namespaces)
            foreach (var r in ns.Nft?.AllRules.Where(r => r.Unsupported is not null) ?? [])
                _warnings.Add($"unsupported (namespace {ns.Name}, rule {r.Chain} handle {r.Handle}, skipped when evaluated): {r.Unsupported}");
        return new HostTopology(namespaces, fileName, _warnings);
    }

    /// <summary>The nftables/iptables input each namespace of a lab file is given, in order (nothing is built).</summary>
    internal static Dictionary<string, IReadOnlyList<NftSource>> NftSourcesOf(string path) =>
        Read(File.ReadAllText(path), path, null)._namespaces.ToDictionary(x => x.Key, x => x.Value.NftSources);

    private static LabLoader Read(string text, string fileName, TopologyLoadOptions? options)
    {
        var loader = new LabLoader(fileName, options);
        loader.ApplyAll(ShellWords.Split(text).ToList());
        return loader;
    }

    private void ApplyAll(List<LabCommand> commands)
    {
        for (int i = 0; i < commands.Count; i++)
        {
            if (commands[i].Words[0] == "for") i = ForLoop(commands, i, new Dictionary<string, string>());
            else Apply(commands[i], HostNamespace);
        }
    }

    /// <summary>
    /// `for v in a b c; do CMD; ...; done` (nested loops too): the body is applied once per value with
    /// $v / ${v} replaced. Returns the index of the matching `done`.
    /// </summary>
    private int ForLoop(List<LabCommand> commands, int start, Dictionary<string, string> bound)
    {
        _cmd = commands[start];
        var head = Substitute(commands[start], bound).Words;
        if (head.Count < 3 || head[2] != "in") throw Error("expected 'for NAME in VALUES; do ...; done'", head.Count > 2 ? head[2] : null);
        var variable = head[1];
        var values = head.Skip(3).ToList();
        if (values.FirstOrDefault(v => v.Contains("$(", StringComparison.Ordinal)) is { } unknown)
            throw Error("command substitution $(...) is not supported: write the values out", unknown);
        // The body runs from the command after the head (its first word is 'do') to the matching 'done'.
        int depth = 0, end = -1;
        for (int j = start + 1; j < commands.Count; j++)
        {
            var first = commands[j].Words[0];
            if (first == "for") depth++;
            if (first == "done" && depth-- == 0) { end = j; break; }
        }
        if (end < 0) throw Error("'for' without a matching 'done'");
        var body = commands.Skip(start + 1).Take(end - start - 1).ToList();
        if (body.Count == 0 || body[0].Words[0] != "do") throw Error("expected 'do' after the loop's values");
        body[0] = body[0] with { Words = body[0].Words.Skip(1).ToList() };
        foreach (var value in values) ApplyBody(body, new Dictionary<string, string>(bound) { [variable] = value });
        return end;
    }

    /// <summary>`$(seq LAST)`, `$(seq FIRST LAST)`, `$(seq FIRST STEP LAST)` with integer literals: the numbers seq prints, else null.</summary>
    internal static IEnumerable<string>? Seq(string word)
    {
        if (!word.StartsWith("$(seq ", StringComparison.Ordinal) || !word.EndsWith(')')) return null;
        var args = word[6..^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var n = args.Select(a => long.TryParse(a, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : (long?)null).ToList();
        if (n.Count is < 1 or > 3 || n.Any(x => x is null)) return null;
        var (first, step, last) = n.Count switch { 1 => (1L, 1L, n[0]!.Value), 2 => (n[0]!.Value, 1L, n[1]!.Value), _ => (n[0]!.Value, n[1]!.Value, n[2]!.Value) };
        if (step == 0 || Math.Abs((last - first) / step) > 100_000) return null;
        var values = new List<string>();
        for (long v = first; step > 0 ? v <= last : v >= last; v += step) values.Add(v.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return values;
    }

    /// <summary>
    /// The shell variables of a traffic script the reader evaluates as it goes: assignments at its top
    /// level and in loop bodies (`n=$((n + 1))`, `port=${spec%%:*}`), a loop's variable.
    /// </summary>
    private readonly Dictionary<string, string> _shell = new(StringComparer.Ordinal);

    /// <summary>
    /// A command of only `NAME=value` words (or `local NAME=value...` in a function) sets the names in
    /// <paramref name="scope"/>, each value evaluated there first. A value the reader cannot evaluate
    /// leaves its name unknown, so a later use is named in a warning rather than given a stale value.
    /// </summary>
    private bool Assign(LabCommand cmd, Dictionary<string, string> scope)
    {
        var w = cmd.Words;
        if (w[0].EndsWith('(') && ShellWords.IsArrayStart(w[0][..^1], out var array, out bool append))
        {
            // `NAME=(...)` / `NAME+=(...)`: the elements evaluated now, in order
            var key = array + "[@]";
            var elements = Substitute(cmd with { Words = w.Skip(1).ToList() }, scope).Words.ToList();
            if (append && scope.TryGetValue(key, out var had) && had != ShellWords.EmptyArray.ToString()) elements.Insert(0, had);
            scope[key] = elements.Count == 0 ? ShellWords.EmptyArray.ToString() : string.Join(ShellWords.ArraySeparator, elements);
            return true;
        }
        int from = w[0] == "local" ? 1 : 0;
        if (from == w.Count || !w.Skip(from).All(x => ShellWords.IsAssignment(x, out _, out _))) return false;
        foreach (var word in w.Skip(from))
        {
            ShellWords.IsAssignment(word, out var name, out var raw);
            var value = Expand(raw, scope, out _);
            if (value.Contains("${", StringComparison.Ordinal) || value.Contains("$(", StringComparison.Ordinal)) scope.Remove(name);
            else scope[name] = value;
        }
        return true;
    }

    /// <summary>A loop's or a function's commands, with <paramref name="bound"/> substituted.</summary>
    private void ApplyBody(List<LabCommand> body, Dictionary<string, string> bound)
    {
        for (int k = 0; k < body.Count; k++)
        {
            if (body[k].Words.Count == 0) continue;
            if (body[k].Words[0] == "for") { k = ForLoop(body, k, bound); continue; }
            Apply(Substitute(body[k], bound), HostNamespace);
        }
    }

    /// <summary>
    /// <paramref name="c"/> with its words expanded in <paramref name="bound"/>: "${NAME[@]}" is a word per
    /// element ("${EMPTY[@]}" none), each as it was assigned (not expanded again); in a traffic script a
    /// command substitution's output outside double quotes is split at white space, as bash splits it.
    /// </summary>
    private LabCommand Substitute(LabCommand c, Dictionary<string, string> bound) => c with
    {
        Words = c.Words.SelectMany(w => w.StartsWith("${", StringComparison.Ordinal) && w.EndsWith("[@]}", StringComparison.Ordinal) && ShellParameter.Evaluate(w[2..^1], bound) is { } elements
                ? elements == ShellWords.EmptyArray.ToString() ? [] : elements.Split(ShellWords.ArraySeparator)
                : Expand(w, bound, out var split) is var x && split ? x.Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries) : [x]).ToList(),
    };

    /// <summary>
    /// One word expanded in <paramref name="scope"/>: `${...}` (<see cref="ShellParameter"/>) and `$((...))`
    /// (<see cref="ShellArithmetic"/>) in its text, and in a traffic script each command substitution
    /// replaced by its output (<see cref="CommandOutput"/>), which is not expanded again. One the reader
    /// cannot evaluate is left as written. <paramref name="split"/>: an unquoted substitution printed white space.
    /// </summary>
    private string Expand(string word, Dictionary<string, string> scope, out bool split)
    {
        split = false;
        if (!word.Contains("$(", StringComparison.Ordinal)) return ShellArithmetic.Expand(ShellParameter.Expand(word, scope), scope);
        var result = new System.Text.StringBuilder();
        int from = 0;
        for (int i = 0; i < word.Length; i++)
        {
            if (word[i] != '$' || ShellWords.SubstitutionEnd(word, i) is not (> 0 and var close)) continue;
            bool quoted = i > 0 && word[i - 1] == ShellWords.Quoted;
            var text = word[from..(quoted ? i - 1 : i)];
            result.Append(ShellArithmetic.Expand(ShellParameter.Expand(text, scope), scope));
            var output = _trafficOnly ? CommandOutput(word[(i + 2)..close], scope) : null;
            result.Append(output ?? word[i..(close + 1)]);
            split |= !quoted && output is not null && output.AsSpan().IndexOfAny(' ', '\t', '\n') >= 0;
            from = close + 1;
            i = close;
        }
        result.Append(ShellArithmetic.Expand(ShellParameter.Expand(word[from..], scope), scope));
        return result.ToString();
    }

    private LabException Error(string message, string? token = null) => new(_file, _cmd.Line, _cmd.Text, token, message);
    private void Warn(string message) => _warnings.Add($"{_file}:{_cmd.Line}: {message}: {_cmd.Text}");

    private void Apply(LabCommand cmd, string ns)
    {
        _cmd = cmd;
        if (_trafficOnly)
        {
            // the words were expanded by Substitute
            if (cmd.Words.Count == 0 || CallFunction(cmd)) return;
            // inside a command substitution: a program whose output the reader does not know
            if (_capture is not null && cmd.Words[0] != "sleep") _captureSpoiled = true;
            TrafficCommand(cmd.Words.ToList(), ns);
            return;
        }
        if (cmd.Text.IndexOf("$(", StringComparison.Ordinal) is >= 0 and var at)
            throw Error(cmd.Text.AsSpan(at).StartsWith("$((") ? "shell arithmetic $((...)) is not supported: write the values out"
                : "command substitution $(...) is not supported: write the value out", cmd.Text[at..]);
        var w = cmd.Words.ToList();
        if (w.Any(x => x.Contains("${", StringComparison.Ordinal)))
            throw Error("undefined variable", w.First(x => x.Contains("${", StringComparison.Ordinal)));
        try
        {
            // Wrappers that only bound or detach a command: timeout 120 socat ..., nohup, setsid.
            int skip = 0;
            while (skip < w.Count && w[skip] is "timeout" or "nohup" or "setsid" or "exec")
            {
                skip++;
                if (w[skip - 1] == "timeout")
                    while (skip < w.Count && (w[skip].StartsWith('-') || char.IsDigit(w[skip][0]))) skip++;
            }
            if (skip > 0) w = w.Skip(skip).ToList();
            _owner = (0, 0); // the lab's commands run as root
            if (w.Count > 0 && w[0] is "setpriv" or "runuser") w = RunAs(w);
            if (w.Count == 0) return;
            switch (w[0])
            {
                case "ip": Ip(w.Skip(1).ToList(), ns); break;
                case "socat" when !Socat(w, ns): Warn("socat without a listening address: not a server, ignored"); break;
                case "socat": break;
                case "nc" or "ncat" or "netcat": Netcat(w, ns); break;
                case "sysctl": Sysctl(w.Skip(1).ToList(), ns); break;
                case "echo" when w.Count == 4 && w[2] == ">" && w[3].StartsWith("/proc/sys/", StringComparison.Ordinal):
                    _namespaces[ns].Sysctl(w[3]["/proc/sys/".Length..].Replace('/', '.'), w[1]); break;
                case "nft": Nft(w, ns); break;
                case "nfct": Nfct(w, ns); break;
                case "iptables-restore" or "ip6tables-restore" or "iptables-nft-restore" or "ip6tables-nft-restore" or "iptables-legacy-restore":
                    IptablesRestore(w, ns); break;
                case "bridge" when BridgeLinkSet(w, ns) || VxlanBridgeFdb(w, ns) || BridgeFdb(w, ns) || BridgeVlan(w, ns): break;
                case "iptables" or "ip6tables" or "iptables-nft" or "ip6tables-nft":
                    IptablesCommand(w, ns); break;
                case "tc": Tc(w, ns); break;
                case "ipset": Ipset(w, ns); break;
                case "bpftool": Bpftool(w, ns); break;
                case "arptables" or "ebtables" or "bridge" or "ethtool" or "iptables-legacy" or "ip6tables-legacy":
                    _namespaces[ns].NoteUnmodelled($"{_file}:{cmd.Line}: {cmd.Text}{(cmd.HereDoc is null ? "" : $" (with a {cmd.HereDoc.Count(c => c == '\n')}-line here-document)")}");
                    Warn($"'{w[0]}' is not modelled yet; its effect is not evaluated");
                    break;
                case "modprobe" when w.Skip(1).Contains("ipip"): LoadIpipModule(); break;
                case "set" or "sleep" or "true" or ":" or "wait" or "#!/bin/sh" or "#!/bin/bash" or "export" or "modprobe":
                    break;
                default:
                    Warn($"unknown command '{w[0]}' ignored");
                    break;
            }
        }
        catch (TopologyException e) { throw Error(e.Message); }
    }

    /// <summary>The uid and gid the current command runs as (setpriv --reuid/--regid); sockets it opens are theirs.</summary>
    private (uint Uid, uint Gid) _owner;

    /// <summary>
    /// setpriv [--reuid=U] [--regid=G] [--clear-groups|--keep-groups|--init-groups] ... COMMAND: the
    /// command runs as that user and group (numeric ids: the lab does not know the host's user names).
    /// runuser -u root COMMAND too; other users need their ids, so runuser names are refused.
    /// </summary>
    private List<string> RunAs(List<string> w)
    {
        int i = 1;
        if (w[0] == "runuser")
        {
            for (; i < w.Count && w[i].StartsWith('-'); i++)
            {
                if (w[i] == "--") { i++; break; }
                if (w[i] is "-u" or "--user" && i + 1 < w.Count)
                {
                    var user = w[++i];
                    if (user != "root") throw Error($"runuser -u {user}: user names are not resolved; write setpriv --reuid=UID --regid=GID", user);
                }
            }
            return w.Skip(i).ToList();
        }
        for (; i < w.Count && w[i].StartsWith('-'); i++)
        {
            if (w[i] == "--") { i++; break; }
            var (opt, val) = w[i].IndexOf('=') is > 0 and var eq ? (w[i][..eq], w[i][(eq + 1)..]) : (w[i], (string?)null);
            bool uid = opt is "--reuid" or "--ruid" or "--euid", gid = opt is "--regid" or "--rgid" or "--egid";
            if (!uid && !gid) continue; // --clear-groups, --init-groups, --inh-caps=..., --no-new-privs
            val ??= i + 1 < w.Count ? w[++i] : throw Error($"setpriv {opt} needs a value", opt);
            if (!uint.TryParse(val, out var id)) throw Error($"setpriv {opt} {val}: user and group names are not resolved; write the numeric id", val);
            if (uid) _owner.Uid = id; else _owner.Gid = id;
        }
        return w.Skip(i).ToList();
    }

    /// <summary>socat's listening addresses: TCP[46]-LISTEN:P, TCP-L:P, UDP[46]-RECV:P, UDP[46]-LISTEN:P, UDP-RECVFROM:P (,bind=A ,pf=ip6); false when it has none.</summary>
    private bool Socat(List<string> w, string ns)
    {
        bool v6Flag = w.Contains("-6");
        foreach (var word in w.Skip(1).Where(x => !x.StartsWith('-')))
        {
            var colon = word.IndexOf(':');
            if (colon < 0) continue;
            var kind = word[..colon].ToUpperInvariant();
            SocketProtocol? proto = kind switch
            {
                "TCP-LISTEN" or "TCP-L" or "TCP4-LISTEN" or "TCP4-L" or "TCP6-LISTEN" or "TCP6-L" => SocketProtocol.Tcp,
                "UDP-RECV" or "UDP4-RECV" or "UDP6-RECV" or "UDP-LISTEN" or "UDP-L" or "UDP4-LISTEN" or "UDP6-LISTEN" or "UDP-RECVFROM" or "UDP4-RECVFROM" or "UDP6-RECVFROM" => SocketProtocol.Udp,
                _ => null,
            };
            if (proto is null) continue;
            var rest = word[(colon + 1)..].Split(',');
            if (!int.TryParse(rest[0], out var port) || port is < 1 or > 65535) throw Error("socat listening address needs a port", word);
            IpAddr? bind = null;
            bool v6 = kind.Contains('6') || v6Flag || rest.Any(o => o is "pf=ip6" or "pf=ipv6");
            foreach (var o in rest.Skip(1))
                if (o.StartsWith("bind=", StringComparison.Ordinal))
                    bind = IpAddr.TryParse(o[5..].Trim('[', ']'), out var a) ? a : throw Error("bad bind address", o);
            var socket = new ListeningSocket(proto.Value, port, bind, v6 ? IpFamily.V6 : IpFamily.V4, $"{_file}:{_cmd.Line}: socat")
            {
                Uid = _owner.Uid, Gid = _owner.Gid, Fork = rest.Skip(1).Contains("fork"),
                FirstDatagram = kind.Contains("LISTEN") || kind.EndsWith("-L", StringComparison.Ordinal) ? UdpFirstDatagram.Connects
                    : kind.Contains("RECVFROM") ? UdpFirstDatagram.Closes : UdpFirstDatagram.Stays,
            };
            _namespaces[ns].AddSocket(SocatSocketOptions.Apply(socket, rest.Skip(1), Warn, (m, token) => Error(m, token)));
            return true;
        }
        return false;
    }

    /// <summary>nc -l [-u] [-k] [-4|-6] [-p] PORT [or ADDRESS PORT].</summary>
    private void Netcat(List<string> w, string ns)
    {
        bool listen = false, udp = false, v6 = false, keep = false;
        var operands = new List<string>();
        for (int i = 1; i < w.Count; i++)
        {
            var x = w[i];
            if (x.StartsWith('-') && x.Length > 1)
            {
                listen |= x.Contains('l');
                udp |= x.Contains('u');
                v6 |= x.Contains('6');
                keep |= x.Contains('k');
                if (x.EndsWith('p') || x is "-s" or "-w" or "-q" or "-i" or "-W") { if (x.EndsWith('p') && i + 1 < w.Count) operands.Add(w[++i]); else i++; }
            }
            else operands.Add(x);
        }
        if (!listen) { Warn("nc without -l is a client, ignored"); return; }
        var portText = operands.LastOrDefault() ?? throw Error("nc -l needs a port");
        if (!int.TryParse(portText, out var port) || port is < 1 or > 65535) throw Error("nc -l needs a port", portText);
        IpAddr? bind = operands.Count >= 2 && IpAddr.TryParse(operands[^2], out var a) ? a : null;
        // OpenBSD nc (checked with ss): without -k it takes one connection and closes its listener, and
        // in UDP connects to its first datagram's sender; with -k it keeps listening, unconnected
        _namespaces[ns].AddSocket(new ListeningSocket(udp ? SocketProtocol.Udp : SocketProtocol.Tcp, port, bind, v6 ? IpFamily.V6 : IpFamily.V4, $"{_file}:{_cmd.Line}: nc")
        {
            Uid = _owner.Uid, Gid = _owner.Gid, Fork = keep, FirstDatagram = keep ? UdpFirstDatagram.Stays : UdpFirstDatagram.Connects,
        });
    }

    /// <summary>
    /// nft -f FILE, nft -f - with a here-document, and single commands (nft add rule ...): the text is
    /// kept per namespace, with where it came from, and compiled into one ruleset when the lab is built.
    /// </summary>
    private void Nft(List<string> w, string ns)
    {
        var args = w.Skip(1).Where(a => a is not ("-a" or "--handle" or "-e" or "--echo" or "-c" or "--check")).ToList();
        // -j: nft reads the input as JSON when it is JSON, else as text (without -j, JSON is a syntax error)
        bool json = args.RemoveAll(a => a is "-j" or "--json") > 0;
        NftSource Source(string text, string file, int line) =>
            new(text, file, line) { Kind = json && Netfilter.Nftables.NftRuleset.LooksLikeJson(text) ? "nft-json" : "nft" };
        if (args.Count >= 2 && args[0] is "-f" or "--file")
        {
            if (args[1] == "-")
            {
                if (_cmd.HereDoc is null) throw Error("nft -f - reads standard input: give the ruleset as a here-document (<<EOF)", "-");
                _namespaces[ns].AddNftSource(Source(_cmd.HereDoc, _file, _cmd.Line + 1));
                return;
            }
            var path = Path.IsPathRooted(args[1]) ? args[1] : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(_file)) ?? ".", args[1]);
            if (!File.Exists(path)) throw Error($"nft -f: {path} does not exist", args[1]);
            _namespaces[ns].AddNftSource(Source(File.ReadAllText(path), path, 1));
            return;
        }
        if (args.Count == 0) throw Error("nft needs a command");
        if (args[0] is "list" or "monitor" or "describe") return; // reads, changes nothing
        // One command on the command line, e.g. nft add rule inet filter input tcp dport 22 accept
        if (json && args.Count == 1 && Netfilter.Nftables.NftRuleset.LooksLikeJson(args[0])) { _namespaces[ns].AddNftSource(Source(args[0], _file, _cmd.Line)); return; }
        // nft joins its arguments with spaces: one quoted argument is the whole command line ('add table t; add chain ...')
        _namespaces[ns].AddNftSource(new NftSource(args.Count == 1 ? args[0] : string.Join(' ', args.Select(a => a.Contains(' ') && !a.StartsWith('{') ? $"\"{a}\"" : a)), _file, _cmd.Line));
    }

    /// <summary>iptables-restore with a here-document or a file: translated as iptables-nft does and evaluated.</summary>
    private void IptablesRestore(List<string> w, string ns)
    {
        bool v6 = w[0].StartsWith("ip6", StringComparison.Ordinal);
        var file = w.Skip(1).FirstOrDefault(a => !a.StartsWith('-') && a != "<");
        string text; string origin; int first;
        if (_cmd.HereDoc is { } doc) { text = doc; origin = _file; first = _cmd.Line + 1; }
        else if (file is not null)
        {
            var path = Path.IsPathRooted(file) ? file : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(_file)) ?? ".", file);
            if (!File.Exists(path)) throw Error($"{w[0]}: {path} does not exist", file);
            text = File.ReadAllText(path); origin = path; first = 1;
        }
        else throw Error($"{w[0]} reads standard input: give the rules as a here-document (<<EOF) or a file");
        var state = _namespaces[ns].Iptables(v6);
        int notes = state.Notes.Count;
        try { state.Restore(text, origin, first, noflush: w.Contains("-n") || w.Contains("--noflush")); }
        catch (Netfilter.Iptables.IptablesParseException e) { throw IptablesError(e); }
        foreach (var n in state.Notes.Skip(notes)) _warnings.Add(n);
    }

    /// <summary>A single iptables / ip6tables command (-A -I -D -P -N -F -X), applied in script order.</summary>
    private void IptablesCommand(List<string> w, string ns)
    {
        try { _namespaces[ns].Iptables(w[0].StartsWith("ip6", StringComparison.Ordinal)).Apply(w.Skip(1).ToList(), _file, _cmd.Line); }
        catch (Netfilter.Iptables.IptablesParseException e) { throw IptablesError(e); }
    }

    private LabException IptablesError(Netfilter.Iptables.IptablesParseException e) =>
        new(e.FileName, e.Line, _cmd.Text, e.Token, e.Message[(e.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..]);

    private void Sysctl(List<string> args, string ns)
    {
        foreach (var a in args)
        {
            if (a.StartsWith('-')) { if (a is "-w" or "-q" or "-e") continue; throw Error($"sysctl option {a} is not supported", a); }
            int eq = a.IndexOf('=');
            if (eq <= 0) throw Error("expected key=value", a);
            if (Netfilter.Conntrack.ConntrackSysctls.Problem(Sysctls.Normalize(a[..eq]), a[(eq + 1)..]) is { } bad) throw Error(bad, a);
            _namespaces[ns].Sysctl(a[..eq], a[(eq + 1)..]);
        }
    }

    private void Ip(List<string> a, string ns)
    {
        IpFamily? family = null;
        int i = 0;
        for (; i < a.Count && a[i].StartsWith('-'); i++)
        {
            switch (a[i])
            {
                case "-4": family = IpFamily.V4; break;
                case "-6": family = IpFamily.V6; break;
                case "-n" or "-netns" or "--netns":
                    ns = Need(a, ++i, "namespace name");
                    if (!_namespaces.ContainsKey(ns)) throw Error($"Cannot open network namespace \"{ns}\": No such file or directory", ns);
                    break;
                case "-d" or "-details" or "-j" or "-json" or "-s" or "-br" or "-c" or "-o" or "-oneline": break;
                default: throw Error($"ip option {a[i]} is not supported", a[i]);
            }
        }
        if (i >= a.Count) throw Error("ip needs an object (link, addr, route, netns, ...)");
        var obj = a[i];
        var rest = a.Skip(i + 1).ToList();
        var b = _namespaces[ns];
        switch (obj)
        {
            case "link" or "l" or "li": Link(rest, b); break;
            case "address" or "addr" or "a" or "ad": Addr(rest, b, family); break;
            case "route" or "r" or "ro" or "rou": RouteCmd(rest, b, family); break;
            case "netns": Netns(rest); break;
            case "rule" or "ru": Rule(rest, b, family); break;
            case "neighbour" or "neighbor" or "neigh" or "n": Neigh(rest, b); break;
            case "fou": Fou(rest, b, family); break;
            case "nexthop" or "nh": NexthopCmd(rest, b, family); break;
            case "tunnel" or "xfrm" or "mroute":
                b.NoteUnmodelled($"{_file}:{_cmd.Line}: {_cmd.Text}");
                Warn($"'ip {obj}' is not modelled yet; its effect is not evaluated");
                break;
            default: throw Error($"unknown ip object '{obj}'", obj);
        }
    }

    private string Need(List<string> a, int i, string what) =>
        i < a.Count ? a[i] : throw Error($"missing {what}", a.Count > 0 ? a[^1] : null);

    /// <summary>ip [-6] rule add|del [not] [from P] [to P] [iif D] [oif D] [fwmark M[/K]] [priority N] lookup T | unreachable | prohibit | blackhole | goto N | nop [suppress_prefixlength N].</summary>
    private void Rule(List<string> a, NamespaceBuilder b, IpFamily? family)
    {
        var verb = Need(a, 0, "rule command");
        if (verb is "show" or "list" or "ls") return;
        if (verb is not ("add" or "del" or "delete")) throw Error($"ip rule {verb} is not supported", verb);
        IpPrefix? from = null, to = null;
        string? iif = null, oif = null;
        uint? mark = null; uint mask = 0xFFFF_FFFF, table = RouteTables.Main, gotoTarget = 0;
        uint? priority = null; int? suppress = null;
        bool not = false;
        var action = Routing.FibRuleAction.Lookup;
        for (int i = 1; i < a.Count; i++)
        {
            var t = a[i];
            switch (t)
            {
                case "not": not = true; break;
                case "from": var f = Need(a, ++i, "source"); if (f != "all") from = ParsePrefix(f, family); break;
                case "to": var d = Need(a, ++i, "destination"); if (d != "all") to = ParsePrefix(d, family); break;
                case "iif" or "dev": iif = Need(a, ++i, "device"); break;
                case "oif": oif = Need(a, ++i, "device"); break;
                case "fwmark":
                {
                    var m = Need(a, ++i, "mark").Split('/');
                    mark = ParseNumber(m[0]);
                    if (m.Length > 1) mask = ParseNumber(m[1]);
                    break;
                }
                case "priority" or "preference" or "pref" or "prio": priority = ParseNumber(Need(a, ++i, "priority")); break;
                case "lookup" or "table":
                    var tn = Need(a, ++i, "table");
                    if (!RouteTables.TryParse(tn, out table)) throw Error("bad table id", tn);
                    action = Routing.FibRuleAction.Lookup; break;
                case "unreachable": action = Routing.FibRuleAction.Unreachable; break;
                case "prohibit": action = Routing.FibRuleAction.Prohibit; break;
                case "blackhole": action = Routing.FibRuleAction.Blackhole; break;
                case "nop": action = Routing.FibRuleAction.Nop; break;
                case "goto": action = Routing.FibRuleAction.Goto; gotoTarget = ParseNumber(Need(a, ++i, "priority")); break;
                case "suppress_prefixlength": suppress = (int)ParseNumber(Need(a, ++i, "length")); break;
                case "protocol" or "proto" or "realms" or "uidrange" or "ipproto" or "sport" or "dport" or "tos" or "dsfield" or "l3mdev" or "suppress_ifgroup":
                    throw Error($"ip rule selector '{t}' is not modelled yet", t);
                default: throw Error("unexpected word in ip rule", t);
            }
        }
        var fam = family ?? from?.Family ?? to?.Family ?? IpFamily.V4;
        // fib_nl2rule: backward jumps are refused, so rules cannot loop; without `priority` the rule's own is
        // fib_default_rule_pref's, given first (measured on 6.18: `ip rule add goto 32000` is refused)
        if (verb == "add" && action == Routing.FibRuleAction.Goto && gotoTarget <= (priority ?? b.DefaultRulePriority(family ?? from?.Family ?? to?.Family ?? IpFamily.V4)))
            throw Error("goto must jump forward, to a priority above the rule's own (RTNETLINK answers: Backward goto not supported)", gotoTarget.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (verb is "del" or "delete")
        {
            b.DeleteRule(r => r.Family == fam && (priority is null || r.Priority == priority) && r.Table == table && Equals(r.From, from) && Equals(r.To, to) && r.FwMark == mark);
            return;
        }
        b.AddRule(new Routing.FibRule
        {
            Family = fam, Priority = priority ?? 0, Not = not, From = from, To = to, Iif = iif, Oif = oif, FwMark = mark, FwMask = mask,
            Action = action, Table = table, GotoTarget = gotoTarget, SuppressPrefixLength = suppress,
        }, priority is not null);
    }

    /// <summary>ip neigh add|replace ADDRESS lladdr MAC dev DEV [nud STATE]: a static entry; `proxy ADDRESS dev DEV`: a proxy entry.</summary>
    private void Neigh(List<string> a, NamespaceBuilder b)
    {
        var verb = Need(a, 0, "neigh command");
        if (verb is "show" or "list" or "ls" or "flush") return;
        if (verb is not ("add" or "replace" or "change")) throw Error($"ip neigh {verb} is not supported", verb);
        IpAddr? address = null; MacAddress? mac = null; string? dev = null; string state = "permanent";
        bool proxy = false;
        for (int i = 1; i < a.Count; i++)
        {
            var t = a[i];
            switch (t)
            {
                case "lladdr": mac = ParseMac(Need(a, ++i, "MAC address")); break;
                case "dev": dev = Need(a, ++i, "device"); break;
                case "nud": state = Need(a, ++i, "state"); break;
                case "to": address = IpAddr.TryParse(Need(a, ++i, "address"), out var x) ? x : throw Error("bad address", a[i]); break;
                case "proxy": proxy = true; break;
                case "router" or "extern_learn": break;
                default:
                    if (address is null && IpAddr.TryParse(t, out var y)) { address = y; break; }
                    throw Error("unexpected word in ip neigh", t);
            }
        }
        if (address is null || dev is null) throw Error("ip neigh add needs an address and 'dev DEVICE'");
        if (proxy && mac is not null) throw Error("unsupported: a proxy entry with lladdr", "lladdr");
        if (proxy && address.Value.IsV6) throw Error("unsupported: IPv6 proxy entries (ndisc_recv_ns with proxy_ndp) are not modelled", "proxy");
        b.AddNeighbour(new Neighbour(dev, address.Value, mac, proxy ? Neighbour.ProxyState : state));
    }

    private uint ParseNumber(string s) =>
        s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && uint.TryParse(s[2..], System.Globalization.NumberStyles.HexNumber, null, out var h) ? h
        : uint.TryParse(s, out var v) ? v : throw Error("not a number", s);

    private void Netns(List<string> a)
    {
        var verb = Need(a, 0, "netns command");
        switch (verb)
        {
            case "add":
            {
                var name = Need(a, 1, "namespace name");
                if (_namespaces.ContainsKey(name)) throw Error($"Cannot create namespace file \"/run/netns/{name}\": File exists", name);
                _namespaces[name] = new NamespaceBuilder(name, loopbackUp: false) { ConnLabels = _connLabels, AllowUnsupported = _options.AllowUnsupported };
                if (_ipipLoaded) AddFallbackTunnel(_namespaces[name]);
                break;
            }
            case "exec":
            {
                var name = Need(a, 1, "namespace name");
                if (!_namespaces.ContainsKey(name)) throw Error($"Cannot open network namespace \"{name}\"", name);
                if (a.Count < 3) throw Error("ip netns exec needs a command");
                var saved = _cmd;
                Apply(_cmd with { Words = a.Skip(2).ToList() }, name);
                _cmd = saved;
                break;
            }
            case "del" or "delete":
                Warn("namespace deletion ignored (the model keeps what was built)");
                break;
            default: throw Error($"ip netns {verb} is not supported", verb);
        }
    }

    private void Link(List<string> a, NamespaceBuilder b)
    {
        var verb = Need(a, 0, "link command");
        switch (verb)
        {
            case "add": LinkAdd(a.Skip(1).ToList(), b); break;
            case "set": LinkSet(a.Skip(1).ToList(), b); break;
            case "del" or "delete":
                throw Error("ip link del is not supported yet; build the lab without it", verb);
            case "show" or "list" or "ls": break;
            default: throw Error($"ip link {verb} is not supported", verb);
        }
    }

    private bool OnOff(string v, string what) => v switch { "on" => true, "off" => false, _ => throw Error($"{what} takes on or off", v) };

    /// <summary>A namespace the lab made, by the name a command gives (`netns NS`).</summary>
    private NamespaceBuilder Namespace(string name) =>
        _namespaces.TryGetValue(name, out var nb) ? nb : throw Error($"Cannot find namespace {name}", name);

    /// <summary>A device group as ip link takes it: a number, or "default" (0, from /etc/iproute2/group).</summary>
    private uint DevGroup(string w) =>
        w == "default" ? 0 : uint.TryParse(w, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var g) ? g
        : throw Error($"Invalid group \"{w}\" (a number or default)", w);

    private void LinkAdd(List<string> a, NamespaceBuilder b)
    {
        string? name = null, kind = null, peer = null, peerNs = null, devNs = null, link = null;
        MacAddress? mac = null, peerMac = null;
        int? mtu = null, peerMtu = null;
        uint? group = null;
        bool inPeer = false;
        IpTunnelParameters? tunnel = null;
        List<string>? vxlan = null;
        int typeAt = a.IndexOf("type");
        if (typeAt >= 0 && typeAt + 1 < a.Count && a[typeAt + 1] == "ipip")
        {
            tunnel = IpipOptions(a.Skip(typeAt + 2).ToList());
            a = a.Take(typeAt + 2).ToList();
        }
        if (typeAt >= 0 && typeAt + 1 < a.Count && a[typeAt + 1] == "vxlan")
        {
            vxlan = a.Skip(typeAt + 2).ToList();
            a = a.Take(typeAt + 2).ToList();
        }
        for (int i = 0; i < a.Count; i++)
        {
            var t = a[i];
            switch (t)
            {
                case "name" or "dev": if (inPeer) peer = Need(a, ++i, "peer name"); else name = Need(a, ++i, "device name"); break;
                case "type": kind = Need(a, ++i, "link type"); break;
                case "peer": inPeer = true; break;
                case "address": var m = ParseMac(Need(a, ++i, "MAC address")); if (inPeer) peerMac = m; else mac = m; break;
                // each end of a veth takes only the MTU given with it (checked on 6.18)
                case "mtu": var u = ParseInt(Need(a, ++i, "MTU")); if (inPeer) peerMtu = u; else mtu = u; break;
                case "netns": if (inPeer) peerNs = Need(a, ++i, "namespace"); else devNs = Need(a, ++i, "namespace"); break;
                case "link": link = Need(a, ++i, "lower device"); break;
                case "group" when !inPeer: group = DevGroup(Need(a, ++i, "group")); break;
                case "txqueuelen" or "qlen" or "numtxqueues" or "numrxqueues" or "group": i++; break;
                default:
                    if (kind is not null && !inPeer && kind != "veth") { i = a.Count; break; } // type-specific options (vlan id, vxlan ...)
                    if (name is null && !inPeer && !t.StartsWith('-')) { name = t; break; }
                    if (inPeer && peer is null) { peer = t; break; }
                    throw Error("unexpected word in ip link add", t);
            }
        }
        if (name is null) throw Error("ip link add needs a device name");
        var devKind = kind switch
        {
            "veth" => DeviceKind.Veth, "bridge" => DeviceKind.Bridge, "dummy" => DeviceKind.Dummy, "vlan" => DeviceKind.Vlan,
            "vxlan" => DeviceKind.Vxlan, "macvlan" => DeviceKind.Macvlan, "ipip" => DeviceKind.Ipip, null => throw Error("ip link add needs 'type KIND'"),
            _ => DeviceKind.Other,
        };
        if (devKind == DeviceKind.Other) Warn($"link type '{kind}' is not modelled; the device exists but behaves as a plain device");
        // `netns NS` before the type: rtnl_newlink makes the device in NS (its ifindex is NS's), while a
        // lower device (`link DEV`) is still looked up where the command runs (rtnl_newlink_link_net)
        var lowerB = b;
        if (devNs is not null)
        {
            if (devKind is DeviceKind.Vlan or DeviceKind.Vxlan or DeviceKind.Ipip)
                throw Error($"unsupported: ip link add {kind} with netns (a tunnel's socket or a VLAN's lower device would stay in {b.Name}); make it, then ip link set {name} netns {devNs}", devNs);
            b = Namespace(devNs);
        }
        if (devKind == DeviceKind.Veth)
        {
            if (peer is null) throw Error("veth needs 'peer name NAME'");
            var peerBuilder = peerNs is null ? lowerB : Namespace(peerNs);
            // veth_newlink registers the peer first: in the same namespace it gets the lower ifindex
            peerBuilder.AddDevice(peer, devKind, peerMac, peerMtu, name, b.Name);
            b.AddDevice(name, devKind, mac, mtu, peer, peerBuilder.Name);
        }
        else if (devKind == DeviceKind.Ipip) AddIpip(b, name, mtu, tunnel!);
        else if (devKind == DeviceKind.Vxlan) AddVxlan(b, name, vxlan!, mac, mtu);
        else if (devKind == DeviceKind.Vlan) AddVlan(b, name, link, a.Skip(typeAt + 2).ToList(), mac, mtu);
        else if (devKind == DeviceKind.Macvlan) AddMacvlan(b, lowerB, name, link, a.Skip(typeAt + 2).ToList(), mac, mtu);
        else b.AddDevice(name, devKind, mac, mtu);
        if (group is { } g) b.SetGroup(name, g);
        if (devKind == DeviceKind.Bridge && BridgeOptions(a, typeAt + 2, b, name) is { } other)
            b.NoteUnmodelled($"{_file}:{_cmd.Line}: bridge {name} options {other}");
    }

    /// <summary>
    /// A bridge's options from <paramref name="start"/> on, applied in br_changelink's order: the timers
    /// (forward_delay, hello_time, max_age, ageing_time), stp_state
    /// (IFLA_BR_STP_STATE), vlan_filtering, vlan_protocol, vlan_default_pvid. Returns the options the
    /// model does not evaluate (null when none), which the caller keeps as an unmodelled line.
    /// </summary>
    private string? BridgeOptions(List<string> a, int start, NamespaceBuilder b, string bridge)
    {
        int? stp = null, filtering = null, defaultPvid = null, priority = null;
        long? forwardDelay = null, hello = null, maxAge = null, ageing = null;
        ushort? protocol = null;
        var other = new List<string>();
        for (int i = start; i < a.Count; i++)
        {
            switch (a[i])
            {
                case "stp_state": stp = ParseInt(Need(a, ++i, "STP state")); break;
                case "priority": priority = ParseInt(Need(a, ++i, "bridge priority")); break;
                case "forward_delay": forwardDelay = ParseInt(Need(a, ++i, "forward delay (centiseconds)")); break;
                case "hello_time": hello = ParseInt(Need(a, ++i, "hello time (centiseconds)")); break;
                case "max_age": maxAge = ParseInt(Need(a, ++i, "max age (centiseconds)")); break;
                case "ageing_time": ageing = long.TryParse(Need(a, ++i, "ageing time (centiseconds)"), out var ag) ? ag : throw Error("not a number", a[i]); break;
                case "vlan_filtering": filtering = ParseInt(Need(a, ++i, "0 or 1")); break;
                case "vlan_default_pvid": defaultPvid = ParseInt(Need(a, ++i, "default PVID")); break;
                case "vlan_protocol":
                    protocol = VlanProtocol(Need(a, ++i, "802.1Q or 802.1ad"), "vlan_protocol");
                    break;
                case "address" or "mtu" or "name" or "dev" or "txqueuelen" or "qlen" or "numtxqueues" or "numrxqueues" or "group":
                    i++; // ip link's own words, handled by the caller
                    break;
                default:
                    other.Add(a[i]);
                    if (i + 1 < a.Count) other.Add(a[++i]); // each bridge option takes one value
                    break;
            }
        }
        // br_changelink: the timers before IFLA_BR_STP_STATE, the priority after it
        if (forwardDelay is not null || hello is not null || maxAge is not null || ageing is not null)
            b.SetBridgeStp(bridge, null, forwardDelay, hello, maxAge, ageing);
        if (stp is { } state) b.SetStpState(bridge, state);
        if (priority is { } prio) b.SetBridgeStp(bridge, prio, null, null, null);
        if (filtering is { } f) b.SetVlanFiltering(bridge, f != 0);
        if (protocol is { } proto) b.SetVlanProtocol(bridge, proto);
        if (defaultPvid is { } dp)
        {
            if (dp is < 0 or > 4094) throw Error("vlan_default_pvid is 0-4094 (RTNETLINK answers: Invalid argument)", dp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            b.SetDefaultPvid(bridge, (ushort)dp);
        }
        return other.Count == 0 ? null : string.Join(' ', other);
    }

    private void LinkSet(List<string> a, NamespaceBuilder b)
    {
        int i = 0;
        if (Need(a, 0, "device") == "dev") i = 1;
        var dev = Need(a, i, "device");
        // A device the lab never created is one the host already has: a physical NIC (eth0, ens3...).
        if (!b.HasDevice(dev)) b.AddDevice(dev, DeviceKind.Physical);
        for (i++; i < a.Count; i++)
        {
            var t = a[i];
            switch (t)
            {
                case "up": b.SetUp(dev, true); break;
                case "down": b.SetUp(dev, false); break;
                case "mtu": b.SetMtu(dev, ParseInt(Need(a, ++i, "MTU"))); break;
                case "group": b.SetGroup(dev, DevGroup(Need(a, ++i, "group"))); break;
                case "address": b.SetMac(dev, ParseMac(Need(a, ++i, "MAC address"))); break;
                case "master": b.SetMaster(dev, Need(a, ++i, "master device")); break;
                case "nomaster": b.SetMaster(dev, null); break;
                case "name":
                    var n = Need(a, ++i, "new name");
                    if (IsMacvlanLower(b, dev)) throw Error($"unsupported: renaming {dev}, the lower device of macvlans (the model refers to it by name)", dev);
                    b.Rename(dev, n); dev = n; break;
                case "netns":
                {
                    var target = Need(a, ++i, "namespace");
                    if (!_namespaces.TryGetValue(target, out var tb)) throw Error($"Cannot find namespace \"{target}\"", target);
                    var tunnel = b.TunnelOf(dev);
                    var group = b.GroupOf(dev);
                    var macvlan = b.MacvlanOf(dev);
                    if (IsMacvlanLower(b, dev)) throw Error($"unsupported: moving {dev}, the lower device of macvlans, to another namespace", dev);
                    var moved = b.RemoveDevice(dev);
                    tb.AddDevice(dev, moved.Kind, moved.Mac, moved.Mtu, moved.Peer, moved.PeerNamespace, tunnel, keepIndex: moved.IfIndex);
                    tb.SetGroup(dev, group); // dev_change_net_namespace keeps dev->group
                    tb.SetMacvlan(dev, macvlan); // its port stays on the lower device, in the namespace it was made in
                    // The peer now sees this end in the target namespace.
                    if (moved.Peer is { } peer && moved.PeerNamespace is { } pns && _namespaces.TryGetValue(pns, out var pb))
                        pb.SetPeerNamespace(peer, target);
                    b = tb;
                    break;
                }
                case "type":
                {
                    var kind = Need(a, ++i, "link type");
                    if (kind == "bridge_slave") { i = BridgePortOptions(a, i + 1, b, dev) - 1; break; }
                    if (kind == "bridge" && BridgeOptions(a, i + 1, b, dev) is null) { i = a.Count; break; }
                    if (kind == "macvlan") { i = MacvlanChange(a, i + 1, b, dev); break; }
                    // Options the model does not evaluate are kept as unmodelled lines, named in every result.
                    b.NoteUnmodelled($"{_file}:{_cmd.Line}: {_cmd.Text}");
                    Warn($"'type {kind}' options are not modelled");
                    i = a.Count;
                    break;
                }
                case "xdp" or "xdpgeneric" or "xdpdrv" or "xdpoffload": i = XdpSet(a, i, b, dev); break;
                case "promisc" or "allmulticast" when b.MacvlanOf(dev) is { } mvf:
                {
                    // a macvlan's flags fill its mc_filter (macvlan_compute_filter); elsewhere they change nothing modelled
                    var on = OnOff(Need(a, ++i, "on or off"), t);
                    b.SetMacvlan(dev, t == "promisc" ? mvf with { Promisc = on } : mvf with { AllMulti = on });
                    break;
                }
                case "promisc" or "arp" or "multicast" or "allmulticast" or "txqueuelen" or "qlen" or "alias":
                    i++; Warn($"'{t}' is not modelled"); break;
                // they bound the GSO/GRO super-packets a sender or receiver makes: a capture shows those
                // as they are, and their gso_size is inferred (Offload/GsoSizeInference)
                case "gso_max_size" or "gro_max_size" or "gso_max_segs" or "gso_ipv4_max_size" or "gro_ipv4_max_size":
                    ParseInt(Need(a, ++i, t)); break;
                default: throw Error("unexpected word in ip link set", t);
            }
        }
    }

    /// <summary>`bridge [-n NS] ...`: switches <paramref name="ns"/> to the namespace given; returns the index of the object word (link, fdb, vlan).</summary>
    private int BridgeNetns(List<string> w, ref string ns)
    {
        if (w.Count < 3 || w[1] is not ("-n" or "-netns")) return 1;
        ns = w[2];
        if (!_namespaces.ContainsKey(ns)) throw Error($"Cannot open network namespace \"{ns}\"", ns);
        return 3;
    }

    /// <summary>`bridge [-n NS] link set dev X ...`: the port options the model evaluates. Other bridge commands return false.</summary>
    private bool BridgeLinkSet(List<string> w, string ns)
    {
        int i = BridgeNetns(w, ref ns);
        if (i + 1 >= w.Count || w[i] is not ("link" or "l") || w[i + 1] != "set") return false;
        i += 2;
        if (Need(w, i, "'dev DEVICE'") != "dev") throw Error("expected 'dev DEVICE'", w[i]);
        var dev = Need(w, ++i, "device");
        var b = _namespaces[ns];
        if (!b.HasDevice(dev)) throw Error($"Cannot find device \"{dev}\"", dev);
        if (BridgePortOptions(w, i + 1, b, dev) != w.Count) throw Error("unexpected word in bridge link set");
        return true;
    }

    /// <summary>Bridge port options from <paramref name="start"/> on (state N, hairpin on|off); returns the index after the last one used.</summary>
    private int BridgePortOptions(List<string> a, int start, NamespaceBuilder b, string dev)
    {
        bool? hairpin = null; BrPortState? state = null;
        int? priority = null; long? cost = null;
        int i = start;
        for (; i < a.Count; i++)
        {
            var t = a[i];
            switch (t)
            {
                case "hairpin":
                    var v = Need(a, ++i, "on or off");
                    hairpin = v switch { "on" => true, "off" => false, _ => throw Error("hairpin takes on or off", v) };
                    break;
                case "state":
                    var st = Need(a, ++i, "port state");
                    state = st switch
                    {
                        "0" or "disabled" => BrPortState.Disabled, "1" or "listening" => BrPortState.Listening, "2" or "learning" => BrPortState.Learning,
                        "3" or "forwarding" => BrPortState.Forwarding, "4" or "blocking" => BrPortState.Blocking,
                        _ => throw Error("port state is 0-4 (disabled, listening, learning, forwarding, blocking)", st),
                    };
                    break;
                case "priority": priority = ParseInt(Need(a, ++i, "port priority")); break;
                case "cost": cost = ParseInt(Need(a, ++i, "port cost")); break;
                case "learning" or "flood" or "mcast_flood" or "bcast_flood" or "guard" or "root_block" or "fastleave" or "proxy_arp"
                    or "neigh_suppress" or "isolated" or "locked" or "mcast_to_unicast" or "vlan_tunnel" or "backup_port":
                    throw Error($"bridge port option '{t}' is not modelled yet", t);
                default:
                    goto done;
            }
        }
        done:
        b.SetBridgePort(dev, hairpin, state);
        if (priority is not null || cost is not null) b.SetBridgePortStp(dev, priority, cost);
        if (state == BrPortState.Blocking)
            Warn($"{dev}: without STP the kernel makes a blocking port forwarding at once (br_port_state_selection); the model does the same");
        else if (state is BrPortState.Learning or BrPortState.Listening)
            Warn($"{dev}: a {state.ToString()!.ToLowerInvariant()} state set by hand without STP lasts until the next bridge port event (another port coming up returns it to forwarding on 6.18); the model keeps it");
        return i;
    }

    private void Addr(List<string> a, NamespaceBuilder b, IpFamily? family)
    {
        var verb = Need(a, 0, "address command");
        if (verb is "show" or "list" or "ls") return;
        if (verb is not ("add" or "replace")) throw Error($"ip addr {verb} is not supported", verb);
        IpPrefix? prefix = null;
        string? dev = null;
        IpAddr? brd = null;
        bool brdPlus = false;
        AddressScope? scope = null;
        for (int i = 1; i < a.Count; i++)
        {
            var t = a[i];
            switch (t)
            {
                case "dev": dev = Need(a, ++i, "device"); break;
                case "brd" or "broadcast":
                    var v = Need(a, ++i, "broadcast address");
                    if (v == "+") brdPlus = true;
                    else if (v != "-") brd = IpAddr.TryParse(v, out var x) ? x : throw Error("bad broadcast address", v);
                    break;
                case "scope": scope = ParseScope(Need(a, ++i, "scope")); break;
                case "label" or "valid_lft" or "preferred_lft" or "metric": i++; break;
                case "local": prefix = ParsePrefix(Need(a, ++i, "address"), family); break;
                // the model runs no duplicate address detection: every address is usable at once, as `nodad` asks
                case "nodad": break;
                case "noprefixroute" or "optimistic" or "home" or "mngtmpaddr" or "noprefixroute\n": Warn($"'{t}' is not modelled"); break;
                default:
                    if (prefix is null) { prefix = ParsePrefix(t, family); break; }
                    throw Error("unexpected word in ip addr add", t);
            }
        }
        if (prefix is not { } p) throw Error("ip addr add needs an address");
        if (dev is null) throw Error("ip addr add needs 'dev DEVICE'");
        if (brdPlus && p.Family == IpFamily.V4) brd = p.Address.HostBitsSet(p.Length);
        b.AddAddress(dev, p, brd, scope);
    }

    private void RouteCmd(List<string> a, NamespaceBuilder b, IpFamily? family)
    {
        var verb = Need(a, 0, "route command");
        if (verb is "show" or "list" or "ls" or "get" or "flush") { if (verb == "flush") Warn("route flush ignored"); return; }
        if (verb is not ("add" or "replace" or "append" or "del" or "delete")) throw Error($"ip route {verb} is not supported", verb);
        var type = RouteType.Unicast;
        IpPrefix? dst = null;
        string? dstWord = null;
        IpAddr? via = null, src = null;
        string? dev = null, proto = null;
        uint table = RouteTables.Main, metric = 0;
        AddressScope? scope = null;
        bool onlink = false, mtuLock = false;
        int mtu = 0;
        uint? nhid = null;
        var nexthops = new List<RouteNexthop>();
        for (int i = 1; i < a.Count; i++)
        {
            var t = a[i];
            switch (t)
            {
                case "unicast": type = RouteType.Unicast; break;
                case "blackhole": type = RouteType.Blackhole; break;
                case "unreachable": type = RouteType.Unreachable; break;
                case "prohibit": type = RouteType.Prohibit; break;
                case "throw": type = RouteType.Throw; break;
                case "local": type = RouteType.Local; break;
                case "broadcast": type = RouteType.Broadcast; break;
                case "multicast": type = RouteType.Multicast; break;
                case "anycast": type = RouteType.Anycast; break;
                case "via":
                    var g = Need(a, ++i, "gateway");
                    if (g is "inet" or "inet6") g = Need(a, ++i, "gateway");
                    via = IpAddr.TryParse(g, out var ga) ? ga : throw Error("bad gateway address", g);
                    break;
                case "dev" or "oif": dev = Need(a, ++i, "device"); break;
                case "table" or "lookup":
                    var tn = Need(a, ++i, "table");
                    if (!RouteTables.TryParse(tn, out table)) throw Error("bad table id", tn);
                    break;
                case "metric" or "priority" or "preference": metric = (uint)ParseInt(Need(a, ++i, "metric")); break;
                case "src": src = IpAddr.TryParse(Need(a, ++i, "source"), out var sa) ? sa : throw Error("bad source address", a[i]); break;
                case "proto" or "protocol": proto = Need(a, ++i, "protocol"); break;
                case "scope": scope = ParseScope(Need(a, ++i, "scope")); break;
                case "onlink": onlink = true; break;
                case "to": dst = ParsePrefix(Need(a, ++i, "destination"), family); break;
                case "mtu":
                    var mt = Need(a, ++i, "MTU");
                    if (mt == "lock") { mtuLock = true; mt = Need(a, ++i, "MTU"); }
                    mtu = int.TryParse(mt, out var mv) && mv > 0 ? mv : throw Error("a route mtu is a positive number", mt);
                    break;
                case "advmss" or "initcwnd" or "initrwnd" or "realm" or "realms" or "pref" or "expires" or "hoplimit":
                    Warn($"route attribute '{t}' is not modelled"); i++; break;
                case "nexthop": i = Nexthop(a, i, nexthops, family); break;
                case "nhid":
                    var nt = Need(a, ++i, "nexthop id");
                    nhid = uint.TryParse(nt, out var nv) && nv > 0 ? nv : throw Error("a nexthop id is a number from 1 to 4294967295", nt);
                    break;
                default:
                    if (dst is null) { dst = ParsePrefix(t, family); dstWord = t; break; }
                    throw Error("unexpected word in ip route", t);
            }
        }
        // `default` without -4/-6 takes the gateway's family, as iproute2 infers it
        if (family is null && dstWord is "default" or "all" or "any" && (via ?? nexthops.FirstOrDefault()?.Gateway) is { Family: IpFamily.V6 })
            dst = ParsePrefix(dstWord, IpFamily.V6);
        if (dst is not { } d) throw Error("ip route needs a destination prefix or 'default'");
        if (nexthops.Count > 0)
        {
            if (via is not null || dev is not null) throw Error("a multipath route gives 'via' and 'dev' inside each 'nexthop'", via?.ToString() ?? dev);
            if (nexthops.Any(n => n.Gateway is { } g && g.Family != d.Family)) throw Error("gateway and destination families differ", nexthops.First(n => n.Gateway?.Family != d.Family).Gateway.ToString());
            via = nexthops[0].Gateway;
            dev = nexthops[0].Device;
        }
        if (via is { } gw && gw.Family != d.Family) throw Error("gateway and destination families differ", gw.ToString());
        if (verb is "del" or "delete") { b.AddRouteDeletion(d, table); return; }
        if (onlink) Warn("'onlink' accepted: the gateway is not checked");
        var route = new Route
        {
            Table = table, Type = type, Destination = d, Gateway = via, Device = dev, PreferredSource = src, Metric = metric,
            Protocol = proto ?? "boot", Nexthops = nexthops.Count > 1 ? nexthops : null, Mtu = mtu, MtuLocked = mtuLock,
            Scope = scope ?? (type == RouteType.Local ? AddressScope.Host
                : type == RouteType.Unicast && via is null && dev is not null && d.Family == IpFamily.V4 ? AddressScope.Link : AddressScope.Global),
        };
        if (d.Family == IpFamily.V6 && metric == 0) route = WithMetric(route, type == RouteType.Unicast ? 1024u : 1024u);
        if (nhid is { } id)
        {
            if (via is not null || dev is not null || nexthops.Count > 0) throw Error("a route with 'nhid' takes its gateway and device from the nexthop object", via?.ToString() ?? dev ?? "nexthop");
            route = b.WithNexthopObject(route, id);
        }
        if (verb == "replace") b.AddRouteDeletion(d, table);
        if (onlink && via is not null && dev is not null) b.AddRouteUnchecked(route);
        else b.AddRoute(route);
    }

    /// <summary>`nexthop [via A] [dev X] [weight W] [onlink]` of a multipath route; returns the index of its last word.</summary>
    private int Nexthop(List<string> a, int i, List<RouteNexthop> into, IpFamily? family)
    {
        IpAddr? gw = null; string? dev = null; int weight = 1;
        int j = i + 1;
        for (; j < a.Count && a[j] != "nexthop"; j++)
        {
            var t = a[j];
            switch (t)
            {
                case "via":
                    var g = Need(a, ++j, "gateway");
                    if (g is "inet" or "inet6") g = Need(a, ++j, "gateway");
                    gw = IpAddr.TryParse(g, out var ga) ? ga : throw Error("bad gateway address", g);
                    break;
                case "dev": dev = Need(a, ++j, "device"); break;
                case "weight":
                    var wt = Need(a, ++j, "weight");
                    weight = int.TryParse(wt, out var wv) && wv is >= 1 and <= 256 ? wv : throw Error("nexthop weight must be 1-256", wt);
                    break;
                case "onlink": Warn("'onlink' in a nexthop accepted: the gateway is not checked"); break;
                default: throw Error("unexpected word in a nexthop (via, dev, weight, onlink)", t);
            }
        }
        if (dev is null && gw is null) throw Error("a nexthop needs 'via GATEWAY' or 'dev DEVICE'", "nexthop");
        into.Add(new RouteNexthop(gw, dev ?? "", weight));
        return j - 1;
    }

    private static Route WithMetric(Route r, uint metric) => new()
    {
        Table = r.Table, Type = r.Type, Destination = r.Destination, Gateway = r.Gateway, Device = r.Device,
        PreferredSource = r.PreferredSource, Metric = metric, Scope = r.Scope, Protocol = r.Protocol, Nexthops = r.Nexthops, Mtu = r.Mtu, MtuLocked = r.MtuLocked,
    };

    private IpPrefix ParsePrefix(string s, IpFamily? family)
    {
        if (!IpPrefix.TryParse(s, family ?? IpFamily.V4, out var p)) throw Error("not an address or prefix", s);
        if (family is { } f && p.Family != f) throw Error($"address family mismatch (ip -{(int)f})", s);
        return p;
    }

    private MacAddress ParseMac(string s) => MacAddress.TryParse(s, out var m) ? m : throw Error("not a MAC address", s);
    private int ParseInt(string s) => int.TryParse(s, out var v) && v >= 0 ? v : throw Error("not a number", s);

    private AddressScope ParseScope(string s) => s switch
    {
        "global" or "universe" or "0" => AddressScope.Global,
        "site" => AddressScope.Site,
        "link" => AddressScope.Link,
        "host" => AddressScope.Host,
        "nowhere" => AddressScope.Nowhere,
        _ => throw Error("unknown scope", s),
    };
}
