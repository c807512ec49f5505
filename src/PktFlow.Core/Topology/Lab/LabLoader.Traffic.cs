using System.Globalization;
using PktFlow.Wire;

namespace PktFlow.Topology.Lab;

/// <summary>
/// A lab's traffic script (traffic.sh), read for one thing only: the client sockets its commands open,
/// as the namespace's declared connected sockets (<see cref="NetNamespace.ClientSockets"/>). Nothing
/// in it is applied as configuration and nothing is executed: a `socat TCP:HOST:PORT,sourceport=N`
/// run in a namespace declares the socket HOST:PORT from N there, `ping -e ID DEST` an echo socket with
/// that identifier. A server it starts (socat TCP-LISTEN:/UDP-RECVFROM:..., nc -l) is added to the
/// namespace's listening sockets as one the lab started: the model has no clock for when a program
/// began, so it listens from the first frame (scripts start their servers, then sleep, then send).
/// A frame `sendframe` writes through a packet socket is declared as such (<see cref="NetNamespace.RawFrames"/>):
/// no socket sent it. A Python client's literal socket.create_connection calls declare its sockets
/// (<see cref="PythonConnect"/>). Every other command (sleep, ip) is passed over. The commands run one after another, so
/// the client sockets are numbered in script order (<see cref="ClientSocket.Order"/>).
/// </summary>
public sealed partial class LabLoader
{
    /// <summary>Set while the traffic script is read: commands declare client sockets and nothing else.</summary>
    private bool _trafficOnly;
    private int _trafficOrder;

    /// <summary>The lab and, when given, the client sockets its traffic script opens.</summary>
    public static HostTopology LoadFile(string labPath, string? trafficPath) => LoadFile(labPath, trafficPath, null);

    /// <param name="options">Null: <see cref="TopologyLoadOptions.Strict"/>.</param>
    public static HostTopology LoadFile(string labPath, string? trafficPath, TopologyLoadOptions? options) =>
        trafficPath is null ? Load(File.ReadAllText(labPath), labPath, options) : Load(File.ReadAllText(labPath), labPath, File.ReadAllText(trafficPath), trafficPath, options);

    public static HostTopology Load(string text, string fileName, string trafficText, string trafficFileName, TopologyLoadOptions? options = null)
    {
        var loader = Read(text, fileName, options);
        loader._file = trafficFileName;
        loader._trafficOnly = true;
        loader.RunScript(ShellWords.Split(trafficText, assignments: true).ToList());
        loader._file = fileName;
        return loader.Build(text, fileName);
    }

    /// <summary>One command of the traffic script: `ip netns exec NS CMD` and the wrappers are followed to a socat or ping client.</summary>
    private void TrafficCommand(List<string> w, string ns)
    {
        if (w.IndexOf("|") is var bar and >= 0)
        {
            // each side of a pipeline is a command of its own (`(...) | ip netns exec NS socat ...`)
            if (bar > 0) TrafficCommand(w.Take(bar).ToList(), ns);
            TrafficCommand(w.Skip(bar + 1).ToList(), ns);
            return;
        }
        int skip = 0; // wrappers that only bound or detach a command, or change its user
        var outerLimit = _commandLimit;
        while (skip < w.Count && w[skip] is "timeout" or "nohup" or "setsid" or "exec" or "setpriv" or "sudo")
        {
            if (w[skip] == "timeout")
            {
                // `timeout [-k D] [-s SIG] [--long options] DURATION CMD`: the command is killed after DURATION
                for (skip++; skip < w.Count && w[skip].StartsWith('-'); skip++)
                    if (w[skip] is "-k" or "-s") skip++;
                if (skip < w.Count && Duration(w[skip]) is { } d) _commandLimit = _commandLimit is { } l && l < d ? l : d;
                skip++;
                continue;
            }
            for (skip++; skip < w.Count && (w[skip].StartsWith('-') || char.IsDigit(w[skip][0])); skip++) { }
        }
        try { TrafficClient(w.Skip(skip).ToList(), ns); }
        finally { _commandLimit = outerLimit; }
    }

    /// <summary>How long the command being read may run (the `timeout` it runs under, innermost and outer), or null.</summary>
    private TimeSpan? _commandLimit;

    /// <summary>A duration of coreutils timeout: a number with an optional unit s, m, h or d.</summary>
    private static TimeSpan? Duration(string word)
    {
        var unit = word[^1] switch { 's' => 1, 'm' => 60, 'h' => 3600, 'd' => 86400, _ => 0 };
        var number = unit == 0 ? word : word[..^1];
        return double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v) && v > 0
            ? TimeSpan.FromSeconds(v * Math.Max(unit, 1)) : null;
    }

    private void TrafficClient(List<string> w, string ns)
    {
        if (w.Count == 0) return;
        if (w[0] is "socat" or "ping" or "ping4" or "ping6" && w.FirstOrDefault(x => x.Contains("${", StringComparison.Ordinal) || x.Contains("$(", StringComparison.Ordinal)) is { } unknown)
        {
            // a traffic script is the user's to write in full bash: this client names no flow the model can read
            Warn($"a client command with an expansion the lab reader does not evaluate ({unknown}): its socket is not declared");
            return;
        }
        switch (w[0])
        {
            case "ip" when w.Count > 4 && w[1] == "netns" && w[2] == "exec":
                if (!_namespaces.ContainsKey(w[3])) throw Error($"Cannot open network namespace \"{w[3]}\" (the lab does not create it)", w[3]);
                var saved = _cmd;
                Apply(_cmd with { Words = w.Skip(4).ToList() }, w[3]);
                _cmd = saved;
                break;
            // a server the script starts (`socat TCP-LISTEN:P ... &`) is the namespace's listener from the start
            case "socat": _owner = (0, 0); if (!Socat(w, ns)) SocatClient(w, ns); break;
            case "nc" or "ncat" or "netcat" when w.Skip(1).Any(x => x.Length > 1 && x[0] == '-' && x[1] != '-' && x.Contains('l')):
                _owner = (0, 0); Netcat(w, ns); break;
            case "ping" or "ping4" or "ping6": PingClient(w, ns); break;
            case "sendframe": SendFrame(w, ns); break;
            case "python3" or "python" or "/usr/bin/python3": PythonClient(w, ns); break;
            // a file the script writes from a here-document (`cat > "$D/ftp.py" <<'PY'`), for a later python3 to run
            case "cat" or "tee" when _cmd.HereDoc is { } body:
                foreach (var f in w.Skip(1).Select(x => x.TrimStart('>')).Where(x => x.Length > 0 && !x.StartsWith('-'))) _trafficFiles[f] = (body, _cmd.HereDocLine);
                break;
        }
    }

    /// <summary>Files the traffic script wrote from here-documents (and the script line each starts on), by the path it named them with.</summary>
    private readonly Dictionary<string, (string Code, int Line)> _trafficFiles = new(StringComparer.Ordinal);

    /// <summary>
    /// `python3 FILE` (a file the script wrote from a here-document), `python3 - &lt;&lt;EOF`, `python3 -c CODE`:
    /// the program's socket.create_connection calls with a literal peer and source port declare their
    /// TCP sockets (<see cref="PythonConnect"/>), with the call's timeout as the connect timeout; the
    /// frames its scapy send calls write are raw frames of the namespace (<see cref="ScapySend"/>).
    /// </summary>
    private void PythonClient(List<string> w, string ns)
    {
        string? code = null;
        int line = _cmd.Line; // the script line the program's first line is on
        for (int i = 1; i < w.Count && code is null; i++)
        {
            if (w[i] == "-c") { code = i + 1 < w.Count ? w[i + 1] : null; break; }
            if (w[i] == "-") { (code, line) = (_cmd.HereDoc, _cmd.HereDocLine); break; }
            if (w[i].StartsWith('-')) continue; // -u, -B, ...
            if (!_trafficFiles.TryGetValue(w[i], out var file)) break;
            (code, line) = file;
        }
        if (code is null) return;
        foreach (var c in PythonConnect.Read(code))
            Declare(ns, new ClientSocket(IpProtocol.Tcp, c.Local, c.LocalPort, c.Remote, c.RemotePort, $"{_file}:{_cmd.Line}: {w[0]}")
                { ConnectTimeout = Limited(c.Timeout) });
        foreach (var f in ScapySend.Read(code))
        {
            int at = line + f.Line;
            if (f.Expression is null)
                _warnings.Add($"{_file}:{at}: a {f.Function} frame that is not a scapy expression written out ({f.Argument}): {NoSocketOfIts}");
            else
                RawFrame(ns, f.Expression, at, f.Function);
        }
    }

    private const string NoSocketOfIts = "if a socket could have sent it, the model may take it for that socket's";

    /// <summary>Declares the frame a scapy <paramref name="expression"/> writes as a raw frame of <paramref name="ns"/>, or names what keeps it from being read.</summary>
    private void RawFrame(string ns, string expression, int line, string function)
    {
        if (ScapyFrame.Read(expression, $"{_file}:{line}: {function}", out var refused) is { } frame) _namespaces[ns].AddRawFrame(frame);
        else if (refused is not null) _warnings.Add($"{_file}:{line}: a {function} frame the lab reader cannot read ({refused}): {NoSocketOfIts}");
    }

    /// <summary>A client's own connect timeout, or the `timeout` it runs under when that is shorter (killed, its sockets close).</summary>
    private TimeSpan? Limited(TimeSpan? own) => own is { } c && (_commandLimit is not { } limit || c <= limit) ? c : _commandLimit;

    /// <summary>
    /// `sendframe [--gap SECONDS] DEV FRAME...` (tests/Kernel/bin/sendframe): each scapy FRAME is written
    /// to DEV through a packet socket, so it is declared a raw frame of the namespace (<see cref="RawFrame"/>),
    /// not a client socket. A frame the reader cannot read is named in a warning: the model may then take
    /// it for a socket's.
    /// </summary>
    private void SendFrame(List<string> w, string ns)
    {
        int i = 1;
        if (i < w.Count && w[i] == "--gap") i += 2;
        foreach (var expression in w.Skip(i + 1))
        {
            if (expression.Contains("${", StringComparison.Ordinal) || expression.Contains("$(", StringComparison.Ordinal))
            {
                Warn($"a sendframe frame with an expansion the lab reader does not evaluate ({expression}): {NoSocketOfIts}");
                continue;
            }
            RawFrame(ns, expression, _cmd.Line, "sendframe");
        }
    }

    /// <summary>
    /// socat's connecting addresses TCP[46]:HOST:PORT, TCP-CONNECT:, UDP[46]:HOST:PORT, UDP-CONNECT:
    /// with `sourceport=N` (or `sp=N`) and optionally `bind=ADDRESS[:PORT]`. Without a fixed source
    /// port the kernel picks one: that socket names no flow and is not declared.
    /// </summary>
    private void SocatClient(List<string> w, string ns)
    {
        bool v6Flag = w.Contains("-6");
        foreach (var word in w.Skip(1).Where(x => !x.StartsWith('-')))
        {
            int colon = word.IndexOf(':');
            if (colon < 0) continue;
            var kind = word[..colon].ToUpperInvariant();
            byte? proto = kind switch
            {
                "TCP" or "TCP4" or "TCP6" or "TCP-CONNECT" or "TCP4-CONNECT" or "TCP6-CONNECT" => IpProtocol.Tcp,
                "UDP" or "UDP4" or "UDP6" or "UDP-CONNECT" or "UDP4-CONNECT" or "UDP6-CONNECT" => IpProtocol.Udp,
                _ => null,
            };
            if (proto is null) continue;
            var parts = word[(colon + 1)..].Split(',');
            if (!TryHostPort(parts[0], out var remote, out var remotePort))
            {
                Warn("socat client to a host name or without HOST:PORT: its socket is not declared (names are not resolved)");
                return;
            }
            ushort? sport = null;
            IpAddr? local = null;
            TimeSpan? connectTimeout = null;
            foreach (var o in parts.Skip(1))
            {
                int eq = o.IndexOf('=');
                if (eq < 0) continue;
                var (name, value) = (o[..eq], o[(eq + 1)..]);
                if (name is "sourceport" or "sp")
                    sport = ushort.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p > 0 ? p : throw Error("bad sourceport", o);
                else if (name == "connect-timeout")
                    connectTimeout = double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var t)
                        ? TimeSpan.FromSeconds(t) : throw Error("bad connect-timeout", o);
                else if (name == "bind")
                {
                    if (TryHostPort(value, out var b, out var bp)) { local = b; if (bp > 0) sport = bp; }
                    else local = IpAddr.TryParse(value.Trim('[', ']'), out var a) ? a : throw Error("bad bind address", o);
                }
            }
            if (sport is null) return;
            if (local is { } l && l.Family != remote.Family || (kind.Contains('6') || v6Flag) && !remote.IsV6)
                throw Error("socket address family does not match the peer's", word);
            Declare(ns, new ClientSocket(proto.Value, local, sport.Value, remote, remotePort, $"{_file}:{_cmd.Line}: socat")
            {
                // killed by timeout while it connects, socat closes its socket as it would on its own connect-timeout
                ConnectTimeout = Limited(connectTimeout),
            });
            return;
        }
    }

    /// <summary>
    /// `ping [-4|-6] [-c N] [-I ADDRESS] -e ID DEST` (iputils): an echo socket with identifier ID to DEST
    /// (a raw socket as root, the identifier the one ping writes). Without -e the identifier is random:
    /// nothing is declared. An -I naming a device leaves the source to the route.
    /// </summary>
    private void PingClient(List<string> w, string ns)
    {
        ushort? id = null;
        IpAddr? local = null, dest = null;
        bool v6 = w[0] == "ping6";
        // iputils options that take a value (getopt "aAbBc:dDfhHi:I:l:Lm:M:nNOp:qQ:rRs:S:t:T:UvVw:W:e:F:")
        const string withValue = "ciIlmMNpQsStTwWeF";
        for (int i = 1; i < w.Count; i++)
        {
            var x = w[i];
            if (x.Length < 2 || x[0] != '-') { dest = IpAddr.TryParse(x, out var d) ? d : null; continue; }
            char opt = x[1];
            if (opt == '6') v6 = true;
            if (!withValue.Contains(opt)) continue;
            var value = x.Length > 2 ? x[2..] : i + 1 < w.Count ? w[++i] : throw Error($"ping -{opt} needs a value", x);
            if (opt == 'e') id = ushort.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var e) ? e : throw Error("bad ping identifier", value);
            if (opt == 'I' && IpAddr.TryParse(value, out var a)) local = a;
        }
        if (id is null || dest is not { } to) return;
        if (v6 && !to.IsV6) throw Error("ping -6 to an IPv4 address", to.ToString());
        Declare(ns, new ClientSocket(to.IsV6 ? IpProtocol.Icmpv6 : IpProtocol.Icmp, local, id.Value, to, 0, $"{_file}:{_cmd.Line}: ping"));
    }

    private void Declare(string ns, ClientSocket socket) => _namespaces[ns].AddClientSocket(socket with { Order = ++_trafficOrder });

    /// <summary>HOST:PORT with HOST an address literal (IPv6 in brackets).</summary>
    private static bool TryHostPort(string text, out IpAddr address, out ushort port)
    {
        (address, port) = (default, 0);
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !ushort.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port)) return false;
        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        else if (host.Contains(':')) return false; // an IPv6 literal needs its brackets before :PORT
        return IpAddr.TryParse(host, out address);
    }
}
