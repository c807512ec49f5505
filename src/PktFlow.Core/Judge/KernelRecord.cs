using System.Text.Json;

namespace PktFlow.Judge;

/// <summary>One chain run the kernel's trace showed (nft monitor trace), as recorded in kernel.json.</summary>
public sealed record KernelChainRun(string Family, string Table, string Chain, string Verdict, int? RuleHandle, string? RuleText, string? By)
{
    public override string ToString() =>
        $"{Family} {Table} {Chain}: {Verdict}{(RuleHandle is { } h ? $" (rule {h}{(RuleText is null ? "" : ": " + RuleText)})" : By is null ? "" : $" ({By})")}";
}

/// <summary>What happened to the packet in one namespace.</summary>
/// <param name="Decap">The inner packet of the previous hop's tunnel packet, received again in the same namespace on the tunnel device <paramref name="In"/>.</param>
public sealed record KernelHop(string Namespace, string? In, IReadOnlyList<KernelChainRun> Chains, string? Fate, string? Reason, bool Decap = false);

/// <summary>Where the packet ended: a namespace, a fate and maybe a drop reason.</summary>
public sealed record KernelEnd(string Namespace, string Fate, string? Reason)
{
    public override string ToString() => $"{Namespace}: {Fate}{(Reason is null ? "" : $" {Reason}")}";
}

/// <summary>One entry of the recorded <c>conntrack -L</c> of a namespace; tuples as "src=.. dst=.. sport=.. dport=.." (or type/code/id).</summary>
/// <param name="Timeout">Seconds left when the table was listed; null in recordings that did not keep it.</param>
/// <param name="Acct">packets= bytes= of each direction, when the kernel's listing has them (accounting on).</param>
/// <param name="Helper">helper=NAME of the listing: the conntrack helper assigned to the connection.</param>
/// <param name="ZoneDirection">both (zone=N), original (zone-orig=N) or reply (zone-reply=N).</param>
/// <param name="Labels">labels=NAME,... of the listing (names from connlabel.conf).</param>
public sealed record KernelConntrack(string Namespace, string Proto, string? State, string Original, string Reply, IReadOnlyList<string> Flags, uint Mark, int Zone = 0, int? Timeout = null,
    KernelCtAcct? Acct = null, string? Helper = null, string ZoneDirection = "both", IReadOnlyList<string>? Labels = null)
{
    public override string ToString() => $"{Namespace}: {Proto} {State} {Original} {Reply} [{string.Join(",", Flags)}]{(Zone != 0 ? ZoneDirection switch { "original" => $" zone-orig={Zone}", "reply" => $" zone-reply={Zone}", _ => $" zone={Zone}" } : "")}{(Labels is { Count: > 0 } ? $" labels={string.Join(",", Labels)}" : "")}";
}

/// <summary>One socket of the recorded <c>ss -tanH</c> / <c>ss -uanH</c> of a namespace, endpoints written as Get-PktFlowSocket writes them.</summary>
/// <param name="State">The kernel's name of the state (ESTABLISHED, TIME_WAIT, LISTEN; UNCONN for an unconnected UDP socket).</param>
public sealed record KernelSocket(string Namespace, string Proto, string State, string Local, string Peer)
{
    public override string ToString() => $"{Namespace}: {Proto} {State} {Local} {Peer}";
}

/// <summary>
/// One counter the recording listed (nft -j list ruleset), as what the traffic added to it: a rule's
/// counter or quota (Chain and Handle), a named counter or quota (Name), a set element's counter (Set and Element).
/// </summary>
/// <param name="Kind">rule, counter, quota or element (lib/counters.py).</param>
/// <param name="Packets">Null for a quota (it counts bytes only).</param>
public sealed record KernelCounter(string Namespace, string Family, string Table, string Kind, string? Chain, int? Handle, string? Name, string? Set, string? Element, long? Packets, long Bytes)
{
    public override string ToString() => $"{Namespace}: {Family} {Table} {Kind switch
    {
        "rule" => $"{Chain} rule #{Handle}",
        "quota" when Name is null => $"{Chain} quota of rule #{Handle}",
        "element" => $"set {Set} element {Element}",
        _ => $"{Kind} {Name}",
    }}";
}

/// <summary>A recorded entry's accounting: packets and bytes of the original and the reply direction.</summary>
public sealed record KernelCtAcct(ulong OriginalPackets, ulong OriginalBytes, ulong ReplyPackets, ulong ReplyBytes)
{
    public override string ToString() => $"packets={OriginalPackets} bytes={OriginalBytes} / packets={ReplyPackets} bytes={ReplyBytes}";
}

/// <param name="CopyOf">In a recording of a whole namespace ("wire": "NS/any"): the earlier frame that showed the same packet (on another device, or before NAT).</param>
/// <param name="Device">In such a recording: the device the frame was captured on.</param>
public sealed record KernelFrame(long Frame, string Direction, string Summary, bool Attributed, IReadOnlyList<KernelEnd> Ends, IReadOnlyList<KernelHop> Path,
    long? CopyOf = null, string? Device = null);

/// <summary>
/// A recorded scenario's kernel.json (tests/scenarios/README.md has the schema): per frame of wire.pcap,
/// the namespaces the packet crossed, the chains the kernel ran there, and where it ended.
/// </summary>
public sealed class KernelRecord
{
    public required string Scenario { get; init; }
    /// <summary>"ns/dev" of the capture point.</summary>
    public required string Wire { get; init; }
    public string? Kernel { get; init; }
    public required IReadOnlyList<KernelFrame> Frames { get; init; }
    /// <summary>conntrack -L of every namespace after the traffic.</summary>
    public IReadOnlyList<KernelConntrack> Conntrack { get; init; } = Array.Empty<KernelConntrack>();
    /// <summary>conntrack -L expect of every namespace after the traffic: (namespace, the line as printed); absent in older recordings.</summary>
    public IReadOnlyList<(string Namespace, string Line)> Expectations { get; init; } = Array.Empty<(string, string)>();
    /// <summary>When each namespace's conntrack -L ran, in ns since the epoch (the pcap's clock); absent in older recordings.</summary>
    public IReadOnlyDictionary<string, long> ConntrackListedNs { get; init; } = new Dictionary<string, long>();
    /// <summary>ss -tan and ss -uan of every namespace after the traffic; absent in older recordings.</summary>
    public IReadOnlyList<KernelSocket> Sockets { get; init; } = Array.Empty<KernelSocket>();
    /// <summary>When each namespace's sockets were listed, in ns since the epoch (the pcap's clock); a namespace without it has no socket listing.</summary>
    public IReadOnlyDictionary<string, long> SocketsListedNs { get; init; } = new Dictionary<string, long>();
    /// <summary>What the traffic added to the counters of each namespace (rule counters and quotas, named counters and quotas, set element counters); absent in older recordings.</summary>
    public IReadOnlyList<KernelCounter> Counters { get; init; } = Array.Empty<KernelCounter>();
    /// <summary>The namespaces whose counters the recording listed.</summary>
    public IReadOnlySet<string> CountersListed { get; init; } = new HashSet<string>();
    /// <summary>The devices of each namespace (kernel.json "devices").</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Devices { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>
    /// The namespaces every packet of which the capture shows: the capture's own namespace when it
    /// captured all of it ("NS/any") or its capture device is its only one but loopback. Only their
    /// counters are comparable with a replay of the capture (<see cref="CounterJudge"/>).
    /// </summary>
    public IReadOnlySet<string> CoveredByCapture()
    {
        var slash = Wire.IndexOf('/');
        string ns = Wire[..slash], dev = Wire[(slash + 1)..];
        bool all = dev == "any" || Devices.TryGetValue(ns, out var d) && d.Where(x => x != "lo").SequenceEqual([dev]);
        return all ? new HashSet<string> { ns } : new HashSet<string>();
    }
    /// <summary>When lab.sh ended (ns since the epoch, the pcap's clock): timers the lab started (STP) run from there. Absent in older recordings.</summary>
    public long? LabDoneNs { get; init; }

    /// <summary>
    /// An end of only "Unknown" fates: the recorder saw the packet enter but neither a drop, a delivery
    /// nor a copy leaving (lost under emulation, e.g. the qemu recordings of tests/Kernel/vm): the
    /// record cannot tell what the kernel did, so the frame is not judged.
    /// </summary>
    public static bool LostEnd(IReadOnlyList<KernelEnd> ends) => ends.Count > 0 && ends.All(e => e.Fate == "Unknown");

    public static KernelRecord Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        string wire = root.GetProperty("wire") is { ValueKind: JsonValueKind.Object } w
            ? $"{Str(w, "ns")}/{Str(w, "dev")}" : root.GetProperty("wire").GetString()!;
        var frames = new List<KernelFrame>();
        foreach (var f in root.GetProperty("frames").EnumerateArray())
        {
            var ends = Arr(f, "end").Select(e => new KernelEnd(Str(e, "ns") ?? "?", Str(e, "fate") ?? "?", Str(e, "reason"))).ToList();
            var path2 = Arr(f, "path").Select(p => new KernelHop(
                Str(p, "ns") ?? "?", Str(p, "in"),
                Arr(p, "chains").Select(c => new KernelChainRun(
                    Str(c, "family") ?? "?", Str(c, "table") ?? "?", Str(c, "chain") ?? "?", Str(c, "verdict") ?? "?",
                    c.TryGetProperty("rule", out var r) && r.ValueKind == JsonValueKind.Object && r.TryGetProperty("handle", out var h) && h.ValueKind == JsonValueKind.Number ? h.GetInt32() : null,
                    c.TryGetProperty("rule", out var r2) && r2.ValueKind == JsonValueKind.Object ? Str(r2, "text") : null,
                    Str(c, "by"))).ToList(),
                Str(p, "fate"), Str(p, "reason"),
                p.TryGetProperty("decap", out var dc) && dc.ValueKind == JsonValueKind.True)).ToList();
            frames.Add(new KernelFrame(f.GetProperty("frame").GetInt64(), Str(f, "direction") ?? "?", Str(f, "summary") ?? "",
                (!f.TryGetProperty("attributed", out var a) || a.ValueKind != JsonValueKind.False) && !LostEnd(ends), ends, path2,
                f.TryGetProperty("copyOf", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt64() : null, Str(f, "dev")));
        }
        var conntrack = new List<KernelConntrack>();
        var expect = new List<(string, string)>();
        var listed = new Dictionary<string, long>();
        var sockets = new List<KernelSocket>();
        var socketsListed = new Dictionary<string, long>();
        var counters = new List<KernelCounter>();
        var countersListed = new HashSet<string>();
        var devices = new Dictionary<string, IReadOnlyList<string>>();
        if (root.TryGetProperty("namespaces", out var nss) && nss.ValueKind == JsonValueKind.Object)
            foreach (var ns in nss.EnumerateObject())
            {
                if (Str(ns.Value, "conntrackListed") is { } when) listed[ns.Name] = EpochNs(when, path);
                foreach (var c in Arr(ns.Value, "conntrack"))
                    conntrack.Add(new KernelConntrack(ns.Name, Str(c, "proto") ?? "?", Str(c, "state"), Tuple(c, "original"), Tuple(c, "reply"),
                        Arr(c, "flags").Select(x => x.GetString() ?? "").ToList(), c.TryGetProperty("mark", out var m) && m.ValueKind == JsonValueKind.Number ? m.GetUInt32() : 0,
                        Int(c, "zone") ?? Int(c, "zoneOrig") ?? Int(c, "zoneReply") ?? 0,
                        c.TryGetProperty("timeout", out var to) && to.ValueKind == JsonValueKind.Number ? to.GetInt32() : null, Acct(c), Str(c, "helper"),
                        Int(c, "zoneOrig") is not null ? "original" : Int(c, "zoneReply") is not null ? "reply" : "both",
                        Arr(c, "labels").Select(x => x.GetString() ?? "").ToList()));
                foreach (var x in Arr(ns.Value, "expect")) expect.Add((ns.Name, x.GetString() ?? ""));
                if (Str(ns.Value, "socketsListed") is { } ssAt) socketsListed[ns.Name] = EpochNs(ssAt, path);
                if (ns.Value.TryGetProperty("devices", out var ds) && ds.ValueKind == JsonValueKind.Object)
                    devices[ns.Name] = ds.EnumerateObject().Select(x => x.Name).ToList();
                if (ns.Value.TryGetProperty("counters", out var cs) && cs.ValueKind == JsonValueKind.Array)
                {
                    countersListed.Add(ns.Name);
                    foreach (var x in cs.EnumerateArray())
                        counters.Add(new KernelCounter(ns.Name, Str(x, "family") ?? "?", Str(x, "table") ?? "?", Str(x, "kind") ?? "?", Str(x, "chain"), Int(x, "handle"),
                            Str(x, "name"), Str(x, "set"), Str(x, "element"), Long(x, "packets"), Long(x, "bytes") ?? 0));
                }
                foreach (var x in Arr(ns.Value, "sockets"))
                    sockets.Add(new KernelSocket(ns.Name, Str(x, "proto") ?? "?", Str(x, "state") ?? "?", Str(x, "local") ?? "?", Str(x, "peer") ?? "?"));
            }
        return new KernelRecord
        {
            Scenario = Str(root, "scenario") ?? Path.GetFileName(Path.GetDirectoryName(path)) ?? "?", Wire = wire, Kernel = Str(root, "kernel"),
            Frames = frames, Conntrack = conntrack, Expectations = expect, ConntrackListedNs = listed, Sockets = sockets, SocketsListedNs = socketsListed,
            Counters = counters, CountersListed = countersListed, Devices = devices,
            LabDoneNs = root.TryGetProperty("labDone", out var lab) ? lab.ValueKind switch
            {
                JsonValueKind.String => EpochNs(lab.GetString()!, path),
                JsonValueKind.Number => (long)Math.Round(lab.GetDouble() * 1e9),
                _ => null,
            } : null,
        };
    }

    private static int? Int(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;

    private static long? Long(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

    /// <summary>"seconds.nanoseconds" as `date +%s.%N` prints it, in ns since the epoch.</summary>
    private static long EpochNs(string text, string path)
    {
        var parts = text.Split('.');
        if (parts.Length is < 1 or > 2 || !long.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var sec)
            || (parts.Length == 2 && (parts[1].Length is 0 or > 9 || !parts[1].All(char.IsAsciiDigit))))
            throw new FormatException($"{path}: conntrackListed '{text}' is not seconds.nanoseconds");
        long frac = parts.Length == 2 ? long.Parse(parts[1].PadRight(9, '0'), System.Globalization.CultureInfo.InvariantCulture) : 0;
        return sec * 1_000_000_000 + frac;
    }

    /// <summary>The packets and bytes analyze.py keeps in each direction's tuple object (conntrack -L prints them after the tuple), or null.</summary>
    private static KernelCtAcct? Acct(JsonElement c)
    {
        static ulong? N(JsonElement c, string dir, string key) =>
            c.TryGetProperty(dir, out var t) && t.ValueKind == JsonValueKind.Object && t.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetUInt64() : null;
        return N(c, "original", "packets") is { } op && N(c, "original", "bytes") is { } ob && N(c, "reply", "packets") is { } rp && N(c, "reply", "bytes") is { } rb
            ? new KernelCtAcct(op, ob, rp, rb) : null;
    }

    /// <summary>A recorded tuple in conntrack -L's words, the way <see cref="Netfilter.Conntrack.ConntrackTuple.ToString"/> prints one.</summary>
    private static string Tuple(JsonElement c, string name)
    {
        if (!c.TryGetProperty(name, out var t) || t.ValueKind != JsonValueKind.Object) return "";
        var head = $"src={Str(t, "src")} dst={Str(t, "dst")}";
        if (t.TryGetProperty("type", out _)) return $"{head} type={Str(t, "type")} code={Str(t, "code")} id={Str(t, "id")}";
        if (t.TryGetProperty("srckey", out _)) return $"{head} srckey={Str(t, "srckey")} dstkey={Str(t, "dstkey")}";
        return t.TryGetProperty("sport", out _) ? $"{head} sport={Str(t, "sport")} dport={Str(t, "dport")}" : head;
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined) ? v.ToString() : null;

    private static IEnumerable<JsonElement> Arr(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : Enumerable.Empty<JsonElement>();
}
