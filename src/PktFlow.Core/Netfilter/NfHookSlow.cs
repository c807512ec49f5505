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
        // Without a ruleset only the hook's event is made.
        if (skb.Netns.Nft is null)
        {
            t.NfHook(skb, family, hook, hook is NfHook.Forward or NfHook.PostRouting or NfHook.Egress or NfHook.Output ? outdev : indev);
            return true;
        }
        return RunRuleset(skb, t, family, hook, indev, outdev);
    }

    private static bool RunRuleset(SkBuff skb, TraceBuilder t, NfFamily family, NfHook hook, NetDevice? indev, NetDevice? outdev)
    {
        var ns = skb.Netns;
        var rs = ns.Nft!; // Run answered the namespace without a ruleset
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
        bool ctHook = inet && hook is NfHook.PreRouting or NfHook.LocalOut && (v6 ? ns.UsesConntrackV6 : ns.UsesConntrackV4) && skb.Ct is null;
        int events = t.Path.Count;
        if (ctHook)
        {
            // nf_defrag_ipv4 / nf_defrag_ipv6 (priority -400): conntrack sees whole datagrams only.
            if (!v6)
            {
                Ipv4Header.TryParse(skb.Network, out var ip, out _);
                if (ip.IsFragment && !IPv4.IpInput.IpDefrag(skb, t, ref ip, conntrack: true)) return false;
            }
            else if (Ipv6Header.TryParse(skb.Network, out var ip6, out _)
                     && Ipv6ExtensionHeaders.Walk(ip6.NextHeader, skb.Network[Ipv6Header.HeaderLength..], out var chain) | true
                     && chain.HasFragment && !IPv6.Ip6Input.Ipv6FragRcv(skb, t, ip6.Source, ip6.Destination, conntrack: true)) return false;
            // chains below NF_IP_PRI_CONNTRACK (raw) run first; their notrack leaves the packet untracked
            var early = RunChains(skb, t, rs, family, packetFamily, point, hook, indev, outdev, dev, NftChainFilter.All.Before(ConntrackPriority, int.MaxValue));
            if (early is null) return false;
            if (early.Notrack && early.CtTemplateZone is null)
            {
                skb.Ct = new CtLookup(null, CtState.Untracked, CtDirection.Original, "untracked: notrack in a chain before conntrack");
                t.Stage(skb, "NfConntrackIn", "nf_conntrack_in", Verdict.Pass, "ct state untracked: notrack set by a chain before conntrack (priority below -200)");
            }
            else
            {
                var template = early.CtTemplateTimeout;
                var zone = (early.CtTemplateZone ?? ConntrackZone.Default).ForPacket(skb.Mark);
                var ct = skb.State.Conntrack.In(skb.Network, v6, skb.TimestampNs, zone, preRouting: hook == NfHook.PreRouting, template: template, helperTemplate: early.CtTemplateHelper, skb: skb);
                skb.Ct = ct;
                // init_conntrack: a connection made under synproxy's template gets its synproxy (and seqadj) extension
                if (skb.SynproxyTemplate && ct.Entry is { Confirmed: false, Synproxy: null } proxied) proxied.Synproxy = new ConntrackSynproxy();
                if (ct.Entry is { FollowMaster: { } exp } follower)
                    t.Stage(skb, "NfNatFollowMaster", "nf_nat_follow_master", Verdict.Pass, NfNatHelper.FollowMaster(skb.State.Conntrack, skb.State.Nft, follower, exp));
                string taken = template is not null && ct.State == CtState.New && ct.Entry?.TimeoutPolicy == template && !ct.Entry.Confirmed
                    ? $"; the conntrack template's timeout policy {template.Name} ({template}) goes with the new entry" : "";
                if (zone.Id != 0) taken += $"; looked up in zone {zone.Id}{(zone.Dir switch { ConntrackZone.OriginalDirection => " (original direction)", ConntrackZone.ReplyDirection => " (reply direction)", _ => "" })}, from the conntrack template{(early.CtTemplateZone?.FromMark == true ? $"'s mark flag (the packet's mark 0x{skb.Mark:x})" : "")}";
                t.Stage(skb, "NfConntrackIn", "nf_conntrack_in", Verdict.Pass, $"ct state {ct.State.ToString().ToLowerInvariant()} {ct.Direction.ToString().ToLowerInvariant()}: {ct.Detail}{taken}");
            }
        }
        else if (inet && hook is NfHook.PreRouting or NfHook.LocalOut && skb.Ct is { Attached: true } attached)
            t.Stage(skb, "NfConntrackIn", "nf_conntrack_in", Verdict.Pass,
                $"ct state {attached.State.ToString().ToLowerInvariant()} {attached.Direction.ToString().ToLowerInvariant()}: {attached.Detail}; no lookup");
        NftHookResult? result;
        // the chains nf_conntrack_in did not already run before it; nat chains run from the nat core only
        var rest = (ctHook ? NftChainFilter.All.From(ConntrackPriority, int.MaxValue) : NftChainFilter.All).WithoutNat();
        if (family == NfFamily.Netdev && hook == NfHook.Ingress && rs.InetIngressChains(dev.Name).Count > 0)
            result = NetdevIngressWithInet(skb, t, rs, indev, dev);
        else if (inet && NatCorePriority(hook) is { } natPriority)
        {
            // the nat core's hook sits among the base chains at its fixed priority; on a tie with a chain
            // it goes where its registration (with the first nat chain) put it, like any hook
            int natRegistration = rs.NatCoreRegistration(v6) ?? int.MaxValue;
            result = RunChainsIfAny(skb, t, rs, family, packetFamily, point, hook, indev, outdev, dev, rest.Before(natPriority, natRegistration));
            if (result is null || !NatHook(skb, t, rs, family, packetFamily, point, hook, indev, outdev, dev)) return false;
            result = RunChainsIfAny(skb, t, rs, family, packetFamily, point, hook, indev, outdev, dev, rest.From(natPriority, natRegistration));
        }
        else
            result = RunChains(skb, t, rs, family, packetFamily, point, hook, indev, outdev, dev, rest);
        if (result is null) return false;
        if (!HookEventSince(t, events))
            t.Add(new HookEvent
            {
                Namespace = ns.Name, Device = dev.Name, Stage = "NfHook", Function = "nf_hook_slow", Family = family, Hook = hook,
                Verdict = Verdict.Accept, Detail = "no base chain at this hook",
            });
        // ipv4_synproxy_hook / ipv6_synproxy_hook (NF_IP_PRI_CONNTRACK_CONFIRM - 1) for a connection synproxy opened
        if (inet && hook is NfHook.PostRouting or NfHook.LocalIn && skb.Ct is { Entry.Synproxy: not null } proxied2 && !NfSynproxy.Hook(skb, t, proxied2, hook)) return false;
        // nf_confirm: the connection's helper reads the packet first, and may drop it (synproxy's window
        // update to the client, sent with the connection attached, is sequence-adjusted there too)
        if (inet && hook is NfHook.PostRouting or NfHook.LocalIn && skb.Ct is { } helped && (!helped.Attached || helped.Entry?.Synproxy is not null)
            && !Help(skb, t, helped, v6)) return false;
        // __nf_conntrack_confirm at the last hook the packet crosses in this namespace; a packet carrying
        // the connection in the reply direction (nf_ct_attach) never confirms it.
        if (inet && hook is NfHook.PostRouting or NfHook.LocalIn && skb.Ct is { Direction: CtDirection.Original, Entry: { Confirmed: false } entry })
        {
            // another entry already holds one of its tuples: the insert fails and the packet is dropped
            // (NF_DROP; 6.18 drops it also for UDP when the entries differ in zone: scenario iptables-ct-zone-mark)
            if (!skb.State.Conntrack.Confirm(entry))
            {
                t.Stage(skb, "NfConfirm", "__nf_conntrack_confirm", Verdict.Drop, $"insert failed: another entry holds its original or reply tuple: {entry}");
                t.End(Fate.Dropped, "NETFILTER_DROP");
                return false;
            }
            t.Stage(skb, "NfConfirm", "__nf_conntrack_confirm", Verdict.Pass, $"entry confirmed: {entry}");
        }
        return true;
    }

    /// <summary>Whether a chain run (or anything else) put an NfHook event on the path since <paramref name="events"/>.</summary>
    private static bool HookEventSince(TraceBuilder t, int events)
    {
        var path = t.Path;
        for (int i = events; i < path.Count; i++)
            if (path[i].Stage == "NfHook") return true;
        return false;
    }

    /// <summary>NF_IP_PRI_NAT_DST at PRE_ROUTING / LOCAL_OUT, NF_IP_PRI_NAT_SRC at POST_ROUTING / LOCAL_IN (the
    /// same numbers for IPv6): where nf_nat_ipv4_ops / nf_nat_ipv6_ops sit, whatever the nat chains' own priorities.</summary>
    private static int? NatCorePriority(NfHook hook) => hook switch
    {
        NfHook.PreRouting or NfHook.LocalOut => -100,
        NfHook.PostRouting or NfHook.LocalIn => 100,
        _ => null,
    };

    /// <summary>
    /// The nat core's hook (nf_nat_ipv4_fn / nf_nat_ipv6_fn, nf_nat_inet_fn): an ICMP error related to a
    /// connection is only translated; a connection whose binding for this hook's manipulation type is not
    /// set yet runs the nat chains, in their own priority order, until one sets it up (else the null
    /// binding); the packet is then rewritten from the binding (nf_nat_packet). False when dropped.
    /// </summary>
    [KernelSymbol("nf_nat_inet_fn", "net/netfilter/nf_nat_core.c")]
    private static bool NatHook(SkBuff skb, TraceBuilder t, NftRuleset rs, NfFamily family, NftFamily packetFamily, NftHookPoint point, NfHook hook,
        NetDevice? indev, NetDevice? outdev, NetDevice dev)
    {
        // nf_nat's LOCAL_OUT hook drops a redirect about a NATed or not yet NATed connection
        if (hook == NfHook.LocalOut && skb.Ct is { Attached: true } answer && NfNat.DropsRedirect(skb, t, answer)) return false;
        if (skb.Ct?.Entry is not { } entry) return true;
        if (NfNat.Initialized(entry, hook))
        {
            if (!(skb.Ct.State == CtState.Related && NfNat.IcmpReplyTranslation(skb, t, entry, skb.Ct.Direction, hook)))
                NfNat.ApplyBinding(skb, t, entry, skb.Ct.Direction, hook);
            return true;
        }
        if (NfNat.IsRelatedIcmp(skb)) return true;
        foreach (var chain in rs.BaseChains(packetFamily, point))
        {
            if (chain.Type != "nat") continue;
            var run = RunChains(skb, t, rs, family, packetFamily, point, hook, indev, outdev, dev, NftChainFilter.Only(chain));
            if (run is null) return false;
            if (run.Nat is not { } nat) continue;
            NfNat.Setup(skb, t, entry, nat, hook, dev, skb.Ct.Direction);
            break;
        }
        NfNat.MarkInitialized(entry, hook);
        return true;
    }

    /// <summary>
    /// inet ingress chains are registered at the device's netdev ingress hook, among its netdev chains in
    /// priority order; nft_do_chain_inet_ingress runs them for IPv4/IPv6 packets only, as ip/ip6.
    /// </summary>
    private static NftHookResult? NetdevIngressWithInet(SkBuff skb, TraceBuilder t, NftRuleset rs, NetDevice? indev, NetDevice dev)
    {
        bool ip = skb.Protocol is EtherTypes.Ipv4 or EtherTypes.Ipv6;
        var chains = ip ? rs.IngressChainsWithInet(dev.Name) : rs.BaseChains(NftFamily.Netdev, NftHookPoint.Ingress, dev.Name);
        NftHookResult? last = null;
        foreach (var chain in chains)
        {
            var pf = chain.Table.Family != NftFamily.Inet ? NftFamily.Netdev : skb.Protocol == EtherTypes.Ipv6 ? NftFamily.Ip6 : NftFamily.Ip;
            var fam = chain.Table.Family != NftFamily.Inet ? NfFamily.Netdev : NfFamily.Inet;
            last = RunChains(skb, t, rs, fam, pf, NftHookPoint.Ingress, NfHook.Ingress, indev, null, dev, NftChainFilter.Only(chain));
            if (last is null) return null;
        }
        return last ?? NoChainRan;
    }

    /// <summary>A hook where no base chain applied to the packet: it passes.</summary>
    private static readonly NftHookResult NoChainRan = new("accept", Array.Empty<NftChainRun>(), null, null, Array.Empty<string>());

    /// <summary>
    /// nft_ct_set_eval (ct mark set) / xt_CONNMARK: the mark is written into the connection at once, so it
    /// holds even if a later rule drops this packet, later packets of the connection match it (ct mark)
    /// and conntrack -L shows it. A packet without a conntrack entry (untracked, invalid) has nothing to set.
    /// </summary>
    private static void SetCtMark(SkBuff skb, TraceBuilder t, uint? mark)
    {
        if (mark is not { } m) return;
        if (skb.Ct?.Entry is not { } entry)
        {
            t.Note($"ct mark set 0x{m:x}: the packet has no conntrack entry, nothing is set");
            return;
        }
        if (entry.Mark == m) return;
        t.Note($"ct mark set: the connection's mark 0x{entry.Mark:x} -> 0x{m:x}");
        entry.Mark = m;
    }

    /// <summary>nf_connlabels_replace (ct label set, xt_connlabel --set): the bits go into the connection at once.</summary>
    private static void SetCtLabels(SkBuff skb, TraceBuilder t, UInt128? labels)
    {
        if (labels is not { } l || skb.Ct?.Entry is not { } entry || entry.Labels == l) return;
        t.Note($"ct label set: the connection's labels {LabelText(entry.Labels)} -> {LabelText(l)}");
        entry.Labels = l;
        static string LabelText(UInt128 v) => v == 0 ? "none" : string.Join(',', ConnLabelMap.Bits(v));
    }

    /// <summary>
    /// nft_ct_timeout_obj_eval (ct timeout set "NAME"): the policy goes to a connection not yet confirmed;
    /// a packet without conntrack (a chain before conntrack at -200, untracked, invalid) has nothing to set.
    /// </summary>
    private static void SetCtTimeout(SkBuff skb, TraceBuilder t, NftObject? obj)
    {
        if (obj?.TimeoutPolicy is not { } policy) return;
        var what = skb.Ct?.Entry is { } entry
            ? ConntrackTable.AttachTimeoutPolicy(entry, policy, skb.TimestampNs)
            : "the packet has no conntrack entry, nothing is set";
        t.Note($"ct timeout set \"{obj.Name}\": {what}");
    }

    /// <summary>
    /// nft_ct_helper_obj_eval (ct helper set "NAME"): the object's helper goes to a connection not yet
    /// confirmed; a packet without conntrack (a chain before conntrack at -200, untracked, invalid) has nothing to set.
    /// </summary>
    private static void SetCtHelper(SkBuff skb, TraceBuilder t, NftObject? obj)
    {
        if (obj?.Helper is not { } helper) return;
        t.Note($"ct helper set \"{obj.Name}\": {NfConntrackHelper.Assign(skb.Ct?.Entry, helper, skb.Ct?.Entry?.Original.Protocol ?? helper.Protocol)}");
    }

    /// <summary>
    /// nf_confirm before confirmation: the helper call (<see cref="NfConntrackHelper"/>), whose NAT part may
    /// rewrite the packet, then the sequence adjustment of a connection a NAT helper resized
    /// (<see cref="NfConntrackSeqadj"/>); neither for an ICMP error coming back (RELATED_REPLY). False
    /// when the helper dropped the packet.
    /// </summary>
    [KernelSymbol("nf_confirm", "net/netfilter/nf_conntrack_proto.c")]
    private static bool Help(SkBuff skb, TraceBuilder t, CtLookup ct, bool v6)
    {
        if (NfConntrackHelper.Help(skb.State.Conntrack, ct, skb.Network, v6, skb.TimestampNs) is { } helped)
        {
            var (accept, function, detail, mangled) = helped;
            t.Stage(skb, "NfConntrackHelper", function, accept ? Verdict.Pass : Verdict.Drop, detail);
            if (!accept)
            {
                t.End(Fate.Dropped, "NETFILTER_DROP");
                return false;
            }
            if (mangled is not null)
            {
                int was = skb.Network.Length;
                skb.ReplaceNetwork(mangled);
                t.Stage(skb, "NfNatMangleTcpPacket", "__nf_nat_mangle_tcp_packet", Verdict.Pass,
                    $"payload rewritten: the packet is {was} -> {mangled.Length} bytes (IP length and header checksum updated), the TCP checksum left to the device (CHECKSUM_PARTIAL)");
            }
        }
        if (ct is { Entry: { SeqAdj: not null } e } && !(ct.State == CtState.Related && ct.Direction == CtDirection.Reply)
            && NfConntrackSeqadj.Adjust(skb.Network, v6, e, ct.Direction) is { } moved)
            t.Stage(skb, "NfCtSeqAdjust", "nf_ct_seq_adjust", Verdict.Pass, e.Synproxy is not null
                // the synproxy hook set the offset (nf_ct_seqadj_init) when it answered the server's SYN-ACK
                ? $"synproxy opened this connection: the server's sequence numbers are moved into the cookie's the client was given: {moved}"
                : $"a NAT helper resized this connection's payload earlier: {moved}");
        return true;
    }

    /// <summary>NF_IP_PRI_CONNTRACK: chains of a lower priority run before nf_conntrack_in.</summary>
    private const int ConntrackPriority = -200;

    /// <summary>RunChains when <paramref name="filter"/> selects a base chain of the hook; else nothing runs
    /// (a hook cut in two by the nat core mostly has chains on one side only).</summary>
    private static NftHookResult? RunChainsIfAny(SkBuff skb, TraceBuilder t, NftRuleset rs, NfFamily family, NftFamily packetFamily, NftHookPoint point, NfHook hook,
        NetDevice? indev, NetDevice? outdev, NetDevice dev, NftChainFilter filter)
    {
        var chains = rs.BaseChains(packetFamily, point);
        for (int i = 0; i < chains.Count; i++)
            if (filter.Includes(chains[i])) return RunChains(skb, t, rs, family, packetFamily, point, hook, indev, outdev, dev, filter);
        skb.State.Nft.Advance(skb.TimestampNs);
        return NoChainRan;
    }

    /// <summary>
    /// The base chains <paramref name="filter"/> selects, in priority order, as one nft_do_chain run each:
    /// events, logs, random draws (and with -Outcomes All every alternative). Null when a chain dropped
    /// or queued the packet (the trace has ended).
    /// </summary>
    private static NftHookResult? RunChains(SkBuff skb, TraceBuilder t, NftRuleset rs, NfFamily family, NftFamily packetFamily, NftHookPoint point, NfHook hook,
        NetDevice? indev, NetDevice? outdev, NetDevice dev, NftChainFilter filter)
    {
        var ns = skb.Netns;
        var nftState = skb.State.Nft;
        nftState.Advance(skb.TimestampNs);
        var pkt = new SkbNftPacket(skb, packetFamily, indev, outdev, fromMac: packetFamily == NftFamily.Netdev && point == NftHookPoint.Egress);
        var before = skb.Engine.Outcomes == RandomOutcomes.All && rs.HasRandomRules ? nftState.CloneForDryRun(Array.Empty<int>()) : null;
        uint markBefore = skb.Mark, priorityBefore = skb.Priority;
        var networkBefore = before is not null ? skb.Network.ToArray() : null; // payload statements rewrite the real bytes
        var result = NftEvaluator.RunHook(rs, packetFamily, point, pkt, filter, nftState);
        foreach (var d in result.Decisions)
            t.Note($"random (seed {nftState.Seed}): rule {d.RuleHandle} '{d.Rule}' drew {d.Alternatives[d.Chosen]} (p={d.Probabilities[d.Chosen]:0.#####})");
        if (before is not null && result.Decisions.Count > 0)
            foreach (var o in NftOutcomes.Enumerate(rs, packetFamily, point, pkt, markBefore, filter, before, result.Decisions, priorityBefore, networkBefore))
                t.Outcome(Outcome(ns.Name, hook, o));
        // A chain run's event follows from the device, the hook and the run (chain, rule, verdict): made
        // once per namespace and shared by every trace, like the other constant events.
        var chainEvents = skb.State.ChainRunEvents;
        foreach (var run in result.Runs)
        {
            if (!chainEvents.TryGetValue((dev, hook, run), out var e))
                chainEvents[(dev, hook, run)] = e = ChainRunEvent(ns.Name, dev.Name, hook, run);
            t.Add(e);
        }
        foreach (var log in result.Logs) t.Note($"log: {log}");
        foreach (var note in result.Notes) t.Note(note);
        SetCtMark(skb, t, result.CtMark);
        SetCtLabels(skb, t, result.CtLabels);
        SetCtTimeout(skb, t, result.CtTimeout);
        SetCtHelper(skb, t, result.CtHelper);
        if (skb.Priority != priorityBefore)
            t.Note($"meta priority set: {NftType.TcHandleText(priorityBefore)} -> {NftType.TcHandleText(skb.Priority)}");
        // loaded with AllowUnsupported: the rule was passed over as if it did not match, which the result must say
        foreach (var r in result.UnsupportedRules)
            t.Note($"unsupported: {r.Chain} handle {r.Handle}{(r.Text.Length > 0 ? $" '{r.Text}'" : "")} was skipped, the model cannot evaluate it: {r.Unsupported}");
        foreach (var u in result.Unknowns) t.Note(u);
        foreach (var (dup, network) in result.Dups) NfDup.Copy(skb, t, dup, network, hook);
        if (result.Synproxy is { } synproxy)
        {
            NfSynproxy.Eval(skb, t, synproxy, stolen: result.Verdict == "stolen");
            if (result.Verdict == "stolen")
            {
                t.End(Fate.Consumed, "nft_synproxy_do_eval: answered by synproxy (NF_STOLEN)");
                return null;
            }
        }
        if (result.Verdict == "accept") return result;
        if (result.Fwd is { } fwd) { NfFwdNetdev.Egress(skb, t, fwd, hook == NfHook.Ingress); return null; }
        if (result.Reject is { } reject) NfReject.Send(skb, t, reject);
        if (result.Verdict == "queue")
        {
            // nf_queue: no listener (-ESRCH) and no bypass flag, so it frees the packet with kfree_skb
            // itself, without a drop reason (measured: skb:kfree_skb NOT_SPECIFIED at nf_queue)
            t.Note("nf_queue: no queue listener is modelled (-ESRCH): kfree_skb in nf_queue");
            t.End(Fate.Dropped, "NOT_SPECIFIED");
        }
        else t.End(Fate.Dropped, "NETFILTER_DROP");
        return null;
    }

    private static HookEvent ChainRunEvent(string ns, string dev, NfHook hook, NftChainRun run)
    {
        var rule = run.Rule;
        return new HookEvent
        {
            Namespace = ns, Device = dev, Stage = "NfHook", Function = "nft_do_chain",
            Family = FamilyOf(run.Chain.Table.Family), Hook = hook, Priority = run.Chain.Priority,
            Table = run.Chain.Table.Name, Chain = run.Chain.Name, Rule = rule?.Text, RuleHandle = rule?.Handle,
            Verdict = VerdictOf(run.Verdict),
            Detail = run.By == "policy" ? $"policy {run.Verdict}" : rule is null ? $"{run.Verdict} (end of chain)" : $"{run.Verdict}: {rule.Text}",
        };
    }

    private static RandomOutcome Outcome(string ns, NfHook hook, NftOutcome o) => new()
    {
        Namespace = ns, Hook = hook, Choices = o.Choices, Probability = o.Probability, Verdict = VerdictOf(o.Result.Verdict),
        DecidedBy = o.Result.Runs.Count > 0 && o.Result.Runs[^1] is var last
            ? $"{NftNames.Family(last.Chain.Table.Family)} {last.Chain.Table.Name} {last.Chain.Name}: {(last.Rule is { } r ? $"{r.Text} # handle {r.Handle}" : $"policy {last.Verdict}")}" : null,
        Nat = o.Result.Nat is { } n ? $"{n.Kind}{(n.Address is null ? "" : " to " + n.Address)}{(n.PortMin is { } pm ? $":{pm}{(n.PortMax != pm ? $"-{n.PortMax}" : "")}" : "")}" : null,
        Fate = o.Result.Verdict switch { "drop" => "Dropped: NETFILTER_DROP", "queue" => "Dropped: NOT_SPECIFIED (nf_queue without listener)", "stolen" => "Stolen: fwd", _ => "continues past the hook" },
        Taken = o.Taken,
    };

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
        "accept" => Verdict.Accept, "drop" => Verdict.Drop, "queue" => Verdict.Queue, "stolen" => Verdict.Stolen, "continue" => Verdict.Continue,
        "jump" => Verdict.Jump, "goto" => Verdict.Goto, "return" => Verdict.Return, _ => Verdict.Pass,
    };
}
