namespace PktFlow.Netfilter.Nftables;

/// <summary>One path through a hook's random decisions: the choices, their joint probability, the hook's result.</summary>
internal sealed record NftOutcome(IReadOnlyList<string> Choices, double Probability, NftHookResult Result, bool Taken);

/// <summary>
/// The every-outcome mode: re-runs one hook for each combination of the random decisions the packet
/// meets there (depth first: a forced choice per decision, new decisions branch in turn), each time on a
/// copy of the namespace's state and of the packet's mark, so the replay itself follows only the seeded
/// path. Paths of probability 0 are left out, so the listed probabilities sum to 1.
/// </summary>
internal static class NftOutcomes
{
    /// <summary>At most this many paths per hook (kube-proxy services have one decision per endpoint, so this is plenty).</summary>
    public const int MaxOutcomes = 256;

    public static IReadOnlyList<NftOutcome> Enumerate(NftRuleset rs, NftFamily family, NftHookPoint hook, INftPacket p, uint markBefore,
        NftChainFilter filter, NftState before, IReadOnlyList<NftRandomDecision> taken, uint priorityBefore = 0, byte[]? networkBefore = null)
    {
        var list = new List<NftOutcome>();
        var takenPath = taken.Select(d => d.Chosen).ToArray();
        var prefix = new List<int>();
        var choices = new List<string>();
        Walk(1.0);
        return list;

        void Walk(double probability)
        {
            if (list.Count >= MaxOutcomes) return;
            var state = before.CloneForDryRun(prefix.ToArray());
            var r = NftEvaluator.RunHook(rs, family, hook, new DryRunPacket(p, markBefore, priorityBefore, (networkBefore ?? p.Network.ToArray()).ToArray()), filter, state);
            if (r.Decisions.Count > prefix.Count)
            {
                var d = r.Decisions[prefix.Count];
                for (int a = 0; a < d.Alternatives.Count; a++)
                {
                    if (d.Probabilities[a] <= 0) continue;
                    prefix.Add(a); choices.Add($"rule {d.RuleHandle}: {d.Alternatives[a]}");
                    Walk(probability * d.Probabilities[a]);
                    prefix.RemoveAt(prefix.Count - 1); choices.RemoveAt(choices.Count - 1);
                }
                return;
            }
            list.Add(new NftOutcome(choices.ToArray(), probability, r, prefix.SequenceEqual(takenPath)));
        }
    }

    /// <summary>The packet as the hook saw it, with a mark, priority and bytes of its own so an alternative cannot change the real ones (payload statements write into the copy).</summary>
    private sealed class DryRunPacket : INftPacket
    {
        private readonly INftPacket _p;
        private readonly byte[] _network;
        public DryRunPacket(INftPacket p, uint mark, uint priority, byte[] network) { _p = p; Mark = mark; Priority = priority; _network = network; }
        public NftFamily Family => _p.Family;
        public ReadOnlySpan<byte> Network => _network;
        public Span<byte> MutableNetwork => _network;
        public ReadOnlySpan<byte> Link => _p.Link;
        public byte L4Protocol => _p.L4Protocol;
        public int TransportOffset => _p.TransportOffset;
        public string? InputInterface => _p.InputInterface;
        public string? OutputInterface => _p.OutputInterface;
        public int InputIfIndex => _p.InputIfIndex;
        public int OutputIfIndex => _p.OutputIfIndex;
        public uint Mark { get; set; }
        public uint Priority { get; set; }
        public byte PacketType => _p.PacketType;
        public NftCtInfo? Conntrack => _p.Conntrack;
        public bool IsLocalAddress(ReadOnlySpan<byte> address, bool v6) => _p.IsLocalAddress(address, v6);
        public NftConnKey? ConnCountKey => _p.ConnCountKey;
        public NftDevInfo? InputDevice => _p.InputDevice;
        public NftDevInfo? OutputDevice => _p.OutputDevice;
        public NftConnPresence FindConnection(NftConnKey key) => _p.FindConnection(key);
        public ushort? RtTcpMss => _p.RtTcpMss;
        public bool SynproxyCookieValid => _p.SynproxyCookieValid;
        public bool SynproxyChecksumBad(bool xt) => _p.SynproxyChecksumBad(xt);
    }
}
