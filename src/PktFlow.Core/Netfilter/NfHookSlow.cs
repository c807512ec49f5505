using PktFlow.Datapath;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Nftables;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Netfilter;

/// <summary>
/// nf_hook_slow: at one hook, conntrack (nf_conntrack_in at PRE_ROUTING / LOCAL_OUT, confirmation at
/// POST_ROUTING / LOCAL_IN) and the namespace's nftables base chains in priority order, with NAT
/// bindings kept in the conntrack entry. Returns false when the packet was dropped (the trace ends).
/// </summary>
public static class NfHookSlow
{
    [KernelSymbol("nf_hook_slow", "net/netfilter/core.c")]
    public static bool Run(SkBuff skb, TraceBuilder t, NfFamily family, NfHook hook, NetDevice? indev, NetDevice? outdev)
    {
        var ns = skb.Netns;
        if (ns.Nft is not { } rs)
        {
            t.NfHook(skb, family, hook, hook is NfHook.Forward or NfHook.PostRouting or NfHook.Egress or NfHook.Output ? outdev : indev);
            return true;
        }
        var point = Point(hook);
        var packetFamily = family switch
        {
            NfFamily.Netdev => NftFamily.Netdev,
            NfFamily.Arp => NftFamily.Arp,
            NfFamily.Bridge => NftFamily.Bridge,
            _ => skb.Protocol == EtherTypes.Ipv6 ? NftFamily.Ip6 : NftFamily.Ip,
        };
        bool inet = family == NfFamily.Inet;
        bool v6 = skb.Protocol == EtherTypes.Ipv6;
        var dev = hook is NfHook.Forward or NfHook.PostRouting or NfHook.Egress or NfHook.Output or NfHook.LocalOut ? outdev ?? skb.Dev : indev ?? skb.Dev;

        // nf_conntrack_in (priority -200) and the NAT of packets of a known connection.
        if (inet && hook is NfHook.PreRouting or NfHook.LocalOut && ns.UsesConntrack && skb.Ct is null)
        {
            // nf_defrag_ipv4 / nf_defrag_ipv6 (priority -400): conntrack sees whole datagrams only.
            if (!v6)
            {
                Ipv4Header.TryParse(skb.Network, out var ip, out _);
                if (ip.IsFragment && !IPv4.IpInput.IpDefrag(skb, t, ref ip)) return false;
            }
            else if (Ipv6Header.TryParse(skb.Network, out var ip6, out _)
                     && Ipv6ExtensionHeaders.Walk(ip6.NextHeader, skb.Network[Ipv6Header.HeaderLength..], out var chain) | true
                     && chain.HasFragment && !IPv6.Ip6Input.Ipv6FragRcv(skb, t, ip6.Source, ip6.Destination)) return false;
            var ct = skb.State.Conntrack.In(skb.Network, v6, skb.TimestampNs);
            skb.Ct = ct;
            t.Stage(skb, "NfConntrackIn", "nf_conntrack_in", Verdict.Pass, $"ct state {ct.State.ToString().ToLowerInvariant()} {ct.Direction.ToString().ToLowerInvariant()}: {ct.Detail}");
        }
        if (inet && skb.Ct?.Entry is { Confirmed: true } known) NfNat.ApplyBinding(skb, t, known, skb.Ct.Direction, hook);

        // nf_nat_inet_fn: nat chains see only the first packet of a connection; later ones take the binding.
        bool natChains = skb.Ct is { Entry: { Confirmed: false } };
        var result = NftEvaluator.RunHook(rs, packetFamily, point, new SkbNftPacket(skb, packetFamily, indev, outdev),
            chain => chain.Type != "nat" || natChains);
        foreach (var run in result.Runs)
        {
            var rule = run.Rule;
            t.Add(new HookEvent
            {
                Namespace = ns.Name, Device = dev.Name, Stage = "NfHook", Function = "nft_do_chain",
                Family = FamilyOf(run.Chain.Table.Family), Hook = hook, Priority = run.Chain.Priority,
                Table = run.Chain.Table.Name, Chain = run.Chain.Name, Rule = rule?.Text, RuleHandle = rule?.Handle,
                Verdict = VerdictOf(run.Verdict),
                Detail = run.By == "policy" ? $"policy {run.Verdict}" : rule is null ? $"{run.Verdict} (end of chain)" : $"{run.Verdict}: {rule.Text}",
            });
        }
        foreach (var log in result.Logs) t.Note($"log: {log}");
        if (result.UnsupportedRules.Count > 0)
            t.Note($"{result.UnsupportedRules.Count} rule(s) the model cannot evaluate were skipped: {string.Join("; ", result.UnsupportedRules.Select(r => r.Text))}");
        if (result.Runs.Count == 0)
            t.Add(new HookEvent
            {
                Namespace = ns.Name, Device = dev.Name, Stage = "NfHook", Function = "nf_hook_slow", Family = family, Hook = hook,
                Verdict = Verdict.Accept, Detail = "no base chain at this hook",
            });
        if (result.Verdict != "accept")
        {
            if (result.Reject is { } reject) NfReject.Send(skb, t, reject);
            var last = result.Runs.Count > 0 ? result.Runs[^1] : null;
            t.End(Fate.Dropped, result.Verdict == "queue" ? "NETFILTER_QUEUE (no queue listener modelled)" : "NETFILTER_DROP");
            return false;
        }
        if (inet && result.Nat is { } nat && skb.Ct is { Entry: { Confirmed: false } fresh })
            NfNat.Setup(skb, t, fresh, nat, hook, dev);
        // __nf_conntrack_confirm at the last hook the packet crosses in this namespace.
        if (inet && hook is NfHook.PostRouting or NfHook.LocalIn && skb.Ct?.Entry is { Confirmed: false } entry)
        {
            skb.State.Conntrack.Confirm(entry);
            t.Stage(skb, "NfConfirm", "__nf_conntrack_confirm", Verdict.Pass, $"entry confirmed: {entry}");
        }
        return true;
    }

    private static NftHookPoint Point(NfHook h) => h switch
    {
        NfHook.PreRouting => NftHookPoint.Prerouting,
        NfHook.LocalIn or NfHook.Input => NftHookPoint.Input,
        NfHook.Forward => NftHookPoint.Forward,
        NfHook.LocalOut or NfHook.Output => NftHookPoint.Output,
        NfHook.PostRouting => NftHookPoint.Postrouting,
        NfHook.Ingress => NftHookPoint.Ingress,
        _ => NftHookPoint.Egress,
    };

    private static NfFamily FamilyOf(NftFamily f) => f switch
    {
        NftFamily.Ip => NfFamily.Ip, NftFamily.Ip6 => NfFamily.Ip6, NftFamily.Inet => NfFamily.Inet,
        NftFamily.Arp => NfFamily.Arp, NftFamily.Bridge => NfFamily.Bridge, _ => NfFamily.Netdev,
    };

    private static Verdict VerdictOf(string v) => v switch
    {
        "accept" => Verdict.Accept, "drop" => Verdict.Drop, "queue" => Verdict.Queue, "continue" => Verdict.Continue,
        "jump" => Verdict.Jump, "goto" => Verdict.Goto, "return" => Verdict.Return, _ => Verdict.Pass,
    };
}
