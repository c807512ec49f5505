using PktFlow.Topology;

namespace PktFlow.Datapath;

/// <summary>
/// Collects the events of one packet's walk (the event sink of the engine) and ends it with a fate.
/// Stages call <see cref="Stage"/> as they pass, <see cref="NotModelled"/> where the kernel runs
/// something the model does not evaluate yet, and one of the ending methods exactly once.
/// </summary>
public sealed class TraceBuilder
{
    // A path has a dozen or two events; the other lists are usually empty, so they are made on first use.
    private readonly List<HookEvent> _path;
    private List<string>? _generated;
    private List<string>? _notes;
    private List<RandomOutcome>? _outcomes;
    private List<GeneratedPacket>? _emitted;

    public TraceBuilder() => _path = new(24);

    /// <summary>Walks into <paramref name="path"/>, an empty list kept from an earlier packet (see <see cref="PathArray"/>).</summary>
    internal TraceBuilder(List<HookEvent> path) => _path = path;

    /// <summary>The path as the trace keeps it; the builder's list is then emptied for the next packet's builder.</summary>
    internal HookEvent[] PathArray(out List<HookEvent> spare)
    {
        var a = _path.ToArray();
        _path.Clear();
        spare = _path;
        return a;
    }

    public Fate? Fate { get; private set; }
    public string Reason { get; private set; } = "";
    public string? Route { get; set; }
    public string? Egress { get; private set; }
    public IReadOnlyList<HookEvent> Path => _path;
    public IReadOnlyList<string> Generated => (IReadOnlyList<string>?)_generated ?? Array.Empty<string>();
    public IReadOnlyList<string> Notes => (IReadOnlyList<string>?)_notes ?? Array.Empty<string>();
    public IReadOnlyList<RandomOutcome> Outcomes => (IReadOnlyList<RandomOutcome>?)_outcomes ?? Array.Empty<RandomOutcome>();
    public void Outcome(RandomOutcome o) => (_outcomes ??= new()).Add(o);
    private List<Routing.CaptureHashedFlow>? _captureHashed;
    /// <summary>Flows whose multipath nexthop the kernel takes from a capture's per-boot hash (Routing.CaptureHashedNexthops).</summary>
    public IReadOnlyList<Routing.CaptureHashedFlow> CaptureHashedFlows => (IReadOnlyList<Routing.CaptureHashedFlow>?)_captureHashed ?? Array.Empty<Routing.CaptureHashedFlow>();
    public void CaptureHashed(Routing.CaptureHashedFlow f) => (_captureHashed ??= new()).Add(f);
    /// <summary>Packets the kernel sends in answer, built; the engine traces them as child traces.</summary>
    public IReadOnlyList<GeneratedPacket> Emitted => (IReadOnlyList<GeneratedPacket>?)_emitted ?? Array.Empty<GeneratedPacket>();
    public bool Ended => Fate is not null;
    /// <summary>Set by a stage that leaves the packet waiting: its fate is decided later (PacketTrace.Later).</summary>
    public Neighbour.LaterFate? Later { get; set; }

    public void Stage(SkBuff skb, string stage, string function, Verdict verdict = Verdict.Pass, string? detail = null) =>
        _path.Add(new HookEvent { Namespace = skb.Netns.Name, Device = skb.Dev.Name, Stage = stage, Function = function, Verdict = verdict, Detail = detail });

    public void NotModelled(SkBuff skb, string stage, string function, string detail) =>
        Stage(skb, stage, function, Verdict.NotModelled, detail);

    /// <summary>
    /// A NotModelled stage whose detail never changes for a device (XDP, GRO, tc): the event is made
    /// once per device and shared by every trace, since events are immutable.
    /// </summary>
    public void NotModelledConstant(SkBuff skb, string stage, string function, string detail)
    {
        var cache = skb.State.EventCache;
        if (!cache.TryGetValue((skb.Dev, stage, null), out var e))
            cache[(skb.Dev, stage, null)] = e = new HookEvent
            {
                Namespace = skb.Netns.Name, Device = skb.Dev.Name, Stage = stage, Function = function, Verdict = Verdict.NotModelled, Detail = detail,
            };
        _path.Add(e);
    }

    /// <summary>
    /// A stage whose detail depends only on the device and <paramref name="key"/> (and what
    /// <paramref name="arg"/> carries, which must follow from them): made once per device and key and
    /// shared by every trace. <paramref name="detail"/> should be a static lambda, so nothing is allocated per packet.
    /// </summary>
    public void SharedStage<TArg>(SkBuff skb, string stage, string function, Verdict verdict, long key, TArg arg, Func<SkBuff, TArg, string> detail)
    {
        var cache = skb.State.SharedEvents;
        if (!cache.TryGetValue((skb.Dev, stage, key), out var e))
            cache[(skb.Dev, stage, key)] = e = new HookEvent
            {
                Namespace = skb.Netns.Name, Device = skb.Dev.Name, Stage = stage, Function = function, Verdict = verdict, Detail = detail(skb, arg),
            };
        _path.Add(e);
    }

    /// <summary>A netfilter hook of a namespace without a ruleset: Pass, or NotModelled when unevaluated configuration could have set one.</summary>
    public void NfHook(SkBuff skb, NfFamily family, NfHook hook, NetDevice? dev = null)
    {
        var device = dev ?? skb.Dev;
        var cache = skb.State.EventCache;
        var key = (device, FamilyNames[(int)family], (NfHook?)hook);
        if (cache.TryGetValue(key, out var cached)) { _path.Add(cached); return; }
        // With no ruleset nothing is registered at the hook and the kernel goes straight on; configuration
        // the model does not evaluate (ebtables, tc, ...) might have registered something, so that is said.
        bool unknown = skb.Netns.Unmodelled.Count > 0;
        string detail = unknown
            ? $"no ruleset the model evaluates; {skb.Netns.Unmodelled.Count} configuration line(s) it does not evaluate may register hooks here"
            : "no ruleset in this namespace: nothing is registered at this hook";
        var e = new HookEvent
        {
            Namespace = skb.Netns.Name, Device = device.Name, Stage = "NfHook", Function = "nf_hook_slow",
            Family = family, Hook = hook, Verdict = unknown ? Verdict.NotModelled : Verdict.Pass, Detail = detail,
        };
        cache[key] = e;
        _path.Add(e);
    }

    /// <summary>The family names as cache keys (Enum.ToString boxes the value on every call).</summary>
    private static readonly string[] FamilyNames = Enum.GetNames<NfFamily>();

    /// <summary>Adds an event built by a stage that needs more than the common fields (netfilter chain runs).</summary>
    public void Add(HookEvent e) => _path.Add(e);

    /// <summary>Something the kernel sends (or would send) in answer that the model describes but does not build.</summary>
    public void Generate(string description) => (_generated ??= new()).Add(description);

    /// <summary>A packet the kernel sends in answer, built: described in Generated and traced as a child.</summary>
    public void Emit(GeneratedPacket packet)
    {
        (_generated ??= new()).Add(packet.Description);
        (_emitted ??= new()).Add(packet);
    }
    /// <summary>Takes what a scratch walk (a flooded copy) generated.</summary>
    public void TakeGenerated(TraceBuilder scratch)
    {
        if (scratch._generated is { } g) (_generated ??= new()).AddRange(g);
        if (scratch._emitted is { } e) (_emitted ??= new()).AddRange(e);
    }

    public void Note(string note) { if (!(_notes ??= new()).Contains(note)) _notes.Add(note); }

    public void Drop(SkBuff skb, string stage, string function, string reason, string detail)
    {
        Stage(skb, stage, function, Verdict.Drop, detail);
        End(PktFlow.Fate.Dropped, reason);
    }

    public void End(Fate fate, string reason, string? egress = null)
    {
        if (Fate is not null) throw new InvalidOperationException($"packet already ended as {Fate} ({Reason}); stage bug");
        Fate = fate;
        Reason = reason;
        Egress = egress;
    }

    public void Unsupported(SkBuff? skb, string what)
    {
        if (skb is not null) Stage(skb, "Unsupported", "-", Verdict.NotModelled, what);
        End(PktFlow.Fate.Unsupported, "unsupported: " + what);
    }
}
