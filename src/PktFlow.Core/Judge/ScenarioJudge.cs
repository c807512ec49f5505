using PktFlow.Replay;
using PktFlow.Topology.Lab;

namespace PktFlow.Judge;

/// <summary>The model against the kernel for one frame.</summary>
public sealed class FrameJudgement
{
    public required string Scenario { get; init; }
    public long Frame { get; init; }
    public string Direction { get; init; } = "";
    public string Summary { get; init; } = "";
    /// <summary>False when the recording could not tell what the kernel did with this frame (not counted).</summary>
    public bool Judged { get; init; }
    public bool Agrees { get; init; }
    public string Kernel { get; init; } = "";
    public string Model { get; init; } = "";
    public IReadOnlyList<string> Differences { get; init; } = Array.Empty<string>();
    public required PacketTrace Trace { get; init; }
}

/// <summary>The model against the kernel for one recorded scenario.</summary>
public sealed class ScenarioJudgement
{
    public required string Scenario { get; init; }
    public required IReadOnlyList<FrameJudgement> Frames { get; init; }
    /// <summary>The model's conntrack tables after the replay against the recorded conntrack -L.</summary>
    public ConntrackJudgement Conntrack { get; init; } = ConntrackJudgement.Empty;
    /// <summary>The model's TCP sockets after the replay against the recorded ss -tan.</summary>
    public SocketJudgement Sockets { get; init; } = SocketJudgement.Empty;
    /// <summary>The model's netfilter counters after the replay against what the traffic added to the kernel's.</summary>
    public CounterJudgement Counters { get; init; } = CounterJudgement.Empty;
    public int Judged => Frames.Count(f => f.Judged);
    public int Agreed => Frames.Count(f => f.Judged && f.Agrees);
    public double Agreement => Judged == 0 ? 0 : (double)Agreed / Judged;
    /// <summary>For a scenario whose rules draw at random: the seed the replay judged used (the best of those tried). Null otherwise.</summary>
    public int? Seed { get; init; }
    /// <summary>How many seeds the judge tried to reproduce the kernel's random draws (1 when nothing is random).</summary>
    public int SeedsTried { get; init; } = 1;
    public override string ToString() => $"{Scenario}: {Agreed}/{Judged} frames agree{(Seed is { } s ? $" (seed {s}, {SeedsTried} tried)" : "")}";
}

/// <summary>
/// The judge (issue 3): replays a recorded scenario's wire.pcap through the model built from the same
/// lab.sh, injected at the same wire point, and compares every frame with what the kernel recorded:
/// where the packet ended (namespace, fate, drop reason) and, in every namespace, the nftables chains
/// the kernel ran with their verdicts and deciding rules. A frame agrees only if all of that agrees.
/// </summary>
public static class ScenarioJudge
{
    public static ScenarioJudgement Judge(string scenarioDirectory) => Judge(scenarioDirectory, LoadLab(scenarioDirectory));

    /// <summary>
    /// The scenario's lab.sh, with the client sockets its traffic.sh opens (read as declarations only,
    /// <see cref="LabLoader.Load(string, string, string, string)"/>): what a user of the lab knows of who
    /// holds which flow, and all the model is told of it.
    /// </summary>
    public static Topology.HostTopology LoadLab(string scenarioDirectory)
    {
        var traffic = Path.Combine(scenarioDirectory, "traffic.sh");
        return LabLoader.LoadFile(Path.Combine(scenarioDirectory, "lab.sh"), File.Exists(traffic) ? traffic : null);
    }

    /// <summary>How many seeds the judge tries on a scenario whose rules draw at random.</summary>
    public const int MaxSeeds = 1024;

    /// <summary>
    /// Judges the scenario's capture replayed through <paramref name="topology"/> (its lab, possibly altered).
    /// Rules that draw at random (statistic --mode random, numgen random, unseeded jhash) chose in the
    /// kernel with draws no capture holds, so such a scenario is replayed with seeds 1, 2, ... until one
    /// reproduces every frame (at most <see cref="MaxSeeds"/>); the best seed is kept and reported. What
    /// is judged then is everything but the draw itself: that the kernel's choice was among the
    /// outcomes the model allows, and all that followed from it. The odds are tested apart
    /// (-Outcomes All, docs/results.md).
    /// </summary>
    public static ScenarioJudgement Judge(string scenarioDirectory, Topology.HostTopology topology)
    {
        var record = KernelRecord.Load(Path.Combine(scenarioDirectory, "kernel.json"));
        // The first replay lists every random outcome, which tells whether anything was drawn at all.
        var best = JudgeWithSeed(scenarioDirectory, topology, record, Datapath.DatapathEngine.DefaultSeed, Datapath.RandomOutcomes.All, out bool random);
        var pins = CaptureHashedPins(scenarioDirectory, topology, record, best);
        if (pins is not null) best = JudgeWithSeed(scenarioDirectory, topology, record, Datapath.DatapathEngine.DefaultSeed, Datapath.RandomOutcomes.All, out random, pins);
        if (!random) return new ScenarioJudgement { Scenario = best.Scenario, Frames = best.Frames, Conntrack = best.Conntrack, Sockets = best.Sockets, Counters = best.Counters };
        int tried = 1;
        for (int seed = Datapath.DatapathEngine.DefaultSeed + 1; best.Agreed < best.Judged && tried < MaxSeeds; seed++, tried++)
        {
            var j = JudgeWithSeed(scenarioDirectory, topology, record, seed, Datapath.RandomOutcomes.Seeded, out _, pins);
            if (j.Agreed > best.Agreed || j.Agreed == best.Agreed && j.Conntrack.Agreed > best.Conntrack.Agreed) best = j;
        }
        return new ScenarioJudgement { Scenario = best.Scenario, Frames = best.Frames, Conntrack = best.Conntrack, Sockets = best.Sockets, Counters = best.Counters, Seed = best.Seed, SeedsTried = tried };
    }

    /// <summary>
    /// Multipath routes hashed with the L4 policy take, in a recording, the capture's per-boot skb hash
    /// (Routing.CaptureHashedNexthops): the kernel's nexthop is any allowed one, fixed per flow. Each
    /// such flow is pinned to the allowed nexthop (by index) under which all of its frames agree, or the
    /// most of them: replays with every flow on nexthop 1, 2, ... tell which. A flow the kernel sent
    /// over two nexthops agrees under no single pin, so its frames on the other one stay disagreements.
    /// Null when no frame met such a choice.
    /// </summary>
    private static Routing.CaptureHashedNexthops? CaptureHashedPins(string scenarioDirectory, Topology.HostTopology topology, KernelRecord record, ScenarioJudgement first)
    {
        int most = first.Frames.SelectMany(f => AllTraces(f.Trace)).SelectMany(t => t.CaptureHashed).Select(c => c.Nexthops).DefaultIfEmpty(0).Max();
        if (most == 0) return null;
        var agreed = new Dictionary<Routing.MultipathFlow, int[]>();
        for (int index = 0; index < most; index++)
        {
            var j = JudgeWithSeed(scenarioDirectory, topology, record, Datapath.DatapathEngine.DefaultSeed, Datapath.RandomOutcomes.Seeded, out _, new Routing.CaptureHashedNexthops { Default = index });
            foreach (var f in j.Frames.Where(f => f.Judged))
                foreach (var flow in AllTraces(f.Trace).SelectMany(t => t.CaptureHashed).Select(c => c.Flow).Distinct())
                {
                    if (!agreed.TryGetValue(flow, out var counts)) agreed[flow] = counts = new int[most];
                    if (f.Agrees) counts[index]++;
                }
        }
        var pins = new Routing.CaptureHashedNexthops();
        foreach (var (flow, counts) in agreed) pins.Pin(flow, Array.IndexOf(counts, counts.Max()));
        return pins;
    }

    private static IEnumerable<PacketTrace> AllTraces(PacketTrace t) => t.GeneratedTraces.SelectMany(AllTraces).Prepend(t);

    private static ScenarioJudgement JudgeWithSeed(string scenarioDirectory, Topology.HostTopology topology, KernelRecord record, int seed, Datapath.RandomOutcomes outcomes, out bool random, Routing.CaptureHashedNexthops? pins = null)
    {
        var name = Path.GetFileName(Path.GetFullPath(scenarioDirectory).TrimEnd(Path.DirectorySeparatorChar));
        var runner = new ReplayRunner(new ReplayOptions { Topology = topology, InjectAt = record.Wire, Seed = seed, Outcomes = outcomes, LabDoneNs = record.LabDoneNs, CaptureHashedPins = pins });
        var wire = Path.Combine(scenarioDirectory, "wire.pcap");
        var traces = runner.Run(wire).OfType<TraceEvent>().Select(e => e.Trace).ToDictionary(t => t.Frame);
        random = outcomes == Datapath.RandomOutcomes.All && traces.Values.Any(t => t.Outcomes.Count > 0);
        var onWire = ConntrackJudge.TuplesOnWire(wire);
        var conntrack = ConntrackJudge.Compare(record.Conntrack, runner.States[0].Conntrack(), onWire, record.ConntrackListedNs, record.Wire);
        var sockets = SocketJudge.Compare(record.Sockets, SocketJudge.ModelAt(runner.States[0], record.SocketsListedNs), onWire, record.Wire);
        var counters = CounterJudge.Compare(record.Counters, record.CountersListed.Intersect(record.CoveredByCapture()).ToHashSet(), runner.States[0].Counters(), runner.States[0].SetElements(),
            CounterJudge.Reached(record.Frames.Where(f => f.Attributed), traces.Values));
        // the expectations helpers left count as entries of the table
        var expect = ConntrackJudge.CompareExpectations(record.Expectations, runner.States[0].ConntrackExpectations(), record.ConntrackListedNs);
        if (expect.Total > 0)
            conntrack = conntrack with { Differences = conntrack.Differences.Concat(expect.Differences).ToList(), Agreed = conntrack.Agreed + expect.Agreed, Total = conntrack.Total + expect.Total };
        var frames = new List<FrameJudgement>();
        foreach (var k in record.Frames)
        {
            if (!traces.TryGetValue(k.Frame, out var t)) continue;
            var differences = new List<string>();
            // a copy of a packet an earlier frame showed was judged with that frame: here only whether it is recognised
            bool copy = k.CopyOf is not null || t.CopyOf is not null;
            if (copy) CompareCopy(k, t, differences);
            else if (k.Attributed)
            {
                Compare(k, t, differences);
                CompareAnswers(k, t, traces, record.Wire, differences);
            }
            bool judged = k.Attributed || k.CopyOf is not null;
            frames.Add(new FrameJudgement
            {
                Scenario = name, Frame = k.Frame, Direction = k.Direction, Summary = t.Summary, Judged = judged,
                Agrees = judged && differences.Count == 0, Kernel = k.CopyOf is { } of ? $"copy of frame {of}" : string.Join("; ", k.Ends),
                Model = t.CopyOf is { } mof ? $"copy of frame {mof}" : ModelEnd(t), Differences = differences, Trace = t,
            });
        }
        return new ScenarioJudgement { Scenario = name, Frames = frames, Conntrack = conntrack, Sockets = sockets, Counters = counters, Seed = seed };
    }

    /// <summary>
    /// A recording of a whole namespace (tcpdump -i any) shows a packet once per device it crosses: the
    /// kernel's record names the earlier frame of the same packet, and the model must recognise the same.
    /// </summary>
    private static void CompareCopy(KernelFrame k, PacketTrace t, List<string> differences)
    {
        if (k.CopyOf == t.CopyOf) return;
        if (t.CopyOf is null) differences.Add($"copy: the kernel's frame is a copy of frame {k.CopyOf}{(k.Device is null ? "" : $" seen on {k.Device}")}; the model traced it as a new packet ({ModelEnd(t)})");
        else if (k.CopyOf is null) differences.Add($"copy: the model takes it for a copy of frame {t.CopyOf}; for the kernel it is a packet of its own ({string.Join("; ", k.Ends)})");
        else differences.Add($"copy: kernel copy of frame {k.CopyOf}, model copy of frame {t.CopyOf}");
    }

    private static string ModelEnd(PacketTrace t) =>
        $"{(t.Path.Count > 0 ? t.Path[^1].Namespace : "?")}: {t.Fate} {t.Reason}".TrimEnd();

    private static void Compare(KernelFrame k, PacketTrace t, List<string> differences)
    {
        // Where it ended.
        string modelNs = t.Path.Count > 0 ? t.Path[^1].Namespace : "?";
        if (k.Ends.Count > 0 && !k.Ends.Any(e => EndAgrees(e, modelNs, t, k.Path.Any(h => h.Decap && h.Namespace == e.Namespace))))
            differences.Add($"end: kernel {string.Join(" / ", k.Ends)}, model {ModelEnd(t)}");

        // The chains the kernel ran, namespace by namespace (the sender's own namespace before the wire
        // is not replayed: the capture starts at the wire). A namespace the packet visits twice (a
        // tunnel packet and the inner packet decapsulated from it) is one sequence of chain runs.
        foreach (var hop in NamespaceHops(k.Path))
        {
            var modelRuns = t.Path.Where(e => e.Namespace == hop.Namespace && e.Stage == "NfHook" && e.Table is not null).ToList();
            bool modelSawNamespace = t.Path.Any(e => e.Namespace == hop.Namespace);
            if (!modelSawNamespace)
            {
                if (hop.In is null) continue; // the origin namespace of an inbound frame, outside the replay
                differences.Add($"{hop.Namespace}: the kernel ran {string.Join(", ", hop.Chains)}; the model's packet never reached {hop.Namespace}");
                continue;
            }
            var kernelText = hop.Chains.Select(c => $"{c.Family} {c.Table} {c.Chain} {c.Verdict}{(c.RuleHandle is { } h ? $" #{h}" : "")}").ToList();
            var modelText = BaseChainRuns(modelRuns).ToList();
            if (!kernelText.SequenceEqual(modelText))
                differences.Add(modelRuns.Count == 0
                    ? $"{hop.Namespace}: the kernel ran {string.Join(", ", hop.Chains)}; the model does not evaluate netfilter yet"
                    : $"{hop.Namespace}: kernel chains [{string.Join(", ", kernelText)}], model [{string.Join(", ", modelText)}]");
        }
    }

    /// <summary>The hops that ran chains, one per namespace, with the chains of its later hops appended in order.</summary>
    private static IEnumerable<KernelHop> NamespaceHops(IReadOnlyList<KernelHop> path) =>
        path.Where(h => h.Chains.Count > 0).GroupBy(h => h.Namespace)
            .Select(g => g.Count() == 1 ? g.First() : g.First() with { Chains = g.SelectMany(h => h.Chains).ToList() });

    /// <summary>
    /// The packets the kernel sends in answer (ICMP errors, echo replies, resets, ARP replies, neighbour
    /// advertisements; what ICMP rate limiting lets through): every child trace of a frame that leaves
    /// by the capture point must be a frame of the capture, and every answer the capture shows the
    /// host sending must be the child of an earlier frame.
    /// </summary>
    private static void CompareAnswers(KernelFrame k, PacketTrace t, IReadOnlyDictionary<long, PacketTrace> traces, string wire, List<string> differences)
    {
        var slash = wire.IndexOf('/');
        string ns = wire[..slash], dev = wire[(slash + 1)..];
        // Only answers the wire namespace sends or routes leave with its MAC and are recognised as
        // children; a bridged one passes the capture point as a frame arriving on the port.
        // A child bigger than the path's MTU leaves as fragments, which are not matched to it: not counted.
        // A packet pushed out of a neighbour queue by a later one is not answered after all.
        // a recording of the whole namespace ("NS/any") shows what it sends by any of its devices (what
        // another namespace sends arrives there as a packet of its own)
        bool any = dev == "any";
        int predicted = t.Later is { Answered: false } ? 0 : t.GeneratedTraces.Count(c => Datapath.ChildTraces.LeavesBy(c, ns, any ? null : dev)
            && (!any || c.Path.Count > 0 && c.Path[0].Namespace == ns)
            && c.Path.Any(e => e.Namespace == ns && e.Stage is "NeighOutput" or "ArpSend")
            && !c.Path.Any(e => e.Stage is "IpFinishOutput" or "Ip6FinishOutput" && e.Verdict == Verdict.NotModelled || e.Stage is "IpDoFragment" or "Ip6DoFragment"));
        if (predicted > 0)
        {
            int seen = traces.Values.Count(x => x.CausedBy == t.Frame && x.GeneratedBy is null && x.Frame != t.Frame);
            if (seen < predicted)
                differences.Add($"answers: the model sends {predicted} packet(s) out {wire} in answer ({string.Join("; ", t.GeneratedTraces.Select(c => c.Summary))}), the capture shows {seen}");
        }
        // An answer the model did not build is judged only where the model held one back for a rate
        // limit shortly before: elsewhere it is a socket table or a stage the model does not know.
        if (k.Direction == "out" && t.CausedBy is null && t.Path.Count > 0 && t.Path[0].Stage is "Observed" or "ArpSend" && LooksLikeAnswer(t.Summary)
            && !k.Ends.Any(e => e.Fate == "Queued") && k.Path.Count > 0 && k.Path[0].In is null
            && traces.Values.Any(x => x.Frame < t.Frame && x.TimestampNs >= t.TimestampNs - 2_000_000_000L && x.Generated.Any(RateLimited)))
            differences.Add($"answers: the kernel sent this in answer to an earlier frame; the model generated no such packet");
    }

    private static readonly System.Text.RegularExpressions.Regex AnswerSummary = new(
        @"ICMP echo reply|unreachable|time exceeded|parameter problem|packet too big|Flags \[R\.?\]|ARP, Reply|neighbor advertisement|ICMP6, echo reply",
        System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    private static bool LooksLikeAnswer(string summary) => AnswerSummary.IsMatch(summary);

    private static bool RateLimited(string generated) => generated.Contains("icmp_global_allow", StringComparison.Ordinal) || generated.Contains("xrlim_allow", StringComparison.Ordinal);

    /// <summary>
    /// The model's chain events collapsed the way the kernel record lists them: one entry per base
    /// chain run, with the verdict that ended it and the rule that gave it (which may sit in a chain the
    /// base chain jumped to); jumps, gotos, returns and continues are its trail.
    /// </summary>
    private static IEnumerable<string> BaseChainRuns(IEnumerable<HookEvent> events)
    {
        HookEvent? first = null;
        foreach (var e in events)
        {
            first ??= e;
            if (e.Verdict is Verdict.Jump or Verdict.Goto or Verdict.Return or Verdict.Continue) continue;
            yield return $"{first.Family?.ToString().ToLowerInvariant()} {first.Table} {first.Chain} {e.Verdict.ToString().ToLowerInvariant()}{(e.RuleHandle is { } r ? $" #{r}" : "")}";
            first = null;
        }
    }

    /// <summary>
    /// Whether the model took the packet into a tunnel receive in <paramref name="ns"/> that pulls the
    /// outer headers (ip_tunnel_rcv) or rewrites the outer length (fou_udp_recv, gue_udp_recv). The
    /// recorder follows the inner packet to its end (tests/Kernel/lib/analyze.py: link_decapsulated,
    /// a second hop in the namespace); where it found none (recordings made before it did, an inner
    /// packet it could not tie) its record ends with the outer packet "Delivered" to the tunnel's
    /// protocol, and what became of the inner packet is beyond the record.
    /// </summary>
    private static bool Decapsulated(PacketTrace t, string ns) =>
        t.Path.Any(p => p.Namespace == ns && p.Stage is "IpTunnelRcv" or "FouUdpRecv" or "GueUdpRecv" && p.Verdict == Verdict.Pass);

    private static bool EndAgrees(KernelEnd e, string modelNs, PacketTrace t, bool innerRecorded)
    {
        if (e.Namespace != modelNs) return false;
        if (!innerRecorded && e.Fate == "Delivered" && e.Reason is null && Decapsulated(t, e.Namespace)) return true;
        // a packet that waited (neighbour queue): what became of it later
        var (fate, reason) = t.Later is { } later ? (later.Fate, later.Reason) : (t.Fate, t.Reason);
        return (e.Fate, fate) switch
        {
            ("Delivered", Fate.Delivered) => true,
            // A protocol handler that drops after delivery (no socket, ignored broadcast echo).
            ("Delivered", Fate.Dropped) => e.Reason is not null && e.Reason == reason,
            ("Dropped", Fate.Dropped) => e.Reason is null || e.Reason == reason,
            ("Consumed", Fate.Consumed) => true,
            ("Queued", Fate.Consumed) => reason.StartsWith("ip_defrag", StringComparison.Ordinal) || reason.StartsWith("ipv6_frag_rcv", StringComparison.Ordinal),
            // An IPv6 fragment is queued after NF_INET_LOCAL_IN (ip6_input_finish -> ipv6_frag_rcv), and the
            // recorder calls whatever passes the last input chain without a traced drop Delivered: the fragment
            // held there looks delivered to it. (IPv4 holds fragments before LOCAL_IN: recorded as Queued.)
            ("Delivered", Fate.Consumed) => reason.StartsWith("ipv6_frag_rcv", StringComparison.Ordinal)
                && t.Path.Any(h => h.Namespace == modelNs && h.Hook == NfHook.LocalIn),
            ("Transmitted", Fate.Transmitted or Fate.Forwarded) => true,
            // freed after the taps, in the driver's ndo_start_xmit (vxlan_xmit_one's drops): the same reason
            ("Transmitted", Fate.Dropped) => e.Reason is not null && e.Reason == reason,
            ("Forwarded", Fate.Forwarded) => true,
            _ => false,
        };
    }
}
